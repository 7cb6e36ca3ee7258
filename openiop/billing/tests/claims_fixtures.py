"""Helpers for the claim tests: a per-diem payer, the billing profile, the patient's coverage
and Part 2 consent, a treatment plan with a diagnosis, and writers of real attendance, signed
notes and drug screens. The ``clinic`` fixture (``conftest.py``) puts them together."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from conftest import NY
from openiop.attendance.models import AttendanceRecord
from openiop.billing.models import BillingProfile, Coverage, Payer
from openiop.billing.services import authorization_create
from openiop.billing.services_setup import coverage_save, payer_save
from openiop.billing.tests.helpers import attend
from openiop.billing.x12.validate import npi_check_digit
from openiop.clinical.models import Note, NoteFormat, PlanProblem, TreatmentPlan
from openiop.consent.tests.factories import make_consent
from openiop.enrollment.models import Episode
from openiop.medications.models import DrugScreen, DrugScreenResult
from openiop.patients.models import Patient
from openiop.scheduling.models import SessionKind

FROZEN = dt.datetime(2026, 11, 16, 12, 0, tzinfo=NY)  # a Monday
WEEK1 = [dt.date(2026, 11, 2), dt.date(2026, 11, 4), dt.date(2026, 11, 6)]  # Mon, Wed, Fri
WEEK2 = [dt.date(2026, 11, 9), dt.date(2026, 11, 11), dt.date(2026, 11, 13)]
SENTINEL = "SENTINEL-NOTE-BODY-7f3a"


def npi(stem: str) -> str:
    return stem + npi_check_digit(stem)


def make_profile(org: Any, **kw: Any) -> BillingProfile:
    fields: dict[str, Any] = dict(
        organization=org, billing_name="Riverbend Recovery", npi=npi("123456789"),
        tax_id="16-4021988", address_line1="410 Water Street", city="Riverbend", state="NY",
        zip_code="12901-4410", submitter_id="RIVER01", contact_name="Billing Office",
        contact_phone="5185550140", receiver_name="Example Clearinghouse", receiver_id="CLEAR01",
        facility_type_code="76",
    )  # fmt: skip
    fields.update(kw)
    return BillingProfile.objects.create(**fields)


def make_payer(org: Any, **kw: Any) -> Payer:
    args: dict[str, Any] = dict(
        actor=None, organization=org, name="Blue River Health Plan", kind="commercial",
        payer_id="BRHP1", claim_filing_indicator="CI", billing_model="per_diem",
        claim_type="professional", fee_schedule={"H0015": "185.00"}, rules_overrides={},
    )  # fmt: skip
    args.update(kw)
    return payer_save(**args)


def medicare(org: Any) -> Payer:
    return make_payer(
        org, name="Medicare", kind="medicare", payer_id="MCRA1", claim_filing_indicator="MA",
        billing_model="medicare_iop", claim_type="institutional",
        fee_schedule={"90853": "120.00", "90834": "120.00", "99213": "95.00"},
    )  # fmt: skip


def cover(patient: Patient, payer: Payer, **kw: Any) -> Coverage:
    args: dict[str, Any] = dict(
        actor=None, patient=patient, payer=payer, member_id="BRX12345678",
        group_number="G100", effective_on=dt.date(2026, 1, 1), copay=Decimal("30"),
        coinsurance_percent=Decimal("20"), deductible=Decimal("1500"),
        deductible_met=Decimal("800"),
    )  # fmt: skip
    args.update(kw)
    return coverage_save(**args)


def ready_patient(patient: Patient, episode: Episode, diagnosis: str = "F10.20") -> None:
    """What a claim needs beyond attendance: an address, a diagnosis, a Part 2 consent."""
    Patient.objects.filter(pk=patient.pk).update(address="12 Oak Avenue, Riverbend, NY 12901")
    patient.refresh_from_db()
    plan = TreatmentPlan.objects.create(
        organization_id=episode.organization_id, episode=episode, patient=patient
    )
    PlanProblem.objects.create(
        organization_id=episode.organization_id, plan=plan, position=0,
        description="Alcohol use", icd10_code=diagnosis,
    )  # fmt: skip
    make_consent(patient)


def sign_note(record: AttendanceRecord, author: Any, *, kind: str = Note.Kind.GROUP_INDIVIDUALIZED,
              modality: str = Note.Modality.IN_PERSON, signed: bool = True) -> Note:  # fmt: skip
    """The patient's note for the session of ``record`` (signed unless told otherwise)."""
    session = record.session
    return Note.objects.create(
        organization_id=record.organization_id,
        episode=record.episode,
        patient_id=record.patient_id,
        session=session,
        kind=kind,
        format=NoteFormat.GROUP if kind == Note.Kind.GROUP_INDIVIDUALIZED else NoteFormat.DAP,
        sections={"participation": SENTINEL, "data": SENTINEL},
        started_at=session.starts_at,
        ended_at=session.ends_at,
        modality=modality,
        author=author,
        status=Note.Status.SIGNED if signed else Note.Status.DRAFT,
        signed_at=session.ends_at if signed else None,
        signed_by=author if signed else None,
    )


def documented_day(
    episode: Episode, day: dt.date, author: Any, *, minutes: int = 180, signed: bool = True,
    kind: str = SessionKind.GROUP, at: dt.time = dt.time(18, 0),
) -> AttendanceRecord:  # fmt: skip
    record = attend(episode, day, minutes=minutes, length=max(minutes, 1), kind=kind, at=at)
    note_kind = (
        Note.Kind.GROUP_INDIVIDUALIZED if kind == SessionKind.GROUP else Note.Kind.INDIVIDUAL
    )
    sign_note(record, author, kind=note_kind, signed=signed)
    return record


def authorize(episode: Episode, payer: Payer, units: int = 20, **kw: Any) -> Any:
    args: dict[str, Any] = dict(
        actor=None, episode=episode, payer_name=payer.name, auth_number="PA-7781",
        units_authorized=units, start_on=dt.date(2026, 11, 2), end_on=dt.date(2026, 12, 27),
    )  # fmt: skip
    args.update(kw)
    return authorization_create(**args)


def drug_screen(episode: Episode, day: dt.date, *, with_result: bool = True) -> DrugScreen:
    at = dt.datetime.combine(day, dt.time(17, 30), tzinfo=NY)
    screen = DrugScreen.objects.create(
        organization_id=episode.organization_id, patient_id=episode.patient_id, episode=episode,
        collected_at=at, collected_on=day, method=DrugScreen.Method.PRESUMPTIVE,
    )  # fmt: skip
    if with_result:
        DrugScreenResult.objects.create(
            organization_id=episode.organization_id, screen=screen, substance="etg",
            detected=False, interpretation="negative",
        )  # fmt: skip
    return screen
