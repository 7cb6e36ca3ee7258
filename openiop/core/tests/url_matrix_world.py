"""The T1 "world": one of every object a URL of OpenIOP needs, built through the services (the
ORM only where a service needs a long history first), plus one user per role.

Everything belongs to the counselor persona's caseload: the patients' episodes have the
``counselor`` persona as primary counselor, and the past group session is facilitated by them.
Time is frozen at ``NOW`` (Friday 2026-11-20, 10:00 in New York) while building and requesting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from conftest import NY, make_user
from openiop.accounts.models import User
from openiop.accounts.permissions import Role
from openiop.accounts.tokens import token_create
from openiop.aftercare.services import aftercare_plan_create, component_add
from openiop.attendance.services import AttendanceEntry, attendance_record
from openiop.billing.services import authorization_create
from openiop.clinical.models import Note
from openiop.clinical.services import plans as plan_services
from openiop.clinical.services.discharge import discharge_summary_start
from openiop.clinical.services.group_notes import group_note_start
from openiop.clinical.services.notes import note_create_draft, note_save_draft, note_sign
from openiop.clinical.services.ur import ur_create
from openiop.consent import services as consent_services
from openiop.consent.tests.factories import PROBATION, make_named
from openiop.enrollment.services import episode_create, episode_discharge
from openiop.medications.services import drug_screen_record, medication_start
from openiop.patients.services import patient_create
from openiop.placement.services import referral_create
from openiop.portal import services as portal_services
from openiop.questionnaires import services as q_services
from openiop.scheduling import feeds, week
from openiop.scheduling.services import session_book, session_create

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)  # Friday 10:00 in New York
NEXT_MONDAY = dt.date(2026, 11, 23)
DAP = {"data": "Talked about work stress", "assessment": "Engaged", "plan": "Continue weekly"}
WRITERS = (Role.COUNSELOR, Role.PRESCRIBER, Role.PROGRAM_DIRECTOR, Role.ADMIN)


@dataclass
class World:
    users: dict[Role, User]
    objects: dict[str, Any]
    tokens: dict[str, str]  # the raw secrets of the token links (calendar feed, questionnaire)
    api_tokens: dict[Role, str] = field(default_factory=dict)  # raw API tokens per role

    def __getitem__(self, key: str) -> Any:
        return self.objects[key]

    def pid(self, key: str) -> str:
        return str(self.objects[key].public_id)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NY)


def _signed_note(actor: User, episode: Any, day: dt.date) -> Note:
    note = note_create_draft(
        actor=actor, episode=episode, kind=Note.Kind.INDIVIDUAL,
        started_at=_at(day, 10), ended_at=_at(day, 10, 50),
    )  # fmt: skip
    note = note_save_draft(
        actor=actor, note=note, sections=DAP, started_at=note.started_at,
        ended_at=note.ended_at, expected_version=note.version,
    )  # fmt: skip
    return note_sign(actor=actor, note=note, expected_version=note.version)


def _draft_note(actor: User, episode: Any, day: dt.date) -> Note:
    """A complete draft: signing it would succeed (for its author)."""
    note = note_create_draft(
        actor=actor, episode=episode, kind=Note.Kind.INDIVIDUAL,
        started_at=_at(day, 11), ended_at=_at(day, 11, 50),
    )  # fmt: skip
    return note_save_draft(
        actor=actor, note=note, sections=DAP, started_at=note.started_at,
        ended_at=note.ended_at, expected_version=note.version,
    )  # fmt: skip


def _plan(actor: User, episode: Any) -> dict[str, Any]:
    """An active plan (signed by clinician and patient), then a draft revision of it."""
    plan = plan_services.plan_create_draft(actor=actor, episode=episode)
    problem = plan_services.plan_problem_add(
        actor=actor, plan=plan, description="Alcohol use disorder, moderate", icd10_code="F10.20"
    )
    goal = plan_services.plan_goal_add(actor=actor, problem=problem, text="Stay sober")
    objective = plan_services.plan_objective_add(
        actor=actor, goal=goal, text="Attend 3 groups a week", target_on=dt.date(2026, 12, 31)
    )
    plan_services.plan_intervention_add(
        actor=actor, objective=objective, modality="group", frequency="3 times a week"
    )
    plan = plan_services.plan_sign_clinician(actor=actor, plan=plan)
    active = plan_services.plan_sign_patient(
        actor=actor, plan=plan, patient_signature="Dana Whitfield"
    )
    draft = plan_services.plan_revise(actor=actor, plan=active)
    problem = draft.problems.get()
    goal = problem.goals.get()
    objective = goal.objectives.get()
    intervention = objective.interventions.get()
    return {
        "plan_active": active, "plan_draft": draft, "plan_problem": problem, "plan_goal": goal,
        "plan_objective": objective, "plan_intervention": intervention,
    }  # fmt: skip


def _claims(org: Any, patient: Any, episode: Any, biller: User) -> dict[str, Any]:
    """A payer, the patient's coverage, a draft claim and an exported batch (plain rows: the
    claim-building services need a season of charges first, which the matrix does not)."""
    from decimal import Decimal

    from openiop.billing.models import Claim, Coverage, ExportBatch, Payer

    payer, _ = Payer.objects.get_or_create(
        organization=org, name="Aetna", defaults={"payer_id": "60054"}
    )
    coverage = Coverage.objects.create(
        organization=org, patient=patient, payer=payer, member_id="W123456789"
    )
    batch = ExportBatch.objects.create(
        organization=org, format=ExportBatch.Format.CSV, period_start=dt.date(2026, 11, 2),
        period_end=dt.date(2026, 11, 8), filename="claims.csv", sha256="0" * 64,
        content="claim_number\n", claim_count=0, total_charge=Decimal("0"), exported_by=biller,
    )  # fmt: skip
    claim = Claim.objects.create(
        organization=org, patient=patient, episode=episode, payer=payer, coverage=coverage,
        claim_type=payer.claim_type, claim_number="C-000001", period_start=dt.date(2026, 11, 2),
        period_end=dt.date(2026, 11, 8),
    )  # fmt: skip
    return {"payer": payer, "coverage": coverage, "claim": claim, "export_batch": batch}


def build_world(*, org: Any, site: Any, room: Any, program: Any, patient: Any, episode: Any,
                users: dict[Role, User]) -> World:  # fmt: skip
    """Build at ``NOW`` (the caller freezes time)."""
    counselor = users[Role.COUNSELOR]
    director = users[Role.PROGRAM_DIRECTOR]
    prescriber = users[Role.PRESCRIBER]
    admin = users[Role.ADMIN]
    # The counselor's signed notes wait for the prescriber's co-signature; a second counselor's
    # wait for the admin's, so every note.cosign role has a note it may co-sign.
    counselor.cosigner = prescriber
    counselor.save(update_fields=["cosigner"])
    colleague = make_user("counselor_b", org, Role.COUNSELOR)
    colleague.cosigner = admin
    colleague.save(update_fields=["cosigner"])

    o: dict[str, Any] = {"org": org, "site": site, "room": room, "program": program,
                         "patient": patient, "episode": episode}  # fmt: skip

    # Scheduling: a held group on Wednesday (the counselor facilitated it; the patient came),
    # and one next week to book into or cancel.
    past = session_create(
        actor=None, program=program, title="Evening group", room=room,
        starts_at=_at(dt.date(2026, 11, 18), 18), ends_at=_at(dt.date(2026, 11, 18), 21),
        facilitators=[counselor],
    )  # fmt: skip
    o["booking"] = session_book(actor=None, session=past, episode=episode)
    attendance_record(
        actor=counselor, session=past, entries=[AttendanceEntry(patient=patient, status="present")]
    )
    o["session"] = past
    o["future_session"] = session_create(
        actor=None, program=program, title="Evening group", room=room,
        starts_at=_at(NEXT_MONDAY, 18), ends_at=_at(NEXT_MONDAY, 21), facilitators=[counselor],
    )  # fmt: skip
    o["draft"] = week.draft_create(actor=director, program=program, week_start=NEXT_MONDAY)

    # A second patient whose episode (also the counselor's) ended: the discharge summary.
    former = patient_create(
        actor=None, organization=org, first_name="Luis", last_name="Ortega",
        date_of_birth=dt.date(1990, 1, 1),
    )  # fmt: skip
    ended = episode_create(
        actor=None, patient=former, program=program, admitted_on=dt.date(2026, 10, 5),
        referral_source="self", primary_substance=2, primary_counselor=counselor,
    )  # fmt: skip
    ended = episode_discharge(
        actor=None, episode=ended, discharged_on=dt.date(2026, 11, 13), reason=1
    )
    o["former_patient"], o["ended_episode"] = former, ended
    o["discharge_summary"] = discharge_summary_start(actor=counselor, episode=ended)
    o["aftercare_plan"] = aftercare_plan_create(actor=counselor, episode=ended)
    o["aftercare_component"] = component_add(
        actor=counselor, plan=o["aftercare_plan"], kind="mutual_help"
    )
    o["follow_up"] = o["aftercare_plan"].follow_ups.get(offset_days=30)

    # Intake: a new person's referral, still open.
    o["referral"] = referral_create(
        actor=users[Role.INTAKE], organization=org, first_name="Robin", last_name="Hale",
        received_on=dt.date(2026, 11, 19), date_of_birth=dt.date(1985, 6, 1), phone="555-0142",
        program_requested=program,
    )  # fmt: skip

    # Clinical record.
    o["note"] = _draft_note(counselor, episode, dt.date(2026, 11, 19))
    o["signed_note"] = _signed_note(counselor, episode, dt.date(2026, 11, 17))
    o["colleague_note"] = _signed_note(colleague, episode, dt.date(2026, 11, 16))
    for role in WRITERS:  # each writer's own complete draft (only its author signs a note)
        o[f"own_note:{role.value}"] = _draft_note(users[role], episode, dt.date(2026, 11, 19))
    o["group_note"] = group_note_start(actor=counselor, session=past)
    o.update(_plan(counselor, episode))
    o["ur_review"] = ur_create(
        actor=counselor, episode=episode, period_start=dt.date(2026, 11, 2),
        period_end=dt.date(2026, 11, 19), clinician_summary="Attending; meets criteria.",
    )  # fmt: skip

    # Questionnaires: a PHQ-9 whose item 9 raises an alert, the program's schedule, a link.
    o["response"] = q_services.response_record(
        actor=counselor, patient=patient, episode=episode, instrument="phq9",
        answers=[1, 1, 1, 1, 1, 1, 1, 1, 1],
    )  # fmt: skip
    o["alert"] = o["response"].alerts.first()
    o["schedule"] = q_services.schedule_add(actor=director, program=program, instrument="gad7")
    o["invitation"], link_token = q_services.invitation_create(
        actor=counselor, patient=patient, instrument="gad7"
    )

    # Medications and drug screens.
    o["medication"] = medication_start(
        actor=prescriber, patient=patient, episode=episode, name="Buprenorphine/naloxone",
        dose="8 mg/2 mg", route="sublingual", frequency="once daily",
        start_on=dt.date(2026, 11, 3), prescriber=prescriber, mat_kind="buprenorphine",
    )  # fmt: skip
    o["drug_screen"] = drug_screen_record(
        actor=counselor, patient=patient, episode=episode, method="presumptive",
        collected_at=dt.datetime(2026, 11, 16, 14, tzinfo=dt.UTC),
        results=[("buprenorphine", True), ("cocaine", False)],
    )  # fmt: skip

    # Billing.
    o["authorization"] = authorization_create(
        actor=users[Role.BILLING], episode=episode, payer_name="Aetna", units_authorized=20,
        start_on=dt.date(2026, 11, 2), end_on=dt.date(2026, 12, 1), auth_number="A-1",
    )  # fmt: skip

    o.update(_claims(org, patient, episode, users[Role.BILLING]))

    # Part 2: a consent naming the probation officer, a release under it, an emergency access.
    o["consent"] = make_named(patient, users[Role.INTAKE])
    o["disclosure"] = consent_services.disclosure_make(
        actor=director, patient=patient, recipient=PROBATION["recipient_name"],
        recipient_organization=PROBATION["recipient_organization"], purpose="criminal_justice",
        categories=["attendance"], channel="print",
    )  # fmt: skip
    o["break_glass"] = consent_services.break_glass_start(
        actor=prescriber, patient=patient,
        reason="Patient collapsed in the lobby; the ER asks about current medications.",
    )  # fmt: skip

    # The patient's calendar feed.
    o["calendar_feed"], feed_token = feeds.calendar_feed_create(actor=director, patient=patient)

    # Portal: the patient's own log-in, and an open invitation for a second person.
    _, first = portal_services.invitation_create(actor=director, patient=patient)
    invitation = portal_services.invitation_for_token(first)
    assert invitation is not None
    o["portal_account"] = portal_services.invitation_accept(
        invitation=invitation, username="matrix-patient", password="quiet-harbor-lantern-2026"
    )
    o["consent_request"] = portal_services.consent_request_create(
        actor=director, patient=patient,
        terms={
            "kind": "named", "disclosing_party": "Clinic", "recipient_organization": "County Court",
            "purpose": "criminal_justice", "categories": ["attendance"],
            "expiry_event": "end of probation",
        },
    )  # fmt: skip
    o["portal_invitation"], portal_token = portal_services.invitation_create(
        actor=director, patient=o["discharge_summary"].episode.patient
    )

    world = World(
        users=users, objects=o,
        tokens={"feed": feed_token, "link": link_token, "portal": portal_token},
    )  # fmt: skip
    for role, user in users.items():
        world.api_tokens[role] = token_create(user=user)[1]
    return world
