"""The weekly scheduling solver (pure; no database).

Every solver output goes through the independent validator; on tiny random instances the number
of patients reaching the minimum, the preference violations and the repair churn are compared with
a brute force written here, which shares no code with the model.
"""

from __future__ import annotations

import copy
import itertools
import json
from functools import cache
from io import StringIO
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from openiop.scheduling.solver import InstanceError, check_solution, parse_instance, solve
from openiop.scheduling.solver.instance import solution_schema
from openiop.scheduling.solver.split import split_sizes

DOCS = Path(__file__).resolve().parents[3] / "docs" / "scheduling"
EXAMPLE = DOCS / "example-instance.json"
FAST = {"time_limit": 5.0, "workers": 2}


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text())


def solved(instance: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    solution = solve(instance, **{**FAST, **kwargs})
    assert check_solution(instance, solution) == []
    return solution


def patient(solution: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in solution["patients"] if p["id"] == pid)


# -- the example and the contract -------------------------------------------------------------


def test_example_solves_to_a_valid_optimal_schedule():
    instance = example()
    solution = solved(instance)
    jsonschema.validate(solution, solution_schema())
    assert solution["status"] == "optimal"
    assert [p["id"] for p in solution["patients"]] == [p["id"] for p in instance["patients"]]
    metrics = solution["metrics"]
    assert metrics["patients_meeting_minimum"] >= 4
    assert metrics["stage1_objective"] == metrics["stage1_bound"]
    assert metrics["objective"] == metrics["bound"] == metrics["preference_violations"]
    for group in solution["groups"]:
        assert group["id"].startswith(f"{group['block']}/{group['program']}/")


def test_docs_schemas_are_the_ones_the_package_ships():
    shipped = Path(__file__).resolve().parents[1] / "solver" / "schemas"
    for name in ("instance.schema.json", "solution.schema.json"):
        assert json.loads((DOCS / name).read_text()) == json.loads((shipped / name).read_text())


def test_every_unmet_patient_gets_a_reason_and_met_ones_none():
    solution = solved(example())
    for entry in solution["patients"]:
        assert (entry["reason"] is None) == entry["meets_minimum"]


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda d: d.pop("week_start"), "$", "missing required field 'week_start'"),
        (
            lambda d: d["patients"][0]["available_blocks"].append("sun-midnight"),
            "$.patients[0].available_blocks[8]",
            "unknown block 'sun-midnight'",
        ),
        (
            lambda d: d["patients"].append(copy.deepcopy(d["patients"][0])),
            "$.patients[12].id",
            "duplicate id 'p-1'",
        ),
        (
            lambda d: d["blocks"][0].update(start="25:00"),
            "$.blocks[0].start",
            "'25:00' is not a time of day",
        ),
        (
            lambda d: d["clinicians"][0]["programs"].append("adult-night"),
            "$.clinicians[0].programs[1]",
            "unknown program 'adult-night'",
        ),
        (lambda d: d["patients"][2].update(program=7), "$.patients[2].program", "not of type"),
        (
            lambda d: d["programs"][0].update(min_minutes=2000),
            "$.programs[0].min_minutes",
            "above the maximum",
        ),
        (lambda d: d.update(timezone="Mars/Olympus"), "$.timezone", "unknown time zone"),
    ],
    ids=[
        "missing",
        "unknown-block",
        "duplicate",
        "bad-time",
        "unknown-program",
        "type",
        "min",
        "tz",
    ],
)
def test_bad_instance_is_refused_with_its_json_path(change, path, words):
    instance = example()
    change(instance)
    with pytest.raises(InstanceError) as caught:
        solve(instance, **FAST)
    assert caught.value.path == path
    assert words in caught.value.message


def test_validator_notices_broken_rules():
    instance = example()
    solution = solved(instance)
    broken = copy.deepcopy(solution)
    group = broken["groups"][0]
    group["patients"] = group["patients"][:1]  # below group_min
    other = broken["groups"][1]
    other["block"] = group["block"]  # the same clinician or room twice at once
    problems = check_solution(instance, broken)
    assert any("outside" in p for p in problems)
    assert any("reported" in p for p in problems)  # minutes no longer add up
    assert any("metrics" in p for p in problems)


# -- reasons ----------------------------------------------------------------------------------


def evening_instance(**program: Any) -> dict[str, Any]:
    days = ["mon", "tue", "wed", "thu"]
    return {
        "format": "openiop-schedule-instance/1",
        "week_start": "2026-11-30",
        "timezone": "America/Chicago",
        "blocks": [
            {"id": f"{d}-eve", "day": i, "start": "18:00", "minutes": 180, "part_of_day": "evening"}
            for i, d in enumerate(days)
        ],
        "rooms": [{"id": "room-1", "site": "main", "capacity": 3}],
        "programs": [
            {
                "id": "virtual",
                "modality": "virtual",
                "min_minutes": 540,
                "max_minutes": 1140,
                "min_days": 3,
                "group_min": 1,
                "group_max": 12,
                "required_credentials": ["masters"],
                **program,
            }
        ],
        "clinicians": [
            {
                "id": "c-1",
                "credentials": ["masters"],
                "programs": ["virtual"],
                "max_groups": 5,
                "available": [
                    {"block": f"{d}-eve", "modality": program.get("modality", "virtual")}
                    for d in days
                ],
            }
        ],
        "patients": [],
    }


def test_reason_available_on_only_two_days():
    solution = solved(example())
    assert patient(solution, "p-3")["reason"] == (
        "available on only two days; the program needs three"
    )


def test_reason_no_clinician_for_the_virtual_program_on_some_evenings():
    instance = evening_instance()
    clinician = instance["clinicians"][0]
    clinician["available"] = [
        a for a in clinician["available"] if a["block"] in ("mon-eve", "wed-eve")
    ]
    # A second clinician is there on Tuesday and Thursday, but without the credential.
    instance["clinicians"].append(
        {
            "id": "c-2",
            "credentials": ["bachelors"],
            "programs": ["virtual"],
            "max_groups": 5,
            "available": [
                {"block": "tue-eve", "modality": "virtual"},
                {"block": "thu-eve", "modality": "virtual"},
            ],
        }
    )
    instance["patients"] = [
        {
            "id": "p-1",
            "program": "virtual",
            "available_blocks": ["mon-eve", "tue-eve", "wed-eve", "thu-eve"],
        }
    ]
    solution = solved(instance)
    assert patient(solution, "p-1")["reason"] == (
        "no clinician for the virtual program on Tuesday and Thursday evenings"
    )
    assert solution["metrics"]["reachable"] == 0


def test_reason_evening_groups_full():
    instance = evening_instance(
        modality="in_person", site="main", group_max=3, required_credentials=[]
    )
    instance["programs"][0]["id"] = "adult-eve"
    instance["clinicians"][0]["programs"] = ["adult-eve"]
    everyone = ["mon-eve", "tue-eve", "wed-eve"]
    instance["patients"] = [
        {"id": f"p-{i}", "program": "adult-eve", "available_blocks": everyone} for i in range(4)
    ]
    solution = solved(instance)
    assert solution["metrics"]["patients_meeting_minimum"] == 3
    assert solution["status"] == "optimal"
    unmet = [p for p in solution["patients"] if not p["meets_minimum"]]
    assert len(unmet) == 1
    assert unmet[0]["reason"] == "evening groups full"


def test_reason_too_few_hours():
    instance = evening_instance()
    instance["patients"] = [
        {"id": "p-1", "program": "virtual", "available_blocks": ["mon-eve", "tue-eve"]}
    ]
    instance["programs"][0]["min_days"] = 2
    solution = solved(instance)
    assert patient(solution, "p-1")["reason"] == (
        "available for only 6.0 hours a week without overlaps; the program needs 9.0 hours"
    )


# -- the command --------------------------------------------------------------------------------


def test_command_prints_a_valid_solution(tmp_path):
    out, err = StringIO(), StringIO()
    call_command(
        "schedule",
        "solve",
        "--instance",
        str(EXAMPLE),
        "--time-limit",
        "5",
        "--check",
        stdout=out,
        stderr=err,
    )
    solution = json.loads(out.getvalue())
    assert check_solution(example(), solution) == []
    assert "keeps every hard rule" in err.getvalue()
    assert "meeting:" in err.getvalue()


def test_command_refuses_a_bad_instance_with_exit_2(tmp_path):
    instance = example()
    instance["blocks"][3]["start"] = "25:00"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(instance))
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as caught:
        call_command("schedule", "solve", "--instance", str(path), stdout=out, stderr=err)
    assert caught.value.code == 2
    assert err.getvalue().strip() == (
        "error: $.blocks[3].start: '25:00' is not a time of day (HH:MM, 00:00 to 23:59)"
    )
    assert out.getvalue() == ""


def test_command_refuses_invalid_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"format": ')
    err = StringIO()
    with pytest.raises(SystemExit) as caught:
        call_command("schedule", "solve", "--instance", str(path), stdout=StringIO(), stderr=err)
    assert caught.value.code == 2
    assert "not valid JSON" in err.getvalue()


# -- splitting ----------------------------------------------------------------------------------


@given(
    caps=st.lists(st.integers(3, 12), min_size=1, max_size=5),
    data=st.data(),
)
def test_split_sizes_fit_rooms_and_stay_even(caps, data):
    total = data.draw(st.integers(3 * len(caps), sum(caps)))
    wanted = data.draw(st.lists(st.integers(0, 12), min_size=len(caps), max_size=len(caps)))
    sizes = split_sizes(total, caps, 3, wanted)
    assert sum(sizes) == total
    assert all(3 <= s <= c for s, c in zip(sizes, caps, strict=True))
    if not any(wanted):
        # Without anyone to keep in place, sizes differ by one at most unless a room is full.
        assert all(s == c or s >= max(sizes) - 1 for s, c in zip(sizes, caps, strict=True))


# -- random tiny instances against brute force ---------------------------------------------------

STARTS = ["09:00", "10:30", "13:00", "23:00"]


@st.composite
def tiny_instances(
    draw: st.DrawFn,
    max_patients: int = 8,
    max_blocks: int = 4,
    min_patients: int = 0,
    generous: bool = False,
) -> dict[str, Any]:
    """Random small instances; ``generous`` staffs them well, so that most patients get seats."""
    n_blocks = draw(st.integers(2, max_blocks))
    blocks = [
        {
            "id": f"b{i}",
            "day": draw(st.integers(0, 2)),
            "start": draw(st.sampled_from(STARTS)),
            "minutes": draw(st.sampled_from([60, 120, 180])),
        }
        for i in range(n_blocks)
    ]
    block_ids = [b["id"] for b in blocks]
    rooms = [
        {
            "id": f"r{i}",
            "site": "s1" if generous else draw(st.sampled_from(["s1", "s1", "s2"])),
            "capacity": draw(st.integers(2 if generous else 1, 4)),
        }
        for i in range(draw(st.integers(1, 2)))
    ]
    programs = []
    for i in range(draw(st.integers(1, 2))):
        low = draw(st.sampled_from([0, 60, 120, 180] if generous else [0, 60, 120, 180, 240]))
        gmin = draw(st.sampled_from([1, 2] if generous else [1, 1, 2, 3]))
        programs.append(
            {
                "id": f"g{i}",
                "modality": draw(st.sampled_from(["in_person", "virtual"])),
                "site": "s1",
                "min_minutes": low,
                "max_minutes": low + draw(st.sampled_from([0, 60, 180, 360])),
                "min_days": draw(st.sampled_from([0, 1, 1, 2])),
                "group_min": gmin,
                "group_max": gmin + draw(st.integers(0, 2)),
                "required_credentials": draw(st.sampled_from([[], ["masters"]])),
            }
        )
    program_ids = [p["id"] for p in programs]
    slots = [(b, m) for b in block_ids for m in ("in_person", "virtual")]
    clinicians = [
        {
            "id": f"c{i}",
            "credentials": ["masters"]
            if generous
            else draw(st.sampled_from([[], ["masters"], ["masters"]])),
            "programs": program_ids
            if generous
            else draw(st.sampled_from([program_ids, program_ids[:1], program_ids[-1:]])),
            "max_groups": draw(st.integers(1 if generous else 0, 3)),
            "available": [
                {"block": b, "modality": m}
                for b, m in (
                    [s for s in slots if draw(st.integers(0, 5))]
                    if generous
                    else draw(st.lists(st.sampled_from(slots), unique=True, min_size=2, max_size=8))
                )
            ],
        }
        for i in range(draw(st.integers(1, 3)))
    ]
    patients = []
    for i in range(draw(st.integers(min_patients, max_patients))):
        available = draw(st.lists(st.sampled_from(block_ids), unique=True, min_size=1))
        patients.append(
            {
                "id": f"p{i}",
                "program": draw(st.sampled_from(program_ids)),
                "available_blocks": available,
                "preferred_blocks": draw(
                    st.lists(st.sampled_from(block_ids), unique=True, max_size=2)
                ),
                "current_groups": [],
            }
        )
    return {
        "format": "openiop-schedule-instance/1",
        "week_start": "2026-11-30",
        "timezone": "UTC",
        "blocks": blocks,
        "rooms": rooms,
        "programs": programs,
        "clinicians": clinicians,
        "patients": patients,
    }


def _span(block: dict[str, Any]) -> tuple[int, int]:
    hh, mm = block["start"].split(":")
    return block["day"] * 1440 + int(hh) * 60 + int(mm), block["minutes"]


def _clash(a: dict[str, Any], b: dict[str, Any]) -> bool:
    (sa, la), (sb, lb) = _span(a), _span(b)
    week = 7 * 1440
    return a is b or any(sa < sb + k + lb and sb + k < sa + la for k in (-week, 0, week))


class BruteForce:
    """Exhaustive search over every patient's block choice and every clinician/room pick."""

    def __init__(self, instance: dict[str, Any]) -> None:
        self.inst = instance
        self.blocks = {b["id"]: b for b in instance["blocks"]}
        self.programs = {p["id"]: p for p in instance["programs"]}
        self.order = [(g, b) for g in self.programs for b in self.blocks]

    def options(self, p: dict[str, Any]) -> list[frozenset[str]]:
        program = self.programs[p["program"]]
        avail = list(dict.fromkeys(p["available_blocks"]))
        out = []
        for k in range(len(avail) + 1):
            for combo in itertools.combinations(avail, k):
                chosen = [self.blocks[b] for b in combo]
                if any(_clash(x, y) for x, y in itertools.combinations(chosen, 2)):
                    continue
                if sum(b["minutes"] for b in chosen) <= program["max_minutes"]:
                    out.append(frozenset(combo))
        return out

    def meets(self, p: dict[str, Any], blocks: frozenset[str]) -> bool:
        program = self.programs[p["program"]]
        minutes = sum(self.blocks[b]["minutes"] for b in blocks)
        days = len({self.blocks[b]["day"] for b in blocks})
        return minutes >= program["min_minutes"] and days >= program["min_days"]

    def feasible(self, counts: tuple[int, ...]) -> bool:
        return self._feasible(counts)

    @cache  # noqa: B019 - one brute force object per test example
    def _feasible(self, counts: tuple[int, ...]) -> bool:
        needs = [(g, b, a) for (g, b), a in zip(self.order, counts, strict=True) if a]
        return self._place(needs, 0, (), ())

    def _sizes_ok(self, a: int, caps: list[int], gmin: int) -> bool:
        reach = {0}
        for cap in caps:
            reach = {t + s for t in reach for s in range(gmin, cap + 1) if t + s <= a}
        return a in reach

    def _place(self, needs, i, led, hosted) -> bool:  # led/hosted: ((who, block), ...)
        if i == len(needs):
            return True
        g, b, a = needs[i]
        program, block = self.programs[g], self.blocks[b]
        leaders = [
            c
            for c in self.inst["clinicians"]
            if g in c["programs"]
            and set(program["required_credentials"]) <= set(c["credentials"])
            and {"block": b, "modality": program["modality"]} in c["available"]
            and not any(w == c["id"] and _clash(self.blocks[x], block) for w, x in led)
        ]
        rooms = [
            r
            for r in self.inst["rooms"]
            if r["site"] == program.get("site")
            and not any(w == r["id"] and _clash(self.blocks[x], block) for w, x in hosted)
        ]
        for n in range(1, a + 1):
            for chosen in itertools.combinations(leaders, n):
                if any(
                    sum(1 for w, _ in led if w == c["id"]) + 1 > c["max_groups"] for c in chosen
                ):
                    continue
                new_led = led + tuple((c["id"], b) for c in chosen)
                if program["modality"] == "virtual":
                    caps = [program["group_max"]] * n
                    if self._sizes_ok(a, caps, program["group_min"]) and self._place(
                        needs, i + 1, new_led, hosted
                    ):
                        return True
                    continue
                for picked in itertools.combinations(rooms, n):
                    caps = [min(r["capacity"], program["group_max"]) for r in picked]
                    if self._sizes_ok(a, caps, program["group_min"]) and self._place(
                        needs, i + 1, new_led, hosted + tuple((r["id"], b) for r in picked)
                    ):
                        return True
        return False

    def best(self, current: dict[str, frozenset[str]] | None = None) -> tuple[int, int, int]:
        """Lexicographic best (met, -churn, -preference violations) over all schedules."""
        patients = self.inst["patients"]
        choices = [self.options(p) for p in patients]
        index = {gb: i for i, gb in enumerate(self.order)}
        best: tuple[int, int, int] | None = None
        for combo in itertools.product(*choices):
            counts = [0] * len(self.order)
            for p, blocks in zip(patients, combo, strict=True):
                for b in blocks:
                    counts[index[p["program"], b]] += 1
            met = sum(self.meets(p, bl) for p, bl in zip(patients, combo, strict=True))
            churn = 0
            if current is not None:
                churn = sum(
                    1
                    for p, bl in zip(patients, combo, strict=True)
                    if p["id"] in current and current[p["id"]] != bl
                )
            prefs = sum(
                1
                for p, bl in zip(patients, combo, strict=True)
                if p["preferred_blocks"]
                for b in bl
                if b not in p["preferred_blocks"]
            )
            key = (met, -churn, -prefs)
            if best is not None and key <= best:
                continue
            if self.feasible(tuple(counts)):
                best = key
        assert best is not None  # the empty schedule is always possible
        return best

    def size(self) -> int:
        total = 1
        for p in self.inst["patients"]:
            total *= len(self.options(p))
        return total


