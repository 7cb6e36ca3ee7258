"""Scoring of every instrument: worked examples, every band boundary, reverse scoring, sex
cut-offs, subscales, flags and bad input. Pure: no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.questionnaires.instruments import registry
from openiop.questionnaires.instruments.bam import days_to_code
from openiop.questionnaires.instruments.base import ALERT_FLAGS, AnswerError, UnknownInstrument


def score(key, answers, sex=None):
    return registry.score(key, answers, sex=sex)


def spread(total: int, n: int, top: int) -> list[int]:
    """``n`` answers in 0..top adding up to ``total`` (filled from the first item)."""
    out = []
    for _ in range(n):
        take = min(top, total)
        out.append(take)
        total -= take
    assert total == 0
    return out


# -- PHQ-9 -----------------------------------------------------------------------------------


def test_phq9_issue_example_prints_moderate_12():
    result = score("phq9", [2, 2, 1, 2, 1, 2, 1, 1, 0])
    assert result.as_dict() == {
        "instrument": "phq9", "total": 12, "severity": "moderate", "flags": [],
        "positive": None, "subscales": {},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("total", "severity"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
     (14, "moderate"), (15, "moderately severe"), (19, "moderately severe"), (20, "severe"),
     (27, "severe")],
)  # fmt: skip
def test_phq9_band_boundaries(total, severity):
    answers = spread(total, 8, 3) + [0] if total <= 24 else spread(total, 9, 3)
    result = score("phq9", answers)
    assert (result.total, result.severity) == (total, severity)


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item9_above_zero_flags_suicidal_ideation_even_with_a_low_total(item9):
    result = score("phq9", [0] * 8 + [item9])
    assert result.severity == "minimal"
    assert result.flags == ("suicidal_ideation",)
    assert result.alert_flags == ("suicidal_ideation",)


def test_phq9_answers_keyed_by_loinc_link_id_score_the_same():
    ordered = [3, 3, 3, 3, 3, 3, 3, 3, 3]
    keyed = {item.link_id: 3 for item in registry.get("phq9").items}
    assert score("phq9", keyed) == score("phq9", ordered)
    assert score("phq9", ordered).total == 27


def test_phq9_items_use_loinc_codes_and_answer_codes():
    phq9 = registry.get("phq9")
    assert (phq9.panel_loinc, phq9.total_loinc) == ("44249-1", "44261-6")
    assert phq9.items[0].link_id == "44250-9"
    assert phq9.items[8].link_id == "44260-8"
    assert [o.loinc for o in phq9.items[0].options] == [
        "LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9",
    ]  # fmt: skip


# -- GAD-7 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "severity"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
     (14, "moderate"), (15, "severe"), (21, "severe")],
)  # fmt: skip
def test_gad7_band_boundaries(total, severity):
    result = score("gad7", spread(total, 7, 3))
    assert (result.total, result.severity, result.flags) == (total, severity, ())


def test_gad7_worked_example():
    # nervous 2, worry 3, worrying too much 2, relaxing 1, restless 0, irritable 2, afraid 1
    result = score("gad7", [2, 3, 2, 1, 0, 2, 1])
    assert (result.total, result.severity, result.positive) == (11, "moderate", None)


# -- AUDIT / AUDIT-C -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "severity", "positive"),
    [(0, "low risk", False), (7, "low risk", False), (8, "hazardous", True),
     (15, "hazardous", True), (16, "harmful", True), (19, "harmful", True),
     (20, "possible dependence", True), (40, "possible dependence", True)],
)  # fmt: skip
def test_audit_zone_boundaries(total, severity, positive):
    first8 = spread(min(total, 32), 8, 4)
    rest = total - sum(first8)
    last2 = spread(rest, 2, 4)
    assert all(c in (0, 2, 4) for c in last2)
    result = score("audit", first8 + last2)
    assert (result.total, result.severity, result.positive) == (total, severity, positive)


def test_audit_worked_example_with_items_9_and_10_coded_0_2_4():
    # weekly drinker, 3-4 drinks, monthly binge, no control problems, guilt monthly,
    # an injury more than a year ago, family concerned this year
    answers = [3, 1, 2, 0, 0, 0, 2, 0, 2, 4]
    result = score("audit", answers)
    assert result.total == 14
    assert result.severity == "hazardous"
    assert result.flags == ("harm_in_past_year",)
    assert result.alert_flags == ()


def test_audit_items_9_and_10_reject_odd_codes():
    with pytest.raises(AnswerError, match=r"item 9 \(linkId audit-9\): 1 is not one of 0, 2, 4"):
        score("audit", [0] * 8 + [1, 0])


def test_audit_dependence_items_flag_from_two_on_items_4_to_6():
    assert score("audit", [1, 0, 0, 1, 1, 1, 0, 0, 0, 0]).flags == ()
    assert score("audit", [1, 0, 0, 0, 2, 0, 0, 0, 0, 0]).flags == ("dependence_symptoms",)


@pytest.mark.parametrize(
    ("answers", "sex", "positive"),
    [([1, 1, 1], "female", True), ([1, 1, 1], "male", False), ([2, 1, 1], "male", True),
     ([1, 1, 0], "female", False), ([1, 1, 1], None, None), ([2, 1, 1], None, True),
     ([1, 1, 0], None, False)],
)  # fmt: skip
def test_auditc_cutoffs_differ_by_sex(answers, sex, positive):
    result = score("auditc", answers, sex=sex)
    assert result.total == sum(answers)
    assert result.positive is positive
    assert result.severity is None


def test_auditc_shares_link_ids_with_the_first_three_audit_items():
    assert [i.link_id for i in registry.get("auditc").items] == ["68518-0", "68519-8", "68520-6"]
    assert registry.get("audit").items[:3] == registry.get("auditc").items


def test_unknown_sex_is_rejected():
    with pytest.raises(AnswerError, match="sex must be male or female"):
        score("auditc", [0, 0, 0], sex="f")


# -- DAST-10 ---------------------------------------------------------------------------------


def test_dast10_item3_is_reverse_scored():
    all_no = score("dast10", [0] * 10)
    assert (all_no.total, all_no.severity) == (1, "low")  # "no" to "always able to stop"
    able_to_stop = score("dast10", [0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    assert (able_to_stop.total, able_to_stop.severity) == (0, "none")
    all_yes = score("dast10", [1] * 10)
    assert (all_yes.total, all_yes.severity) == (9, "severe")
    worst = score("dast10", [1, 1, 0, 1, 1, 1, 1, 1, 1, 1])
    assert worst.total == 10


@pytest.mark.parametrize(
    ("total", "severity", "positive"),
    [(0, "none", False), (1, "low", False), (2, "low", False), (3, "moderate", True),
     (5, "moderate", True), (6, "substantial", True), (8, "substantial", True),
     (9, "severe", True), (10, "severe", True)],
)  # fmt: skip
def test_dast10_band_boundaries(total, severity, positive):
    if total == 0:
        answers = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]  # "yes, always able to stop" scores 0
    else:
        others = [1] * (total - 1) + [0] * (9 - (total - 1))
        answers = [*others[:2], 0, *others[2:]]  # item 3 "no" scores 1
    result = score("dast10", answers)
    assert (result.total, result.severity, result.positive) == (total, severity, positive)


# -- C-SSRS ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "severity", "flags"),
    [([0, 0, 0, 0, 0, 0], "none", ()),
     ([1, 0, 0, 0, 0, 0], "low", ()),
     ([1, 1, 0, 0, 0, 0], "low", ()),
     ([1, 1, 1, 0, 0, 0], "moderate", ()),
     ([1, 1, 1, 1, 0, 0], "high", ("high_risk",)),
     ([1, 1, 0, 0, 1, 0], "high", ("high_risk",)),
     ([0, 0, 0, 0, 0, 1], "high", ("high_risk",)),
     ([0, 0, 0, 1, 0, 0], "high", ("high_risk",))],  # a "yes" after a skip still counts
)  # fmt: skip
def test_cssrs_triage(answers, severity, flags):
    result = score("cssrs", answers)
    assert (result.severity, result.flags, result.total) == (severity, flags, sum(answers))
    assert ("high_risk" in result.alert_flags) is (severity == "high")


# -- PCL-5 -----------------------------------------------------------------------------------


def test_pcl5_cutoff_33_and_cluster_subscales():
    below = score("pcl5", spread(32, 20, 4))
    at = score("pcl5", spread(33, 20, 4))
    assert (below.total, below.positive) == (32, False)
    assert (at.total, at.positive) == (33, True)
    assert at.severity is None
    assert at.subscales == {"cluster_b": 20, "cluster_c": 8, "cluster_d": 5, "cluster_e": 0}


def test_pcl5_dsm5_cluster_rule_needs_1_b_1_c_2_d_2_e_at_moderate_or_more():
    answers = [0] * 20
    answers[0] = 2  # B
    answers[5] = 2  # C
    answers[7] = answers[8] = 2  # D x2
    answers[14] = answers[15] = 2  # E x2
    met = score("pcl5", answers)
    assert met.flags == ("dsm5_cluster_rule_met",)
    assert (met.total, met.positive) == (12, False)  # rule met while total is below the cut
    answers[15] = 1  # only one E symptom at 2+
    assert score("pcl5", answers).flags == ()
    high_but_spread = score("pcl5", [1] * 20)  # 20, all "a little bit": no symptom counts
    assert high_but_spread.flags == ()


# -- BAM -------------------------------------------------------------------------------------


def test_bam_has_23_answers_and_three_published_composites():
    bam = registry.get("bam")
    labels = [i.label for i in bam.items]
    assert labels[:7] == ["1", "2", "3", "4", "5", "6", "7A"] and labels[-1] == "17"
    assert len(labels) == 23
    answers = dict.fromkeys(labels, 0)
    answers.update({"1": 2, "2": 3, "3": 1, "4": 2, "5": 1, "6": 3, "7C": 3, "8": 2,
                    "9": 3, "10": 2, "11": 1, "12": 4, "13": 4, "14": 4, "15": 1, "16": 4,
                    "17": 3})  # fmt: skip
    result = score("bam", [answers[label] for label in labels])
    assert result.subscales == {"use": 6, "risk": 10, "protective": 21}
    assert (result.total, result.severity, result.positive) == (None, None, None)


def test_bam_income_item_is_coded_0_or_4():
    with pytest.raises(AnswerError, match=r"item 14 \(linkId bam-14\): 1 is not one of 0, 4"):
        score("bam", [0] * 19 + [1] + [0] * 3)


@pytest.mark.parametrize(
    ("days", "code"),
    [(0, 0), (1, 1), (3, 1), (4, 2), (8, 2), (9, 3), (15, 3), (16, 4), (30, 4)],
)
def test_bam_day_counts_convert_to_categories(days, code):
    assert days_to_code(days) == code


def test_bam_day_count_out_of_range():
    with pytest.raises(ValueError, match="0 to 30"):
        days_to_code(31)


# -- bad input -------------------------------------------------------------------------------


def test_out_of_range_answer_names_the_item_and_link_id():
    with pytest.raises(AnswerError) as info:
        score("phq9", [0, 0, 5, 0, 0, 0, 0, 0, 0])
    assert str(info.value) == "item 3 (linkId 44259-0): 5 is not one of 0, 1, 2, 3"
    assert (info.value.item, info.value.link_id) == (3, "44259-0")


def test_too_few_answers_names_the_missing_item():
    with pytest.raises(AnswerError, match=r"got 8 answers: item 9 \(linkId 44260-8\) is missing"):
        score("phq9", [0] * 8)


def test_too_many_answers_is_rejected():
    with pytest.raises(AnswerError, match="GAD-7 has 7 items, got 8 answers"):
        score("gad7", [0] * 8)


@pytest.mark.parametrize("bad", ["x", 1.5, None, "2.0"])
def test_non_integer_answer_names_the_item(bad):
    with pytest.raises(AnswerError, match=r"item 2 \(linkId 68509-9\): .* is not a whole number"):
        score("gad7", [0, bad, 0, 0, 0, 0, 0])


def test_numeric_strings_are_accepted():
    assert score("gad7", ["1", "1", "1", "1", "1", "1", "1"]).total == 7


def test_missing_link_id_in_a_mapping_is_named():
    answers = {item.link_id: 0 for item in registry.get("gad7").items}
    del answers["69734-2"]
    with pytest.raises(AnswerError, match=r"item 4 \(linkId 69734-2\) is missing"):
        score("gad7", answers)


def test_unknown_link_id_in_a_mapping_is_rejected():
    answers = {item.link_id: 0 for item in registry.get("gad7").items}
    answers["nope"] = 1
    with pytest.raises(AnswerError, match="no item with linkId nope"):
        score("gad7", answers)


def test_unknown_instrument():
    with pytest.raises(UnknownInstrument, match="unknown instrument 'phq2'"):
        registry.get("phq2")


def test_answer_error_is_a_value_error():
    assert issubclass(AnswerError, ValueError)


# -- registry and properties -----------------------------------------------------------------


def test_registry_has_the_eight_instruments_of_the_issue():
    assert set(registry.KEYS) == {
        "phq9", "gad7", "audit", "auditc", "dast10", "bam", "cssrs", "pcl5",
    }  # fmt: skip


def test_only_safety_flags_raise_alerts():
    assert ALERT_FLAGS == {"suicidal_ideation", "high_risk"}


@st.composite
def valid_answers(draw):
    key = draw(st.sampled_from(registry.KEYS))
    instrument = registry.get(key)
    codes = [draw(st.sampled_from(item.codes)) for item in instrument.items]
    sex = draw(st.sampled_from([None, "male", "female"]))
    return instrument, codes, sex


@given(valid_answers())
def test_any_valid_answers_score_within_the_instrument_range(case):
    instrument, codes, sex = case
    result = instrument.score(codes, sex=sex)
    if instrument.max_total is not None:
        assert result.total is not None
        assert instrument.min_total <= result.total <= instrument.max_total
        if instrument.bands:
            assert result.severity is not None
    else:
        assert result.total is None
    if instrument.trend_range is not None:
        low, high = instrument.trend_range
        assert low <= result.subscales[instrument.trend_metric] <= high
    assert set(result.alert_flags) <= ALERT_FLAGS


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=9, max_size=9))
def test_phq9_flag_follows_item9_for_any_answers(codes):
    result = score("phq9", codes)
    assert ("suicidal_ideation" in result.flags) is (codes[8] > 0)
    assert result.total == sum(codes)
