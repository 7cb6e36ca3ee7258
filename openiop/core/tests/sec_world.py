"""A whole clinic's record, every kind of object once, for the security tests (security.md T2, T6).

``build_world(org, staff, text)`` makes, in one organization, one of each object a URL or API
endpoint can name (patient, guardian, window, episodes, sessions, attendance, referral with a
screening and an assessment, notes of every format, a group note, a plan with every part, a
review, a utilization review, a discharge summary, questionnaire responses with an alert, an
invitation and a schedule, medications, drug screens, an authorization, consents, disclosures,
break-glass accesses, a weekly board draft, a calendar feed). Every free-text field is filled
with ``text(key)``: a sentinel for the isolation tests, an XSS payload for the escaping tests.

Objects are made through the services where a service exists (so they are in states the pages
expect), at fixed dates around the week of 2026-11-16. Call it inside ``time_machine.travel(NOW)``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import time_machine
from django.contrib.auth.models import Group

from openiop.accounts.models import User
from openiop.accounts.permissions import Role
from openiop.aftercare import services as aftercare_svc
from openiop.attendance.services import AttendanceEntry, attendance_record
from openiop.billing.services import authorization_create
from openiop.clinical.models import Note
from openiop.clinical.services import plans as plan_svc
from openiop.clinical.services.cosign import cosign
from openiop.clinical.services.discharge import (
    discharge_summary_save_draft,
    discharge_summary_start,
)
from openiop.clinical.services.group_notes import (
    group_note_save,
    group_note_sign,
    group_note_start,
)
from openiop.clinical.services.notes import (
    note_amend,
    note_create_draft,
    note_save_draft,
    note_sign,
)
from openiop.clinical.services.ur import ur_create, ur_record_outcome
from openiop.consent import services as consent_svc
from openiop.consent.models import Consent
from openiop.consent.rules import CATEGORY_KEYS
from openiop.enrollment.services import episode_create, episode_discharge, episode_hold
from openiop.medications import services as med_svc
from openiop.organizations.models import Organization, Program, Room, Site
from openiop.patients import services as patient_svc
from openiop.placement import services as placement_svc
from openiop.portal import services as portal_svc
from openiop.questionnaires import services as q_svc
from openiop.scheduling import feeds
from openiop.scheduling.models import ClinicianProgram, ScheduleBlock, ScheduleDraft
from openiop.scheduling.services import series_create, session_book, session_create

# Friday Nov 20, 2026, 10:00 in New York: every page below is read "now".
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
ADMITTED = dt.date(2026, 11, 2)
# A group session on Tuesday Nov 10, 18:00-21:00 New York (23:00-02:00 UTC).
GROUP_START = dt.datetime(2026, 11, 10, 23, 0, tzinfo=dt.UTC)
# An individual session on Thursday Nov 12, 10:00-10:50 New York.
INDIVIDUAL_START = dt.datetime(2026, 11, 12, 15, 0, tzinfo=dt.UTC)
# A session next week (not yet held) for booking and cancelling.
NEXT_WEEK = dt.datetime(2026, 11, 24, 23, 0, tzinfo=dt.UTC)

PHQ9_SUICIDAL = [2, 2, 1, 2, 1, 2, 1, 1, 1]  # item 9 > 0 raises a safety alert
IOP_RATINGS = {
    "d1": 0, "d2": 0, "d3": 1, "d4": 2, "d5": 2, "d6": 1,
    "needs_detox_now": False, "needs_24h_supervision": False, "toxic_home": False,
    "harmful_environment": False, "serious_co_occurring": False, "medically_unstable": False,
}  # fmt: skip

ALL_ROLES = tuple(Role)

Text = Callable[..., str]


def make_staff(username: str, organization: Organization, *roles: Role, **names: str) -> User:
    user = User.objects.create_user(
        username=username,
        password=f"pw-{username}-2026",
        organization=organization,
        first_name=names.get("first_name", username.title()),
        last_name=names.get("last_name", "Tester"),
    )
    for role in roles:
        group, _ = Group.objects.get_or_create(name=role.value)
        user.groups.add(group)
    return user


def sentinel_text(prefix: str) -> Text:
    """``text(key, limit)`` -> ``"<prefix><key>"`` (cut to ``limit``): every field findable."""

    def text(key: str, limit: int | None = None) -> str:
        value = f"{prefix}{key}"
        return value[:limit] if limit else value

    return text


@dataclass
class World:
    """Everything built, by name. ``ids`` maps a name to the object's public id."""

    org: Organization
    staff: User
    reviewer: User
    site: Site
    room: Room
    program: Program
    program2: Program
    objs: dict[str, Any] = field(default_factory=dict)
    feed_token: str = ""
    invitation_token: str = ""
    portal_token: str = ""

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["objs"][name]
        except KeyError:
            raise AttributeError(name) from None

    def id(self, name: str) -> uuid.UUID:
        return self.objs[name].public_id


