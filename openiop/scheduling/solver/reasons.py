"""Why a patient cannot reach the weekly minimum, in words a coordinator understands.

Reachability is checked on the patient alone (other patients ignored): can some set of
non-overlapping blocks give at least ``min_minutes`` on ``min_days`` days without passing
``max_minutes``? It is exact: blocks are split into connected pieces of the overlap graph (one
piece is usually one day), every conflict-free choice inside a piece is enumerated, and pieces are
combined over (days covered, minutes) states.

``explain`` tries the causes in the order a coordinator would fix them:

1. the patient's own availability ("available on only two days; the program needs three");
2. the program's staffing and rooms in the patient's times ("no clinician for the virtual program
   on Tuesday and Thursday evenings");
3. capacity in the finished schedule ("evening groups full"; "too few patients on Monday morning
   to form a group of 3").
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from openiop.scheduling.solver.instance import Block, Instance, Patient, Program

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven")

State = tuple[int, int]  # (bitmask of days covered, minutes)


def _components(inst: Instance, blocks: Collection[int]) -> list[list[int]]:
    todo = set(blocks)
    out = []
    while todo:
        start = todo.pop()
        comp, stack = [start], [start]
        while stack:
            b = stack.pop()
            for o in inst.overlaps[b] & todo:
                todo.discard(o)
                comp.append(o)
                stack.append(o)
        out.append(sorted(comp))
    return out


def _independent_subsets(inst: Instance, comp: Sequence[int]) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = []

    def rec(i: int, chosen: tuple[int, ...]) -> None:
        if i == len(comp):
            out.append(chosen)
            return
        rec(i + 1, chosen)
        b = comp[i]
        if not any(c in inst.overlaps[b] for c in chosen):
            rec(i + 1, (*chosen, b))

    rec(0, ())
    return out


def achievable(inst: Instance, blocks: Collection[int], cap: int | None = None) -> set[State]:
    """Every (days mask, minutes) a conflict-free choice of ``blocks`` can give (minutes <= cap)."""
    states: set[State] = {(0, 0)}
    for comp in _components(inst, blocks):
        options = set()
        for subset in _independent_subsets(inst, comp):
            mask, minutes = 0, 0
            for b in subset:
                mask |= 1 << inst.blocks[b].day
                minutes += inst.blocks[b].minutes
            options.add((mask, minutes))
        states = {
            (m1 | m2, t1 + t2)
            for (m1, t1) in states
            for (m2, t2) in options
            if cap is None or t1 + t2 <= cap
        }
    return states


def meets(program: Program, minutes: int, days: int) -> bool:
    return minutes >= program.min_minutes and days >= program.min_days


def reachable(inst: Instance, program: Program, blocks: Collection[int]) -> bool:
    return any(
        meets(program, t, m.bit_count())
        for m, t in achievable(inst, blocks, cap=program.max_minutes)
    )


def program_blocks(inst: Instance, program: Program) -> frozenset[int]:
    """Blocks in which a group of the program could meet at all (some clinician, some room)."""
    if program.in_person and not inst.usable_rooms(program):
        return frozenset()
    rooms = inst.usable_rooms(program)
    return frozenset(
        b.index
        for b in inst.blocks
        if any(inst.can_lead(c, program, b.index) for c in inst.clinicians)
        and (not program.in_person or any(inst.room_free(r, b.index) for r in rooms))
    )


def patient_blocks(inst: Instance, patient: Patient, open_blocks: Collection[int]) -> list[int]:
    """The patient's available blocks in which their program can meet."""
    return [b for b in patient.available if b in open_blocks]


# -- words -----------------------------------------------------------------------------------


def count_word(n: int) -> str:
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def days_phrase(n: int) -> str:
    return f"{count_word(n)} day{'' if n == 1 else 's'}"


def hours(minutes: int) -> str:
    return f"{minutes / 60:.1f} hours"


def part_of_day(block: Block) -> str:
    if block.part_of_day == "evening":
        return "evening"
    if block.start < 12 * 60:
        return "morning"
    if block.start < 17 * 60:
        return "afternoon"
    return "evening"


