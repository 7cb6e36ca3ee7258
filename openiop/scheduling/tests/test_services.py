from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from conftest import NY
from openiop.organizations.models import Room, Site
from openiop.scheduling.models import Session
from openiop.scheduling.services import (
    local_datetime,
    series_create,
    session_book,
    session_cancel,
    session_create,
)

NOW = dt.datetime(2026, 10, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_series_keeps_local_wall_time_across_the_dst_change(program, room):
    series = series_create(
        actor=None,
        program=program,
        title="Evening group",
        weekdays=[4],
        start_time=dt.time(18),
        duration_minutes=180,
        start_date=dt.date(2026, 10, 26),
        end_date=dt.date(2026, 11, 8),
        room=room,
    )
    sessions = list(series.sessions.order_by("starts_at"))
    assert [s.local_start.strftime("%a %H:%M") for s in sessions] == ["Fri 18:00", "Fri 18:00"]
    # 18:00 EDT is 22:00 UTC; after the fall-back it is 23:00 UTC.
    assert [s.starts_at.astimezone(dt.UTC).hour for s in sessions] == [22, 23]
    assert all(s.duration_minutes == 180 for s in sessions)


def test_skipped_wall_time_resolves_forward():
    at = local_datetime(dt.date(2026, 3, 8), dt.time(2, 30), NY)
    assert at.astimezone(NY).strftime("%H:%M %Z") == "03:30 EDT"


def test_room_double_booking_is_refused(program, room):
    start = dt.datetime(2026, 10, 21, 22, 0, tzinfo=dt.UTC)
    session_create(
        actor=None,
        program=program,
        title="Group A",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        room=room,
    )
    with pytest.raises(ValidationError) as err:
        session_create(
            actor=None,
            program=program,
            title="Group B",
            starts_at=start + dt.timedelta(hours=1),
            ends_at=start + dt.timedelta(hours=2),
            room=room,
        )
    assert "booked" in str(err.value)
    assert Session.objects.count() == 1


def test_bad_session_input_names_the_field(program, room, org):
    start = dt.datetime(2026, 10, 21, 22, 0, tzinfo=dt.UTC)
    with pytest.raises(ValidationError) as err:
        session_create(actor=None, program=program, title="x", starts_at=start, ends_at=start)
    assert "ends_at" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        session_create(
            actor=None,
            program=program,
            title="x",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            room=room,
            capacity=40,
        )
    assert "capacity" in err.value.message_dict
    elsewhere = Site.objects.create(organization=org, name="Northside", timezone="America/New_York")
    far_room = Room.objects.create(organization=org, site=elsewhere, name="N1")
    with pytest.raises(ValidationError) as err:
        session_create(
            actor=None,
            program=program,
            title="x",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            room=far_room,
        )
    assert "room" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        series_create(
            actor=None,
            program=program,
            title="x",
            weekdays=[0],
            start_time=dt.time(9),
            duration_minutes=60,
            start_date=dt.date(2026, 11, 5),
            end_date=dt.date(2026, 11, 1),
        )
    assert "end_date" in err.value.message_dict
    assert Session.objects.count() == 0


def test_booking_respects_capacity_and_is_idempotent(program, episode, org):
    from openiop.enrollment.services import episode_create
    from openiop.patients.services import patient_create

    start = dt.datetime(2026, 11, 4, 23, 0, tzinfo=dt.UTC)
    session = session_create(
        actor=None,
        program=program,
        title="Small group",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        capacity=1,
    )
    first = session_book(actor=None, session=session, episode=episode)
    assert session_book(actor=None, session=session, episode=episode) == first
    other = patient_create(
        actor=None,
        organization=org,
        first_name="Sam",
        last_name="Lee",
        date_of_birth=dt.date(1979, 5, 5),
    )
    second_episode = episode_create(
        actor=None, patient=other, program=program, admitted_on=dt.date(2026, 11, 2)
    )
    with pytest.raises(ValidationError, match="full"):
        session_book(actor=None, session=session, episode=second_episode)
    assert session.attendance.count() == 1


def test_a_patient_is_not_booked_before_admission(program, episode):
    start = dt.datetime(2026, 10, 28, 22, 0, tzinfo=dt.UTC)
    session = session_create(
        actor=None,
        program=program,
        title="Group",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
    )
    with pytest.raises(ValidationError, match="before the patient's admission"):
        session_book(actor=None, session=session, episode=episode)


def test_cancel_needs_a_reason(program):
    start = dt.datetime(2026, 10, 21, 22, 0, tzinfo=dt.UTC)
    session = session_create(
        actor=None,
        program=program,
        title="Group",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
    )
    with pytest.raises(ValidationError):
        session_cancel(actor=None, session=session, reason="")
    session_cancel(actor=None, session=session, reason="Snow day")
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