def build_world(
    org: Organization,
    text: Text,
    *,
    staff: User | None = None,
    tag: str = "w",
) -> World:
    """One of everything in ``org``; see the module docstring. ``staff`` (all clinical roles by
    default) writes and signs everything and leads the groups; ``tag`` keeps usernames apart."""
    staff = staff or make_staff(
        f"{tag}-lead", org, *ALL_ROLES, first_name=text("StaffFirst", 150),
        last_name=text("StaffLast", 150),
    )  # fmt: skip
    reviewer = make_staff(
        f"{tag}-reviewer", org, Role.PROGRAM_DIRECTOR, Role.ADMIN,
        first_name=text("ReviewerFirst", 150), last_name=text("ReviewerLast", 150),
    )  # fmt: skip
    # The lead's notes need a co-signature (the co-sign queue and pages have something to show).
    staff.cosigner = reviewer
    staff.save(update_fields=["cosigner"])
    site = Site.objects.create(
        organization=org, name=text("SiteName", 100), timezone="America/New_York",
        address=text("SiteAddress", 300),
    )  # fmt: skip
    room = Room.objects.create(organization=org, site=site, name=text("RoomName", 100), capacity=12)
    program = Program.objects.create(
        organization=org, site=site, name=text("ProgramName", 100),
        cohort=Program.Cohort.EVENING, weekly_min_hours=Decimal("9.0"),
        weekly_max_hours=Decimal("19.0"), min_days_per_week=3, group_size_cap=10,
    )  # fmt: skip
    program2 = Program.objects.create(
        organization=org, site=site, name=text("ProgramTwo", 100),
        cohort=Program.Cohort.DAY, weekly_min_hours=Decimal("9.0"),
        weekly_max_hours=Decimal("19.0"), min_days_per_week=3, group_size_cap=10,
    )  # fmt: skip
    w = World(org, staff, reviewer, site, room, program, program2)
    o = w.objs
    o.update(site=site, room=room, program=program, program2=program2, staff=staff)
    ClinicianProgram.objects.create(organization=org, user=staff, program=program)
    o["block"] = ScheduleBlock.objects.create(
        organization=org, site=site, day=1, start=dt.time(18), minutes=180,
        part_of_day="evening", label=text("BlockLabel", 60),
    )  # fmt: skip

    with time_machine.travel(dt.datetime(2026, 10, 28, 14, tzinfo=dt.UTC), tick=False):
        _patients(w, text)
        _placement(w, text)
    with time_machine.travel(dt.datetime(2026, 11, 3, 14, tzinfo=dt.UTC), tick=False):
        _schedule(w, text)
        _plan(w, text)
    with time_machine.travel(GROUP_START + dt.timedelta(hours=4), tick=False):
        _attendance_and_group_note(w, text)
    with time_machine.travel(INDIVIDUAL_START + dt.timedelta(hours=2), tick=False):
        _notes(w, text)
    with time_machine.travel(dt.datetime(2026, 11, 16, 15, tzinfo=dt.UTC), tick=False):
        _review_and_ur(w, text)
        _questionnaires(w, text)
        _medications(w, text)
        _consent(w, text)
    with time_machine.travel(dt.datetime(2026, 11, 19, 15, tzinfo=dt.UTC), tick=False):
        _discharge(w, text)
        _board(w, text)
        _billing(w, text)
    return w


