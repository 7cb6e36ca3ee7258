"""Seeded generator of realistic format-v1 scheduling instances for the benchmarks.

A week has 18-23 blocks: weekday mornings 09:00-12:00 (adult day program), some weekday
afternoons 13:00-16:00 that overlap the 15:30-17:30 after-school blocks (adolescents), weekday
evenings 18:00-21:00 and one or two early evenings 17:00-20:00 that overlap them (people who work
days), a Saturday morning and sometimes a Saturday midday that overlaps it. Two sites with rooms
of 8-14 seats; at each site an adult day, an adult evening and an adolescent after-school program,
plus one virtual evening program. Clinicians are sized to demand (about one per nine patients),
with credentials ("masters", "licensed", "bachelors") and some virtual-only. Patients' availability
follows their lives: day-program patients are free most mornings, day workers only evenings,
students only after school; a few are very constrained (two days only), about half list
preferred blocks.

``generate_planted`` first builds a hidden schedule that gives every patient enough sessions and
then derives availability as a superset of it, so 100% of patients is known to be reachable.

Everything is a pure function of the arguments: the same seed gives the same instance.
"""

from __future__ import annotations

import copy
import math
import random
from typing import Any

INSTANCE_FORMAT = "openiop-schedule-instance/1"
SOLUTION_FORMAT = "openiop-schedule-solution/1"
MIXES: dict[str, dict[str, float]] = {
    "standard": {"adult-day": 0.35, "adult-eve": 0.30, "virtual-eve": 0.15, "teen": 0.20},
    "evening_heavy": {"adult-day": 0.15, "adult-eve": 0.50, "virtual-eve": 0.20, "teen": 0.15},
    "virtual_heavy": {"adult-day": 0.20, "adult-eve": 0.20, "virtual-eve": 0.50, "teen": 0.10},
    "adolescent_heavy": {"adult-day": 0.20, "adult-eve": 0.20, "virtual-eve": 0.10, "teen": 0.50},
}
SITES = ("north", "south")
SITE_SHARE = (0.6, 0.4)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PATIENTS_PER_CLINICIAN = 9
TYPICAL_GROUP = 8
SESSIONS = 3  # every program's minimum is three sessions on three days


def _block(day: int, slot: str, start: str, minutes: int, part: str) -> dict[str, Any]:
    return {
        "id": f"{DAYS[day]}-{slot}",
        "day": day,
        "start": start,
        "minutes": minutes,
        "part_of_day": part,
    }


