"""The level-of-care rules (openiop/placement/rules.py): vignettes, boundaries, properties, errors.

Pure: no database. Each vignette is a person a clinician would recognise; the name says what the
rule should recommend for them.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.placement.rules import (
    CATEGORIES,
    DISCLAIMER,
    LEVELS,
    RESPONSIBILITIES,
    RISK_FACTS,
    Assessment,
    AssessmentError,
    ProgramInfo,
    evaluate,
    evaluate_json,
    intensity_rank,
    normalize_level,
    parse_assessment,
    to_input_json,
)

ISSUE_EXAMPLE = {
    "age": 34, "d1": 0, "d2": 0, "d3": 1, "d4": 2, "d5": 2, "d6": 1,
    "needs_detox_now": False, "needs_24h_supervision": False, "toxic_home": False,
    "harmful_environment": False, "serious_co_occurring": False, "medically_unstable": False,
    "responsibilities": ["work"], "substances": ["alcohol"],
}  # fmt: skip


def person(**kw: object) -> Assessment:
    """A 34-year-old adult with every dimension at 0, no risk facts, no responsibilities."""
    base: dict[str, object] = dict(age=34, d1=0, d2=0, d3=0, d4=0, d5=0, d6=0)
    base.update(kw)
    return Assessment(**base)  # type: ignore[arg-type]


def level(**kw: object) -> str:
    return evaluate(person(**kw)).level


def drivers(**kw: object) -> list[str]:
    return [r.driver for r in evaluate(person(**kw)).reasons]


# --- the issue's example -------------------------------------------------------------------


def test_issue_example_adult_with_ambivalence_and_drinking_gets_iop_and_a_mat_evaluation():
    out = evaluate_json(ISSUE_EXAMPLE)
    assert list(out)[:6] == [
        "level", "level_category", "population", "reasons", "variance_allowed", "mat_evaluation",
    ]  # fmt: skip
    assert out["level"] == "2.1"
    assert out["level_category"] == "iop"
    assert out["population"] == "adult"
    assert out["variance_allowed"] is False
    assert out["mat_evaluation"] is True
    assert out["guardian_required"] is False
    assert out["min_weekly_hours"] == 9
    assert out["programs"] == []
    assert out["disclaimer"] == DISCLAIMER
    reasons = out["reasons"]
    assert isinstance(reasons, list)
    assert [r["driver"] for r in reasons] == ["d4", "d5", "age", "substances"]
    assert reasons[0]["text"].startswith("Dimension 4 (readiness to change) rated 2: IOP")
    assert "alcohol" in reasons[-1]["text"] and "MAT" in reasons[-1]["text"]


def test_disclaimer_never_claims_to_be_the_asam_software():
    assert "not the ASAM Criteria software" in DISCLAIMER
    assert "clinician's judgment" in DISCLAIMER


# --- outpatient / IOP boundary -------------------------------------------------------------


def test_person_in_early_remission_with_nothing_rated_is_outpatient():
    rec = evaluate(person())
    assert (rec.level, rec.level_category) == ("1.0", "outpatient")
    assert rec.reasons[0].driver == "all_dimensions"


def test_all_dimensions_at_1_is_still_outpatient():
    rec = evaluate(person(d1=1, d2=1, d3=1, d4=1, d5=1, d6=1))
    assert rec.level_category == "outpatient"
    assert rec.min_weekly_hours is None


@pytest.mark.parametrize("dim", ["d1", "d2", "d3", "d4", "d5", "d6"])
def test_a_single_dimension_at_2_tips_outpatient_into_iop(dim: str):
    rec = evaluate(person(**{dim: 2}))
    assert (rec.level, rec.level_category) == ("2.1", "iop")
    assert rec.reasons[0].driver == dim
    assert "rated 2" in rec.reasons[0].text


def test_level_follows_the_highest_need_dimension_never_the_average():
    # Average rating 0.5 would read as "outpatient"; one dimension at 3 is what counts.
    rec = evaluate(person(d2=3))
    assert rec.level_category == "inpatient"


def test_stable_adult_with_ambivalence_and_a_shaky_week_gets_iop():
    rec = evaluate(person(d4=2, d5=2, d3=1, responsibilities=frozenset({"work"})))
    assert rec.level_category == "iop"
    assert rec.variance_allowed is False


# --- withdrawal management -----------------------------------------------------------------


def test_d1_at_2_without_a_detox_need_stays_in_iop():
    assert level(d1=2) == "2.1"


def test_d1_at_3_goes_to_withdrawal_management_first_not_iop():
    rec = evaluate(person(d1=3, d4=2))
    assert (rec.level, rec.level_category) == ("3.7-WM", "withdrawal_management")
    assert rec.reasons[0].driver == "d1"
    assert "withdrawal management first" in rec.reasons[0].text
    assert "not IOP now" in rec.reasons[0].text


def test_severe_alcohol_withdrawal_d1_at_4_is_medically_managed_4wm():
    rec = evaluate(person(d1=4, substances=frozenset({"alcohol"})))
    assert rec.level == "4-WM"
    assert rec.mat_evaluation


def test_needs_detox_now_with_everything_else_low_is_ambulatory_1wm():
    rec = evaluate(person(needs_detox_now=True, d1=1))
    assert rec.level == "1-WM"
    assert rec.reasons[0].driver == "needs_detox_now"
    assert not any(r.driver == "all_dimensions" for r in rec.reasons)


def test_needs_detox_now_with_iop_needs_is_2wm_not_iop():
    assert level(needs_detox_now=True, d1=2, d5=2) == "2-WM"


def test_needs_detox_now_with_php_needs_is_2wm_ranked_above_php():
    lvl = level(needs_detox_now=True, serious_co_occurring=True)
    assert lvl == "2-WM"
    assert intensity_rank(lvl) > intensity_rank("2.5")


def test_needs_detox_and_toxic_home_is_clinically_managed_residential_wm():
    rec = evaluate(person(needs_detox_now=True, toxic_home=True))
    assert rec.level == "3.2-WM"
    assert "residential setting" in rec.reasons[0].text
    assert "toxic_home" in [r.driver for r in rec.reasons]


def test_d1_at_3_in_a_medically_unstable_patient_is_4wm():
    rec = evaluate(person(d1=3, medically_unstable=True))
    assert rec.level == "4-WM"
    assert [r.driver for r in rec.reasons][:2] == ["d1", "medically_unstable"]


def test_withdrawal_management_is_never_offered_the_iop_variance():
    rec = evaluate(person(d1=3, d6=3, responsibilities=frozenset({"work"})))
    assert rec.level_category == "withdrawal_management"
    assert rec.variance_allowed is False


# --- biomedical / psychiatric --------------------------------------------------------------


def test_d2_at_3_is_inpatient_never_iop():
    rec = evaluate(person(d2=3))
    assert (rec.level, rec.level_category) == ("4.0", "inpatient")
    assert rec.reasons[0].driver == "d2"


def test_d2_at_2_is_iop():
    assert level(d2=2) == "2.1"


def test_medically_unstable_with_low_ratings_is_inpatient():
    rec = evaluate(person(medically_unstable=True, d4=1))
    assert rec.level_category == "inpatient"
    assert rec.reasons[0].driver == "medically_unstable"


def test_d3_at_3_is_php_not_iop():
    rec = evaluate(person(d3=3, d5=2))
    assert (rec.level, rec.level_category) == ("2.5", "php")
    assert rec.min_weekly_hours == 20
    assert rec.reasons[0].driver == "d3"


def test_d3_at_4_needs_24_hour_psychiatric_care_inpatient():
    assert level(d3=4) == "4.0"


def test_serious_co_occurring_illness_with_all_else_low_is_php():
    rec = evaluate(person(serious_co_occurring=True))
    assert rec.level_category == "php"
    assert rec.reasons[0].driver == "serious_co_occurring"


# --- environment, supervision ---------------------------------------------------------------


def test_toxic_home_is_residential_and_a_worker_gets_no_variance():
    rec = evaluate(person(toxic_home=True, d4=2, responsibilities=frozenset({"work"})))
    assert rec.level_category == "residential"
    assert rec.variance_allowed is False
    assert any(r.driver == "toxic_home" and "No IOP variance" in r.text for r in rec.reasons)


def test_harmful_environment_is_residential():
    rec = evaluate(person(harmful_environment=True))
    assert (rec.level, rec.level_category) == ("3.5", "residential")


def test_d6_at_3_for_a_working_parent_is_residential_with_an_iop_variance():
    rec = evaluate(person(d6=3, responsibilities=frozenset({"work", "childcare"})))
    assert rec.level == "3.5"  # IOP is never the recommendation
    assert rec.variance_allowed is True
    variance = [r for r in rec.reasons if r.driver == "responsibilities"]
    assert variance and "documented variance" in variance[0].text


def test_d6_at_3_without_responsibilities_has_no_variance():
    rec = evaluate(person(d6=3))
    assert rec.level_category == "residential"
    assert rec.variance_allowed is False


def test_needs_24h_supervision_is_residential_and_blocks_the_variance():
    rec = evaluate(person(needs_24h_supervision=True, responsibilities=frozenset({"school"})))
    assert rec.level_category == "residential"
    assert rec.variance_allowed is False


def test_needs_24h_supervision_and_medically_unstable_is_inpatient():
    rec = evaluate(person(needs_24h_supervision=True, medically_unstable=True))
    assert rec.level_category == "inpatient"
    assert rec.reasons[0].driver == "medically_unstable"
    assert "needs_24h_supervision" in [r.driver for r in rec.reasons]


# --- readiness / relapse ---------------------------------------------------------------------


def test_d4_at_3_with_a_supportive_home_d6_at_1_is_php():
    rec = evaluate(person(d4=3, d6=1))
    assert rec.level_category == "php"
    assert rec.reasons[0].driver == "d4"


def test_d4_at_3_with_d6_at_2_is_residential():
    rec = evaluate(person(d4=3, d6=2))
    assert rec.level_category == "residential"
    assert rec.reasons[0].driver == "d4"


def test_relapsing_caregiver_d5_at_3_with_d6_at_2_may_use_the_iop_variance():
    rec = evaluate(person(d5=3, d6=2, responsibilities=frozenset({"caregiving"})))
    assert rec.level_category == "residential"
    assert rec.variance_allowed is True


def test_d5_at_4_alone_is_php_relapse_risk_is_not_a_basis_for_inpatient():
    assert level(d5=4) == "2.5"


# --- population ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "population", "guardian"),
    [(14, "adolescent", True), (17, "adolescent", True), (18, "adult", False)],
)
def test_age_decides_adolescent_or_adult_programs(age: int, population: str, guardian: bool):
    rec = evaluate(person(age=age, d5=2))
    assert rec.population == population
    assert rec.guardian_required is guardian
    assert rec.min_weekly_hours == (6 if population == "adolescent" else 9)
    age_reason = next(r for r in rec.reasons if r.driver == "age")
    assert ("guardian is required" in age_reason.text) is guardian


def test_sixteen_year_old_hears_adolescent_only_6_hours_and_guardian():
    rec = evaluate(person(age=16, d4=2))
    text = next(r.text for r in rec.reasons if r.driver == "age")
    assert text == "Age 16: adolescent programs only (at least 6 h/week); a guardian is required"


def test_thirteen_year_old_is_a_child_whom_no_openiop_program_serves():
    programs = [
        ProgramInfo("teen", "Teen IOP", "adolescent", 14, 17, "in_person", "after_school"),
        ProgramInfo("adult", "Adult IOP", "adult", 18, None, "in_person", "day"),
    ]
    rec = evaluate(person(age=13, d4=2), programs)
    assert rec.level == "2.1"  # the clinical need is still stated
    assert rec.population == "child"
    assert rec.guardian_required
    assert rec.matching_programs == ()
    assert "no OpenIOP program" in next(r.text for r in rec.reasons if r.driver == "age")


# --- MAT ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "substance",
    ["alcohol", "Heroin", "fentanyl", "oxycodone", "other opiates", "prescription-opioids",
     "methadone", "buprenorphine", "synthetic_opioids", "opioids"],
)  # fmt: skip
def test_opioid_or_alcohol_use_recommends_a_mat_evaluation(substance: str):
    rec = evaluate(person(substances=frozenset({substance, "cannabis"})))
    assert rec.mat_evaluation
    assert rec.reasons[-1].driver == "substances"


def test_cannabis_and_cocaine_only_gets_no_mat_evaluation():
    rec = evaluate(person(substances=frozenset({"cannabis", "cocaine"})))
    assert rec.mat_evaluation is False
    assert "substances" not in [r.driver for r in rec.reasons]


# --- 4th edition crosswalk -------------------------------------------------------------------


def test_4th_edition_recovery_environment_d5_at_3_reads_as_environment_residential():
    rec = evaluate(person(criteria_edition="4", d5=3))
    assert rec.level_category == "residential"
    assert rec.ratings == (0, 0, 0, 0, 0, 3)
    assert rec.reasons[0].driver == "d5"
    assert rec.reasons[0].text.startswith("Dimension 5 (4th ed., recovery environment) rated 3")


def test_4th_edition_person_centered_d6_at_3_reads_as_readiness_php():
    rec = evaluate(person(criteria_edition="4", d6=3, d5=1))
    assert rec.level_category == "php"
    assert rec.reasons[0].driver == "d6"
    assert "person-centered" in rec.reasons[0].text


def test_4th_edition_substance_risks_d4_at_3_with_environment_d5_at_2_is_residential():
    rec = evaluate(person(criteria_edition="4", d4=3, d5=2))
    assert rec.level_category == "residential"
    assert rec.ratings == (0, 0, 0, 0, 3, 2)


def test_4th_edition_d6_at_3_would_be_residential_under_3rd_edition_reading():
    # The same numbers mean different things: in the 3rd edition d6 is the environment.
    assert level(d6=3) == "3.5"
    assert level(d6=3, criteria_edition="4") == "2.5"


# --- reasons --------------------------------------------------------------------------------


def test_reasons_list_every_rule_that_fired_with_the_winner_first():
    rec = evaluate(
        person(d2=3, d3=3, toxic_home=True, d4=2, substances=frozenset({"heroin"}), age=40)
    )
    assert [r.driver for r in rec.reasons] == ["d2", "toxic_home", "d3", "d4", "age", "substances"]
    assert all(r.text for r in rec.reasons)


# --- intensity order -------------------------------------------------------------------------


def test_intensity_order_is_total_and_puts_each_wm_level_above_its_setting():
    assert LEVELS == (
        "1.0", "1-WM", "2.1", "2.5", "2-WM", "3.5", "3.2-WM", "3.7-WM", "4.0", "4-WM",
    )  # fmt: skip
    assert len(set(LEVELS)) == len(LEVELS)
    assert intensity_rank("4") == intensity_rank("4.0")
    assert normalize_level("3.2-D") == "3.2-WM"
    with pytest.raises(ValueError, match="unknown level"):
        intensity_rank("9.9")


# --- matching programs ----------------------------------------------------------------------

PROGRAMS = [
    ProgramInfo("adult-day", "Adult Day IOP", "adult", 18, None, "in_person", "day"),
    ProgramInfo("adult-eve", "Adult Evening IOP", "adult", 18, None, "in_person", "evening"),
    ProgramInfo("adult-virt", "Virtual IOP", "adult", 18, None, "virtual", "evening"),
    ProgramInfo("adult-full", "Adult Evening IOP 2", "adult", 18, None, "hybrid", "evening",
                is_full=True),
    ProgramInfo("teen-as", "Teen After-School IOP", "adolescent", 14, 17, "in_person",
                "after_school"),
    ProgramInfo("teen-day", "Teen Day IOP", "adolescent", 14, 17, "in_person", "day"),
    ProgramInfo("php", "Adult PHP", "adult", 18, None, "in_person", "day", level_of_care="2.5"),
    ProgramInfo("res", "Residential", "adult", 18, 64, "in_person", "day", level_of_care="3.5"),
]  # fmt: skip


def keys(matches: tuple[object, ...]) -> list[str]:
    return [m.program.key for m in matches]  # type: ignore[attr-defined]


def test_worker_is_offered_virtual_and_evening_before_day_and_full_programs_last():
    rec = evaluate(person(d4=2, responsibilities=frozenset({"work"})), PROGRAMS)
    assert keys(rec.matching_programs) == ["adult-virt", "adult-eve", "adult-day", "adult-full"]
    full = rec.matching_programs[-1]
    assert full.program.is_full and "full: waitlist" in full.fit
    assert rec.to_json()["programs"][0]["fit"][0].startswith("evening cohort")  # type: ignore[index]


def test_adolescent_in_school_gets_only_adolescent_programs_after_school_first():
    rec = evaluate(person(age=15, d5=2, responsibilities=frozenset({"school"})), PROGRAMS)
    assert keys(rec.matching_programs) == ["teen-as", "teen-day"]


def test_only_programs_at_the_recommended_level_match():
    rec = evaluate(person(d3=3), PROGRAMS)
    assert keys(rec.matching_programs) == ["php"]


def test_residential_variance_lists_iop_programs_as_variance_options_only():
    rec = evaluate(person(d6=3, responsibilities=frozenset({"work"})), PROGRAMS)
    assert keys(rec.matching_programs) == ["res"]
    assert keys(rec.variance_options)[:2] == ["adult-virt", "adult-eve"]
    out = rec.to_json()
    assert [p["key"] for p in out["programs"]] == ["res"]  # type: ignore[index,union-attr]


def test_program_age_range_is_respected():
    rec = evaluate(person(age=70, d6=3), PROGRAMS)
    assert rec.matching_programs == ()


# --- errors ---------------------------------------------------------------------------------


def bad(**changes: object) -> dict[str, object]:
    data: dict[str, object] = dict(ISSUE_EXAMPLE)
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({k: v for k, v in ISSUE_EXAMPLE.items() if k != "d3"}, "d3", "required"),
        (bad(d1=5), "d1", "0 to 4"),
        (bad(d1=-1), "d1", "0 to 4"),
        (bad(d1="2"), "d1", "whole-number"),
        (bad(d1=True), "d1", "got true"),
        (bad(d1=2.0), "d1", "whole-number"),
        (bad(d1=None), "d1", "got null"),
        (bad(age=-1), "age", "between 0 and 120"),
        (bad(age=121), "age", "between 0 and 120"),
        (bad(age="34"), "age", "whole number"),
        (bad(d7=1), "d7", "unknown field"),
        (bad(toxic_home=0), "toxic_home", "true or false"),
        (bad(needs_detox_now="false"), "needs_detox_now", "true or false"),
        (bad(responsibilities="work"), "responsibilities", "list of strings"),
        (bad(responsibilities=["work", "gym"]), "responsibilities", '"gym"'),
        (bad(substances=["alcohol", 3]), "substances", "list of strings"),
        (bad(criteria_edition="5"), "criteria_edition", '"3" or "4"'),
        (bad(criteria_edition=4), "criteria_edition", '"3" or "4"'),
    ],
)
def test_bad_or_incomplete_assessment_names_the_field(data: object, field: str, words: str):
    with pytest.raises(AssessmentError) as info:
        parse_assessment(data)
    assert info.value.field == field
    assert words in info.value.message
    assert str(info.value).startswith(f"{field}: ")
    assert isinstance(info.value, ValueError)


def test_every_problem_is_reported_in_field_order():
    with pytest.raises(AssessmentError) as info:
        parse_assessment({"age": 200, "d1": True, "d9": 1})
    fields = [f for f, _ in info.value.errors]
    assert fields[:3] == ["age", "d1", "d2"]
    assert fields[-1] == "d9"
    assert "substances" in fields


def test_not_an_object_is_an_error():
    with pytest.raises(AssessmentError) as info:
        parse_assessment([1, 2, 3])
    assert info.value.field == "assessment"


def test_direct_construction_is_checked_too():
    with pytest.raises(AssessmentError) as info:
        person(d4=7)
    assert info.value.field == "d4"


def test_parsing_normalizes_words_and_defaults_to_the_3rd_edition():
    a = parse_assessment(bad(responsibilities=[" Work ", "SCHOOL"], substances=["Other Opiates"]))
    assert a.responsibilities == {"work", "school"}
    assert a.substances == {"other_opiates"}
    assert a.criteria_edition == "3"


# --- properties -----------------------------------------------------------------------------

SUBSTANCES = ["alcohol", "heroin", "fentanyl", "cannabis", "cocaine", "methamphetamine"]

assessments = st.builds(
    Assessment,
    age=st.integers(0, 120),
    d1=st.integers(0, 4),
    d2=st.integers(0, 4),
    d3=st.integers(0, 4),
    d4=st.integers(0, 4),
    d5=st.integers(0, 4),
    d6=st.integers(0, 4),
    needs_detox_now=st.booleans(),
    needs_24h_supervision=st.booleans(),
    toxic_home=st.booleans(),
    harmful_environment=st.booleans(),
    serious_co_occurring=st.booleans(),
    medically_unstable=st.booleans(),
    responsibilities=st.frozensets(st.sampled_from(sorted(RESPONSIBILITIES))),
    substances=st.frozensets(st.sampled_from(SUBSTANCES)),
    criteria_edition=st.sampled_from(["3", "4"]),
)


@given(assessments, st.sampled_from(["d1", "d2", "d3", "d4", "d5", "d6"]))
def test_raising_any_dimension_never_lowers_the_level(a: Assessment, dim: str):
    if getattr(a, dim) == 4:
        return
    higher = dataclasses.replace(a, **{dim: getattr(a, dim) + 1})
    assert evaluate(higher).intensity_rank >= evaluate(a).intensity_rank


@given(assessments, st.sampled_from(RISK_FACTS))
def test_turning_on_any_risk_fact_never_lowers_the_level(a: Assessment, fact: str):
    off_fact: dict[str, Any] = {fact: False}
    on_fact: dict[str, Any] = {fact: True}
    off = dataclasses.replace(a, **off_fact)
    on = dataclasses.replace(a, **on_fact)
    assert evaluate(on).intensity_rank >= evaluate(off).intensity_rank


@given(assessments)
def test_never_iop_when_a_never_iop_trigger_fires(a: Assessment):
    d1, d2, d3, _, _, d6 = a.ratings()
    triggered = (
        a.needs_detox_now
        or d1 >= 3
        or d2 >= 3
        or a.medically_unstable
        or a.serious_co_occurring
        or d3 >= 3
        or a.toxic_home
        or a.harmful_environment
        or d6 >= 3
        or a.needs_24h_supervision
    )
    if triggered:
        assert evaluate(a).level_category != "iop"


@given(assessments)
def test_withdrawal_management_exactly_when_detox_is_needed_or_d1_is_3_plus(a: Assessment):
    wm = evaluate(a).level_category == "withdrawal_management"
    assert wm == (a.needs_detox_now or a.rating(1) >= 3)


@given(assessments)
def test_result_is_a_known_level_and_the_category_matches_the_rules(a: Assessment):
    rec = evaluate(a)
    assert rec.level in LEVELS and rec.level_category in CATEGORIES
    d = a.ratings()
    facts = any(getattr(a, f) for f in RISK_FACTS)
    if not facts and max(d) <= 1:
        assert rec.level_category == "outpatient"
    if not facts and max(d) == 2:
        assert rec.level_category == "iop"
    if (a.medically_unstable or d[1] >= 3) and rec.level_category != "withdrawal_management":
        assert rec.level_category == "inpatient"
    if rec.level_category == "withdrawal_management":
        assert rec.reasons[0].driver in ("d1", "needs_detox_now")


@given(assessments)
def test_variance_only_for_residential_with_duties_and_a_safe_home(a: Assessment):
    rec = evaluate(a)
    expected = (
        rec.level_category == "residential"
        and bool(a.responsibilities)
        and not (a.toxic_home or a.harmful_environment or a.needs_24h_supervision)
    )
    assert rec.variance_allowed == expected
    assert rec.level_category != "iop" or not rec.variance_allowed


@given(assessments)
def test_population_is_adolescent_exactly_for_ages_14_to_17(a: Assessment):
    rec = evaluate(a)
    assert (rec.population == "adolescent") == (14 <= a.age <= 17)
    assert (rec.population == "adult") == (a.age >= 18)
    assert rec.guardian_required == (a.age < 18)


@given(assessments)
def test_responsibilities_and_substances_never_change_the_level(a: Assessment):
    plain = dataclasses.replace(a, responsibilities=frozenset(), substances=frozenset())
    assert evaluate(plain).level == evaluate(a).level


@given(assessments)
def test_mat_evaluation_exactly_for_opioid_or_alcohol_use(a: Assessment):
    assert evaluate(a).mat_evaluation == bool(a.substances & {"alcohol", "heroin", "fentanyl"})


@given(assessments)
def test_input_json_round_trips(a: Assessment):
    assert parse_assessment(to_input_json(a)) == a


@given(assessments)
def test_4th_edition_is_the_3rd_edition_after_the_crosswalk(a: Assessment):
    d = a.ratings()
    third = dataclasses.replace(
        a, criteria_edition="3", d1=d[0], d2=d[1], d3=d[2], d4=d[3], d5=d[4], d6=d[5]
    )
    assert evaluate(third).level == evaluate(a).level
    assert evaluate(third).variance_allowed == evaluate(a).variance_allowed


# --- exhaustive over the ratings ------------------------------------------------------------
# Every one of the 5**6 = 15,625 rating profiles, for a few fact combinations (no facts; each
# risk fact alone; no facts in the 4th edition). Age, duties and substances are held fixed: they
# change the population, the variance option and the MAT advice, never the level.

ALL_RATINGS = list(itertools.product(range(5), repeat=6))
FACT_CASES = [("3", None), *[("3", fact) for fact in RISK_FACTS], ("4", None)]
DIMS = ("d1", "d2", "d3", "d4", "d5", "d6")


@functools.cache
def ranks(edition: str, fact: str | None) -> dict[tuple[int, ...], int]:
    facts = {name: name == fact for name in RISK_FACTS}
    base = Assessment(
        age=34, d1=0, d2=0, d3=0, d4=0, d5=0, d6=0, responsibilities=frozenset({"work"}),
        substances=frozenset({"alcohol"}), criteria_edition=edition, **facts,
    )  # fmt: skip
    return {
        r: evaluate(dataclasses.replace(base, **dict(zip(DIMS, r, strict=True)))).intensity_rank
        for r in ALL_RATINGS
    }


@pytest.mark.parametrize(("edition", "fact"), FACT_CASES)
def test_every_rating_profile_raising_any_dimension_never_lowers_the_level(edition, fact):
    table = ranks(edition, fact)
    lowered = [
        (r, i)
        for r in ALL_RATINGS
        for i in range(6)
        if r[i] < 4 and table[(*r[:i], r[i] + 1, *r[i + 1 :])] < table[r]
    ]
    assert lowered == []


@pytest.mark.parametrize("fact", RISK_FACTS)
def test_every_rating_profile_turning_on_a_fact_never_lowers_the_level(fact):
    off, on = ranks("3", None), ranks("3", fact)
    assert [r for r in ALL_RATINGS if on[r] < off[r]] == []


def test_every_rating_profile_without_facts_at_0_to_2_is_outpatient_or_iop():
    table = ranks("3", None)
    for r in ALL_RATINGS:
        if max(r) <= 1:
            assert table[r] == intensity_rank("1.0"), r
        elif max(r) == 2:
            assert table[r] == intensity_rank("2.1"), r
        else:
            assert table[r] > intensity_rank("2.1"), r