def _patients(w: World, text: Text) -> None:
    o, org, staff = w.objs, w.org, w.staff
    o["patient"] = patient_svc.patient_create(
        actor=staff, organization=org, first_name=text("First", 100), last_name=text("Last", 100),
        preferred_name=text("Preferred", 100), date_of_birth=dt.date(1988, 4, 12),
        sex="female", phone=text("Phone", 32), address=text("Address", 300),
        preferred_language=text("Language", 40),
        emergency_contact_name=text("EmergencyName", 200),
        emergency_contact_phone=text("EmergencyPhone", 32),
        emergency_contact_relationship=text("EmergencyRel", 60),
    )  # fmt: skip
    o["guardian"] = patient_svc.guardian_add(
        actor=staff, patient=o["patient"], name=text("GuardianName", 200),
        relationship=text("GuardianRel", 60), phone=text("GuardianPhone", 32),
    )  # fmt: skip
    o["window"] = patient_svc.unavailable_window_add(
        actor=staff, patient=o["patient"], weekday=0, start_time=dt.time(8),
        end_time=dt.time(16), kind="work", note=text("WindowNote", 200),
    )  # fmt: skip
    o["patient2"] = patient_svc.patient_create(
        actor=staff, organization=org, first_name=text("SecondFirst", 100),
        last_name=text("SecondLast", 100), date_of_birth=dt.date(1979, 9, 30),
    )  # fmt: skip
    # A new referral with no episode yet (in every counselor's caseload).
    o["patient3"] = patient_svc.patient_create(
        actor=staff, organization=org, first_name=text("ThirdFirst", 100),
        last_name=text("ThirdLast", 100), date_of_birth=dt.date(1995, 2, 3),
    )  # fmt: skip


def _placement(w: World, text: Text) -> None:
    o, org, staff = w.objs, w.org, w.staff
    o["referral"] = placement_svc.referral_create(
        actor=staff, organization=org, first_name=text("RefFirst", 100),
        last_name=text("RefLast", 100), date_of_birth=dt.date(1990, 6, 1),
        phone=text("RefPhone", 32), referrer_name=text("ReferrerName", 200),
        referrer_contact=text("ReferrerContact", 200), reason=text("ReferralReason"),
        received_on=dt.date(2026, 10, 26), source="employer", program_requested=w.program,
    )  # fmt: skip
    o["screening"] = placement_svc.screening_record(
        actor=staff, referral=o["referral"], substances=["alcohol"],
        last_use_on=dt.date(2026, 10, 25), insurance=text("Insurance", 100),
        notes=text("ScreeningNotes"),
    )  # fmt: skip
    o["assessment"] = placement_svc.assessment_record(
        actor=staff, referral=o["referral"], assessed_on=dt.date(2026, 10, 27),
        ratings=IOP_RATINGS, notes={n: text(f"Dimension{n}") for n in range(1, 7)},
        chosen_level="2.5", variance_reason=text("Variance"),
        responsibilities=["work"], substances=["alcohol"],
    )  # fmt: skip
    # A second referral, referred out, for the closed-referral pages.
    o["referral_out"] = placement_svc.referral_create(
        actor=staff, organization=org, first_name=text("OutFirst", 100),
        last_name=text("OutLast", 100), received_on=dt.date(2026, 10, 26),
        referrer_contact=text("OutContact", 200),
    )  # fmt: skip
    placement_svc.referral_refer_out(
        actor=staff, referral=o["referral_out"], to=text("ReferredOutTo", 200),
        note=text("ReferOutNote"),
    )  # fmt: skip


