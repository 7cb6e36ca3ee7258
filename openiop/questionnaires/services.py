"""Questionnaire writes: record a response (scoring it and raising alerts) and follow up an alert.

Both are keyword-only, atomic and audited (category CLINICAL). An alert is created in the same
transaction as the response that raised it, so a saved safety answer without its alert cannot
exist, and vice versa.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.core.actors import user_or_none as _user
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.patients.models import Patient
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.instruments.base import AnswerError, UnknownInstrument
from openiop.questionnaires.models import ClinicalAlert, QuestionnaireResponse

CAT = AuditEvent.Category.CLINICAL


def _check_org(actor: Any, organization_id: int) -> None:
    actor_org = getattr(actor, "organization_id", None)
    if getattr(actor, "pk", None) and actor_org != organization_id:
        raise ValidationError({"patient": "Unknown patient."})


def _episode_for(patient: Patient, episode: Episode | None) -> Episode | None:
    if episode is not None:
        if episode.patient_id != patient.pk:
            raise ValidationError({"episode": "This episode belongs to another patient."})
        return episode
    return (
        Episode.objects.for_org(patient.organization_id)
        .filter(patient=patient)
        .open()
        .select_related("primary_counselor")
        .first()
    )


@transaction.atomic
def response_record(
    *,
    actor: Any,
    patient: Patient,
    episode: Episode | None,
    instrument: str,
    answers: Sequence[Any] | Mapping[str, Any],
    sex: str | None = None,
    administered_at: dt.datetime | None = None,
    source: str = QuestionnaireResponse.Source.STAFF,
    request: HttpRequest | None = None,
) -> QuestionnaireResponse:
    """Score ``answers`` with the registry, save the response, and raise one ClinicalAlert per
    safety flag (PHQ-9 item 9 above 0, C-SSRS high risk), assigned to the episode's primary
    counselor. Without an explicit episode the patient's open episode is used, so that an alert
    still reaches a counselor. Bad answers raise ``ValidationError`` naming the item."""
    _check_org(actor, patient.organization_id)
    try:
        definition = registry.get(instrument)
    except UnknownInstrument as exc:
        raise ValidationError({"instrument": str(exc)}) from None
    if sex is None and patient.sex in ("male", "female"):
        sex = patient.sex
    try:
        codes = definition.validate(answers)
        score = definition.score(codes, sex=sex)
    except AnswerError as exc:
        raise ValidationError({exc.link_id or "answers": str(exc)}) from None
    now = timezone.now()
    if administered_at is None:
        administered_at = now
    elif administered_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"administered_at": "A questionnaire cannot be given in the future."})
    if source not in QuestionnaireResponse.Source.values:
        raise ValidationError({"source": "Unknown source."})
    episode = _episode_for(patient, episode)
    response = QuestionnaireResponse.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        episode=episode,
        instrument=definition.key,
        instrument_version=definition.version,
        answers=definition.answers_by_link_id(codes),
        total=score.total,
        severity=score.severity or "",
        flags=list(score.flags),
        positive=score.positive,
        subscales=dict(score.subscales),
        administered_at=administered_at,
        administered_by=_user(actor),
        source=source,
        created_by=_user(actor),
    )
    audit_log(
        actor=actor,
        action="openiop.questionnaires.response.create",
        category=CAT,
        obj=response,
        patient=patient,
        request=request,
        detail={"instrument": definition.key, "flags": list(score.flags)},
    )
    counselor = episode.primary_counselor if episode is not None else None
    for flag in score.alert_flags:
        alert = ClinicalAlert.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            episode=episode,
            response=response,
            kind=flag,
            raised_at=now,
            assigned_to=counselor,
            created_by=_user(actor),
        )
        audit_log(
            actor=actor,
            action="openiop.questionnaires.alert.raise",
            category=CAT,
            obj=alert,
            patient=patient,
            request=request,
            detail={"kind": flag, "response": str(response.public_id)},
        )
    return response


@transaction.atomic
def alert_follow_up(
    *, actor: Any, alert: ClinicalAlert, note: str, request: HttpRequest | None = None
) -> ClinicalAlert:
    """Record who followed up, when and what was done; this is the only way an alert closes."""
    _check_org(actor, alert.organization_id)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Describe the follow-up (who, what was done)."})
    if _user(actor) is None:
        raise ValidationError({"note": "A follow-up must be recorded by a staff member."})
    locked = ClinicalAlert.objects.select_for_update(of=("self",)).get(pk=alert.pk)
    if locked.followed_up_at is not None:
        raise ValidationError({"note": "This alert was already followed up."})
    locked.follow_up_note = note
    locked.followed_up_by = actor
    locked.followed_up_at = timezone.now()
    locked.updated_by = actor
    locked.save(
        update_fields=[
            "follow_up_note", "followed_up_by", "followed_up_at", "updated_by", "updated_at",
        ]
    )  # fmt: skip
    audit_log(
        actor=actor,
        action="openiop.questionnaires.alert.follow_up",
        category=CAT,
        obj=locked,
        patient=locked.patient,
        request=request,
        detail={"kind": locked.kind},
    )
    return locked
