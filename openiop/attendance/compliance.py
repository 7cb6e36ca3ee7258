"""Weekly-hours compliance for IOP episodes: pure computation, no Django, no database.

An Intensive Outpatient Program requires each patient to attend a weekly minimum (commonly 9 hours
on at least 3 days) and sometimes caps the week (e.g. 19 hours). Coordinators need to know, for
every open episode and week, whether the patient has met the minimum, can still meet it, or cannot.

Usage follows pretix's ``QuotaAvailability``: queue many episodes, compute once, read the results::

    wh = WeeklyHours(rule, week_start=date(2026, 3, 2), tz="America/New_York", now=now)
    results = wh.add(week_a, week_b).compute()   # {episode key: WeekResult}

Rules, and why they are what they are:

* **Weeks are local.** A week runs from Monday 00:00 to the next Monday 00:00 on the SITE's wall
  clock (an IANA zone via ``zoneinfo``), because that is the week the program, the patient and the
  payer talk about. On daylight-saving weeks that is 167 or 169 real hours, not 168; bounds are
  built from local midnights, never by adding ``timedelta(days=7)`` to an instant.
* **A session belongs to the local date on which it starts** (its date of service, the date a
  claim carries). A group running 22:00 Sunday to 01:00 Monday counts entirely on Sunday and in
  Sunday's week. An occurrence whose service date is outside the week is ignored, even if part of
  it, or its UTC timestamp, falls inside.
* **Durations are real elapsed time**, computed in UTC and rounded down to whole minutes: a
  01:00-03:00 session is 180 minutes on a fall-back night and 60 on a spring-forward night, because
  that is how long the patient was in the room. All comparisons (end after start, ended before
  ``now``) are made in UTC too: Python compares and subtracts two datetimes sharing one tzinfo by
  their wall clocks, which is wrong across a DST change.
* **Attendance** is what staff recorded (``attended_minutes``); it may exceed the scheduled length
  and is not clamped. ``None`` means not yet recorded, ``0`` means absent or excused. Cancelled
  sessions count neither as attended nor as still possible. A day counts as attended if any
  session that day recorded more than 0 minutes.
* **Still possible** (``minutes_remaining``) means scheduled, not cancelled, not yet recorded, and
  not yet ended at ``now``. A past session whose attendance was never recorded is therefore not
  counted as possible; the reason text points such sessions out, since recording them may change
  the status.
* **Partial weeks are pro-rated.** In the week of admission or discharge the minimum is scaled by
  the number of enrolled days, rounded up (ceil(540 * 4 / 7) = 309 minutes for 4 of 7 days), so a
  patient admitted on Thursday is neither exempt nor held to a full week's hours; the day minimum
  is likewise rounded up but never exceeds the enrolled days. The weekly maximum is not pro-rated.
* **Sessions the program cancels are credited.** A booked session that the program cancelled
  (a holiday, a sick facilitator) lowers that week's minimum by its scheduled minutes, and a day
  whose every booked session was cancelled lowers the day minimum by one: the patient could not
  have attended, so the closure must not turn their week "below". The reason says so. Set
  ``WeeklyRule.credit_cancelled=False`` for a payer that does not allow it.
* **Holds exempt the week.** An episode on hold for any day of the week, or not enrolled on any
  day of it, is EXEMPT: the program suspended the requirement, so neither "below" nor "at risk" is
  meaningful. A week whose (pro-rated) minimum is 0 minutes is EXEMPT as well.
* **Status** is MET when both the minutes and the days minimums are reached; otherwise BELOW once
  the week is over (``now`` at or after its end); otherwise AT_RISK when even attending every
  remaining session cannot reach the minimum; otherwise ON_TRACK. Before the week starts the same
  schedule-based logic applies. ``over_max`` flags minutes above the weekly maximum regardless of
  status.
* **Hours in reasons** are shown with one decimal, rounded so the sentence never contradicts the
  status: required hours round up, attended hours round down (but a met minimum is never shown as
  more than what was attended).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "EpisodeWeek",
    "Occurrence",
    "Status",
    "WeekResult",
    "WeeklyHours",
    "WeeklyRule",
    "local_week_bounds",
    "service_date",
    "week_start_for",
]

_MINUTE = timedelta(minutes=1)


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    if isinstance(tz, ZoneInfo):
        return tz
    if isinstance(tz, str):
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
    raise TypeError(f"tz must be an IANA zone name or a ZoneInfo, not {type(tz).__name__}")


def _is_aware(dt: datetime) -> bool:
    return dt.tzinfo is not None and dt.utcoffset() is not None


def _require_aware(dt: datetime, what: str) -> None:
    if not isinstance(dt, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(dt).__name__}")
    if not _is_aware(dt):
        raise ValueError(f"{what} must be timezone-aware, got naive {dt.isoformat()}")


def _require_date(day: date, what: str) -> None:
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"{what} must be a date, not {type(day).__name__}")


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def week_start_for(day: date) -> date:
    """Monday of the week containing ``day`` (a local date, not a datetime)."""
    _require_date(day, "day")
    return day - timedelta(days=day.weekday())


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    # fold=0 on a nonexistent midnight maps to the pre-transition offset, which is exactly the first
    # instant of the day; the UTC round trip then shows the real wall time (e.g. 01:00).
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC).astimezone(zone)


def local_week_bounds(week_start: date, tz: str | ZoneInfo) -> tuple[datetime, datetime]:
    """Aware datetimes in ``tz`` for Monday 00:00 of ``week_start`` and the next Monday 00:00.

    The real length is 167 or 169 hours on daylight-saving weeks.
    """
    _require_date(week_start, "week_start")
    if week_start.weekday() != 0:
        raise ValueError(f"week_start must be a Monday, got {week_start:%A} {week_start}")
    zone = _zone(tz)
    return _local_midnight(week_start, zone), _local_midnight(week_start + timedelta(days=7), zone)


def service_date(start: datetime, tz: str | ZoneInfo) -> date:
    """The local date in ``tz`` on which a session starting at ``start`` takes place."""
    _require_aware(start, "start")
    return start.astimezone(_zone(tz)).date()


@dataclass(frozen=True)
class WeeklyRule:
    """The program's weekly requirement."""

    min_minutes: int
    max_minutes: int | None
    min_days: int
    credit_cancelled: bool = True

    def __post_init__(self) -> None:
        if self.min_minutes < 0:
            raise ValueError(f"min_minutes must be >= 0, got {self.min_minutes}")
        if not 0 <= self.min_days <= 7:
            raise ValueError(f"min_days must be between 0 and 7, got {self.min_days}")
        if self.max_minutes is not None and self.max_minutes < self.min_minutes:
            raise ValueError(
                f"max_minutes ({self.max_minutes}) must not be below min_minutes "
                f"({self.min_minutes})"
            )