def _schedule(w: World, text: Text) -> None:
    o, staff = w.objs, w.staff
    o["episode"] = episode_create(
        actor=staff, patient=o["patient"], program=w.program, admitted_on=ADMITTED,
        referral_source="self", primary_substance=2, primary_counselor=staff,
    )  # fmt: skip
    o["episode2"] = episode_create(
        actor=staff, patient=o["patient2"], program=w.program, admitted_on=ADMITTED,
        primary_counselor=staff,
    )  # fmt: skip
    o["series"] = series_create(
        actor=staff, program=w.program, title=text("SeriesTitle", 200), weekdays=[1],
        start_time=dt.time(18), duration_minutes=180, start_date=dt.date(2026, 12, 1),
        end_date=dt.date(2026, 12, 29), room=w.room, facilitators=[staff],
    )  # fmt: skip
    o["session"] = session_create(
        actor=staff, program=w.program, title=text("GroupTitle", 200), starts_at=GROUP_START,
        ends_at=GROUP_START + dt.timedelta(hours=3), room=w.room, facilitators=[staff],
    )  # fmt: skip
    o["individual_session"] = session_create(
        actor=staff, program=w.program, title=text("IndividualTitle", 200),
        starts_at=INDIVIDUAL_START, ends_at=INDIVIDUAL_START + dt.timedelta(minutes=50),
        kind="individual", facilitators=[staff],
    )  # fmt: skip
    o["next_session"] = session_create(
        actor=staff, program=w.program, title=text("NextTitle", 200), starts_at=NEXT_WEEK,
        ends_at=NEXT_WEEK + dt.timedelta(hours=3), room=w.room, facilitators=[staff],
    )  # fmt: skip
    o["cancelled_session"] = session_create(
        actor=staff, program=w.program, title=text("CancelledTitle", 200),
        starts_at=NEXT_WEEK + dt.timedelta(days=1),
        ends_at=NEXT_WEEK + dt.timedelta(days=1, hours=3), facilitators=[staff],
    )  # fmt: skip
    from openiop.scheduling.services import session_cancel

    session_cancel(actor=staff, session=o["cancelled_session"], reason=text("CancelReason", 200))
    for name in ("episode", "episode2"):
        o[f"booking_{name}"] = session_book(actor=staff, session=o["session"], episode=o[name])
    session_book(actor=staff, session=o["next_session"], episode=o["episode"])
    session_book(actor=staff, session=o["individual_session"], episode=o["episode"])


def _plan(w: World, text: Text) -> None:
    o, staff = w.objs, w.staff
    plan = plan_svc.plan_create_draft(actor=staff, episode=o["episode"])
    plan_svc.plan_update_draft(
        actor=staff, plan=plan, strengths=text("Strengths"), barriers=text("Barriers"),
        review_interval=30, review_unit="days",
    )  # fmt: skip
    o["problem"] = plan_svc.plan_problem_add(
        actor=staff, plan=plan, description=text("Problem"), icd10_code="F10.20",
        icd10_text=text("Diagnosis", 200),
    )  # fmt: skip
    o["goal"] = plan_svc.plan_goal_add(actor=staff, problem=o["problem"], text=text("Goal"))
    o["objective"] = plan_svc.plan_objective_add(
        actor=staff, goal=o["goal"], text=text("Objective"), target_on=dt.date(2026, 12, 15)
    )
    o["intervention"] = plan_svc.plan_intervention_add(
        actor=staff, objective=o["objective"], modality="group",
        frequency=text("Frequency", 100), description=text("Intervention"), responsible=staff,
    )  # fmt: skip
    plan_svc.plan_sign_clinician(actor=staff, plan=plan)
    o["plan"] = plan_svc.plan_sign_patient(
        actor=staff, plan=plan, patient_signature=text("PatientSignature", 200)
    )
    # A draft plan for the second episode: its parts are still editable.
    draft = plan_svc.plan_create_draft(actor=staff, episode=o["episode2"])
    o["draft_problem"] = plan_svc.plan_problem_add(
        actor=staff, plan=draft, description=text("DraftProblem")
    )
    o["draft_goal"] = plan_svc.plan_goal_add(
        actor=staff, problem=o["draft_problem"], text=text("DraftGoal")
    )
    o["draft_objective"] = plan_svc.plan_objective_add(
        actor=staff, goal=o["draft_goal"], text=text("DraftObjective")
    )
    o["draft_intervention"] = plan_svc.plan_intervention_add(
        actor=staff, objective=o["draft_objective"], modality="individual",
        frequency=text("DraftFrequency", 100), description=text("DraftIntervention"),
    )  # fmt: skip
    draft.refresh_from_db()
    o["draft_plan"] = draft


