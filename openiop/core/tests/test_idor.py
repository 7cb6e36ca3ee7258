"""T2 (security.md): object-level authorization and tenant isolation.

Another organization's objects (a whole clinic's record, built by ``sec_world``, with a sentinel
in every text field) are requested by a member of staff holding every role in ``org``: every URL
and API endpoint that names an object answers 404 (not 403), shows none of the sentinels, and
writes nothing (row counts and a SHA-256 of every domain table are compared before and after).
The same holds for ids smuggled in a form or a JSON body (the CVE shapes: a hidden field, a select
option, a body ``id``), for integer primary keys where a UUID is expected, and for a counselor
reaching a patient of their own organization outside their caseload.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import api_client, login, make_user
from openiop.accounts.permissions import Role
from openiop.core.tests.sec_checks import db_fingerprint, fingerprint_diff
from openiop.core.tests.sec_urls import (
    API_PARAMS,
    CAPABILITY_URLS,
    OBJECT_URLS,
    api_operations,
    api_path,
    plan_part_urls,
    url_for,
    walk_urls,
)
from openiop.core.tests.sec_world import NOW, World, build_world, sentinel_text

SENTINEL = "Zqxsent"  # in every text field of the foreign organization's record
MINE = "Mymark"  # in every text field of our own organization's world
ALL_ROLES = tuple(Role)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _no_background_solver(monkeypatch):
    from openiop.scheduling import week

    monkeypatch.setattr(week, "start_background_solve", lambda draft: None)


@pytest.fixture
def foreign(other_org, outsider) -> World:
    """Lakeside's whole record, written by its program director (the outsider persona)."""
    return build_world(other_org, sentinel_text(SENTINEL), staff=outsider, tag="f")


@pytest.fixture
def mine(org) -> World:
    return build_world(org, sentinel_text(MINE), tag="m")


@pytest.fixture
def boss(org):
    """A member of staff of ``org`` with every role: nothing is refused for lack of a role."""
    return make_user("boss", org, *ALL_ROLES)


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _leaks(response, sentinel: str = SENTINEL) -> bool:
    return sentinel.lower() in _body(response).lower()


class Checker:
    """Sends requests, and collects every broken expectation with its URL (one test, every URL).

    ``forbidden``: text that must not appear in any response (case-insensitive)."""

    def __init__(self, client: Client, forbidden: str | tuple[str, ...] = SENTINEL) -> None:
        self.client = client
        self.forbidden = (forbidden,) if isinstance(forbidden, str) else forbidden
        self.failures: list[str] = []
        self.baseline = db_fingerprint()  # compared after every request

    def request(self, method: str, url: str, expect: set[int], data=None, **extra):
        session = dict(self.client.session)
        if method == "GET":
            response = self.client.get(url, data or {}, **extra)
        elif method in ("POST", "PATCH"):
            if extra.pop("json", False):
                response = getattr(self.client, method.lower())(
                    url, json.dumps(data or {}), content_type="application/json", **extra
                )
            else:
                response = self.client.post(url, data or {}, **extra)
        else:
            raise ValueError(method)
        where = f"{method} {url}"
        if response.status_code not in expect:
            self.failures.append(f"{where}: HTTP {response.status_code}, expected {sorted(expect)}")
        shown = [f for f in self.forbidden if _leaks(response, f)]
        if shown:
            self.failures.append(f"{where}: the body shows {', '.join(shown)}")
        after = db_fingerprint()
        changed = fingerprint_diff(self.baseline, after)
        if changed:
            self.failures.append(f"{where}: tables changed: {', '.join(changed)}")
            self.baseline = after
        if dict(self.client.session) != session:
            self.failures.append(f"{where}: the session changed")
        return response

    def assert_ok(self) -> None:
        assert not self.failures, "\n".join(self.failures)


def _checker(user, forbidden: str | tuple[str, ...] = SENTINEL) -> Checker:
    return Checker(login(Client(raise_request_exception=False), user), forbidden)


# --- completeness -------------------------------------------------------------------------------


def test_every_url_that_names_an_object_is_covered():
    """A new URL with a path parameter fails here until it gets a row in ``sec_urls``."""
    missing = [name for name, params in walk_urls() if params and name not in OBJECT_URLS]
    assert not missing, f"add these to sec_urls.OBJECT_URLS: {missing}"
    stale = set(OBJECT_URLS) - {name for name, _ in walk_urls()}
    assert not stale
    api_missing = {p for *_, params in api_operations() for p in params} - set(API_PARAMS)
    assert not api_missing, f"add these to sec_urls.API_PARAMS: {api_missing}"


