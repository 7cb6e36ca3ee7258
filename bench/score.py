"""Independent scorer for format-v1 schedules (written from instance-format.md alone).

Imports nothing from ``openiop.scheduling.solver``: it is the referee for the greedy baseline,
CP-SAT and OpenIOP's solver alike, so a bug in shared solver code cannot hide in the scores.

``score(instance, solution)`` recomputes everything from the solution's ``groups`` and ignores the
solution's own ``patients`` list and metrics except to report where they disagree.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any

__all__ = ["cohort_stability", "reachable_patients", "score"]


def _clock(text: str) -> int:
    hours, minutes = str(text).split(":")
    return int(hours) * 60 + int(minutes)


def _intervals(instance: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    """block id -> (start, end, day, minutes), start/end in minutes from Monday 00:00."""
    out: dict[str, tuple[int, int, int, int]] = {}
    for b in instance.get("blocks", []):
        start = int(b["day"]) * 1440 + _clock(b["start"])
        out[b["id"]] = (start, start + int(b["minutes"]), int(b["day"]), int(b["minutes"]))
    return out


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _meets(program: dict[str, Any], minutes: int, days: int) -> bool:
    return minutes >= int(program["min_minutes"]) and days >= int(program["min_days"])


# --------------------------------------------------------------------------------------------
# Hard rules


def hard_violations(instance: dict[str, Any], solution: dict[str, Any]) -> list[str]:
    """Every hard rule of format v1, each broken instance as one readable line."""
    out: list[str] = []
    blocks = _intervals(instance)
    programs = {p["id"]: p for p in instance.get("programs", [])}
    rooms = {r["id"]: r for r in instance.get("rooms", [])}
    clinicians = {c["id"]: c for c in instance.get("clinicians", [])}
    patients = {p["id"]: p for p in instance.get("patients", [])}

    groups = solution.get("groups", [])
    ids = Counter(g.get("id") for g in groups)
    out += [f"group id {gid!r} used {n} times" for gid, n in ids.items() if n > 1]

    seats: dict[str, list[tuple[str, str]]] = {}  # patient -> [(block, group id)]
    room_use: dict[str, list[tuple[str, str]]] = {}
    clin_use: dict[str, list[tuple[str, str]]] = {}
    for g in groups:
        gid, block, prog_id = g.get("id"), g.get("block"), g.get("program")
        members = list(g.get("patients", []))
        if block not in blocks:
            out.append(f"{gid}: unknown block {block!r}")
            continue
        program = programs.get(prog_id)
        if program is None:
            out.append(f"{gid}: unknown program {prog_id!r}")
            continue
        size = len(members)
        if size < int(program["group_min"]):
            out.append(f"{gid}: {size} patients, below group_min {program['group_min']}")
        if size > int(program["group_max"]):
            out.append(f"{gid}: {size} patients, above group_max {program['group_max']}")
        dup = [p for p, n in Counter(members).items() if n > 1]
        if dup:
            out.append(f"{gid}: patients listed twice {dup}")
        modality = program["modality"]
        room_id = g.get("room")
        if modality == "in_person":
            room = rooms.get(room_id) if room_id is not None else None
            if room_id is None:
                out.append(f"{gid}: in-person group without a room")
            elif room is None:
                out.append(f"{gid}: unknown room {room_id!r}")
            else:
                if size > int(room["capacity"]):
                    out.append(f"{gid}: {size} patients in {room_id} (capacity {room['capacity']})")
                site = program.get("site")
                if site is not None and room.get("site") != site:
                    out.append(f"{gid}: room {room_id} is not at the program's site {site!r}")
                room_use.setdefault(room_id, []).append((block, gid))
        elif room_id is not None:
            out.append(f"{gid}: virtual group has a room {room_id!r}")
        clin_id = g.get("clinician")
        clin = clinicians.get(clin_id)
        if clin is None:
            out.append(f"{gid}: unknown clinician {clin_id!r}")
        else:
            if prog_id not in clin.get("programs", []):
                out.append(f"{gid}: clinician {clin_id} does not lead {prog_id}")
            slots = {(a["block"], a["modality"]) for a in clin.get("available", [])}
            if (block, modality) not in slots:
                out.append(f"{gid}: clinician {clin_id} not available {modality} in {block}")
            missing = set(program.get("required_credentials", [])) - set(
                clin.get("credentials", [])
            )
            if missing:
                out.append(f"{gid}: clinician {clin_id} lacks credentials {sorted(missing)}")
            clin_use.setdefault(clin_id, []).append((block, gid))
        for pid in members:
            patient = patients.get(pid)
            if patient is None:
                out.append(f"{gid}: unknown patient {pid!r}")
                continue
            if patient["program"] != prog_id:
                out.append(f"{gid}: patient {pid} is in program {patient['program']}")
            if block not in patient.get("available_blocks", []):
                out.append(f"{gid}: patient {pid} not available in {block}")
            seats.setdefault(pid, []).append((block, gid))

    def clashes(kind: str, owner: str, uses: list[tuple[str, str]]) -> None:
        for i in range(len(uses)):
            for j in range(i + 1, len(uses)):
                if _overlap(blocks[uses[i][0]], blocks[uses[j][0]]):
                    out.append(f"{kind} {owner} in overlapping {uses[i][1]} and {uses[j][1]}")

    for pid, uses in seats.items():
        clashes("patient", pid, uses)
        program = programs.get(patients[pid]["program"])
        minutes = sum(blocks[b][3] for b, _ in uses)
        if program is not None and minutes > int(program["max_minutes"]):
            out.append(f"patient {pid}: {minutes} minutes above max {program['max_minutes']}")
    for rid, uses in room_use.items():
        clashes("room", rid, uses)
    for cid, uses in clin_use.items():
        clashes("clinician", cid, uses)
        if len(uses) > int(clinicians[cid]["max_groups"]):
            out.append(f"clinician {cid}: {len(uses)} groups above max_groups")

    listed = Counter(p.get("id") for p in solution.get("patients", []))
    for pid in patients:
        if listed[pid] != 1:
            out.append(f"patients list: {pid} appears {listed[pid]} times")
    out += [f"patients list: unknown patient {pid!r}" for pid in listed if pid not in patients]
    return out


# --------------------------------------------------------------------------------------------
# Reachable: who could meet the minimum if alone in the clinic


def _openable_clinicians(instance: dict[str, Any], program: dict[str, Any], block: str) -> set[str]:
    """Clinicians who could lead this program in this block, with a room free (clinic empty)."""
    if program["modality"] == "in_person":
        site = program.get("site")
        if not any(site is None or r.get("site") == site for r in instance.get("rooms", [])):
            return set()
    need = set(program.get("required_credentials", []))
    return {
        c["id"]
        for c in instance.get("clinicians", [])
        if program["id"] in c.get("programs", [])
        and need <= set(c.get("credentials", []))
        and int(c["max_groups"]) > 0
        and any(
            a["block"] == block and a["modality"] == program["modality"] for a in c["available"]
        )
    }


def _assignable(chosen: list[str], leaders: dict[str, set[str]], caps: dict[str, int]) -> bool:
    """Each chosen block gets its own group leader, no clinician above ``max_groups``.

    Kuhn's augmenting paths over clinician slots (a clinician with cap m is m slots); the chosen
    blocks never overlap, so one clinician may lead several of them.
    """
    slots: dict[str, list[tuple[str, int]]] = {
        b: [(c, k) for c in sorted(leaders[b]) for k in range(min(caps[c], len(chosen)))]
        for b in chosen
    }
    owner: dict[tuple[str, int], str] = {}

    def augment(block: str, seen: set[tuple[str, int]]) -> bool:
        for slot in slots[block]:
            if slot in seen:
                continue
            seen.add(slot)
            if slot not in owner or augment(owner[slot], seen):
                owner[slot] = block
                return True
        return False

    return all(augment(b, set()) for b in chosen)


def reachable_patients(instance: dict[str, Any]) -> set[str]:
    """Patients who could meet their minimum if they were alone in the clinic (an upper bound).

    A patient is reachable when some set of their available blocks is pairwise non-overlapping,
    reaches ``min_minutes`` and ``min_days`` without passing ``max_minutes``, and every block in
    it could open a group of their program on an empty clinic: a clinician listing the program,
    holding its credentials, available in that block in the program's modality, and (in person)
    some room at the program's site; with each clinician used at most ``max_groups`` times across
    the set. Other patients, ``group_min`` and room capacity are ignored, so this never
    undercounts what any schedule can reach.
    """
    blocks = _intervals(instance)
    programs = {p["id"]: p for p in instance.get("programs", [])}
    caps = {c["id"]: int(c["max_groups"]) for c in instance.get("clinicians", [])}
    leaders: dict[tuple[str, str], set[str]] = {}

    def leaders_of(program: dict[str, Any], block: str) -> set[str]:
        key = (program["id"], block)
        if key not in leaders:
            leaders[key] = _openable_clinicians(instance, program, block)
        return leaders[key]

    @cache
    def feasible(program_id: str, usable: tuple[str, ...]) -> bool:
        program = programs[program_id]
        need_min, need_days = int(program["min_minutes"]), int(program["min_days"])
        cap = int(program["max_minutes"])
        lead = {b: leaders_of(program, b) for b in usable}

        def search(start: int, chosen: list[str], minutes: int, days: frozenset[int]) -> bool:
            if minutes >= need_min and len(days) >= need_days:
                # A minimal set: fewer blocks only make max_minutes and clinicians easier.
                return minutes <= cap and _assignable(chosen, lead, caps)
            for i in range(start, len(usable)):
                b = usable[i]
                if any(_overlap(blocks[b], blocks[c]) for c in chosen):
                    continue
                chosen.append(b)
                found = search(i + 1, chosen, minutes + blocks[b][3], days | {blocks[b][2]})
                chosen.pop()
                if found:
                    return True
            return False

        return search(0, [], 0, frozenset())

    out: set[str] = set()
    for patient in instance.get("patients", []):
        program = programs.get(patient["program"])
        if program is None:
            continue
        usable = tuple(
            sorted(
                {b for b in patient.get("available_blocks", []) if b in blocks}
                & {b for b in blocks if leaders_of(program, b)},
                key=lambda b: blocks[b][0],
            )
        )
        if feasible(program["id"], usable):
            out.add(patient["id"])
    return out


# --------------------------------------------------------------------------------------------
# Soft measures


def cohort_stability(solution: dict[str, Any]) -> float | None:
    """How often a patient sits with the same peers (1.0 = a closed cohort).

    For a patient with k >= 2 seats, let c_q be the number of their groups shared with peer q.
    Their stability is sum(c_q^2) / (k * sum(c_q)): pick one of their seats and one peer in that
    group at random; it is the expected fraction of the patient's sessions that peer also attends.
    1.0 when every session has the same peers, 1/k when no peer is seen twice. The result is the
    mean over patients with at least two seats and one peer; None if there is none.
    """
    members: dict[str, list[list[str]]] = {}
    for g in solution.get("groups", []):
        group = list(g.get("patients", []))
        for pid in group:
            members.setdefault(pid, []).append(group)
    values: list[float] = []
    for pid, groups in members.items():
        k = len(groups)
        if k < 2:
            continue
        shared: Counter[str] = Counter(q for group in groups for q in group if q != pid)
        total = sum(shared.values())
        if total:
            values.append(sum(c * c for c in shared.values()) / (k * total))
    return sum(values) / len(values) if values else None


def _blocks_of(solution: dict[str, Any]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for g in solution.get("groups", []):
        for pid in g.get("patients", []):
            out.setdefault(pid, set()).add(g["block"])
    return {k: frozenset(v) for k, v in out.items()}


def churn(
    instance: dict[str, Any],
    previous: dict[str, Any],
    solution: dict[str, Any],
    affected: set[str] | frozenset[str],
) -> tuple[int, int]:
    """(unaffected patients whose set of blocks changed, number of unaffected patients).

    A patient who held no group in ``previous`` (a new admission, or someone unplaced before) is
    new, not unaffected: placing them is not churn. See :func:`new_patients`."""
    before, after = _blocks_of(previous), _blocks_of(solution)
    unaffected = [
        p["id"]
        for p in instance.get("patients", [])
        if p["id"] not in affected and p["id"] in before
    ]
    moved = sum(
        1 for pid in unaffected if before.get(pid, frozenset()) != after.get(pid, frozenset())
    )
    return moved, len(unaffected)


def new_patients(
    instance: dict[str, Any], previous: dict[str, Any], affected: set[str] | frozenset[str]
) -> int:
    """Patients neither affected nor placed in ``previous`` (new admissions)."""
    before = _blocks_of(previous)
    return sum(
        1 for p in instance.get("patients", []) if p["id"] not in affected and p["id"] not in before
    )


def score(
    instance: dict[str, Any],
    solution: dict[str, Any],
    *,
    previous: dict[str, Any] | None = None,
    affected: set[str] | frozenset[str] | None = None,
    reachable: set[str] | None = None,
) -> dict[str, Any]:
    """Score a solution; pass ``reachable`` to reuse a set already computed for this instance."""
    blocks = _intervals(instance)
    programs = {p["id"]: p for p in instance.get("programs", [])}
    patients = instance.get("patients", [])
    seated = _blocks_of(solution)
    seat_blocks: dict[str, list[str]] = {}  # one entry per seat, unlike ``seated``
    for g in solution.get("groups", []):
        for pid in g.get("patients", []):
            seat_blocks.setdefault(pid, []).append(g.get("block", ""))
    meeting: set[str] = set()
    pref_violations = 0
    for patient in patients:
        mine = seated.get(patient["id"], frozenset())
        minutes = sum(blocks[b][3] for b in mine if b in blocks)
        days = len({blocks[b][2] for b in mine if b in blocks})
        program = programs.get(patient["program"])
        if program is not None and _meets(program, minutes, days):
            meeting.add(patient["id"])
        preferred = set(patient.get("preferred_blocks", []))
        if preferred:
            pref_violations += sum(
                1 for b in seat_blocks.get(patient["id"], []) if b not in preferred
            )
    if reachable is None:
        reachable = reachable_patients(instance)
    n = len(patients)
    meeting_reachable = len(meeting & reachable)

    inconsistencies: list[str] = []
    metrics = solution.get("metrics", {})
    if metrics.get("patients_meeting_minimum") not in (None, len(meeting)):
        inconsistencies.append(
            f"metrics say {metrics['patients_meeting_minimum']} meet the minimum, "
            f"groups give {len(meeting)}"
        )
    if metrics.get("preference_violations") not in (None, pref_violations):
        inconsistencies.append(
            f"metrics say {metrics['preference_violations']} preference violations, "
            f"groups give {pref_violations}"
        )
    wrong_flags = [
        p["id"]
        for p in solution.get("patients", [])
        if bool(p.get("meets_minimum")) != (p.get("id") in meeting)
    ]
    if wrong_flags:
        inconsistencies.append(f"meets_minimum wrong for {len(wrong_flags)} patients")

    result: dict[str, Any] = {
        "hard_violations": hard_violations(instance, solution),
        "patients": n,
        "groups": len(solution.get("groups", [])),
        "meeting": len(meeting),
        "meeting_pct_all": 100.0 * len(meeting) / n if n else 100.0,
        "reachable": len(reachable),
        "meeting_reachable": meeting_reachable,
        "meeting_pct_reachable": 100.0 * meeting_reachable / len(reachable) if reachable else 100.0,
        "preference_violations": pref_violations,
        "cohort_stability": cohort_stability(solution),
        "churn": None,
        "churn_pct": None,
        "inconsistencies": inconsistencies,
    }
    if previous is not None:
        moved, unaffected = churn(instance, previous, solution, affected or set())
        result["churn"] = moved
        result["churn_pct"] = 100.0 * moved / unaffected if unaffected else 0.0
        result["new_patients"] = new_patients(instance, previous, affected or set())
    return result