def blocks_of(solution: dict[str, Any]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for g in solution["groups"]:
        for pid in g["patients"]:
            out.setdefault(pid, set()).add(g["block"])
    return {k: frozenset(v) for k, v in out.items()}


RANDOM = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@RANDOM
@given(st.one_of(tiny_instances(), tiny_instances(generous=True)))
def test_random_instances_keep_every_hard_rule(instance):
    parse_instance(instance)
    solution = solved(instance, time_limit=3.0)
    assert solution["status"] in ("optimal", "feasible")
    assert len(solution["patients"]) == len(instance["patients"])


@RANDOM
@given(
    st.one_of(
        tiny_instances(max_patients=4, max_blocks=3, min_patients=1),
        tiny_instances(max_patients=4, max_blocks=3, min_patients=1, generous=True),
    )
)
def test_random_tiny_instances_reach_the_brute_force_optimum(instance):
    brute = BruteForce(instance)
    if brute.size() > 5000:
        return  # too big to enumerate in a unit test
    met, _, prefs = brute.best()
    event(f"brute force: {met} of {len(instance['patients'])} meet the minimum")
    solution = solved(instance, time_limit=3.0)
    assert solution["status"] == "optimal"
    assert solution["metrics"]["patients_meeting_minimum"] == met
    assert solution["metrics"]["preference_violations"] == -prefs


@RANDOM
@given(tiny_instances(max_patients=4, max_blocks=3, min_patients=2, generous=True), st.data())
def test_repair_moves_no_more_patients_than_brute_force(instance, data):
    before = solved(instance, time_limit=3.0)
    placed = blocks_of(before)
    if not placed:
        return
    week2 = copy.deepcopy(instance)
    current: dict[str, list[str]] = {}
    for g in before["groups"]:
        for pid in g["patients"]:
            current.setdefault(pid, []).append(g["id"])
    for p in week2["patients"]:
        p["current_groups"] = current.get(p["id"], [])
    # One placed patient loses one of their blocks (work hours changed).
    who = data.draw(st.sampled_from(sorted(placed)))
    lost = data.draw(st.sampled_from(sorted(placed[who])))
    changed = next(p for p in week2["patients"] if p["id"] == who)
    changed["available_blocks"] = [b for b in changed["available_blocks"] if b != lost]
    brute = BruteForce(week2)
    if brute.size() > 5000:
        return
    # Patients placed nowhere before have no current groups: they are new, not unaffected.
    unaffected = {pid: blocks for pid, blocks in placed.items() if pid != who}
    met, churn, _ = brute.best(unaffected)
    event(f"brute force: churn {-churn}, {met} meet the minimum")
    repaired = solved(week2, time_limit=3.0, repair=True)
    assert repaired["metrics"]["patients_meeting_minimum"] == met
    assert repaired["metrics"]["churn"] == -churn
    after = blocks_of(repaired)
    moved = sum(1 for pid, bl in unaffected.items() if after.get(pid, frozenset()) != bl)
    assert moved == -churn


def test_blocks_past_midnight_overlap_the_next_morning():
    instance = evening_instance()
    instance["blocks"] = [
        {"id": "sun-late", "day": 6, "start": "23:00", "minutes": 120},
        {"id": "mon-early", "day": 0, "start": "00:30", "minutes": 60},
        {"id": "mon-late", "day": 0, "start": "22:00", "minutes": 60},
        {"id": "tue-early", "day": 1, "start": "00:00", "minutes": 60},
    ]
    instance["clinicians"][0]["available"] = []
    inst = parse_instance(instance)
    by_id = inst.block_by_id()
    assert by_id["mon-early"] in inst.overlaps[by_id["sun-late"]]
    assert by_id["tue-early"] not in inst.overlaps[by_id["mon-late"]]
    assert (by_id["sun-late"], by_id["mon-early"]) in {tuple(sorted(c)) for c in inst.cliques}


def test_repair_without_changes_keeps_every_group():
    instance = example()
    first = solved(instance)
    current: dict[str, list[str]] = {}
    for g in first["groups"]:
        for pid in g["patients"]:
            current.setdefault(pid, []).append(g["id"])
    for p in instance["patients"]:
        p["current_groups"] = current.get(p["id"], [])
    again = solved(instance, repair=True)
    assert again["metrics"]["churn"] == 0
    assert again["metrics"]["affected"] == 0
    kept: dict[str, list[str]] = {}
    for g in again["groups"]:
        for pid in g["patients"]:
            kept.setdefault(pid, []).append(g["id"])
    assert {k: sorted(v) for k, v in kept.items()} == {k: sorted(v) for k, v in current.items()}


def test_repair_after_a_clinician_falls_ill_moves_only_their_patients():
    instance = example()
    first = solved(instance)
    current: dict[str, list[str]] = {}
    for g in first["groups"]:
        for pid in g["patients"]:
            current.setdefault(pid, []).append(g["id"])
    for p in instance["patients"]:
        p["current_groups"] = current.get(p["id"], [])
    sick = first["groups"][0]["clinician"]
    for c in instance["clinicians"]:
        if c["id"] == sick:
            c["available"] = []
    again = solved(instance, repair=True)
    assert (
        again["metrics"]["patients_meeting_minimum"]
        >= (solved(instance)["metrics"]["patients_meeting_minimum"])
    )
    assert all(g["clinician"] != sick for g in again["groups"])
    assert again["metrics"]["churn"] == again["metrics"]["churn_bound"]


# -- rooms already booked, new admissions, rooms closing, first solution ----------------------


def clinic_instance(patients: int = 6) -> dict[str, Any]:
    """Four in-person evenings, two rooms of six, two clinicians, patients free every evening."""
    days = ["mon", "tue", "wed", "thu"]
    return {
        "format": "openiop-schedule-instance/1",
        "week_start": "2026-11-30",
        "timezone": "America/Chicago",
        "blocks": [
            {"id": f"{d}-eve", "day": i, "start": "18:00", "minutes": 180, "part_of_day": "evening"}
            for i, d in enumerate(days)
        ],
        "rooms": [
            {"id": "room-a", "site": "main", "capacity": 6},
            {"id": "room-b", "site": "main", "capacity": 6},
        ],
        "programs": [
            {
                "id": "eve",
                "modality": "in_person",
                "site": "main",
                "min_minutes": 540,
                "max_minutes": 540,
                "min_days": 3,
                "group_min": 3,
                "group_max": 6,
                "required_credentials": [],
            }
        ],
        "clinicians": [
            {
                "id": f"c-{n}",
                "programs": ["eve"],
                "max_groups": 4,
                "available": [{"block": f"{d}-eve", "modality": "in_person"} for d in days],
            }
            for n in (1, 2)
        ],
        "patients": [
            {"id": f"p-{n}", "program": "eve", "available_blocks": [f"{d}-eve" for d in days]}
            for n in range(patients)
        ],
    }


def held_groups(solution: dict[str, Any]) -> dict[str, list[str]]:
    held: dict[str, list[str]] = {}
    for g in solution["groups"]:
        for pid in g["patients"]:
            held.setdefault(pid, []).append(g["id"])
    return held


def test_a_room_booked_elsewhere_is_not_used_in_that_block():
    instance = clinic_instance()
    instance["rooms"][0]["unavailable_blocks"] = ["mon-eve", "tue-eve", "wed-eve", "thu-eve"]
    parse_instance(instance)  # the extension field is valid under the shared schema
    solution = solved(instance)
    assert solution["metrics"]["patients_meeting_minimum"] == 6
    assert {g["room"] for g in solution["groups"]} == {"room-b"}
    # The validator refuses a schedule that puts a group in the booked room.
    broken = copy.deepcopy(solution)
    broken["groups"][0]["room"] = "room-a"
    assert any("already booked" in p for p in check_solution(instance, broken))


def test_a_block_whose_only_room_is_booked_elsewhere_is_closed():
    instance = clinic_instance()
    instance["rooms"] = [{"id": "room-a", "site": "main", "capacity": 6}]
    instance["rooms"][0]["unavailable_blocks"] = ["mon-eve"]
    solution = solved(instance)
    assert solution["metrics"]["patients_meeting_minimum"] == 6
    assert all(g["block"] != "mon-eve" for g in solution["groups"])


def test_a_bad_room_unavailable_block_is_refused_with_its_path():
    instance = clinic_instance()
    instance["rooms"][1]["unavailable_blocks"] = ["fri-eve"]
    with pytest.raises(InstanceError) as err:
        parse_instance(instance)
    assert err.value.path == "$.rooms[1].unavailable_blocks[0]"


def test_repair_places_a_new_admission_without_counting_churn():
    instance = clinic_instance(patients=5)
    first = solved(instance)
    held = held_groups(first)
    for p in instance["patients"]:
        p["current_groups"] = held.get(p["id"], [])
    # The newcomer is free on three evenings that already have a group, so they can join.
    meeting = sorted({g["block"] for g in first["groups"]})[:3]
    assert len(meeting) == 3
    instance["patients"].append({"id": "p-new", "program": "eve", "available_blocks": meeting})
    again = solved(instance, repair=True)
    assert patient(again, "p-new")["meets_minimum"] is True
    assert again["metrics"]["new_patients"] == 1
    assert again["metrics"]["affected"] == 0
    assert again["metrics"]["churn"] == 0
    # Nobody already placed was moved to make room: the same blocks as before.
    before, after = blocks_of(first), blocks_of(again)
    assert all(after[pid] == blocks for pid, blocks in before.items())


def test_repair_after_a_room_closes_moves_nobody_when_another_room_is_free():
    instance = clinic_instance()
    first = solved(instance)
    held = held_groups(first)
    for p in instance["patients"]:
        p["current_groups"] = held.get(p["id"], [])
    closed = first["groups"][0]["room"]
    instance["rooms"] = [r for r in instance["rooms"] if r["id"] != closed]
    again = solved(instance, repair=True)
    assert all(g["room"] != closed for g in again["groups"])
    assert again["metrics"]["patients_meeting_minimum"] == 6
    assert again["metrics"]["churn"] == 0
    assert blocks_of(again) == blocks_of(first)
    # The patients also keep their group ids (the same cohort in the same block).
    assert {k: sorted(v) for k, v in held_groups(again).items()} == {
        k: sorted(v) for k, v in held.items()
    }


def test_repair_after_the_only_room_closes_on_one_evening_moves_only_that_evening():
    instance = clinic_instance()
    instance["rooms"] = [{"id": "room-a", "site": "main", "capacity": 6}]
    first = solved(instance)
    held = held_groups(first)
    for p in instance["patients"]:
        p["current_groups"] = held.get(p["id"], [])
    used = sorted({g["block"] for g in first["groups"]})
    shut = used[0]
    instance["rooms"][0]["unavailable_blocks"] = [shut]
    again = solved(instance, repair=True)
    assert all(g["block"] != shut for g in again["groups"])
    assert again["metrics"]["patients_meeting_minimum"] == 6
    moved = {pid for pid, blocks in blocks_of(first).items() if shut in blocks}
    # Only the patients of the closed evening are affected; everyone else stays put.
    assert again["metrics"]["affected"] == len(moved)
    assert again["metrics"]["churn"] == 0
    for pid, blocks in blocks_of(first).items():
        if pid not in moved:
            assert blocks_of(again)[pid] == blocks


def test_first_solution_time_is_reported_and_not_the_total():
    solution = solved(clinic_instance(patients=12), time_limit=5.0)
    metrics = solution["metrics"]
    assert metrics["first_solution_seconds"] is not None
    assert 0 < metrics["first_solution_seconds"] <= metrics["solve_seconds"]
    # The first solution is found in the first stage, before the later stages run.
    assert metrics["first_solution_seconds"] <= metrics["stage1_seconds"] + 0.5
    jsonschema.validate(solution, solution_schema())


# -- pins (the board's, passed to solve) -------------------------------------------------------


def test_a_pin_is_kept_even_against_everyones_preferences():
    instance = clinic_instance()
    for p in instance["patients"]:
        p["preferred_blocks"] = ["tue-eve", "wed-eve", "thu-eve"]
    free = solved(instance)
    assert all(g["block"] != "mon-eve" for g in free["groups"])
    pinned = solved(instance, pins={"p-0": ["mon-eve", "tue-eve", "wed-eve"]})
    assert blocks_of(pinned)["p-0"] == {"mon-eve", "tue-eve", "wed-eve"}
    assert pinned["metrics"]["pins_not_kept"] == []
    assert pinned["metrics"]["patients_meeting_minimum"] == 6
    # Monday needs a group of at least three, so two others come along: a cost the pin forces.
    assert pinned["metrics"]["preference_violations"] >= 3


def test_a_pin_that_cannot_hold_is_dropped_and_reported():
    instance = clinic_instance()
    instance["patients"][0]["available_blocks"] = ["mon-eve", "tue-eve", "wed-eve", "thu-eve"]
    for p in instance["patients"][1:]:
        p["available_blocks"] = ["tue-eve", "wed-eve", "thu-eve"]
    # Alone on Monday would be a group of one: the pin cannot hold.
    alone = solved(instance, pins={"p-0": ["mon-eve", "tue-eve", "wed-eve"]})
    assert alone["metrics"]["pins_not_kept"] == ["p-0"]
    assert alone["metrics"]["patients_meeting_minimum"] == 6
    # Four evenings of three hours are over the program maximum of nine hours.
    over = solved(instance, pins={"p-1": ["tue-eve", "wed-eve", "thu-eve", "mon-eve"]})
    assert over["metrics"]["pins_not_kept"] == ["p-1"]
    jsonschema.validate(over, solution_schema())
