"""Counting units from attendance: pure, no database."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.billing.selectors import Visit, count_units

D = dt.date(2026, 11, 2)
VISITS = [
    Visit(D, 180),
    Visit(D, 60),  # a second session the same day
    Visit(D + dt.timedelta(days=2), 150),
    Visit(D + dt.timedelta(days=10), 180),  # after the range
    Visit(D - dt.timedelta(days=1), 180),  # before the range
]
END = D + dt.timedelta(days=6)


def test_days_count_distinct_dates_of_service_inside_the_range():
    assert count_units("days", VISITS, D, END) == 2


def test_sessions_count_every_attended_session_inside_the_range():
    assert count_units("sessions", VISITS, D, END) == 3


def test_hours_sum_attended_minutes_to_one_decimal():
    assert count_units("hours", VISITS, D, END) == Decimal("6.5")


def test_zero_minute_visits_do_not_count():
    assert count_units("days", [Visit(D, 0)], D, END) == 0


def test_unknown_unit_kind_is_refused():
    with pytest.raises(ValueError, match="unit kind"):
        count_units("visits", VISITS, D, END)


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(1, 400)), max_size=30))
def test_days_never_exceed_sessions_and_hours_match_minutes(pairs):
    visits = [Visit(D + dt.timedelta(days=d), m) for d, m in pairs]
    end = D + dt.timedelta(days=20)
    days = count_units("days", visits, D, end)
    sessions = count_units("sessions", visits, D, end)
    assert days <= sessions == len(visits)
    assert abs(count_units("hours", visits, D, end) * 60 - sum(m for _, m in pairs)) <= 3