def test_the_fingerprint_sees_any_write(mine):
    """The "DB unchanged" checks below would catch a write: one changed field shows."""
    from openiop.patients.models import Patient

    before = db_fingerprint()
    assert fingerprint_diff(before, db_fingerprint()) == []
    Patient.objects.filter(pk=mine.patient.pk).update(phone="555-0000")
    assert fingerprint_diff(before, db_fingerprint()) == ["patients_patient"]


# --- another organization's objects, by URL ---------------------------------------------------


def test_another_organizations_objects_are_404_on_every_page(boss, foreign):
    check = _checker(boss)
    urls = [url_for(foreign, n) for n in OBJECT_URLS if n not in CAPABILITY_URLS]
    urls += plan_part_urls(foreign)
    # Printable and downloadable variants (CVE #5: the print view forgot the check).
    period = "?start=2026-11-02&end=2026-11-15"
    urls += [
        url_for(foreign, "consent:disclosure-detail") + "?print=1",
        url_for(foreign, "clinical:ur-packet") + period,
        url_for(foreign, "clinical:ur-packet") + period + "&download=html",
        url_for(foreign, "clinical:ur-detail") + "?download=html",
    ]
    for url in urls:
        # 405: the method is not served there at all (nothing is looked up, nothing shown).
        get = check.request("GET", url, {404, 405})
        post = check.request("POST", url, {404, 405})
        if 404 not in (get.status_code, post.status_code):
            check.failures.append(f"{url}: neither GET nor POST looked the object up (no 404)")
    check.assert_ok()
    assert len(urls) > 100


def test_mixed_urls_with_one_foreign_part_are_404(boss, mine, foreign):
    """Our draft with their patient; our plan-part kind with their parent; and so on."""
    check = _checker(boss)
    ours_theirs = [
        reverse("scheduling:board-pin", args=[mine.id("draft"), foreign.id("patient")]),
        reverse("scheduling:board-pin", args=[foreign.id("draft"), mine.id("patient")]),
        reverse("clinical:plan-part-add", args=["problem", foreign.id("draft_plan")]),
        reverse("clinical:plan-part-add", args=["intervention", foreign.id("draft_objective")]),
    ]
    for url in ours_theirs:
        check.request("POST", url, {404}, data={"blocks": ["b1"]})
    # A part id under another kind's name is not found either (no type confusion).
    for kind in ("goal", "plan"):
        url = reverse("clinical:plan-part-edit", args=[kind, mine.id("problem")])
        check.request("GET", url, {404})
    check.assert_ok()


def test_list_pages_filtered_by_a_foreign_id_show_nothing_of_it(boss, foreign):
    check = _checker(boss)
    program, patient = foreign.id("program"), foreign.id("patient")
    for url in [
        f"{reverse('scheduling:session-list')}?program={program}&week=2026-11-09",
        f"{reverse('scheduling:board')}?program={program}&week=2026-11-23",
        f"{reverse('placement:waitlist')}?program={program}",
        f"{reverse('placement:intake-report')}?program={program}",
        f"{reverse('audit:event-list')}?patient={patient}",
        f"{reverse('audit:event-export')}?patient={patient}",
        # (searched by a word of their names, not the sentinel: the search box echoes the query)
        f"{reverse('patients:patient-list')}?q=First",
        f"{reverse('placement:referral-list')}?q=RefFirst&status=all",
    ]:
        check.request("GET", url, {200, 400, 404})
    check.request("POST", f"{reverse('scheduling:board')}?program={program}", {404})
    check.assert_ok()


def test_capability_links_of_another_organization_only_work_with_their_token(client, foreign):
    """The feed and questionnaire links are their own credential (no login): a made-up token is
    a 404 showing nothing."""
    from openiop.core.url_policy import POLICY

    for name in CAPABILITY_URLS:
        url = reverse(name, kwargs={"token": "x" * 43})
        response = client.get(url) if "GET" in POLICY[name] else client.post(url)
        assert response.status_code == 404 and not _leaks(response)


# --- sequential ids ---------------------------------------------------------------------------


