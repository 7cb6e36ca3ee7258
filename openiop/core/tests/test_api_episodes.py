"""Episodes API: waitlist / admit, hold, resume, transfer, discharge, read with history."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from conftest import api_client
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program
from openiop.patients.services import patient_create

NOW = dt.datetime(2026, 11, 4, 23, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def day_program(site):
    return Program.objects.create(organization=site.organization, site=site,
                                  name="Adult Day IOP", cohort=Program.Cohort.DAY)  # fmt: skip


@pytest.fixture
def newcomer(org):
    return patient_create(actor=None, organization=org, first_name="Sam", last_name="Okafor",
                          date_of_birth=dt.date(1992, 7, 1))  # fmt: skip


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def fields(response) -> set[str]:
    return {e["field"] for e in response.json()["detail"]}


# --- list / read ------------------------------------------------------------------------------


def test_list_filters_by_program_and_status_and_audits(counselor, episode, program, day_program):
    client = api_client(counselor)
    body = client.get(f"/api/v1/episodes?program={program.public_id}&status=admitted").json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["patient"]["name"] == "Dana Whitfield"
    assert item["primary_counselor"]["name"] == "Counselor Tester"
    assert client.get(f"/api/v1/episodes?program={day_program.public_id}").json()["count"] == 0
    assert client.get("/api/v1/episodes?status=discharged").json()["count"] == 0
    row = AuditEvent.objects.filter(action="openiop.enrollment.episode.list").first()
    assert row.detail["patients"] == [str(episode.patient.public_id)]


def test_list_rejects_unknown_program_and_status(counselor, outsider, episode, program):
    client = api_client(counselor)
    assert client.get("/api/v1/episodes?program=6f1d4b0e-1111-4111-8111-111111111111"
                      ).status_code == 404  # fmt: skip
    response = client.get("/api/v1/episodes?status=asleep")
    assert response.status_code == 422
    assert fields(response) == {"status"}
    # an outsider filtering by our program learns nothing
    assert api_client(outsider).get(f"/api/v1/episodes?program={program.public_id}"
                                    ).status_code == 404  # fmt: skip
    assert api_client(outsider).get("/api/v1/episodes").json()["count"] == 0


def test_get_episode_shows_status_history_and_audits(billing, episode):
    response = api_client(billing).get(f"/api/v1/episodes/{episode.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "admitted"
    assert [(h["from_status"], h["to_status"]) for h in body["status_history"]] == [
        ("", "waitlisted"), ("waitlisted", "admitted"),
    ]  # fmt: skip
    read = AuditEvent.objects.get(action="openiop.enrollment.episode.read")
    assert read.patient_id == str(episode.patient.public_id)


def test_outsider_gets_404_for_our_episode(outsider, episode):
    response = api_client(outsider).get(f"/api/v1/episodes/{episode.public_id}")
    assert response.status_code == 404
    assert "Whitfield" not in response.content.decode()


# --- create / admit ---------------------------------------------------------------------------


def test_create_without_admission_date_waitlists(intake, newcomer, program):
    body = {"patient": str(newcomer.public_id), "program": str(program.public_id)}
    response = post(api_client(intake), "/api/v1/episodes", body)
    assert response.status_code == 201
    assert response.json()["status"] == "waitlisted"
    assert response.json()["admitted_on"] is None


def test_create_with_admission_date_admits(intake, counselor, newcomer, program):
    body = {"patient": str(newcomer.public_id), "program": str(program.public_id),
            "admitted_on": "2026-11-03", "primary_substance": 2,
            "primary_counselor": str(counselor.public_id)}  # fmt: skip
    response = post(api_client(intake), "/api/v1/episodes", body)
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "admitted"
    assert data["admitted_on"] == "2026-11-03"
    assert data["primary_counselor"]["id"] == str(counselor.public_id)


def test_front_desk_cannot_create_episodes(front_desk, newcomer, program):
    body = {"patient": str(newcomer.public_id), "program": str(program.public_id)}
    assert post(api_client(front_desk), "/api/v1/episodes", body).status_code == 403
    assert not Episode.objects.filter(patient=newcomer).exists()


def test_create_refuses_foreign_or_unknown_references(intake, outsider, newcomer, program):
    from openiop.organizations.models import Site

    foreign_site = Site.objects.get(organization=outsider.organization)
    foreign = Program.objects.create(organization=outsider.organization, site=foreign_site,
                                     name="Their IOP")  # fmt: skip
    client = api_client(intake)
    cases = [
        ({"program": str(foreign.public_id)}, "program"),
        ({"patient": "5d7b1c2a-0000-4000-8000-000000000000"}, "patient"),
        ({"primary_counselor": str(outsider.public_id)}, "primary_counselor"),
    ]
    for change, field in cases:
        body = {"patient": str(newcomer.public_id), "program": str(program.public_id), **change}
        response = post(client, "/api/v1/episodes", body)
        assert response.status_code == 400, change
        assert fields(response) == {field}
    response = post(client, "/api/v1/episodes", {"patient": 1, "program": str(program.public_id)})
    assert response.status_code == 422
    assert fields(response) == {"patient"}
    assert not Episode.objects.filter(patient=newcomer).exists()


def test_second_open_episode_is_refused(intake, episode, day_program):
    body = {"patient": str(episode.patient.public_id), "program": str(day_program.public_id)}
    response = post(api_client(intake), "/api/v1/episodes", body)
    assert response.status_code == 400
    assert fields(response) == {"program"}
    assert Episode.objects.count() == 1


def test_admit_a_waitlisted_episode(counselor, newcomer, program):
    from openiop.enrollment.services import episode_create

    waiting = episode_create(actor=None, patient=newcomer, program=program,
                             referral_date=dt.date(2026, 11, 1))  # fmt: skip
    client = api_client(counselor)
    response = post(client, f"/api/v1/episodes/{waiting.public_id}/admit",
                    {"admitted_on": "2026-11-04"})  # fmt: skip
    assert response.status_code == 200
    assert response.json()["status"] == "admitted"
    again = post(
        client, f"/api/v1/episodes/{waiting.public_id}/admit", {"admitted_on": "2026-11-04"}
    )
    assert again.status_code == 400
    assert fields(again) == {"status"}


# --- hold / resume ----------------------------------------------------------------------------


def test_hold_then_resume(counselor, episode):
    client = api_client(counselor)
    path = f"/api/v1/episodes/{episode.public_id}"
    held = post(client, f"{path}/hold", {"effective_on": "2026-11-03", "reason": "hospitalized"})
    assert held.status_code == 200
    assert held.json()["status"] == "on_hold"
    assert held.json()["status_history"][-1]["reason"] == "hospitalized"
    resumed = post(client, f"{path}/resume", {"effective_on": "2026-11-04"})
    assert resumed.status_code == 200
    assert resumed.json()["status"] == "active"


def test_hold_needs_a_reason_and_a_date(counselor, episode):
    client = api_client(counselor)
    response = post(client, f"/api/v1/episodes/{episode.public_id}/hold",
                    {"effective_on": "yesterday", "reason": ""})  # fmt: skip
    assert response.status_code == 422
    assert fields(response) == {"effective_on", "reason"}
    response = post(client, f"/api/v1/episodes/{episode.public_id}/hold",
                    {"effective_on": "2026-11-03", "reason": "   "})  # fmt: skip
    assert response.status_code == 400
    assert fields(response) == {"reason"}
    episode.refresh_from_db()
    assert episode.status == "admitted"


def test_episode_actions_need_episode_manage(front_desk, billing, outsider, episode):
    cases = [
        ("hold", {"effective_on": "2026-11-03", "reason": "x"}),
        ("resume", {"effective_on": "2026-11-03"}),
        ("admit", {"admitted_on": "2026-11-03"}),
        ("discharge", {"discharged_on": "2026-11-04", "reason": 1}),
        ("transfer", {"to_program": str(episode.program.public_id), "effective_on": "2026-11-04"}),
    ]
    for action, body in cases:
        path = f"/api/v1/episodes/{episode.public_id}/{action}"
        assert post(api_client(front_desk), path, body).status_code == 403, action
        assert post(api_client(billing), path, body).status_code == 403, action
        assert post(api_client(outsider), path, body).status_code == 404, action
    episode.refresh_from_db()
    assert episode.status == "admitted"
    assert episode.version == 2


# --- transfer ---------------------------------------------------------------------------------


def test_transfer_closes_this_episode_and_opens_one_in_the_new_program(
    counselor, episode, day_program
):
    response = post(api_client(counselor), f"/api/v1/episodes/{episode.public_id}/transfer",
                    {"to_program": str(day_program.public_id), "effective_on": "2026-11-04",
                     "reason": "needs daytime structure"})  # fmt: skip
    assert response.status_code == 200
    new = response.json()
    assert new["program"]["name"] == "Adult Day IOP"
    assert new["status"] == "admitted"
    assert new["transferred_from"] == str(episode.public_id)
    episode.refresh_from_db()
    assert episode.status == "discharged"
    assert episode.discharge_reason == 4
    old = api_client(counselor).get(f"/api/v1/episodes/{episode.public_id}").json()
    assert old["transferred_to"] == new["id"]


def test_transfer_to_the_same_or_a_foreign_program_is_refused(counselor, outsider, episode):
    from openiop.organizations.models import Site

    foreign = Program.objects.create(
        organization=outsider.organization,
        name="Theirs",
        site=Site.objects.get(organization=outsider.organization),
    )
    client = api_client(counselor)
    for target in (episode.program, foreign):
        response = post(
            client,
            f"/api/v1/episodes/{episode.public_id}/transfer",
            {"to_program": str(target.public_id), "effective_on": "2026-11-04"},
        )
        assert response.status_code == 400
        assert fields(response) == {"to_program"}
    assert Episode.objects.count() == 1
    episode.refresh_from_db()
    assert episode.status == "admitted"


# --- discharge --------------------------------------------------------------------------------


def test_discharge_with_teds_reason(counselor, episode):
    response = post(api_client(counselor), f"/api/v1/episodes/{episode.public_id}/discharge",
                    {"discharged_on": "2026-11-04", "reason": 1, "note": "completed",
                     "version": episode.version, "days_used_30": 2})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "discharged"
    assert body["discharge_days_used_30"] == 2
    assert body["discharge_reason"] == 1
    assert body["discharged_on"] == "2026-11-04"
    assert AuditEvent.objects.filter(action="openiop.enrollment.episode.discharge").exists()


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"discharged_on": "2026-11-04", "reason": 9}, "reason", 422),
        ({"discharged_on": "2026-11-04", "reason": "completed"}, "reason", 422),
        ({"discharged_on": "04/11/2026", "reason": 1}, "discharged_on", 422),
        ({"discharged_on": "2026-10-01", "reason": 1}, "discharged_on", 400),
        ({"discharged_on": "2026-12-25", "reason": 1}, "discharged_on", 400),
        ({"discharged_on": "2026-11-04", "reason": 1, "version": 1}, "version", 400),
        ({"discharged_on": "2026-11-04", "reason": 1, "status": "active"}, "status", 422),
        ({"discharged_on": "2026-11-04", "reason": 1, "days_used_30": 31}, "days_used_30", 422),
    ],
)
def test_bad_discharge_names_the_field_and_changes_nothing(counselor, episode, body, field, status):
    response = post(api_client(counselor), f"/api/v1/episodes/{episode.public_id}/discharge", body)
    assert response.status_code == status
    assert field in fields(response)
    episode.refresh_from_db()
    assert episode.status == "admitted"
    assert episode.discharged_on is None
