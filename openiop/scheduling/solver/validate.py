"""An independent checker of a solution against its instance (format v1).

It shares no code with the model: it works on the two JSON objects as given, recomputes block
overlaps from the clock itself, and checks every hard rule of ``instance-format.md`` plus the
solution's own bookkeeping (each patient listed once, minutes / days / meets_minimum recomputed,
a reason for everyone below the minimum, the headline metrics). ``check_solution`` returns the
problems in words; an empty list means the solution is valid. The instance is assumed to have
passed ``parse_instance``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import jsonschema  # type: ignore[import-untyped]

from openiop.scheduling.solver.instance import solution_schema

_WEEK = 7 * 24 * 60


def _clock(block: dict[str, Any]) -> tuple[int, int]:
    hh, mm = block["start"].split(":")
    return block["day"] * 1440 + int(hh) * 60 + int(mm), block["minutes"]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Two weekly intervals (start, length) share a minute, wrapping Sunday night to Monday."""
    (sa, la), (sb, lb) = a, b
    for shift in (-_WEEK, 0, _WEEK):
        if sa < sb + shift + lb and sb + shift < sa + la:
            return True
    return False


def _pairs_overlapping(
    items: list[tuple[str, str]], clock: dict[str, tuple[int, int]]
) -> list[tuple[str, str]]:
    """(label, block) items -> pairs of labels whose blocks overlap (same block included)."""
    out = []
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            (la, ba), (lb, bb) = items[i], items[j]
            if ba == bb or _overlap(clock[ba], clock[bb]):
                out.append((la, lb))
    return out


