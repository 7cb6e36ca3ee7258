"""Read-only selectors for report pages. They load rows in a fixed number of queries per program
(never per patient) and hand plain dataclasses to the views."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from openiop.accounts.permissions import Perm
from openiop.attendance.compliance import Status, WeekResult, week_start_for
from openiop.attendance.models import AttendanceRecord
from openiop.attendance.selectors import compliance_for_programs_week
from openiop.core.access import require_perm
from openiop.core.snapshots import dashboard_max_age, panel_snapshot
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program, Site
from openiop.patients.models import Patient
from openiop.reports.charts_hours import hours
from openiop.scheduling.models import Session

AT_RISK_STATUSES = (Status.AT_RISK, Status.BELOW)
# Order of the stacked bar segments and of the summary columns.
STATUS_ORDER = (Status.MET, Status.ON_TRACK, Status.AT_RISK, Status.BELOW, Status.EXEMPT)


@dataclass(frozen=True)
class SessionToday:
    session: Session
    facilitators: list[Any]
    booked: int
    recorded: int


@dataclass(frozen=True)
class ExpectedPatient:
    patient: Patient
    session: Session
    record: AttendanceRecord


@dataclass(frozen=True)
class AtRisk:
    program: Program
    episode: Any
    result: Any  # attendance.compliance.WeekResult

    @property
    def patient(self) -> Patient:
        return self.episode.patient  # type: ignore[no-any-return]

    @property
    def hours_attended(self) -> str:
        return hours(self.result.minutes_attended)

    @property
    def hours_required(self) -> str:
        return hours(self.result.required_minutes)


@dataclass(frozen=True)
class ProgramSummary:
    program: Program
    week_start: dt.date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Dashboard:
    now: dt.datetime
    sessions: list[SessionToday] = field(default_factory=list)
    expected: list[ExpectedPatient] = field(default_factory=list)
    at_risk: list[AtRisk] = field(default_factory=list)
    programs: list[ProgramSummary] = field(default_factory=list)
    # How many rows there are in all when ``expected`` / ``at_risk`` show only the first ones.
    expected_total: int = 0
    at_risk_total: int = 0
    # When the weekly-hours summary and the at-risk list were computed (ADR 0016).
    panels_computed_at: dt.datetime | None = None

    @property
    def expected_truncated(self) -> bool:
        return self.expected_total > len(self.expected)

    @property
    def at_risk_truncated(self) -> bool:
        return self.at_risk_total > len(self.at_risk)

    @property
    def patients_shown(self) -> list[Patient]:
        """Every patient named on the page, for the audit row."""
        seen: dict[int, Patient] = {}
        for row in self.expected:
            seen[row.patient.pk] = row.patient
        for row in self.at_risk:
            seen[row.patient.pk] = row.patient
        return list(seen.values())


def _weeks_of(programs: list[Program], now: dt.datetime) -> list[list[Any]]:
    return [[p.pk, week_start_for(now.astimezone(p.site.tz).date()).isoformat()] for p in programs]


def _result_to_json(result: WeekResult) -> dict[str, Any]:
    data = dataclasses.asdict(result)
    data["week_start"] = result.week_start.isoformat()
    data["status"] = str(result.status)
    return data


def _result_from_json(data: dict[str, Any]) -> WeekResult:
    return WeekResult(
        **{
            **data,
            "week_start": dt.date.fromisoformat(data["week_start"]),
            "status": Status(data["status"]),
        }
    )


def _weekly_snapshot_data(programs: list[Program], now: dt.datetime) -> dict[str, Any]:
    """Every active program's weekly-hours counts and the organization's at-risk rows as ids
    and numbers (no names), the furthest from their minimum first."""
    weekly = compliance_for_programs_week(programs=programs, now=now)
    counts: list[list[Any]] = []
    ranked: list[tuple[tuple[Any, ...], list[Any]]] = []
    for program in programs:
        _week, rows = weekly[program.pk]
        tally = Counter(str(r.result.status) for r in rows)
        counts.append([program.pk, {str(s): tally.get(str(s), 0) for s in STATUS_ORDER}])
        for r in rows:
            if r.result.status not in AT_RISK_STATUSES:
                continue
            res = r.result
            behind = res.minutes_attended + res.minutes_remaining - res.required_minutes
            key = (behind, r.episode.patient.last_name, r.episode.patient.first_name, program.name)
            ranked.append(
                (key, [program.pk, r.episode.pk, r.episode.patient_id, _result_to_json(res)])
            )
    ranked.sort(key=lambda pair: pair[0])
    return {
        "weeks": _weeks_of(programs, now),
        "counts": counts,
        "at_risk": [row for _key, row in ranked],
    }


def _today_filter(sites: list[Site], now: dt.datetime) -> Q:
    """Sessions starting on each site's own local 'today' (sites may be in different zones)."""
    query = Q(pk__in=[])
    for site in sites:
        day = now.astimezone(site.tz).date()
        start = dt.datetime.combine(day, dt.time(0), tzinfo=site.tz)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=site.tz)
        query |= Q(program__site=site, starts_at__gte=start, starts_at__lt=end)
    return query


