"""Aftercare rules: follow-up schedule, six-month use outcome, monthly engagement, "gone quiet".

Pure: standard library only (no Django), dates in, values out. All dates are the clinic's *local*
calendar dates (the caller converts with ``site.today()`` / the site's time zone); passing a
``datetime`` where a ``date`` is expected raises ``TypeError`` instead of silently using a UTC day.

Follow-ups
==========

A patient is contacted at fixed offsets after discharge, by default **30, 90, 180 and 365 days**
(configurable per program: :class:`FollowUpSchedule`). The follow-up for offset ``k`` is *due on*
``discharged_on + k days``. Contacts rarely happen on the exact day, so each time point has a
**window**: from ``window_before`` days before the due date (default 14) to ``grace_after`` days
after it (default 30), both ends included. A contact inside the window counts for that time point.

The status of one follow-up on a given day (:func:`follow_up_status`):

==============  ==================================================================
``"done"``      a contact was completed (whatever the date)
``"upcoming"``  not done, and the window has not opened (today < due − window_before)
``"due"``       not done, and today is inside the window (due − before <= today <= due + grace)
``"overdue"``   not done, and the window has closed (today > due + grace)
==============  ==================================================================

So a follow-up appears on the work list as "due" two weeks before its date and turns "overdue"
a month after; an overdue one is still worth a call, but a contact made then is outside the
window and does not count for that time point (:meth:`FollowUpSchedule.time_point_for`).

Use outcome at a follow-up
==========================

:func:`use_outcome` classifies one follow-up, comparing it with the **baseline**: days of use in
the 30 days before admission (0-30), recorded at admission.

* ``ABSTINENT``: no use at all since discharge (continuous abstinence). A report of "no use since
  discharge" together with days of use in the past 30 days contradicts itself; we then trust the
  days (the conservative reading) and do not call it abstinence.
* ``REDUCED``: days of use in the past 30 days are at most ``(1 − threshold) × baseline``,
  i.e. a reduction of at least ``threshold`` (default 95%). The comparison is done on integers
  (``now × 100 <= baseline × 5`` for 95%), so the boundary is exact: baseline 20, now 1 is a 95%
  reduction (REDUCED); baseline 19, now 1 is 94.7% (NOT_MET).
* ``NOT_MET``: use was reported and the reduction criterion is not met.
* ``UNKNOWN``: not enough data to decide (no response, or a missing answer the decision needs).
  UNKNOWN is **never** a success; the report counts it as a non-response.

Edge rules, each tested:

* **Baseline 0** (no use in the 30 days before admission, e.g. admitted from residential care or
  jail): a reduction from 0 is not defined, so the criterion reads as written: ``now <= 5% of 0``,
  i.e. only 0 days of use in the past 30 days meets it; any use in the past 30 days is NOT_MET.
* **Baseline missing**: the result is whatever holds for *every* possible baseline (0-30). 0 days
  of use now meets the criterion for any baseline (REDUCED); with 2 or more days now it cannot be
  met even from a baseline of 30 days (30 × 5% = 1.5), so NOT_MET; 1 day now is UNKNOWN.
* Days of use in the past 30 days missing while use since discharge is reported (or unknown):
  UNKNOWN.

Aftercare engagement
====================

An aftercare plan (default 10 months, :func:`aftercare_plan_ends_on`) has components (alumni
group, outpatient therapy, peer support, mutual-help meetings, MAT, sober living, virtual
aftercare); an *engagement event* is ``(date, component_id)``: one attended group, one logged
meeting, and so on.

**Months** are calendar-month offsets from the aftercare start (:func:`add_months`): month 1 runs
from the start date to the day before the same day-of-month one month later, month 2 from there,
and so on; a start on the 31st uses the last day of shorter months (31 Jan -> 28/29 Feb -> 31 Mar),
always counted from the start date so there is no drift. The last month is cut at ``end`` and
marked ``partial``. Each month's **band** is the number of distinct components with at least one
engagement event in it: ``"0"``, ``"1"`` or ``"2+"`` (:func:`monthly_engagement`).

For the outcome report, a patient's **engagement band** (:func:`overall_engagement_band`) is the
number of distinct components with at least one engagement event between discharge and the
180-day follow-up due date (both included): this is the exposure the six-month outcome is
compared across (0 / 1 / 2+ components). It is deliberately simple and easy to audit; it does not
weigh how often a component was attended.

**Gone quiet** (:func:`gone_quiet`): no engagement event for ``weeks`` weeks (default 3). The
clock starts at the last engagement, or at the aftercare start for someone who has not engaged
yet; the patient is quiet from the day ``weeks × 7`` days have passed (last engagement on the
1st, 3 weeks: quiet from the 22nd). Nobody is quiet before their aftercare starts.
"""

