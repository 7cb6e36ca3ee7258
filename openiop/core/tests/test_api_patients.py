"""Patients API: search, register, read, correct, unavailable windows."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from conftest import api_client
from openiop.core.models import AuditEvent
from openiop.patients.models import Patient, UnavailableWindow
from openiop.patients.services import patient_create

NOW = dt.datetime(2026, 11, 4, 23, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def patch(client, path, body):
    return client.patch(path, body, content_type="application/json")


def field_names(response) -> set[str]:
    return {error["field"] for error in response.json()["detail"]}


# --- list -------------------------------------------------------------------------------------


def test_list_finds_patients_by_name_and_shows_their_open_episode(counselor, patient, episode):
    patient_create(actor=None, organization=patient.organization, first_name="Maria",
                   last_name="Lopez", date_of_birth=dt.date(1979, 2, 3))  # fmt: skip
    client = api_client(counselor)
    body = client.get("/api/v1/patients?q=whit").json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["id"] == str(patient.public_id)
    assert item["display_name"] == "Dana Whitfield"
    assert item["open_episodes"][0]["program"]["name"] == "Adult Evening IOP"
    assert item["open_episodes"][0]["status"] == "admitted"
    assert "pk" not in item and "organization" not in item
    assert client.get("/api/v1/patients").json()["count"] == 2


def test_list_writes_one_audit_row_naming_the_patients_shown(counselor, patient):
    api_client(counselor).get("/api/v1/patients")
    row = AuditEvent.objects.get(action="openiop.patients.patient.list")
    assert row.detail["patients"] == [str(patient.public_id)]
    assert row.category == "demographics"
    assert row.actor_username == "counselor"


def test_outsider_sees_none_of_our_patients(outsider, patient):
    body = api_client(outsider).get("/api/v1/patients?q=Whitfield").json()
    assert body["count"] == 0
    assert body["items"] == []
    assert "Whitfield" not in str(body)


def test_patient_list_query_count_does_not_grow_with_patients(
    counselor, org, program, django_assert_max_num_queries
):
    from openiop.enrollment.services import episode_create

    def add(n: int) -> None:
        for i in range(n):
            p = patient_create(actor=None, organization=org, first_name=f"P{i}",
                               last_name="Many", date_of_birth=dt.date(1990, 1, 1))  # fmt: skip
            if i % 2 == 0:
                episode_create(actor=None, patient=p, program=program,
                               admitted_on=dt.date(2026, 11, 2))  # fmt: skip

    client = api_client(counselor)
    add(1)
    client.get("/api/v1/patients")  # token last-used stamp, role cache: steady state after this
    with django_assert_max_num_queries(10) as one:
        client.get("/api/v1/patients")
    add(9)
    with django_assert_max_num_queries(10) as ten:
        response = client.get("/api/v1/patients")
    assert len(ten.captured_queries) == len(one.captured_queries)
    assert response.json()["count"] == 10
    assert sum(len(i["open_episodes"]) for i in response.json()["items"]) == 6


def test_search_with_a_nul_character_is_a_field_error(counselor, patient):
    response = api_client(counselor).get("/api/v1/patients?q=a%00b")
    assert response.status_code == 400
    assert field_names(response) == {"q"}


# --- create -----------------------------------------------------------------------------------


def test_intake_registers_a_patient_with_an_assigned_mrn(intake, org):
    body = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1990-05-06",
            "sex": "female", "phone": "555-0101"}  # fmt: skip
    response = post(api_client(intake), "/api/v1/patients", body)
    assert response.status_code == 201
    data = response.json()
    patient = Patient.objects.get(public_id=data["id"])
    assert patient.organization == org
    assert data["mrn"] == patient.mrn and data["mrn"].startswith("RI-")
    assert data["date_of_birth"] == "1990-05-06"
    assert AuditEvent.objects.filter(action="openiop.patients.patient.create",
                                     patient_id=data["id"]).exists()  # fmt: skip


def test_auditor_cannot_register_a_patient(auditor, org):
    body = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1990-05-06"}
    response = post(api_client(auditor), "/api/v1/patients", body)
    assert response.status_code == 403
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"date_of_birth": "not-a-date"}, "date_of_birth", 422),
        ({"date_of_birth": "2030-01-01"}, "date_of_birth", 400),
        ({"date_of_birth": "0001-01-01"}, "date_of_birth", 422),
        ({"sex": "robot"}, "sex", 422),
        ({"email": "not-an-email"}, "email", 400),
        ({"first_name": ""}, "first_name", 422),
        ({"last_name": "x\x00y"}, "last_name", 422),
        ({"organization": "lakeside"}, "organization", 422),
    ],
)
def test_bad_patient_input_names_the_field_and_saves_nothing(intake, org, change, field, status):
    body = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1990-05-06", **change}
    response = post(api_client(intake), "/api/v1/patients", body)
    assert response.status_code == status
    assert field in field_names(response)
    assert not Patient.objects.exists()


def test_duplicate_mrn_is_a_field_error(intake, patient):
    body = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1990-05-06",
            "mrn": patient.mrn}  # fmt: skip
    response = post(api_client(intake), "/api/v1/patients", body)
    assert response.status_code == 400
    assert field_names(response) == {"mrn"}
    assert Patient.objects.count() == 1


# --- read -------------------------------------------------------------------------------------


def test_get_patient_shows_demographics_and_audits_the_read(billing, patient):
    response = api_client(billing).get(f"/api/v1/patients/{patient.public_id}")
    assert response.status_code == 200
    assert response.json()["phone"] == "555-0100"
    row = AuditEvent.objects.get(action="openiop.patients.patient.read")
    assert row.patient_id == str(patient.public_id)
    assert row.category == "demographics"
    assert row.actor_username == "billing"


def test_outsider_gets_404_for_our_patient_and_no_data(outsider, patient):
    response = api_client(outsider).get(f"/api/v1/patients/{patient.public_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found"}
    assert not AuditEvent.objects.filter(action="openiop.patients.patient.read").exists()


# --- update -----------------------------------------------------------------------------------


def test_front_desk_corrects_a_phone_number(front_desk, patient):
    response = patch(api_client(front_desk), f"/api/v1/patients/{patient.public_id}",
                     {"phone": "555-0199"})  # fmt: skip
    assert response.status_code == 200
    assert response.json()["phone"] == "555-0199"
    patient.refresh_from_db()
    assert patient.phone == "555-0199"
    row = AuditEvent.objects.get(action="openiop.patients.patient.update")
    assert row.detail == {"fields": ["phone"]}


def test_counselor_cannot_edit_demographics(counselor, patient):
    response = patch(api_client(counselor), f"/api/v1/patients/{patient.public_id}",
                     {"phone": "555-0199"})  # fmt: skip
    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.phone == "555-0100"


def test_outsider_cannot_edit_our_patient(outsider, patient):
    response = patch(api_client(outsider), f"/api/v1/patients/{patient.public_id}",
                     {"phone": "555-0199"})  # fmt: skip
    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.phone == "555-0100"


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"mrn": "X-1"}, "mrn", 422),
        ({"date_of_birth": "2027-01-01"}, "date_of_birth", 400),
        ({"first_name": None}, "first_name", 422),
        ({"email": "nope"}, "email", 400),
    ],
)
def test_bad_patch_names_the_field_and_changes_nothing(front_desk, patient, change, field, status):
    response = patch(api_client(front_desk), f"/api/v1/patients/{patient.public_id}", change)
    assert response.status_code == status
    assert field in field_names(response)
    fresh = Patient.objects.get(pk=patient.pk)
    assert (fresh.mrn, fresh.first_name, fresh.date_of_birth, fresh.email) == (
        patient.mrn, patient.first_name, patient.date_of_birth, patient.email,
    )  # fmt: skip


# --- unavailable windows ----------------------------------------------------------------------


def test_add_and_list_unavailable_windows(front_desk, counselor, patient):
    body = {"weekday": 1, "start_time": "09:00", "end_time": "17:00", "kind": "work"}
    response = post(api_client(front_desk),
                    f"/api/v1/patients/{patient.public_id}/unavailable-windows", body)  # fmt: skip
    assert response.status_code == 201
    assert response.json()["weekday_name"] == "Tuesday"
    listed = api_client(counselor).get(f"/api/v1/patients/{patient.public_id}/unavailable-windows")
    assert listed.status_code == 200
    assert [(w["start_time"], w["end_time"]) for w in listed.json()] == [("09:00:00", "17:00:00")]
    assert AuditEvent.objects.filter(action="openiop.patients.unavailable_window.list",
                                     patient_id=str(patient.public_id)).exists()  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"end_time": "08:00"}, "end_time", 400),
        ({"weekday": 7}, "weekday", 422),
        ({"start_time": "25:00"}, "start_time", 422),
        ({"start_time": "09:00+02:00"}, "start_time", 422),
    ],
)
def test_bad_window_names_the_field(front_desk, patient, change, field, status):
    body = {"weekday": 1, "start_time": "09:00", "end_time": "17:00", **change}
    response = post(api_client(front_desk),
                    f"/api/v1/patients/{patient.public_id}/unavailable-windows", body)  # fmt: skip
    assert response.status_code == status
    assert field in field_names(response)
    assert not UnavailableWindow.objects.exists()


def test_window_permissions(billing, outsider, patient):
    path = f"/api/v1/patients/{patient.public_id}/unavailable-windows"
    body = {"weekday": 1, "start_time": "09:00", "end_time": "17:00"}
    assert post(api_client(billing), path, body).status_code == 403
    assert post(api_client(outsider), path, body).status_code == 404
    assert api_client(outsider).get(path).status_code == 404
    assert not UnavailableWindow.objects.exists()