def _attendance_and_group_note(w: World, text: Text) -> None:
    o, staff = w.objs, w.staff
    attendance_record(
        actor=staff, session=o["session"],
        entries=[
            AttendanceEntry(patient=o["patient"], status="present", note=text("AttNote", 300)),
            AttendanceEntry(patient=o["patient2"], status="late", minutes_attended=150,
                            note=text("AttNote2", 300)),
        ],
    )  # fmt: skip
    group_note = group_note_start(actor=staff, session=o["session"])
    sections = {
        "participation": text("GrpParticipation"), "response": text("GrpResponse"),
        "progress": text("GrpProgress"), "risk": text("GrpRisk"),
    }  # fmt: skip
    parts = {
        str(o["patient"].public_id): {
            "sections": sections,
            "objectives": [str(o["objective"].public_id)],
        },
        str(o["patient2"].public_id): {"sections": sections},
    }
    group_note = group_note_save(
        actor=staff, group_note=group_note, topic=text("Topic", 200),
        curriculum_module=text("Module", 200), interventions=text("GrpInterventions"),
        narrative=text("Narrative"), parts=parts, expected_version=1,
    )  # fmt: skip
    o["group_note"] = group_note_sign(
        actor=staff, group_note=group_note, expected_version=group_note.version,
        acknowledge_warnings=True,
    )  # fmt: skip
    o["group_part"] = Note.objects.filter(group_note=o["group_note"]).order_by("id").first()


def _notes(w: World, text: Text) -> None:
    o, staff = w.objs, w.staff
    attendance_record(
        actor=staff, session=o["individual_session"],
        entries=[AttendanceEntry(patient=o["patient"], status="present")],
    )  # fmt: skip
    starts, ends = INDIVIDUAL_START, INDIVIDUAL_START + dt.timedelta(minutes=50)
    formats = {"dap": "DAP", "birp": "BIRP", "soap": "SOAP"}
    for key, fmt in formats.items():
        note = note_create_draft(
            actor=staff, episode=o["episode"], kind="individual", format=fmt,
            started_at=starts, ended_at=ends,
        )  # fmt: skip
        sections = {name: text(f"{fmt}{name}") for name in note.section_names}
        note = note_save_draft(
            actor=staff, note=note, sections=sections, started_at=starts, ended_at=ends,
            expected_version=1,
        )  # fmt: skip
        o[f"note_{key}"] = note
    # DAP and SOAP are signed; BIRP stays a draft (editable, autosaved).
    o["note_dap"] = note_sign(actor=staff, note=o["note_dap"], expected_version=2)
    o["note_soap"] = note_sign(actor=staff, note=o["note_soap"], expected_version=2)
    o["amendment"] = note_amend(
        actor=staff, note=o["note_dap"], sections={"plan": text("AmendedPlan")},
        reason=text("AmendReason"),
    )  # fmt: skip
    # SUD counseling note: only its author reads it.
    sud = note_create_draft(
        actor=staff, episode=o["episode"], kind="sud_counseling", started_at=starts,
        ended_at=ends,
    )  # fmt: skip
    sud = note_save_draft(
        actor=staff, note=sud,
        sections={name: text(f"Sud{name}") for name in sud.section_names}, started_at=starts,
        ended_at=ends, expected_version=1,
    )  # fmt: skip
    o["note_sud"] = note_sign(actor=staff, note=sud, expected_version=2)
    o["cosignature"] = cosign(actor=w.reviewer, note=o["note_soap"], comment=text("Cosign"))


def _review_and_ur(w: World, text: Text) -> None:
    o, staff = w.objs, w.staff
    o["review"] = plan_svc.plan_review_record(
        actor=staff, plan=o["plan"], reviewed_on=dt.date(2026, 11, 16),
        summary=text("ReviewSummary"),
        progress={str(o["objective"].public_id): ("progressing", text("ProgressComment"))},
    )  # fmt: skip
    o["authorization"] = authorization_create(
        actor=staff, episode=o["episode"], payer_name=text("Payer", 200),
        auth_number=text("AuthNo", 60), units_authorized=20, start_on=ADMITTED,
        end_on=dt.date(2026, 12, 31), notes=text("AuthNotes"),
    )  # fmt: skip
    o["ur"] = ur_create(
        actor=staff, episode=o["episode"], period_start=ADMITTED, period_end=dt.date(2026, 11, 15),
        clinician_summary=text("URSummary"), authorization=o["authorization"],
    )  # fmt: skip
    o["ur"] = ur_record_outcome(
        actor=staff, review=o["ur"], outcome="partial", outcome_note=text("UROutcome")
    )


