from __future__ import annotations

import datetime as dt

from openiop.placement.screening import ScreenAnswers, normalize_substances, route_screen
from openiop.scheduling.availability import Window, conflicts

TODAY = dt.date(2026, 11, 20)


def answers(**kw) -> ScreenAnswers:
    base = dict(
        substances=frozenset({"alcohol"}),
        last_use_on=TODAY - dt.timedelta(days=10),
        withdrawal_symptoms=False,
        withdrawal_severe=False,
        suicidal_ideation=False,
        suicide_plan_or_intent=False,
        homicidal_ideation=False,
        pregnant="no",
    )
    base.update(kw)
    return ScreenAnswers(**base)


def test_no_risk_continues_to_assessment():
    assert route_screen(answers(), TODAY).route == "assess"


def test_withdrawal_after_recent_drinking_goes_to_withdrawal_management_now():
    r = route_screen(answers(withdrawal_symptoms=True, last_use_on=TODAY), TODAY)
    assert r.route == "withdrawal_management"
    assert "recent alcohol use" in r.reasons[0]


def test_old_use_with_symptoms_is_not_routed_to_detox():
    r = route_screen(
        answers(withdrawal_symptoms=True, last_use_on=TODAY - dt.timedelta(days=9)), TODAY
    )
    assert r.route == "assess"


def test_cannabis_symptoms_are_not_a_detox_route():
    r = route_screen(
        answers(substances=frozenset({"marijuana"}), withdrawal_symptoms=True, last_use_on=TODAY),
        TODAY,
    )
    assert r.route == "assess"


def test_severe_withdrawal_routes_whatever_the_substance():
    assert route_screen(answers(withdrawal_severe=True), TODAY).route == "withdrawal_management"


def test_suicidal_plan_outranks_everything_and_keeps_the_other_reasons():
    r = route_screen(
        answers(suicide_plan_or_intent=True, withdrawal_severe=True, pregnant="yes"), TODAY
    )
    assert r.route == "emergency"
    assert len(r.reasons) == 3 and "withdrawal" in r.reasons[1]


def test_pregnancy_with_opioids_prioritizes_moud():
    r = route_screen(answers(substances=frozenset({"heroin"}), pregnant="yes"), TODAY)
    assert r.route == "prenatal"
    assert "MOUD" in r.reasons[0]


def test_substance_names_are_normalized():
    assert normalize_substances([" Alcohol", "other opiates", ""]) == {"alcohol", "other_opiates"}


def test_evening_group_fits_a_day_job_but_not_a_late_shift():
    day_job = [Window(d, dt.time(8), dt.time(17), "work") for d in range(5)]
    assert conflicts([0, 1, 3], dt.time(18), 180, day_job) == []
    assert conflicts([0, 1, 3], dt.time(16), 180, day_job) != []
    assert conflicts([0], dt.time(17, 15), 60, day_job, buffer_minutes=30) != []


def test_a_group_past_midnight_collides_with_an_early_shift_next_day():
    early = [Window(1, dt.time(0, 30), dt.time(6), "work")]
    assert conflicts([0], dt.time(22), 180, early) == [early[0]]
    assert conflicts([1], dt.time(22), 60, early) == []


def test_typed_opioid_and_sedative_names_count_as_withdrawal_risk():
    for typed in ["oxycodone", "Opioid", "Xanax", "benzos", "alprazolam", "Percocet", "etoh"]:
        r = route_screen(
            answers(
                substances=normalize_substances([typed]),
                withdrawal_symptoms=True,
                last_use_on=TODAY - dt.timedelta(days=1),
            ),
            TODAY,
        )
        assert r.route == "withdrawal_management", typed
        assert typed.lower() in r.reasons[0]
        assert not any("No urgent risk" in text for text in r.reasons)


def test_symptoms_with_a_blank_last_use_date_route_to_withdrawal_management():
    r = route_screen(
        answers(substances=frozenset({"oxycodone"}), withdrawal_symptoms=True, last_use_on=None),
        TODAY,
    )
    assert r.route == "withdrawal_management"
    assert "no last-use date" in r.reasons[0]


def test_symptoms_that_do_not_route_still_warn_the_coordinator():
    old = route_screen(
        answers(withdrawal_symptoms=True, last_use_on=TODAY - dt.timedelta(days=9)), TODAY
    )
    unknown_substance = route_screen(
        answers(substances=frozenset(), withdrawal_symptoms=True, last_use_on=None), TODAY
    )
    cannabis_undated = route_screen(
        answers(substances=frozenset({"marijuana"}), withdrawal_symptoms=True, last_use_on=None),
        TODAY,
    )
    for r in (old, unknown_substance, cannabis_undated):
        assert r.route == "assess"
        assert r.reasons[0].startswith("Caution: withdrawal symptoms")
        assert not any("No urgent risk" in text for text in r.reasons)
    assert "last use 9 days ago" in old.reasons[0]
    assert "no substance recorded" in unknown_substance.reasons[0]
    assert "no last-use date" in cannabis_undated.reasons[0]


def test_typed_sedative_use_without_symptoms_is_not_routed():
    r = route_screen(answers(substances=frozenset({"xanax"}), last_use_on=None), TODAY)
    assert r.route == "assess"
    assert r.reasons == ("No urgent risk reported: continue to a full assessment.",)


def test_typed_opioid_in_pregnancy_prioritizes_moud():
    r = route_screen(answers(substances=frozenset({"oxycodone"}), pregnant="yes"), TODAY)
    assert r.route == "prenatal" and "MOUD" in r.reasons[0]
