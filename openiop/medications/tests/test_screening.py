"""The interpretation rule and the billing helper, without a database."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.medications import screening as s

DAY = dt.date(2026, 11, 16)
BUP = s.MedWindow("buprenorphine", True, dt.date(2026, 11, 2))
BENZO = s.MedWindow("benzodiazepines", False, dt.date(2026, 10, 1))


def interp(results, meds=(), validity=s.VALID, day=DAY):
    return s.interpret(results, s.expectation_on(meds, day), validity)


def test_detected_substance_nobody_prescribed_is_positive():
    assert interp({"cocaine": True}) == {"cocaine": s.POSITIVE}


def test_prescribed_buprenorphine_detected_is_expected_not_positive():
    assert interp({"buprenorphine": True}, [BUP]) == {"buprenorphine": s.EXPECTED}


def test_prescribed_benzodiazepine_detected_is_expected():
    assert interp({"benzodiazepines": True}, [BENZO]) == {"benzodiazepines": s.EXPECTED}


def test_mat_not_detected_is_flagged_expected_not_detected():
    assert interp({"buprenorphine": False}, [BUP]) == {"buprenorphine": s.EXPECTED_NOT_DETECTED}


def test_as_needed_non_mat_medication_not_detected_is_just_negative():
    assert interp({"benzodiazepines": False}, [BENZO]) == {"benzodiazepines": s.NEGATIVE}


def test_mat_only_explains_its_own_substance():
    result = interp({"buprenorphine": True, "fentanyl": True}, [BUP])
    assert result == {"buprenorphine": s.EXPECTED, "fentanyl": s.POSITIVE}


def test_screen_on_the_induction_day_does_not_flag_missing_buprenorphine():
    induction = s.MedWindow("buprenorphine", True, DAY)
    assert interp({"buprenorphine": False}, [induction]) == {"buprenorphine": s.NEGATIVE}
    assert interp({"buprenorphine": True}, [induction]) == {"buprenorphine": s.EXPECTED}


def test_medication_started_after_collection_does_not_explain_a_detection():
    later = s.MedWindow("buprenorphine", True, DAY + dt.timedelta(days=1))
    assert interp({"buprenorphine": True}, [later]) == {"buprenorphine": s.POSITIVE}


def test_recently_stopped_medication_is_still_expected_but_not_required():
    stopped = s.MedWindow("methadone", True, dt.date(2026, 10, 1), DAY - dt.timedelta(days=3))
    assert interp({"methadone": True}, [stopped]) == {"methadone": s.EXPECTED}
    assert interp({"methadone": False}, [stopped]) == {"methadone": s.NEGATIVE}


def test_medication_stopped_beyond_washout_no_longer_explains_a_detection():
    stopped = s.MedWindow(
        "methadone", True, dt.date(2026, 10, 1), DAY - dt.timedelta(days=s.WASHOUT_DAYS)
    )
    assert interp({"methadone": True}, [stopped]) == {"methadone": s.POSITIVE}


def test_medication_not_on_the_panel_expects_nothing():
    naltrexone = s.MedWindow(None, True, dt.date(2026, 11, 1))
    assert s.expectation_on([naltrexone], DAY) == s.Expectation(frozenset(), frozenset())


@pytest.mark.parametrize("validity", [s.ADULTERATED, s.SUBSTITUTED])
def test_adulterated_or_substituted_specimen_makes_every_result_invalid(validity):
    result = interp({"cocaine": True, "buprenorphine": False, "thc": False}, [BUP], validity)
    assert set(result.values()) == {s.INVALID}


def test_dilute_specimen_keeps_detections_but_cannot_read_negatives():
    result = interp(
        {"cocaine": True, "buprenorphine": False, "thc": False, "benzodiazepines": True},
        [BUP, BENZO],
        s.DILUTE,
    )
    assert result == {
        "cocaine": s.POSITIVE,
        "buprenorphine": s.INVALID,
        "thc": s.INVALID,
        "benzodiazepines": s.EXPECTED,
    }


def test_unknown_substance_or_validity_is_refused():
    with pytest.raises(ValueError, match="kratom"):
        interp({"kratom": True})
    with pytest.raises(ValueError, match="validity"):
        interp({"thc": True}, validity="cloudy")


def test_untested_mat_is_reported():
    assert s.untested_required({"thc": False}, s.expectation_on([BUP], DAY)) == {"buprenorphine"}


def test_suggest_panel_substance_from_brand_name_or_mat_kind():
    assert s.suggest_panel_substance("Suboxone 8 mg/2 mg film") == "buprenorphine"
    assert s.suggest_panel_substance("Clonazepam") == "benzodiazepines"
    assert s.suggest_panel_substance("Anything", "methadone") == "methadone"
    assert s.suggest_panel_substance("Vivitrol", "naltrexone") is None
    assert s.suggest_panel_substance("Sertraline") is None


def _f(sub, detected, interpretation, method=s.PRESUMPTIVE):
    return s.Finding(sub, detected, interpretation, method)


def test_confirmatory_result_supersedes_presumptive_for_the_substances_it_tested():
    poc = {"opiates": _f("opiates", True, s.POSITIVE), "thc": _f("thc", False, s.NEGATIVE)}
    lab = {"opiates": _f("opiates", False, s.NEGATIVE, s.CONFIRMATORY)}
    final = s.supersede(poc, lab)
    assert final["opiates"].interpretation == s.NEGATIVE
    assert final["opiates"].method == s.CONFIRMATORY
    assert final["thc"].method == s.PRESUMPTIVE


def test_tally_counts_specimens_and_positive_substances():
    t = s.tally(
        [
            {"cocaine": _f("cocaine", True, s.POSITIVE), "thc": _f("thc", True, s.POSITIVE)},
            {"buprenorphine": _f("buprenorphine", False, s.EXPECTED_NOT_DETECTED)},
            {"thc": _f("thc", False, s.INVALID)},
            {"buprenorphine": _f("buprenorphine", True, s.EXPECTED)},
        ]
    )
    assert (t.specimens, t.with_positive, t.with_expected_not_detected, t.invalid) == (4, 1, 1, 1)
    assert t.all_negative_or_expected == 1
    assert t.positives_by_substance == {"cocaine": 1, "thc": 1}


# --- properties ---------------------------------------------------------------------------------

substances = st.sampled_from(sorted(s.SUBSTANCES))
days = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2027, 12, 31))


@st.composite
def med_windows(draw):
    start = draw(days)
    stop = draw(st.none() | st.integers(0, 200).map(lambda n: start + dt.timedelta(days=n)))
    return s.MedWindow(draw(st.none() | substances), draw(st.booleans()), start, stop)


@given(st.lists(med_windows(), max_size=6), days)
def test_required_mat_is_always_also_expected(meds, day):
    e = s.expectation_on(meds, day)
    assert e.required <= e.expected


@given(
    st.dictionaries(substances, st.booleans(), min_size=1),
    st.lists(med_windows(), max_size=6),
    days,
    st.sampled_from(s.VALIDITIES),
)
def test_interpretation_never_contradicts_the_raw_result(results, meds, day, validity):
    """A detection is never called negative; a non-detection is never called positive."""
    out = interp(results, meds, validity, day)
    assert set(out) == set(results)
    for sub, detected in results.items():
        allowed = {s.POSITIVE, s.EXPECTED, s.INVALID} if detected else {
            s.NEGATIVE, s.EXPECTED_NOT_DETECTED, s.INVALID
        }  # fmt: skip
        assert out[sub] in allowed
        if validity == s.VALID:
            assert out[sub] != s.INVALID


@given(st.dictionaries(substances, st.booleans(), min_size=1), st.lists(med_windows(), max_size=6))
def test_adding_prescriptions_never_creates_a_positive(results, meds):
    without = interp(results, [], s.VALID)
    with_meds = interp(results, meds, s.VALID)
    for sub in results:
        if with_meds[sub] == s.POSITIVE:
            assert without[sub] == s.POSITIVE


@given(
    st.dictionaries(substances, st.sampled_from([s.NEGATIVE, s.POSITIVE])),
    st.dictionaries(substances, st.sampled_from([s.NEGATIVE, s.POSITIVE])),
)
def test_supersede_takes_the_lab_answer_wherever_the_lab_tested(poc, lab):
    final = s.supersede(
        {k: _f(k, v == s.POSITIVE, v) for k, v in poc.items()},
        {k: _f(k, v == s.POSITIVE, v, s.CONFIRMATORY) for k, v in lab.items()},
    )
    assert set(final) == set(poc) | set(lab)
    for k, finding in final.items():
        expected = lab[k] if k in lab else poc[k]
        assert finding.interpretation == expected


@st.composite
def billable_screens(draw):
    n = draw(st.integers(0, 20))
    return [
        s.BillableScreen(
            key=i,
            patient=draw(st.sampled_from(["a", "b"])),
            service_date=draw(st.sampled_from([DAY, DAY + dt.timedelta(days=1)])),
            method=draw(st.sampled_from([s.PRESUMPTIVE, s.CONFIRMATORY])),
            collected_at=dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC)
            + dt.timedelta(minutes=draw(st.integers(0, 600))),
        )
        for i in range(n)
    ]


@given(billable_screens())
def test_exactly_one_presumptive_per_patient_day_is_billable(screens):
    billable, rejected = s.one_presumptive_per_day(screens)
    by_key = {x.key: x for x in screens}
    assert sorted(billable + rejected) == sorted(by_key)
    days_with_poc = {(x.patient, x.service_date) for x in screens if x.method == s.PRESUMPTIVE}
    billed_poc = [
        (by_key[k].patient, by_key[k].service_date)
        for k in billable
        if by_key[k].method == s.PRESUMPTIVE
    ]
    assert sorted(billed_poc) == sorted(days_with_poc)  # one each, no more, none missing
    assert all(by_key[k].method == s.PRESUMPTIVE for k in rejected)


def test_the_earliest_presumptive_of_the_day_is_the_billable_one():
    at = dt.datetime(2026, 11, 16, 14, tzinfo=dt.UTC)
    screens = [
        s.BillableScreen("late", "p", DAY, s.PRESUMPTIVE, at),
        s.BillableScreen("early", "p", DAY, s.PRESUMPTIVE, at - dt.timedelta(hours=4)),
        s.BillableScreen("lab", "p", DAY, s.CONFIRMATORY, at),
        s.BillableScreen("next-day", "p", DAY + dt.timedelta(days=1), s.PRESUMPTIVE, at),
    ]
    billable, rejected = s.one_presumptive_per_day(screens)
    assert set(billable) == {"early", "lab", "next-day"}
    assert rejected == ["late"]
