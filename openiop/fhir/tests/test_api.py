"""The FHIR REST API: tokens and scopes, read and search, paging, ETags, $everything, and
42 CFR Part 2 filtering for outside clients."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client

from openiop.consent.models import Disclosure
from openiop.consent.tests.factories import make_consent
from openiop.core.models import AuditEvent
from openiop.fhir.services import fhir_client_create
from openiop.fhir.validate import validate
from openiop.patients.services import patient_create
from openiop.questionnaires import services as q_services
from openiop.questionnaires.instruments import registry

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)
BASE = "/fhir/r4"
PHQ9 = [item.link_id for item in registry.get("phq9").items]


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def body(response) -> dict:
    assert response["Content-Type"].startswith("application/fhir+json")
    return json.loads(response.content)


@pytest.fixture
def staff_token(org, counselor):
    _, token = fhir_client_create(
        actor=None, organization=org, name="Counselor app", kind="user", user=counselor,
        scopes="user/*.rs",
    )  # fmt: skip
    return token


@pytest.fixture
def scores(episode, counselor):
    answers = {link_id: "1" for link_id in PHQ9}
    answers[PHQ9[8]] = "0"
    return q_services.response_record(
        actor=counselor, patient=episode.patient, episode=episode, instrument="phq9",
        answers=answers, administered_at=NOW - dt.timedelta(days=1),
    )  # fmt: skip


@pytest.fixture
def others(org):
    return [
        patient_create(
            actor=None,
            organization=org,
            first_name=f"P{n}",
            last_name="Zeta",
            date_of_birth=dt.date(1990, 1, n + 1),
            sex="male",
        )  # fmt: skip
        for n in range(3)
    ]


def hospital(org, **kw):
    args = dict(
        actor=None, organization=org, name="County Hospital", kind="system",
        scopes="system/*.rs", recipient_organization="County Hospital", purpose="treatment",
    )  # fmt: skip
    args.update(kw)
    return fhir_client_create(**args)


# --- the basics ----------------------------------------------------------------------------------


def test_metadata_is_public_and_a_valid_capability_statement(db):
    response = Client().get(f"{BASE}/metadata")
    assert response.status_code == 200
    statement = body(response)
    validate(statement)
    types = {r["type"] for r in statement["rest"][0]["resource"]}
    assert {"Patient", "Observation", "QuestionnaireResponse", "Consent"} <= types


def test_no_token_or_a_session_gets_401_operation_outcome(db, counselor):
    response = Client().get(f"{BASE}/Patient")
    assert response.status_code == 401 and body(response)["resourceType"] == "OperationOutcome"
    session = Client()
    session.force_login(counselor)
    assert session.get(f"{BASE}/Patient").status_code == 401
    assert client_for("fhir_not-a-token").get(f"{BASE}/Patient").status_code == 401


def test_staff_search_patients_validates_and_is_audited(staff_token, patient, episode):
    response = client_for(staff_token).get(f"{BASE}/Patient", {"name": "dana"})
    assert response.status_code == 200
    bundle = body(response)
    validate(bundle)
    assert bundle["total"] == 1
    resource = bundle["entry"][0]["resource"]
    assert resource["name"][0]["family"] == "Whitfield"
    codes = {s["code"] for s in resource["meta"]["security"]}
    assert {"R", "42CFRPart2", "NORDSCLCD"} <= codes
    event = AuditEvent.objects.filter(action="openiop.fhir.patient.search").latest("id")
    assert event.patient_id == str(patient.public_id)


def test_read_has_an_etag_and_answers_304_when_unchanged(staff_token, patient, episode):
    api = client_for(staff_token)
    response = api.get(f"{BASE}/Patient/{patient.public_id}")
    assert response.status_code == 200 and response["ETag"].startswith('W/"')
    again = api.get(f"{BASE}/Patient/{patient.public_id}", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_unknown_type_id_or_parameter_is_a_clear_operation_outcome(staff_token, patient):
    api = client_for(staff_token)
    assert api.get(f"{BASE}/Spaceship").status_code == 404
    missing = api.get(f"{BASE}/Patient/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and body(missing)["issue"][0]["code"] == "not-found"
    bad = api.get(f"{BASE}/Patient", {"shoe-size": "9"})
    assert bad.status_code == 400 and "shoe-size" in body(bad)["issue"][0]["diagnostics"]
    bad_date = api.get(f"{BASE}/Patient", {"birthdate": "yesterday"})
    assert bad_date.status_code == 400


def test_paging_follows_next_links_through_every_patient(staff_token, patient, others):
    api = client_for(staff_token)
    url, seen = f"{BASE}/Patient?_count=2", []
    while url:
        page = body(api.get(url))
        assert len(page["entry"]) <= 2
        seen += [e["resource"]["id"] for e in page["entry"]]
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else None
    assert sorted(seen) == sorted(str(p.public_id) for p in [patient, *others])


def test_last_updated_filters(staff_token, patient):
    api = client_for(staff_token)
    assert body(api.get(f"{BASE}/Patient", {"_lastUpdated": "ge2026-11-16"}))["total"] == 1
    assert body(api.get(f"{BASE}/Patient", {"_lastUpdated": "gt2026-11-16"}))["total"] == 0


def test_scores_search_by_patient_category_and_code(staff_token, scores, patient):
    api = client_for(staff_token)
    bundle = body(
        api.get(
            f"{BASE}/Observation",
            {"patient": str(patient.public_id), "category": "survey", "code": "44261-6"},
        )
    )
    (entry,) = bundle["entry"]
    assert entry["resource"]["valueQuantity"]["value"] == 8
    none = body(api.get(f"{BASE}/Observation", {"code": "http://loinc.org|70274-6"}))
    assert none["total"] == 0


def test_scopes_and_roles_limit_what_a_token_reads(org, counselor, billing, patient, scores):
    _, obs_only = fhir_client_create(
        actor=None, organization=org, name="Scores app", kind="user", user=counselor,
        scopes="user/Observation.rs",
    )  # fmt: skip
    api = client_for(obs_only)
    assert api.get(f"{BASE}/Observation").status_code == 200
    refused = api.get(f"{BASE}/Patient")
    assert refused.status_code == 403 and "scopes" in body(refused)["issue"][0]["diagnostics"]
    _, biller = fhir_client_create(
        actor=None, organization=org, name="Billing app", kind="user", user=billing,
        scopes="user/*.rs",
    )  # fmt: skip
    assert client_for(biller).get(f"{BASE}/DocumentReference").status_code == 403
    assert AuditEvent.objects.filter(
        action="openiop.fhir.request.refuse", outcome=AuditEvent.Outcome.DENIED
    ).exists()


def test_a_patient_token_sees_only_that_patient(org, patient, others, scores):
    _, token = fhir_client_create(
        actor=None, organization=org, name="My app", kind="patient", patient=patient,
        scopes="patient/*.rs",
    )  # fmt: skip
    api = client_for(token)
    ids = [e["resource"]["id"] for e in body(api.get(f"{BASE}/Patient"))["entry"]]
    assert ids == [str(patient.public_id)]
    assert api.get(f"{BASE}/Patient/{others[0].public_id}").status_code == 404
    assert body(api.get(f"{BASE}/Observation"))["total"] == 1
    assert body(api.get(f"{BASE}/Group"))["total"] == 0


def test_other_organizations_are_invisible(other_org, patient):
    from conftest import make_user
    from openiop.accounts.permissions import Role

    stranger = make_user("stranger", other_org, Role.PROGRAM_DIRECTOR)
    _, token = fhir_client_create(
        actor=None, organization=other_org, name="Theirs", kind="user", user=stranger,
        scopes="user/*.rs",
    )  # fmt: skip
    api = client_for(token)
    assert body(api.get(f"{BASE}/Patient"))["total"] == 0
    assert api.get(f"{BASE}/Patient/{patient.public_id}").status_code == 404


def test_everything_returns_the_record_with_part2_labels(staff_token, patient, episode, scores):
    response = client_for(staff_token).get(f"{BASE}/Patient/{patient.public_id}/$everything")
    assert response.status_code == 200
    bundle = body(response)
    validate(bundle)
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "EpisodeOfCare", "QuestionnaireResponse", "Observation"} <= types
    assert all(e["resource"]["meta"]["security"] for e in bundle["entry"])


# --- Part 2: outside clients ---------------------------------------------------------------------


def test_an_outside_client_gets_nothing_without_a_consent(org, patient, episode, scores):
    _, token = hospital(org)
    api = client_for(token)
    assert body(api.get(f"{BASE}/Patient"))["total"] == 0
    assert api.get(f"{BASE}/Patient/{patient.public_id}").status_code == 404
    assert api.get(f"{BASE}/Patient/{patient.public_id}/$everything").status_code == 404
    assert not Disclosure.objects.exists()


def test_a_consent_opens_exactly_what_it_covers(org, intake, patient, episode, scores, others):
    # TPO consent covering demographics, attendance, diagnoses, treatment plan: not scores.
    make_consent(patient, intake)
    _, token = hospital(org)
    api = client_for(token)
    ids = [e["resource"]["id"] for e in body(api.get(f"{BASE}/Patient"))["entry"]]
    assert ids == [str(patient.public_id)]  # the three others have no consent
    assert body(api.get(f"{BASE}/EpisodeOfCare"))["total"] == 1
    assert body(api.get(f"{BASE}/Observation"))["total"] == 0  # scores not covered
    everything = body(api.get(f"{BASE}/Patient/{patient.public_id}/$everything"))
    types = {e["resource"]["resourceType"] for e in everything["entry"]}
    assert "EpisodeOfCare" in types and "Observation" not in types
    made = Disclosure.objects.filter(patient=patient, channel="fhir", status="made")
    assert made.exists() and made.first().recipient_organization == "County Hospital"
    assert made.first().consent is not None


def test_a_named_consent_for_someone_else_does_not_open_anything(org, intake, patient, episode):
    from openiop.consent.tests.factories import make_named

    make_named(patient, intake)  # names County Probation, not the hospital
    _, token = hospital(org)
    assert body(client_for(token).get(f"{BASE}/Patient"))["total"] == 0


def test_a_revoked_consent_closes_access_at_once(org, intake, patient, episode):
    from openiop.consent.services import consent_revoke

    consent = make_consent(patient, intake)
    _, token = hospital(org)
    api = client_for(token)
    assert body(api.get(f"{BASE}/Patient"))["total"] == 1
    consent_revoke(actor=intake, consent=consent, note="Patient asked in writing.")
    assert body(api.get(f"{BASE}/Patient"))["total"] == 0


def test_outside_clients_cannot_read_the_audit_trail(org, patient):
    _, token = hospital(org)
    assert client_for(token).get(f"{BASE}/AuditEvent").status_code == 403


def test_an_auditor_reads_the_audit_trail_as_fhir(org, auditor, staff_token, patient, episode):
    client_for(staff_token).get(f"{BASE}/Patient/{patient.public_id}")
    _, token = fhir_client_create(
        actor=None, organization=org, name="Compliance", kind="user", user=auditor,
        scopes="user/AuditEvent.rs",
    )  # fmt: skip
    bundle = body(
        client_for(token).get(
            f"{BASE}/AuditEvent", {"patient": str(patient.public_id), "_count": "100"}
        )
    )
    validate(bundle)
    assert bundle["entry"], "the read above must be in the trail"
