"""Sessions API: list by site-local day, schedule, read with roster, cancel, book."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine

from conftest import api_client
from openiop.attendance.models import AttendanceRecord
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create
from openiop.organizations.models import Room, Site
from openiop.patients.services import patient_create
from openiop.scheduling.models import Session
from openiop.scheduling.services import session_book, session_create

NY = zoneinfo.ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 11, 4, 23, 0, tzinfo=dt.UTC)  # Wednesday 18:00 in New York


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def group(program, room, episode):
    session = session_create(
        actor=None, program=program, title="Relapse prevention", room=room,
        starts_at=dt.datetime(2026, 11, 4, 17, 0, tzinfo=NY),
        ends_at=dt.datetime(2026, 11, 4, 20, 0, tzinfo=NY),
    )  # fmt: skip
    session_book(actor=None, session=session, episode=episode)
    return session


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def fields(response) -> set[str]:
    return {e["field"] for e in response.json()["detail"]}


def new_body(program_, **change):
    return {"program": str(program_.public_id), "title": "Coping skills",
            "starts_at": "2026-11-05T18:00:00-05:00", "ends_at": "2026-11-05T21:00:00-05:00",
            **change}  # fmt: skip


# --- list -------------------------------------------------------------------------------------


def test_list_by_site_local_day_shows_local_times(billing, group):
    client = api_client(billing)
    # 17:00-20:00 New York on 4 Nov is 22:00-01:00 UTC: still "4 November" for the clinic.
    body = client.get("/api/v1/sessions?date_from=2026-11-04&date_to=2026-11-04").json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["title"] == "Relapse prevention"
    assert item["starts_at"] == "2026-11-04T17:00:00-05:00"
    assert item["duration_minutes"] == 180
    assert item["booked"] == 1
    assert item["room"]["name"] == "Group A"
    assert client.get("/api/v1/sessions?date_from=2026-11-05").json()["count"] == 0
    assert client.get("/api/v1/sessions?date_to=2026-11-03").json()["count"] == 0
    assert client.get("/api/v1/sessions?status=cancelled").json()["count"] == 0
    assert client.get(f"/api/v1/sessions?program={group.program.public_id}").json()["count"] == 1


def test_list_rejects_bad_filters(counselor, group):
    client = api_client(counselor)
    response = client.get("/api/v1/sessions?date_from=2026-13-01")
    assert response.status_code == 422
    assert fields(response) == {"date_from"}
    response = client.get("/api/v1/sessions?date_from=2026-11-05&date_to=2026-11-01")
    assert response.status_code == 400
    assert fields(response) == {"date_to"}
    assert client.get("/api/v1/sessions?program=0d3c9a52-2222-4222-8222-222222222222"
                      ).status_code == 404  # fmt: skip


def test_outsider_lists_none_of_our_sessions(outsider, group):
    assert api_client(outsider).get("/api/v1/sessions").json()["count"] == 0


# --- create -----------------------------------------------------------------------------------


def test_front_desk_schedules_a_session(front_desk, counselor, program, room):
    body = new_body(program, room=str(room.public_id), facilitators=[str(counselor.public_id)])
    response = post(api_client(front_desk), "/api/v1/sessions", body)
    assert response.status_code == 201
    data = response.json()
    assert data["starts_at"] == "2026-11-05T18:00:00-05:00"
    assert data["capacity"] == 10  # the program's group size cap
    assert data["facilitators"][0]["id"] == str(counselor.public_id)
    assert data["roster"] == []
    session = Session.objects.get(public_id=data["id"])
    assert session.starts_at == dt.datetime(2026, 11, 5, 23, 0, tzinfo=dt.UTC)


def test_counselor_cannot_schedule_sessions(counselor, program):
    assert post(api_client(counselor), "/api/v1/sessions", new_body(program)).status_code == 403
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"starts_at": "2026-11-05T18:00:00"}, "starts_at", 422),
        ({"ends_at": "2026-11-05 21:00"}, "ends_at", 422),
        ({"ends_at": "2026-11-05T17:00:00-05:00"}, "ends_at", 400),
        ({"kind": "party"}, "kind", 422),
        ({"capacity": 0}, "capacity", 422),
        ({"capacity": 50}, "capacity", 400),
        ({"title": ""}, "title", 422),
        ({"facilitators": ["7e2e2e2e-3333-4333-8333-333333333333"]}, "facilitators", 400),
        ({"program": "7e2e2e2e-3333-4333-8333-333333333333"}, "program", 400),
    ],
)
def test_bad_session_input_names_the_field(front_desk, program, room, change, field, status):
    body = new_body(program, room=str(room.public_id), **change)
    response = post(api_client(front_desk), "/api/v1/sessions", body)
    assert response.status_code == status
    assert field in fields(response)
    assert not Session.objects.exists()


def test_another_organizations_room_is_refused(front_desk, outsider, program):
    their_site = Site.objects.get(organization=outsider.organization)
    their_room = Room.objects.create(organization=outsider.organization, site=their_site,
                                     name="Their room")  # fmt: skip
    response = post(api_client(front_desk), "/api/v1/sessions",
                    new_body(program, room=str(their_room.public_id)))  # fmt: skip
    assert response.status_code == 400
    assert fields(response) == {"room"}
    assert not Session.objects.exists()


# --- read -------------------------------------------------------------------------------------


def test_get_session_shows_roster_and_audits(counselor, group, patient):
    response = api_client(counselor).get(f"/api/v1/sessions/{group.public_id}")
    assert response.status_code == 200
    roster = response.json()["roster"]
    assert [(r["patient"]["name"], r["status"]) for r in roster] == [("Dana Whitfield", "expected")]
    row = AuditEvent.objects.get(action="openiop.scheduling.session.read")
    assert row.detail["patients"] == [str(patient.public_id)]


def test_outsider_gets_404_for_our_session(outsider, group):
    response = api_client(outsider).get(f"/api/v1/sessions/{group.public_id}")
    assert response.status_code == 404
    assert "Whitfield" not in response.content.decode()


# --- cancel -----------------------------------------------------------------------------------


def test_front_desk_cancels_a_session(front_desk, group):
    response = post(api_client(front_desk), f"/api/v1/sessions/{group.public_id}/cancel",
                    {"reason": "snow storm"})  # fmt: skip
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "snow storm"


def test_cancel_permissions_and_input(billing, outsider, front_desk, group):
    path = f"/api/v1/sessions/{group.public_id}/cancel"
    assert post(api_client(billing), path, {"reason": "x"}).status_code == 403
    assert post(api_client(outsider), path, {"reason": "x"}).status_code == 404
    response = post(api_client(front_desk), path, {})
    assert response.status_code == 422
    assert fields(response) == {"reason"}
    group.refresh_from_db()
    assert group.status == "scheduled"


# --- bookings ---------------------------------------------------------------------------------


def test_booking_puts_a_patient_on_the_roster_once(front_desk, group, org, program):
    other = patient_create(actor=None, organization=org, first_name="Lee", last_name="Park",
                           date_of_birth=dt.date(1990, 3, 3))  # fmt: skip
    ep = episode_create(
        actor=None, patient=other, program=program, admitted_on=dt.date(2026, 11, 3)
    )
    client = api_client(front_desk)
    path = f"/api/v1/sessions/{group.public_id}/bookings"
    first = post(client, path, {"episode": str(ep.public_id)})
    assert first.status_code == 201
    assert first.json()["patient"]["name"] == "Lee Park"
    assert first.json()["status"] == "expected"
    again = post(client, path, {"episode": str(ep.public_id)})
    assert again.status_code == 200
    assert AttendanceRecord.objects.filter(session=group).count() == 2


def test_booking_a_waitlisted_or_unknown_episode_is_refused(front_desk, group, org, program):
    other = patient_create(actor=None, organization=org, first_name="Lee", last_name="Park",
                           date_of_birth=dt.date(1990, 3, 3))  # fmt: skip
    waiting = episode_create(actor=None, patient=other, program=program)
    client = api_client(front_desk)
    path = f"/api/v1/sessions/{group.public_id}/bookings"
    for episode_id in (waiting.public_id, "9b9b9b9b-4444-4444-8444-444444444444"):
        response = post(client, path, {"episode": str(episode_id)})
        assert response.status_code == 400
        assert fields(response) == {"episode"}
    assert AttendanceRecord.objects.filter(session=group).count() == 1


def test_booking_permissions(counselor, outsider, group, episode):
    path = f"/api/v1/sessions/{group.public_id}/bookings"
    assert post(api_client(counselor), path, {"episode": str(episode.public_id)}).status_code == 403
    assert post(api_client(outsider), path, {"episode": str(episode.public_id)}).status_code == 404
