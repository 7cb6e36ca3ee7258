"""Questionnaire writes: record a response (scoring it and raising alerts), follow up an alert,
one-time links for patients (create, revoke, open, complete), and program schedules.

All are keyword-only, atomic and audited (category CLINICAL; schedules ADMINISTRATIVE). An alert
is created in the same transaction as the response that raised it, so a saved safety answer
without its alert cannot exist, and vice versa. A response given through a link goes through the
same ``response_record``, so its alerts are raised exactly as in clinic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.core.actors import user_or_none as _user
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program
from openiop.patients.models import Patient
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.instruments.base import AnswerError, UnknownInstrument
from openiop.questionnaires.models import (
    ClinicalAlert,
    QuestionnaireInvitation,
    QuestionnaireResponse,
    QuestionnaireSchedule,
)

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


# -- one-time links --------------------------------------------------------------------------

TOKEN_BYTES = 32
PREFIX_CHARS = 8
MAX_LINK_HOURS = 14 * 24


def link_hours_default() -> int:
    """``OPENIOP_QUESTIONNAIRE_LINK_HOURS`` (default 72): how long a new link stays valid."""
    return int(getattr(settings, "OPENIOP_QUESTIONNAIRE_LINK_HOURS", 72))


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _invitation_audit(
    *,
    actor: Any,
    verb: str,
    invitation: QuestionnaireInvitation,
    request: HttpRequest | None,
    category: str = CAT,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    **detail: Any,
) -> None:
    audit_log(
        actor=actor,
        action=f"openiop.questionnaires.invitation.{verb}",
        category=category,
        obj=invitation,
        patient=invitation.patient,
        organization=invitation.organization,
        request=request,
        outcome=outcome,
        detail={"instrument": invitation.instrument, "prefix": invitation.prefix, **detail},
    )


@transaction.atomic
def invitation_create(
    *,
    actor: Any,
    patient: Patient,
    instrument: str,
    episode: Episode | None = None,
    hours: int | None = None,
    request: HttpRequest | None = None,
) -> tuple[QuestionnaireInvitation, str]:
    """A one-time link for ``patient`` to answer ``instrument``; returns (invitation, raw token).

    The raw token exists only in the return value: show it once, never store or log it. Without
    an explicit episode the patient's open episode is kept, so an alert raised by the answers
    reaches that episode's counselor."""
    _check_org(actor, patient.organization_id)
    if instrument not in registry.INSTRUMENTS:
        raise ValidationError({"instrument": "Choose a questionnaire."})
    if hours is None:
        hours = link_hours_default()
    if not 1 <= hours <= MAX_LINK_HOURS:
        raise ValidationError({"hours": f"A link can be valid for 1 to {MAX_LINK_HOURS} hours."})
    episode = _episode_for(patient, episode)
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = QuestionnaireInvitation.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        episode=episode,
        instrument=instrument,
        token_hash=_digest(raw),
        prefix=raw[:PREFIX_CHARS],
        expires_at=timezone.now() + dt.timedelta(hours=hours),
        created_by=_user(actor),
        updated_by=_user(actor),
    )
    _invitation_audit(
        actor=actor,
        verb="create",
        invitation=invitation,
        request=request,
        expires_at=invitation.expires_at.isoformat(),
    )
    return invitation, raw


@transaction.atomic
def invitation_revoke(
    *, actor: Any, invitation: QuestionnaireInvitation, request: HttpRequest | None = None
) -> QuestionnaireInvitation:
    """Stop a link before it is used. Idempotent for a revoked link; a used link cannot be
    revoked (its answers are already part of the record)."""
    _check_org(actor, invitation.organization_id)
    locked = (
        QuestionnaireInvitation.objects.select_for_update(of=("self",))
        .select_related("patient", "organization")
        .get(pk=invitation.pk)
    )
    if locked.used_at is not None:
        raise ValidationError("This link was already used; the answers are in the record.")
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked.updated_by = _user(actor)
    locked.save(update_fields=["revoked_at", "updated_by", "updated_at"])
    _invitation_audit(actor=actor, verb="revoke", invitation=locked, request=request)
    return locked


class InvitationInvalid(Exception):
    """The link is unknown, used, revoked or expired. Callers show one neutral page for all."""


def _lookup(token: str) -> QuestionnaireInvitation | None:
    if not token or len(token) > 200:
        return None
    return (
        QuestionnaireInvitation.objects.select_related("patient", "organization", "episode")
        .filter(token_hash=_digest(token))
        .first()
    )


def _refuse(
    token: str, invitation: QuestionnaireInvitation | None, request: HttpRequest | None
) -> InvitationInvalid:
    """Audit a refused link (who tried, from where, why) and return the exception to raise.

    Unknown tokens are audited too (outcome denied, no organization), so a run of guesses shows
    in the trail; only the first characters of a guessed token are kept."""
    if invitation is None:
        audit_log(
            actor=None,
            action="openiop.questionnaires.invitation.refuse",
            category=AuditEvent.Category.ADMINISTRATIVE,
            request=request,
            outcome=AuditEvent.Outcome.DENIED,
            detail={"reason": "unknown", "prefix": (token or "")[:PREFIX_CHARS]},
        )
    else:
        _invitation_audit(
            actor=None,
            verb="refuse",
            invitation=invitation,
            request=request,
            category=AuditEvent.Category.ADMINISTRATIVE,
            outcome=AuditEvent.Outcome.DENIED,
            reason=invitation.state(timezone.now()),
        )
    return InvitationInvalid()


