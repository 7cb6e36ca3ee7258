"""Attendance (bulk check-in) and weekly-hours compliance API."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine

from conftest import api_client, make_user
from openiop.attendance.models import AttendanceRecord
from openiop.attendance.services import AttendanceEntry, attendance_record
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.enrollment.services import episode_create
from openiop.patients.services import patient_create
from openiop.scheduling.services import session_book, session_create

NY = zoneinfo.ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 11, 4, 23, 0, tzinfo=dt.UTC)  # Wednesday 18:00 in New York


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def make_session(program, room, day: int, title: str = "Group"):
    return session_create(
        actor=None, program=program, title=title, room=room,
        starts_at=dt.datetime(2026, 11, day, 17, 0, tzinfo=NY),
        ends_at=dt.datetime(2026, 11, day, 20, 0, tzinfo=NY),
    )  # fmt: skip


@pytest.fixture
def group(program, room, episode):
    session = make_session(program, room, 4, "Relapse prevention")
    session_book(actor=None, session=session, episode=episode)
    return session


@pytest.fixture
def second(org, program, group):
    """Another admitted patient, booked into the same group."""
    other = patient_create(actor=None, organization=org, first_name="Lee", last_name="Park",
                           date_of_birth=dt.date(1990, 3, 3))  # fmt: skip
    ep = episode_create(
        actor=None, patient=other, program=program, admitted_on=dt.date(2026, 11, 2)
    )
    session_book(actor=None, session=group, episode=ep)
    return other


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def fields(response) -> set[str]:
    return {e["field"] for e in response.json()["detail"]}


def checkin_body(patient, other):
    return {"entries": [
        {"patient": str(patient.public_id), "status": "present",
         "checked_in_at": "2026-11-04T17:05:00-05:00"},
        {"patient": str(other.public_id), "status": "absent", "note": "called in sick"},
    ]}  # fmt: skip


# --- bulk check-in ----------------------------------------------------------------------------


def test_front_desk_checks_in_a_group(front_desk, group, patient, second, episode):
    response = post(api_client(front_desk), f"/api/v1/sessions/{group.public_id}/attendance",
                    checkin_body(patient, second))  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["session_status"] == "held"
    records = {r["patient"]["name"]: r for r in body["records"]}
    assert records["Dana Whitfield"]["status"] == "present"
    assert records["Dana Whitfield"]["minutes_attended"] == 175  # 17:05 to 20:00
    assert records["Dana Whitfield"]["checked_in_at"] == "2026-11-04T17:05:00-05:00"
    assert records["Lee Park"]["minutes_attended"] == 0
    assert records["Lee Park"]["note"] == "called in sick"
    assert all(r["changed"] for r in body["records"])
    episode.refresh_from_db()
    assert episode.status == Episode.Status.ACTIVE  # first attended session


def test_resending_the_same_check_in_changes_nothing(counselor, group, patient, second):
    client = api_client(counselor)
    path = f"/api/v1/sessions/{group.public_id}/attendance"
    assert post(client, path, checkin_body(patient, second)).status_code == 200
    rows_before = AuditEvent.objects.filter(action__startswith="openiop.attendance.record").count()
    again = post(client, path, checkin_body(patient, second))
    assert again.status_code == 200
    assert [r["changed"] for r in again.json()["records"]] == [False, False]
    assert AttendanceRecord.objects.filter(session=group).count() == 2
    writes = AuditEvent.objects.filter(action__startswith="openiop.attendance.record").exclude(
        action="openiop.attendance.record.read"
    )
    assert writes.count() == rows_before
    # the records sent back are still a read of patient data
    assert AuditEvent.objects.filter(action="openiop.attendance.record.read").count() == 1


def test_billing_cannot_record_attendance(billing, group, patient):
    body = {"entries": [{"patient": str(patient.public_id), "status": "present"}]}
    response = post(api_client(billing), f"/api/v1/sessions/{group.public_id}/attendance", body)
    assert response.status_code == 403
    assert AttendanceRecord.objects.get(session=group).status == "expected"


def test_outsider_cannot_record_attendance_in_our_session(outsider, group, patient):
    body = {"entries": [{"patient": str(patient.public_id), "status": "present"}]}
    response = post(api_client(outsider), f"/api/v1/sessions/{group.public_id}/attendance", body)
    assert response.status_code == 404
    assert AttendanceRecord.objects.get(session=group).status == "expected"


@pytest.mark.parametrize(
    ("entry", "field", "status"),
    [
        ({"minutes_attended": 200}, "entries.1.minutes_attended", 400),
        ({"checked_in_at": "2026-11-04T17:05:00"}, "entries.1.checked_in_at", 422),
        ({"status": "expected"}, "entries.1.status", 422),
        ({"status": "absent", "minutes_attended": 30}, "entries.1.minutes_attended", 400),
        ({"patient": "3c3c3c3c-5555-4555-8555-555555555555"}, "entries.1.patient", 400),
        (
            {
                "checked_in_at": "2026-11-04T18:00:00-05:00",
                "checked_out_at": "2026-11-04T17:00:00-05:00",
            },
            "entries.1.checked_out_at",
            400,
        ),
        ({"minutes_attended": -5}, "entries.1.minutes_attended", 422),
    ],
)
def test_one_bad_entry_names_it_and_nothing_is_saved(
    front_desk, group, patient, second, entry, field, status
):
    body = {"entries": [
        {"patient": str(patient.public_id), "status": "present"},
        {"patient": str(second.public_id), "status": "present", **entry},
    ]}  # fmt: skip
    response = post(api_client(front_desk), f"/api/v1/sessions/{group.public_id}/attendance", body)
    assert response.status_code == status
    assert field in fields(response)
    assert set(AttendanceRecord.objects.filter(session=group).values_list("status", flat=True)) == {
        "expected"
    }
    group.refresh_from_db()
    assert group.status == "scheduled"


def test_the_same_patient_twice_is_refused(front_desk, group, patient):
    entry = {"patient": str(patient.public_id), "status": "present"}
    response = post(api_client(front_desk), f"/api/v1/sessions/{group.public_id}/attendance",
                    {"entries": [entry, entry]})  # fmt: skip
    assert response.status_code == 400
    assert "twice" in response.json()["detail"][0]["message"]
    assert AttendanceRecord.objects.get(session=group).status == "expected"


def test_another_organizations_patient_is_unknown(front_desk, outsider, group):
    theirs = patient_create(actor=None, organization=outsider.organization, first_name="Zed",
                            last_name="Other", date_of_birth=dt.date(1980, 1, 1))  # fmt: skip
    body = {"entries": [{"patient": str(theirs.public_id), "status": "present"}]}
    response = post(api_client(front_desk), f"/api/v1/sessions/{group.public_id}/attendance", body)
    assert response.status_code == 400
    assert response.json()["detail"] == [
        {"field": "entries.0.patient", "message": "Unknown patient."}
    ]


def test_empty_check_in_is_refused(front_desk, group):
    response = post(api_client(front_desk), f"/api/v1/sessions/{group.public_id}/attendance",
                    {"entries": []})  # fmt: skip
    assert response.status_code == 422
    assert fields(response) == {"entries"}


# --- compliance -------------------------------------------------------------------------------


def _attend(session, patient, minutes=180):
    attendance_record(actor=None, session=session, entries=[
        AttendanceEntry(patient=patient, status="present", minutes_attended=minutes)])  # fmt: skip


def test_compliance_reports_each_patients_week(billing, program, room, episode, patient):
    monday = make_session(program, room, 2)
    session_book(actor=None, session=monday, episode=episode)
    _attend(monday, patient)
    friday = make_session(program, room, 6)
    session_book(actor=None, session=friday, episode=episode)
    response = api_client(billing).get(
        f"/api/v1/compliance?week=2026-11-02&program={program.public_id}"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["week"] == "2026-11-02"
    assert body["weekly_min_minutes"] == 540
    [row] = body["rows"]
    assert row["patient"] == {"id": str(patient.public_id), "name": "Dana Whitfield"}
    assert row["episode"] == str(episode.public_id)
    assert row["minutes_attended"] == 180
    assert row["days_attended"] == 1
    assert row["minutes_remaining"] == 180
    assert row["required_minutes"] == 540
    assert row["required_days"] == 3
    assert row["status"] == "at_risk"  # 180 done + 180 possible < 540
    assert row["over_max"] is False
    assert row["prorated"] is False
    assert row["reason"]
    audit = AuditEvent.objects.get(action="openiop.attendance.compliance.read")
    assert audit.category == "compliance"
    assert audit.detail["patients"] == [str(patient.public_id)]


@pytest.mark.parametrize(
    ("query", "field", "status"),
    [
        ("week=2026-11-04", "week", 400),
        ("week=2026-02-30", "week", 422),
        ("week=next", "week", 422),
        ("week=", "week", 422),
        ("", "week", 422),
        ("week=9999-12-27", "week", 422),
    ],
)
def test_compliance_bad_week_names_the_field(counselor, program, query, field, status):
    response = api_client(counselor).get(f"/api/v1/compliance?{query}&program={program.public_id}")
    assert response.status_code == status
    assert field in fields(response)


def test_compliance_not_monday_suggests_the_monday(counselor, program):
    response = api_client(counselor).get(
        f"/api/v1/compliance?week=2026-11-04&program={program.public_id}"
    )
    assert "2026-11-02" in response.json()["detail"][0]["message"]


def test_compliance_program_must_be_ours(counselor, outsider, program, episode):
    client = api_client(counselor)
    response = client.get("/api/v1/compliance?week=2026-11-02&program=not-a-uuid")
    assert response.status_code == 422
    assert fields(response) == {"program"}
    unknown = "/api/v1/compliance?week=2026-11-02&program=4a4a4a4a-6666-4666-8666-666666666666"
    assert client.get(unknown).status_code == 404
    theirs = api_client(outsider).get(
        f"/api/v1/compliance?week=2026-11-02&program={program.public_id}"
    )
    assert theirs.status_code == 404
    assert "Whitfield" not in theirs.content.decode()


def test_compliance_needs_a_role(org, program):
    nobody = make_user("norole", org)
    response = api_client(nobody).get(
        f"/api/v1/compliance?week=2026-11-02&program={program.public_id}"
    )
    assert response.status_code == 403


def test_compliance_query_count_does_not_grow_with_patients(
    counselor, org, program, room, django_assert_max_num_queries
):
    sessions = [make_session(program, room, day) for day in (2, 3, 4)]

    def enrol(n: int, start: int) -> None:
        for i in range(start, start + n):
            p = patient_create(actor=None, organization=org, first_name=f"P{i}", last_name="Many",
                               date_of_birth=dt.date(1990, 1, 1))  # fmt: skip
            ep = episode_create(actor=None, patient=p, program=program,
                                admitted_on=dt.date(2026, 11, 2))  # fmt: skip
            for session in sessions:
                session_book(actor=None, session=session, episode=ep)
            _attend(sessions[0], p, 120)

    client = api_client(counselor)
    path = f"/api/v1/compliance?week=2026-11-02&program={program.public_id}"
    enrol(1, 0)
    client.get(path)
    with django_assert_max_num_queries(12) as one:
        client.get(path)
    enrol(9, 1)
    with django_assert_max_num_queries(12) as ten:
        response = client.get(path)
    assert len(ten.captured_queries) == len(one.captured_queries)
    rows = response.json()["rows"]
    assert len(rows) == 10
    assert {r["minutes_attended"] for r in rows} == {120}
