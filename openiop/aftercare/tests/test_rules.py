"""Aftercare rules (openiop/aftercare/rules.py): follow-ups, the 95% rule, engagement, gone quiet.

Pure: no database. Dates are worked by hand in the comments.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.aftercare.rules import (
    DEFAULT_FOLLOW_UP_OFFSETS,
    FollowUpDue,
    FollowUpSchedule,
    MonthEngagement,
    Outcome,
    add_months,
    aftercare_plan_ends_on,
    components_engaged,
    engagement_band,
    follow_up_status,
    follow_up_window,
    follow_ups_due,
    gone_quiet,
    last_engagement,
    monthly_engagement,
    outcome_engagement_band,
    overall_engagement_band,
    reduction_met,
    use_outcome,
)

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))

# --------------------------------------------------------------------------------------------
# Follow-up schedule
# --------------------------------------------------------------------------------------------


def test_follow_ups_fall_30_90_180_and_365_days_after_discharge() -> None:
    # Discharged 15 Dec 2026. +30: 16 days to 31 Dec, 14 more -> 14 Jan 2027.
    # +90: 16 (Dec) + 31 (Jan) + 28 (Feb 2027) = 75 -> 15 Mar.  +180: 75 + 31 + 30 + 31 = 167
    # on 31 May, 13 more -> 13 Jun.  +365: no 29 Feb in between -> 15 Dec 2027.
    assert DEFAULT_FOLLOW_UP_OFFSETS == (30, 90, 180, 365)
    assert follow_ups_due(date(2026, 12, 15)) == [
        (30, date(2027, 1, 14)),
        (90, date(2027, 3, 15)),
        (180, date(2027, 6, 13)),
        (365, date(2027, 12, 15)),
    ]
    first = follow_ups_due(date(2026, 12, 15))[0]
    assert isinstance(first, FollowUpDue)
    assert (first.offset_days, first.due_on) == (30, date(2027, 1, 14))


def test_the_one_year_follow_up_across_a_leap_day_is_a_day_earlier() -> None:
    # 15 Dec 2027 + 365 days crosses 29 Feb 2028.
    assert follow_ups_due(date(2027, 12, 15), [365]) == [(365, date(2028, 12, 14))]


def test_a_program_can_configure_its_own_offsets() -> None:
    schedule = FollowUpSchedule(offsets=(7, 60), window_before=3, grace_after=10)
    assert schedule.due_dates(date(2027, 1, 1)) == [(7, date(2027, 1, 8)), (60, date(2027, 3, 2))]
    assert schedule.window(date(2027, 1, 8)) == (date(2027, 1, 5), date(2027, 1, 18))
    assert FollowUpSchedule(offsets=[30, 90]).offsets == (30, 90)  # type: ignore[arg-type]


@pytest.mark.parametrize("offsets", [(90, 30), (30, 30), (0, 30), (-30,), (30.0,)])
def test_offsets_must_be_positive_and_increasing(offsets: tuple[int, ...]) -> None:
    with pytest.raises((ValueError, TypeError)):
        FollowUpSchedule(offsets=offsets)


def test_a_negative_window_is_refused() -> None:
    with pytest.raises(ValueError, match="window_before"):
        FollowUpSchedule(window_before=-1)
    with pytest.raises(ValueError, match="grace_after"):
        follow_up_status(date(2027, 1, 1), date(2027, 1, 1), False, grace_after=-1)


def test_follow_up_window_is_two_weeks_before_to_thirty_days_after() -> None:
    assert follow_up_window(date(2027, 6, 13)) == (date(2027, 5, 30), date(2027, 7, 13))


@pytest.mark.parametrize(
    ("today", "completed", "status"),
    [
        (date(2027, 5, 1), False, "upcoming"),
        (date(2027, 5, 29), False, "upcoming"),  # the day before the window opens
        (date(2027, 5, 30), False, "due"),  # 14 days before 13 Jun
        (date(2027, 6, 13), False, "due"),
        (date(2027, 7, 13), False, "due"),  # 30 days after: the last day that counts
        (date(2027, 7, 14), False, "overdue"),
        (date(2028, 1, 1), False, "overdue"),
        (date(2027, 5, 1), True, "done"),
        (date(2027, 6, 13), True, "done"),
        (date(2028, 1, 1), True, "done"),
    ],
)
def test_follow_up_status_at_the_window_edges(today: date, completed: bool, status: str) -> None:
    due_on = date(2027, 6, 13)
    assert follow_up_status(due_on, today, completed) == status
    assert FollowUpSchedule().status(due_on, today, completed) == status


def test_follow_up_status_with_a_custom_grace() -> None:
    due_on = date(2027, 6, 13)
    assert follow_up_status(due_on, date(2027, 6, 20), False, grace_after=7) == "due"
    assert follow_up_status(due_on, date(2027, 6, 21), False, grace_after=7) == "overdue"
    assert follow_up_status(due_on, date(2027, 6, 12), False, window_before=0) == "upcoming"


def test_follow_up_dates_must_be_local_dates_not_datetimes() -> None:
    with pytest.raises(TypeError, match="today must be a date"):
        follow_up_status(date(2027, 6, 13), datetime(2027, 6, 13, 23, 30), False)
    with pytest.raises(TypeError, match="discharged_on"):
        follow_ups_due(datetime(2027, 6, 13, 8))


def test_a_contact_counts_for_the_time_point_whose_window_holds_it() -> None:
    schedule = FollowUpSchedule()
    discharged = date(2026, 12, 15)  # due 14 Jan, 15 Mar, 13 Jun, 15 Dec 2027
    assert schedule.time_point_for(discharged, date(2026, 12, 31)) == 30  # opens 31 Dec
    assert schedule.time_point_for(discharged, date(2026, 12, 30)) is None
    assert schedule.time_point_for(discharged, date(2027, 2, 13)) == 30  # closes 13 Feb
    assert schedule.time_point_for(discharged, date(2027, 2, 20)) is None  # between windows
    assert schedule.time_point_for(discharged, date(2027, 7, 13)) == 180
    assert schedule.time_point_for(discharged, date(2027, 7, 14)) is None


def test_overlapping_windows_give_the_contact_to_the_nearest_due_date() -> None:
    schedule = FollowUpSchedule(offsets=(30, 45), window_before=14, grace_after=30)
    discharged = date(2027, 1, 1)  # due 31 Jan and 15 Feb
    assert schedule.time_point_for(discharged, date(2027, 2, 5)) == 30  # 5 vs 10 days
    assert schedule.time_point_for(discharged, date(2027, 2, 10)) == 45  # 10 vs 5 days
    assert schedule.time_point_for(discharged, date(2027, 2, 7)) == 30  # 7 vs 8 days


@given(days, days, st.integers(0, 60), st.integers(0, 60))
def test_follow_up_status_moves_forward_only(
    due_on: date, today: date, before: int, grace: int
) -> None:
    order = ["upcoming", "due", "overdue"]
    now = follow_up_status(due_on, today, False, grace, window_before=before)
    tomorrow = follow_up_status(
        due_on, today + timedelta(days=1), False, grace, window_before=before
    )
    assert order.index(tomorrow) >= order.index(now)
    opens_on, closes_on = follow_up_window(due_on, window_before=before, grace_after=grace)
    assert (now == "due") == (opens_on <= today <= closes_on)


# --------------------------------------------------------------------------------------------
# Use outcome and the 95% rule
# --------------------------------------------------------------------------------------------


def test_no_use_since_discharge_is_continuous_abstinence() -> None:
    assert use_outcome(20, False, 0) == Outcome.ABSTINENT
    assert use_outcome(20, False, None) == Outcome.ABSTINENT
    assert use_outcome(None, False, None) == Outcome.ABSTINENT  # needs no baseline
    assert use_outcome(0, False, 0) == Outcome.ABSTINENT


def test_the_95_percent_reduction_boundary_is_exact() -> None:
    # Baseline 20 days, now 1: (20 - 1)/20 = 95% exactly -> met (1·100 <= 20·5).
    assert use_outcome(20, True, 1) == Outcome.REDUCED
    # Baseline 19, now 1: 18/19 = 94.7% -> not met (100 > 95).
    assert use_outcome(19, True, 1) == Outcome.NOT_MET
    # Baseline 30, now 1: 96.7% -> met; now 2: 93.3% -> not met.
    assert use_outcome(30, True, 1) == Outcome.REDUCED
    assert use_outcome(30, True, 2) == Outcome.NOT_MET
    # Used since discharge but not in the past 30 days: a 100% reduction.
    assert use_outcome(12, True, 0) == Outcome.REDUCED


def test_a_baseline_of_zero_only_allows_zero_days_of_use() -> None:
    # No use before admission (e.g. came from residential): 5% of 0 is 0.
    assert use_outcome(0, True, 1) == Outcome.NOT_MET
    assert use_outcome(0, True, 0) == Outcome.REDUCED


def test_missing_answers_are_unknown_never_a_success() -> None:
    assert use_outcome(20, None, None) == Outcome.UNKNOWN  # no response at all
    assert use_outcome(20, True, None) == Outcome.UNKNOWN  # used, but how much is missing
    assert use_outcome(None, None, None) == Outcome.UNKNOWN
    assert not Outcome.UNKNOWN.is_success
    assert Outcome.ABSTINENT.is_success and Outcome.REDUCED.is_success
    assert not Outcome.NOT_MET.is_success


def test_a_missing_baseline_decides_only_what_every_baseline_agrees_on() -> None:
    assert use_outcome(None, True, 0) == Outcome.REDUCED  # 0 days meets it from any baseline
    assert use_outcome(None, True, 1) == Outcome.UNKNOWN  # met from 20-30, not from 0-19
    assert use_outcome(None, True, 2) == Outcome.NOT_MET  # 30 · 5% = 1.5 < 2: never met
    assert use_outcome(None, None, 12) == Outcome.NOT_MET


def test_no_use_since_discharge_but_days_of_use_trusts_the_days() -> None:
    # Contradictory answers: the conservative reading is that there was use.
    assert use_outcome(20, False, 5) == Outcome.NOT_MET
    assert use_outcome(20, False, 1) == Outcome.REDUCED


def test_the_threshold_is_exact_in_every_notation() -> None:
    for threshold in (0.95, Decimal("0.95"), "0.95", Fraction(19, 20)):
        assert use_outcome(20, True, 1, threshold) == Outcome.REDUCED
        assert use_outcome(19, True, 1, threshold) == Outcome.NOT_MET
    assert use_outcome(10, True, 1, 0.9) == Outcome.REDUCED  # 90%
    assert use_outcome(10, True, 1, 1) == Outcome.NOT_MET  # only total abstinence
    assert reduction_met(10, 10, 0)  # 0%: "no worse than baseline"
    assert not reduction_met(10, 11, 0)


@pytest.mark.parametrize("threshold", [95, -0.1, 1.5])
def test_a_threshold_outside_zero_to_one_is_refused(threshold: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        use_outcome(20, True, 1, threshold)


@pytest.mark.parametrize(
    ("baseline", "now", "error"),
    [(31, 0, ValueError), (20, 31, ValueError), (-1, 0, ValueError), (20, -1, ValueError),
     (20.0, 1, TypeError), (20, True, TypeError)],
)  # fmt: skip
def test_day_counts_must_be_whole_days_within_thirty(
    baseline: int, now: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        use_outcome(baseline, True, now)


def test_any_use_must_be_a_yes_no_or_unknown() -> None:
    with pytest.raises(TypeError, match="any_use_since_discharge"):
        use_outcome(20, 0, 0)  # type: ignore[arg-type]


def test_outcomes_have_labels() -> None:
    assert Outcome.REDUCED.label == "Use reduced by 95% or more"
    assert Outcome("unknown") is Outcome.UNKNOWN


use_days = st.integers(min_value=0, max_value=30)
maybe_days = st.none() | use_days
maybe_use = st.none() | st.booleans()


@given(use_days, use_days)
def test_the_95_percent_rule_agrees_with_exact_fractions(baseline: int, now: int) -> None:
    outcome = use_outcome(baseline, True, now)
    if baseline == 0:
        expected = now == 0
    else:
        expected = 1 - Fraction(now, baseline) >= Fraction(95, 100)
    assert (outcome == Outcome.REDUCED) == expected
    assert outcome in (Outcome.REDUCED, Outcome.NOT_MET)


@given(maybe_days, maybe_use, use_days, use_days)
def test_more_days_of_use_never_improve_the_outcome(
    baseline: int | None, any_use: bool | None, a: int, b: int
) -> None:
    rank = {Outcome.ABSTINENT: 3, Outcome.REDUCED: 2, Outcome.UNKNOWN: 1, Outcome.NOT_MET: 0}
    fewer, more = min(a, b), max(a, b)
    less_use = use_outcome(baseline, any_use, fewer)
    more_use = use_outcome(baseline, any_use, more)
    if Outcome.UNKNOWN not in (less_use, more_use):
        assert rank[more_use] <= rank[less_use]


@given(maybe_days, maybe_use, maybe_days)
def test_unknown_use_is_never_called_abstinence(
    baseline: int | None, any_use: bool | None, now: int | None
) -> None:
    outcome = use_outcome(baseline, any_use, now)
    if any_use is not False:
        assert outcome != Outcome.ABSTINENT
    if now is None and any_use is not False:
        assert outcome == Outcome.UNKNOWN


# --------------------------------------------------------------------------------------------
# Months, plans and engagement
# --------------------------------------------------------------------------------------------


def test_add_months_clamps_to_the_end_of_shorter_months() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 1, 31), 2) == date(2027, 3, 31)  # no drift from February
    assert add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)
    assert add_months(date(2027, 3, 31), -1) == date(2027, 2, 28)


def test_an_aftercare_plan_lasts_ten_months_by_default() -> None:
    assert aftercare_plan_ends_on(date(2027, 1, 15)) == date(2027, 11, 14)
    assert aftercare_plan_ends_on(date(2027, 3, 31)) == date(2028, 1, 30)
    assert aftercare_plan_ends_on(date(2027, 1, 15), months=6) == date(2027, 7, 14)
    with pytest.raises(ValueError):
        aftercare_plan_ends_on(date(2027, 1, 15), months=0)


def test_engagement_bands() -> None:
    assert [engagement_band(n) for n in (0, 1, 2, 3, 7)] == ["0", "1", "2+", "2+", "2+"]


def test_monthly_engagement_counts_distinct_components_per_month() -> None:
    start, end = date(2027, 1, 31), date(2027, 5, 10)
    events = [
        (date(2027, 1, 30), "alumni"),  # before aftercare started: ignored
        (date(2027, 2, 1), "alumni"),
        (date(2027, 2, 10), "therapy"),
        (date(2027, 2, 27), "alumni"),  # same component again: still 2 components
        (date(2027, 2, 28), "therapy"),  # first day of month 2
        (date(2027, 5, 10), "meetings"),
        (date(2027, 5, 11), "meetings"),  # after `end`: ignored
    ]
    assert monthly_engagement(start, end, events) == [
        MonthEngagement(1, date(2027, 1, 31), date(2027, 2, 27), 2, "2+"),
        MonthEngagement(2, date(2027, 2, 28), date(2027, 3, 30), 1, "1"),
        MonthEngagement(3, date(2027, 3, 31), date(2027, 4, 29), 0, "0"),
        MonthEngagement(4, date(2027, 4, 30), date(2027, 5, 10), 1, "1", partial=True),
    ]


def test_monthly_engagement_of_a_plan_that_has_not_started() -> None:
    assert monthly_engagement(date(2027, 3, 1), date(2027, 2, 28), []) == []
    one_day = monthly_engagement(date(2027, 3, 1), date(2027, 3, 1), [])
    assert one_day == [MonthEngagement(1, date(2027, 3, 1), date(2027, 3, 1), 0, "0", True)]


def test_monthly_engagement_refuses_datetimes() -> None:
    with pytest.raises(TypeError, match=r"events\[0\] date"):
        monthly_engagement(date(2027, 3, 1), date(2027, 4, 1), [(datetime(2027, 3, 2, 9), 1)])


@given(
    days,
    st.integers(min_value=0, max_value=400),
    st.lists(st.tuples(st.integers(-30, 430), st.integers(1, 6)), max_size=40),
)
def test_months_tile_the_period_and_every_event_lands_in_one(
    start: date, length: int, raw_events: list[tuple[int, int]]
) -> None:
    end = start + timedelta(days=length)
    events = [(start + timedelta(days=offset), component) for offset, component in raw_events]
    months = monthly_engagement(start, end, events)
    assert months[0].start == start and months[-1].end == end
    assert [m.month_index for m in months] == list(range(1, len(months) + 1))
    for before, after in zip(months, months[1:], strict=False):
        assert after.start == before.end + timedelta(days=1)
        assert not before.partial
    for month in months:
        inside = {c for d, c in events if month.start <= d <= month.end}
        assert month.components == len(inside)
        assert month.band == engagement_band(len(inside))
    assert components_engaged(start, end, events) == len(
        {c for d, c in events if start <= d <= end}
    )


def test_overall_band_counts_components_between_discharge_and_six_months() -> None:
    discharged = date(2027, 1, 1)  # 180-day follow-up due 30 Jun 2027
    events = [
        (date(2027, 1, 5), "alumni"),
        (date(2027, 3, 1), "alumni"),
        (date(2027, 6, 30), "peer"),  # on the due date: counts
        (date(2027, 7, 1), "therapy"),  # after: does not
    ]
    assert overall_engagement_band(discharged, date(2027, 6, 30), events) == "2+"
    assert outcome_engagement_band(discharged, events) == "2+"
    assert outcome_engagement_band(discharged, events[:2]) == "1"
    assert outcome_engagement_band(discharged, []) == "0"
    assert outcome_engagement_band(discharged, events, follow_up_days=90) == "1"


def test_gone_quiet_after_three_weeks_without_engagement() -> None:
    started = date(2027, 2, 15)
    # Last engagement 1 Mar: 21 days later, on 22 Mar, the patient has gone quiet.
    assert not gone_quiet(date(2027, 3, 1), started, date(2027, 3, 21))
    assert gone_quiet(date(2027, 3, 1), started, date(2027, 3, 22))
    assert gone_quiet(date(2027, 3, 1), started, date(2027, 3, 29), weeks=4)
    assert not gone_quiet(date(2027, 3, 1), started, date(2027, 3, 28), weeks=4)


def test_gone_quiet_counts_from_the_start_for_someone_never_engaged() -> None:
    started = date(2027, 3, 1)
    assert not gone_quiet(None, started, date(2027, 3, 21))
    assert gone_quiet(None, started, date(2027, 3, 22))
    # An engagement before aftercare started (e.g. the last IOP group) does not start the clock.
    assert not gone_quiet(date(2027, 2, 1), started, date(2027, 3, 21))
    # Nobody is quiet before aftercare starts.
    assert not gone_quiet(None, started, date(2027, 2, 28))


def test_gone_quiet_needs_at_least_a_week() -> None:
    with pytest.raises(ValueError, match="weeks"):
        gone_quiet(None, date(2027, 3, 1), date(2027, 4, 1), weeks=0)


def test_last_engagement() -> None:
    assert last_engagement([]) is None
    assert last_engagement([(date(2027, 3, 1), "a"), (date(2027, 2, 1), "b")]) == date(2027, 3, 1)


@given(st.none() | days, days, days, st.integers(1, 8))
def test_quiet_needs_the_full_weeks_and_lasts_until_the_next_engagement(
    last: date | None, started: date, today: date, weeks: int
) -> None:
    assert not gone_quiet(today, started, today, weeks)  # engaged today
    if gone_quiet(last, started, today, weeks):
        assert today >= started + timedelta(weeks=weeks)
        if last is not None:
            assert today >= last + timedelta(weeks=weeks)
        assert gone_quiet(last, started, today + timedelta(days=1), weeks)