@dataclass(frozen=True)
class Occurrence:
    """One booked session for the patient."""

    start: datetime
    end: datetime
    attended_minutes: int | None
    cancelled: bool = False

    def __post_init__(self) -> None:
        _require_aware(self.start, "Occurrence.start")
        _require_aware(self.end, "Occurrence.end")
        if self.end.astimezone(UTC) <= self.start.astimezone(UTC):
            raise ValueError(
                f"Occurrence.end ({self.end.isoformat()}) must be after "
                f"start ({self.start.isoformat()})"
            )
        if self.attended_minutes is not None and self.attended_minutes < 0:
            raise ValueError(f"attended_minutes must be >= 0, got {self.attended_minutes}")

    @property
    def scheduled_minutes(self) -> int:
        """Real elapsed minutes between start and end, rounded down."""
        return (self.end.astimezone(UTC) - self.start.astimezone(UTC)) // _MINUTE


@dataclass(frozen=True)
class EpisodeWeek:
    """One episode's data for the week being computed."""

    key: Hashable
    admitted_on: date | None
    discharged_on: date | None
    on_hold_days: frozenset[date] = frozenset()
    occurrences: tuple[Occurrence, ...] = ()

    def __post_init__(self) -> None:
        if self.admitted_on is not None:
            _require_date(self.admitted_on, "admitted_on")
        if self.discharged_on is not None:
            _require_date(self.discharged_on, "discharged_on")
        if (
            self.admitted_on is not None
            and self.discharged_on is not None
            and self.discharged_on < self.admitted_on
        ):
            raise ValueError(
                f"discharged_on ({self.discharged_on}) is before admitted_on ({self.admitted_on})"
            )
        # Accept any iterable from callers but keep the dataclass hashable and immutable.
        object.__setattr__(self, "on_hold_days", frozenset(self.on_hold_days))
        object.__setattr__(self, "occurrences", tuple(self.occurrences))


