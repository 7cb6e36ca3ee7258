"""The count-based CP-SAT model.

Variables (only where the combination is allowed by the instance):

- ``x[p, b]`` patient ``p`` attends a group of their program in block ``b``;
- ``y[c, g, b]`` clinician ``c`` leads one group of program ``g`` in block ``b``;
- ``r[g, b, k]`` room ``k`` hosts one group of in-person program ``g`` in block ``b``;
- ``met[p]`` patient ``p`` reaches the weekly minimum (only for patients who could on their own).

The number of groups of ``g`` in ``b`` is ``n = sum_c y[c, g, b]`` (each clinician leads one
group), in-person programs need as many rooms (``sum_k r[g, b, k] = n``), and the attendance
``a = sum_p x[p, b]`` must split into ``n`` groups: ``n * group_min <= a <= sum_k r * min(cap_k,
group_max)`` (``n * group_max`` when virtual). Rooms smaller than ``group_min`` are never offered,
so any such ``a`` splits into valid groups; ``split.py`` does it afterwards. Overlaps are cliques:
per patient, clinician and room, at most one block of every overlap clique.

Objectives are solved one after another by ``solve_stages``: each stage keeps the previous
stage's value as a constraint (``>=`` the number met, ``<=`` a minimised cost) and starts from the
previous solution as a hint.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from openiop.scheduling.solver.instance import Instance


@dataclass
class StageResult:
    name: str
    status: str  # CP-SAT status name
    objective: float | None
    bound: float | None
    seconds: float
    first_at: float | None = None  # time.monotonic() of the stage's first solution

    @property
    def solved(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")

    @property
    def proven(self) -> bool:
        return (
            self.objective is not None
            and self.bound is not None
            and round(self.objective) == round(self.bound)
        )


@dataclass
class Assignment:
    """A solution read off the model: who attends what, who leads, which rooms."""

    attends: dict[int, list[int]]  # patient -> blocks
    leads: dict[tuple[int, int], list[int]]  # (program, block) -> clinicians
    rooms: dict[tuple[int, int], list[int]]  # (program, block) -> rooms


@dataclass
class CountModel:
    inst: Instance
    open_blocks: Sequence[frozenset[int]]  # per program: blocks where a group could meet
    reachable: Sequence[bool]  # per patient
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    x: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    y: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
    r: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
    met: dict[int, cp_model.IntVar] = field(default_factory=dict)
    days: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    pinned: Mapping[int, frozenset[int]] = field(default_factory=dict)  # patient -> blocks

    def build(self) -> None:
        inst, m = self.inst, self.model
        by_program_block: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)

        # Patients.
        for p in inst.patients:
            prog = inst.programs[p.program]
            blocks = [b for b in p.available if b in self.open_blocks[p.program]]
            if not blocks:
                continue
            xs = {b: m.new_bool_var(f"x{p.index}_{b}") for b in blocks}
            for b, v in xs.items():
                self.x[p.index, b] = v
                by_program_block[p.program, b].append(v)
            for b in self.pinned.get(p.index, ()):
                if b in xs:  # a pin holds: the patient attends this block
                    m.add(xs[b] == 1)
            for clique in inst.cliques:
                inside = [xs[b] for b in clique if b in xs]
                if len(inside) > 1:
                    m.add_at_most_one(inside)
            minutes = sum(inst.blocks[b].minutes * v for b, v in xs.items())
            if sum(inst.blocks[b].minutes for b in blocks) > prog.max_minutes:
                m.add(minutes <= prog.max_minutes)
            if not self.reachable[p.index]:
                continue
            met = m.new_bool_var(f"met{p.index}")
            self.met[p.index] = met
            if prog.min_minutes > 0:
                m.add(minutes >= prog.min_minutes).only_enforce_if(met)
            if prog.min_days > 0:
                per_day: dict[int, list[cp_model.IntVar]] = defaultdict(list)
                for b, v in xs.items():
                    per_day[inst.blocks[b].day].append(v)
                day_vars = []
                for day, vs in per_day.items():
                    if len(vs) == 1:
                        day_vars.append(vs[0])
                    else:
                        d = m.new_bool_var(f"d{p.index}_{day}")
                        self.days[p.index, day] = d
                        m.add(d <= sum(vs))
                        day_vars.append(d)
                m.add(sum(day_vars) >= prog.min_days).only_enforce_if(met)

        # Interchangeable patients (same program, availability, preferences, current groups):
        # the earlier one meets the minimum whenever a later one does.
        twins: dict[tuple[object, ...], list[int]] = defaultdict(list)
        for p in inst.patients:
            if p.index in self.met:
                key = (
                    p.program,
                    p.available,
                    p.preferred,
                    frozenset(p.current_groups),
                    self.pinned.get(p.index),
                )
                twins[key].append(p.index)
        for members in twins.values():
            for a, b in zip(members, members[1:], strict=False):
                m.add_implication(self.met[b], self.met[a])

        # Groups: clinicians and rooms per (program, block) with attendees.
        clinician_vars: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        room_vars: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        for (g, b), seats in by_program_block.items():
            prog = inst.programs[g]
            leads = []
            for c in inst.clinicians:
                if inst.can_lead(c, prog, b):
                    v = m.new_bool_var(f"y{c.index}_{g}_{b}")
                    self.y[c.index, g, b] = v
                    leads.append(v)
                    clinician_vars[c.index].append((b, v))
            attendance = sum(seats)
            n = sum(leads)
            m.add(attendance >= prog.group_min * n)
            if prog.in_person:
                rooms = []
                capacity = []
                for room in inst.usable_rooms(prog):
                    if not inst.room_free(room, b):
                        continue
                    v = m.new_bool_var(f"r{g}_{b}_{room.index}")
                    self.r[g, b, room.index] = v
                    rooms.append(v)
                    capacity.append(min(room.capacity, prog.group_max) * v)
                    room_vars[room.index].append((b, v))
                m.add(sum(rooms) == n)
                m.add(attendance <= sum(capacity))
            else:
                m.add(attendance <= prog.group_max * n)
            # Cuts the solver cannot see at once: no attendees without a group, no group alone.
            m.add(n <= len(seats) // prog.group_min)

        for c in inst.clinicians:
            entries = clinician_vars.get(c.index, [])
            self._at_most_one_per_clique(entries)
            if len(entries) > c.max_groups:
                m.add(sum(v for _, v in entries) <= c.max_groups)
        for room in inst.rooms:
            self._at_most_one_per_clique(room_vars.get(room.index, []))

    def _at_most_one_per_clique(self, entries: Sequence[tuple[int, cp_model.IntVar]]) -> None:
        per_block: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for b, v in entries:
            per_block[b].append(v)
        for clique in self.inst.cliques:
            inside = [v for b in clique for v in per_block.get(b, [])]
            if len(inside) > 1:
                self.model.add_at_most_one(inside)

    # -- objectives ------------------------------------------------------------------------

    def met_count(self) -> cp_model.LinearExprT:
        return sum(self.met.values())

    def preference_violations(self) -> cp_model.LinearExprT:
        terms = []
        for (p, b), v in self.x.items():
            prefs = self.inst.patients[p].preferred
            if prefs and b not in prefs:
                terms.append(v)
        return sum(terms)

    def churn(self, current: Mapping[int, Collection[int]]) -> cp_model.LinearExprT:
        """Unaffected patients (``current``: patient -> current blocks) whose blocks change."""
        moved = []
        for p, blocks in current.items():
            options = [b for (q, b) in self.x if q == p]
            if not set(blocks) <= set(options):
                continue
            changed = self.model.new_bool_var(f"moved{p}")
            for b in options:
                v = self.x[p, b]
                if b in blocks:
                    self.model.add_implication(v.Not(), changed)
                else:
                    self.model.add_implication(v, changed)
            moved.append(changed)
        return sum(moved)

    def group_count(self) -> cp_model.LinearExprT:
        return sum(self.y.values())

    def max_load(self) -> cp_model.IntVar:
        per: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for (c, _, _), v in self.y.items():
            per[c].append(v)
        top = self.model.new_int_var(0, max((len(v) for v in per.values()), default=0), "maxload")
        for vs in per.values():
            self.model.add(top >= sum(vs))
        return top

    # -- hints and solutions ---------------------------------------------------------------

    def hint(self, assignment: Assignment) -> None:
        """Suggest a (possibly partial or imperfect) assignment as the starting point."""
        m = self.model
        m.clear_hints()  # type: ignore[no-untyped-call]
        attends = {(p, b) for p, bs in assignment.attends.items() for b in bs}
        for key, v in self.x.items():
            m.add_hint(v, key in attends)
        # Complete the hint (days, met) so that CP-SAT can take it as its first solution.
        for (p, day), v in self.days.items():
            m.add_hint(
                v, any(self.inst.blocks[b].day == day for b in assignment.attends.get(p, []))
            )
        for p, v in self.met.items():
            program = self.inst.programs[self.inst.patients[p].program]
            mine = [self.inst.blocks[b] for b in assignment.attends.get(p, [])]
            minutes = sum(b.minutes for b in mine)
            m.add_hint(
                v, minutes >= program.min_minutes and len({b.day for b in mine}) >= program.min_days
            )
        leads = {(c, g, b) for (g, b), cs in assignment.leads.items() for c in cs}
        for key3, v in self.y.items():
            m.add_hint(v, key3 in leads)
        rooms = {(g, b, k) for (g, b), ks in assignment.rooms.items() for k in ks}
        for key3, v in self.r.items():
            m.add_hint(v, key3 in rooms)

    def read(self, solver: cp_model.CpSolver) -> Assignment:
        attends: dict[int, list[int]] = defaultdict(list)
        for (p, b), v in self.x.items():
            if solver.boolean_value(v):
                attends[p].append(b)
        leads: dict[tuple[int, int], list[int]] = defaultdict(list)
        for (c, g, b), v in self.y.items():
            if solver.boolean_value(v):
                leads[g, b].append(c)
        rooms: dict[tuple[int, int], list[int]] = defaultdict(list)
        for (g, b, k), v in self.r.items():
            if solver.boolean_value(v):
                rooms[g, b].append(k)
        return Assignment(dict(attends), dict(leads), dict(rooms))

    def hint_from_solver(self, solver: cp_model.CpSolver) -> None:
        """Hint every variable (auxiliaries too) with its value in the last solution."""
        m = self.model
        m.clear_hints()  # type: ignore[no-untyped-call]
        proto = m.proto
        for i in range(len(proto.variables)):
            m.add_hint(
                m.get_int_var_from_proto_index(i), solver.value(m.get_int_var_from_proto_index(i))
            )


class _FirstSolution(cp_model.CpSolverSolutionCallback):
    """Notes when CP-SAT reports its first solution, then does nothing (kept cheap: one clock
    read and one comparison per solution)."""

    def __init__(self) -> None:
        super().__init__()
        self.at: float | None = None

    def on_solution_callback(self) -> None:
        if self.at is None:
            self.at = time.monotonic()


SUBSOLVERS = ("max_lp", "reduced_costs", "core", "default_lp", "quick_restart", "no_lp")

_STATUS = {
    cp_model.OPTIMAL: "OPTIMAL",
    cp_model.FEASIBLE: "FEASIBLE",
    cp_model.INFEASIBLE: "INFEASIBLE",
    cp_model.MODEL_INVALID: "MODEL_INVALID",
    cp_model.UNKNOWN: "UNKNOWN",
}


@dataclass
class Stage:
    name: str
    objective: Callable[[], cp_model.LinearExprT]  # built when the stage starts
    maximize: bool
    share: float  # of the time left when the stage starts
    gap: float = 0.0  # relative gap at which the stage may stop
    cap: float | None = None  # at most this share of the whole time limit


def solve_stages(
    cm: CountModel,
    stages: Sequence[Stage],
    *,
    deadline: float,
    time_limit: float,
    workers: int,
    progress: Callable[[str], None],
    seed: int = 0,
) -> tuple[list[StageResult], Assignment | None]:
    """Solve ``stages`` lexicographically; return per-stage results and the last solution."""
    results: list[StageResult] = []
    best: Assignment | None = None
    for i, stage in enumerate(stages):
        left = deadline - time.monotonic()
        if left <= 0.05:
            break
        is_last = i == len(stages) - 1
        limit = left if is_last else max(0.05, left * stage.share)
        if stage.cap is not None:
            limit = min(limit, max(0.05, stage.cap * time_limit))
        expr = stage.objective()
        if stage.maximize:
            cm.model.maximize(expr)
        else:
            cm.model.minimize(expr)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = workers
        solver.parameters.max_time_in_seconds = limit
        solver.parameters.random_seed = seed
        solver.parameters.relative_gap_limit = stage.gap
        # With few workers CP-SAT runs one full-problem search plus LNS. Its default search
        # ("default_lp") uses a light LP; "max_lp" (the full linear relaxation of the count
        # constraints) proves both stages many times faster on these models (measured: 1000
        # patients, first stage 7 s instead of no proof in 40 s; second stage 7 s).
        solver.parameters.subsolvers.extend(SUBSOLVERS)
        started = time.monotonic()
        first = _FirstSolution() if i == 0 else None
        status = solver.solve(cm.model, first)
        seconds = time.monotonic() - started
        name = _STATUS.get(status, str(status))
        solved = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        result = StageResult(
            name=stage.name,
            status=name,
            objective=solver.objective_value if solved else None,
            bound=solver.best_objective_bound if solved else None,
            seconds=seconds,
            first_at=(first.at or time.monotonic()) if first is not None and solved else None,
        )
        results.append(result)
        progress(
            f"{stage.name}: {name.lower()} objective {result.objective} bound {result.bound} "
            f"in {seconds:.2f}s"
        )
        if not solved:
            break
        best = cm.read(solver)
        value = round(solver.objective_value)
        # Keep this stage's achievement in every later stage.
        if isinstance(expr, int):
            pass
        elif stage.maximize:
            cm.model.add(expr >= value)
        else:
            cm.model.add(expr <= value)
        cm.hint_from_solver(solver)
    return results, best
