"""T2 (security.md), BOPLA / mass assignment: fields a client must never set (organization,
patient, author, signature, status, version, ids, roles) are refused by the JSON API (422,
unknown field) and ignored by the HTML forms; either way the stored values stay as they were."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import api_client, login, make_user
from openiop.accounts.permissions import Role
from openiop.core.tests.sec_checks import db_fingerprint, fingerprint_diff
from openiop.core.tests.sec_world import NOW, World, build_world, sentinel_text

ALL_ROLES = tuple(Role)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def foreign(other_org, outsider) -> World:
    return build_world(other_org, sentinel_text("Zqxsent"), staff=outsider, tag="f")


@pytest.fixture
def mine(org) -> World:
    return build_world(org, sentinel_text("Mymark"), tag="m")


@pytest.fixture
def boss(org):
    return make_user("boss", org, *ALL_ROLES)


def _send(client, method: str, url: str, body: dict):
    return getattr(client, method.lower())(url, json.dumps(body), content_type="application/json")


def _forbidden_fields(mine: World, foreign: World) -> dict[str, object]:
    """Each smuggled field with a value that would do harm if it were taken."""
    return {
        "organization": foreign.org.pk,
        "organization_id": foreign.org.pk,
        "patient": str(foreign.id("patient")),
        "patient_id": str(foreign.id("patient")),
        "author": str(foreign.staff.public_id),
        "author_id": foreign.staff.pk,
        "created_by": foreign.staff.pk,
        "signed_at": "2026-11-19T10:00:00-05:00",
        "signed_by": str(foreign.staff.public_id),
        "status": "signed",
        "public_id": str(foreign.id("patient")),
        "id": str(foreign.id("patient")),
        "pk": foreign.patient.pk,
        "mrn": "HIJACK-1",
        "version": 99,
        "role": "admin",
        "roles": ["admin"],
        "is_staff": True,
        "is_superuser": True,
        "episode": str(foreign.id("episode")),
        "clinic_id": foreign.org.pk,
    }


# (method, url builder, a body the endpoint accepts, fields that body already uses legitimately)
def _api_cases(w: World) -> list[tuple[str, str, dict, set[str]]]:
    note = w.note_birp
    return [
        ("PATCH", f"/api/v1/patients/{w.id('patient')}", {"phone": "555-0199"}, set()),
        ("POST", "/api/v1/patients",
         {"first_name": "New", "last_name": "Person", "date_of_birth": "1990-01-01"}, {"mrn"}),
        ("POST", f"/api/v1/patients/{w.id('patient')}/unavailable-windows",
         {"weekday": 3, "start_time": "08:00", "end_time": "12:00"}, set()),
        ("POST", "/api/v1/episodes",
         {"patient": str(w.id("patient3")), "program": str(w.id("program"))}, {"patient"}),
        ("POST", f"/api/v1/episodes/{w.id('episode')}/hold",
         {"effective_on": "2026-11-20", "reason": "Hospital"}, set()),
        ("POST", "/api/v1/sessions",
         {"program": str(w.id("program")), "title": "G", "starts_at": "2026-11-25T18:00:00-05:00",
          "ends_at": "2026-11-25T21:00:00-05:00"}, set()),
        ("POST", f"/api/v1/sessions/{w.id('next_session')}/cancel", {"reason": "Snow"}, set()),
        ("POST", "/api/v1/referrals",
         {"first_name": "A", "last_name": "B", "received_on": "2026-11-20", "phone": "555"},
         {"patient"}),
        ("POST", f"/api/v1/patients/{w.id('patient')}/questionnaire-responses",
         {"instrument": "gad7", "answers": [0] * 7}, {"episode"}),
        ("POST", f"/api/v1/alerts/{w.id('alert_open')}/follow-up", {"note": "Called"}, set()),
        ("POST", f"/api/v1/episodes/{w.id('episode')}/notes", {"kind": "individual"}, set()),
        ("PATCH", f"/api/v1/notes/{note.public_id}",
         {"version": note.version, "sections": {"behavior": "Calm"}}, {"version"}),
        ("POST", f"/api/v1/notes/{note.public_id}/sign", {"version": note.version}, {"version"}),
        ("POST", f"/api/v1/notes/{w.id('note_soap')}/amendments",
         {"reason": "Typo", "sections": {"plan": "Fixed"}}, set()),
        ("POST", f"/api/v1/notes/{w.id('note_dap')}/cosign", {"comment": "Seen"}, set()),
    ]  # fmt: skip


def test_api_refuses_every_smuggled_field_and_stores_nothing(boss, mine, foreign):
    """One field at a time, on every writing endpoint: 422 naming the field, no row changed."""
    client = api_client(boss)
    fields = _forbidden_fields(mine, foreign)
    failures = []
    before = db_fingerprint()
    for method, url, body, legit in _api_cases(mine):
        for name, value in fields.items():
            if name in legit:
                continue
            response = _send(client, method, url, {**body, name: value})
            after = db_fingerprint()
            changed = fingerprint_diff(before, after)
            before = after
            if response.status_code != 422:
                failures.append(f"{method} {url} +{name}: HTTP {response.status_code}")
            elif name not in response.content.decode():
                failures.append(f"{method} {url} +{name}: the error does not name the field")
            if changed:
                failures.append(f"{method} {url} +{name}: changed {changed}")
    assert not failures, "\n".join(failures)


def test_api_note_patch_cannot_sign_reassign_or_move_a_draft(boss, mine):
    """Even with a correct version, a PATCH changes sections and times only."""
    note = mine.note_birp
    before = (note.status, note.author_id, note.patient_id, note.episode_id, note.kind)
    response = _send(api_client(boss), "PATCH", f"/api/v1/notes/{note.public_id}", {
        "version": note.version, "sections": {"behavior": "Calm"}, "status": "signed",
    })  # fmt: skip
    assert response.status_code == 422
    note.refresh_from_db()
    assert (note.status, note.author_id, note.patient_id, note.episode_id, note.kind) == before
    assert note.sections["behavior"] != "Calm"


# --- HTML edit forms ------------------------------------------------------------------------------


def _extras(mine: World, foreign: World) -> dict[str, object]:
    fields = _forbidden_fields(mine, foreign)
    return {k: v for k, v in fields.items() if k != "version"}


def test_patient_edit_ignores_extra_fields(boss, mine, foreign):
    from openiop.patients.models import Patient
    from openiop.patients.services import PATIENT_FIELDS

    patient = Patient.objects.get(pk=mine.patient.pk)
    data = {name: getattr(patient, name) or "" for name in PATIENT_FIELDS}
    data.update(date_of_birth="1988-04-12", phone="555-0142", **_extras(mine, foreign))
    url = reverse("patients:patient-edit", args=[patient.public_id])
    response = login(Client(), boss).post(url, data)
    assert response.status_code == 302
    after = Patient.objects.get(pk=patient.pk)
    assert after.phone == "555-0142"  # the real change went through
    assert (after.organization_id, after.public_id, after.mrn, after.created_by_id) == (
        patient.organization_id, patient.public_id, patient.mrn, patient.created_by_id,
    )  # fmt: skip


def test_program_edit_ignores_extra_fields(boss, mine, foreign):
    from openiop.organizations.models import Program

    program = Program.objects.get(pk=mine.program.pk)
    data = {
        "weekly_min_hours": "9.0", "weekly_max_hours": "18.0", "min_days_per_week": "3",
        "typical_session_minutes": "180", "typical_length_weeks": "8", "group_size_cap": "10",
        "min_age": "18", "max_age": "", "is_active": "on",
        "name": "Hijacked", "site": foreign.site.pk, "note_format": "SOAP",
        "level_of_care": "3.7", **_extras(mine, foreign),
    }  # fmt: skip
    url = reverse("organizations:program-edit", args=[program.public_id])
    response = login(Client(), boss).post(url, data)
    assert response.status_code in (200, 302)
    after = Program.objects.get(pk=program.pk)
    assert (after.name, after.site_id, after.organization_id, after.public_id) == (
        program.name, program.site_id, program.organization_id, program.public_id,
    )  # fmt: skip
    assert (after.note_format, after.level_of_care) == (program.note_format, program.level_of_care)


def test_note_edit_cannot_sign_or_reassign_the_draft(boss, mine, foreign):
    from openiop.clinical.models import Note

    note = Note.objects.get(pk=mine.note_birp.pk)
    data = {
        "version": note.version, "modality": "video", "day": "2026-11-12",
        "start_time": "10:00", "end_time": "10:50",
        **{f"s_{name}": f"Edited {name}" for name in note.section_names},
        "kind": "sud_counseling", "format": "DAP", "cosign_required": "", "amends": "",
        "signed_by": foreign.staff.pk, **_extras(mine, foreign),
    }  # fmt: skip
    url = reverse("clinical:note-edit", args=[note.public_id])
    login(Client(), mine.staff).post(url, data)
    after = Note.objects.get(pk=note.pk)
    assert after.sections["behavior"] == "Edited behavior"  # the real change went through
    assert after.status == Note.Status.DRAFT and after.signed_at is None
    assert (after.author_id, after.patient_id, after.episode_id, after.kind, after.format) == (
        note.author_id, note.patient_id, note.episode_id, note.kind, note.format,
    )  # fmt: skip
    assert after.organization_id == note.organization_id and after.public_id == note.public_id


def test_discharge_edit_cannot_sign_or_move_the_summary(boss, mine, foreign):
    from openiop.clinical.models import DischargeSummary

    summary = DischargeSummary.objects.get(pk=mine.discharge.pk)
    data = {
        "version": summary.version, "progress_narrative": "Edited", "medications": "",
        "aftercare_plan": "", "referrals": "", "risk_at_discharge": "", "recommendations": "",
        "due_on": "2027-01-01", "reason_code": "2", **_extras(mine, foreign),
    }  # fmt: skip
    url = reverse("clinical:discharge-edit", args=[summary.public_id])
    login(Client(), mine.staff).post(url, data)
    after = DischargeSummary.objects.get(pk=summary.pk)
    assert after.progress_narrative == "Edited"
    assert after.status == "draft" and after.signed_at is None
    assert (after.author_id, after.patient_id, after.episode_id, after.due_on,
            after.reason_code) == (summary.author_id, summary.patient_id, summary.episode_id,
                                   summary.due_on, summary.reason_code)  # fmt: skip


def test_plan_edit_cannot_activate_or_sign_the_draft(boss, mine, foreign):
    from openiop.clinical.models import TreatmentPlan

    plan = TreatmentPlan.objects.get(pk=mine.draft_plan.pk)
    data = {
        "strengths": "Edited", "barriers": "", "review_interval": "30", "review_unit": "days",
        "clinician_signed_by": foreign.staff.pk, "patient_signature": "Forged",
        "next_review_on": "2030-01-01", **_extras(mine, foreign),
    }  # fmt: skip
    login(Client(), mine.staff).post(reverse("clinical:plan-edit", args=[plan.public_id]), data)
    after = TreatmentPlan.objects.get(pk=plan.pk)
    assert after.strengths == "Edited"
    assert after.status == "draft" and after.clinician_signed_at is None
    assert after.patient_signature == "" and after.next_review_on == plan.next_review_on
    assert (after.episode_id, after.patient_id, after.version) == (
        plan.episode_id, plan.patient_id, plan.version,
    )  # fmt: skip


def test_authorization_edit_cannot_move_it_to_another_episode(boss, mine, foreign):
    from openiop.billing.models import Authorization

    auth = Authorization.objects.get(pk=mine.authorization.pk)
    data = {
        "payer_name": "Edited payer", "auth_number": "A-1", "level_of_care": "2.1",
        "service_code": "H0015", "unit_kind": "days", "units_authorized": "20",
        "start_on": "2026-11-02", "end_on": "2026-12-31", "status": "active",
        "alert_units_remaining": "2", "alert_days_before_end": "7", "notes": "",
        "recorded_by": foreign.staff.pk,
        **{k: v for k, v in _extras(mine, foreign).items() if k != "status"},  # a real field
    }  # fmt: skip
    url = reverse("billing:authorization-edit", args=[auth.public_id])
    login(Client(), boss).post(url, data)
    after = Authorization.objects.get(pk=auth.pk)
    assert after.payer_name == "Edited payer"
    assert (after.episode_id, after.patient_id, after.organization_id, after.recorded_by_id) == (
        auth.episode_id, auth.patient_id, auth.organization_id, auth.recorded_by_id,
    )  # fmt: skip


def test_break_glass_cannot_choose_its_own_window_or_user(boss, mine, foreign):
    from openiop.consent.models import BreakGlassAccess

    url = reverse("consent:break-glass-start", args=[mine.id("patient3")])
    login(Client(), boss).post(url, {
        "reason": "Patient collapsed in the lobby; ER asks about current medications.",
        "expires_at": "2030-01-01T00:00", "started_at": "2026-01-01T00:00",
        "user": foreign.staff.pk, "reviewed_at": "2026-11-20T10:00", "review_note": "fine",
        **_extras(mine, foreign),
    })  # fmt: skip
    access = BreakGlassAccess.objects.get(patient=mine.patient3)
    assert access.user_id == boss.pk and access.reviewed_at is None
    assert access.started_at == NOW and (access.expires_at - access.started_at).seconds <= 3600


def test_alert_follow_up_records_the_real_user(boss, mine, foreign):
    from openiop.questionnaires.models import ClinicalAlert

    alert = mine.alert_open
    url = reverse("questionnaires:alert-follow-up", args=[alert.public_id])
    login(Client(), boss).post(url, {
        "note": "Called; safe", "followed_up_by": foreign.staff.pk,
        "followed_up_at": "2026-01-01T00:00", "assigned_to": foreign.staff.pk,
        **_extras(mine, foreign),
    })  # fmt: skip
    after = ClinicalAlert.objects.get(pk=alert.pk)
    assert after.followed_up_by_id == boss.pk and after.followed_up_at == NOW
    assert (after.assigned_to_id, after.patient_id) == (alert.assigned_to_id, alert.patient_id)


def test_forms_posting_to_a_signed_record_change_nothing(boss, mine, foreign):
    """Edit URLs of signed documents (a signed note, an active plan's parts) write nothing,
    whatever is posted."""
    client = login(Client(), mine.staff)
    before = db_fingerprint()
    note = mine.note_dap
    client.post(reverse("clinical:note-edit", args=[note.public_id]), {
        "version": note.version, "s_data": "Rewritten", "status": "draft",
    })  # fmt: skip
    client.post(reverse("clinical:note-autosave", args=[note.public_id]), {
        "version": note.version, "s_data": "Rewritten",
    })  # fmt: skip
    client.post(reverse("clinical:plan-part-edit", args=["goal", mine.id("goal")]), {
        "text": "Rewritten goal",
    })  # fmt: skip
    client.post(reverse("clinical:plan-part-remove", args=["goal", mine.id("goal")]))
    client.post(reverse("clinical:plan-part-remove", args=["problem", mine.id("problem")]))
    changed = [t for t in fingerprint_diff(before, db_fingerprint())]
    assert not changed, f"a signed record changed: {changed}"


# Form fields that name a stored object (a program, a member of staff, an episode, ...).
OBJECT_FIELDS = {
    "program", "to_program", "primary_counselor", "prescriber", "responsible", "authorization",
    "facilitators", "room", "episode", "series", "chosen_program", "program_requested",
    "confirms", "patient", "session", "payer",
}  # fmt: skip


class _Options(HTMLParser):
    """(field name, value) of every option / checkbox / hidden input of an object field."""

    def __init__(self) -> None:
        super().__init__()
        self.select: str | None = None
        self.values: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = (a.get("name") or "").rsplit("-", 1)[-1]
        if tag == "select":
            self.select = name
        elif tag == "option" and self.select in OBJECT_FIELDS and a.get("value"):
            self.values.append((self.select, a["value"]))
        elif tag == "input" and name in OBJECT_FIELDS and a.get("value"):
            self.values.append((name, a["value"]))

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None


def test_no_form_names_an_object_by_its_integer_primary_key(boss, mine):
    """DESIGN §4: integer primary keys never leave the database. Select options, checkboxes
    and hidden fields name objects by public id (a pk is sequential and guessable)."""
    client = login(Client(), boss)
    pages = [
        reverse("enrollment:episode-create", args=[mine.id("patient3")]),
        reverse("enrollment:episode-detail", args=[mine.id("episode")]),
        reverse("placement:referral-create"),
        reverse("placement:referral-admit", args=[mine.id("referral")]),
        reverse("placement:assessment-create", args=[mine.id("referral")]),
        reverse("clinical:plan-part-add", args=["intervention", mine.id("draft_objective")]),
        reverse("clinical:ur-create", args=[mine.id("episode")]),
        reverse("medications:medication-list", args=[mine.id("patient")]),
        reverse("medications:drug-screen-list", args=[mine.id("patient")]),
        reverse("scheduling:session-create"),
        reverse("scheduling:series-create"),
        reverse("scheduling:session-detail", args=[mine.id("next_session")]),
        reverse("scheduling:attendance-record", args=[mine.id("session")]),
        reverse("billing:authorization-create", args=[mine.id("episode")]),
    ]
    failures = []
    for url in pages:
        parser = _Options()
        parser.feed(client.get(url).content.decode())
        failures += [f"{url}: {name}={value}" for name, value in parser.values if value.isdigit()]
    assert not failures, "\n".join(sorted(set(failures)))