def join_words(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def describe_blocks(blocks: Iterable[Block]) -> str:
    """ "Tuesday and Thursday evenings", "Monday morning and Friday afternoon"."""
    by_part: dict[str, list[int]] = {}
    for b in sorted(blocks, key=lambda b: (b.day, b.start)):
        days = by_part.setdefault(part_of_day(b), [])
        if b.day not in days:
            days.append(b.day)
    phrases = []
    for part, days in sorted(by_part.items(), key=lambda kv: kv[1][0]):
        plural = "s" if len(days) > 1 else ""
        phrases.append(f"{join_words([DAY_NAMES[d] for d in days])} {part}{plural}")
    return join_words(phrases)


def _shared_part(blocks: Sequence[Block]) -> str | None:
    parts = {part_of_day(b) for b in blocks}
    return parts.pop() if len(parts) == 1 else None


# -- reasons ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockState:
    """What the finished schedule offers a patient's program in one block."""

    group_sizes: tuple[int, ...]  # sizes of the program's groups there
    seats: int  # free places in those groups
    can_open_group: bool  # a free clinician (under the weekly cap) and a free room exist


def availability_reason(inst: Instance, patient: Patient) -> str | None:
    program = inst.programs[patient.program]
    if not patient.available:
        return "no available times given"
    days = {inst.blocks[b].day for b in patient.available}
    if len(days) < program.min_days:
        return (
            f"available on only {days_phrase(len(days))}; "
            f"the program needs {count_word(program.min_days)}"
        )
    states = achievable(inst, patient.available)
    most = max(t for _, t in states)
    if most < program.min_minutes:
        return (
            f"available for only {hours(most)} a week without overlaps; "
            f"the program needs {hours(program.min_minutes)}"
        )
    if not reachable(inst, program, patient.available):
        return (
            f"available times cannot make {hours(program.min_minutes)} on "
            f"{days_phrase(program.min_days)} without passing the weekly maximum of "
            f"{hours(program.max_minutes)}"
        )
    return None


def staffing_reason(inst: Instance, patient: Patient, open_blocks: Collection[int]) -> str | None:
    program = inst.programs[patient.program]
    if program.in_person and not inst.usable_rooms(program):
        if not any(r.site == program.site for r in inst.rooms):
            return f"no room at site {program.site}"
        return f"no room at site {program.site} holds a group of {program.group_min}"
    usable = patient_blocks(inst, patient, open_blocks)
    if reachable(inst, program, usable):
        return None
    missing = [inst.blocks[b] for b in patient.available if b not in open_blocks]
    return f"no clinician for the {program.id} program on {describe_blocks(missing)}"


def capacity_reason(
    inst: Instance,
    patient: Patient,
    open_blocks: Collection[int],
    states: Mapping[int, BlockState],
    proven: bool,
) -> str:
    program = inst.programs[patient.program]
    usable = [inst.blocks[b] for b in patient_blocks(inst, patient, open_blocks)]
    full, few, seats = [], [], []
    for b in usable:
        st = states.get(b.index, BlockState((), 0, False))
        if st.seats > 0:
            seats.append(b)
        elif st.group_sizes or not st.can_open_group:
            full.append(b)
        else:
            few.append(b)
    parts = []
    if full:
        part = _shared_part(full) if len(full) == len(usable) else None
        parts.append(f"{part} groups full" if part else f"groups full on {describe_blocks(full)}")
    if few:
        parts.append(
            f"too few patients on {describe_blocks(few)} to form a group of {program.group_min}"
        )
    if seats:
        parts.append(
            f"open seats only on {describe_blocks(seats)}, not enough for "
            f"{hours(program.min_minutes)} on {days_phrase(program.min_days)}"
        )
    text = "; ".join(parts) if parts else "no group has room"
    if not proven:
        text += " (the schedule was not proven best within the time limit)"
    return text


def explain(
    inst: Instance,
    patient: Patient,
    open_blocks: Collection[int],
    states: Mapping[int, BlockState],
    proven: bool,
    searched: bool = True,
) -> str:
    """The first cause that applies; ``searched`` is False when no schedule was found in time."""
    return (
        availability_reason(inst, patient)
        or staffing_reason(inst, patient, open_blocks)
        or (
            capacity_reason(inst, patient, open_blocks, states, proven)
            if searched
            else "no schedule was found within the time limit"
        )
    )
