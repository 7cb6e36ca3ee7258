"""Seed data for the billing browser test, run in a subprocess against the test's own SQLite.

A clinic set up to bill (billing provider with a valid NPI, clearinghouse ids), a Medicaid payer
that pays IOP per diem (H0015, $160 a day, authorization required), an adult day IOP, and one
patient with Medicaid coverage, a TPO consent (42 CFR Part 2: covers the payment disclosure the
export makes), an active treatment plan with a diagnosis, an H0015 authorization, and LAST week
(Monday to Sunday before the current week, in the site's time zone): three 3-hour groups
attended in full, each with a signed group note, and on Thursday a 3-hour group the patient left
after 2 hours (also signed): a short day, no H0015 unit. The notes are written and signed by a
counselor through the clinical services; the test logs in as a biller (``USERNAME``).

Usage: DATABASE_URL=sqlite:///... python tests/browser/seed_billing.py USERNAME PASSWORD
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from decimal import Decimal

FULL_DAYS = 3  # Monday, Tuesday, Wednesday: 180 minutes each
SHORT_MINUTES = 120  # Thursday: left after 2 hours


def main(username: str, password: str) -> dict[str, object]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Group

    from openiop.accounts.models import User
    from openiop.accounts.permissions import Role
    from openiop.attendance.services import AttendanceEntry, attendance_record
    from openiop.billing.charge_rules import week_start
    from openiop.billing.models import Authorization, BillingProfile, Coverage, Payer
    from openiop.billing.x12.validate import npi_check_digit
    from openiop.clinical.models import PlanProblem, TreatmentPlan
    from openiop.clinical.services.group_notes import (
        group_note_save,
        group_note_sign,
        group_note_start,
    )
    from openiop.consent import rules as consent_rules
    from openiop.consent.models import Consent
    from openiop.consent.services import consent_record
    from openiop.enrollment.services import episode_create
    from openiop.organizations.models import Organization, Program, Room, Site
    from openiop.patients.services import patient_create
    from openiop.scheduling.services import session_book, session_create

    org = Organization.objects.create(name="Riverbend Recovery", slug="riverbend")
    site = Site.objects.create(organization=org, name="Downtown", timezone="America/New_York")
    room = Room.objects.create(organization=org, site=site, name="Group A", capacity=12)
    program = Program.objects.create(
        organization=org, site=site, name="Adult Day IOP", level_of_care="2.1",
        cohort=Program.Cohort.DAY, weekly_min_hours=Decimal("9.0"), group_size_cap=12,
    )  # fmt: skip

    def user(name: str, first: str, last: str, role: Role, pw: str) -> User:
        u = User.objects.create_user(
            username=name, password=pw, organization=org, first_name=first, last_name=last
        )
        u.groups.add(Group.objects.get_or_create(name=role.value)[0])
        return u

    biller = user(username, "Robin", "Biller", Role.BILLING, password)
    counselor = user("counselor", "Morgan", "Counselor", Role.COUNSELOR, password + "-c")

    BillingProfile.objects.create(
        organization=org, billing_name="Riverbend Recovery",
        npi="123456789" + npi_check_digit("123456789"), tax_id="16-4021988",
        address_line1="410 Water Street", city="Riverbend", state="NY", zip_code="12901-4410",
        submitter_id="RIVERBEND01", contact_name="Billing Office", contact_phone="5185550140",
        receiver_name="Example Clearinghouse", receiver_id="CLEARHOUSE01",
    )  # fmt: skip
    payer = Payer.objects.create(
        organization=org, name="Keystone Medicaid", kind=Payer.Kind.MEDICAID, payer_id="KSMCD",
        claim_filing_indicator="MC", billing_model=Payer.BillingModel.PER_DIEM,
        claim_type=Payer.ClaimType.PROFESSIONAL, fee_schedule={"H0015": "160.00"},
    )  # fmt: skip

    today = site.today()
    monday = week_start(today) - dt.timedelta(days=7)
    sunday = monday + dt.timedelta(days=6)
    admitted = monday - dt.timedelta(days=14)
    patient = patient_create(
        actor=None, organization=org, first_name="Dana", last_name="Whitfield",
        date_of_birth=dt.date(1984, 3, 9), sex="female",
        address="12 Oak Avenue, Riverbend, NY 12901",
    )  # fmt: skip
    episode = episode_create(actor=None, patient=patient, program=program, admitted_on=admitted)
    signed_at = dt.datetime.combine(admitted, dt.time(10), tzinfo=site.tz)
    consent_record(
        actor=counselor, patient=patient, kind=Consent.Kind.TPO, disclosing_party=org.name,
        purpose=Consent.Purpose.TREATMENT, state="NY",
        categories=["demographics", "attendance", "diagnoses", "treatment_plan"],
        signed_by_name="Dana Whitfield", signed_at=signed_at,
        expiry_event=consent_rules.NO_EXPIRY_EVENT,
    )  # fmt: skip
    coverage = Coverage.objects.create(
        organization=org, patient=patient, payer=payer, member_id="KM40217733",
        subscriber_relationship=Coverage.Relationship.SELF,
        effective_on=dt.date(admitted.year - 1, 1, 1),
    )  # fmt: skip
    auth = Authorization.objects.create(
        organization=org, episode=episode, patient=patient, payer=payer,
        payer_name=payer.name, auth_number="KM-PA-58213", level_of_care="2.1",
        service_code="H0015", unit_kind=Authorization.UnitKind.DAYS, units_authorized=24,
        start_on=admitted, end_on=admitted + dt.timedelta(days=89), recorded_by=biller,
    )  # fmt: skip
    plan = TreatmentPlan.objects.create(
        organization=org, episode=episode, patient=patient, status="active",
        clinician_signed_by=counselor, clinician_signed_at=signed_at,
        patient_signature="Dana Whitfield", patient_signed_at=signed_at, effective_on=admitted,
        next_review_on=admitted + dt.timedelta(days=30),
    )  # fmt: skip
    PlanProblem.objects.create(
        organization=org, plan=plan, position=1, description="Drinking daily after work",
        icd10_code="F10.20", icd10_text="Alcohol use disorder, moderate",
    )  # fmt: skip

    days: list[dict[str, object]] = []
    topics = ["Triggers and cravings", "Refusal skills", "Sleep and recovery", "Family roles"]
    for i, topic in enumerate(topics):
        day = monday + dt.timedelta(days=i)
        starts_at = dt.datetime.combine(day, dt.time(9), tzinfo=site.tz)
        session = session_create(
            actor=None, program=program, title="Morning process group", starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=3), room=room, facilitators=[counselor],
        )  # fmt: skip
        session_book(actor=None, session=session, episode=episode)
        short = i >= FULL_DAYS
        entry = (
            AttendanceEntry(patient=patient, status="left_early", minutes_attended=SHORT_MINUTES)
            if short
            else AttendanceEntry(patient=patient, status="present")
        )
        attendance_record(actor=counselor, session=session, entries=[entry])
        note = group_note_start(actor=counselor, session=session)
        note = group_note_save(
            actor=counselor, group_note=note, topic=topic, interventions="CBT skills practice",
            narrative=f"Members worked on {topic.lower()} in pairs and reported back.",
            parts={str(patient.public_id): {"sections": {
                "participation": f"Dana took part in the {topic.lower()} exercise.",
                "response": "Engaged; gave and accepted feedback.",
                "progress": "Working toward two coping skills.",
                "risk": "Denies SI/HI.",
            }}},
            expected_version=note.version,
        )  # fmt: skip
        group_note_sign(
            actor=counselor, group_note=note, expected_version=note.version,
            acknowledge_warnings=True,
        )  # fmt: skip
        days.append({"date": day.isoformat(), "minutes": SHORT_MINUTES if short else 180})

    return {
        "patient": patient.display_name,
        "mrn": patient.mrn,
        "payer": payer.name,
        "member_id": coverage.member_id,
        "auth_number": auth.auth_number,
        "week": [monday.isoformat(), sunday.isoformat()],
        "billed_days": [d["date"] for d in days[:FULL_DAYS]],
        "short_day": days[FULL_DAYS]["date"],
        "fee": "160.00",
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1], sys.argv[2])) + "\n")
