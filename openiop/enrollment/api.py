"""Episodes API: waitlist / admit, hold, resume, transfer (step up / down), discharge.

Writes go through ``openiop.enrollment.services`` (which audit them); reads are audited here.
Objects named in a request body (patient, program, counselor) are looked up in the user's
organization only; an unknown or foreign one is a 400 naming the field, with the same message
either way, so another organization's ids reveal nothing.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.api_auth import paginate, ref, responses
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.models import AuditEvent
from openiop.enrollment import services
from openiop.enrollment.models import Episode
from openiop.enrollment.schemas import (
    AdmitIn,
    DischargeIn,
    EpisodeDetailOut,
    EpisodeIn,
    EpisodePage,
    EpisodeStatus,
    HoldIn,
    ResumeIn,
    TransferIn,
)
from openiop.enrollment.selectors import episode_get, episode_list
from openiop.organizations.api import program_for
from openiop.organizations.models import Program
from openiop.patients.models import Patient

router = Router()
CAT = AuditEvent.Category.EPISODE
RELATED = ("patient", "program", "program__site", "primary_counselor", "transferred_from")


def resolve(queryset: QuerySet[Any], user: Any, public_id: Any, field: str, label: str) -> Any:
    """A body reference, scoped to the user's organization; unknown or foreign -> 400."""
    if public_id is None:
        return None
    obj = queryset.filter(organization_id=user.organization_id, public_id=public_id).first()
    if obj is None:
        raise ValidationError({field: f"Unknown {label}."})
    return obj


def resolve_staff(user: Any, public_id: Any, field: str) -> User | None:
    return resolve(User.objects.filter(is_active=True), user, public_id, field, "staff member")


def episode_out(episode: Episode) -> dict[str, Any]:
    patient = episode.patient
    return {
        "id": str(episode.public_id),
        "patient": {"id": str(patient.public_id), "name": patient.display_name, "mrn": patient.mrn},
        "program": ref(episode.program),
        "status": episode.status,
        "referral_date": episode.referral_date,
        "referral_source": episode.referral_source,
        "admitted_on": episode.admitted_on,
        "discharged_on": episode.discharged_on,
        "discharge_reason": episode.discharge_reason,
        "discharge_note": episode.discharge_note,
        "primary_substance": episode.primary_substance,
        "secondary_substance": episode.secondary_substance,
        "mat": episode.mat,
        "baseline_days_used_30": episode.baseline_days_used_30,
        "discharge_days_used_30": episode.discharge_days_used_30,
        "primary_counselor": ref(episode.primary_counselor),
        "transferred_from": (
            str(episode.transferred_from.public_id) if episode.transferred_from_id else None
        ),
        "version": episode.version,
    }


def episode_detail(episode: Episode) -> dict[str, Any]:
    changes = episode.status_changes.select_related("changed_by").order_by("effective_on", "id")
    after = Episode.objects.filter(transferred_from=episode).values_list("public_id", flat=True)
    next_id = after.first()
    return {
        **episode_out(episode),
        "transferred_to": str(next_id) if next_id else None,
        "status_history": [
            {
                "from_status": c.from_status,
                "to_status": c.to_status,
                "effective_on": c.effective_on,
                "changed_at": c.changed_at,
                "changed_by": str(c.changed_by) if c.changed_by_id else None,
                "reason": c.reason,
            }
            for c in changes
        ],
    }


def _for_manage(request: HttpRequest, episode_id: uuid.UUID) -> Episode:
    qs = Episode.objects.select_related(*RELATED)
    return get_for_user_or_404(qs, request.user, episode_id, Perm.EPISODE_MANAGE)


def _reload(episode: Episode) -> Episode:
    return Episode.objects.select_related(*RELATED).get(pk=episode.pk)