def check_solution(instance: dict[str, Any], solution: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    validator = jsonschema.Draft202012Validator(solution_schema())
    for error in validator.iter_errors(solution):
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        problems.append(f"solution does not match the schema at {where}: {error.message}")
    if problems:
        return problems

    blocks = {b["id"]: b for b in instance["blocks"]}
    clock = {bid: _clock(b) for bid, b in blocks.items()}
    rooms = {r["id"]: r for r in instance["rooms"]}
    programs = {p["id"]: p for p in instance["programs"]}
    clinicians = {c["id"]: c for c in instance["clinicians"]}
    patients = {p["id"]: p for p in instance["patients"]}

    seats: dict[str, list[tuple[str, str]]] = defaultdict(list)  # patient -> (group, block)
    led: dict[str, list[tuple[str, str]]] = defaultdict(list)
    hosted: dict[str, list[tuple[str, str]]] = defaultdict(list)
    ids = Counter(g["id"] for g in solution["groups"])
    for gid, count in ids.items():
        if count > 1:
            problems.append(f"group id {gid} is used {count} times")

    for g in solution["groups"]:
        gid, bid, pid = g["id"], g["block"], g["program"]
        if bid not in blocks:
            problems.append(f"group {gid}: unknown block {bid}")
            continue
        if pid not in programs:
            problems.append(f"group {gid}: unknown program {pid}")
            continue
        program = programs[pid]
        parts = gid.rsplit("/", 2)
        if len(parts) != 3 or parts[0] != bid or parts[1] != pid or not parts[2].isdigit():
            problems.append(f"group {gid}: id is not <block>/<program>/<n> for {bid}, {pid}")
        members = g["patients"]
        size = len(members)
        if not program["group_min"] <= size <= program["group_max"]:
            problems.append(
                f"group {gid}: {size} patients, outside {program['group_min']}.."
                f"{program['group_max']}"
            )
        for p, n in Counter(members).items():
            if n > 1:
                problems.append(f"group {gid}: patient {p} listed {n} times")
        for p in set(members):
            if p not in patients:
                problems.append(f"group {gid}: unknown patient {p}")
                continue
            if patients[p]["program"] != pid:
                problems.append(f"group {gid}: patient {p} belongs to {patients[p]['program']}")
            if bid not in patients[p]["available_blocks"]:
                problems.append(f"group {gid}: patient {p} is not available in {bid}")
            seats[p].append((gid, bid))

        cid = g["clinician"]
        clinician = clinicians.get(cid)
        if clinician is None:
            problems.append(f"group {gid}: unknown clinician {cid}")
        else:
            if pid not in clinician["programs"]:
                problems.append(f"group {gid}: clinician {cid} does not lead {pid}")
            wanted = {"block": bid, "modality": program["modality"]}
            if not any(
                a["block"] == bid and a["modality"] == program["modality"]
                for a in clinician["available"]
            ):
                problems.append(f"group {gid}: clinician {cid} is not available for {wanted}")
            missing = set(program.get("required_credentials", [])) - set(
                clinician.get("credentials", [])
            )
            if missing:
                problems.append(f"group {gid}: clinician {cid} lacks {sorted(missing)}")
            led[cid].append((gid, bid))

        room_id = g["room"]
        if program["modality"] == "virtual":
            if room_id is not None:
                problems.append(f"group {gid}: a virtual group has room {room_id}")
        elif room_id is None:
            problems.append(f"group {gid}: an in-person group without a room")
        elif room_id not in rooms:
            problems.append(f"group {gid}: unknown room {room_id}")
        else:
            room = rooms[room_id]
            if room.get("site") != program.get("site"):
                problems.append(
                    f"group {gid}: room {room_id} is at {room.get('site')}, "
                    f"the program at {program.get('site')}"
                )
            if bid in room.get("unavailable_blocks", []):
                problems.append(f"group {gid}: room {room_id} is already booked in block {bid}")
            if size > room["capacity"]:
                problems.append(
                    f"group {gid}: {size} patients in room {room_id} of {room['capacity']}"
                )
            hosted[room_id].append((gid, bid))

    for cid, items in led.items():
        if len(items) > clinicians[cid]["max_groups"]:
            problems.append(
                f"clinician {cid} leads {len(items)} groups, over {clinicians[cid]['max_groups']}"
            )
        for a, b in _pairs_overlapping(items, clock):
            problems.append(f"clinician {cid} leads overlapping groups {a} and {b}")
    for rid, items in hosted.items():
        for a, b in _pairs_overlapping(items, clock):
            problems.append(f"room {rid} hosts overlapping groups {a} and {b}")
    for p, items in seats.items():
        for a, b in _pairs_overlapping(items, clock):
            problems.append(f"patient {p} is in overlapping groups {a} and {b}")

    listed = Counter(e["id"] for e in solution["patients"])
    for p in patients:
        if listed[p] != 1:
            problems.append(f"patient {p} is listed {listed[p]} times in patients")
    for p in listed:
        if p not in patients:
            problems.append(f"patients lists unknown patient {p}")

    meeting = 0
    violations = 0
    for entry in solution["patients"]:
        p = entry["id"]
        if p not in patients:
            continue
        program = programs[patients[p]["program"]]
        mine = seats.get(p, [])
        minutes = sum(blocks[b]["minutes"] for _, b in mine)
        days = len({blocks[b]["day"] for _, b in mine})
        ok = minutes >= program["min_minutes"] and days >= program["min_days"]
        meeting += ok
        preferred = set(patients[p].get("preferred_blocks", []))
        if preferred:
            violations += sum(1 for _, b in mine if b not in preferred)
        if minutes > program["max_minutes"]:
            problems.append(
                f"patient {p}: {minutes} minutes, over the maximum {program['max_minutes']}"
            )
        if entry["minutes"] != minutes or entry["days"] != days:
            problems.append(
                f"patient {p}: reported {entry['minutes']} minutes on {entry['days']} days, "
                f"scheduled {minutes} on {days}"
            )
        if entry["meets_minimum"] != ok:
            problems.append(f"patient {p}: meets_minimum is {entry['meets_minimum']}, not {ok}")
        if ok and entry["reason"] is not None:
            problems.append(f"patient {p} meets the minimum but has a reason")
        if not ok and not (entry["reason"] or "").strip():
            problems.append(f"patient {p} misses the minimum without a reason")

    metrics = solution["metrics"]
    if metrics["patients_meeting_minimum"] != meeting:
        problems.append(
            f"metrics: {metrics['patients_meeting_minimum']} meeting the minimum, counted {meeting}"
        )
    if metrics["preference_violations"] != violations:
        problems.append(
            f"metrics: {metrics['preference_violations']} preference violations, "
            f"counted {violations}"
        )
    return problems