from __future__ import annotations

import calendar
import enum
from bisect import bisect_right
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Final, Literal, NamedTuple

# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


def _check_date(name: str, value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date (a local calendar day), got {type(value).__name__}")
    return value


def _check_days(name: str, value: int, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the end of a shorter month.

    ``add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)``. ``months`` may be negative.
    """
    _check_date("day", day)
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


#: Default length of an aftercare plan in months (issue 9; configurable per plan).
DEFAULT_PLAN_MONTHS: Final = 10


def aftercare_plan_ends_on(starts_on: date, months: int = DEFAULT_PLAN_MONTHS) -> date:
    """The last day of a plan of ``months`` calendar months starting on ``starts_on``."""
    _check_days("months", months, minimum=1)
    return add_months(starts_on, months) - timedelta(days=1)


# --------------------------------------------------------------------------------------------
# Follow-ups
# --------------------------------------------------------------------------------------------

#: Follow-up offsets in days after discharge (issue 9).
DEFAULT_FOLLOW_UP_OFFSETS: Final[tuple[int, ...]] = (30, 90, 180, 365)
#: A follow-up window opens this many days before the due date ...
DEFAULT_WINDOW_BEFORE: Final = 14
#: ... and closes this many days after it.
DEFAULT_GRACE_AFTER: Final = 30
#: The follow-up whose outcome the outcome report uses ("six months later").
OUTCOME_FOLLOW_UP_DAYS: Final = 180

FollowUpStatus = Literal["upcoming", "due", "overdue", "done"]
FOLLOW_UP_STATUSES: Final[tuple[FollowUpStatus, ...]] = ("upcoming", "due", "overdue", "done")


class FollowUpDue(NamedTuple):
    """One scheduled follow-up: its offset in days after discharge and its due date."""

    offset_days: int
    due_on: date


def _check_offsets(offsets: Iterable[int]) -> tuple[int, ...]:
    values = tuple(offsets)
    for value in values:
        _check_days("follow-up offset", value, minimum=1)
    if list(values) != sorted(set(values)):
        raise ValueError(f"follow-up offsets must be strictly increasing, got {values}")
    return values


def follow_ups_due(
    discharged_on: date, offsets: Iterable[int] = DEFAULT_FOLLOW_UP_OFFSETS
) -> list[FollowUpDue]:
    """The follow-ups for a discharge: ``[(offset_days, discharged_on + offset_days), ...]``."""
    _check_date("discharged_on", discharged_on)
    return [FollowUpDue(k, discharged_on + timedelta(days=k)) for k in _check_offsets(offsets)]


def follow_up_window(
    due_on: date,
    *,
    window_before: int = DEFAULT_WINDOW_BEFORE,
    grace_after: int = DEFAULT_GRACE_AFTER,
) -> tuple[date, date]:
    """The first and last day (both included) on which a contact counts for ``due_on``."""
    _check_date("due_on", due_on)
    _check_days("window_before", window_before)
    _check_days("grace_after", grace_after)
    return due_on - timedelta(days=window_before), due_on + timedelta(days=grace_after)


def follow_up_status(
    due_on: date,
    today: date,
    completed: bool,
    grace_after: int = DEFAULT_GRACE_AFTER,
    *,
    window_before: int = DEFAULT_WINDOW_BEFORE,
) -> FollowUpStatus:
    """``"done"``, ``"upcoming"``, ``"due"`` or ``"overdue"`` (see the module docstring)."""
    opens_on, closes_on = follow_up_window(
        due_on, window_before=window_before, grace_after=grace_after
    )
    _check_date("today", today)
    if completed:
        return "done"
    if today < opens_on:
        return "upcoming"
    if today <= closes_on:
        return "due"
    return "overdue"


@dataclass(frozen=True)
class FollowUpSchedule:
    """A program's follow-up configuration: offsets (days after discharge) and the window."""

    offsets: tuple[int, ...] = DEFAULT_FOLLOW_UP_OFFSETS
    window_before: int = DEFAULT_WINDOW_BEFORE
    grace_after: int = DEFAULT_GRACE_AFTER

    def __post_init__(self) -> None:
        object.__setattr__(self, "offsets", _check_offsets(self.offsets))
        _check_days("window_before", self.window_before)
        _check_days("grace_after", self.grace_after)

    def due_dates(self, discharged_on: date) -> list[FollowUpDue]:
        return follow_ups_due(discharged_on, self.offsets)

    def window(self, due_on: date) -> tuple[date, date]:
        return follow_up_window(
            due_on, window_before=self.window_before, grace_after=self.grace_after
        )

    def status(self, due_on: date, today: date, completed: bool) -> FollowUpStatus:
        return follow_up_status(
            due_on, today, completed, self.grace_after, window_before=self.window_before
        )

    def time_point_for(self, discharged_on: date, contacted_on: date) -> int | None:
        """The offset whose window contains ``contacted_on``, or ``None`` (out of every window).

        If windows overlap (a custom schedule), the time point with the nearest due date wins;
        on a tie, the earlier one.
        """
        _check_date("contacted_on", contacted_on)
        best: tuple[int, int] | None = None  # (distance in days, offset)
        for offset, due_on in self.due_dates(discharged_on):
            opens_on, closes_on = self.window(due_on)
            if opens_on <= contacted_on <= closes_on:
                candidate = (abs((contacted_on - due_on).days), offset)
                if best is None or candidate < best:
                    best = candidate
        return None if best is None else best[1]


# --------------------------------------------------------------------------------------------
# Use outcome
# --------------------------------------------------------------------------------------------


class Outcome(enum.StrEnum):
    """The use outcome at one follow-up (see the module docstring)."""

    ABSTINENT = "abstinent"
    REDUCED = "reduced"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"

    @property
    def is_success(self) -> bool:
        """Abstinent or reduced by at least the threshold. UNKNOWN is never a success."""
        return self in (Outcome.ABSTINENT, Outcome.REDUCED)

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]


