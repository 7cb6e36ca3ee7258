"""Plan review cadence: pure date arithmetic, no database."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.clinical.cadence import add_months, describe, next_review_due, review_status

D = dt.date
dates = st.dates(min_value=D(1990, 1, 1), max_value=D(2100, 12, 31))


@pytest.mark.parametrize(
    ("start", "interval", "unit", "due"),
    [
        (D(2026, 11, 2), 30, "days", D(2026, 12, 2)),
        (D(2026, 12, 15), 30, "days", D(2027, 1, 14)),  # across the year end
        (D(2028, 2, 10), 30, "days", D(2028, 3, 11)),  # leap February has 29 days
        (D(2027, 2, 10), 30, "days", D(2027, 3, 12)),
        (D(2027, 1, 31), 1, "months", D(2027, 2, 28)),  # clamped to the month's end
        (D(2028, 1, 31), 1, "months", D(2028, 2, 29)),  # leap year
        (D(2028, 2, 29), 12, "months", D(2029, 2, 28)),
        (D(2026, 12, 31), 2, "months", D(2027, 2, 28)),  # Medicare "every other month"
        (D(2027, 8, 31), 2, "months", D(2027, 10, 31)),
        (D(2027, 10, 31), 1, "months", D(2027, 11, 30)),
        (D(2026, 11, 15), 2, "months", D(2027, 1, 15)),  # same day across the year end
        (D(2027, 3, 30), 1, "months", D(2027, 4, 30)),
    ],
)
def test_worked_examples(start, interval, unit, due):
    assert next_review_due(start, interval, unit) == due


def test_a_chain_of_monthly_reviews_keeps_month_ends_clamped_from_the_review_day():
    # Reviews counted from the review day: Jan 31 -> Feb 29 (2028 is a leap year) -> Mar 29.
    first = next_review_due(D(2028, 1, 31), 1, "months")
    assert first == D(2028, 2, 29)
    assert next_review_due(first, 1, "months") == D(2028, 3, 29)


@pytest.mark.parametrize("interval", [0, -1, True, 1.5])
def test_an_interval_below_one_or_not_whole_is_refused(interval):
    with pytest.raises(ValueError, match="interval"):
        next_review_due(D(2026, 1, 1), interval, "days")


def test_an_unknown_unit_is_refused():
    with pytest.raises(ValueError, match="unit"):
        next_review_due(D(2026, 1, 1), 1, "weeks")


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (D(2026, 12, 1), "ok"),  # 8 days before
        (D(2026, 12, 2), "due_soon"),  # T-7
        (D(2026, 12, 9), "due_soon"),  # the due day itself
        (D(2026, 12, 10), "overdue"),
    ],
)
def test_review_status_alerts_seven_days_ahead(today, status):
    assert review_status(D(2026, 12, 9), today) == status


def test_review_status_warn_window_is_configurable():
    assert review_status(D(2026, 12, 9), D(2026, 11, 25), warn_days=14) == "due_soon"
    assert review_status(D(2026, 12, 9), D(2026, 12, 8), warn_days=0) == "ok"


def test_describe():
    assert describe(30, "days") == "every 30 days"
    assert describe(2, "months") == "every 2 months"
    assert describe(1, "months") == "every month"


@given(start=dates, interval=st.integers(1, 400), unit=st.sampled_from(["days", "months"]))
def test_due_date_is_always_after_start(start, interval, unit):
    assert next_review_due(start, interval, unit) > start


@given(start=dates, months=st.integers(1, 36))
def test_month_cadence_lands_on_the_same_day_or_the_month_end(start, months):
    due = next_review_due(start, months, "months")
    last = calendar.monthrange(due.year, due.month)[1]
    assert due.day == start.day or (due.day == last and start.day > last)
    assert (due.year - start.year) * 12 + due.month - start.month == months


@given(start=dates, days=st.integers(1, 400))
def test_day_cadence_is_exact(start, days):
    assert (next_review_due(start, days, "days") - start).days == days


@given(day=dates, a=st.integers(0, 24), b=st.integers(0, 24))
def test_whole_month_shifts_compose_when_no_clamping_happens(day, a, b):
    if day.day <= 28:
        assert add_months(add_months(day, a), b) == add_months(day, a + b)


@given(due=dates, today=dates)
def test_review_status_is_overdue_exactly_after_the_due_day(due, today):
    assert (review_status(due, today) == "overdue") == (today > due)