@router.get("", response=responses(EpisodePage), summary="List episodes")
def list_episodes(
    request: HttpRequest,
    program: Annotated[uuid.UUID | None, Query(description="Program id")] = None,
    patient: Annotated[uuid.UUID | None, Query(description="Patient id")] = None,
    status: Annotated[EpisodeStatus | None, Query()] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    require_perm(request.user, Perm.EPISODE_VIEW)
    chosen = program_for(request.user, program) if program is not None else None
    qs = episode_list(user=request.user, program=chosen, status=status or "")
    if patient is not None:
        qs = qs.filter(patient__public_id=patient)
    count, episodes, size = paginate(qs.select_related("transferred_from"), limit, offset)
    audit_log_many(
        actor=request.user,
        action="openiop.enrollment.episode.list",
        category=CAT,
        patients=[e.patient for e in episodes],
        request=request,
    )
    return {
        "count": count,
        "limit": size,
        "offset": offset,
        "items": [episode_out(e) for e in episodes],
    }


@router.post("", response=responses(EpisodeDetailOut, 201), summary="Waitlist or admit")
def create_episode(request: HttpRequest, payload: EpisodeIn) -> Status[dict[str, Any]]:
    user = request.user
    require_perm(user, Perm.EPISODE_MANAGE)
    patient = resolve(Patient.objects.all(), user, payload.patient, "patient", "patient")
    program = resolve(
        Program.objects.select_related("site"), user, payload.program, "program", "program"
    )
    counselor = resolve_staff(user, payload.primary_counselor, "primary_counselor")
    episode = services.episode_create(
        actor=user,
        patient=patient,
        program=program,
        admitted_on=payload.admitted_on,
        referral_date=payload.referral_date,
        referral_source=payload.referral_source,
        primary_substance=payload.primary_substance,
        secondary_substance=payload.secondary_substance,
        mat=payload.mat,
        primary_counselor=counselor,
        baseline_days_used_30=payload.baseline_days_used_30,
        request=request,
    )
    return Status(201, episode_detail(_reload(episode)))


@router.get("/{episode_id}", response=responses(EpisodeDetailOut), summary="Read an episode")
def get_episode(request: HttpRequest, episode_id: uuid.UUID) -> dict[str, Any]:
    episode = episode_get(user=request.user, public_id=episode_id)
    audit_log(
        actor=request.user,
        action="openiop.enrollment.episode.read",
        category=CAT,
        obj=episode,
        patient=episode.patient,
        request=request,
    )
    return episode_detail(episode)


@router.post("/{episode_id}/admit", response=responses(EpisodeDetailOut), summary="Admit")
def admit_episode(request: HttpRequest, episode_id: uuid.UUID, payload: AdmitIn) -> dict:
    episode = _for_manage(request, episode_id)
    services.episode_admit(
        actor=request.user, episode=episode, admitted_on=payload.admitted_on, request=request
    )
    return episode_detail(_reload(episode))


@router.post("/{episode_id}/hold", response=responses(EpisodeDetailOut), summary="Put on hold")
def hold_episode(request: HttpRequest, episode_id: uuid.UUID, payload: HoldIn) -> dict:
    episode = _for_manage(request, episode_id)
    services.episode_hold(
        actor=request.user,
        episode=episode,
        effective_on=payload.effective_on,
        reason=payload.reason,
        request=request,
    )
    return episode_detail(_reload(episode))


@router.post("/{episode_id}/resume", response=responses(EpisodeDetailOut), summary="End a hold")
def resume_episode(request: HttpRequest, episode_id: uuid.UUID, payload: ResumeIn) -> dict:
    episode = _for_manage(request, episode_id)
    services.episode_resume(
        actor=request.user, episode=episode, effective_on=payload.effective_on, request=request
    )
    return episode_detail(_reload(episode))


@router.post(
    "/{episode_id}/transfer",
    response=responses(EpisodeDetailOut),
    summary="Step up / step down: close this episode and open one in another program",
    description="Returns the NEW episode; the old one is discharged as 'transferred' (TEDS 4).",
)
def transfer_episode(request: HttpRequest, episode_id: uuid.UUID, payload: TransferIn) -> dict:
    episode = _for_manage(request, episode_id)
    to_program = resolve(
        Program.objects.select_related("site"),
        request.user,
        payload.to_program,
        "to_program",
        "program",
    )
    counselor = resolve_staff(request.user, payload.primary_counselor, "primary_counselor")
    new = services.episode_transfer(
        actor=request.user,
        episode=episode,
        to_program=to_program,
        effective_on=payload.effective_on,
        reason=payload.reason,
        primary_counselor=counselor,
        request=request,
    )
    return episode_detail(_reload(new))


@router.post("/{episode_id}/discharge", response=responses(EpisodeDetailOut), summary="Discharge")
def discharge_episode(request: HttpRequest, episode_id: uuid.UUID, payload: DischargeIn) -> dict:
    episode = _for_manage(request, episode_id)
    services.episode_discharge(
        actor=request.user,
        episode=episode,
        discharged_on=payload.discharged_on,
        reason=payload.reason,
        note=payload.note,
        days_used_30=payload.days_used_30,
        request=request,
        expected_version=payload.version,
    )
    return episode_detail(_reload(episode))
