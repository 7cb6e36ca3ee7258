"""What the T1 walk sends to each URL: the path kwargs (taken from the world), a query string
where the view needs one, and for the JSON API a schema-valid body (ninja validates the body
before the operation runs, so an empty body would answer 422 before the permission check).

A builder gets the world and the role asking (None for anonymous) and returns one kwargs dict, or
a list of them when one URL name covers several kinds of object (the plan parts). Per-role
objects stand in where an object rule sits on top of the role: only a note's author signs it,
and only the author's co-signer (or a program director) co-signs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openiop.accounts.permissions import Role
from openiop.core.tests.url_matrix_world import WRITERS, World

Kwargs = dict[str, Any] | list[dict[str, Any]]
Builder = Callable[[World, Role | None], Kwargs]


def _by(field: str, key: str) -> Builder:
    return lambda w, role: {field: w.pid(key)}


def _own_note(w: World, role: Role | None) -> str:
    """The role's own complete draft (its author may sign it); others get the counselor's."""
    return w.pid(f"own_note:{role.value}") if role in WRITERS else w.pid("note")


def _cosignable(w: World, role: Role | None) -> str:
    """A signed note awaiting this role's co-signature: the admin co-signs counselor_b's notes,
    the prescriber (the counselor's co-signer) and program directors the counselor's."""
    return w.pid("colleague_note") if role == Role.ADMIN else w.pid("signed_note")


PLAN_PARTS = {  # kind -> (its parent, itself)
    "problem": ("plan_draft", "plan_problem"),
    "goal": ("plan_problem", "plan_goal"),
    "objective": ("plan_goal", "plan_objective"),
    "intervention": ("plan_objective", "plan_intervention"),
}

patient = _by("public_id", "patient")
episode = _by("public_id", "episode")
episode_id = _by("episode_id", "episode")
session = _by("public_id", "session")
program = _by("public_id", "program")
referral = _by("public_id", "referral")
draft = _by("public_id", "draft")
none: Builder = lambda w, role: {}  # noqa: E731

KWARGS: dict[str, Builder] = {
    # patients
    "patients:patient-detail": patient,
    "patients:patient-edit": patient,
    "patients:guardian-create": patient,
    "patients:unavailable-window-create": patient,
    # programs
    "organizations:program-detail": program,
    "organizations:program-edit": program,
    # scheduling
    "scheduling:session-detail": session,
    "scheduling:session-cancel": _by("public_id", "future_session"),
    "scheduling:booking-create": _by("public_id", "future_session"),
    "scheduling:attendance-record": session,
    "scheduling:patient-calendar": patient,
    "scheduling:patient-calendar-create": patient,
    "scheduling:patient-calendar-rotate": patient,
    "scheduling:patient-calendar-revoke": patient,
    "scheduling:board-draft": draft,
    "scheduling:board-progress": draft,
    "scheduling:board-resolve": draft,
    "scheduling:board-publish": draft,
    "scheduling:board-appointments": draft,
    "scheduling:board-pin": lambda w, role: {
        "public_id": w.pid("draft"),
        "patient_id": w.pid("patient"),
    },
    "calendar:feed": lambda w, role: {"token": w.tokens["feed"]},
    # episodes
    "enrollment:episode-create": _by("patient_id", "former_patient"),
    "enrollment:episode-detail": episode,
    "enrollment:episode-admit": episode,
    "enrollment:episode-hold": episode,
    "enrollment:episode-resume": episode,
    "enrollment:episode-transfer": episode,
    "enrollment:episode-discharge": episode,
    # placement
    "placement:referral-detail": referral,
    "placement:screening-create": referral,
    "placement:assessment-create": referral,
    "placement:referral-admit": referral,
    "placement:referral-refer-out": referral,
    "placement:referral-close": referral,
    # notes
    "clinical:note-list": episode_id,
    "clinical:note-create": episode_id,
    "clinical:note-detail": _by("public_id", "note"),
    "clinical:note-edit": _by("public_id", "note"),
    "clinical:note-autosave": _by("public_id", "note"),
    "clinical:note-sign": lambda w, role: {"public_id": _own_note(w, role)},
    "clinical:note-amend": _by("public_id", "signed_note"),
    "clinical:note-cosign": lambda w, role: {"public_id": _cosignable(w, role)},
    "clinical:cosign-group-note": _by("public_id", "group_note"),
    "clinical:group-note-session": session,
    "clinical:group-note-detail": _by("public_id", "group_note"),
    "clinical:group-note-autosave": _by("public_id", "group_note"),
    "clinical:group-note-amend": _by("public_id", "group_note"),
    # plans
    "clinical:plan-episode": episode_id,
    "clinical:plan-create": episode_id,
    "clinical:plan-detail": _by("public_id", "plan_active"),
    "clinical:plan-edit": _by("public_id", "plan_draft"),
    "clinical:plan-revise": _by("public_id", "plan_active"),
    "clinical:plan-sign-clinician": _by("public_id", "plan_draft"),
    "clinical:plan-sign-patient": _by("public_id", "plan_draft"),
    "clinical:plan-review-create": _by("public_id", "plan_active"),
    "clinical:plan-part-add": lambda w, role: [
        {"kind": kind, "parent_id": w.pid(parent)} for kind, (parent, _) in PLAN_PARTS.items()
    ],
    "clinical:plan-part-edit": lambda w, role: [
        {"kind": kind, "public_id": w.pid(own)} for kind, (_, own) in PLAN_PARTS.items()
    ],
    "clinical:plan-part-remove": lambda w, role: [
        {"kind": kind, "public_id": w.pid(own)} for kind, (_, own) in PLAN_PARTS.items()
    ],
    # utilization review
    "clinical:ur-list": episode_id,
    "clinical:ur-create": episode_id,
    "clinical:ur-packet": episode_id,
    "clinical:ur-detail": _by("public_id", "ur_review"),
    "clinical:ur-download": _by("public_id", "ur_review"),
    "clinical:ur-pdf": _by("public_id", "ur_review"),
    "clinical:ur-outcome": _by("public_id", "ur_review"),
    # discharge summaries (the second patient's ended episode)
    "clinical:discharge-start": _by("episode_id", "ended_episode"),
    # aftercare (the second patient's ended episode)
    "aftercare:plan-create": _by("episode_id", "ended_episode"),
    "aftercare:plan-detail": _by("public_id", "aftercare_plan"),
    "aftercare:plan-edit": _by("public_id", "aftercare_plan"),
    "aftercare:component-add": _by("public_id", "aftercare_plan"),
    "aftercare:engagement-log": _by("public_id", "aftercare_plan"),
    "aftercare:component-end": _by("public_id", "aftercare_component"),
    "aftercare:follow-up-attempt": _by("public_id", "follow_up"),
    "aftercare:follow-up-contact": _by("public_id", "follow_up"),
    "aftercare:follow-up-close": _by("public_id", "follow_up"),
    "clinical:discharge-detail": _by("public_id", "discharge_summary"),
    "clinical:discharge-edit": _by("public_id", "discharge_summary"),
    "clinical:discharge-sign": _by("public_id", "discharge_summary"),
    "clinical:discharge-amend": _by("public_id", "discharge_summary"),
    # questionnaires
    "questionnaires:alert-follow-up": _by("public_id", "alert"),
    "questionnaires:patient-scores": patient,
    "questionnaires:response-create": patient,
    "questionnaires:response-detail": _by("public_id", "response"),
    "questionnaires:invitation-list": patient,
    "questionnaires:invitation-revoke": _by("public_id", "invitation"),
    "questionnaires:link-respond": lambda w, role: {"token": w.tokens["link"]},
    "portal:accept": lambda w, role: {"token": w.tokens["portal"]},
    "portal:questionnaire-fill": lambda w, role: {"key": "phq9"},
    "portal:consent-revoke": _by("public_id", "consent"),
    "portal:consent-sign": _by("public_id", "consent_request"),
    "messaging:sms-inbound": lambda w, role: {"token": "matrix-sms-inbound-token"},
    "fhir:type": lambda w, role: {"resource_type": "Patient"},
    "fhir:type-search": lambda w, role: {"resource_type": "Patient"},
    "fhir:instance": lambda w, role: {"resource_type": "Patient", "rid": w.pid("patient")},
    "fhir:everything": lambda w, role: {"rid": w.pid("patient")},
    "fhir:export-kickoff": lambda w, role: {"rid": w.pid("program")},
    "fhir:export-patients": lambda w, role: {},
    "fhir:export-status": lambda w, role: {"job": "00000000-0000-4000-8000-000000000000"},
    "fhir:export-file": lambda w, role: {
        "job": "00000000-0000-4000-8000-000000000000",
        "resource_type": "Patient",
    },
    "portal:aftercare-check-in": _by("public_id", "aftercare_component"),
    "portal:session-join": _by("public_id", "session"),
    "portal:session-leave": _by("public_id", "session"),
    "portal_staff:access": _by("patient_id", "patient"),
    "portal_staff:invite": _by("patient_id", "patient"),
    "portal_staff:disable": _by("public_id", "portal_account"),
    "portal_staff:consent-request-new": _by("patient_id", "patient"),
    "portal_staff:consent-request-withdraw": _by("public_id", "consent_request"),
    "questionnaires:schedule-list": program,
    "questionnaires:schedule-remove": _by("public_id", "schedule"),
    "questionnaires:due-list": program,
    "questionnaires:outcome-change": program,
    # medications
    "medications:medication-list": patient,
    "medications:medication-start": patient,
    "medications:drug-screen-list": patient,
    "medications:medication-change": _by("public_id", "medication"),
    "medications:medication-stop": _by("public_id", "medication"),
    # billing
    "billing:authorization-list": episode_id,
    "billing:authorization-create": episode_id,
    "billing:authorization-edit": _by("public_id", "authorization"),
    "billing:authorization-void": _by("public_id", "authorization"),
    "billing:claim-detail": _by("public_id", "claim"),
    "billing:claim-action": _by("public_id", "claim"),
    "billing:claim-correct": _by("public_id", "claim"),
    "billing:export-detail": _by("public_id", "export_batch"),
    "billing:export-download": _by("public_id", "export_batch"),
    "billing:payer-edit": _by("public_id", "payer"),
    "billing:coverage-list": _by("patient_id", "patient"),
    "billing:coverage-create": _by("patient_id", "patient"),
    "billing:coverage-edit": _by("public_id", "coverage"),
    "billing:certification-create": episode_id,
    "billing:estimate": episode_id,
    # consent
    "consent:consent-list": _by("patient_id", "patient"),
    "consent:consent-create": _by("patient_id", "patient"),
    "consent:disclosure-create": _by("patient_id", "patient"),
    "consent:disclosure-accounting": _by("patient_id", "patient"),
    "consent:break-glass-start": _by("patient_id", "patient"),
    "consent:consent-revoke": _by("public_id", "consent"),
    "consent:consent-expiry-event": _by("public_id", "consent"),
    "consent:disclosure-detail": _by("public_id", "disclosure"),
    "consent:break-glass-review": _by("public_id", "break_glass"),
    # audit
    "audit:patient-access": patient,
    # API
    "api-v1:get_patient": _by("patient_id", "patient"),
    "api-v1:update_patient": _by("patient_id", "patient"),
    "api-v1:list_windows": _by("patient_id", "patient"),
    "api-v1:create_window": _by("patient_id", "patient"),
    "api-v1:get_program": _by("program_id", "program"),
    "api-v1:get_episode": episode_id,
    "api-v1:admit_episode": episode_id,
    "api-v1:hold_episode": episode_id,
    "api-v1:resume_episode": episode_id,
    "api-v1:transfer_episode": episode_id,
    "api-v1:discharge_episode": episode_id,
    "api-v1:get_session": _by("session_id", "session"),
    "api-v1:cancel_session": _by("session_id", "future_session"),
    "api-v1:book_session": _by("session_id", "future_session"),
    "api-v1:record_attendance": _by("session_id", "session"),
    "api-v1:get_referral": _by("referral_id", "referral"),
    "api-v1:create_screening": _by("referral_id", "referral"),
    "api-v1:create_assessment": _by("referral_id", "referral"),
    "api-v1:seat_offers": _by("referral_id", "referral"),
    "api-v1:admit_referral": _by("referral_id", "referral"),
    "api-v1:waitlist_referral": _by("referral_id", "referral"),
    "api-v1:refer_out": _by("referral_id", "referral"),
    "api-v1:close_referral": _by("referral_id", "referral"),
    "api-v1:list_responses": _by("patient_id", "patient"),
    "api-v1:create_response": _by("patient_id", "patient"),
    "api-v1:get_response": _by("response_id", "response"),
    "api-v1:follow_up_alert": _by("alert_id", "alert"),
    "api-v1:list_notes": episode_id,
    "api-v1:create_note": episode_id,
    "api-v1:get_note": _by("note_id", "note"),
    "api-v1:patch_note": _by("note_id", "note"),
    "api-v1:sign_note": lambda w, role: {"note_id": _own_note(w, role)},
    "api-v1:amend_note": _by("note_id", "signed_note"),
    "api-v1:cosign_note": lambda w, role: {"note_id": _cosignable(w, role)},
}


def kwargs_for(name: str, world: World, role: Role | None) -> list[dict[str, Any]]:
    built = KWARGS.get(name, none)(world, role)
    return built if isinstance(built, list) else [built]


# --- query strings ------------------------------------------------------------------------------

QUERY: dict[str, Callable[[World], str]] = {
    # the board builds the chosen program's week on POST (404 without a program)
    "scheduling:board": lambda w: f"?program={w.pid('program')}&week=2026-11-23",
    "clinical:ur-packet": lambda w: "?start=2026-11-02&end=2026-11-19",
    "api-v1:program_compliance": lambda w: f"?week=2026-11-16&program={w.pid('program')}",
    "api-v1:program_waitlist": lambda w: f"?program={w.pid('program')}",
}


# --- JSON bodies of the API's writes ------------------------------------------------------------

DIMENSIONS = {f"d{n}": 1 for n in range(1, 7)} | {f"d{n}_note": "Seen" for n in range(1, 7)}
FLAGS = dict.fromkeys(
    ("needs_detox_now", "needs_24h_supervision", "toxic_home", "harmful_environment",
     "serious_co_occurring", "medically_unstable"),
    False,
)  # fmt: skip

BODY: dict[str, Callable[[World, Role | None], dict[str, Any]]] = {
    "api-v1:create_patient": lambda w, r: {
        "first_name": "Matrix",
        "last_name": "Probe",
        "date_of_birth": "1990-01-01",
    },
    "api-v1:update_patient": lambda w, r: {"phone": "555-0199"},
    "api-v1:create_window": lambda w, r: {"weekday": 0, "start_time": "09:00", "end_time": "10:00"},
    "api-v1:create_episode": lambda w, r: {
        "patient": w.pid("former_patient"),
        "program": w.pid("program"),
    },
    "api-v1:admit_episode": lambda w, r: {"admitted_on": "2026-11-20"},
    "api-v1:hold_episode": lambda w, r: {"effective_on": "2026-11-20", "reason": "Travel"},
    "api-v1:resume_episode": lambda w, r: {"effective_on": "2026-11-20"},
    "api-v1:transfer_episode": lambda w, r: {
        "to_program": w.pid("program"),
        "effective_on": "2026-11-20",
    },
    "api-v1:discharge_episode": lambda w, r: {"discharged_on": "2026-11-20", "reason": 1},
    "api-v1:create_session": lambda w, r: {
        "program": w.pid("program"),
        "title": "Extra group",
        "starts_at": "2026-11-24T18:00:00-05:00",
        "ends_at": "2026-11-24T21:00:00-05:00",
    },  # fmt: skip
    "api-v1:cancel_session": lambda w, r: {"reason": "Snow"},
    "api-v1:book_session": lambda w, r: {"episode": w.pid("episode")},
    "api-v1:record_attendance": lambda w, r: {
        "entries": [{"patient": w.pid("patient"), "status": "present"}]
    },
    "api-v1:evaluate": lambda w, r: {},
    "api-v1:create_referral": lambda w, r: {
        "first_name": "New",
        "last_name": "Caller",
        "received_on": "2026-11-20",
        "phone": "555-0177",
    },  # fmt: skip
    "api-v1:create_screening": lambda w, r: {},
    "api-v1:create_assessment": lambda w, r: {
        "assessed_on": "2026-11-20",
        "criteria_edition": "4",
        "chosen_level": "2.1",
        **DIMENSIONS,
        **FLAGS,
    },  # fmt: skip
    "api-v1:admit_referral": lambda w, r: {
        "program": w.pid("program"),
        "admitted_on": "2026-11-23",
        "consent_signed_by": "Robin Hale",
    },  # fmt: skip
    "api-v1:waitlist_referral": lambda w, r: {"program": w.pid("program")},
    "api-v1:refer_out": lambda w, r: {"to": "County outpatient clinic"},
    "api-v1:close_referral": lambda w, r: {"status": "declined", "note": "Chose another clinic"},
    "api-v1:create_response": lambda w, r: {"instrument": "gad7", "answers": [0] * 7},
    "api-v1:follow_up_alert": lambda w, r: {"note": "Called; safe; plan reviewed."},
    "api-v1:create_note": lambda w, r: {"kind": "individual"},
    "api-v1:patch_note": lambda w, r: {"version": w["note"].version},
    "api-v1:sign_note": lambda w, r: {
        "version": (w[f"own_note:{r.value}"] if r in WRITERS else w["note"]).version
    },
    "api-v1:amend_note": lambda w, r: {"reason": "Corrected the date", "sections": {"data": "x"}},
    "api-v1:cosign_note": lambda w, r: {"comment": "Reviewed."},
}
