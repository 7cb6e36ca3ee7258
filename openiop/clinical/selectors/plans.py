"""Treatment plan reads, fetched with permission and audited (one row per read; one row per
list naming every patient shown)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.db.models import Exists, OuterRef, Prefetch, prefetch_related_objects
from django.http import HttpRequest

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.clinical import cadence
from openiop.clinical.models import ObjectiveProgress, PlanObjective, PlanReview, TreatmentPlan
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.lists import Counted
from openiop.core.models import AuditEvent
from openiop.enrollment.caseload import scope_to_caseload
from openiop.enrollment.models import Episode
from openiop.patients.models import Patient

CAT = AuditEvent.Category.CLINICAL
S = TreatmentPlan.Status
OPEN_EPISODE = (Episode.Status.ADMITTED, Episode.Status.ACTIVE, Episode.Status.ON_HOLD)
TREE = "problems__goals__objectives__interventions__responsible"


def _audit(user: Any, verb: str, obj: Any, patient: Any, request: HttpRequest | None, **d: Any):
    audit_log(
        actor=user, action=f"openiop.clinical.plan.{verb}", category=CAT, obj=obj,
        patient=patient, request=request, detail=d,
    )  # fmt: skip


def plan_get(
    *, user: Any, public_id: Any, perm: Perm = Perm.NOTE_VIEW, request: HttpRequest | None = None
) -> TreatmentPlan:
    """One plan with its episode, program and site; 404 for another organization's or an
    unknown id, 403 for a role without ``perm``. The read is audited."""
    qs = TreatmentPlan.objects.select_related(
        "episode__program__site", "patient", "clinician_signed_by", "supersedes"
    )
    plan = get_for_user_or_404(qs, user, public_id, perm)
    _audit(user, "view", plan, plan.patient, request, version=plan.version)
    return plan


def plan_load_tree(plan: TreatmentPlan) -> TreatmentPlan:
    """Prefetch the plan's problems -> goals -> objectives -> interventions and its reviews with
    their per-objective progress (a fixed number of queries, whatever the plan's size)."""
    prefetch_related_objects(
        [plan],
        TREE,
        Prefetch(
            "reviews",
            queryset=PlanReview.objects.select_related("reviewer").order_by("-reviewed_on", "-id"),
        ),
        Prefetch(
            "reviews__progress",
            queryset=ObjectiveProgress.objects.select_related("objective").order_by(
                "objective__goal__problem__position", "objective__goal__position",
                "objective__position", "objective_id",
            ),
        ),
    )  # fmt: skip
    return plan


def plan_list_for_episode(
    *, user: Any, episode: Episode, request: HttpRequest | None = None
) -> list[TreatmentPlan]:
    """Every plan of the episode, newest version first (draft, active, superseded)."""
    require_perm(user, Perm.NOTE_VIEW)
    plans = list(
        TreatmentPlan.objects.for_org(user.organization_id)
        .filter(episode=episode)
        .select_related("clinician_signed_by")
        .order_by("-version", "-id")
    )
    if plans:
        _audit(user, "list", episode, episode.patient, request, plans=len(plans))
    return plans


def plan_current_for_episode(
    *, user: Any, episode: Episode, request: HttpRequest | None = None
) -> TreatmentPlan | None:
    """The episode's active plan, or None (a draft is not in force)."""
    require_perm(user, Perm.NOTE_VIEW)
    plan = (
        TreatmentPlan.objects.for_org(user.organization_id)
        .filter(episode=episode, status=S.ACTIVE)
        .select_related("clinician_signed_by")
        .first()
    )
    if plan is not None:
        _audit(user, "view", plan, episode.patient, request, version=plan.version)
    return plan


# --- objectives for notes -------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectiveChoice:
    """One objective of a patient's active plan, as a note form offers it.

    ``public_id`` is the string stored in ``Note.objectives``; ``number`` is the objective's
    place in the plan ("2.1.1": problem 2, goal 1, objective 1)."""

    public_id: str
    number: str
    text: str
    target_on: dt.date | None
    goal: str
    problem: str
    icd10_code: str

    @property
    def label(self) -> str:
        return f"{self.number} {self.text}"


def plan_objectives_for_patients(
    *, user: Any, patients: Iterable[Patient], request: HttpRequest | None = None
) -> dict[int, list[ObjectiveChoice]]:
    """The objectives of each patient's active plan (open episodes only), in plan order, keyed
    by patient pk; a patient with no active plan is absent. One query plus one audit row."""
    require_perm(user, Perm.NOTE_VIEW)
    people = list(patients)
    ids = [p.pk for p in people]
    if not ids:
        return {}
    rows = (
        PlanObjective.objects.for_org(user.organization_id)
        .filter(
            goal__problem__plan__patient_id__in=ids,
            goal__problem__plan__status=S.ACTIVE,
            goal__problem__plan__episode__status__in=OPEN_EPISODE,
        )
        .select_related("goal__problem__plan")
        .order_by(
            "goal__problem__plan__patient_id", "goal__problem__plan_id",
            "goal__problem__position", "goal__problem_id",
            "goal__position", "goal_id", "position", "id",
        )
    )  # fmt: skip
    out: dict[int, list[ObjectiveChoice]] = {}
    # Number as the plan page does; an active plan is complete (every problem has a goal and
    # every goal an objective: the clinician cannot sign otherwise), so nothing is skipped.
    last: list[Any] = [None, None, None]
    p_n = g_n = o_n = 0
    for o in rows:
        goal, problem = o.goal, o.goal.problem
        if problem.plan_id != last[0]:
            last, p_n = [problem.plan_id, None, None], 0
        if problem.pk != last[1]:
            last[1:], p_n, g_n = [problem.pk, None], p_n + 1, 0
        if goal.pk != last[2]:
            last[2], g_n, o_n = goal.pk, g_n + 1, 0
        o_n += 1
        out.setdefault(problem.plan.patient_id, []).append(
            ObjectiveChoice(
                public_id=str(o.public_id), number=f"{p_n}.{g_n}.{o_n}", text=o.text,
                target_on=o.target_on, goal=goal.text, problem=problem.description,
                icd10_code=problem.icd10_code,
            )
        )  # fmt: skip
    shown = [p for p in people if p.pk in out]
    audit_log_many(
        actor=user, action="openiop.clinical.plan.objectives", category=CAT, patients=shown,
        request=request,
    )  # fmt: skip
    return out


def plan_objectives_for_patient(
    *, user: Any, patient: Patient, request: HttpRequest | None = None
) -> list[ObjectiveChoice]:
    """The objectives of the patient's active plan, in plan order; [] when there is none."""
    return plan_objectives_for_patients(user=user, patients=[patient], request=request).get(
        patient.pk, []
    )


# --- the dashboard --------------------------------------------------------------------------

Kind = Literal["overdue", "due_soon", "plan_missing"]


@dataclass(frozen=True)
class ReviewDue:
    """One row of the "Plan reviews due" panel."""

    kind: Kind
    patient: Patient
    episode: Episode
    plan: TreatmentPlan | None
    due_on: dt.date
    days_overdue: int  # negative: due in that many days
    has_draft: bool = False

    @property
    def days_until(self) -> int:
        return -self.days_overdue

    @property
    def what(self) -> str:
        if self.kind == "plan_missing":
            return "Plan not signed" + (" (draft started)" if self.has_draft else "")
        return "Review overdue" if self.kind == "overdue" else "Review due"


def plan_reviews_due(
    *, user: Any, today: dt.date, request: HttpRequest | None = None, limit: int | None = None
) -> list[ReviewDue]:
    """Work for the dashboard in the user's organization, most overdue first:

    * active plans of open episodes whose review is overdue or due within 7 days;
    * open, admitted episodes with no signed plan ``program.plan_due_days`` after admission.

    A role without NOTE_VIEW gets [] (the dashboard is everyone's home page). Two queries plus
    one audit row naming the patients shown. With ``limit`` (the dashboard) only the ``limit``
    most overdue are loaded and shown, and ``.total`` says how many there are: a large
    organization has hundreds of plans due in any week.
    """
    if not user_has_perm(user, Perm.NOTE_VIEW):
        return []
    org = user.organization_id
    horizon = today + dt.timedelta(days=cadence.WARN_DAYS)
    rows: list[ReviewDue] = []
    plans = (
        scope_to_caseload(TreatmentPlan.objects.for_org(org), user)
        # Plans stay active after discharge: start from the open episodes (a few hundred), not
        # from five years of plans whose review date has long passed.
        .filter(
            status=S.ACTIVE,
            next_review_on__lte=horizon,
            episode_id__in=Episode.objects.for_org(org)
            .filter(status__in=OPEN_EPISODE)
            .values("pk"),
        )
        .select_related("patient", "episode__program")
        .order_by("next_review_on", "patient__last_name", "patient__first_name", "episode_id")
    )
    plans_total = None
    if limit is not None:
        plans_total = plans.count()
        plans = plans[:limit]
    for plan in plans:
        due = plan.next_review_on
        assert due is not None  # an active plan always has one (check constraint)
        status = cadence.review_status(due, today)
        rows.append(
            ReviewDue(
                kind="overdue" if status == cadence.OVERDUE else "due_soon",
                patient=plan.patient, episode=plan.episode, plan=plan, due_on=due,
                days_overdue=(today - due).days,
            )
        )  # fmt: skip
    plans_of = TreatmentPlan.objects.filter(episode=OuterRef("pk"))
    episodes = (
        scope_to_caseload(Episode.objects.for_org(org), user)
        .filter(status__in=OPEN_EPISODE, admitted_on__lt=today)
        .annotate(
            has_active=Exists(plans_of.filter(status=S.ACTIVE)),
            has_draft=Exists(plans_of.filter(status=S.DRAFT)),
        )
        .filter(has_active=False)
        .select_related("patient", "program")
    )
    for episode in episodes:
        assert episode.admitted_on is not None
        due = episode.admitted_on + dt.timedelta(days=episode.program.plan_due_days)
        if due < today:
            rows.append(
                ReviewDue(
                    kind="plan_missing", patient=episode.patient, episode=episode, plan=None,
                    due_on=due, days_overdue=(today - due).days, has_draft=episode.has_draft,
                )
            )  # fmt: skip
    rows.sort(key=lambda r: (r.due_on, r.patient.last_name, r.patient.first_name, r.episode.pk))
    total = len(rows)
    if limit is not None:
        assert plans_total is not None
        total = total - min(plans_total, limit) + plans_total
        rows = rows[:limit]
    audit_log_many(
        actor=user, action="openiop.clinical.plan.reviews_due", category=CAT,
        patients=[r.patient for r in rows], request=request,
    )  # fmt: skip
    return Counted(rows, total)
