"""Greedy baseline for the weekly schedule, done the way a coordinator does it by hand.

Patients are taken most constrained first (fewest usable blocks). For each one we pick blocks --
preferred ones first, spreading over days while the program's ``min_days`` is not reached, never
two overlapping blocks, never past ``max_minutes`` -- and either join the first group of their
program in that block that still has a seat, or open a new one if a clinician and (in person) a
room are free. A patient who cannot reach the minimum gives their seats back, so a half-placed
patient does not take seats from the next one. Groups below ``group_min`` are then topped up with
patients who can still take the block, and the ones that stay too small are dropped.

The result always keeps every hard rule of format v1; it is the yardstick the CP-SAT solver is
benchmarked against (``bench/scheduler.py``), not a scheduler we ship. Pure Python, no Django,
deterministic for a given instance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

SOLUTION_FORMAT = "openiop-schedule-solution/1"
REASON_NOT_PLACED = "greedy could not place enough sessions"
REASON_UNKNOWN_PROGRAM = "patient's program is not in the instance"
_RESCUE_ROUNDS = 3


@dataclass
class _Block:
    id: str
    index: int
    day: int
    start: int  # minutes from Monday 00:00
    end: int
    minutes: int


@dataclass
class _Program:
    id: str
    modality: str
    site: str | None
    min_minutes: int
    max_minutes: int
    min_days: int
    group_min: int
    group_max: int
    credentials: frozenset[str]


@dataclass
class _Clinician:
    id: str
    programs: frozenset[str]
    credentials: frozenset[str]
    max_groups: int
    available: frozenset[tuple[str, str]]
    blocks: set[str] = field(default_factory=set)
    count: int = 0


@dataclass
class _Room:
    id: str
    site: str | None
    capacity: int
    blocks: set[str] = field(default_factory=set)
    unavailable: frozenset[str] = frozenset()  # already booked outside the instance


@dataclass
class _Group:
    serial: int
    block: str
    program: str
    clinician: int
    room: int | None
    capacity: int
    patients: list[str] = field(default_factory=list)
    alive: bool = True


@dataclass
class _Patient:
    id: str
    index: int
    program: str | None
    available: list[str]
    preferred: frozenset[str]
    seats: dict[str, _Group] = field(default_factory=dict)  # block id -> group


def _minutes_of_day(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


class _Greedy:
    def __init__(self, instance: dict[str, Any]) -> None:
        self.blocks: dict[str, _Block] = {}
        for index, raw in enumerate(instance.get("blocks", [])):
            start = int(raw["day"]) * 1440 + _minutes_of_day(str(raw["start"]))
            minutes = int(raw["minutes"])
            self.blocks[str(raw["id"])] = _Block(
                str(raw["id"]), index, int(raw["day"]), start, start + minutes, minutes
            )
        self.overlaps: dict[str, frozenset[str]] = {
            a.id: frozenset(
                b.id for b in self.blocks.values() if a.start < b.end and b.start < a.end
            )
            for a in self.blocks.values()
        }
        self.programs: dict[str, _Program] = {}
        for raw in instance.get("programs", []):
            self.programs[str(raw["id"])] = _Program(
                id=str(raw["id"]),
                modality=str(raw["modality"]),
                site=raw.get("site"),
                min_minutes=int(raw["min_minutes"]),
                max_minutes=int(raw["max_minutes"]),
                min_days=int(raw["min_days"]),
                group_min=int(raw["group_min"]),
                group_max=int(raw["group_max"]),
                credentials=frozenset(raw.get("required_credentials", [])),
            )
        self.rooms = [
            _Room(
                str(raw["id"]),
                raw.get("site"),
                int(raw["capacity"]),
                unavailable=frozenset(raw.get("unavailable_blocks", [])),
            )
            for raw in instance.get("rooms", [])
        ]
        self.clinicians = [
            _Clinician(
                id=str(raw["id"]),
                programs=frozenset(raw.get("programs", [])),
                credentials=frozenset(raw.get("credentials", [])),
                max_groups=int(raw["max_groups"]),
                available=frozenset(
                    (str(slot["block"]), str(slot["modality"])) for slot in raw.get("available", [])
                ),
            )
            for raw in instance.get("clinicians", [])
        ]
        self.patients: list[_Patient] = []
        for index, raw in enumerate(instance.get("patients", [])):
            program_id = str(raw["program"])
            seen: set[str] = set()
            available: list[str] = []
            for block_id in raw.get("available_blocks", []):
                if block_id in self.blocks and block_id not in seen:
                    seen.add(block_id)
                    available.append(block_id)
            self.patients.append(
                _Patient(
                    id=str(raw["id"]),
                    index=index,
                    program=program_id if program_id in self.programs else None,
                    available=available,
                    preferred=frozenset(raw.get("preferred_blocks", [])),
                )
            )
        self.groups: list[_Group] = []
        self.by_slot: dict[tuple[str, str], list[_Group]] = {}
        # Who could lead / where a group of a program could meet, before anyone is booked.
        self._eligible_clinicians: dict[tuple[str, str], list[int]] = {}
        self._eligible_rooms: dict[str, list[int]] = {}
        for program in self.programs.values():
            rooms = [
                i
                for i, room in enumerate(self.rooms)
                if (program.site is None or room.site == program.site)
                and min(room.capacity, program.group_max) >= program.group_min
            ]
            # Largest room first: a group that can grow takes more patients per clinician hour.
            rooms.sort(key=lambda i: (-self.rooms[i].capacity, i))
            self._eligible_rooms[program.id] = rooms
            for block_id in self.blocks:
                self._eligible_clinicians[(block_id, program.id)] = [
                    i
                    for i, c in enumerate(self.clinicians)
                    if program.id in c.programs
                    and program.credentials <= c.credentials
                    and (block_id, program.modality) in c.available
                    and c.max_groups > 0
                ]

    # -- bookkeeping -------------------------------------------------------------------------

    def minutes(self, patient: _Patient) -> int:
        return sum(self.blocks[b].minutes for b in patient.seats)

    def days(self, patient: _Patient) -> int:
        return len({self.blocks[b].day for b in patient.seats})

    def meets(self, patient: _Patient) -> bool:
        if patient.program is None:
            return False
        program = self.programs[patient.program]
        return (
            self.minutes(patient) >= program.min_minutes and self.days(patient) >= program.min_days
        )

    def can_take(self, patient: _Patient, block_id: str) -> bool:
        """The patient may sit in this block: available, no overlap, under the weekly maximum."""
        if patient.program is None or block_id not in self.blocks:
            return False
        if any(b in self.overlaps[block_id] for b in patient.seats):
            return False
        limit = self.programs[patient.program].max_minutes
        return self.minutes(patient) + self.blocks[block_id].minutes <= limit

    def _open_group(self, block_id: str, program_id: str) -> _Group | None:
        program = self.programs[program_id]
        overlapping = self.overlaps[block_id]
        clinician = next(
            (
                i
                for i in self._eligible_clinicians[(block_id, program_id)]
                if self.clinicians[i].count < self.clinicians[i].max_groups
                and not (self.clinicians[i].blocks & overlapping)
            ),
            None,
        )
        if clinician is None:
            return None
        room: int | None = None
        capacity = program.group_max
        if program.modality == "in_person":
            room = next(
                (
                    i
                    for i in self._eligible_rooms[program_id]
                    if not (self.rooms[i].blocks & overlapping)
                    and block_id not in self.rooms[i].unavailable
                ),
                None,
            )
            if room is None:
                return None
            capacity = min(capacity, self.rooms[room].capacity)
            self.rooms[room].blocks.add(block_id)
        self.clinicians[clinician].blocks.add(block_id)
        self.clinicians[clinician].count += 1
        group = _Group(len(self.groups), block_id, program_id, clinician, room, capacity)
        self.groups.append(group)
        self.by_slot.setdefault((block_id, program_id), []).append(group)
        return group

    def _close_group(self, group: _Group) -> None:
        group.alive = False
        clinician = self.clinicians[group.clinician]
        clinician.blocks.discard(group.block)
        clinician.count -= 1
        if group.room is not None:
            self.rooms[group.room].blocks.discard(group.block)
        self.by_slot[(group.block, group.program)].remove(group)

    def joinable(self, block_id: str, program_id: str) -> _Group | None:
        for group in self.by_slot.get((block_id, program_id), []):
            if len(group.patients) < group.capacity:
                return group
        return None

    def seat(self, patient: _Patient, block_id: str, allow_open: bool) -> bool:
        assert patient.program is not None
        group = self.joinable(block_id, patient.program)
        if group is None and allow_open:
            group = self._open_group(block_id, patient.program)
        if group is None:
            return False
        group.patients.append(patient.id)
        patient.seats[block_id] = group
        return True

    def unseat(self, patient: _Patient, block_id: str) -> None:
        group = patient.seats.pop(block_id)
        group.patients.remove(patient.id)
        if not group.patients:
            self._close_group(group)

    # -- the coordinator's passes ------------------------------------------------------------

    def place(self, patient: _Patient) -> None:
        """Add blocks until the patient meets the minimum; give back this attempt's seats if not."""
        if patient.program is None or self.meets(patient):
            return
        program = self.programs[patient.program]
        added: list[str] = []
        tried: set[str] = set()
        while not self.meets(patient):
            used_days = {self.blocks[b].day for b in patient.seats}
            need_days = len(used_days) < program.min_days
            candidates = [
                b for b in patient.available if b not in tried and self.can_take(patient, b)
            ]
            if not candidates:
                break
            candidates.sort(
                key=lambda b: (
                    need_days and self.blocks[b].day in used_days,
                    b not in patient.preferred,
                    self.joinable(b, program.id) is None,
                    self.blocks[b].index,
                )
            )
            block_id = candidates[0]
            tried.add(block_id)
            if self.seat(patient, block_id, allow_open=True):
                added.append(block_id)
        if not self.meets(patient):
            for block_id in added:
                self.unseat(patient, block_id)

    def rescue_small_groups(self) -> None:
        """Top up groups under ``group_min`` with patients who can still take that block."""
        by_program: dict[str, list[_Patient]] = {}
        for patient in self.patients:
            if patient.program is not None:
                by_program.setdefault(patient.program, []).append(patient)
        for group in list(self.groups):
            program = self.programs[group.program]
            if not group.alive or len(group.patients) >= program.group_min:
                continue
            candidates = [
                p
                for p in by_program[group.program]
                if group.block in p.available
                and group.block not in p.seats
                and self.can_take(p, group.block)
            ]
            candidates.sort(key=lambda p: (self.meets(p), group.block not in p.preferred, p.index))
            added: list[_Patient] = []
            for patient in candidates:
                if len(group.patients) >= min(program.group_min, group.capacity):
                    break
                group.patients.append(patient.id)
                patient.seats[group.block] = group
                added.append(patient)
            if len(group.patients) < program.group_min:
                for patient in added:
                    del patient.seats[group.block]
                    group.patients.remove(patient.id)

    def drop_small_groups(self) -> bool:
        dropped = False
        by_id = {p.id: p for p in self.patients}
        for group in list(self.groups):
            if group.alive and len(group.patients) < self.programs[group.program].group_min:
                for patient_id in list(group.patients):
                    self.unseat(by_id[patient_id], group.block)
                dropped = True
        return dropped

    def run(self) -> None:
        order = sorted(self.patients, key=lambda p: (len(p.available), p.index))
        for patient in order:
            self.place(patient)
        for _ in range(_RESCUE_ROUNDS):
            self.rescue_small_groups()
            if not self.drop_small_groups():
                return
            for patient in order:
                self.place(patient)
        self.rescue_small_groups()
        self.drop_small_groups()

    # -- output ------------------------------------------------------------------------------

    def solution(self, seconds: float) -> dict[str, Any]:
        alive = sorted(
            (g for g in self.groups if g.alive),
            key=lambda g: (self.blocks[g.block].index, g.program, g.serial),
        )
        numbers: dict[tuple[str, str], int] = {}
        groups: list[dict[str, Any]] = []
        for group in alive:
            key = (group.block, group.program)
            numbers[key] = numbers.get(key, 0) + 1
            groups.append(
                {
                    "id": f"{group.block}/{group.program}/{numbers[key]}",
                    "block": group.block,
                    "program": group.program,
                    "clinician": self.clinicians[group.clinician].id,
                    "room": None if group.room is None else self.rooms[group.room].id,
                    "patients": list(group.patients),
                }
            )
        patients: list[dict[str, Any]] = []
        meeting = 0
        violations = 0
        for patient in self.patients:
            ok = self.meets(patient)
            meeting += ok
            if patient.preferred:
                violations += sum(1 for b in patient.seats if b not in patient.preferred)
            reason: str | None = None
            if not ok:
                reason = REASON_UNKNOWN_PROGRAM if patient.program is None else REASON_NOT_PLACED
            patients.append(
                {
                    "id": patient.id,
                    "minutes": self.minutes(patient),
                    "days": self.days(patient),
                    "meets_minimum": ok,
                    "reason": reason,
                }
            )
        return {
            "format": SOLUTION_FORMAT,
            "status": "feasible",
            "groups": groups,
            "patients": patients,
            "metrics": {
                "solve_seconds": round(seconds, 3),
                "patients_meeting_minimum": meeting,
                "preference_violations": violations,
                "objective": meeting,
                "bound": None,
            },
        }


def greedy_solve(instance: dict[str, Any]) -> dict[str, Any]:
    """Schedule ``instance`` (format v1) greedily; returns a format-v1 solution, status feasible.

    ``objective`` is the number of patients meeting their minimum; the greedy proves no bound.
    """
    started = time.perf_counter()
    greedy = _Greedy(instance)
    greedy.run()
    return greedy.solution(time.perf_counter() - started)
