"""Patients API: search, register, read, correct demographics, unavailable windows.

Every response carrying patient data writes an audit row (reads included).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from openiop.accounts.permissions import Perm
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.api_auth import paginate, ref, responses
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.patients import services
from openiop.patients.models import Patient, UnavailableWindow
from openiop.patients.schemas import (
    PatientIn,
    PatientOut,
    PatientPage,
    PatientPatch,
    WindowIn,
    WindowOut,
)
from openiop.patients.selectors import patient_get, patient_list

router = Router()
CAT = AuditEvent.Category.DEMOGRAPHICS


def patient_out(patient: Patient, open_episodes: list[Episode]) -> dict[str, Any]:
    return {
        "id": str(patient.public_id),
        "mrn": patient.mrn,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "preferred_name": patient.preferred_name,
        "display_name": patient.display_name,
        "date_of_birth": patient.date_of_birth,
        "sex": patient.sex,
        "phone": patient.phone,
        "email": patient.email,
        "address": patient.address,
        "preferred_language": patient.preferred_language,
        "emergency_contact_name": patient.emergency_contact_name,
        "emergency_contact_phone": patient.emergency_contact_phone,
        "emergency_contact_relationship": patient.emergency_contact_relationship,
        "open_episodes": [
            {"id": str(e.public_id), "program": ref(e.program), "status": e.status}
            for e in open_episodes
        ],
    }


def _open_episodes(patient: Patient) -> list[Episode]:
    return list(
        Episode.objects.for_org(patient.organization_id)
        .filter(patient=patient)
        .open()
        .select_related("program")
    )


def _read(request: HttpRequest, patient: Patient, action: str, obj: Any = None) -> None:
    audit_log(
        actor=request.user,
        action=action,
        category=CAT,
        obj=obj or patient,
        patient=patient,
        request=request,
    )


def _check_birth_date(day: Any) -> None:
    # patient_update does not check this itself (patient_create does).
    if day is not None and day > timezone.localdate():
        raise ValidationError({"date_of_birth": "Date of birth cannot be in the future."})


@router.get("", response=responses(PatientPage), summary="Search patients")
def list_patients(
    request: HttpRequest,
    q: Annotated[
        str, Query(max_length=200, description="Words matched against names and MRN")
    ] = "",
    limit: Annotated[
        int | None, Query(ge=1, description="Page size (capped by the server)")
    ] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    if "\x00" in q:
        raise ValidationError({"q": "The search must not contain NUL characters."})
    count, patients, size = paginate(patient_list(user=request.user, search=q), limit, offset)
    audit_log_many(
        actor=request.user,
        action="openiop.patients.patient.list",
        category=CAT,
        patients=patients,
        request=request,
        detail={"q": q[:100]},
    )
    items = [patient_out(p, p.open_episodes) for p in patients]
    return {"count": count, "limit": size, "offset": offset, "items": items}


@router.post("", response=responses(PatientOut, 201), summary="Register a patient")
def create_patient(request: HttpRequest, payload: PatientIn) -> Status[dict[str, Any]]:
    require_perm(request.user, Perm.PATIENT_EDIT)
    patient = services.patient_create(
        actor=request.user,
        organization=request.user.organization,
        request=request,
        **payload.model_dump(),
    )
    return Status(201, patient_out(patient, []))


@router.get("/{patient_id}", response=responses(PatientOut), summary="Read a patient")
def get_patient(request: HttpRequest, patient_id: uuid.UUID) -> dict[str, Any]:
    patient = patient_get(user=request.user, public_id=patient_id)
    _read(request, patient, "openiop.patients.patient.read")
    return patient_out(patient, _open_episodes(patient))


@router.patch("/{patient_id}", response=responses(PatientOut), summary="Correct demographics")
def update_patient(request: HttpRequest, patient_id: uuid.UUID, payload: PatientPatch) -> dict:
    patient = get_for_user_or_404(
        Patient.objects.all(), request.user, patient_id, Perm.PATIENT_EDIT
    )
    changes = payload.model_dump(exclude_unset=True)
    _check_birth_date(changes.get("date_of_birth"))
    unchanged = all(getattr(patient, k) == v for k, v in changes.items())
    patient = services.patient_update(
        actor=request.user, patient=patient, request=request, **changes
    )
    if unchanged:  # the service writes no row for a no-op; the response still shows the record
        _read(request, patient, "openiop.patients.patient.read")
    return patient_out(patient, _open_episodes(patient))


def window_out(window: UnavailableWindow) -> dict[str, Any]:
    return {
        "id": str(window.public_id),
        "weekday": window.weekday,
        "weekday_name": window.get_weekday_display(),
        "start_time": window.start_time,
        "end_time": window.end_time,
        "kind": window.kind,
        "note": window.note,
    }


@router.get(
    "/{patient_id}/unavailable-windows",
    response=responses(list[WindowOut]),
    summary="Weekly times the patient must keep free (work, school, childcare)",
)
def list_windows(request: HttpRequest, patient_id: uuid.UUID) -> list[dict[str, Any]]:
    patient = patient_get(user=request.user, public_id=patient_id)
    windows = list(
        UnavailableWindow.objects.for_org(patient.organization_id).filter(patient=patient)
    )
    _read(request, patient, "openiop.patients.unavailable_window.list")
    return [window_out(w) for w in windows]


@router.post(
    "/{patient_id}/unavailable-windows",
    response=responses(WindowOut, 201),
    summary="Add an unavailable window",
)
def create_window(
    request: HttpRequest, patient_id: uuid.UUID, payload: WindowIn
) -> Status[dict[str, Any]]:
    patient = get_for_user_or_404(
        Patient.objects.all(), request.user, patient_id, Perm.PATIENT_EDIT
    )
    window = services.unavailable_window_add(
        actor=request.user, patient=patient, request=request, **payload.model_dump()
    )
    return Status(201, window_out(window))
