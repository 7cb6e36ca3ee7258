"""Utilization-review writes: prepare a review (the period and the clinician's summary) and
record the payer's answer. The packet itself is assembled from the record when it is shown
(``selectors/ur.py``), so nothing here copies clinical data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest

from openiop.billing.models import Authorization
from openiop.clinical.models import UtilizationReview
from openiop.clinical.selectors.ur import check_period
from openiop.core.actors import user_or_none
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode

CAT = AuditEvent.Category.CLINICAL


def _check_org(actor: Any, organization_id: int) -> None:
    if actor is not None and getattr(actor, "organization_id", None) != organization_id:
        raise PermissionDenied("the episode belongs to another organization")


@transaction.atomic
def ur_create(
    *,
    actor: Any,
    episode: Episode,
    period_start: dt.date,
    period_end: dt.date,
    clinician_summary: str,
    authorization: Authorization | None = None,
    request: HttpRequest | None = None,
) -> UtilizationReview:
    """Prepare a utilization review of ``episode`` for the period (both days included)."""
    if getattr(actor, "pk", None) is None:
        raise PermissionDenied("a utilization review is prepared by a staff member")
    _check_org(actor, episode.organization_id)
    errors: dict[str, str] = {}
    problem = check_period(period_start, period_end)
    if problem:
        errors["period_end"] = problem
    if episode.admitted_on is None:
        errors["period_start"] = "The patient has not been admitted."
    elif period_end < episode.admitted_on:
        errors["period_end"] = "The period ends before the admission date."
    if not (clinician_summary or "").strip():
        errors["clinician_summary"] = (
            "Write the clinician's summary: current presentation, why this level of care is "
            "still needed, and the plan."
        )
    if authorization is not None and authorization.episode_id != episode.pk:
        errors["authorization"] = "That authorization belongs to another episode."
    if errors:
        raise ValidationError(errors)
    user = user_or_none(actor)
    review = UtilizationReview.objects.create(
        organization_id=episode.organization_id,
        episode=episode,
        period_start=period_start,
        period_end=period_end,
        clinician_summary=clinician_summary.strip(),
        prepared_by=actor,
        authorization=authorization,
        created_by=user,
        updated_by=user,
    )
    audit_log(
        actor=actor, action="openiop.clinical.utilization_review.create", category=CAT,
        obj=review, patient=episode.patient, request=request,
        detail={"start": period_start.isoformat(), "end": period_end.isoformat()},
    )  # fmt: skip
    return review


@transaction.atomic
def ur_record_outcome(
    *,
    actor: Any,
    review: UtilizationReview,
    outcome: str,
    outcome_note: str = "",
    request: HttpRequest | None = None,
) -> UtilizationReview:
    """Record what the payer answered (approved, partly approved, denied, or back to pending)."""
    _check_org(actor, review.organization_id)
    if outcome not in UtilizationReview.Outcome.values:
        raise ValidationError({"outcome": "Choose pending, approved, partly approved or denied."})
    note = (outcome_note or "").strip()
    if (
        outcome in (UtilizationReview.Outcome.DENIED, UtilizationReview.Outcome.PARTIAL)
        and not note
    ):
        raise ValidationError(
            {"outcome_note": "Note what the payer denied and any appeal deadline."}
        )
    locked = UtilizationReview.objects.select_for_update(of=("self",)).get(pk=review.pk)
    previous = locked.outcome
    locked.outcome = outcome
    locked.outcome_note = note
    locked.updated_by = user_or_none(actor)
    locked.save(update_fields=["outcome", "outcome_note", "updated_by", "updated_at"])
    audit_log(
        actor=actor, action="openiop.clinical.utilization_review.outcome", category=CAT,
        obj=locked, patient=locked.episode.patient, request=request,
        detail={"from": previous, "to": outcome},
    )  # fmt: skip
    return locked
