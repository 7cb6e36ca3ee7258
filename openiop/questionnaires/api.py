"""Questionnaires API: a patient's responses (list, record, read), open clinical alerts and
their follow-up.

Writes go through ``openiop.questionnaires.services`` (which score, raise alerts and audit);
reads go through the audited selectors. Scores are part of the clinical record: reading them
needs ``note.view``; recording needs ``questionnaire.record``; closing an alert needs
``alert.follow_up``. A patient, response or alert id of another organization is a 404; an
episode named in a body that is not the patient's is a 400 naming ``episode``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from openiop.accounts.permissions import Perm
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.api_auth import paginate, ref, responses
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.models import AuditEvent
from openiop.enrollment.api import resolve
from openiop.enrollment.models import Episode
from openiop.patients.models import Patient
from openiop.questionnaires import selectors, services
from openiop.questionnaires.models import ClinicalAlert, QuestionnaireResponse
from openiop.questionnaires.schemas import (
    AlertOut,
    AlertPage,
    FollowUpIn,
    InstrumentKey,
    ResponseIn,
    ResponseOut,
    ResponsePage,
)

router = Router()
CAT = AuditEvent.Category.CLINICAL


# --- output -------------------------------------------------------------------------------------


def _patient(patient: Patient) -> dict[str, str]:
    return {"id": str(patient.public_id), "name": patient.display_name, "mrn": patient.mrn}


def _alert_brief(alert: ClinicalAlert) -> dict[str, Any]:
    return {
        "id": str(alert.public_id),
        "kind": alert.kind,
        "kind_label": alert.get_kind_display(),
        "raised_at": alert.raised_at,
        "assigned_to": ref(alert.assigned_to),
        "open": alert.is_open,
    }


def response_out(r: QuestionnaireResponse, patient: Patient) -> dict[str, Any]:
    return {
        "id": str(r.public_id),
        "patient": _patient(patient),
        "episode": str(r.episode.public_id) if r.episode_id else None,
        "instrument": r.instrument,
        "instrument_version": r.instrument_version,
        "answers": dict(r.answers),
        "total": r.total,
        "severity": r.severity or None,
        "flags": list(r.flags),
        "positive": r.positive,
        "subscales": dict(r.subscales),
        "administered_at": r.administered_at,
        "administered_by": ref(r.administered_by),
        "source": r.source,
        "alerts": [_alert_brief(a) for a in r.alerts.all()],
    }


def alert_out(a: ClinicalAlert) -> dict[str, Any]:
    return {
        **_alert_brief(a),
        "patient": _patient(a.patient),
        "episode": str(a.episode.public_id) if a.episode_id else None,
        "response": str(a.response.public_id),
        "instrument": a.response.instrument,
        "followed_up_at": a.followed_up_at,
        "followed_up_by": ref(a.followed_up_by),
        "follow_up_note": a.follow_up_note,
    }


RESPONSE_RELATED = ("administered_by", "episode")


def _responses_qs(organization_id: int) -> Any:
    return (
        QuestionnaireResponse.objects.for_org(organization_id)
        .select_related(*RESPONSE_RELATED)
        .prefetch_related("alerts__assigned_to")
    )


# --- responses ----------------------------------------------------------------------------------


@router.get(
    "patients/{patient_id}/questionnaire-responses",
    response=responses(ResponsePage),
    summary="A patient's questionnaire responses, newest first",
)
def list_responses(
    request: HttpRequest,
    patient_id: uuid.UUID,
    instrument: Annotated[InstrumentKey | None, Query(description="One instrument only")] = None,  # type: ignore[valid-type]
    limit: Annotated[
        int | None, Query(ge=1, description="Page size (capped by the server)")
    ] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    user = request.user
    patient = get_for_user_or_404(Patient.objects.all(), user, patient_id, Perm.NOTE_VIEW)
    qs = _responses_qs(user.organization_id).filter(patient=patient)
    if instrument:
        qs = qs.filter(instrument=instrument)
    count, items, size = paginate(qs.order_by("-administered_at", "-id"), limit, offset)
    audit_log(
        actor=user,
        action="openiop.questionnaires.response.list",
        category=CAT,
        obj=patient,
        patient=patient,
        request=request,
        detail={"instrument": instrument or "all", "count": len(items), "api": True},
    )
    return {
        "count": count,
        "limit": size,
        "offset": offset,
        "items": [response_out(r, patient) for r in items],
    }


@router.post(
    "patients/{patient_id}/questionnaire-responses",
    response=responses(ResponseOut, 201),
    summary="Record (and score) a questionnaire response",
    description=(
        "Scores the answers with the same instrument modules as `openiop questionnaires score`; "
        "a safety answer (PHQ-9 item 9 above 0, C-SSRS high risk) raises a clinical alert for "
        "the episode's primary counselor in the same transaction; it is listed in `alerts`. A "
        "missing or out-of-range answer is a 400 whose `field` is the item's linkId."
    ),
)
def create_response(
    request: HttpRequest, patient_id: uuid.UUID, payload: ResponseIn
) -> Status[dict[str, Any]]:
    user = request.user
    patient = get_for_user_or_404(
        Patient.objects.all(), user, patient_id, Perm.QUESTIONNAIRE_RECORD
    )
    episode = resolve(Episode.objects.all(), user, payload.episode, "episode", "episode")
    response = services.response_record(
        actor=user,
        patient=patient,
        episode=episode,
        instrument=payload.instrument,
        answers=payload.answers,
        sex=payload.sex,
        administered_at=payload.administered_at,
        request=request,
    )
    saved = _responses_qs(user.organization_id).get(pk=response.pk)
    return Status(201, response_out(saved, patient))


@router.get(
    "questionnaire-responses/{response_id}",
    response=responses(ResponseOut),
    summary="Read one questionnaire response",
)
def get_response(request: HttpRequest, response_id: uuid.UUID) -> dict[str, Any]:
    response = selectors.response_get(user=request.user, public_id=response_id, request=request)
    alerts = list(response.alerts.select_related("assigned_to"))
    out = response_out(response, response.patient)
    out["alerts"] = [_alert_brief(a) for a in alerts]
    return out


# --- alerts -------------------------------------------------------------------------------------


@router.get(
    "alerts",
    response=responses(AlertPage),
    summary="Open clinical alerts: the caller's own first, then oldest first",
)
def list_alerts(
    request: HttpRequest,
    limit: Annotated[
        int | None, Query(ge=1, description="Page size (capped by the server)")
    ] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    user = request.user
    require_perm(user, Perm.NOTE_VIEW)
    qs = selectors.alert_queryset_open(user).select_related("followed_up_by")
    count, alerts, size = paginate(qs, limit, offset)
    audit_log_many(
        actor=user,
        action="openiop.questionnaires.alert.list",
        category=CAT,
        patients=[a.patient for a in alerts],
        request=request,
        detail={"api": True},
    )
    return {
        "count": count,
        "limit": size,
        "offset": offset,
        "items": [alert_out(a) for a in alerts],
    }


@router.post(
    "alerts/{alert_id}/follow-up",
    response=responses(AlertOut),
    summary="Record the follow-up that closes an alert",
    description="The only way an alert closes. A second follow-up of the same alert is a 400.",
)
def follow_up_alert(request: HttpRequest, alert_id: uuid.UUID, payload: FollowUpIn) -> dict:
    alert = selectors.alert_get(
        user=request.user, public_id=alert_id, perm=Perm.ALERT_FOLLOW_UP, request=request
    )
    services.alert_follow_up(actor=request.user, alert=alert, note=payload.note, request=request)
    saved = ClinicalAlert.objects.select_related(
        "patient", "response", "assigned_to", "followed_up_by", "episode"
    ).get(pk=alert.pk)
    return alert_out(saved)
