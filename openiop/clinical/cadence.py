"""Treatment-plan review cadence (domain.md §5.1). Pure: no Django imports.

A program reviews plans every N days (state Medicaid specs: 30) or every N calendar months
(Medicare IOP: "no less than every other month" = 2 months). Calendar months are not a fixed
number of days, so "one month after January 31" is the last day of February: the day of the
month is kept when the target month has it and clamped to the month's end when it does not.

Reviews are counted from the day a review actually happened, not from the day it was due, so a
late review never leaves the next one already overdue.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Literal

Unit = Literal["days", "months"]
Status = Literal["ok", "due_soon", "overdue"]

DAYS: Unit = "days"
MONTHS: Unit = "months"
OK: Status = "ok"
DUE_SOON: Status = "due_soon"
OVERDUE: Status = "overdue"
# Alert this many days before a review is due (domain.md §5.1: "alerts at T-7 days").
WARN_DAYS = 7


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved ``months`` calendar months, clamped to the end of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def next_review_due(start: dt.date, interval: int, unit: str) -> dt.date:
    """The day the next review is due, ``interval`` days or calendar months after ``start``.

    Raises ``ValueError`` for an interval below 1 or an unknown unit: a cadence of zero would
    make every plan due the day it was signed.
    """
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise ValueError(f"the review interval must be a whole number of at least 1: {interval!r}")
    if unit == DAYS:
        return start + dt.timedelta(days=interval)
    if unit == MONTHS:
        return add_months(start, interval)
    raise ValueError(f"unknown review unit {unit!r}; use 'days' or 'months'")


def review_status(next_review_on: dt.date, today: dt.date, warn_days: int = WARN_DAYS) -> Status:
    """``overdue`` after the due day, ``due_soon`` from ``warn_days`` before it up to and
    including the due day itself, ``ok`` before that."""
    if today > next_review_on:
        return OVERDUE
    if (next_review_on - today).days <= warn_days:
        return DUE_SOON
    return OK


def describe(interval: int, unit: str) -> str:
    """The cadence in words, as the plan page shows it ("every 30 days", "every 2 months")."""
    if interval == 1:
        return "every day" if unit == DAYS else "every month"
    return f"every {interval} {unit}"