OUTCOME_LABELS: Final[dict[Outcome, str]] = {
    Outcome.ABSTINENT: "Continuous abstinence",
    Outcome.REDUCED: "Use reduced by 95% or more",
    Outcome.NOT_MET: "Goal not met",
    Outcome.UNKNOWN: "Unknown (no response)",
}

#: Default reduction threshold: 95% fewer days of use than at baseline.
DEFAULT_REDUCTION_THRESHOLD: Final = Fraction(95, 100)

#: Days of use are counted in a 30-day look-back.
LOOKBACK_DAYS: Final = 30


def _threshold(value: Fraction | Decimal | float | str) -> Fraction:
    if isinstance(value, bool):
        raise TypeError("reduction_threshold must be a number between 0 and 1, got a bool")
    # A float goes through its shortest decimal text, so 0.95 means exactly 95/100.
    fraction = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
    if not 0 <= fraction <= 1:
        raise ValueError(f"reduction_threshold must be between 0 and 1, got {value!r}")
    return fraction


def _check_use_days(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    _check_days(name, value)
    if value > LOOKBACK_DAYS:
        raise ValueError(f"{name} counts days in {LOOKBACK_DAYS} days: 0-30, got {value}")
    return value


def reduction_met(
    baseline_days_30: int,
    days_used_30: int,
    reduction_threshold: Fraction | Decimal | float | str = DEFAULT_REDUCTION_THRESHOLD,
) -> bool:
    """Whether ``days_used_30 <= (1 − threshold) × baseline_days_30``, in exact arithmetic."""
    baseline = _check_use_days("baseline_days_30", baseline_days_30)
    now = _check_use_days("days_used_30", days_used_30)
    if baseline is None or now is None:
        raise TypeError("reduction_met needs both day counts (ints 0-30), got None")
    threshold = _threshold(reduction_threshold)
    return now * threshold.denominator <= (threshold.denominator - threshold.numerator) * baseline


def use_outcome(
    baseline_days_30: int | None,
    any_use_since_discharge: bool | None,
    days_used_30: int | None,
    reduction_threshold: Fraction | Decimal | float | str = DEFAULT_REDUCTION_THRESHOLD,
) -> Outcome:
    """Classify one follow-up answer against the baseline (see the module docstring)."""
    baseline = _check_use_days("baseline_days_30", baseline_days_30)
    now = _check_use_days("days_used_30", days_used_30)
    if any_use_since_discharge is not None and not isinstance(any_use_since_discharge, bool):
        raise TypeError("any_use_since_discharge must be True, False or None")
    threshold = _threshold(reduction_threshold)
    if any_use_since_discharge is False and not now:
        return Outcome.ABSTINENT
    if now is None:
        return Outcome.UNKNOWN
    if baseline is not None:
        return Outcome.REDUCED if reduction_met(baseline, now, threshold) else Outcome.NOT_MET
    # Baseline missing: decide only if every possible baseline (0..30) gives the same answer.
    if reduction_met(0, now, threshold):
        return Outcome.REDUCED
    if not reduction_met(LOOKBACK_DAYS, now, threshold):
        return Outcome.NOT_MET
    return Outcome.UNKNOWN


# --------------------------------------------------------------------------------------------
# Engagement
# --------------------------------------------------------------------------------------------

EngagementBand = Literal["0", "1", "2+"]
ENGAGEMENT_BANDS: Final[tuple[EngagementBand, ...]] = ("0", "1", "2+")

EngagementEvent = tuple[date, Hashable]
"""One engagement: the local date and the aftercare component's id (any hashable key)."""


def engagement_band(components: int) -> EngagementBand:
    """The band for a number of distinct engaged components: ``"0"``, ``"1"`` or ``"2+"``."""
    _check_days("components", components)
    if components == 0:
        return "0"
    return "1" if components == 1 else "2+"


@dataclass(frozen=True)
class MonthEngagement:
    """Engagement in one aftercare month (1-based ``month_index``; ``start``/``end`` included)."""

    month_index: int
    start: date
    end: date
    components: int
    band: EngagementBand
    partial: bool = False


def monthly_engagement(
    start: date, end: date, events: Iterable[EngagementEvent]
) -> list[MonthEngagement]:
    """Distinct engaged components per aftercare month from ``start`` to ``end`` (included).

    Events outside ``[start, end]`` are ignored; ``end < start`` gives ``[]``.
    """
    _check_date("start", start)
    _check_date("end", end)
    if end < start:
        return []
    starts: list[date] = []
    k = 0
    while (month_start := add_months(start, k)) <= end:
        starts.append(month_start)
        k += 1
    seen: list[set[Hashable]] = [set() for _ in starts]
    for index, (day, component) in enumerate(events):
        _check_date(f"events[{index}] date", day)
        if start <= day <= end:
            seen[bisect_right(starts, day) - 1].add(component)
    months: list[MonthEngagement] = []
    for i, month_start in enumerate(starts):
        full_end = add_months(start, i + 1) - timedelta(days=1)
        count = len(seen[i])
        months.append(
            MonthEngagement(
                month_index=i + 1,
                start=month_start,
                end=min(full_end, end),
                components=count,
                band=engagement_band(count),
                partial=full_end > end,
            )
        )
    return months


def components_engaged(start: date, end: date, events: Iterable[EngagementEvent]) -> int:
    """The number of distinct components with an engagement event in ``[start, end]``."""
    _check_date("start", start)
    _check_date("end", end)
    engaged: set[Hashable] = set()
    for index, (day, component) in enumerate(events):
        _check_date(f"events[{index}] date", day)
        if start <= day <= end:
            engaged.add(component)
    return len(engaged)


def overall_engagement_band(
    start: date, end: date, events: Iterable[EngagementEvent]
) -> EngagementBand:
    """The band of :func:`components_engaged` over ``[start, end]``.

    For the outcome report: ``start`` = discharge date, ``end`` = the 180-day follow-up due date
    (:func:`outcome_engagement_band` does exactly that).
    """
    return engagement_band(components_engaged(start, end, events))


def outcome_engagement_band(
    discharged_on: date,
    events: Iterable[EngagementEvent],
    follow_up_days: int = OUTCOME_FOLLOW_UP_DAYS,
) -> EngagementBand:
    """The band between discharge and the outcome follow-up's due date (both included)."""
    _check_date("discharged_on", discharged_on)
    _check_days("follow_up_days", follow_up_days, minimum=1)
    return overall_engagement_band(
        discharged_on, discharged_on + timedelta(days=follow_up_days), events
    )


def gone_quiet(
    last_engagement_on: date | None,
    aftercare_started_on: date,
    today: date,
    weeks: int = 3,
) -> bool:
    """Whether ``weeks`` weeks have passed with no engagement (see the module docstring)."""
    _check_date("aftercare_started_on", aftercare_started_on)
    _check_date("today", today)
    _check_days("weeks", weeks, minimum=1)
    if today < aftercare_started_on:
        return False
    since = aftercare_started_on
    if last_engagement_on is not None:
        since = max(since, _check_date("last_engagement_on", last_engagement_on))
    return (today - since).days >= weeks * 7


def last_engagement(events: Sequence[EngagementEvent]) -> date | None:
    """The latest engagement date, or ``None`` for no events."""
    return max((_check_date("event date", day) for day, _ in events), default=None)
