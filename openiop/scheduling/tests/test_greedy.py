"""The greedy baseline keeps every hard rule, judged by the independent bench scorer."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

from openiop.scheduling.solver.greedy import REASON_NOT_PLACED, greedy_solve

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generator import MIXES, generate, generate_planted  # noqa: E402
from bench.score import score  # noqa: E402

SHARED = Path("/work/shared/scheduling")
# The solver package keeps a copy of the contract's schemas; the shared folder is the original.
SCHEMAS = next(
    (d for d in (ROOT / "openiop/scheduling/solver/schemas", SHARED) if d.is_dir()), SHARED
)
EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "scheduling" / "example-instance.json"


@pytest.mark.parametrize("mix", sorted(MIXES))
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("n", [20, 45, 60])
def test_greedy_keeps_every_hard_rule_on_generated_weeks(mix: str, seed: int, n: int) -> None:
    instance = generate(n, seed, mix)
    solution = greedy_solve(instance)
    result = score(instance, solution)
    assert result["hard_violations"] == []
    assert result["inconsistencies"] == []
    assert result["meeting"] <= result["reachable"]


@pytest.mark.parametrize("seed", [4, 5])
def test_greedy_keeps_every_hard_rule_on_planted_weeks(seed: int) -> None:
    instance, _ = generate_planted(60, seed, "standard")
    result = score(instance, greedy_solve(instance))
    assert result["hard_violations"] == []
    assert result["meeting"] > 0


def test_greedy_on_the_example_instance_is_valid_and_explains_misses() -> None:
    instance = json.loads(EXAMPLE.read_text())
    solution = greedy_solve(instance)
    result = score(instance, solution)
    assert result["hard_violations"] == []
    assert [p["id"] for p in solution["patients"]] == [p["id"] for p in instance["patients"]]
    for patient in solution["patients"]:
        assert (patient["reason"] is None) == patient["meets_minimum"]
        if not patient["meets_minimum"]:
            assert patient["reason"] == REASON_NOT_PLACED


def test_greedy_output_matches_the_solution_schema_and_its_own_metrics() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    instance = generate(60, 7)
    solution = greedy_solve(instance)
    jsonschema.validate(solution, json.loads((SCHEMAS / "solution.schema.json").read_text()))
    assert solution["status"] == "feasible"
    meeting = sum(p["meets_minimum"] for p in solution["patients"])
    assert solution["metrics"]["patients_meeting_minimum"] == meeting
    assert solution["metrics"]["objective"] == meeting
    for group in solution["groups"]:
        block, program, number = group["id"].split("/")
        assert (block, program) == (group["block"], group["program"])
        assert int(number) >= 1


def test_greedy_is_deterministic_and_leaves_its_input_alone() -> None:
    instance = generate(60, 3, "evening_heavy")
    before = copy.deepcopy(instance)
    first, second = greedy_solve(instance), greedy_solve(instance)
    assert instance == before
    assert first["groups"] == second["groups"]
    assert first["patients"] == second["patients"]


def test_greedy_places_an_easy_cohort_completely() -> None:
    """Four patients free every weekday morning: one group of four, three days each."""
    days = ["mon", "tue", "wed", "thu", "fri"]
    instance = {
        "format": "openiop-schedule-instance/1",
        "week_start": "2026-11-30",
        "timezone": "America/Chicago",
        "blocks": [
            {"id": f"{d}-am", "day": i, "start": "09:00", "minutes": 180}
            for i, d in enumerate(days)
        ],
        "rooms": [{"id": "r1", "site": "main", "capacity": 10}],
        "programs": [
            {
                "id": "day",
                "modality": "in_person",
                "site": "main",
                "min_minutes": 540,
                "max_minutes": 600,
                "min_days": 3,
                "group_min": 3,
                "group_max": 12,
            }
        ],
        "clinicians": [
            {
                "id": "c1",
                "programs": ["day"],
                "max_groups": 5,
                "available": [{"block": f"{d}-am", "modality": "in_person"} for d in days],
            }
        ],
        "patients": [
            {"id": f"p{i}", "program": "day", "available_blocks": [f"{d}-am" for d in days]}
            for i in range(4)
        ],
    }
    solution = greedy_solve(instance)
    assert score(instance, solution)["hard_violations"] == []
    assert all(p["meets_minimum"] and p["minutes"] == 540 for p in solution["patients"])
    assert len(solution["groups"]) == 3
    assert all(len(g["patients"]) == 4 for g in solution["groups"])


def test_greedy_drops_a_group_that_cannot_reach_its_minimum_size() -> None:
    """Two patients cannot make a group of three: nobody is seated, nobody meets."""
    instance = generate(20, 1)
    instance["patients"] = instance["patients"][:2]
    for patient in instance["patients"]:
        patient["program"] = "virtual-eve"
    solution = greedy_solve(instance)
    assert solution["groups"] == []
    assert not any(p["meets_minimum"] for p in solution["patients"])
