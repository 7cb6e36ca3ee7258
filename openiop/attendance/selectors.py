"""Reads for attendance and weekly-hours compliance.

The arithmetic lives in the pure ``compliance`` module; this file only loads rows in a fixed number
of queries and feeds them in.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.utils import timezone

from openiop.attendance.compliance import (
    EpisodeWeek,
    Occurrence,
    WeeklyHours,
    WeeklyRule,
    WeekResult,
    local_week_bounds,
    week_start_for,
)
from openiop.attendance.models import AttendanceRecord
from openiop.enrollment.models import Episode, EpisodeStatusChange
from openiop.enrollment.selectors import hold_days
from openiop.organizations.models import Program
from openiop.scheduling.models import Session


def rule_for(program: Program) -> WeeklyRule:
    return WeeklyRule(
        min_minutes=program.weekly_min_minutes,
        max_minutes=program.weekly_max_minutes,
        min_days=program.min_days_per_week,
    )


def _occurrence(record: AttendanceRecord) -> Occurrence:
    session = record.session
    attended: int | None
    if record.status == AttendanceRecord.Status.EXPECTED:
        attended = None
    else:
        attended = record.minutes_attended or 0
    return Occurrence(
        start=session.starts_at,
        end=session.ends_at,
        attended_minutes=attended,
        cancelled=session.status == Session.Status.CANCELLED,
    )


class _Change(NamedTuple):
    """The fields of an ``EpisodeStatusChange`` that ``hold_days`` reads."""

    pk: int
    to_status: str
    effective_on: dt.date


@dataclass(frozen=True)
class EpisodeCompliance:
    episode: Episode
    result: WeekResult


def compliance_for_program_week(
    *, program: Program, week_start: dt.date, now: dt.datetime | None = None
) -> list[EpisodeCompliance]:
    """Every episode enrolled in ``program`` during the week, with its weekly-hours result (the
    same three tuple queries as the dashboard's many-programs version)."""
    weekly = compliance_for_programs_week(
        programs=[program], now=now or timezone.now(), week_starts={program.pk: week_start}
    )
    return weekly[program.pk][1]


def compliance_for_programs_week(
    *,
    programs: list[Program],
    now: dt.datetime,
    week_starts: dict[int, dt.date] | None = None,
) -> dict[int, tuple[dt.date, list[EpisodeCompliance]]]:
    """Weekly hours of many programs at once, each in its own site-local current week (or the
    week ``week_starts`` gives for it): three queries whatever the number of programs (the
    dashboard of a 40-program organization costs the same queries as one of three). Status
    changes and attendance are read as tuples, not model instances. Program pk -> (week start,
    rows sorted by patient name)."""
    if not programs:
        return {}
    weeks = {
        p.pk: (week_starts or {}).get(p.pk) or week_start_for(now.astimezone(p.site.tz).date())
        for p in programs
    }
    bounds = {p.pk: local_week_bounds(weeks[p.pk], p.site.tz) for p in programs}
    lo = min(b[0] for b in bounds.values())
    hi = max(b[1] for b in bounds.values())
    earliest = min(weeks.values())
    latest_end = max(weeks.values()) + dt.timedelta(days=6)
    episodes = list(
        Episode.objects.for_org(programs[0].organization_id)
        .filter(program__in=programs, admitted_on__isnull=False, admitted_on__lte=latest_end)
        .exclude(discharged_on__lt=earliest)
        .select_related("patient", "primary_counselor")
    )
    by_program: dict[int, list[Episode]] = defaultdict(list)
    for e in episodes:
        week = weeks[e.program_id]
        week_end = week + dt.timedelta(days=6)
        if e.admitted_on > week_end or (e.discharged_on and e.discharged_on < week):
            continue
        by_program[e.program_id].append(e)
    # The census of a large organization is thousands of episodes: their status changes and
    # this week's attendance are read as plain tuples, not model instances (a third of the cost).
    ids = [e.pk for rows in by_program.values() for e in rows]
    changes: dict[int, list[_Change]] = defaultdict(list)
    occurrences: dict[int, list[tuple[dt.datetime, Occurrence]]] = defaultdict(list)
    if ids:
        for episode_id, pk, to_status, effective_on in EpisodeStatusChange.objects.filter(
            episode_id__in=ids
        ).values_list("episode_id", "pk", "to_status", "effective_on"):
            changes[episode_id].append(_Change(pk, to_status, effective_on))
        expected = AttendanceRecord.Status.EXPECTED
        cancelled = Session.Status.CANCELLED
        for episode_id, status, minutes, starts, ends, session_status in (
            AttendanceRecord.objects.filter(
                episode_id__in=ids, session__starts_at__gte=lo, session__starts_at__lt=hi
            ).values_list(
                "episode_id", "status", "minutes_attended", "session__starts_at",
                "session__ends_at", "session__status",
            )
        ):  # fmt: skip
            occurrences[episode_id].append(
                (
                    starts,
                    Occurrence(
                        start=starts, end=ends,
                        attended_minutes=None if status == expected else (minutes or 0),
                        cancelled=session_status == cancelled,
                    ),
                )
            )  # fmt: skip
    out: dict[int, tuple[dt.date, list[EpisodeCompliance]]] = {}
    for program in programs:
        week = weeks[program.pk]
        week_end = week + dt.timedelta(days=6)
        p_lo, p_hi = bounds[program.pk]
        mine = by_program.get(program.pk, [])
        calc = WeeklyHours(rule_for(program), week, program.site.tz, now)
        for episode in mine:
            calc.add(
                EpisodeWeek(
                    key=episode.pk,
                    admitted_on=episode.admitted_on,
                    discharged_on=episode.discharged_on,
                    on_hold_days=hold_days(changes.get(episode.pk, []), week, week_end),  # type: ignore[arg-type]
                    occurrences=tuple(
                        o for starts, o in occurrences.get(episode.pk, ()) if p_lo <= starts < p_hi
                    ),
                )
            )
        results = calc.compute()
        rows = [EpisodeCompliance(episode=e, result=results[e.pk]) for e in mine]
        rows.sort(key=lambda r: (r.episode.patient.last_name, r.episode.patient.first_name))
        out[program.pk] = (week, rows)
    return out


def compliance_for_episode(
    *, episode: Episode, now: dt.datetime | None = None, max_weeks: int = 26
) -> list[WeekResult]:
    """Week-by-week results for one episode, admission week to discharge week (or this week)."""
    now = now or timezone.now()
    if episode.admitted_on is None:
        return []
    program = episode.program
    tz = program.site.tz
    first = week_start_for(episode.admitted_on)
    last_day = episode.discharged_on or now.astimezone(tz).date()
    last = week_start_for(max(last_day, episode.admitted_on))
    weeks: list[dt.date] = []
    day = last
    while day >= first and len(weeks) < max_weeks:
        weeks.append(day)
        day -= dt.timedelta(days=7)
    weeks.reverse()
    if not weeks:
        return []
    lo, _ = local_week_bounds(weeks[0], tz)
    _, hi = local_week_bounds(weeks[-1], tz)
    records = list(
        AttendanceRecord.objects.filter(
            episode=episode, session__starts_at__gte=lo, session__starts_at__lt=hi
        ).select_related("session")
    )
    changes = list(episode.status_changes.order_by("effective_on", "id"))
    by_week: dict[dt.date, list[Occurrence]] = defaultdict(list)
    for record in records:
        local_day = record.session.starts_at.astimezone(tz).date()
        by_week[week_start_for(local_day)].append(_occurrence(record))
    results = []
    for week in weeks:
        calc = WeeklyHours(rule_for(program), week, tz, now)
        calc.add(
            EpisodeWeek(
                key=episode.pk,
                admitted_on=episode.admitted_on,
                discharged_on=episode.discharged_on,
                on_hold_days=hold_days(changes, week, week + dt.timedelta(days=6)),
                occurrences=tuple(by_week.get(week, ())),
            )
        )
        results.append(calc.compute()[episode.pk])
    return results


def roster_for_session(*, session: Session) -> list[AttendanceRecord]:
    return list(
        session.attendance.select_related("patient", "episode").order_by(
            "patient__last_name", "patient__first_name"
        )
    )


def sessions_for_day(*, organization: Any, day: dt.date, tz: Any) -> list[Session]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    end = start + dt.timedelta(days=1)
    return list(
        Session.objects.for_org(organization)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .select_related("program", "program__site", "room")
        .prefetch_related("facilitators", "attendance")
        .order_by("starts_at")
    )
