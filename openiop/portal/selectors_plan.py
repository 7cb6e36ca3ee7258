"""What the portal shows of a patient's treatment plan and aftercare plan (issue 10).

Shared with the patient: the goals in their own words, the measurable objectives with target
dates, and the latest progress rating from a plan review. Not shared: staff comments on
progress, interventions' staff assignments, strengths/barriers wording (the clinician discusses
those in session). The plan shown is the current active one; a draft is never shown (it is not
agreed yet). Every read writes one audit row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest

from openiop.aftercare.models import AftercareComponent, AftercarePlan, EngagementEntry
from openiop.clinical.models import ObjectiveProgress, PlanObjective, TreatmentPlan
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.portal.models import PortalAccount

CAT = AuditEvent.Category.CLINICAL


@dataclass
class GoalView:
    text: str
    objectives: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PlanView:
    plan: TreatmentPlan
    goals: list[GoalView]
    last_review_on: Any = None


def my_plan(account: PortalAccount, *, request: HttpRequest | None = None) -> PlanView | None:
    plan = (
        TreatmentPlan.objects.for_org(account.organization_id)
        .filter(patient=account.patient, status=TreatmentPlan.Status.ACTIVE)
        .order_by("-effective_on", "-version")
        .prefetch_related(
            "problems__goals",
            Prefetch(
                "problems__goals__objectives",
                queryset=PlanObjective.objects.order_by("position", "id").prefetch_related(
                    Prefetch(
                        "progress",
                        queryset=ObjectiveProgress.objects.select_related("review").order_by(
                            "-review__reviewed_on", "-id"
                        ),
                    )
                ),
            ),
            "reviews",
        )
        .first()
    )
    audit_log(
        actor=account.user, action="openiop.portal.plan.read", category=CAT,
        obj=plan, patient=account.patient, request=request,
    )  # fmt: skip
    if plan is None:
        return None
    goals = []
    for problem in sorted(plan.problems.all(), key=lambda p: (p.position, p.pk)):
        for goal in sorted(problem.goals.all(), key=lambda g: (g.position, g.pk)):
            view = GoalView(text=goal.text)
            for objective in goal.objectives.all():
                latest = next(iter(objective.progress.all()), None)
                view.objectives.append(
                    {
                        "text": objective.text,
                        "target_on": objective.target_on,
                        "rating": latest.get_rating_display() if latest else None,
                        "rating_key": latest.rating if latest else None,
                        "rated_on": latest.review.reviewed_on if latest else None,
                    }
                )
            goals.append(view)
    reviews = sorted(plan.reviews.all(), key=lambda r: r.reviewed_on, reverse=True)
    return PlanView(
        plan=plan, goals=goals, last_review_on=reviews[0].reviewed_on if reviews else None
    )


def my_aftercare(
    account: PortalAccount, *, request: HttpRequest | None = None
) -> AftercarePlan | None:
    """The latest aftercare plan with its components and the patient's own recent check-ins."""
    plan = (
        AftercarePlan.objects.for_org(account.organization_id)
        .filter(patient=account.patient)
        .prefetch_related(
            Prefetch(
                "components",
                queryset=AftercareComponent.objects.order_by("starts_on", "id").prefetch_related(
                    Prefetch(
                        "engagement",
                        queryset=EngagementEntry.objects.order_by("-occurred_on", "-id"),
                    )
                ),
            )
        )
        .first()
    )
    if plan is not None:
        audit_log(
            actor=account.user, action="openiop.portal.aftercare.read", category=CAT,
            obj=plan, patient=account.patient, request=request,
        )  # fmt: skip
    return plan


def my_component_get(account: PortalAccount, public_id: Any) -> AftercareComponent | None:
    return (
        AftercareComponent.objects.for_org(account.organization_id)
        .filter(plan__patient=account.patient, public_id=public_id)
        .select_related("plan", "plan__patient", "plan__episode__program__site")
        .first()
    )
