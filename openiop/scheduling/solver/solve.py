"""``solve(instance)``: the weekly schedule as a format-v1 solution dict.

Stages (each keeps what the previous ones achieved and starts from their solution):

1. ``meeting``: maximise the number of patients who reach their weekly minimum. Patients who
   cannot reach it even alone (see ``reasons.reachable``) get no ``met`` variable, so the bound
   starts at the number of reachable patients and a schedule placing all of them is proven at once.
2. ``churn`` (repair only): minimise unaffected patients whose set of blocks changes.
3. ``preferences``: minimise seats outside patients' preferred blocks.
4. ``tidy`` (if time is left): fewer groups (so fewer small ones), then the lightest possible
   busiest clinician (balanced loads). Not part of the status: it never changes stages 1-3.

Then ``split.py`` turns attendance into groups (balanced sizes, stable cohorts, kept group ids),
and ``reasons.py`` explains every patient who does not reach the minimum.
"""

from __future__ import annotations

import importlib
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from typing import Any

from ortools.sat.python import cp_model

from openiop.scheduling.solver.instance import (
    SOLUTION_FORMAT,
    Instance,
    parse_group_id,
    parse_instance,
)
from openiop.scheduling.solver.model import (
    Assignment,
    CountModel,
    Stage,
    StageResult,
    solve_stages,
)
from openiop.scheduling.solver.reasons import (
    BlockState,
    explain,
    meets,
    patient_blocks,
    program_blocks,
    reachable,
)
from openiop.scheduling.solver.split import split_block
from openiop.scheduling.solver.validate import check_solution

Progress = Callable[[str, float], None]


def solve(
    instance: dict[str, Any],
    *,
    time_limit: float = 30.0,
    repair: bool = False,
    workers: int = 2,
    progress: Progress | None = None,
    preference_gap: float = 0.0,
    warm_start: bool = True,
    tidy: bool = True,
    pins: Mapping[str, Collection[str]] | None = None,
) -> dict[str, Any]:
    """Solve a format-v1 instance (a decoded JSON object); raise InstanceError if it is bad.

    ``time_limit`` bounds the whole call (seconds, wall clock); ``workers`` is CP-SAT's thread
    count; ``progress(message, elapsed_seconds)`` hears about each stage. ``preference_gap`` lets
    the preferences stage stop once within that relative gap of its bound.

    ``pins`` (patient id -> block ids; not part of format v1, the product's board passes them)
    are hard: a pinned patient attends every pinned block. A pin that cannot hold (a block the
    patient or the program cannot use, or pins that together break a hard rule) is dropped and
    listed in ``metrics.pins_not_kept``.
    """
    started = time.monotonic()
    deadline = started + time_limit

    def say(message: str) -> None:
        if progress is not None:
            progress(message, time.monotonic() - started)

    inst = parse_instance(instance)
    open_blocks = [program_blocks(inst, g) for g in inst.programs]
    can_reach = [
        reachable(inst, inst.programs[p.program], patient_blocks(inst, p, open_blocks[p.program]))
        for p in inst.patients
    ]
    say(f"{len(inst.patients)} patients, {sum(can_reach)} can reach the minimum on their own")

    current, previous_group = _current_placements(inst, open_blocks) if repair else ({}, {})
    pinned, broken = _pins(inst, pins or {}, open_blocks)

    def run(pinned: Mapping[int, frozenset[int]]) -> tuple[Any, ...]:
        cm = CountModel(inst, open_blocks, can_reach, pinned=pinned)
        cm.build()
        stages = [Stage("meeting", cm.met_count, maximize=True, share=0.5)]
        if repair:
            stages.append(Stage("churn", lambda: cm.churn(current), maximize=False, share=0.5))
        stages.append(
            Stage("preferences", cm.preference_violations, False, share=0.75, gap=preference_gap)
        )
        if tidy:
            weight = max((c.max_groups for c in inst.clinicians), default=0) + 1
            stages.append(
                Stage(
                    "tidy",
                    lambda: cp_model.LinearExpr.weighted_sum(
                        [cm.group_count(), cm.max_load()], [weight, 1]
                    ),
                    maximize=False,
                    share=1.0,
                    gap=0.02,
                    cap=0.2,
                )
            )
        hint = _warm_start(instance, inst, current) if warm_start else None
        hint_at = time.monotonic()
        if hint is not None:
            cm.hint(hint)
        say(
            f"model: {len(cm.x)} attendance, {len(cm.y)} clinician, {len(cm.r)} room variables "
            f"(warm start: {'yes' if hint else 'no'}, pins: {len(pinned)})"
        )
        results, best = solve_stages(
            cm,
            stages,
            deadline=deadline - min(0.5, 0.05 * time_limit),
            time_limit=time_limit,
            workers=workers,
            progress=say,
        )
        return results, best, hint, hint_at

    results, best, hint, hint_at = run(pinned)
    if pinned and results and results[0].status == "INFEASIBLE":
        # The pins cannot all hold together with the hard rules: solve without them and say so.
        say("the pins cannot all be kept: solving again without them")
        broken |= set(pinned)
        results, best, hint, hint_at = run({})
    solution = None
    if best is None and hint is not None and not repair:
        # No CP-SAT solution in time: fall back on the greedy baseline if it is valid.
        solution = _solution(inst, hint, open_blocks, previous_group, results, repair)
        if check_solution(instance, solution):
            solution = None
        else:
            solution["status"] = "feasible"
            say("no CP-SAT solution within the time limit: returning the greedy schedule")
    if solution is None:
        assignment = best or Assignment({}, {}, {})
        solution = _solution(inst, assignment, open_blocks, previous_group, results, repair)
    by_name = {r.name: r for r in results}
    metrics = solution["metrics"]
    metrics["reachable"] = sum(can_reach)
    if repair:
        new = sum(1 for p in inst.patients if not p.current_groups)
        metrics["new_patients"] = new
        metrics["affected"] = len(inst.patients) - len(current) - new
        metrics["churn"] = sum(
            1 for p, blocks in current.items() if set(assignment.attends.get(p, [])) != blocks
        )
        _stage_metrics(metrics, "churn", by_name.get("churn"))
    first_at = results[0].first_at if results and results[0].first_at is not None else None
    if first_at is None and solution.get("groups") and best is None:
        first_at = hint_at  # the greedy schedule returned as the fallback
    metrics["first_solution_seconds"] = (
        round(first_at - started, 3) if first_at is not None else None
    )
    _stage_metrics(metrics, "stage1", by_name.get("meeting"))
    _stage_metrics(metrics, "stage2", by_name.get("preferences"))
    metrics["objective"] = metrics.get("stage2_objective")
    metrics["bound"] = metrics.get("stage2_bound")
    if pins:
        seated: dict[str, set[str]] = defaultdict(set)
        for g in solution["groups"]:
            for pid in g["patients"]:
                seated[pid].add(g["block"])
        for p in inst.patients:
            wanted = pins.get(p.id)
            if wanted and not set(wanted) <= seated[p.id]:
                broken.add(p.index)
        metrics["pins_not_kept"] = sorted(inst.patients[p].id for p in broken)
    metrics["solve_seconds"] = round(time.monotonic() - started, 3)
    say(
        f"done: {metrics['patients_meeting_minimum']} meet the minimum, status {solution['status']}"
    )
    return solution