def _questionnaires(w: World, text: Text) -> None:
    o, staff = w.objs, w.staff
    o["response"] = q_svc.response_record(
        actor=staff, patient=o["patient"], episode=o["episode"], instrument="phq9",
        answers=PHQ9_SUICIDAL,
    )  # fmt: skip
    o["response_gad"] = q_svc.response_record(
        actor=staff, patient=o["patient"], episode=o["episode"], instrument="gad7",
        answers=[1, 1, 2, 1, 0, 1, 1],
    )  # fmt: skip
    alerts = list(o["response"].alerts.order_by("id"))
    o["alert_open"] = alerts[0]
    # A second flagged response whose alert is followed up.
    closed = q_svc.response_record(
        actor=staff, patient=o["patient2"], episode=o["episode2"], instrument="phq9",
        answers=PHQ9_SUICIDAL,
    )  # fmt: skip
    o["alert_closed"] = q_svc.alert_follow_up(
        actor=staff, alert=closed.alerts.order_by("id").first(), note=text("FollowUp")
    )
    o["invitation"], w.invitation_token = q_svc.invitation_create(
        actor=staff, patient=o["patient"], instrument="gad7", episode=o["episode"]
    )
    o["schedule"] = q_svc.schedule_add(
        actor=staff, program=w.program, instrument="phq9", at_admission=True, every_n_days=14
    )


def _medications(w: World, text: Text) -> None:
    o, staff = w.objs, w.staff
    o["medication"] = med_svc.medication_start(
        actor=staff, patient=o["patient"], episode=o["episode"], name=text("MedName", 200),
        dose=text("Dose", 100), frequency=text("MedFrequency", 100), start_on=dt.date(2026, 11, 3),
        prescriber=staff, mat_kind="buprenorphine", adherence_notes=text("Adherence"),
    )  # fmt: skip
    o["medication_outside"] = med_svc.medication_start(
        actor=staff, patient=o["patient"], episode=o["episode"], name=text("OutsideMed", 200),
        dose="50 mg", frequency="daily", start_on=dt.date(2026, 11, 3),
        outside_prescriber=text("OutsidePrescriber", 200),
    )  # fmt: skip
    o["medication_outside"] = med_svc.medication_stop(
        actor=staff, medication=o["medication_outside"], stop_on=dt.date(2026, 11, 10),
        reason=text("StopReason", 200),
    )  # fmt: skip
    o["screen"] = med_svc.drug_screen_record(
        actor=staff, patient=o["patient"], episode=o["episode"], method="presumptive",
        results=[("buprenorphine", True), ("opiates", False)],
        collected_at=dt.datetime(2026, 11, 16, 14, tzinfo=dt.UTC),
        lab_name=text("LabName", 120), accession_number=text("Accession", 60),
        notes=text("ScreenNotes"),
    )  # fmt: skip


