"""Writes for patients. Every service is keyword-only, atomic and audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.organizations.models import Organization
from openiop.patients.models import Guardian, Patient, UnavailableWindow

CAT = AuditEvent.Category.DEMOGRAPHICS
PATIENT_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "address",
    "preferred_language",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relationship",
)


def _next_mrn(organization: Organization) -> str:
    prefix = (organization.slug[:2] or "PT").upper()
    count = Patient.objects.for_org(organization).count()
    n = count + 1
    while Patient.objects.for_org(organization).filter(mrn=f"{prefix}-{n:06d}").exists():
        n += 1
    return f"{prefix}-{n:06d}"


@transaction.atomic
def patient_create(
    *,
    actor: Any,
    organization: Organization,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    mrn: str = "",
    request: HttpRequest | None = None,
    **fields: Any,
) -> Patient:
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationError({name: "unknown field" for name in sorted(unknown)})
    if mrn and Patient.objects.for_org(organization).filter(mrn=mrn).exists():
        raise ValidationError({"mrn": f"MRN {mrn} is already in use"})
    patient = Patient(
        organization=organization,
        mrn=mrn or _next_mrn(organization),
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        created_by=actor if getattr(actor, "pk", None) else None,
        **fields,
    )
    patient.full_clean(exclude=["organization", "created_by", "updated_by", "mrn"])
    for attempt in range(5):
        try:
            # A savepoint per try: two intake coordinators registering at once may draw the same
            # next MRN; the loser takes the following number instead of failing.
            with transaction.atomic():
                patient.save()
            break
        except IntegrityError:
            if mrn or attempt == 4:
                raise ValidationError({"mrn": f"MRN {patient.mrn} is already in use"}) from None
            patient.mrn = _next_mrn(organization)
    audit_log(
        actor=actor,
        action="openiop.patients.patient.create",
        category=CAT,
        obj=patient,
        patient=patient,
        request=request,
    )
    return patient


@transaction.atomic
def patient_update(
    *, actor: Any, patient: Patient, request: HttpRequest | None = None, **changes: Any
) -> Patient:
    unknown = set(changes) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationError({name: "this field cannot be changed" for name in sorted(unknown)})
    changed = sorted(k for k, v in changes.items() if getattr(patient, k) != v)
    for key, value in changes.items():
        setattr(patient, key, value)
    patient.full_clean(exclude=["organization", "created_by", "updated_by"])
    if not changed:
        return patient
    patient.updated_by = actor if getattr(actor, "pk", None) else None
    patient.save()
    audit_log(
        actor=actor,
        action="openiop.patients.patient.update",
        category=CAT,
        obj=patient,
        patient=patient,
        request=request,
        detail={"fields": changed},
    )
    return patient


@transaction.atomic
def unavailable_window_add(
    *,
    actor: Any,
    patient: Patient,
    weekday: int,
    start_time: dt.time,
    end_time: dt.time,
    kind: str = UnavailableWindow.Kind.WORK,
    note: str = "",
    request: HttpRequest | None = None,
) -> UnavailableWindow:
    window = UnavailableWindow(
        organization_id=patient.organization_id,
        patient=patient,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        kind=kind,
        note=note,
    )
    if start_time and end_time and end_time <= start_time:
        raise ValidationError({"end_time": "End time must be after the start time."})
    window.full_clean(exclude=["organization", "patient", "created_by", "updated_by"])
    window.save()
    audit_log(
        actor=actor,
        action="openiop.patients.unavailable_window.create",
        category=CAT,
        obj=window,
        patient=patient,
        request=request,
    )
    return window


@transaction.atomic
def guardian_add(
    *,
    actor: Any,
    patient: Patient,
    name: str,
    relationship: str = "Parent",
    phone: str = "",
    email: str = "",
    request: HttpRequest | None = None,
) -> Guardian:
    guardian = Guardian(
        organization_id=patient.organization_id,
        patient=patient,
        name=name,
        relationship=relationship,
        phone=phone,
        email=email,
    )
    guardian.full_clean(exclude=["organization", "patient", "created_by", "updated_by"])
    guardian.save()
    audit_log(
        actor=actor,
        action="openiop.patients.guardian.create",
        category=CAT,
        obj=guardian,
        patient=patient,
        request=request,
    )
    return guardian