def invitation_open(*, token: str, request: HttpRequest | None = None) -> QuestionnaireInvitation:
    """The pending invitation for a token (audited as a read by no one: the patient's phone), or
    ``InvitationInvalid`` (audited as a refusal)."""
    invitation = _lookup(token)
    if invitation is None or invitation.state(timezone.now()) != "pending":
        raise _refuse(token, invitation, request)
    _invitation_audit(actor=None, verb="open", invitation=invitation, request=request)
    return invitation


def invitation_complete(
    *,
    token: str,
    answers: Sequence[Any] | Mapping[str, Any],
    request: HttpRequest | None = None,
) -> QuestionnaireResponse:
    """Record the answers given through a link (source "link") and use the link up, in one
    transaction. The row is locked first, so two submissions of the same link (double tap, two
    tabs) record one response; the second gets ``InvitationInvalid``. Bad answers raise
    ``ValidationError`` and leave the link usable."""
    invitation = _lookup(token)
    if invitation is None:
        raise _refuse(token, None, request)
    with transaction.atomic():
        locked = (
            QuestionnaireInvitation.objects.select_for_update(of=("self",))
            .select_related("patient", "organization", "episode__primary_counselor")
            .get(pk=invitation.pk)
        )
        now = timezone.now()
        if locked.state(now) == "pending":
            response = response_record(
                actor=None,
                patient=locked.patient,
                episode=locked.episode,
                instrument=locked.instrument,
                answers=answers,
                source=QuestionnaireResponse.Source.LINK,
                request=request,
            )
            locked.used_at = now
            locked.response = response
            locked.save(update_fields=["used_at", "response", "updated_at"])
            _invitation_audit(
                actor=None,
                verb="complete",
                invitation=locked,
                request=request,
                response=str(response.public_id),
            )
            return response
    raise _refuse(token, locked, request)


def invitation_fulfil(
    *, actor: Any, response: QuestionnaireResponse, request: HttpRequest | None = None
) -> QuestionnaireInvitation | None:
    """The patient answered in the portal what a pending link asked for: use the link up with
    that response (so staff see it answered, and the link no longer works)."""
    with transaction.atomic():
        now = timezone.now()
        pending = (
            QuestionnaireInvitation.objects.select_for_update()
            .filter(
                organization_id=response.organization_id,
                patient_id=response.patient_id,
                instrument=response.instrument,
                used_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__gt=now,
            )  # fmt: skip
            .order_by("-created_at")
            .first()
        )
        if pending is None:
            return None
        pending.used_at = now
        pending.response = response
        pending.save(update_fields=["used_at", "response", "updated_at"])
        _invitation_audit(
            actor=actor, verb="complete", invitation=pending, request=request,
            response=str(response.public_id),
        )  # fmt: skip
        return pending


# -- program schedules -----------------------------------------------------------------------


@transaction.atomic
def schedule_add(
    *,
    actor: Any,
    program: Program,
    instrument: str,
    at_admission: bool = True,
    every_n_days: int | None = None,
    at_discharge: bool = False,
    request: HttpRequest | None = None,
) -> QuestionnaireSchedule:
    """Add one instrument to a program's schedule (one row per program and instrument)."""
    _check_org(actor, program.organization_id)
    if instrument not in registry.INSTRUMENTS:
        raise ValidationError({"instrument": "Choose a questionnaire."})
    if every_n_days is not None and not 1 <= every_n_days <= 365:
        raise ValidationError({"every_n_days": "Give a number of days from 1 to 365."})
    if not (at_admission or every_n_days or at_discharge):
        raise ValidationError(
            "Choose when it is given: at admission, every N days, or at discharge."
        )
    exists = QuestionnaireSchedule.objects.for_org(program.organization_id).filter(
        program=program, instrument=instrument
    )
    message = {"instrument": "This questionnaire is already on the schedule; remove it first."}
    if exists.exists():
        raise ValidationError(message)
    try:
        with transaction.atomic():  # savepoint: a racing second "add" loses cleanly
            row = QuestionnaireSchedule.objects.create(
                organization_id=program.organization_id,
                program=program,
                instrument=instrument,
                at_admission=at_admission,
                every_n_days=every_n_days,
                at_discharge=at_discharge,
                created_by=_user(actor),
                updated_by=_user(actor),
            )
    except IntegrityError:
        raise ValidationError(message) from None
    audit_log(
        actor=actor,
        action="openiop.questionnaires.schedule.create",
        category=AuditEvent.Category.ADMINISTRATIVE,
        obj=row,
        request=request,
        detail={
            "program": str(program.public_id),
            "instrument": instrument,
            "at_admission": at_admission,
            "every_n_days": every_n_days,
            "at_discharge": at_discharge,
        },
    )
    return row


@transaction.atomic
def schedule_remove(
    *, actor: Any, schedule: QuestionnaireSchedule, request: HttpRequest | None = None
) -> None:
    """Take an instrument off a program's schedule. Past responses are untouched."""
    _check_org(actor, schedule.organization_id)
    audit_log(
        actor=actor,
        action="openiop.questionnaires.schedule.delete",
        category=AuditEvent.Category.ADMINISTRATIVE,
        obj=schedule,
        request=request,
        detail={
            "program": str(schedule.program.public_id),
            "instrument": schedule.instrument,
            "at_admission": schedule.at_admission,
            "every_n_days": schedule.every_n_days,
            "at_discharge": schedule.at_discharge,
        },
    )
    schedule.delete()