def test_integer_and_sequential_ids_are_404_never_500(boss, foreign):
    check = _checker(boss)
    patient = foreign.patient
    for value in (patient.pk, 1, 0, -1, "00000000-0000-0000-0000-000000000001",
                  str(uuid.UUID(int=patient.pk)), "1 OR 1=1", "%00"):  # fmt: skip
        check.request("GET", f"/patients/{value}/", {404})
        check.request("GET", f"/clinical/notes/{value}/", {404})
        check.request("GET", f"/api/v1/patients/{value}", {404, 422})
        check.request("GET", f"/api/v1/notes/{value}", {404, 422})
    check.assert_ok()


# --- the JSON API ---------------------------------------------------------------------------------


def _api_bodies(w: World) -> dict[str, dict]:
    """A body each operation would accept (ids of ``w`` where the body names an object)."""
    today = "2026-11-20"
    return {
        "update_patient": {"first_name": "Changed"},
        "create_window": {"weekday": 2, "start_time": "08:00", "end_time": "12:00"},
        "admit_episode": {"admitted_on": today},
        "hold_episode": {"effective_on": today, "reason": "Hospital stay"},
        "resume_episode": {"effective_on": today},
        "transfer_episode": {"to_program": str(w.id("program2")), "effective_on": today},
        "discharge_episode": {"discharged_on": today, "reason": 1},
        "cancel_session": {"reason": "Snow day"},
        "book_session": {"episode": str(w.id("episode"))},
        "record_attendance": {"entries": [{"patient": str(w.id("patient")), "status": "present"}]},
        "create_screening": {"substances": ["alcohol"]},
        "create_assessment": {
            "assessed_on": today,
            "criteria_edition": "3",
            "chosen_level": "2.1",
            **{f"d{n}": 1 for n in range(1, 7)},
            **{f"d{n}_note": "Because" for n in range(1, 7)},
            **{
                k: False
                for k in (
                    "needs_detox_now",
                    "needs_24h_supervision",
                    "toxic_home",
                    "harmful_environment",
                    "serious_co_occurring",
                    "medically_unstable",
                )
            },
        },  # fmt: skip
        "admit_referral": {
            "program": str(w.id("program")),
            "admitted_on": today,
            "consent_signed_by": "Pat",
        },
        "waitlist_referral": {"program": str(w.id("program"))},
        "refer_out": {"to": "County detox"},
        "close_referral": {"status": "declined", "note": "Declined"},
        "create_response": {"instrument": "gad7", "answers": [0, 0, 0, 0, 0, 0, 0]},
        "follow_up_alert": {"note": "Called, safe"},
        "create_note": {"kind": "individual"},
        "patch_note": {"version": 2, "sections": {"behavior": "Changed"}},
        "sign_note": {"version": 2},
        "amend_note": {"reason": "Typo", "sections": {"plan": "Changed"}},
        "cosign_note": {"comment": "Seen"},
    }


def test_another_organizations_objects_are_404_on_every_api_endpoint(boss, foreign):
    check = Checker(api_client(boss))
    bodies = _api_bodies(foreign)
    ids = {param: foreign.id(name) for param, name in API_PARAMS.items()}
    covered = 0
    for method, template, name, params in api_operations():
        if not params:
            continue
        url = api_path(template, {p: ids[p] for p in params})
        if method == "GET":
            response = check.request("GET", url, {404})
        else:
            response = check.request(method, url, {404}, data=bodies.get(name, {}), json=True)
        assert response["Content-Type"].startswith("application/json"), url
        covered += 1
    check.assert_ok()
    assert covered >= 30


def test_api_list_filters_with_foreign_ids_show_nothing(boss, mine, foreign):
    check = Checker(api_client(boss))
    program, patient = foreign.id("program"), foreign.id("patient")
    for url in [
        f"/api/v1/episodes?program={program}",
        f"/api/v1/episodes?patient={patient}",
        f"/api/v1/sessions?program={program}",
        f"/api/v1/compliance?program={program}&week=2026-11-16",
        f"/api/v1/waitlist?program={program}",
        f"/api/v1/referrals/{mine.id('referral')}/seat-offers?program={program}",
        f"/api/v1/patients?q={SENTINEL}",
        f"/api/v1/referrals?q={SENTINEL}",
        "/api/v1/patients",
        "/api/v1/episodes",
        "/api/v1/sessions?date_from=2026-11-01&date_to=2026-11-30",
        "/api/v1/referrals",
        "/api/v1/alerts",
        "/api/v1/programs",
    ]:
        check.request("GET", url, {200, 400, 404})
    check.assert_ok()


