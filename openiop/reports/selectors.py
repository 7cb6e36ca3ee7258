"""Read-only selectors for report pages. They load rows in a fixed number of queries per program
(never per patient) and hand plain dataclasses to the views."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from openiop.accounts.permissions import Perm
from openiop.attendance.compliance import Status
from openiop.attendance.models import AttendanceRecord
from openiop.attendance.selectors import compliance_for_programs_week
from openiop.core.access import require_perm
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
    return list(
        Session.objects.for_org(organization_id)
        .filter(_today_filter(sites, now))
        .select_related("program", "program__site", "room")
        .prefetch_related("facilitators")
        .order_by("starts_at")
    )


def dashboard_for(user: Any, now: dt.datetime, *, limit: int | None = None) -> Dashboard:
    """The "Today" page for the user's organization as of ``now`` (an aware instant).

    Queries: sites, today's sessions (+ facilitators), their booked / recorded counts, the
    expected patients (the first ``limit`` and the total), active programs, and a fixed three
    for every program's weekly hours, so the count grows with neither patients nor programs.
    ``limit`` caps the "expected" and "at risk" lists (the most behind first); the totals are
    always whole.
    """
    require_perm(user, Perm.SESSION_VIEW)
    require_perm(user, Perm.COMPLIANCE_VIEW)
    from openiop.enrollment.caseload import is_caseload_scoped, visible_patients

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

    at_risk: list[AtRisk] = []
    summaries: list[ProgramSummary] = []
    programs = list(
        Program.objects.for_org(org_id)
        .filter(is_active=True)
        .select_related("site")
        .order_by("name")
    )
    weekly = compliance_for_programs_week(programs=programs, now=now)
    for program in programs:
        week, rows = weekly[program.pk]
        counts = Counter(str(r.result.status) for r in rows)
        summaries.append(
            ProgramSummary(program, week, {str(s): counts.get(str(s), 0) for s in STATUS_ORDER})
        )
        at_risk.extend(
            AtRisk(program, r.episode, r.result)
            for r in rows
            if r.result.status in AT_RISK_STATUSES
        )
    if scoped:  # program counts stay whole; names only from the caseload
        seen = set(
            visible_patients(user)
            .filter(pk__in={r.patient.pk for r in at_risk})
            .values_list("pk", flat=True)
        )
        at_risk = [r for r in at_risk if r.patient.pk in seen]
    at_risk_total = len(at_risk)
    if limit is not None and at_risk_total > limit:
        # The furthest from their minimum even if they attend everything still booked first.
        at_risk.sort(
            key=lambda r: (
                r.result.minutes_attended + r.result.minutes_remaining - r.result.required_minutes,
                r.patient.last_name, r.patient.first_name,
            )
        )  # fmt: skip
        at_risk = at_risk[:limit]
    at_risk.sort(key=lambda r: (r.patient.last_name, r.patient.first_name, r.program.name))
    return Dashboard(
        now=now, sessions=today, expected=expected, at_risk=at_risk, programs=summaries,
        expected_total=expected_total, at_risk_total=at_risk_total,
    )  # fmt: skip