def _consent(w: World, text: Text) -> None:
    o, staff, patient = w.objs, w.staff, w.objs["patient"]
    signed = dt.datetime(2026, 11, 3, 15, tzinfo=dt.UTC)
    recipient, recipient_org = text("Recipient", 200), text("RecipientOrg", 200)
    o["consent"] = consent_svc.consent_record(
        actor=staff, patient=patient, kind=Consent.Kind.NAMED,
        disclosing_party=text("DisclosingParty", 200), purpose=Consent.Purpose.OTHER,
        purpose_detail=text("PurposeDetail", 200), categories=["attendance", "drug_screens"],
        signed_by_name=text("SignedBy", 200), signed_at=signed, recipient_name=recipient,
        recipient_organization=recipient_org, recipient_description=text("RecipientDesc", 200),
        expires_on=dt.date(2027, 5, 1), expiry_event=text("ExpiryEvent", 200),
    )  # fmt: skip
    o["disclosure"] = consent_svc.disclosure_make(
        actor=staff, patient=patient, recipient=recipient, recipient_organization=recipient_org,
        purpose="other", categories=["attendance"], channel="print",
    )  # fmt: skip
    o["consent_tpo"] = consent_svc.consent_record(
        actor=staff, patient=patient, kind=Consent.Kind.TPO,
        disclosing_party=text("TpoParty", 200), purpose=Consent.Purpose.TREATMENT,
        categories=["demographics"], signed_by_name=text("TpoSigned", 200), signed_at=signed,
        expiry_event=text("TpoExpiry", 200),
    )  # fmt: skip
    o["consent_tpo"] = consent_svc.consent_revoke(
        actor=staff, consent=o["consent_tpo"], note=text("RevocationNote")
    )
    # A single TPO consent for payment: the UR packet can be released to the payer.
    o["consent_payment"] = consent_svc.consent_record(
        actor=staff, patient=patient, kind=Consent.Kind.TPO,
        disclosing_party=text("PaymentParty", 200), purpose=Consent.Purpose.PAYMENT,
        categories=sorted(CATEGORY_KEYS), signed_by_name=text("PaymentSigned", 200),
        signed_at=signed, expiry_event=text("PaymentExpiry", 200),
    )  # fmt: skip
    try:
        consent_svc.disclosure_make(
            actor=staff, patient=patient, recipient=text("RefusedRecipient", 200),
            purpose="employment", categories=["diagnoses"], channel="export",
        )  # fmt: skip
    except consent_svc.DisclosureRefused as refused:
        o["disclosure_refused"] = refused.disclosure
    o["break_glass"] = consent_svc.break_glass_start(
        actor=staff, patient=o["patient2"], reason=text("BreakGlassReason, an emergency"),
        disclosed_to=text("DisclosedTo", 200),
    )  # fmt: skip
    o["break_glass_reviewed"] = consent_svc.break_glass_start(
        actor=w.reviewer, patient=patient, reason=text("BreakGlassReason2, an emergency"),
    )  # fmt: skip
    o["break_glass_reviewed"] = consent_svc.break_glass_review(
        actor=staff, access=o["break_glass_reviewed"], note=text("ReviewNote")
    )


def _discharge(w: World, text: Text) -> None:
    o, staff = w.objs, w.staff
    o["episode2"].refresh_from_db()
    episode_hold(
        actor=staff, episode=o["episode2"], effective_on=dt.date(2026, 11, 13),
        reason=text("HoldReason", 300),
    )  # fmt: skip
    o["episode2"].refresh_from_db()
    o["episode2"] = episode_discharge(
        actor=staff, episode=o["episode2"], discharged_on=dt.date(2026, 11, 18), reason=1,
        note=text("DischargeNote"),
    )  # fmt: skip
    summary = discharge_summary_start(actor=staff, episode=o["episode2"])
    o["discharge"] = discharge_summary_save_draft(
        actor=staff, summary=summary, expected_version=summary.version,
        texts={
            "progress_narrative": text("DcNarrative"), "medications": text("DcMedications"),
            "aftercare_plan": text("DcAftercare"), "referrals": text("DcReferrals"),
            "risk_at_discharge": text("DcRisk"), "recommendations": text("DcRecommendations"),
        },
    )  # fmt: skip
    o["aftercare_plan"] = aftercare_svc.aftercare_plan_create(
        actor=staff, episode=o["episode2"], notes=text("AftercareNotes")
    )
    o["aftercare_component"] = aftercare_svc.component_add(
        actor=staff, plan=o["aftercare_plan"], kind="mutual_help",
        provider=text("AftercareProvider", 200), schedule=text("AftercareSchedule", 200),
    )  # fmt: skip
    aftercare_svc.engagement_log(
        actor=staff, component=o["aftercare_component"], occurred_on=dt.date(2026, 11, 19),
        note=text("EngagementNote", 300),
    )  # fmt: skip
    o["follow_up"] = o["aftercare_plan"].follow_ups.get(offset_days=30)
    aftercare_svc.follow_up_attempt_record(
        actor=staff, follow_up=o["follow_up"], result="no_answer",
        attempted_at=dt.datetime(2026, 11, 19, 14, 0, tzinfo=dt.UTC), note=text("AttemptNote", 300),
    )  # fmt: skip