# --- ids smuggled in a body (the CVE shapes) ---------------------------------------------------


def test_api_bodies_naming_another_organizations_objects_are_refused(boss, mine, foreign):
    """Each body is valid except for one foreign id: a 4xx, nothing written, nothing shown."""
    check = Checker(api_client(boss))
    theirs = foreign.id
    ours = mine.id
    refused = {400, 404, 422}
    cases = [
        ("/api/v1/episodes", {"patient": str(theirs("patient")), "program": str(ours("program"))}),
        ("/api/v1/episodes", {"patient": str(ours("patient3")), "program": str(theirs("program"))}),
        ("/api/v1/episodes", {"patient": str(ours("patient3")), "program": str(ours("program")),
                              "primary_counselor": str(foreign.staff.public_id)}),
        (f"/api/v1/episodes/{ours('episode')}/transfer",
         {"to_program": str(theirs("program2")), "effective_on": "2026-11-20"}),
        (f"/api/v1/episodes/{ours('episode')}/transfer",
         {"to_program": str(ours("program2")), "effective_on": "2026-11-20",
          "primary_counselor": str(foreign.staff.public_id)}),
        ("/api/v1/sessions", {"program": str(theirs("program")), "title": "Group",
                              "starts_at": "2026-11-25T18:00:00-05:00",
                              "ends_at": "2026-11-25T21:00:00-05:00"}),
        ("/api/v1/sessions", {"program": str(ours("program")), "title": "Group",
                              "starts_at": "2026-11-25T18:00:00-05:00",
                              "ends_at": "2026-11-25T21:00:00-05:00",
                              "room": str(theirs("room"))}),
        ("/api/v1/sessions", {"program": str(ours("program")), "title": "Group",
                              "starts_at": "2026-11-25T18:00:00-05:00",
                              "ends_at": "2026-11-25T21:00:00-05:00",
                              "facilitators": [str(foreign.staff.public_id)]}),
        (f"/api/v1/sessions/{ours('next_session')}/bookings", {"episode": str(theirs("episode"))}),
        (f"/api/v1/sessions/{ours('session')}/attendance",
         {"entries": [{"patient": str(theirs("patient")), "status": "present"}]}),
        ("/api/v1/referrals", {"first_name": "A", "last_name": "B", "received_on": "2026-11-20",
                               "phone": "555", "program_requested": str(theirs("program"))}),
        ("/api/v1/referrals", {"first_name": "A", "last_name": "B", "received_on": "2026-11-20",
                               "phone": "555", "patient": str(theirs("patient"))}),
        (f"/api/v1/referrals/{ours('referral')}/admit",
         {"program": str(theirs("program")), "admitted_on": "2026-11-20",
          "consent_signed_by": "Pat"}),
        (f"/api/v1/referrals/{ours('referral')}/admit",
         {"program": str(ours("program")), "admitted_on": "2026-11-20",
          "consent_signed_by": "Pat", "series": [str(theirs("series"))]}),
        (f"/api/v1/referrals/{ours('referral')}/admit",
         {"program": str(ours("program")), "admitted_on": "2026-11-20",
          "consent_signed_by": "Pat", "primary_counselor": str(foreign.staff.public_id)}),
        (f"/api/v1/referrals/{ours('referral')}/waitlist", {"program": str(theirs("program"))}),
        (f"/api/v1/referrals/{ours('referral')}/assessments",
         {**_api_bodies(mine)["create_assessment"], "chosen_program": str(theirs("program"))}),
        (f"/api/v1/patients/{ours('patient')}/questionnaire-responses",
         {"instrument": "gad7", "answers": [0] * 7, "episode": str(theirs("episode"))}),
    ]  # fmt: skip
    for url, body in cases:
        response = check.request("POST", url, refused, data=body, json=True)
        assert response["Content-Type"].startswith("application/json"), url
    check.assert_ok()


