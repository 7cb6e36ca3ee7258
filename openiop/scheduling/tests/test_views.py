from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from conftest import login, make_user
from openiop.accounts.permissions import Role
from openiop.attendance.models import AttendanceRecord
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create
from openiop.organizations.models import Program
from openiop.patients.services import patient_create
from openiop.scheduling.models import Session, SessionSeries
from openiop.scheduling.services import session_book, session_create

# Wednesday 2026-11-04, 18:00-21:00 in New York = 23:00-02:00 UTC.
START = dt.datetime(2026, 11, 4, 23, 0, tzinfo=dt.UTC)
DURING = START + dt.timedelta(hours=1)
LIST = "/sessions/"


@pytest.fixture
def session(program, episode, room, counselor):
    s = session_create(actor=None, program=program, title="Evening group", starts_at=START,
                       ends_at=START + dt.timedelta(hours=3), room=room,
                       facilitators=[counselor])  # fmt: skip
    session_book(actor=None, session=s, episode=episode)
    return s


@pytest.fixture
def walk_in(org, program):
    p = patient_create(actor=None, organization=org, first_name="Luis", last_name="Ortega",
                       date_of_birth=dt.date(1991, 2, 2))  # fmt: skip
    return episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 11, 2))


def detail(session):
    return reverse("scheduling:session-detail", args=[session.public_id])


# --- week list -------------------------------------------------------------------------------


@time_machine.travel(DURING, tick=False)
def test_week_list_shows_the_session_in_local_time_on_its_local_day(client, billing, session):
    login(client, billing)
    response = client.get(LIST)
    body = response.content.decode()
    assert response.status_code == 200
    assert "week of Nov 2" in body
    assert "Wednesday, Nov 4" in body  # 23:00 UTC is still Wednesday in New York
    assert "18:00–21:00" in body and "23:00" not in body
    assert "Evening group" in body and "1 / 10" in body


@time_machine.travel(DURING, tick=False)
def test_week_list_pages_by_week_and_filters_by_program(client, front_desk, session, site):
    other = Program.objects.create(organization=site.organization, site=site, name="Day IOP")
    morning = START - dt.timedelta(hours=12)
    session_create(actor=None, program=other, title="Morning group", starts_at=morning,
                   ends_at=morning + dt.timedelta(hours=3))  # fmt: skip
    login(client, front_desk)
    both = client.get(LIST).content.decode()
    assert "Evening group" in both and "Morning group" in both
    only = client.get(LIST, {"program": str(other.public_id)}).content.decode()
    assert "Morning group" in only and "Evening group" not in only
    assert f"?week=2026-11-09&amp;program={other.public_id}" in only
    assert "Evening group" not in client.get(LIST, {"week": "2026-11-09"}).content.decode()
    # Any day of a week (or nonsense) is read as that week's Monday (or this week).
    assert "Evening group" in client.get(LIST, {"week": "2026-11-06"}).content.decode()
    assert "Evening group" in client.get(LIST, {"week": "not-a-date"}).content.decode()


def test_week_list_requires_login(client):
    response = client.get(LIST)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@time_machine.travel(DURING, tick=False)
def test_week_list_hides_other_organizations_sessions(client, outsider, session):
    login(client, outsider)
    assert "Evening group" not in client.get(LIST).content.decode()


# --- create one session ----------------------------------------------------------------------


def session_data(program, room, **extra):
    data = {"program": str(program.public_id), "title": "Relapse prevention", "kind": "group",
            "date": "2026-11-04", "start_time": "18:00", "end_time": "21:00",
            "room": str(room.public_id), "capacity": ""}  # fmt: skip
    data.update(extra)
    return data


@time_machine.travel(DURING, tick=False)
def test_front_desk_creates_a_session_in_site_local_time(
    client, front_desk, program, room, counselor
):
    login(client, front_desk)
    response = client.post(
        reverse("scheduling:session-create"),
        session_data(program, room, facilitators=[str(counselor.public_id)]),
    )
    session = Session.objects.get(title="Relapse prevention")
    assert response.status_code == 302 and response["Location"] == detail(session)
    assert session.starts_at == START and session.duration_minutes == 180
    assert session.capacity == program.group_size_cap
    assert list(session.facilitators.all()) == [counselor]


@time_machine.travel(DURING, tick=False)
def test_session_ending_before_it_starts_is_refused(client, front_desk, program, room):
    login(client, front_desk)
    response = client.post(
        reverse("scheduling:session-create"), session_data(program, room, end_time="17:00")
    )
    assert response.status_code == 400
    assert "The session must end after it starts." in response.content.decode()
    assert not Session.objects.exists()


