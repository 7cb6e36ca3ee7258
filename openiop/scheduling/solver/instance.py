"""Read a scheduling instance (format v1): schema check, semantic checks, frozen dataclasses.

``parse_instance(data)`` validates a decoded JSON object against the instance schema that ships
in ``schemas/`` (the same file as ``docs/scheduling/instance.schema.json``), then checks what a
schema cannot say: ids are unique, every reference names something that exists, a program's
minimum fits under its maximum. The first problem raises ``InstanceError(path, message)`` with a
JSON path such as ``$.patients[3].available_blocks[0]``, so a coordinator can find the line.

Times: a block runs from ``day * 1440 + start`` for ``minutes`` minutes on a weekly clock of
10080 minutes. A block that runs past midnight overlaps the next morning's blocks, and a Sunday
night block wraps round to Monday (the schedule repeats every week). Overlap cliques are the sets
of blocks running at one block's start time; because every overlapping pair contains the start
of one of the two blocks, "at most one per clique" is exactly "never two overlapping blocks".
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema  # type: ignore[import-untyped]

WEEK_MINUTES = 7 * 1440
INSTANCE_FORMAT = "openiop-schedule-instance/1"
SOLUTION_FORMAT = "openiop-schedule-solution/1"
IN_PERSON = "in_person"
VIRTUAL = "virtual"
_GROUP_ID = re.compile(r"^(?P<block>.+)/(?P<program>[^/]+)/(?P<n>[1-9][0-9]*)$")


class InstanceError(ValueError):
    """A bad instance: ``path`` is a JSON path (``$.patients[3].program``), ``message`` says why."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Block:
    index: int
    id: str
    day: int
    start: int  # minutes after midnight
    minutes: int
    part_of_day: str | None

    @property
    def begin(self) -> int:
        """Minute of the week the block starts (Monday 00:00 = 0)."""
        return self.day * 1440 + self.start


@dataclass(frozen=True)
class Room:
    index: int
    id: str
    site: str | None
    capacity: int
    unavailable: frozenset[int] = frozenset()  # blocks the room is already booked in


@dataclass(frozen=True)
class Program:
    index: int
    id: str
    population: str | None
    modality: str
    site: str | None
    min_minutes: int
    max_minutes: int
    min_days: int
    group_min: int
    group_max: int
    required_credentials: frozenset[str]

    @property
    def in_person(self) -> bool:
        return self.modality == IN_PERSON


@dataclass(frozen=True)
class Clinician:
    index: int
    id: str
    credentials: frozenset[str]
    programs: frozenset[str]
    max_groups: int
    available: frozenset[tuple[int, str]]  # (block index, modality)


@dataclass(frozen=True)
class Patient:
    index: int
    id: str
    program: int
    available: tuple[int, ...]  # block indexes, sorted, unique
    preferred: frozenset[int]
    current_groups: tuple[str, ...]


@dataclass(frozen=True)
class Instance:
    week_start: str
    timezone: str
    blocks: tuple[Block, ...]
    rooms: tuple[Room, ...]
    programs: tuple[Program, ...]
    clinicians: tuple[Clinician, ...]
    patients: tuple[Patient, ...]
    overlaps: tuple[frozenset[int], ...]  # per block: the other blocks it overlaps
    cliques: tuple[tuple[int, ...], ...]  # overlap cliques (sets of mutually overlapping blocks)

    def block_by_id(self) -> dict[str, int]:
        return {b.id: b.index for b in self.blocks}

    def program_by_id(self) -> dict[str, int]:
        return {p.id: p.index for p in self.programs}

    def can_lead(self, clinician: Clinician, program: Program, block: int) -> bool:
        """The clinician may lead this program's group in this block (ignoring other groups)."""
        return (
            clinician.max_groups > 0
            and program.id in clinician.programs
            and program.required_credentials <= clinician.credentials
            and (block, program.modality) in clinician.available
        )

    def room_free(self, room: Room, block: int) -> bool:
        """The room is not already booked (outside this instance) during the block."""
        return block not in room.unavailable

    def usable_rooms(self, program: Program) -> tuple[Room, ...]:
        """Rooms a group of this program can use: same site, holding at least ``group_min``.

        A room smaller than the group minimum can never hold a valid group of the program, so it
        is left out; with it gone, every count of attendees between ``n * group_min`` and the
        rooms' summed capacity splits into ``n`` valid groups.
        """
        if not program.in_person:
            return ()
        return tuple(
            r for r in self.rooms if r.site == program.site and r.capacity >= program.group_min
        )


@cache
def _schema(name: str) -> dict[str, Any]:
    text = resources.files("openiop.scheduling.solver").joinpath("schemas", name).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def instance_schema() -> dict[str, Any]:
    return _schema("instance.schema.json")


def solution_schema() -> dict[str, Any]:
    return _schema("solution.schema.json")


def json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        missing = [
            str(name)
            for name in error.validator_value
            if isinstance(error.instance, dict) and name not in error.instance
        ]
        return f"missing required field {missing[0]!r}" if missing else error.message
    if error.validator == "pattern" and error.schema.get("pattern", "").startswith("^([01]"):
        return f"{error.instance!r} is not a time of day (HH:MM, 00:00 to 23:59)"
    if error.validator == "const":
        return f"expected {error.validator_value!r}, got {error.instance!r}"
    return str(error.message)


def check_schema(data: Any, schema: Mapping[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        assert best is not None
        raise InstanceError(json_path(best.absolute_path), _schema_message(best))


def _unique(items: Sequence[Mapping[str, Any]], section: str) -> dict[str, int]:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        ident = item["id"]
        if ident in seen:
            raise InstanceError(
                f"$.{section}[{i}].id", f"duplicate id {ident!r} (also {section}[{seen[ident]}])"
            )
        seen[ident] = i
    return seen


def _hhmm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def blocks_overlap(a: Block, b: Block) -> bool:
    """Do two blocks share a minute on the repeating weekly clock?"""
    if a.index == b.index:
        return True
    d = (b.begin - a.begin) % WEEK_MINUTES  # b starts d minutes after a (cyclically)
    return d < a.minutes or (WEEK_MINUTES - d) < b.minutes


def _runs_at(block: Block, minute: int) -> bool:
    return (minute - block.begin) % WEEK_MINUTES < block.minutes


def overlap_cliques(blocks: Sequence[Block]) -> tuple[tuple[int, ...], ...]:
    """Maximal-enough cliques: for each block start, the blocks running then (deduplicated)."""
    found: set[tuple[int, ...]] = set()
    for b in blocks:
        found.add(tuple(sorted(o.index for o in blocks if _runs_at(o, b.begin))))
    # Drop cliques contained in another one: they add nothing.
    keep = [c for c in found if not any(c != o and set(c) <= set(o) for o in found)]
    return tuple(sorted(keep))


def parse_group_id(group_id: str) -> tuple[str, str, int] | None:
    m = _GROUP_ID.match(group_id)
    if not m:
        return None
    return m["block"], m["program"], int(m["n"])


def _room_unavailable(room: Mapping[str, Any], i: int, block_ref: Any) -> frozenset[int]:
    """OpenIOP extension of format v1: ``unavailable_blocks`` lists blocks in which the room is
    already booked (sessions outside this instance). Other readers may ignore it; the schema
    allows it because room objects accept extra fields."""
    refs = room.get("unavailable_blocks", [])
    if not isinstance(refs, list) or not all(isinstance(ref, str) for ref in refs):
        raise InstanceError(f"$.rooms[{i}].unavailable_blocks", "expected a list of block ids")
    return frozenset(
        block_ref(ref, f"$.rooms[{i}].unavailable_blocks[{j}]") for j, ref in enumerate(refs)
    )


def parse_instance(data: Any) -> Instance:
    """Validate ``data`` (decoded JSON) and return the frozen instance; raise InstanceError."""
    check_schema(data, instance_schema())
    try:
        zoneinfo.ZoneInfo(data["timezone"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InstanceError("$.timezone", f"unknown time zone {data['timezone']!r}") from None

    block_ids = _unique(data["blocks"], "blocks")
    _unique(data["rooms"], "rooms")
    program_ids = _unique(data["programs"], "programs")
    _unique(data["clinicians"], "clinicians")
    _unique(data["patients"], "patients")

    blocks = tuple(
        Block(
            index=i,
            id=b["id"],
            day=b["day"],
            start=_hhmm(b["start"]),
            minutes=b["minutes"],
            part_of_day=b.get("part_of_day"),
        )
        for i, b in enumerate(data["blocks"])
    )

    def block_ref(ref: str, where: str) -> int:
        if ref not in block_ids:
            raise InstanceError(where, f"unknown block {ref!r}")
        return block_ids[ref]

    rooms = tuple(
        Room(
            index=i,
            id=r["id"],
            site=r.get("site"),
            capacity=r["capacity"],
            unavailable=_room_unavailable(r, i, block_ref),
        )
        for i, r in enumerate(data["rooms"])
    )
    programs = []
    for i, p in enumerate(data["programs"]):
        where = f"$.programs[{i}]"
        if p["min_minutes"] > p["max_minutes"]:
            raise InstanceError(
                f"{where}.min_minutes",
                f"minimum {p['min_minutes']} minutes is above the maximum {p['max_minutes']}",
            )
        if p["group_min"] > p["group_max"]:
            raise InstanceError(
                f"{where}.group_min",
                f"group minimum {p['group_min']} is above the group maximum {p['group_max']}",
            )
        programs.append(
            Program(
                index=i,
                id=p["id"],
                population=p.get("population"),
                modality=p["modality"],
                site=p.get("site"),
                min_minutes=p["min_minutes"],
                max_minutes=p["max_minutes"],
                min_days=p["min_days"],
                group_min=p["group_min"],
                group_max=p["group_max"],
                required_credentials=frozenset(p.get("required_credentials", [])),
            )
        )

    clinicians = []
    for i, c in enumerate(data["clinicians"]):
        for j, prog in enumerate(c["programs"]):
            if prog not in program_ids:
                raise InstanceError(f"$.clinicians[{i}].programs[{j}]", f"unknown program {prog!r}")
        can = frozenset(
            (block_ref(a["block"], f"$.clinicians[{i}].available[{j}].block"), a["modality"])
            for j, a in enumerate(c["available"])
        )
        clinicians.append(
            Clinician(
                index=i,
                id=c["id"],
                credentials=frozenset(c.get("credentials", [])),
                programs=frozenset(c["programs"]),
                max_groups=c["max_groups"],
                available=can,
            )
        )

    patients = []
    for i, p in enumerate(data["patients"]):
        where = f"$.patients[{i}]"
        if p["program"] not in program_ids:
            raise InstanceError(f"{where}.program", f"unknown program {p['program']!r}")
        available = sorted(
            {
                block_ref(ref, f"{where}.available_blocks[{j}]")
                for j, ref in enumerate(p["available_blocks"])
            }
        )
        preferred = frozenset(
            block_ref(ref, f"{where}.preferred_blocks[{j}]")
            for j, ref in enumerate(p.get("preferred_blocks", []))
        )
        current = tuple(p.get("current_groups", []))
        for j, gid in enumerate(current):
            # Blocks or programs that no longer exist are legitimate in repair mode (the patient
            # is then "affected"); an id that is not a group id at all is a mistake.
            if parse_group_id(gid) is None:
                raise InstanceError(
                    f"{where}.current_groups[{j}]",
                    f"{gid!r} is not a group id of the form <block>/<program>/<n>",
                )
        patients.append(
            Patient(
                index=i,
                id=p["id"],
                program=program_ids[p["program"]],
                available=tuple(available),
                preferred=preferred,
                current_groups=current,
            )
        )

    overlaps = tuple(
        frozenset(o.index for o in blocks if o.index != b.index and blocks_overlap(b, o))
        for b in blocks
    )
    return Instance(
        week_start=data["week_start"],
        timezone=data["timezone"],
        blocks=blocks,
        rooms=rooms,
        programs=tuple(programs),
        clinicians=tuple(clinicians),
        patients=tuple(patients),
        overlaps=overlaps,
        cliques=overlap_cliques(blocks),
    )


def load_instance(text: str) -> Instance:
    """Decode JSON text and parse it (a JSON syntax error is an InstanceError at ``$``)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InstanceError("$", f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return parse_instance(data)