def test_a_body_id_never_turns_a_create_into_an_update(boss, mine, foreign):
    """A body ``id`` (or ``public_id``) naming someone else's row is refused as an unknown field;
    the row is untouched."""
    check = Checker(api_client(boss))
    patient = {"first_name": "New", "last_name": "Person", "date_of_birth": "1990-01-01"}
    theirs = str(foreign.id("patient"))
    for key in ("id", "public_id", "pk"):
        check.request("POST", "/api/v1/patients", {422}, data={**patient, key: theirs}, json=True)
        check.request(
            "POST", f"/api/v1/episodes/{mine.id('episode')}/notes", {422},
            data={"kind": "individual", key: str(foreign.id("note_birp"))}, json=True,
        )  # fmt: skip
        check.request(
            "POST", f"/api/v1/patients/{mine.id('patient')}/unavailable-windows", {422},
            data={"weekday": 2, "start_time": "08:00", "end_time": "12:00",
                  key: str(foreign.id("window"))}, json=True,
        )  # fmt: skip
    check.assert_ok()


def test_html_create_forms_ignore_a_posted_id(boss, mine, foreign):
    """The patient form with ``id``/``public_id``/``organization`` of another clinic's patient
    makes a new patient here; theirs is unchanged."""
    from openiop.patients.models import Patient

    theirs = Patient.unscoped.get(pk=foreign.patient.pk)
    client = login(Client(), boss)
    response = client.post(reverse("patients:patient-create"), {
        "first_name": "Nadia", "last_name": "Fresh", "date_of_birth": "1991-03-04",
        "sex": "female", "preferred_language": "English",
        "id": theirs.pk, "public_id": str(theirs.public_id),
        "organization": foreign.org.pk, "organization_id": foreign.org.pk,
    })  # fmt: skip
    assert response.status_code == 302
    created = Patient.unscoped.get(last_name="Fresh")
    assert created.organization_id == boss.organization_id
    assert created.pk != theirs.pk and created.public_id != theirs.public_id
    after = Patient.unscoped.get(pk=theirs.pk)
    assert (after.first_name, after.last_name, after.updated_at) == (
        theirs.first_name, theirs.last_name, theirs.updated_at,
    )  # fmt: skip


def _group_note_post(w: World, key: str, objective: str) -> dict:
    note = w.objs["group_note"]
    return {
        "version": note.version, "action": "save", "topic": "T", "curriculum_module": "M",
        "interventions": "I", "narrative": "N",
        f"p-{key}-participation": "x", f"p-{key}-objectives": objective,
    }  # fmt: skip


def test_html_forms_naming_another_organizations_objects_change_nothing(boss, mine, foreign):
    """Hidden fields, select options and multi-selects carrying a foreign id: a form error (or
    404), nothing written, nothing of theirs shown."""
    check = _checker(boss)
    theirs, ours = foreign.id, mine.id
    # A re-rendered form with an error, not found, or back to the page with an error message
    # (the database fingerprint shows that nothing was written either way).
    refused = {200, 302, 400, 404, 409}
    staff_theirs = str(foreign.staff.public_id)
    session_form = {
        "title": "Group", "kind": "group", "date": "2026-11-25", "start_time": "18:00",
        "end_time": "21:00", "weekdays": ["2"], "duration_minutes": "180",
        "start_date": "2026-12-01", "end_date": "2026-12-15",
    }  # fmt: skip
    cases = [
        # booking a patient into a session (select of episodes by public id)
        (reverse("scheduling:booking-create", args=[ours("next_session")]),
         {"episode": str(theirs("episode"))}),
        # the roster's hidden patient field
        (reverse("scheduling:attendance-record", args=[ours("session")]),
         {"roster-TOTAL_FORMS": "1", "roster-INITIAL_FORMS": "1",
          "roster-0-patient": str(theirs("patient")), "roster-0-status": "present",
          "roster-0-minutes": "180"}),
        # a session or series in their program / room / with their staff
        (reverse("scheduling:session-create"), {**session_form, "program": str(theirs("program"))}),
        (reverse("scheduling:session-create"),
         {**session_form, "program": str(ours("program")), "room": str(theirs("room"))}),
        (reverse("scheduling:session-create"),
         {**session_form, "program": str(ours("program")), "facilitators": [staff_theirs]}),
        (reverse("scheduling:series-create"), {**session_form, "program": str(theirs("program"))}),
        # starting an episode in their program, with their counselor
        (reverse("enrollment:episode-create", args=[ours("patient3")]),
         {"program": foreign.program.public_id, "referral_source": "self"}),
        (reverse("enrollment:episode-create", args=[ours("patient3")]),
         {"program": mine.program.public_id, "referral_source": "self",
          "primary_counselor": foreign.staff.public_id}),
        (reverse("enrollment:episode-transfer", args=[ours("episode")]),
         {"to_program": foreign.program2.public_id, "effective_on": "2026-11-20"}),
        # admitting a referral into their program / their groups / with their counselor
        (reverse("placement:referral-admit", args=[ours("referral")]),
         {"program": str(theirs("program")), "admitted_on": "2026-11-20",
          "consent_signed_by": "Pat", "window_kind": "work"}),
        (reverse("placement:referral-admit", args=[ours("referral")]),
         {"program": str(ours("program")), "admitted_on": "2026-11-20",
          "consent_signed_by": "Pat", "window_kind": "work", "series": [str(theirs("series"))]}),
        (reverse("placement:referral-admit", args=[ours("referral")]),
         {"program": str(ours("program")), "admitted_on": "2026-11-20",
          "consent_signed_by": "Pat", "window_kind": "work",
          "primary_counselor": foreign.staff.public_id}),
        # a group-note part for their patient, an objective from their plan
        (reverse("clinical:group-note-autosave", args=[ours("group_note")]),
         _group_note_post(mine, str(theirs("patient")), str(theirs("objective")))),
        (reverse("clinical:group-note-autosave", args=[ours("group_note")]),
         _group_note_post(mine, str(ours("patient")), str(theirs("objective")))),
        # a plan intervention with their staff member responsible
        (reverse("clinical:plan-part-add", args=["intervention", ours("draft_objective")]),
         {"modality": "group", "frequency": "weekly", "responsible": foreign.staff.public_id}),
        # a UR against their authorization
        (reverse("clinical:ur-create", args=[ours("episode")]),
         {"period_start": "2026-11-02", "period_end": "2026-11-15", "clinician_summary": "S",
          "authorization": foreign.authorization.public_id}),
        # a prescription by their prescriber
        (reverse("medications:medication-start", args=[ours("patient")]),
         {"name": "Naltrexone", "dose": "50 mg", "route": "oral", "frequency": "daily",
          "start_on": "2026-11-18", "prescriber": foreign.staff.public_id, "mat_kind": "naltrexone",
          "panel_substance": "auto"}),
        # a drug screen filed under their episode, confirming their screen
        (reverse("medications:drug-screen-list", args=[ours("patient")]),
         {"collected_at": "2026-11-19T09:00", "episode": str(theirs("episode")),
          "specimen": "urine", "method": "presumptive", "specimen_validity": "valid"}),
        (reverse("medications:drug-screen-list", args=[ours("patient")]),
         {"collected_at": "2026-11-19T09:00", "episode": str(ours("episode")),
          "specimen": "urine", "method": "confirmatory", "specimen_validity": "valid",
          "confirms": str(theirs("screen"))}),
        # a questionnaire with their episode
        (reverse("questionnaires:response-create", args=[ours("patient")]),
         {"instrument": "gad7", "episode": str(theirs("episode")),
          **{f"gad7-{i}": "0" for i in range(1, 8)}}),
        # the board: pinning their patient into our draft is a 404 (URL); blocks of theirs
        (reverse("scheduling:board-pin", args=[ours("draft"), ours("patient")]),
         {"blocks": [str(theirs("block"))]}),
    ]  # fmt: skip
    for url, data in cases:
        check.request("POST", url, refused, data=data)
    check.assert_ok()


# --- counselor caseload ---------------------------------------------------------------------------


CASELOAD_PAGES = [
    ("patients:patient-detail", "patient"),
    ("patients:patient-edit", "patient"),
    ("enrollment:episode-detail", "episode"),
    ("clinical:note-list", "episode"),
    ("clinical:note-detail", "note_dap"),
    ("clinical:note-edit", "note_birp"),
    ("clinical:group-note-detail", "group_note"),
    ("clinical:plan-episode", "episode"),
    ("clinical:plan-detail", "plan"),
    ("clinical:ur-list", "episode"),
    ("clinical:ur-detail", "ur"),
    ("clinical:discharge-detail", "discharge"),
    ("questionnaires:patient-scores", "patient"),
    ("questionnaires:response-detail", "response"),
    ("questionnaires:alert-follow-up", "alert_open"),
    ("medications:medication-list", "patient"),
    ("medications:drug-screen-list", "patient"),
    ("billing:authorization-list", "episode"),
    ("consent:consent-list", "patient"),
    ("consent:disclosure-accounting", "patient"),
    ("consent:disclosure-detail", "disclosure"),
    ("scheduling:patient-calendar", "patient"),
]