@time_machine.travel(DURING, tick=False)
def test_double_booked_room_is_a_field_error(client, front_desk, program, room, session):
    login(client, front_desk)
    response = client.post(reverse("scheduling:session-create"), session_data(program, room))
    assert response.status_code == 400
    assert "is booked for Evening group at that time." in response.content.decode()
    assert Session.objects.count() == 1


def test_auditor_cannot_create_sessions(client, auditor, program, room):
    login(client, auditor)
    assert client.get(reverse("scheduling:session-create")).status_code == 403
    response = client.post(reverse("scheduling:session-create"), session_data(program, room))
    assert response.status_code == 403
    assert not Session.objects.exists()


def test_outsider_cannot_pick_our_program(client, outsider, program, room):
    login(client, outsider)
    response = client.post(reverse("scheduling:session-create"), session_data(program, room))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Session.objects.exists()


def test_session_create_requires_login(client):
    response = client.get(reverse("scheduling:session-create"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- recurring series ------------------------------------------------------------------------


def series_data(program, room, **extra):
    data = {"program": str(program.public_id), "title": "Evening IOP group", "kind": "group",
            "weekdays": ["0", "2", "3"], "start_time": "18:00", "duration_minutes": "180",
            "start_date": "2026-10-26", "end_date": "2026-11-08",
            "room": str(room.public_id)}  # fmt: skip
    data.update(extra)
    return data


@time_machine.travel(DURING, tick=False)
def test_director_creates_a_weekly_series_that_keeps_local_time_across_dst(
    client, supervisor, program, room
):
    login(client, supervisor)
    response = client.post(reverse("scheduling:series-create"), series_data(program, room))
    assert response.status_code == 302
    assert response["Location"] == "/sessions/?week=2026-10-26"
    sessions = list(Session.objects.order_by("starts_at"))
    assert len(sessions) == 6  # Mon, Wed, Thu of two weeks
    assert {s.local_start.strftime("%a %H:%M") for s in sessions} == {
        "Mon 18:00", "Wed 18:00", "Thu 18:00"
    }  # fmt: skip
    # EDT before Nov 1, EST after: the UTC hour moves so the wall clock does not.
    assert sessions[0].starts_at.hour == 22 and sessions[-1].starts_at.hour == 23
    page = client.get(response["Location"], follow=True).content.decode()
    assert "Evening IOP group: 6 sessions." in page


@time_machine.travel(DURING, tick=False)
def test_series_ending_before_it_starts_changes_nothing(client, supervisor, program, room):
    login(client, supervisor)
    response = client.post(
        reverse("scheduling:series-create"), series_data(program, room, end_date="2026-10-01")
    )
    assert response.status_code == 400
    assert "The series must end on or after its first day." in response.content.decode()
    assert not SessionSeries.objects.exists() and not Session.objects.exists()


def test_series_without_weekdays_is_a_field_error(client, supervisor, program, room):
    login(client, supervisor)
    response = client.post(
        reverse("scheduling:series-create"), series_data(program, room, weekdays=[])
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Session.objects.exists()


def test_billing_cannot_create_a_series(client, billing, program, room):
    login(client, billing)
    response = client.post(reverse("scheduling:series-create"), series_data(program, room))
    assert response.status_code == 403
    assert not Session.objects.exists()


# --- session page and roster -----------------------------------------------------------------


@time_machine.travel(DURING, tick=False)
def test_roster_shows_header_in_local_time_and_patients(client, counselor, session, patient):
    login(client, counselor)
    response = client.get(detail(session))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Wednesday, November 4, 2026 · 18:00–21:00" in body and "EST" in body
    assert "23:00" not in body
    assert "Group A" in body and "Counselor Tester" in body
    assert "Dana Whitfield" in body and patient.mrn in body
    assert "Save attendance" in body and "Mark all present" in body
    assert 'placeholder="180"' in body


@time_machine.travel(DURING, tick=False)
def test_viewing_the_roster_is_audited_with_every_patient_shown(
    client, counselor, session, patient
):
    login(client, counselor)
    client.get(detail(session))
    event = AuditEvent.objects.get(action="openiop.scheduling.session.read")
    assert event.actor == counselor and event.object_id == str(session.public_id)
    assert event.detail["patients"] == [str(patient.public_id)]


@time_machine.travel(DURING, tick=False)
def test_billing_sees_the_roster_read_only(client, billing, session):
    login(client, billing)
    body = client.get(detail(session)).content.decode()
    assert "Dana Whitfield" in body
    assert "Save attendance" not in body and "Cancel this session" not in body
    assert "Add a walk-in" not in body


@time_machine.travel(DURING, tick=False)
def test_outsider_gets_404_on_our_session(client, outsider, session):
    login(client, outsider)
    assert client.get(detail(session)).status_code == 404
    assert not AuditEvent.objects.filter(action="openiop.scheduling.session.read").exists()


def test_session_page_requires_login(client, session):
    response = client.get(detail(session))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_staff_without_an_organization_get_403(client, session):
    loner = make_user("loner", None, Role.FRONT_DESK)
    login(client, loner)
    assert client.get(detail(session)).status_code == 403


@time_machine.travel(DURING, tick=False)
def test_session_page_query_count_does_not_grow_with_the_roster(
    client, front_desk, session, org, program, django_assert_max_num_queries
):
    for i in range(6):
        p = patient_create(actor=None, organization=org, first_name=f"P{i}", last_name="Roster",
                           date_of_birth=dt.date(1990, 1, 1))  # fmt: skip
        e = episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 11, 2))
        if i < 4:
            session_book(actor=None, session=session, episode=e)
    login(client, front_desk)
    with django_assert_max_num_queries(16):
        body = client.get(detail(session)).content.decode()
    assert body.count('class="roster-row') == 5


# --- booking ---------------------------------------------------------------------------------


@time_machine.travel(DURING, tick=False)
def test_front_desk_adds_a_walk_in(client, front_desk, session, walk_in):
    login(client, front_desk)
    page = client.get(detail(session)).content.decode()
    assert "Ortega, Luis" in page  # offered in the walk-in list
    response = client.post(
        reverse("scheduling:booking-create", args=[session.public_id]),
        {"episode": str(walk_in.public_id)}, follow=True,
    )  # fmt: skip
    assert response.status_code == 200
    assert "Added Luis Ortega to the roster." in response.content.decode()
    assert AttendanceRecord.objects.filter(session=session, episode=walk_in).exists()


@time_machine.travel(DURING, tick=False)
def test_booking_a_patient_already_on_the_roster_is_a_field_error(
    client, front_desk, session, episode
):
    login(client, front_desk)
    response = client.post(reverse("scheduling:booking-create", args=[session.public_id]),
                           {"episode": str(episode.public_id)})  # fmt: skip
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert AttendanceRecord.objects.filter(session=session).count() == 1


@time_machine.travel(DURING, tick=False)
def test_counselor_cannot_book_and_outsider_gets_404(client, counselor, outsider, session, walk_in):
    url = reverse("scheduling:booking-create", args=[session.public_id])
    login(client, counselor)
    assert client.post(url, {"episode": str(walk_in.public_id)}).status_code == 403
    login(client, outsider)
    assert client.post(url, {"episode": str(walk_in.public_id)}).status_code == 404
    assert not AttendanceRecord.objects.filter(episode=walk_in).exists()


# --- cancelling ------------------------------------------------------------------------------


@time_machine.travel(DURING, tick=False)
def test_front_desk_cancels_with_a_reason(client, front_desk, session):
    login(client, front_desk)
    response = client.post(reverse("scheduling:session-cancel", args=[session.public_id]),
                           {"reason": "Snow storm"}, follow=True)  # fmt: skip
    body = response.content.decode()
    assert "Evening group is cancelled." in body and "Snow storm" in body
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED and session.cancel_reason == "Snow storm"
    assert "Save attendance" not in body


@time_machine.travel(DURING, tick=False)
def test_cancel_without_a_reason_changes_nothing(client, front_desk, session):
    login(client, front_desk)
    response = client.post(reverse("scheduling:session-cancel", args=[session.public_id]),
                           {"reason": ""})  # fmt: skip
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED


@time_machine.travel(DURING, tick=False)
def test_cancelling_a_held_session_is_refused(client, front_desk, session, patient):
    AttendanceRecord.objects.filter(session=session).update(status="present", minutes_attended=180)
    login(client, front_desk)
    response = client.post(reverse("scheduling:session-cancel", args=[session.public_id]),
                           {"reason": "oops"})  # fmt: skip
    assert response.status_code == 400
    assert "Attendance was already taken" in response.content.decode()
    assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED


def test_cancel_permissions(client, counselor, outsider, session):
    url = reverse("scheduling:session-cancel", args=[session.public_id])
    login(client, counselor)
    assert client.post(url, {"reason": "x"}).status_code == 403
    login(client, outsider)
    assert client.post(url, {"reason": "x"}).status_code == 404
    client.logout()
    assert client.post(url, {"reason": "x"}).status_code == 302
    assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED
