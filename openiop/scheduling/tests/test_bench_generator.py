"""The benchmark's instance generator and independent scorer (bench/generator.py, bench/score.py).

The bench itself is a script (DESIGN.md: speed targets are measured there, not here); these tests
make sure the yardsticks it uses are right.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generator import MIXES, generate, generate_planted, perturb  # noqa: E402
from bench.score import cohort_stability, reachable_patients, score  # noqa: E402

SHARED = Path("/work/shared/scheduling")
# The solver package keeps a copy of the contract's schemas; the shared folder is the original.
SCHEMAS = next(
    (d for d in (ROOT / "openiop/scheduling/solver/schemas", SHARED) if d.is_dir()), SHARED
)


@pytest.fixture(scope="module")
def instance_schema() -> dict[str, Any]:
    return json.loads((SCHEMAS / "instance.schema.json").read_text())


@pytest.mark.parametrize("mix", sorted(MIXES))
def test_generated_weeks_are_valid_instances(mix: str, instance_schema: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    for planted in (False, True):
        instance = generate(80, 11, mix, planted=planted)
        jsonschema.validate(instance, instance_schema)
        assert len(instance["patients"]) == 80
        assert 18 <= len(instance["blocks"]) <= 24
        assert {r["site"] for r in instance["rooms"]} == {"north", "south"}
        assert all(8 <= r["capacity"] <= 14 for r in instance["rooms"])


def test_generator_is_deterministic_per_seed() -> None:
    assert generate(120, 5, "virtual_heavy") == generate(120, 5, "virtual_heavy")
    assert generate_planted(120, 5) == generate_planted(120, 5)
    assert generate(120, 5) != generate(120, 6)


def test_generated_weeks_have_overlapping_blocks_and_realistic_availability() -> None:
    instance = generate(300, 2)
    blocks = {b["id"]: b for b in instance["blocks"]}
    assert "mon-am" in blocks and "mon-eve" in blocks and "mon-aft" in blocks
    assert any(b["day"] == 5 for b in blocks.values())
    programs = {p["id"]: p for p in instance["programs"]}
    for patient in instance["patients"]:
        kind = patient["program"].split("-", 1)[1] if "-" in patient["program"] else ""
        if kind == "adult-eve":  # day workers: evenings and Saturday only
            assert all(
                blocks[b]["part_of_day"] == "evening" or blocks[b]["day"] == 5
                for b in patient["available_blocks"]
            )
        if programs[patient["program"]]["population"] == "adolescent":
            assert all(
                b.endswith("-aft") or blocks[b]["day"] == 5 for b in patient["available_blocks"]
            )
        assert set(patient["preferred_blocks"]) <= set(patient["available_blocks"])
    with_preferences = sum(1 for p in instance["patients"] if p["preferred_blocks"])
    assert 0.3 < with_preferences / 300 < 0.7
    assert any(c["available"][0]["modality"] == "virtual" for c in instance["clinicians"])
    assert 300 / 12 < len(instance["clinicians"]) < 300 / 6


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("mix", sorted(MIXES))
def test_planted_weeks_are_fully_reachable_and_the_planted_schedule_meets_everyone(
    seed: int, mix: str
) -> None:
    instance, hidden = generate_planted(90, seed, mix)
    result = score(instance, hidden)
    assert result["hard_violations"] == []
    assert result["reachable"] == 90
    assert result["meeting"] == 90
    assert result["meeting_pct_all"] == 100.0
    assert result["inconsistencies"] == []


def test_reachable_excludes_patients_free_on_too_few_days() -> None:
    instance = generate(60, 1)
    patient = instance["patients"][0]
    patient["available_blocks"] = [b["id"] for b in instance["blocks"] if b["day"] in (0, 1)]
    assert patient["id"] not in reachable_patients(instance)


def test_reachable_respects_clinician_weekly_caps() -> None:
    """Three sessions need three groups: one clinician allowed two groups a week is not enough."""
    instance, _ = generate_planted(30, 1)
    patient = instance["patients"][0]
    program = next(p for p in instance["programs"] if p["id"] == patient["program"])
    only = instance["clinicians"][0]
    for clinician in instance["clinicians"]:
        clinician["programs"] = [p for p in clinician["programs"] if p != program["id"]]
    only["programs"] = [program["id"]]
    only["credentials"] = sorted(set(program["required_credentials"]))
    only["available"] = [
        {"block": b["id"], "modality": program["modality"]} for b in instance["blocks"]
    ]
    only["max_groups"] = 2
    assert patient["id"] not in reachable_patients(instance)
    only["max_groups"] = 3
    assert patient["id"] in reachable_patients(instance)


# -- the scorer catches broken schedules --------------------------------------------------------


@pytest.fixture(scope="module")
def planted() -> tuple[dict[str, Any], dict[str, Any]]:
    return generate_planted(90, 3)


def _break(planted: tuple[dict[str, Any], dict[str, Any]]) -> tuple[dict, dict]:
    return copy.deepcopy(planted[0]), copy.deepcopy(planted[1])


def _overlapping_pair(instance: dict[str, Any]) -> tuple[str, str]:
    def span(b: dict[str, Any]) -> tuple[int, int]:
        hh, mm = b["start"].split(":")
        start = b["day"] * 1440 + int(hh) * 60 + int(mm)
        return start, start + b["minutes"]

    for a in instance["blocks"]:
        for b in instance["blocks"]:
            (s1, e1), (s2, e2) = span(a), span(b)
            if a["id"] < b["id"] and s1 < e2 and s2 < e1:
                return a["id"], b["id"]
    raise AssertionError("the generator always makes overlapping blocks")


def test_scorer_catches_a_patient_in_overlapping_blocks(planted: Any) -> None:
    instance, solution = _break(planted)
    a, b = _overlapping_pair(instance)
    group = next(g for g in solution["groups"] if g["program"] == "virtual-eve")
    patient = next(p for p in instance["patients"] if p["id"] == group["patients"][0])
    patient["available_blocks"] += [a, b]
    for block in (a, b):
        solution["groups"].append(
            {
                "id": f"{block}/virtual-eve/99",
                "block": block,
                "program": "virtual-eve",
                "clinician": group["clinician"],
                "room": None,
                "patients": [patient["id"]],
            }
        )
    violations = score(instance, solution)["hard_violations"]
    assert any(f"patient {patient['id']} in overlapping" in v for v in violations)


def test_scorer_catches_a_group_that_is_too_big(planted: Any) -> None:
    instance, solution = _break(planted)
    group = solution["groups"][0]
    program = next(p for p in instance["programs"] if p["id"] == group["program"])
    extra = [p["id"] for p in instance["patients"] if p["id"] not in group["patients"]]
    group["patients"] += extra[: program["group_max"] + 1 - len(group["patients"])]
    violations = score(instance, solution)["hard_violations"]
    assert any(f"{group['id']}:" in v and "above group_max" in v for v in violations)


def test_scorer_catches_a_double_booked_clinician(planted: Any) -> None:
    instance, solution = _break(planted)
    first = solution["groups"][0]
    other = next(
        g
        for g in solution["groups"]
        if g["block"] == first["block"] and g["clinician"] != first["clinician"]
    )
    other["clinician"] = first["clinician"]
    violations = score(instance, solution)["hard_violations"]
    assert any(f"clinician {first['clinician']} in overlapping" in v for v in violations)


def test_scorer_catches_a_room_at_the_wrong_site(planted: Any) -> None:
    instance, solution = _break(planted)
    group = next(g for g in solution["groups"] if g["room"] and g["room"].startswith("north"))
    south = next(r for r in instance["rooms"] if r["site"] == "south")
    group["room"] = south["id"]
    violations = score(instance, solution)["hard_violations"]
    assert any(
        f"{group['id']}: room {south['id']} is not at the program's site" in v for v in violations
    )


def test_scorer_catches_a_patient_over_max_minutes(planted: Any) -> None:
    instance, solution = _break(planted)
    for program in instance["programs"]:
        program["max_minutes"] = program["min_minutes"] - 1
    violations = score(instance, solution)["hard_violations"]
    assert any("above max" in v for v in violations)


def test_scorer_catches_rule_breaks_about_availability_credentials_and_lists(planted: Any) -> None:
    instance, solution = _break(planted)
    group = next(g for g in solution["groups"] if g["program"] == "virtual-eve")
    clinician = next(c for c in instance["clinicians"] if c["id"] == group["clinician"])
    clinician["credentials"] = []
    clinician["available"] = [a for a in clinician["available"] if a["block"] != group["block"]]
    patient = next(p for p in instance["patients"] if p["id"] == group["patients"][0])
    patient["available_blocks"].remove(group["block"])
    solution["patients"].pop()
    violations = score(instance, solution)["hard_violations"]
    assert any("lacks credentials" in v for v in violations)
    assert any(f"not available virtual in {group['block']}" in v for v in violations)
    assert any(f"patient {patient['id']} not available" in v for v in violations)
    assert any(v.startswith("patients list:") for v in violations)


def test_scorer_recomputes_meeting_from_groups_not_from_the_claims(planted: Any) -> None:
    instance, solution = _break(planted)
    dropped = solution["groups"].pop(0)
    result = score(instance, solution)
    assert result["meeting"] == 90 - len(dropped["patients"])
    assert any("meet the minimum" in text for text in result["inconsistencies"])


def test_scorer_counts_preference_violations_only_for_patients_with_preferences() -> None:
    instance = generate(20, 1)
    blocks = [b["id"] for b in instance["blocks"]][:3]
    for i, patient in enumerate(instance["patients"][:3]):
        patient["program"] = "virtual-eve"
        patient["available_blocks"] = blocks
        patient["preferred_blocks"] = blocks[:1] if i == 0 else []
    solution = {
        "groups": [
            {
                "id": f"{b}/virtual-eve/1",
                "block": b,
                "program": "virtual-eve",
                "clinician": "c-001",
                "room": None,
                "patients": [p["id"] for p in instance["patients"][:3]],
            }
            for b in blocks
        ],
        "patients": [],
    }
    assert score(instance, solution)["preference_violations"] == 2


def test_cohort_stability_is_one_for_a_closed_cohort_and_lower_when_peers_rotate() -> None:
    closed = {
        "groups": [{"block": b, "patients": ["a", "b", "c"]} for b in ("x", "y", "z")],
    }
    assert cohort_stability(closed) == pytest.approx(1.0)
    rotating = {
        "groups": [
            {"block": "x", "patients": ["a", "b", "c"]},
            {"block": "y", "patients": ["a", "d", "e"]},
            {"block": "z", "patients": ["a", "f", "g"]},
        ]
    }
    assert cohort_stability({"groups": rotating["groups"]}) < 1.0
    value = cohort_stability(rotating)
    assert value is not None
    # "a" sees six peers once each in three sessions: 1/3; the others have one seat only.
    assert value == pytest.approx(1 / 3)
    assert cohort_stability({"groups": []}) is None


def test_perturb_changes_availability_of_five_percent_and_records_current_groups() -> None:
    instance, hidden = generate_planted(200, 2)
    week2, affected = perturb(instance, hidden, fraction=0.05, seed=1)
    assert len(affected) == 10
    assert instance["patients"][0]["current_groups"] == []  # the input is not changed
    before = {p["id"]: p for p in instance["patients"]}
    changed = {
        p["id"]
        for p in week2["patients"]
        if set(p["available_blocks"]) != set(before[p["id"]]["available_blocks"])
    }
    assert changed == set(affected)
    group_blocks = {g["id"]: g["block"] for g in hidden["groups"]}
    for patient in week2["patients"]:
        assert patient["current_groups"]
        current = {group_blocks[g] for g in patient["current_groups"]}
        if patient["id"] in affected:
            assert not current <= set(patient["available_blocks"])
        else:
            assert current <= set(patient["available_blocks"])
    assert perturb(instance, hidden, fraction=0.05, seed=1) == (week2, affected)


def test_churn_counts_unaffected_patients_whose_blocks_changed(planted: Any) -> None:
    instance, solution = _break(planted)
    moved_group = solution["groups"][0]
    affected = frozenset(moved_group["patients"][:1])
    after = copy.deepcopy(solution)
    after["groups"].pop(0)
    result = score(instance, after, previous=solution, affected=affected)
    assert result["churn"] == len(moved_group["patients"]) - 1
    assert result["churn_pct"] == pytest.approx(100 * result["churn"] / (90 - 1))


def test_churn_does_not_count_new_admissions(planted: Any) -> None:
    instance, solution = _break(planted)
    newcomer = solution["groups"][0]["patients"][0]
    previous = copy.deepcopy(solution)
    for g in previous["groups"]:  # the newcomer held no group last week
        g["patients"] = [p for p in g["patients"] if p != newcomer]
    result = score(instance, solution, previous=previous, affected=frozenset())
    assert result["churn"] == 0
    assert result["new_patients"] == 1
    assert result["churn_pct"] == 0.0
