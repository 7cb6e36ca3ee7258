"""Programs API: list and read with census counts."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from conftest import api_client
from openiop.enrollment.services import episode_create, episode_hold
from openiop.organizations.models import Program
from openiop.patients.services import patient_create

NOW = dt.datetime(2026, 11, 4, 23, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _patient(org, name):
    return patient_create(actor=None, organization=org, first_name=name, last_name="Census",
                          date_of_birth=dt.date(1985, 1, 1))  # fmt: skip


def test_program_census_counts_each_status(counselor, org, program, episode):
    waiting = _patient(org, "Wait")
    episode_create(actor=None, patient=waiting, program=program)
    held = episode_create(actor=None, patient=_patient(org, "Held"), program=program,
                          admitted_on=dt.date(2026, 11, 2))  # fmt: skip
    episode_hold(actor=None, episode=held, effective_on=dt.date(2026, 11, 3), reason="surgery")
    response = api_client(counselor).get(f"/api/v1/programs/{program.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Adult Evening IOP"
    assert body["timezone"] == "America/New_York"
    assert body["weekly_min_hours"] == 9.0
    assert body["census"] == {"waitlisted": 1, "admitted": 1, "active": 0, "on_hold": 1}


def test_program_list_shows_our_programs_only(billing, outsider, program, episode):
    body = api_client(billing).get("/api/v1/programs").json()
    assert body["count"] == 1
    assert body["items"][0]["id"] == str(program.public_id)
    assert body["items"][0]["census"]["admitted"] == 1
    assert api_client(outsider).get("/api/v1/programs").json() == {
        "count": 0, "limit": 100, "offset": 0, "items": [],
    }  # fmt: skip


def test_program_list_filters_inactive(counselor, program, site):
    Program.objects.create(organization=site.organization, site=site, name="Old track",
                           is_active=False)  # fmt: skip
    client = api_client(counselor)
    assert client.get("/api/v1/programs").json()["count"] == 2
    names = [p["name"] for p in client.get("/api/v1/programs?active=true").json()["items"]]
    assert names == ["Adult Evening IOP"]


def test_outsider_gets_404_for_our_program(outsider, program):
    response = api_client(outsider).get(f"/api/v1/programs/{program.public_id}")
    assert response.status_code == 404
    assert "Evening" not in response.content.decode()


def test_unknown_program_is_404_and_malformed_id_is_422(counselor, program):
    client = api_client(counselor)
    assert client.get("/api/v1/programs/8a1c2f3e-0000-4000-8000-000000000000").status_code == 404
    response = client.get("/api/v1/programs/1")
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "program_id"


def test_a_user_without_any_role_gets_403(org, program):
    from conftest import make_user

    nobody = make_user("norole", org)
    assert api_client(nobody).get("/api/v1/programs").status_code == 403
    assert api_client(nobody).get(f"/api/v1/programs/{program.public_id}").status_code == 403