def _pins(
    inst: Instance, pins: Mapping[str, Collection[str]], open_blocks: list[frozenset[int]]
) -> tuple[dict[int, frozenset[int]], set[int]]:
    """Pins that could hold (patient index -> block indexes), and patients whose pin cannot:
    a block they are not available in or where their program cannot meet, two overlapping
    blocks, or more minutes than the program maximum."""
    by_id = {p.id: p for p in inst.patients}
    blocks = inst.block_by_id()
    kept: dict[int, frozenset[int]] = {}
    broken: set[int] = set()
    for pid, wanted in pins.items():
        patient = by_id.get(pid)
        if patient is None or not wanted:
            continue
        chosen = frozenset(blocks.get(b, -1) for b in wanted)
        usable = set(patient.available) & open_blocks[patient.program]
        program = inst.programs[patient.program]
        if (
            not chosen <= usable
            or any(inst.overlaps[b] & chosen for b in chosen)
            or sum(inst.blocks[b].minutes for b in chosen) > program.max_minutes
        ):
            broken.add(patient.index)
        else:
            kept[patient.index] = chosen
    return kept, broken


def _stage_metrics(metrics: dict[str, Any], prefix: str, result: StageResult | None) -> None:
    if result is None:
        return
    metrics[f"{prefix}_objective"] = _number(result.objective)
    metrics[f"{prefix}_bound"] = _number(result.bound)
    metrics[f"{prefix}_seconds"] = round(result.seconds, 3)