class Status(StrEnum):
    MET = "met"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BELOW = "below"
    EXEMPT = "exempt"


@dataclass(frozen=True)
class WeekResult:
    """One episode's week. For EXEMPT weeks nothing is required: ``required_minutes`` and
    ``required_days`` are 0 and ``prorated`` is False; the attendance figures are still reported."""

    key: Hashable
    week_start: date
    minutes_attended: int
    days_attended: int
    minutes_remaining: int
    days_possible: int
    required_minutes: int
    required_days: int
    prorated: bool
    over_max: bool
    status: Status
    reason: str


def _hours_tenths(tenths: int) -> str:
    return f"{tenths // 10}.{tenths % 10} h"


def _hours_down(minutes: int) -> str:
    return _hours_tenths(minutes // 6)


def _hours_up(minutes: int) -> str:
    return _hours_tenths(_ceil_div(minutes, 6))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass
class _Tally:
    minutes_attended: int = 0
    minutes_cancelled: int = 0
    days_cancelled: set[date] = field(default_factory=set)
    minutes_remaining: int = 0
    sessions_remaining: int = 0
    unrecorded_past: int = 0
    days_attended: set[date] = field(default_factory=set)
    days_remaining: set[date] = field(default_factory=set)


class WeeklyHours:
    """Batch computation of one week's compliance for many episodes.

    ``week_start`` is the Monday (local date) of the week, ``tz`` the site's IANA zone, and ``now``
    the aware instant that separates past sessions from remaining ones.
    """

    def __init__(
        self, rule: WeeklyRule, week_start: date, tz: str | ZoneInfo, now: datetime
    ) -> None:
        _require_date(week_start, "week_start")
        if week_start.weekday() != 0:
            raise ValueError(f"week_start must be a Monday, got {week_start:%A} {week_start}")
        _require_aware(now, "now")
        self.rule = rule
        self.week_start = week_start
        self.zone = _zone(tz)
        self.now = now
        self.week_bounds = local_week_bounds(week_start, self.zone)
        self._now_utc = now.astimezone(UTC)
        self._week_end_utc = self.week_bounds[1].astimezone(UTC)
        self._days = tuple(week_start + timedelta(days=i) for i in range(7))
        self._queue: dict[Hashable, EpisodeWeek] = {}
        self.results: dict[Hashable, WeekResult] = {}

    def add(self, *weeks: EpisodeWeek) -> WeeklyHours:
        """Queue episodes for :meth:`compute`; a key may be queued only once."""
        for week in weeks:
            if week.key in self._queue:
                raise ValueError(f"episode {week.key!r} was already added")
            self._queue[week.key] = week
        return self

    def compute(self) -> dict[Hashable, WeekResult]:
        """Compute every queued episode; the results are also kept in ``self.results``."""
        self.results = {key: self._compute_one(week) for key, week in self._queue.items()}
        return dict(self.results)

    def _tally(self, occurrences: Iterable[Occurrence]) -> _Tally:
        tally = _Tally()
        first, last = self._days[0], self._days[-1]
        for occ in occurrences:
            day = occ.start.astimezone(self.zone).date()
            if not first <= day <= last:
                continue
            if occ.cancelled:
                tally.minutes_cancelled += occ.scheduled_minutes
                tally.days_cancelled.add(day)
                continue
            if occ.attended_minutes is not None:
                tally.minutes_attended += occ.attended_minutes
                if occ.attended_minutes > 0:
                    tally.days_attended.add(day)
            elif occ.end.astimezone(UTC) > self._now_utc:
                tally.minutes_remaining += occ.scheduled_minutes
                tally.sessions_remaining += 1
                tally.days_remaining.add(day)
            else:
                tally.unrecorded_past += 1
        return tally

    def _compute_one(self, week: EpisodeWeek) -> WeekResult:
        rule = self.rule
        tally = self._tally(week.occurrences)
        attended = tally.minutes_attended
        days_attended = len(tally.days_attended)
        days_possible = len(tally.days_attended | tally.days_remaining)
        over_max = rule.max_minutes is not None and attended > rule.max_minutes

        enrolled = [
            d
            for d in self._days
            if (week.admitted_on is None or d >= week.admitted_on)
            and (week.discharged_on is None or d <= week.discharged_on)
        ]
        on_hold = any(d in week.on_hold_days for d in self._days)
        active_days = len(enrolled)
        prorated = 0 < active_days < 7
        if prorated:
            required_minutes = _ceil_div(rule.min_minutes * active_days, 7)
            required_days = min(_ceil_div(rule.min_days * active_days, 7), active_days)
        else:
            required_minutes, required_days = rule.min_minutes, rule.min_days
        credited = 0
        if rule.credit_cancelled and tally.minutes_cancelled:
            lost_days = tally.days_cancelled - tally.days_attended - tally.days_remaining
            credited = min(tally.minutes_cancelled, required_minutes)
            required_minutes -= credited
            required_days = max(0, required_days - len(lost_days))

        exempt_reason = None
        if active_days == 0:
            exempt_reason = "not enrolled this week"
        elif on_hold:
            exempt_reason = "on hold this week"
        elif required_minutes == 0 and credited:
            exempt_reason = "the program cancelled this week's sessions"
        elif required_minutes == 0:
            exempt_reason = "no weekly minimum applies this week"

        if exempt_reason is not None:
            status = Status.EXEMPT
            reason = exempt_reason
        else:
            reachable = attended + tally.minutes_remaining
            if attended >= required_minutes and days_attended >= required_days:
                status = Status.MET
            elif self._now_utc >= self._week_end_utc:
                status = Status.BELOW
            elif reachable < required_minutes or days_possible < required_days:
                status = Status.AT_RISK
            else:
                status = Status.ON_TRACK
            reason = self._reason(
                status, tally, required_minutes, required_days, days_attended, days_possible
            )
            if prorated:
                reason += " (pro-rated for a partial week)"
            if credited:
                reason += f"; {_hours_down(credited)} credited for cancelled sessions"
            if status is not Status.MET and tally.unrecorded_past:
                past = _plural(tally.unrecorded_past, "past session")
                reason += f"; {past} not yet recorded"
        if over_max and rule.max_minutes is not None:
            reason += f"; over the {_hours_down(rule.max_minutes)} maximum"

        return WeekResult(
            key=week.key,
            week_start=self.week_start,
            minutes_attended=attended,
            days_attended=days_attended,
            minutes_remaining=tally.minutes_remaining,
            days_possible=days_possible,
            required_minutes=required_minutes if exempt_reason is None else 0,
            required_days=required_days if exempt_reason is None else 0,
            prorated=prorated and exempt_reason is None,
            over_max=over_max,
            status=status,
            reason=reason,
        )

    @staticmethod
    def _reason(
        status: Status,
        tally: _Tally,
        required_minutes: int,
        required_days: int,
        days_attended: int,
        days_possible: int,
    ) -> str:
        attended = tally.minutes_attended
        required = _hours_up(required_minutes)
        if status is Status.MET:
            shown = max(attended // 6, _ceil_div(required_minutes, 6))
            minimum = f"{required} / {required_days}-day" if required_days else required
            return (
                f"{_hours_tenths(shown)} on {_plural(days_attended, 'day')} "
                f"meets the {minimum} minimum"
            )
        if status is Status.BELOW:
            minimum = (
                f"{required} on {_plural(required_days, 'day')}" if required_days else required
            )
            return (
                f"attended {_hours_down(attended)} on {_plural(days_attended, 'day')}; "
                f"minimum {minimum}"
            )
        n = tally.sessions_remaining
        if status is Status.ON_TRACK:
            progress = f"{_hours_down(attended)} of {required}"
            if required_days:
                progress += f" on {days_attended} of {_plural(required_days, 'day')}"
            return f"{progress}; {_plural(n, 'session')} left can still reach the minimum"
        # AT_RISK
        reachable = attended + tally.minutes_remaining
        short: list[str] = []
        if reachable < required_minutes:
            short.append(f"{_hours_down(reachable)} of {required}")
        if days_possible < required_days:
            short.append(f"{days_possible} of {_plural(required_days, 'day')}")
        if n == 0:
            lead = "no sessions left; the week reaches only"
        elif n == 1:
            lead = "even attending the 1 remaining session reaches only"
        else:
            lead = f"even attending all {n} remaining sessions reaches only"
        return f"{lead} {' and '.join(short)}"