@pytest.fixture
def caseload_counselor(org, episode, counselor):
    """The conftest counselor: only the counselor role; Dana Whitfield is their patient."""
    return counselor


def test_counselor_sees_their_own_patient(client, caseload_counselor, patient, episode):
    login(client, caseload_counselor)
    for url in (reverse("patients:patient-detail", args=[patient.public_id]),
                reverse("enrollment:episode-detail", args=[episode.public_id])):  # fmt: skip
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(("name", "obj"), CASELOAD_PAGES, ids=[n for n, _ in CASELOAD_PAGES])
def test_counselor_gets_404_outside_their_caseload(caseload_counselor, mine, name, obj):
    """``mine``'s patients are led by another counselor in another group: not this one's."""
    check = _checker(caseload_counselor, MINE)
    url = reverse(name, kwargs={next(iter(OBJECT_URLS[name])): mine.id(obj)})
    check.request("GET", url, {404})
    check.assert_ok()


# Names of ``mine``'s patients with an episode (patient3, a new referral, is in every caseload).
OUTSIDE_NAMES = tuple(f"{MINE}{k}" for k in ("First", "Last", "Preferred", "SecondFirst",
                                             "SecondLast"))  # fmt: skip


def test_counselor_lists_and_api_leave_out_patients_outside_the_caseload(caseload_counselor, mine):
    check = _checker(caseload_counselor, OUTSIDE_NAMES)
    for url in (reverse("patients:patient-list"), f"{reverse('patients:patient-list')}?q={MINE}",
                reverse("questionnaires:alert-list"), reverse("reports:dashboard")):  # fmt: skip
        check.request("GET", url, {200})
    check.assert_ok()
    api = Checker(api_client(caseload_counselor), OUTSIDE_NAMES)
    api.request("GET", f"/api/v1/patients/{mine.id('patient')}", {404})
    api.request("GET", f"/api/v1/episodes/{mine.id('episode')}", {404})
    api.request("GET", f"/api/v1/notes/{mine.id('note_dap')}", {404})
    api.request("GET", f"/api/v1/questionnaire-responses/{mine.id('response')}", {404})
    api.request("GET", f"/api/v1/patients?q={MINE}", {200})
    api.request("GET", "/api/v1/patients", {200})
    api.request("GET", "/api/v1/episodes", {200})
    api.request("GET", "/api/v1/alerts", {200})
    api.assert_ok()


def test_counselor_cannot_write_outside_their_caseload(caseload_counselor, mine):
    check = _checker(caseload_counselor, MINE)
    note = mine.note_birp
    check.request("POST", reverse("clinical:note-autosave", args=[note.public_id]), {404},
                  data={"version": note.version, "s_behavior": "x"})  # fmt: skip
    check.request("POST", reverse("questionnaires:alert-follow-up", args=[mine.id("alert_open")]),
                  {404}, data={"note": "called"})  # fmt: skip
    check.request(
        "POST",
        reverse("clinical:note-create", args=[mine.id("episode")]),
        {404},
        data={"kind": "individual", "format": "DAP", "modality": "in_person"},
    )
    check.assert_ok()
    api = Checker(api_client(caseload_counselor), MINE)
    api.request("POST", f"/api/v1/episodes/{mine.id('episode')}/notes", {404},
                data={"kind": "individual"}, json=True)  # fmt: skip
    api.request(
        "PATCH",
        f"/api/v1/notes/{note.public_id}",
        {404},
        data={"version": note.version, "sections": {"behavior": "x"}},
        json=True,
    )
    api.assert_ok()


def test_break_glass_opens_one_patient_for_the_counselor(caseload_counselor, mine):
    """Emergency access widens the caseload for that patient only, for the grant's duration."""
    from openiop.consent.services import break_glass_start

    break_glass_start(
        actor=caseload_counselor, patient=mine.patient,
        reason="Patient collapsed in the lobby; ER asks about current medications.",
    )  # fmt: skip
    client = login(Client(), caseload_counselor)
    url = reverse("patients:patient-detail", args=[mine.id("patient")])
    assert client.get(url).status_code == 200
    other = reverse("patients:patient-detail", args=[mine.id("patient2")])
    assert client.get(other).status_code == 404
    with time_machine.travel(NOW + dt.timedelta(hours=3), tick=False):
        later = login(Client(), caseload_counselor)
        assert later.get(url).status_code == 404  # the grant has expired