def _blocks(rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The week's blocks and, per kind of program, the blocks it runs in."""
    blocks: list[dict[str, Any]] = []
    kinds: dict[str, list[str]] = {"adult-day": [], "adult-eve": [], "virtual-eve": [], "teen": []}
    pm_days = sorted(rng.sample(range(5), rng.randint(2, 4)))
    early_days = sorted(rng.sample(range(5), rng.randint(1, 2)))
    for day in range(5):
        am = _block(day, "am", "09:00", 180, "day")
        blocks.append(am)
        kinds["adult-day"].append(am["id"])
        if day in pm_days:
            pm = _block(day, "pm", "13:00", 180, "day")
            blocks.append(pm)
            kinds["adult-day"].append(pm["id"])
        aft = _block(day, "aft", "15:30", 120, "day")
        blocks.append(aft)
        kinds["teen"].append(aft["id"])
        if day in early_days:
            early = _block(day, "early", "17:00", 180, "evening")
            blocks.append(early)
            kinds["adult-eve"].append(early["id"])
            kinds["virtual-eve"].append(early["id"])
        eve = _block(day, "eve", "18:00", 180, "evening")
        blocks.append(eve)
        kinds["adult-eve"].append(eve["id"])
        kinds["virtual-eve"].append(eve["id"])
    sat = _block(5, "am", "09:00", 180, "day")
    blocks.append(sat)
    for kind in ("adult-day", "adult-eve", "virtual-eve"):
        kinds[kind].append(sat["id"])
    if rng.random() < 0.5:
        mid = _block(5, "mid", "11:00", 120, "day")  # overlaps Saturday morning
        blocks.append(mid)
        kinds["teen"].append(mid["id"])
    else:
        kinds["teen"].append(sat["id"])
    return blocks, kinds


def _programs() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Programs and program id -> kind."""
    programs: list[dict[str, Any]] = []
    kind_of: dict[str, str] = {}
    for site in SITES:
        for kind, population, minimum, maximum, gmax, creds in (
            ("adult-day", "adult", 540, 1140, 12, []),
            ("adult-eve", "adult", 540, 1140, 12, []),
            ("teen", "adolescent", 360, 900, 10, ["licensed"]),
        ):
            pid = f"{site}-{kind}"
            kind_of[pid] = kind
            programs.append(
                {
                    "id": pid,
                    "population": population,
                    "modality": "in_person",
                    "site": site,
                    "min_minutes": minimum,
                    "max_minutes": maximum,
                    "min_days": 3,
                    "group_min": 3,
                    "group_max": gmax,
                    "required_credentials": creds,
                }
            )
    programs.append(
        {
            "id": "virtual-eve",
            "population": "adult",
            "modality": "virtual",
            "min_minutes": 540,
            "max_minutes": 1140,
            "min_days": 3,
            "group_min": 3,
            "group_max": 12,
            "required_credentials": ["masters"],
        }
    )
    kind_of["virtual-eve"] = "virtual-eve"
    return programs, kind_of


def _assign_programs(rng: random.Random, n: int, mix: str) -> list[str]:
    weights = MIXES[mix]
    kinds = list(weights)
    out: list[str] = []
    for _ in range(n):
        kind = rng.choices(kinds, weights=[weights[k] for k in kinds])[0]
        if kind == "virtual-eve":
            out.append(kind)
        else:
            out.append(f"{rng.choices(SITES, weights=SITE_SHARE)[0]}-{kind}")
    return out


def _day_of(block_id: str) -> int:
    return DAYS.index(block_id.split("-", 1)[0])


def _availability(rng: random.Random, kind: str, kinds: dict[str, list[str]]) -> list[str]:
    """A patient's free blocks, shaped by work or school."""
    own = kinds[kind]
    weekday = [b for b in own if _day_of(b) < 5]
    weekend = [b for b in own if _day_of(b) >= 5]
    constrained = rng.random() < 0.08
    if constrained:  # two weekdays only (shift work, custody, sports)
        days = set(rng.sample(range(5), 2))
        chosen = [b for b in weekday if _day_of(b) in days]
    else:
        p = {"adult-day": 0.75, "adult-eve": 0.75, "virtual-eve": 0.7, "teen": 0.85}[kind]
        chosen = [b for b in weekday if rng.random() < p]
        chosen += [b for b in weekend if rng.random() < 0.35]
        if kind == "virtual-eve" and rng.random() < 0.3:  # shift workers: some mornings too
            chosen += [b for b in kinds["adult-day"] if _day_of(b) < 5 and rng.random() < 0.5]
    if not chosen:
        chosen = [rng.choice(own)]
    return chosen


def _clinicians(
    rng: random.Random,
    counts: dict[str, int],
    programs: dict[str, dict[str, Any]],
    kind_of: dict[str, str],
    kinds: dict[str, list[str]],
) -> list[dict[str, Any]]:
    partner = {"adult-day": "teen", "teen": "adult-day", "adult-eve": "virtual-eve"}
    out: list[dict[str, Any]] = []
    for pid, n in counts.items():
        if n == 0:
            continue
        kind = kind_of[pid]
        program = programs[pid]
        for _ in range(max(1, math.ceil(n / PATIENTS_PER_CLINICIAN))):
            creds = {"masters" if rng.random() < 0.7 else "bachelors"}
            if rng.random() < 0.5:
                creds.add("licensed")
            creds |= set(program["required_credentials"])
            own = [b for b in kinds[kind] if rng.random() < 0.6] or kinds[kind][:3]
            available = [{"block": b, "modality": program["modality"]} for b in own]
            progs = [pid]
            other_kind = partner.get(kind)
            if other_kind is not None and rng.random() < 0.3:
                other = "virtual-eve" if other_kind == "virtual-eve" else f"{program['site']}-teen"
                if other_kind == "adult-day":
                    other = f"{program['site']}-adult-day"
                progs.append(other)
                modality = programs[other]["modality"]
                taken = {a["block"] for a in available if modality == "in_person"}
                for b in kinds[other_kind]:
                    if b not in taken and rng.random() < 0.5:
                        available.append({"block": b, "modality": modality})
                if rng.random() < 0.8:  # the rest list a program they lack credentials for
                    creds |= set(programs[other]["required_credentials"])
            out.append(
                {
                    "id": "",
                    "credentials": sorted(creds),
                    "programs": progs,
                    "max_groups": rng.randint(2, 4),
                    "available": available,
                }
            )
    for i, clinician in enumerate(out, 1):
        clinician["id"] = f"c-{i:03d}"
    return out


def _rooms(
    rng: random.Random, counts: dict[str, int], kind_of: dict[str, str], kinds: dict[str, list[str]]
) -> list[dict[str, Any]]:
    rooms: list[dict[str, Any]] = []
    for site in SITES:
        concurrent = 0.0
        for pid, n in counts.items():
            if pid.startswith(site + "-"):
                weekday_blocks = sum(1 for b in kinds[kind_of[pid]] if _day_of(b) < 5)
                concurrent = max(concurrent, n * SESSIONS / (TYPICAL_GROUP * weekday_blocks))
        for i in range(math.ceil(concurrent * 1.25) + 1):
            rooms.append({"id": f"{site}-r{i + 1}", "site": site, "capacity": rng.randint(8, 14)})
    return rooms


def _preferences(rng: random.Random, available: list[str]) -> list[str]:
    if rng.random() >= 0.5 or len(available) < 2:
        return []
    k = rng.randint(2, min(4, len(available)))
    return sorted(rng.sample(available, k), key=available.index)


def _instance(
    blocks: list[dict[str, Any]],
    rooms: list[dict[str, Any]],
    programs: list[dict[str, Any]],
    clinicians: list[dict[str, Any]],
    patients: list[dict[str, Any]],
) -> dict[str, Any]:
    order = {b["id"]: i for i, b in enumerate(blocks)}
    for clinician in clinicians:
        clinician["available"].sort(key=lambda a: (order[a["block"]], a["modality"]))
    for patient in patients:
        patient["available_blocks"].sort(key=order.__getitem__)
    return {
        "format": INSTANCE_FORMAT,
        "week_start": "2026-11-30",
        "timezone": "America/Chicago",
        "blocks": blocks,
        "rooms": rooms,
        "programs": programs,
        "clinicians": clinicians,
        "patients": patients,
    }


def generate(
    n_patients: int, seed: int, mix: str = "standard", planted: bool = False
) -> dict[str, Any]:
    """A format-v1 instance with ``n_patients`` patients; ``planted``: 100% known reachable."""
    if planted:
        return generate_planted(n_patients, seed, mix)[0]
    if mix not in MIXES:
        raise ValueError(f"unknown mix {mix!r}; one of {sorted(MIXES)}")
    rng = random.Random(f"openiop-bench/{n_patients}/{seed}/{mix}")
    blocks, kinds = _blocks(rng)
    programs, kind_of = _programs()
    by_id = {p["id"]: p for p in programs}
    assigned = _assign_programs(rng, n_patients, mix)
    counts = {p["id"]: assigned.count(p["id"]) for p in programs}
    patients: list[dict[str, Any]] = []
    for i, pid in enumerate(assigned, 1):
        available = _availability(rng, kind_of[pid], kinds)
        patients.append(
            {
                "id": f"p-{i:04d}",
                "program": pid,
                "available_blocks": available,
                "preferred_blocks": _preferences(rng, available),
                "current_groups": [],
            }
        )
    clinicians = _clinicians(rng, counts, by_id, kind_of, kinds)
    rooms = _rooms(rng, counts, kind_of, kinds)
    return _instance(blocks, rooms, programs, clinicians, patients)


def _overlaps(blocks: dict[str, dict[str, Any]], a: str, b: str) -> bool:
    def span(x: str) -> tuple[int, int]:
        hh, mm = blocks[x]["start"].split(":")
        start = blocks[x]["day"] * 1440 + int(hh) * 60 + int(mm)
        return start, start + blocks[x]["minutes"]

    (s1, e1), (s2, e2) = span(a), span(b)
    return s1 < e2 and s2 < e1


def generate_planted(
    n_patients: int, seed: int, mix: str = "standard"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An instance and the hidden schedule (a format-v1 solution) that gives every patient
    their minimum. Clinicians and rooms are stretched to cover the hidden schedule and
    availability is a superset of it, so every patient is reachable."""
    if mix not in MIXES:
        raise ValueError(f"unknown mix {mix!r}; one of {sorted(MIXES)}")
    rng = random.Random(f"openiop-bench-planted/{n_patients}/{seed}/{mix}")
    blocks, kinds = _blocks(rng)
    block_by_id = {b["id"]: b for b in blocks}
    programs, kind_of = _programs()
    by_id = {p["id"]: p for p in programs}
    assigned = _assign_programs(rng, n_patients, mix)
    counts = {p["id"]: assigned.count(p["id"]) for p in programs}
    # A program with fewer patients than a group's minimum cannot run: fold them into the
    # biggest program so the hidden schedule covers everyone.
    biggest = max(counts, key=lambda p: (counts[p], p))
    for pid, n in list(counts.items()):
        if 0 < n < by_id[pid]["group_min"]:
            assigned = [biggest if a == pid else a for a in assigned]
            counts[biggest] += n
            counts[pid] = 0
    clinicians = _clinicians(rng, counts, by_id, kind_of, kinds)
    rooms = _rooms(rng, counts, kind_of, kinds)
    led: dict[str, list[str]] = {c["id"]: [] for c in clinicians}
    used: dict[str, list[str]] = {r["id"]: [] for r in rooms}

    def free(busy: list[str], block: str) -> bool:
        return not any(_overlaps(block_by_id, block, b) for b in busy)

    def leader(program: dict[str, Any], block: str) -> dict[str, Any]:
        need = set(program["required_credentials"])
        pool = [
            c
            for c in clinicians
            if program["id"] in c["programs"]
            and need <= set(c["credentials"])
            and len(led[c["id"]]) < c["max_groups"]
            and free(led[c["id"]], block)
        ]
        # Prefer someone already available there; otherwise stretch someone's week.
        pool.sort(
            key=lambda c: (
                {"block": block, "modality": program["modality"]} not in c["available"],
                c["id"],
            )
        )
        if pool:
            chosen = pool[0]
        else:
            chosen = {
                "id": f"c-{len(clinicians) + 1:03d}",
                "credentials": sorted({"masters"} | need),
                "programs": [program["id"]],
                "max_groups": rng.randint(3, 5),
                "available": [],
            }
            clinicians.append(chosen)
            led[chosen["id"]] = []
        slot = {"block": block, "modality": program["modality"]}
        if slot not in chosen["available"]:
            chosen["available"].append(slot)
        led[chosen["id"]].append(block)
        return chosen

    def room_for(program: dict[str, Any], block: str, size: int) -> str:
        for room in rooms:
            if (
                room["site"] == program["site"]
                and room["capacity"] >= size
                and free(used[room["id"]], block)
            ):
                used[room["id"]].append(block)
                return str(room["id"])
        site_rooms = sum(1 for r in rooms if r["site"] == program["site"])
        room = {
            "id": f"{program['site']}-r{site_rooms + 1}",
            "site": program["site"],
            "capacity": rng.randint(max(8, size), 14),
        }
        rooms.append(room)
        used[room["id"]] = [block]
        return str(room["id"])

    patient_ids = [f"p-{i:04d}" for i in range(1, n_patients + 1)]
    hidden: dict[str, list[str]] = {pid: [] for pid in patient_ids}
    groups: list[dict[str, Any]] = []
    numbers: dict[tuple[str, str], int] = {}
    for program in programs:
        members = [pid for pid, a in zip(patient_ids, assigned, strict=True) if a == program["id"]]
        if not members:
            continue
        rng.shuffle(members)
        # Cohorts nearly as big as a group may be, so the staff the schedule needs is tight.
        n_cohorts = math.ceil(len(members) / (program["group_max"] - 1))
        cohorts = [members[i::n_cohorts] for i in range(n_cohorts)]
        own = kinds[kind_of[program["id"]]]
        for cohort in cohorts:
            pattern: list[str] = []
            minutes = 0
            for b in rng.sample(own, len(own)):
                days = {block_by_id[x]["day"] for x in pattern}
                if minutes >= program["min_minutes"] and len(days) >= program["min_days"]:
                    break
                if block_by_id[b]["day"] in days or not free(pattern, b):
                    continue
                if minutes + block_by_id[b]["minutes"] > program["max_minutes"]:
                    continue
                pattern.append(b)
                minutes += block_by_id[b]["minutes"]
            for b in pattern:
                clinician = leader(program, b)
                room = (
                    room_for(program, b, len(cohort))
                    if program["modality"] == "in_person"
                    else None
                )
                key = (b, program["id"])
                numbers[key] = numbers.get(key, 0) + 1
                groups.append(
                    {
                        "id": f"{b}/{program['id']}/{numbers[key]}",
                        "block": b,
                        "program": program["id"],
                        "clinician": clinician["id"],
                        "room": room,
                        "patients": sorted(cohort),
                    }
                )
                for pid in cohort:
                    hidden[pid].append(b)
    # Tight staffing: whoever leads hidden groups has at most one group of slack.
    for clinician in clinicians:
        if led[clinician["id"]]:
            clinician["max_groups"] = len(led[clinician["id"]]) + int(rng.random() < 0.3)
    patients: list[dict[str, Any]] = []
    for pid, program_id in zip(patient_ids, assigned, strict=True):
        extra = _availability(rng, kind_of[program_id], kinds)
        available = list(dict.fromkeys(hidden[pid] + extra))
        patients.append(
            {
                "id": pid,
                "program": program_id,
                "available_blocks": available,
                "preferred_blocks": _preferences(rng, available),
                "current_groups": [],
            }
        )
    instance = _instance(blocks, rooms, programs, clinicians, patients)
    solution = {
        "format": SOLUTION_FORMAT,
        "status": "feasible",
        "groups": groups,
        "patients": [
            {
                "id": pid,
                "minutes": sum(block_by_id[b]["minutes"] for b in hidden[pid]),
                "days": len({block_by_id[b]["day"] for b in hidden[pid]}),
                "meets_minimum": True,
                "reason": None,
            }
            for pid in patient_ids
        ],
        "metrics": {
            "solve_seconds": 0.0,
            "patients_meeting_minimum": n_patients,
            "preference_violations": sum(
                1
                for p in patients
                if p["preferred_blocks"]
                for b in hidden[p["id"]]
                if b not in p["preferred_blocks"]
            ),
            "objective": n_patients,
            "bound": n_patients,
        },
    }
    return instance, solution


def perturb(
    instance: dict[str, Any], solution: dict[str, Any], fraction: float = 0.05, seed: int = 0
) -> tuple[dict[str, Any], frozenset[str]]:
    """The week after: everyone keeps ``current_groups`` from ``solution``, and ``fraction`` of
    the placed patients lose one of their current blocks and gain another one.

    Returns the new instance and the ids of the patients whose availability changed.
    """
    rng = random.Random(f"openiop-bench-perturb/{seed}/{fraction}")
    out = copy.deepcopy(instance)
    blocks = {b["id"]: b for b in out["blocks"]}
    current: dict[str, list[str]] = {}
    for g in solution.get("groups", []):
        for pid in g["patients"]:
            current.setdefault(pid, []).append(g["id"])
    for patient in out["patients"]:
        patient["current_groups"] = list(current.get(patient["id"], []))
    placed = [p for p in out["patients"] if p["current_groups"]]
    k = min(len(placed), max(1, round(fraction * len(out["patients"]))))
    affected = rng.sample(placed, k)
    for patient in affected:
        lost = rng.choice(patient["current_groups"]).split("/", 1)[0]
        patient["available_blocks"] = [b for b in patient["available_blocks"] if b != lost]
        patient["preferred_blocks"] = [b for b in patient.get("preferred_blocks", []) if b != lost]
        have = set(patient["available_blocks"]) | {lost}
        same_slot = [
            b
            for b in blocks.values()
            if b["id"] not in have
            and b["start"] == blocks[lost]["start"]
            and b["minutes"] == blocks[lost]["minutes"]
        ]
        same_part = [
            b
            for b in blocks.values()
            if b["id"] not in have and b.get("part_of_day") == blocks[lost].get("part_of_day")
        ]
        pool = same_slot or same_part or [b for b in blocks.values() if b["id"] not in have]
        if pool:
            patient["available_blocks"].append(rng.choice(pool)["id"])
        order = {b: i for i, b in enumerate(blocks)}
        patient["available_blocks"].sort(key=order.__getitem__)
    return out, frozenset(p["id"] for p in affected)
