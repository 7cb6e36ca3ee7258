"""API plumbing: authentication, the OpenAPI document, error bodies, the token command."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from conftest import api_client, make_user
from openiop.accounts.models import ApiToken
from openiop.accounts.permissions import Role
from openiop.core.models import AuditEvent
from openiop.patients.models import Patient

X = uuid.UUID("5f0c2b1e-7d4a-4c61-9a53-2e8b1d0f6a77")  # fixed: test ids must not vary per run
ENDPOINTS = [
    ("get", "/api/v1/patients"),
    ("post", "/api/v1/patients"),
    ("get", f"/api/v1/patients/{X}"),
    ("patch", f"/api/v1/patients/{X}"),
    ("get", f"/api/v1/patients/{X}/unavailable-windows"),
    ("post", f"/api/v1/patients/{X}/unavailable-windows"),
    ("get", "/api/v1/programs"),
    ("get", f"/api/v1/programs/{X}"),
    ("get", "/api/v1/episodes"),
    ("post", "/api/v1/episodes"),
    ("get", f"/api/v1/episodes/{X}"),
    ("post", f"/api/v1/episodes/{X}/admit"),
    ("post", f"/api/v1/episodes/{X}/hold"),
    ("post", f"/api/v1/episodes/{X}/resume"),
    ("post", f"/api/v1/episodes/{X}/transfer"),
    ("post", f"/api/v1/episodes/{X}/discharge"),
    ("get", "/api/v1/sessions"),
    ("post", "/api/v1/sessions"),
    ("get", f"/api/v1/sessions/{X}"),
    ("post", f"/api/v1/sessions/{X}/cancel"),
    ("post", f"/api/v1/sessions/{X}/bookings"),
    ("post", f"/api/v1/sessions/{X}/attendance"),
    ("get", f"/api/v1/compliance?week=2026-11-02&program={X}"),
    ("get", f"/api/v1/patients/{X}/questionnaire-responses"),
    ("post", f"/api/v1/patients/{X}/questionnaire-responses"),
    ("get", f"/api/v1/questionnaire-responses/{X}"),
    ("get", "/api/v1/alerts"),
    ("post", f"/api/v1/alerts/{X}/follow-up"),
    ("get", f"/api/v1/episodes/{X}/notes"),
    ("post", f"/api/v1/episodes/{X}/notes"),
    ("get", f"/api/v1/notes/{X}"),
    ("patch", f"/api/v1/notes/{X}"),
    ("post", f"/api/v1/notes/{X}/sign"),
    ("post", f"/api/v1/notes/{X}/amendments"),
    ("post", f"/api/v1/notes/{X}/cosign"),
]


def call(client: Client, method: str, path: str, body: dict | None = None):
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, body or {}, content_type="application/json")


@pytest.mark.django_db
def test_openapi_document_lists_every_endpoint():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["info"]["title"] == "OpenIOP API"
    paths = doc["paths"]
    patterns = {p: re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", p) + "$") for p in paths}
    for method, path in ENDPOINTS:
        found = [p for p, rx in patterns.items() if rx.match(path.split("?")[0])]
        assert len(found) == 1, path
        assert method in paths[found[0]], (method, path)
    assert "/api/v1/sessions/{session_id}/attendance" in paths
    assert "401" in paths["/api/v1/patients"]["get"]["responses"]
    assert "422" in paths["/api/v1/patients"]["post"]["responses"]
    assert doc["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_credential(method, path, patient):
    response = call(Client(), method, path)
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


@pytest.mark.django_db
def test_a_wrong_or_revoked_token_is_refused(counselor, patient):
    bad = Client(HTTP_AUTHORIZATION="Bearer oiop_not-a-real-token")
    assert bad.get("/api/v1/patients").status_code == 401
    client = api_client(counselor)
    assert client.get("/api/v1/patients").status_code == 200
    ApiToken.objects.filter(user=counselor).update(revoked_at=timezone.now())
    assert client.get("/api/v1/patients").status_code == 401


@pytest.mark.django_db
def test_a_deactivated_user_or_one_without_organization_gets_401(counselor, patient):
    lone = make_user("lone", None, Role.ADMIN)
    assert api_client(lone).get("/api/v1/patients").status_code == 401
    client = api_client(counselor)
    counselor.is_active = False
    counselor.save()
    assert client.get("/api/v1/patients").status_code == 401


@pytest.mark.django_db
def test_session_login_can_read(client, counselor, patient):
    client.force_login(counselor)
    response = client.get("/api/v1/patients")
    assert response.status_code == 200
    assert response.json()["items"][0]["last_name"] == "Whitfield"


@pytest.mark.django_db
def test_session_post_without_csrf_token_is_refused_and_changes_nothing(intake, org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(intake)
    body = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1990-01-01"}
    response = client.post("/api/v1/patients", body, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Patient.objects.filter(last_name="Lee").exists()


@pytest.mark.django_db
def test_anonymous_post_is_401_not_a_csrf_error(org):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/patients", {}, content_type="application/json")
    assert response.status_code == 401


@pytest.mark.django_db
def test_a_refused_permission_is_403_and_audited_as_denied(auditor, org):
    body = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1990-01-01"}
    response = api_client(auditor).post("/api/v1/patients", body, content_type="application/json")
    assert response.status_code == 403
    assert "patient.edit" in response.json()["detail"]
    row = AuditEvent.objects.get(action="openiop.core.access.deny")
    assert row.outcome == AuditEvent.Outcome.DENIED
    assert row.actor_username == "auditor"
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_malformed_json_is_a_400_json_answer(intake, org):
    response = api_client(intake).post(
        "/api/v1/patients", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


@pytest.mark.django_db
def test_malformed_uuid_in_path_is_422_naming_the_parameter(counselor, org):
    response = api_client(counselor).get("/api/v1/patients/12")
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "patient_id"


@pytest.mark.django_db
def test_token_command_prints_only_a_working_token(counselor, patient):
    out = io.StringIO()
    call_command("token", "create", "--user", "counselor", "--name", "laptop", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    raw = lines[0]
    assert raw.startswith("oiop_")
    assert ApiToken.objects.get(user=counselor).name == "laptop"
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get("/api/v1/patients")
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert AuditEvent.objects.filter(action="openiop.accounts.token.create").exists()


@pytest.mark.django_db
def test_token_command_refuses_an_unknown_user(org):
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("token", "create", "--user", "ghost", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_token_revoke_stops_the_token_working(counselor, org):
    out = io.StringIO()
    call_command("token", "create", "--user", "counselor", stdout=out)
    raw = out.getvalue().strip()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/programs").status_code == 200
    call_command("token", "revoke", "--prefix", raw[:11], stdout=io.StringIO())
    assert client.get("/api/v1/programs").status_code == 401
    with pytest.raises(CommandError, match="No active token"):
        call_command("token", "revoke", "--prefix", raw[:11], stdout=io.StringIO())


@pytest.mark.django_db
def test_pages_are_capped_by_the_setting(settings, counselor, org):
    from openiop.patients.services import patient_create

    for i in range(5):
        patient_create(actor=None, organization=org, first_name=f"P{i}", last_name="Page",
                       date_of_birth=dt.date(1990, 1, 1))  # fmt: skip
    settings.OPENIOP_API_PAGE_SIZE = 2
    client = api_client(counselor)
    body = client.get("/api/v1/patients?limit=50").json()
    assert body["count"] == 5
    assert body["limit"] == 2
    assert len(body["items"]) == 2
    last = client.get("/api/v1/patients?offset=4").json()
    assert [p["first_name"] for p in last["items"]] == ["P4"]
    assert client.get("/api/v1/patients?limit=0").status_code == 422
