"""Tests for the weekly-hours compliance calculation (pure: no database, no Django)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiop.attendance.compliance import (
    EpisodeWeek,
    Occurrence,
    Status,
    WeeklyHours,
    WeeklyRule,
    WeekResult,
    local_week_bounds,
    service_date,
    week_start_for,
)

NY = ZoneInfo("America/New_York")
RULE = WeeklyRule(min_minutes=540, max_minutes=1140, min_days=3)

# An ordinary January week, far from any DST change: Monday 2026-01-12 .. Sunday 2026-01-18.
MON = date(2026, 1, 12)
TUE, WED, THU, FRI, SAT, SUN = (MON + timedelta(days=i) for i in range(1, 7))
AFTER_WEEK = datetime(2026, 1, 20, 9, 0, tzinfo=NY)

SPRING_MON = date(2026, 3, 2)  # clocks spring forward Sunday 2026-03-08 02:00 -> 03:00
FALL_MON = date(2026, 10, 26)  # clocks fall back Sunday 2026-11-01 02:00 -> 01:00


def at(day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY, fold=fold)


def session(
    day: date, start_hour: int, hours: int = 3, attended: int | None = None, cancelled: bool = False
) -> Occurrence:
    start = at(day, start_hour)
    end = (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(NY)
    return Occurrence(start=start, end=end, attended_minutes=attended, cancelled=cancelled)


def episode(
    *occurrences: Occurrence,
    key: str = "ep-1",
    admitted_on: date | None = None,
    discharged_on: date | None = None,
    on_hold_days: frozenset[date] = frozenset(),
) -> EpisodeWeek:
    return EpisodeWeek(key, admitted_on, discharged_on, on_hold_days, occurrences)


def compute(
    ep: EpisodeWeek, now: datetime, week_start: date = MON, rule: WeeklyRule = RULE
) -> WeekResult:
    return WeeklyHours(rule, week_start, "America/New_York", now).add(ep).compute()[ep.key]


# --- ordinary weeks -------------------------------------------------------------------------------


def test_three_attended_three_hour_sessions_meet_the_week() -> None:
    ep = episode(
        session(MON, 9, attended=180), session(WED, 9, attended=180), session(FRI, 9, attended=180)
    )
    r = compute(ep, AFTER_WEEK)
    assert r.status is Status.MET
    assert (r.minutes_attended, r.days_attended, r.minutes_remaining) == (540, 3, 0)
    assert (r.required_minutes, r.required_days, r.prorated, r.over_max) == (540, 3, False, False)
    assert r.reason == "9.0 h on 3 days meets the 9.0 h / 3-day minimum"


def test_two_attended_and_one_left_is_on_track() -> None:
    ep = episode(session(MON, 9, attended=180), session(WED, 9, attended=180), session(FRI, 9))
    r = compute(ep, at(THU, 12))
    assert r.status is Status.ON_TRACK
    assert (r.minutes_attended, r.minutes_remaining, r.days_possible) == (360, 180, 3)
    assert r.reason == "6.0 h of 9.0 h on 2 of 3 days; 1 session left can still reach the minimum"


def test_not_enough_days_left_is_at_risk_even_with_enough_hours() -> None:
    ep = episode(session(MON, 9, hours=5, attended=300), session(WED, 9, hours=4))
    r = compute(ep, at(TUE, 12))
    assert r.status is Status.AT_RISK
    assert r.minutes_attended + r.minutes_remaining == 540
    assert r.days_possible == 2
    assert r.reason == "even attending the 1 remaining session reaches only 2 of 3 days"


def test_not_enough_hours_left_is_at_risk() -> None:
    ep = episode(
        session(MON, 9, hours=2, attended=120),
        session(TUE, 9, hours=2, attended=120),
        session(THU, 9, hours=3),
    )
    r = compute(ep, at(WED, 12))
    assert r.status is Status.AT_RISK
    assert r.reason == "even attending the 1 remaining session reaches only 7.0 h of 9.0 h"


def test_at_risk_names_both_shortfalls_and_counts_sessions() -> None:
    ep = episode(session(MON, 9, hours=1, attended=60), session(THU, 9), session(THU, 14))
    r = compute(ep, at(TUE, 12))
    assert r.status is Status.AT_RISK
    assert (
        r.reason
        == "even attending all 2 remaining sessions reaches only 7.0 h of 9.0 h and 2 of 3 days"
    )


def test_week_over_and_short_is_below() -> None:
    ep = episode(
        session(MON, 9, attended=180), session(WED, 9, attended=180), session(FRI, 9, attended=0)
    )
    r = compute(ep, AFTER_WEEK)
    assert r.status is Status.BELOW
    assert (r.minutes_attended, r.days_attended, r.minutes_remaining) == (360, 2, 0)
    assert r.reason == "attended 6.0 h on 2 days; minimum 9.0 h on 3 days"


def test_week_ends_at_next_monday_midnight_local() -> None:
    ep = episode(session(MON, 9, attended=180), session(WED, 9, attended=180))
    assert compute(ep, at(MON + timedelta(days=7), 0)).status is Status.BELOW
    assert compute(ep, at(SUN, 23, 59)).status is Status.AT_RISK


def test_hours_over_the_maximum_are_flagged_without_changing_status() -> None:
    days = [MON, TUE, WED, THU, FRI, SAT, SUN]
    seven = episode(*(session(d, 9, attended=180) for d in days))  # 21 h
    r = compute(seven, AFTER_WEEK)
    assert r.status is Status.MET
    assert r.over_max is True
    assert r.reason.endswith("; over the 19.0 h maximum")

    exactly_max = episode(*(session(d, 9, attended=190) for d in days[:6]))  # 1140 min
    assert compute(exactly_max, AFTER_WEEK).over_max is False
    no_max = WeeklyRule(min_minutes=540, max_minutes=None, min_days=3)
    assert compute(seven, AFTER_WEEK, rule=no_max).over_max is False


def test_past_session_without_recorded_attendance_is_neither_attended_nor_remaining() -> None:
    ep = episode(session(MON, 9, attended=180), session(WED, 9), session(FRI, 9))
    r = compute(ep, at(THU, 12))
    assert (r.minutes_attended, r.minutes_remaining, r.days_possible) == (180, 180, 2)
    assert r.status is Status.AT_RISK
    assert r.reason.endswith("; 1 past session not yet recorded")


def test_in_progress_session_still_counts_as_remaining() -> None:
    ep = episode(session(MON, 9, attended=180), session(WED, 9, attended=180), session(FRI, 9))
    r = compute(ep, at(FRI, 10))
    assert r.minutes_remaining == 180
    assert r.status is Status.ON_TRACK


def test_cancelled_sessions_count_neither_as_attended_nor_remaining() -> None:
    ep = episode(
        session(MON, 9, attended=180),
        session(WED, 9, attended=180, cancelled=True),
        session(FRI, 9, cancelled=True),
    )
    no_credit = WeeklyRule(min_minutes=540, max_minutes=1140, min_days=3, credit_cancelled=False)
    r = compute(ep, at(TUE, 12), rule=no_credit)
    assert (r.minutes_attended, r.days_attended) == (180, 1)
    assert (r.minutes_remaining, r.days_possible) == (0, 1)
    assert r.status is Status.AT_RISK


def test_sessions_the_program_cancelled_lower_the_minimum() -> None:
    # A holiday on Wednesday: 6 h over 2 days is the whole of what the patient could attend.
    ep = episode(
        session(MON, 9, attended=180),
        session(WED, 9, cancelled=True),
        session(FRI, 9, attended=180),
    )
    r = compute(ep, AFTER_WEEK)
    assert (r.required_minutes, r.required_days) == (360, 2)
    assert r.status is Status.MET
    assert "3.0 h credited for cancelled sessions" in r.reason
    short = compute(
        episode(session(MON, 9, attended=180), session(WED, 9, cancelled=True)), AFTER_WEEK
    )
    assert short.status is Status.BELOW


def test_a_week_the_program_closed_is_exempt() -> None:
    ep = episode(*(session(d, 9, cancelled=True) for d in (MON, WED, FRI)))
    r = compute(ep, AFTER_WEEK)
    assert r.status is Status.EXEMPT
    assert r.reason == "the program cancelled this week's sessions"


def test_before_the_week_starts_status_comes_from_the_schedule() -> None:
    before = at(MON - timedelta(days=3), 12)
    full = episode(session(MON, 9), session(WED, 9), session(FRI, 9))
    thin = episode(session(MON, 9), session(WED, 9))
    assert compute(full, before).status is Status.ON_TRACK
    assert compute(full, before).minutes_remaining == 540
    assert compute(thin, before).status is Status.AT_RISK


def test_sessions_outside_the_week_are_ignored() -> None:
    ep = episode(
        session(MON - timedelta(days=1), 9, attended=180),
        session(MON, 9, attended=180),
        session(MON + timedelta(days=7), 9, attended=180),
    )
    r = compute(ep, AFTER_WEEK)
    assert (r.minutes_attended, r.days_attended) == (180, 1)


def test_two_sessions_on_one_day_count_as_one_day() -> None:
    ep = episode(session(MON, 9, attended=180), session(MON, 14, attended=180))
    r = compute(ep, AFTER_WEEK)
    assert (r.minutes_attended, r.days_attended) == (360, 1)


def test_a_remaining_session_on_an_attended_day_adds_no_possible_day() -> None:
    ep = episode(session(MON, 9, attended=180), session(MON, 14, hours=6), session(TUE, 9))
    r = compute(ep, at(MON, 12, 30))
    assert (r.days_attended, r.days_possible) == (1, 2)
    assert r.status is Status.AT_RISK
    assert r.reason == "even attending all 2 remaining sessions reaches only 2 of 3 days"


def test_absent_day_is_not_an_attended_day() -> None:
    ep = episode(session(MON, 9, attended=0), session(TUE, 9, attended=180))
    assert compute(ep, AFTER_WEEK).days_attended == 1


# --- time zones and daylight saving ---------------------------------------------------------------


def test_week_bounds_are_local_midnights_and_167_or_169_hours_long_on_dst_weeks() -> None:
    lo, hi = local_week_bounds(SPRING_MON, "America/New_York")
    assert (lo.date(), lo.hour, hi.date(), hi.hour) == (SPRING_MON, 0, date(2026, 3, 9), 0)
    assert hi.astimezone(UTC) - lo.astimezone(UTC) == timedelta(hours=167)

    lo, hi = local_week_bounds(FALL_MON, NY)
    assert (lo.date(), hi.date()) == (FALL_MON, date(2026, 11, 2))
    assert hi.astimezone(UTC) - lo.astimezone(UTC) == timedelta(hours=169)

    lo, hi = local_week_bounds(MON, NY)
    assert hi.astimezone(UTC) - lo.astimezone(UTC) == timedelta(hours=168)


def test_week_starting_at_a_skipped_midnight_starts_at_the_first_real_instant() -> None:
    # Iran sprang forward at 00:00 on Monday 2021-03-22: that day began at 01:00 +04:30.
    lo, hi = local_week_bounds(date(2021, 3, 22), "Asia/Tehran")
    assert (lo.date(), lo.hour, lo.utcoffset()) == (date(2021, 3, 22), 1, timedelta(hours=4.5))
    assert lo.astimezone(UTC) == datetime(2021, 3, 21, 20, 30, tzinfo=UTC)
    _, previous_hi = local_week_bounds(date(2021, 3, 15), "Asia/Tehran")
    assert previous_hi == lo


def test_fall_back_night_session_0100_to_0300_is_180_minutes() -> None:
    night = date(2026, 11, 1)
    start = at(night, 1)  # fold=0: the first 01:00, still EDT
    end = at(night, 3)  # EST
    assert start.utcoffset() == timedelta(hours=-4) and end.utcoffset() == timedelta(hours=-5)
    occ = Occurrence(start=start, end=end, attended_minutes=None)
    assert occ.scheduled_minutes == 180

    r = compute(episode(occ), at(FALL_MON, 8), week_start=FALL_MON)
    assert r.minutes_remaining == 180


def test_spring_forward_night_session_0100_to_0300_is_60_minutes() -> None:
    night = date(2026, 3, 8)
    start = at(night, 1)  # EST
    end = at(night, 3)  # EDT; 02:00-03:00 does not exist this night
    assert start.utcoffset() == timedelta(hours=-5) and end.utcoffset() == timedelta(hours=-4)
    occ = Occurrence(start=start, end=end, attended_minutes=None)
    assert occ.scheduled_minutes == 60

    r = compute(episode(occ), at(SPRING_MON, 8), week_start=SPRING_MON)
    assert r.minutes_remaining == 60


def test_sunday_2330_local_stays_in_its_week_although_it_is_monday_in_utc() -> None:
    for week, sunday in ((SPRING_MON, date(2026, 3, 8)), (FALL_MON, date(2026, 11, 1))):
        occ = Occurrence(start=at(sunday, 23, 30), end=at(sunday, 23, 59), attended_minutes=29)
        assert occ.start.astimezone(UTC).date() == sunday + timedelta(days=1)
        assert service_date(occ.start, NY) == sunday

        later = at(sunday + timedelta(days=2), 12)
        this_week = compute(episode(occ), later, week_start=week)
        next_week = compute(episode(occ), later, week_start=week + timedelta(days=7))
        assert this_week.minutes_attended == 29
        assert next_week.minutes_attended == 0


def test_utc_timestamps_are_converted_to_the_site_zone() -> None:
    # Monday 2026-01-19 03:00 UTC is Sunday 22:00 in New York.
    start = datetime(2026, 1, 19, 3, 0, tzinfo=UTC)
    occ = Occurrence(start=start, end=start + timedelta(hours=2), attended_minutes=120)
    assert compute(episode(occ), AFTER_WEEK).minutes_attended == 120
    assert compute(episode(occ), AFTER_WEEK, week_start=MON + timedelta(days=7)).days_attended == 0


def test_session_crossing_midnight_counts_fully_on_its_start_day() -> None:
    occ = Occurrence(start=at(SUN, 22), end=at(SUN + timedelta(days=1), 1), attended_minutes=180)
    assert occ.scheduled_minutes == 180
    this_week = compute(episode(occ), AFTER_WEEK)
    next_week = compute(episode(occ), AFTER_WEEK, week_start=MON + timedelta(days=7))
    assert (this_week.minutes_attended, this_week.days_attended) == (180, 1)
    assert (next_week.minutes_attended, next_week.days_attended) == (0, 0)


def test_ambiguous_wall_times_are_ordered_by_real_time() -> None:
    night = date(2026, 11, 1)
    # 01:30 EST (second pass) is 45 minutes *after* 01:45 EDT (first pass).
    with pytest.raises(ValueError, match="must be after start"):
        Occurrence(start=at(night, 1, 30, fold=1), end=at(night, 1, 45), attended_minutes=None)
    occ = Occurrence(start=at(night, 1, 45), end=at(night, 1, 30, fold=1), attended_minutes=None)
    assert occ.scheduled_minutes == 45


# --- partial weeks and holds ----------------------------------------------------------------------


def test_admitted_on_thursday_gets_a_pro_rated_minimum() -> None:
    ep = episode(
        session(THU, 9, hours=3, attended=160),
        session(SAT, 9, hours=3, attended=160),
        admitted_on=THU,
    )
    r = compute(ep, AFTER_WEEK)
    assert r.prorated is True
    assert (r.required_minutes, r.required_days) == (309, 2)  # ceil(540*4/7), ceil(3*4/7)
    assert r.status is Status.MET
    assert (
        r.reason == "5.3 h on 2 days meets the 5.2 h / 2-day minimum (pro-rated for a partial week)"
    )


def test_pro_rated_shortfall_of_a_few_minutes_is_not_hidden_by_rounding() -> None:
    ep = episode(
        session(THU, 9, attended=154), session(SAT, 9, attended=150), admitted_on=THU
    )  # 304 of 309 minutes
    r = compute(ep, AFTER_WEEK)
    assert r.status is Status.BELOW
    assert r.reason == (
        "attended 5.0 h on 2 days; minimum 5.2 h on 2 days (pro-rated for a partial week)"
    )


def test_discharged_on_wednesday_gets_a_pro_rated_minimum() -> None:
    ep = episode(session(MON, 9, attended=120), discharged_on=WED)
    r = compute(ep, AFTER_WEEK)
    assert r.prorated is True
    assert (r.required_minutes, r.required_days) == (232, 2)  # ceil(540*3/7), ceil(3*3/7)
    assert r.status is Status.BELOW
    assert r.reason.endswith("(pro-rated for a partial week)")


def test_seven_day_rule_in_a_one_day_week_requires_that_one_day() -> None:
    rule = WeeklyRule(min_minutes=540, max_minutes=None, min_days=7)
    ep = episode(session(SUN, 9, attended=180), admitted_on=SUN)
    r = compute(ep, AFTER_WEEK, rule=rule)
    assert (r.required_minutes, r.required_days) == (78, 1)
    assert r.status is Status.MET


def test_admission_and_discharge_outside_the_week_do_not_pro_rate() -> None:
    ep = episode(admitted_on=MON - timedelta(days=30), discharged_on=SUN)
    r = compute(ep, AFTER_WEEK)
    assert (r.prorated, r.required_minutes, r.required_days) == (False, 540, 3)


def test_on_hold_week_is_exempt() -> None:
    ep = episode(session(MON, 9, attended=60), on_hold_days=frozenset({WED, THU}))
    r = compute(ep, AFTER_WEEK)
    assert r.status is Status.EXEMPT
    assert r.reason == "on hold this week"
    assert (r.required_minutes, r.required_days) == (0, 0)
    assert r.minutes_attended == 60


def test_hold_days_outside_the_week_do_not_exempt_it() -> None:
    ep = episode(on_hold_days=frozenset({MON - timedelta(days=1)}))
    assert compute(ep, AFTER_WEEK).status is Status.BELOW


def test_not_enrolled_week_is_exempt() -> None:
    admitted_later = episode(admitted_on=MON + timedelta(days=7))
    discharged_before = episode(discharged_on=MON - timedelta(days=1))
    for ep in (admitted_later, discharged_before):
        r = compute(ep, AFTER_WEEK)
        assert (r.status, r.reason) == (Status.EXEMPT, "not enrolled this week")


def test_zero_minimum_is_exempt() -> None:
    rule = WeeklyRule(min_minutes=0, max_minutes=None, min_days=0)
    r = compute(episode(), AFTER_WEEK, rule=rule)
    assert r.status is Status.EXEMPT


# --- batching and helpers -------------------------------------------------------------------------


def test_batch_computes_each_episode_by_key() -> None:
    met = episode(*(session(d, 9, attended=180) for d in (MON, WED, FRI)), key="a")
    short = episode(session(MON, 9, attended=180), key="b")
    wh = WeeklyHours(RULE, MON, NY, AFTER_WEEK)
    assert wh.add(met).add(short) is wh
    results = wh.compute()
    assert {k: r.status for k, r in results.items()} == {"a": Status.MET, "b": Status.BELOW}
    assert all(r.week_start == MON for r in results.values())
    assert wh.results == results


def test_adding_the_same_episode_twice_is_an_error() -> None:
    wh = WeeklyHours(RULE, MON, NY, AFTER_WEEK).add(episode(key="a"))
    with pytest.raises(ValueError, match="already added"):
        wh.add(episode(key="a"))


def test_week_start_for_returns_the_monday() -> None:
    assert week_start_for(MON) == MON
    assert week_start_for(SUN) == MON
    assert week_start_for(date(2026, 11, 1)) == FALL_MON


def test_service_date_uses_the_site_zone() -> None:
    start = datetime(2026, 1, 13, 2, 0, tzinfo=UTC)
    assert service_date(start, "America/New_York") == MON
    assert service_date(start, "Europe/Berlin") == TUE


# --- bad input ------------------------------------------------------------------------------------


def test_week_start_must_be_a_monday() -> None:
    with pytest.raises(ValueError, match="must be a Monday"):
        WeeklyHours(RULE, TUE, NY, AFTER_WEEK)
    with pytest.raises(ValueError, match="must be a Monday"):
        local_week_bounds(SUN, NY)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        WeeklyHours(RULE, MON, NY, datetime(2026, 1, 14, 12, 0))


def test_end_must_be_after_start() -> None:
    start = at(MON, 9)
    with pytest.raises(ValueError, match="must be after start"):
        Occurrence(start=start, end=start, attended_minutes=None)
    with pytest.raises(ValueError, match="must be after start"):
        Occurrence(start=start, end=start - timedelta(minutes=1), attended_minutes=None)


def test_naive_occurrence_times_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Occurrence(start=datetime(2026, 1, 12, 9), end=at(MON, 12), attended_minutes=None)


def test_negative_attended_minutes_are_rejected() -> None:
    with pytest.raises(ValueError, match="attended_minutes must be >= 0"):
        session(MON, 9, attended=-1)


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        WeeklyHours(RULE, MON, "America/Nowhere", AFTER_WEEK)


def test_discharge_before_admission_is_rejected() -> None:
    with pytest.raises(ValueError, match="before admitted_on"):
        episode(admitted_on=WED, discharged_on=MON)


# --- properties -----------------------------------------------------------------------------------

WEEKS = [MON, SPRING_MON, FALL_MON]
ONE_IN_FIVE = st.integers(0, 4).map(lambda n: n == 4)
ATTENDANCE = st.sampled_from([None, 100, 0]) | st.integers(0, 100)
GENEROUS_ATTENDANCE = st.sampled_from([100, None]) | st.integers(50, 100)
PROPS = settings(max_examples=200, deadline=None, database=None)


def instants(week: date, before: timedelta, after: timedelta) -> st.SearchStrategy[datetime]:
    """Real instants (every minute, so DST folds included) from week start - before to end + after,
    expressed in New York time."""
    lo, hi = (b.astimezone(UTC) for b in local_week_bounds(week, NY))
    span = (hi - lo + before + after) // timedelta(minutes=1)
    first = lo - before
    return st.integers(0, span - 1).map(lambda k: (first + timedelta(minutes=k)).astimezone(NY))


@st.composite
def _occurrence(
    draw: st.DrawFn, starts: st.SearchStrategy[datetime], generous: bool = False
) -> Occurrence:
    """A session; ``generous`` ones are long and mostly attended, so MET weeks are common."""
    start = draw(starts)
    minutes = draw(st.integers(min_value=120 if generous else 15, max_value=300))
    end = (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(NY)
    # attended_minutes: not recorded (None), or a percentage of the session, full and absent often.
    percent = draw(GENEROUS_ATTENDANCE if generous else ATTENDANCE)
    attended = None if percent is None else minutes * percent // 100
    return Occurrence(start, end, attended, cancelled=draw(ONE_IN_FIVE))


def _strategies(week: date) -> dict[str, st.SearchStrategy[Any]]:
    # Built once per week: constructing strategies inside every draw makes Hypothesis slow.
    one_day, two_days, none = timedelta(days=1), timedelta(days=2), timedelta(0)
    enrolment_day = st.dates(week - timedelta(days=2), week + timedelta(days=7))
    in_week = instants(week, none, none)
    return {
        "now": instants(week, one_day, two_days),
        "occurrences": st.lists(_occurrence(instants(week, one_day, one_day)), max_size=12),
        # A busy, fully enrolled week, so that MET and ON_TRACK weeks are common too.
        "busy": st.lists(_occurrence(in_week, generous=True), min_size=3, max_size=10),
        "in_week": _occurrence(in_week),
        "enrolment": st.tuples(enrolment_day, enrolment_day),
        "holds": st.frozensets(st.dates(week, week + timedelta(days=6)), min_size=1, max_size=2),
    }


STRATEGIES = {week: _strategies(week) for week in WEEKS}


@st.composite
def cases(draw: st.DrawFn) -> tuple[date, datetime, EpisodeWeek]:
    week = draw(st.sampled_from(WEEKS))
    strategies = STRATEGIES[week]
    if draw(st.booleans()):
        ep = EpisodeWeek("p", None, None, occurrences=tuple(draw(strategies["busy"])))
    else:
        admitted, discharged = draw(strategies["enrolment"])
        if discharged < admitted:
            admitted, discharged = discharged, admitted
        if draw(ONE_IN_FIVE):  # None admission = admitted before this week
            admitted = None
        if draw(st.booleans()):  # None discharge = still open
            discharged = None
        holds = draw(strategies["holds"]) if draw(ONE_IN_FIVE) else frozenset()
        occs = tuple(draw(strategies["occurrences"]))
        ep = EpisodeWeek("p", admitted, discharged, holds, occs)
    return week, draw(strategies["now"]), ep


def run(week: date, now: datetime, ep: EpisodeWeek) -> WeekResult:
    return WeeklyHours(RULE, week, NY, now).add(ep).compute()["p"]


@PROPS
@given(cases())
def test_attended_plus_remaining_never_exceeds_scheduled(
    case: tuple[date, datetime, EpisodeWeek],
) -> None:
    r = run(*case)
    scheduled = sum(o.scheduled_minutes for o in case[2].occurrences)
    assert r.minutes_attended + r.minutes_remaining <= scheduled


@PROPS
@given(cases())
def test_met_exactly_when_both_thresholds_are_reached(
    case: tuple[date, datetime, EpisodeWeek],
) -> None:
    r = run(*case)
    if r.status is not Status.EXEMPT:
        thresholds = r.minutes_attended >= r.required_minutes and r.days_attended >= r.required_days
        assert (r.status is Status.MET) == thresholds
        week_over = case[1] >= local_week_bounds(case[0], NY)[1]
        if not thresholds:
            assert (r.status is Status.BELOW) == week_over


@PROPS
@given(cases(), st.data())
def test_one_more_attended_session_never_undoes_met(
    case: tuple[date, datetime, EpisodeWeek], data: st.DataObject
) -> None:
    week, now, ep = case
    before = run(week, now, ep)
    extra = data.draw(STRATEGIES[week]["in_week"])
    extra = Occurrence(extra.start, extra.end, max(1, extra.scheduled_minutes), cancelled=False)
    more = EpisodeWeek(
        ep.key, ep.admitted_on, ep.discharged_on, ep.on_hold_days, (*ep.occurrences, extra)
    )
    after = run(week, now, more)
    assert after.minutes_attended > before.minutes_attended
    assert after.days_attended >= before.days_attended
    if before.status is Status.MET:
        assert after.status is Status.MET


@PROPS
@given(cases(), st.data())
def test_result_does_not_depend_on_occurrence_order(
    case: tuple[date, datetime, EpisodeWeek], data: st.DataObject
) -> None:
    week, now, ep = case
    shuffled = tuple(data.draw(st.permutations(ep.occurrences)))
    reordered = EpisodeWeek(ep.key, ep.admitted_on, ep.discharged_on, ep.on_hold_days, shuffled)
    assert run(week, now, reordered) == run(week, now, ep)


@PROPS
@given(cases())
def test_day_counts_are_bounded(case: tuple[date, datetime, EpisodeWeek]) -> None:
    r = run(*case)
    n = len(case[2].occurrences)
    assert r.days_attended <= min(7, n)
    assert r.days_attended <= r.days_possible <= min(7, n)


@PROPS
@given(
    st.sampled_from(WEEKS),
    st.datetimes(
        min_value=datetime(2025, 12, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
    ),
)
def test_service_date_in_week_iff_instant_within_local_week_bounds(
    week: date, instant: datetime
) -> None:
    lo, hi = local_week_bounds(week, NY)
    in_bounds = lo.astimezone(UTC) <= instant < hi.astimezone(UTC)
    assert (week <= service_date(instant, NY) <= week + timedelta(days=6)) == in_bounds
    assert (week_start_for(service_date(instant, NY)) == week) == in_bounds