def _sessions_today(organization_id: int, sites: list[Site], now: dt.datetime) -> list[Session]:
    # Every site's "today" lies within a day and a half of now: saying so lets the database use
    # the (organization, starts_at) index instead of reading the organization's whole history.
    window = Q(
        starts_at__gte=now - dt.timedelta(hours=36), starts_at__lt=now + dt.timedelta(hours=36)
    )
    return list(
        Session.objects.for_org(organization_id)
        .filter(window)
        .filter(_today_filter(sites, now))
        .select_related("program", "program__site", "room")
        .prefetch_related("facilitators")
        .order_by("starts_at")
    )


def dashboard_for(
    user: Any, now: dt.datetime, *, limit: int | None = None, refresh: bool = False
) -> Dashboard:
    """The "Today" page for the user's organization as of ``now`` (an aware instant).

    Queries: sites, today's sessions (+ facilitators), their booked / recorded counts, the
    expected patients (the first ``limit`` and the total), active programs, and a fixed three
    for every program's weekly hours, so the count grows with neither patients nor programs.
    ``limit`` caps the "expected" and "at risk" lists (the most behind first); the totals are
    always whole.

    Today's sessions and the expected list are read live. The weekly-hours summary and the
    at-risk list come from the organization's snapshot (ADR 0016), at most
    ``OPENIOP_SNAPSHOT_MAX_AGE_SECONDS`` old, recomputed when a program is added or closed, when
    a week turns over, or with ``refresh``; only the shown at-risk rows are loaded.
    """
    require_perm(user, Perm.SESSION_VIEW)
    require_perm(user, Perm.COMPLIANCE_VIEW)
    from openiop.enrollment.caseload import is_caseload_scoped, keep_visible, visible_patients

    org_id = user.organization_id
    scoped = is_caseload_scoped(user)
    sites = list(Site.objects.for_org(org_id).order_by("name"))
    sessions = _sessions_today(org_id, sites, now)
    records = AttendanceRecord.objects.for_org(org_id).filter(session__in=[s.pk for s in sessions])
    counts = {
        row["session_id"]: row
        for row in records.values("session_id").annotate(
            booked=Count("id"),
            recorded=Count("id", filter=~Q(status=AttendanceRecord.Status.EXPECTED)),
        )
    }
    today = [
        SessionToday(
            session=session,
            facilitators=list(session.facilitators.all()),
            booked=counts.get(session.pk, {}).get("booked", 0),
            recorded=counts.get(session.pk, {}).get("recorded", 0),
        )
        for session in sessions
    ]
    by_pk = {s.pk: s for s in sessions}
    booked = records.exclude(session__status=Session.Status.CANCELLED)
    if scoped:  # a counselor's check-in list: their caseload only
        booked = booked.filter(patient__in=visible_patients(user))
    booked = booked.select_related("patient").order_by(
        "session__starts_at", "patient__last_name", "patient__first_name", "id"
    )
    rows = list(booked[:limit] if limit is not None else booked)
    expected_total = len(rows) if limit is None or len(rows) < limit else booked.count()
    expected = [ExpectedPatient(r.patient, by_pk[r.session_id], r) for r in rows]

    programs = list(
        Program.objects.for_org(org_id)
        .filter(is_active=True)
        .select_related("site")
        .order_by("name")
    )
    weeks = _weeks_of(programs, now)
    snap, risk_rows, at_risk_total = panel_snapshot(
        scoped=scoped,
        field="at_risk",
        limit=limit,
        organization_id=org_id,
        key="dashboard:weekly_hours",
        compute=lambda: _weekly_snapshot_data(programs, now),
        max_age=dashboard_max_age(),
        now=now,
        refresh=refresh,
        valid=lambda data: data.get("weeks") == weeks,
    )
    counts_of = {pk: counts for pk, counts in snap.data["counts"]}
    summaries = [
        ProgramSummary(
            program,
            dt.date.fromisoformat(week),
            {str(s): counts_of.get(program.pk, {}).get(str(s), 0) for s in STATUS_ORDER},
        )
        for program, (_pk, week) in zip(programs, weeks, strict=True)
    ]
    # The furthest behind their minimum first.
    if scoped:  # program counts stay whole; names only from the caseload
        risk_rows = keep_visible(user, risk_rows, 2)
        at_risk_total = len(risk_rows)
    shown = risk_rows[:limit] if limit is not None else risk_rows
    episodes = (
        Episode.objects.for_org(org_id)
        .select_related("patient", "primary_counselor")
        .in_bulk([r[1] for r in shown])
    )
    by_program = {p.pk: p for p in programs}
    at_risk = [
        AtRisk(by_program[program_id], episodes[episode_id], _result_from_json(result))
        for program_id, episode_id, _patient, result in shown
        if episode_id in episodes and program_id in by_program
    ]
    at_risk.sort(key=lambda r: (r.patient.last_name, r.patient.first_name, r.program.name))
    return Dashboard(
        now=now, sessions=today, expected=expected, at_risk=at_risk, programs=summaries,
        expected_total=expected_total, at_risk_total=at_risk_total,
        panels_computed_at=snap.computed_at,
    )  # fmt: skip
