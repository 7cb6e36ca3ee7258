"""Aftercare reads: the follow-up work list, one plan with its engagement, who has gone quiet.

Every read of patient data is audited (one row per page: ``audit_log_many`` for lists), scoped to
the user's organization and, for counselors, to their caseload
(``openiop.enrollment.caseload``). A role without ``Perm.AFTERCARE_VIEW`` gets 403 from the
object fetches and empty panels (``None``) on the dashboard.

Engagement comes from two places: entries staff (or the patient, through the portal) log for
an outside component, and, for a component that is a group this organization runs
(``AftercareComponent.program``), the patient's attendance at that program's sessions
(present, late or left early, with minutes attended; a cancelled session never counts). The
monthly bands and "gone quiet" are ``openiop.aftercare.rules``; the thresholds are the
``OPENIOP_FOLLOW_UP_*`` and ``OPENIOP_GONE_QUIET_WEEKS`` settings, read at call time.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, IntegerField, Max, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.aftercare import rules
from openiop.aftercare.models import (
    AftercareComponent,
    AftercarePlan,
    EngagementEntry,
    FollowUp,
    FollowUpAttempt,
)
from openiop.attendance.models import AttendanceRecord
from openiop.core.access import get_for_user_or_404
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.models import AuditEvent
from openiop.enrollment.caseload import scope_to_caseload
from openiop.scheduling.models import Session

CAT = AuditEvent.Category.CLINICAL

#: Work-list filters: the default shows what needs a call now (due or overdue).
WORKLIST_FILTERS: dict[str, str] = {
    "open": "Due or overdue",
    "due": "Due (window open)",
    "overdue": "Overdue (window closed)",
    "all": "All pending, upcoming too",
}
PANEL_ROWS = 5

STATUS_LABELS = {
    "upcoming": "Upcoming",
    "due": "Due",
    "overdue": "Overdue",
    "done": "Completed",
}
#: Badge classes from app.css for each follow-up status.
STATUS_BADGES = {"upcoming": "exempt", "due": "at_risk", "overdue": "below", "done": "met"}


def _schedule() -> rules.FollowUpSchedule:
    return rules.FollowUpSchedule(
        offsets=tuple(settings.OPENIOP_FOLLOW_UP_DAYS) or rules.DEFAULT_FOLLOW_UP_OFFSETS,
        window_before=settings.OPENIOP_FOLLOW_UP_WINDOW_BEFORE,
        grace_after=settings.OPENIOP_FOLLOW_UP_GRACE_AFTER,
    )


def _status(follow_up: FollowUp, today: dt.date, schedule: rules.FollowUpSchedule) -> str:
    if follow_up.status == FollowUp.Status.CLOSED:
        return "closed"
    return schedule.status(follow_up.due_on, today, follow_up.status == FollowUp.Status.COMPLETED)


# --- the follow-up work list ---------------------------------------------------------------------


@dataclass(frozen=True)
class WorklistRow:
    """One pending follow-up on the work list."""

    follow_up: FollowUp
    status: str  # "upcoming" | "due" | "overdue"
    attempts: int
    last_result: str  # a FollowUpAttempt.Result value, or "" (no attempt yet)
    last_attempt_at: dt.datetime | None
    opens_on: dt.date
    closes_on: dt.date
    today: dt.date

    @property
    def patient(self) -> Any:
        return self.follow_up.patient

    @property
    def plan(self) -> AftercarePlan:
        return self.follow_up.plan

    @property
    def program(self) -> Any:
        return self.follow_up.plan.episode.program

    @property
    def time_point(self) -> str:
        return f"{self.follow_up.offset_days}-day"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def badge(self) -> str:
        return STATUS_BADGES[self.status]

    @property
    def last_result_label(self) -> str:
        return FollowUpAttempt.Result(self.last_result).label if self.last_result else ""

    @property
    def days_from_due(self) -> int:
        """Days since the due date (negative: days until it)."""
        return (self.today - self.follow_up.due_on).days

    @property
    def days_until_due(self) -> int:
        return -self.days_from_due


def _worklist_rows(
    user: Any, today: dt.date, *, status: str = "open", program: Any = None
) -> list[WorklistRow]:
    """The rows, unaudited (the public readers audit what they show). One query."""
    if not user_has_perm(user, Perm.AFTERCARE_VIEW):
        return []
    schedule = _schedule()
    before = dt.timedelta(days=schedule.window_before)
    grace = dt.timedelta(days=schedule.grace_after)
    attempts = FollowUpAttempt.objects.filter(follow_up=OuterRef("pk"))
    last = attempts.order_by("-attempted_at", "-id")
    count = attempts.order_by().values("follow_up").annotate(c=Count("pk")).values("c")
    qs = (
        FollowUp.objects.for_org(user.organization_id)
        .filter(status=FollowUp.Status.PENDING)
        .select_related("patient", "plan__episode__program__site")
        .annotate(
            attempt_count=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)),
            last_result=Subquery(last.values("result")[:1]),
            last_attempt_at=Subquery(last.values("attempted_at")[:1]),
        )
    )
    if status == "due":
        qs = qs.filter(due_on__lte=today + before, due_on__gte=today - grace)
    elif status == "overdue":
        qs = qs.filter(due_on__lt=today - grace)
    elif status != "all":  # "open": due or overdue
        qs = qs.filter(due_on__lte=today + before)
    if program is not None:
        qs = qs.filter(plan__episode__program=program)
    qs = scope_to_caseload(qs, user, "patient").order_by(
        "due_on", "patient__last_name", "patient__first_name", "id"
    )
    rows = []
    for f in qs:
        opens_on, closes_on = schedule.window(f.due_on)
        rows.append(
            WorklistRow(
                follow_up=f,
                status=_status(f, today, schedule),
                attempts=f.attempt_count,
                last_result=f.last_result or "",
                last_attempt_at=f.last_attempt_at,
                opens_on=opens_on,
                closes_on=closes_on,
                today=today,
            )  # fmt: skip
        )
    return rows


def follow_up_worklist(
    user: Any,
    today: dt.date,
    *,
    request: HttpRequest | None = None,
    status: str = "open",
    program: Any = None,
) -> list[WorklistRow]:
    """Pending follow-ups to call about, oldest due date first: by default those whose window
    is open ("due") or has closed ("overdue"); ``status`` "due", "overdue" or "all" (upcoming
    too) narrows or widens it, ``program`` keeps one program's discharges. One query plus the
    audit row."""
    rows = _worklist_rows(user, today, status=status, program=program)
    audit_log_many(
        actor=user, action="openiop.aftercare.follow_up.list", category=CAT,
        patients=[r.patient for r in rows], request=request,
        detail={"status": status, "rows": len(rows)},
    )  # fmt: skip
    return rows


@dataclass(frozen=True)
class FollowUpPanel:
    due: int
    overdue: int
    rows: list[WorklistRow]

    @property
    def total(self) -> int:
        return self.due + self.overdue


def follow_ups_panel_context(
    user: Any, today: dt.date, request: HttpRequest | None = None
) -> dict[str, Any]:
    """Context for ``aftercare/_follow_ups_panel.html``: due and overdue counts and the first
    few, oldest first. ``None`` hides the panel from roles without ``AFTERCARE_VIEW``."""
    if not user_has_perm(user, Perm.AFTERCARE_VIEW):
        return {"aftercare_follow_ups": None}
    rows = _worklist_rows(user, today)
    shown = rows[:PANEL_ROWS]
    audit_log_many(
        actor=user, action="openiop.aftercare.follow_up.panel", category=CAT,
        patients=[r.patient for r in shown], request=request, detail={"rows": len(shown)},
    )  # fmt: skip
    panel = FollowUpPanel(
        due=sum(r.status == "due" for r in rows),
        overdue=sum(r.status == "overdue" for r in rows),
        rows=shown,
    )
    return {"aftercare_follow_ups": panel}


# --- one plan ------------------------------------------------------------------------------------


@dataclass
class ComponentRow:
    component: AftercareComponent
    entries: list[EngagementEntry]
    attended: list[dt.date] = field(default_factory=list)  # sessions of its program attended

    @property
    def events(self) -> list[dt.date]:
        return sorted([e.occurred_on for e in self.entries] + self.attended)

    @property
    def last_engagement(self) -> dt.date | None:
        events = self.events
        return events[-1] if events else None

    def active_on(self, day: dt.date) -> bool:
        c = self.component
        return c.starts_on <= day and (c.ends_on is None or day <= c.ends_on)


@dataclass(frozen=True)
class MonthRow:
    month: rules.MonthEngagement
    components: list[str]  # names of the components engaged that month


@dataclass(frozen=True)
class FollowUpRow:
    follow_up: FollowUp
    status: str  # "upcoming" | "due" | "overdue" | "done" | "closed"
    opens_on: dt.date
    closes_on: dt.date
    attempts: list[FollowUpAttempt]

    @property
    def time_point(self) -> str:
        return f"{self.follow_up.offset_days}-day"

    @property
    def status_label(self) -> str:
        if self.status == "closed":
            return "Closed without contact"
        return STATUS_LABELS[self.status]

    @property
    def badge(self) -> str:
        return STATUS_BADGES.get(self.status, "exempt")

    @property
    def employment_label(self) -> str:
        from openiop.aftercare.services import EMPLOYMENT_CHOICES

        return dict(EMPLOYMENT_CHOICES).get(self.follow_up.employment or 0, "")

    @property
    def living_label(self) -> str:
        from openiop.aftercare.services import LIVING_CHOICES

        return dict(LIVING_CHOICES).get(self.follow_up.living or 0, "")

    @property
    def substances(self) -> list[tuple[str, int]]:
        from openiop.enrollment.models import TedsSubstance

        out = []
        for code, days in sorted(self.follow_up.substance_days.items()):
            try:
                label = TedsSubstance(int(code)).label
            except ValueError:
                label = f"Substance {code}"
            out.append((label, days))
        return out


@dataclass
class PlanDetail:
    plan: AftercarePlan
    today: dt.date
    components: list[ComponentRow]
    follow_ups: list[FollowUpRow]
    months: list[MonthRow]
    last_engagement: dt.date | None
    gone_quiet: bool
    quiet_weeks: int

    @property
    def episode(self) -> Any:
        return self.plan.episode

    @property
    def patient(self) -> Any:
        return self.plan.patient

    @property
    def active(self) -> bool:
        return self.plan.starts_on <= self.today <= self.plan.ends_on

    @property
    def active_components(self) -> list[ComponentRow]:
        return [c for c in self.components if c.component.ends_on is None]

    @property
    def entries(self) -> list[tuple[EngagementEntry, AftercareComponent]]:
        """Every logged entry with its component, newest first."""
        pairs = [(e, row.component) for row in self.components for e in row.entries]
        return sorted(pairs, key=lambda p: (p[0].occurred_on, p[0].pk), reverse=True)


def plan_get(user: Any, public_id: Any, *, perm: Perm = Perm.AFTERCARE_VIEW) -> AftercarePlan:
    """The plan, or 404 (unknown, another organization's, outside the caseload) / 403 (role).
    Not audited: the caller's page is (``plan_detail``) or its service writes an audit row."""
    qs = AftercarePlan.objects.select_related(
        "patient", "episode__program__site", "episode__primary_counselor"
    )
    return get_for_user_or_404(qs, user, public_id, perm)


def _attended_dates(plan: AftercarePlan, program_ids: Iterable[int]) -> dict[int, list[dt.date]]:
    """Local dates of the patient's attended sessions per program (one query)."""
    ids = set(program_ids)
    if not ids:
        return {}
    records = (
        AttendanceRecord.objects.for_org(plan.organization_id)
        .filter(
            patient_id=plan.patient_id,
            session__program_id__in=ids,
            status__in=AttendanceRecord.ATTENDED,
            minutes_attended__gt=0,
        )
        .exclude(session__status=Session.Status.CANCELLED)
        .values_list(
            "session__program_id", "session__starts_at", "session__program__site__timezone"
        )
    )
    out: dict[int, list[dt.date]] = defaultdict(list)
    for program_id, starts_at, tz in records:
        out[program_id].append(starts_at.astimezone(zoneinfo.ZoneInfo(tz)).date())
    return out


def plan_detail(
    user: Any,
    public_id: Any,
    *,
    today: dt.date | None = None,
    request: HttpRequest | None = None,
) -> PlanDetail:
    """One plan with its components, engagement, monthly bands and follow-ups (with their
    attempts); audited. Months run from the plan's start to today (or its end, if earlier)."""
    plan = plan_get(user, public_id)
    today = today or plan.episode.program.site.today()
    components = list(
        AftercareComponent.objects.filter(plan=plan)
        .select_related("program")
        .prefetch_related(
            Prefetch("engagement", queryset=EngagementEntry.objects.order_by("-occurred_on", "-id"))
        )
        .order_by("starts_on", "kind", "id")
    )
    attended = _attended_dates(plan, [c.program_id for c in components if c.program_id])
    rows: list[ComponentRow] = []
    for c in components:
        row = ComponentRow(component=c, entries=list(c.engagement.all()))
        if c.program_id:
            row.attended = sorted(d for d in attended.get(c.program_id, []) if row.active_on(d))
        rows.append(row)
    events = [(day, row.component.pk) for row in rows for day in row.events if day <= today]
    months = rules.monthly_engagement(plan.starts_on, min(today, plan.ends_on), events)
    names = {row.component.pk: str(row.component) for row in rows}
    month_rows = []
    for m in months:
        engaged = sorted({names[pk] for day, pk in events if m.start <= day <= m.end})
        month_rows.append(MonthRow(month=m, components=engaged))
    last = max((day for day, _ in events if day >= plan.starts_on), default=None)
    weeks = settings.OPENIOP_GONE_QUIET_WEEKS
    quiet = plan.starts_on <= today <= plan.ends_on and rules.gone_quiet(
        last, plan.starts_on, today, weeks
    )
    schedule = _schedule()
    follow_ups = []
    for f in (
        FollowUp.objects.filter(plan=plan)
        .select_related("contacted_by")
        .prefetch_related(
            Prefetch(
                "attempts",
                queryset=FollowUpAttempt.objects.select_related("created_by").order_by(
                    "-attempted_at", "-id"
                ),
            )
        )
        .order_by("due_on")
    ):
        opens_on, closes_on = schedule.window(f.due_on)
        follow_ups.append(
            FollowUpRow(
                follow_up=f,
                status=_status(f, today, schedule),
                opens_on=opens_on,
                closes_on=closes_on,
                attempts=list(f.attempts.all()),
            )  # fmt: skip
        )
    audit_log(
        actor=user, action="openiop.aftercare.plan.view", category=CAT, obj=plan,
        patient=plan.patient, request=request,
    )  # fmt: skip
    return PlanDetail(
        plan=plan, today=today, components=rows, follow_ups=follow_ups, months=month_rows,
        last_engagement=last, gone_quiet=quiet, quiet_weeks=weeks,
    )  # fmt: skip


def follow_up_get(user: Any, public_id: Any, *, perm: Perm = Perm.AFTERCARE_MANAGE) -> FollowUp:
    """A follow-up for the contact, attempt and close pages, or 404 / 403 (not audited: the
    page that shows it audits its read)."""
    qs = FollowUp.objects.select_related("patient", "plan__episode__program__site", "plan__patient")
    return get_for_user_or_404(qs, user, public_id, perm)


def follow_up_read(user: Any, follow_up: FollowUp, *, request: HttpRequest | None = None) -> None:
    """Audit a page that shows one follow-up."""
    audit_log(
        actor=user, action="openiop.aftercare.follow_up.view", category=CAT, obj=follow_up,
        patient=follow_up.patient, request=request,
    )  # fmt: skip


def follow_up_attempts(follow_up: FollowUp) -> list[FollowUpAttempt]:
    return list(follow_up.attempts.order_by("-attempted_at", "-id"))


# --- gone quiet ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietRow:
    plan: AftercarePlan
    last_engagement: dt.date | None
    today: dt.date

    @property
    def patient(self) -> Any:
        return self.plan.patient

    @property
    def program(self) -> Any:
        return self.plan.episode.program

    @property
    def counselor(self) -> Any:
        return self.plan.episode.primary_counselor

    @property
    def quiet_since(self) -> dt.date:
        """The last engagement, or the aftercare start for someone who has not engaged yet."""
        if self.last_engagement is None:
            return self.plan.starts_on
        return max(self.last_engagement, self.plan.starts_on)

    @property
    def days_quiet(self) -> int:
        return (self.today - self.quiet_since).days

    @property
    def weeks_quiet(self) -> int:
        return self.days_quiet // 7


def _active_plans(user: Any, today: dt.date) -> QuerySet[AftercarePlan]:
    last_entry = (
        EngagementEntry.objects.filter(component__plan=OuterRef("pk"), occurred_on__lte=today)
        .order_by("-occurred_on")
        .values("occurred_on")[:1]
    )
    qs = (
        AftercarePlan.objects.for_org(user.organization_id)
        .filter(starts_on__lte=today, ends_on__gte=today)
        .select_related("patient", "episode__program", "episode__primary_counselor")
        .annotate(last_entry=Subquery(last_entry))
    )
    return scope_to_caseload(qs, user, "patient")


def _last_attendance(plans: list[AftercarePlan], today: dt.date) -> dict[int, dt.date]:
    """Per plan, the last local date the patient attended a session of one of the plan's
    aftercare-group components (two queries, whatever the number of plans)."""
    if not plans:
        return {}
    programs: dict[int, set[int]] = defaultdict(set)  # plan pk -> program pks
    for plan_id, program_id in AftercareComponent.objects.filter(
        plan__in=plans, program__isnull=False
    ).values_list("plan_id", "program_id"):
        programs[plan_id].add(program_id)
    if not programs:
        return {}
    all_programs = set().union(*programs.values())
    latest: dict[tuple[int, int], dt.date] = {}
    rows = (
        AttendanceRecord.objects.filter(
            organization_id=plans[0].organization_id,
            patient_id__in={p.patient_id for p in plans if p.pk in programs},
            session__program_id__in=all_programs,
            status__in=AttendanceRecord.ATTENDED,
            minutes_attended__gt=0,
        )
        .exclude(session__status=Session.Status.CANCELLED)
        .values("patient_id", "session__program_id", "session__program__site__timezone")
        .annotate(last=Max("session__starts_at"))
        .order_by()
    )
    for r in rows:
        day = r["last"].astimezone(zoneinfo.ZoneInfo(r["session__program__site__timezone"]))
        key = (r["patient_id"], r["session__program_id"])
        latest[key] = max(latest.get(key, day.date()), day.date())
    out: dict[int, dt.date] = {}
    for plan in plans:
        days = [
            latest[(plan.patient_id, p)]
            for p in programs.get(plan.pk, ())
            if (plan.patient_id, p) in latest and latest[(plan.patient_id, p)] <= today
        ]
        if days:
            out[plan.pk] = max(days)
    return out


def _quiet_rows(user: Any, today: dt.date) -> list[QuietRow]:
    if not user_has_perm(user, Perm.AFTERCARE_VIEW):
        return []
    plans = list(_active_plans(user, today))
    attended = _last_attendance(plans, today)
    weeks = settings.OPENIOP_GONE_QUIET_WEEKS
    rows = []
    for plan in plans:
        candidates = [d for d in (plan.last_entry, attended.get(plan.pk)) if d is not None]
        last = max(candidates, default=None)
        if rules.gone_quiet(last, plan.starts_on, today, weeks):
            rows.append(QuietRow(plan=plan, last_engagement=last, today=today))
    rows.sort(key=lambda r: (r.quiet_since, r.patient.last_name, r.patient.first_name))
    return rows


def gone_quiet_list(
    user: Any, today: dt.date, *, request: HttpRequest | None = None
) -> list[QuietRow]:
    """Patients in aftercare today with no engagement for ``OPENIOP_GONE_QUIET_WEEKS`` weeks
    (counted from the aftercare start for someone who has not engaged yet), longest quiet
    first. Three queries plus the audit row."""
    rows = _quiet_rows(user, today)
    audit_log_many(
        actor=user, action="openiop.aftercare.gone_quiet.list", category=CAT,
        patients=[r.patient for r in rows], request=request, detail={"rows": len(rows)},
    )  # fmt: skip
    return rows


def gone_quiet_panel_context(
    user: Any, today: dt.date, request: HttpRequest | None = None
) -> dict[str, Any]:
    """Context for ``aftercare/_gone_quiet_panel.html`` (``None`` hides it from other roles)."""
    if not user_has_perm(user, Perm.AFTERCARE_VIEW):
        return {"aftercare_gone_quiet": None, "aftercare_gone_quiet_total": 0}
    rows = _quiet_rows(user, today)
    shown = rows[:PANEL_ROWS]
    audit_log_many(
        actor=user, action="openiop.aftercare.gone_quiet.panel", category=CAT,
        patients=[r.patient for r in shown], request=request, detail={"rows": len(shown)},
    )  # fmt: skip
    return {"aftercare_gone_quiet": shown, "aftercare_gone_quiet_total": len(rows)}


# --- the patient's record ------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientPlanRow:
    plan: AftercarePlan
    follow_ups: list[FollowUpRow]
    components: list[AftercareComponent]

    @property
    def next_follow_up(self) -> FollowUpRow | None:
        return next((f for f in self.follow_ups if f.follow_up.status == "pending"), None)


def plans_for_patient(
    user: Any, patient: Any, *, today: dt.date | None = None, request: HttpRequest | None = None
) -> list[PatientPlanRow]:
    """The patient's aftercare plans, newest first, for their record (empty without
    ``AFTERCARE_VIEW``). The caller has already checked the patient is the user's to see."""
    if not user_has_perm(user, Perm.AFTERCARE_VIEW):
        return []
    if patient.organization_id != user.organization_id:
        return []
    today = today or patient.organization.today()
    plans = list(
        AftercarePlan.objects.for_org(user.organization_id)
        .filter(patient=patient)
        .select_related("episode__program")
        .prefetch_related(
            Prefetch("follow_ups", queryset=FollowUp.objects.order_by("due_on")),
            Prefetch("components", queryset=AftercareComponent.objects.order_by("starts_on")),
        )
        .order_by("-starts_on")
    )
    schedule = _schedule()
    rows = []
    for plan in plans:
        follow_ups = []
        for f in plan.follow_ups.all():
            opens_on, closes_on = schedule.window(f.due_on)
            follow_ups.append(FollowUpRow(f, _status(f, today, schedule), opens_on, closes_on, []))
        rows.append(PatientPlanRow(plan, follow_ups, list(plan.components.all())))
    if rows:
        audit_log(
            actor=user, action="openiop.aftercare.plan.list", category=CAT, patient=patient,
            request=request, detail={"plans": [str(p.public_id) for p in plans]},
        )  # fmt: skip
    return rows


def plans_for_patient_context(
    user: Any, patient: Any, request: HttpRequest | None = None
) -> dict[str, Any]:
    """Context for ``aftercare/_patient_plans.html`` (``None`` hides it from other roles)."""
    if not user_has_perm(user, Perm.AFTERCARE_VIEW):
        return {"aftercare_plans": None}
    return {"aftercare_plans": plans_for_patient(user, patient, request=request)}