def _number(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(round(value)) if abs(value - round(value)) < 1e-6 else value


def _current_placements(
    inst: Instance, open_blocks: list[frozenset[int]]
) -> tuple[dict[int, set[int]], dict[tuple[int, int], int]]:
    """Unaffected patients' current blocks, and every kept (patient, block) -> group number.

    A patient is affected when their current placement cannot stand as it is: a current group in
    a block that is gone, no longer in their availability, no longer open to their program (no
    clinician or room left), of another program, or overlapping. A patient without current groups
    is a new admission: neither affected nor unaffected, so placing them is never counted as churn
    (the same rule as ``bench/score.py``); the solve reports them as ``metrics.new_patients``.
    """
    block_ids = inst.block_by_id()
    unaffected: dict[int, set[int]] = {}
    numbers: dict[tuple[int, int], int] = {}
    for p in inst.patients:
        if not p.current_groups:
            continue  # a new admission
        program = inst.programs[p.program]
        blocks: set[int] = set()
        ok = True
        for gid in p.current_groups:
            parsed = parse_group_id(gid)
            if parsed is None:
                ok = False
                continue
            block_id, program_id, number = parsed
            b = block_ids.get(block_id)
            if b is None or program_id != program.id:
                ok = False
                continue
            numbers[p.index, b] = number
            if b not in p.available or b not in open_blocks[p.program] or b in blocks:
                ok = False
            blocks.add(b)
        if any(inst.overlaps[b] & blocks for b in blocks):
            ok = False
        if sum(inst.blocks[b].minutes for b in blocks) > program.max_minutes:
            ok = False
        if ok:
            unaffected[p.index] = blocks
    return unaffected, numbers


def _warm_start(
    data: dict[str, Any], inst: Instance, current: Mapping[int, set[int]]
) -> Assignment | None:
    """A starting point: current placements (repair) or the greedy baseline, when available."""
    if current:
        return Assignment({p: sorted(bs) for p, bs in current.items()}, {}, {})
    try:
        module = importlib.import_module("openiop.scheduling.solver.greedy")
        greedy: Callable[[dict[str, Any]], dict[str, Any]] = module.greedy_solve
        found = greedy(data)
    except Exception:  # the baseline is optional; the solver must not depend on it
        return None
    blocks, programs = inst.block_by_id(), inst.program_by_id()
    patients = {p.id: p.index for p in inst.patients}
    clinicians = {c.id: c.index for c in inst.clinicians}
    rooms = {r.id: r.index for r in inst.rooms}
    attends: dict[int, list[int]] = defaultdict(list)
    leads: dict[tuple[int, int], list[int]] = defaultdict(list)
    used_rooms: dict[tuple[int, int], list[int]] = defaultdict(list)
    try:
        for g in found.get("groups", []):
            key = (programs[g["program"]], blocks[g["block"]])
            leads[key].append(clinicians[g["clinician"]])
            if g.get("room") is not None:
                used_rooms[key].append(rooms[g["room"]])
            for pid in g["patients"]:
                attends[patients[pid]].append(key[1])
    except (KeyError, TypeError):
        return None
    return Assignment(dict(attends), dict(leads), dict(used_rooms))


def _solution(
    inst: Instance,
    assignment: Assignment,
    open_blocks: list[frozenset[int]],
    previous_group: Mapping[tuple[int, int], int],
    results: list[StageResult],
    repair: bool,
) -> dict[str, Any]:
    groups = _groups(inst, assignment, previous_group)
    seats: dict[int, list[int]] = defaultdict(list)  # patient -> blocks
    pindex = {p.id: p.index for p in inst.patients}
    for g in groups:
        for pid in g["patients"]:
            seats[pindex[pid]].append(g["_block"])
    proven_meeting = bool(results) and results[0].proven
    searched = bool(results) and results[0].solved
    states = _block_states(inst, groups)
    out_patients = []
    meeting = 0
    violations = 0
    for p in inst.patients:
        program = inst.programs[p.program]
        mine = seats.get(p.index, [])
        minutes = sum(inst.blocks[b].minutes for b in mine)
        days = len({inst.blocks[b].day for b in mine})
        ok = meets(program, minutes, days)
        meeting += ok
        if p.preferred:
            violations += sum(1 for b in mine if b not in p.preferred)
        reason = (
            None
            if ok
            else explain(
                inst, p, open_blocks[p.program], states[p.program], proven_meeting, searched
            )
        )
        out_patients.append(
            {"id": p.id, "minutes": minutes, "days": days, "meets_minimum": ok, "reason": reason}
        )
    needed = [r for r in results if r.name in ("meeting", "churn", "preferences")]
    expected = 3 if repair else 2
    if not results or not results[0].solved:
        status = "infeasible" if results and results[0].status == "INFEASIBLE" else "unknown"
    elif len(needed) == expected and all(r.proven for r in needed):
        status = "optimal"
    else:
        status = "feasible"
    for g in groups:
        del g["_block"]
    return {
        "format": SOLUTION_FORMAT,
        "status": status,
        "groups": groups,
        "patients": out_patients,
        "metrics": {
            "solve_seconds": 0.0,
            "patients_meeting_minimum": meeting,
            "preference_violations": violations,
            "objective": None,
            "bound": None,
            "groups": len(groups),
        },
    }


def _cohort_key(inst: Instance, attends: Mapping[int, list[int]], p: int) -> tuple[Any, ...]:
    return (tuple(sorted(attends.get(p, []))), inst.patients[p].id)


def _groups(
    inst: Instance, assignment: Assignment, previous_group: Mapping[tuple[int, int], int]
) -> list[dict[str, Any]]:
    attendees: dict[tuple[int, int], list[int]] = defaultdict(list)
    for p, blocks in assignment.attends.items():
        for b in blocks:
            attendees[inst.patients[p].program, b].append(p)
    groups: list[dict[str, Any]] = []
    for (g, b), leaders in sorted(assignment.leads.items()):
        program, block = inst.programs[g], inst.blocks[b]
        members = sorted(
            attendees.get((g, b), []), key=lambda p: _cohort_key(inst, assignment.attends, p)
        )
        if not members:
            continue
        clinicians = sorted(leaders, key=lambda c: inst.clinicians[c].id)
        n = len(clinicians)
        wanted_count: dict[int, int] = defaultdict(int)
        for p in members:
            number = previous_group.get((p, b))
            if number is not None and number <= n:
                wanted_count[number] += 1
        # Group numbers in order of how many want to stay, paired with the largest rooms.
        numbers = sorted(range(1, n + 1), key=lambda k: (-wanted_count[k], k))
        if program.in_person:
            rooms = sorted(
                assignment.rooms.get((g, b), []),
                key=lambda k: (-inst.rooms[k].capacity, inst.rooms[k].id),
            )
            caps = [min(inst.rooms[k].capacity, program.group_max) for k in rooms]
        else:
            rooms = []
            caps = [program.group_max] * n
        slot_of = {k: i for i, k in enumerate(numbers)}
        previous = {
            inst.patients[p].id: slot_of[num] + 1
            for p in members
            if (num := previous_group.get((p, b))) is not None and num in slot_of
        }
        split = split_block(
            [inst.patients[p].id for p in members], caps, program.group_min, previous
        )
        for i, ids in enumerate(split):
            groups.append(
                {
                    "id": f"{block.id}/{program.id}/{numbers[i]}",
                    "block": block.id,
                    "program": program.id,
                    "clinician": inst.clinicians[clinicians[i]].id,
                    "room": inst.rooms[rooms[i]].id if rooms else None,
                    "patients": ids,
                    "_block": b,
                }
            )
    groups.sort(key=lambda g: (g["_block"], g["program"], int(g["id"].rsplit("/", 1)[1])))
    return groups


def _block_states(inst: Instance, groups: list[dict[str, Any]]) -> dict[int, dict[int, BlockState]]:
    """Per program and block: group sizes, free seats, and whether another group could open."""
    programs = inst.program_by_id()
    clinicians = {c.id: c.index for c in inst.clinicians}
    rooms = {r.id: r.index for r in inst.rooms}
    busy_c: dict[int, set[int]] = defaultdict(set)
    busy_r: dict[int, set[int]] = defaultdict(set)
    sizes: dict[tuple[int, int], list[int]] = defaultdict(list)
    free: dict[tuple[int, int], int] = defaultdict(int)
    for grp in groups:
        g, b = programs[grp["program"]], grp["_block"]
        prog = inst.programs[g]
        busy_c[clinicians[grp["clinician"]]].add(b)
        cap = prog.group_max
        if grp["room"] is not None:
            k = rooms[grp["room"]]
            busy_r[k].add(b)
            cap = min(cap, inst.rooms[k].capacity)
        sizes[g, b].append(len(grp["patients"]))
        free[g, b] += cap - len(grp["patients"])

    def clash(blocks: set[int], b: int) -> bool:
        return b in blocks or bool(inst.overlaps[b] & blocks)

    out: dict[int, dict[int, BlockState]] = {}
    for prog in inst.programs:
        per: dict[int, BlockState] = {}
        for blk in inst.blocks:
            b = blk.index
            leader = any(
                inst.can_lead(c, prog, b)
                and len(busy_c[c.index]) < c.max_groups
                and not clash(busy_c[c.index], b)
                for c in inst.clinicians
            )
            room = not prog.in_person or any(
                not clash(busy_r[r.index], b) and inst.room_free(r, b)
                for r in inst.usable_rooms(prog)
            )
            per[b] = BlockState(
                tuple(sizes.get((prog.index, b), [])), free[prog.index, b], leader and room
            )
        out[prog.index] = per
    return out