def _board(w: World, text: Text) -> None:  # noqa: ARG001 (the board has no free text of its own)
    """A solved draft for next week, written directly (no solver run in a test)."""
    o, staff = w.objs, w.staff
    pid, cid = str(o["patient"].public_id), str(staff.public_id)
    block = {"id": "b1", "day": 1, "start": "18:00", "minutes": 180}
    o["draft"] = ScheduleDraft.objects.create(
        organization=w.org, program=w.program, week_start=dt.date(2026, 11, 23),
        status=ScheduleDraft.Status.DRAFT, created_by=staff,
        instance={
            "blocks": [block],
            "patients": [{"id": pid, "available_blocks": ["b1"]}],
            "clinicians": [{"id": cid, "available": ["b1"]}],
        },
        solution={
            "status": "feasible", "metrics": {},
            "groups": [{"id": "g1", "block": "b1", "clinician": cid, "room": None,
                        "patients": [pid]}],
            "patients": [{"id": pid, "meets_minimum": False, "reason": "short"}],
        },
    )  # fmt: skip
    feed, w.feed_token = feeds.calendar_feed_create(actor=staff, patient=o["patient"])
    o["feed"] = feed
    _, first = portal_svc.invitation_create(actor=staff, patient=o["patient"])
    invitation = portal_svc.invitation_for_token(first)
    assert invitation is not None
    o["portal_account"] = portal_svc.invitation_accept(
        invitation=invitation, username=f"sec-portal-{o['patient'].organization_id}",
        password="quiet-harbor-lantern-2026",
    )  # fmt: skip
    _, w.portal_token = portal_svc.invitation_create(actor=staff, patient=o["patient2"])
    o["consent_request"] = portal_svc.consent_request_create(
        actor=staff, patient=o["patient"],
        terms={
            "kind": "named", "disclosing_party": "Clinic", "recipient_organization": "County Court",
            "purpose": "criminal_justice", "categories": ["attendance"],
            "expiry_event": "end of probation",
        },
    )  # fmt: skip


def _billing(w: World, text: Text) -> None:
    """A payer, coverage, a certification, a claim with a line and an export batch (rows
    written directly: the claim builder needs a billing profile and a full fee schedule)."""
    from openiop.billing.models import Certification, Claim, ClaimLine, Coverage, ExportBatch, Payer

    o, org, staff = w.objs, w.org, w.staff
    o["payer"] = Payer.objects.create(
        organization=org, name=text("PayerName", 200), payer_id=text("PayerId", 80)
    )
    o["coverage"] = Coverage.objects.create(
        organization=org, patient=o["patient"], payer=o["payer"],
        member_id=text("MemberId", 80), group_number=text("GroupNo", 50),
        subscriber_first_name=text("SubFirst", 100), subscriber_last_name=text("SubLast", 100),
        effective_on=dt.date(2026, 1, 1),
    )  # fmt: skip
    o["certification"] = Certification.objects.create(
        organization=org, episode=o["episode"], patient=o["patient"],
        signed_on=dt.date(2026, 11, 3), signed_by_name=text("Physician", 200),
    )  # fmt: skip
    o["export"] = ExportBatch.objects.create(
        organization=org, format=ExportBatch.Format.CSV, period_start=ADMITTED,
        period_end=dt.date(2026, 11, 15), payer=o["payer"], filename="claims.csv",
        sha256="0" * 64, content=text("ExportContent"), claim_count=1,
        total_charge=Decimal("100.00"), exported_by=staff,
    )  # fmt: skip
    o["claim"] = Claim.objects.create(
        organization=org, patient=o["patient"], episode=o["episode"], payer=o["payer"],
        coverage=o["coverage"], claim_type="professional", claim_number=f"{w.org.pk}-0001",
        period_start=ADMITTED, period_end=dt.date(2026, 11, 15), total_charge=Decimal("100.00"),
        diagnosis_codes=["F10.20"], prior_authorization=text("PriorAuth", 50),
        status_note=text("ClaimNote", 300),
    )  # fmt: skip
    ClaimLine.objects.create(
        organization=org, claim=o["claim"], position=1, service_date=dt.date(2026, 11, 10),
        code="H0015", charge=Decimal("100.00"), minutes=180, source_ids=[], source_key="x",
    )  # fmt: skip
