from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from conftest import login
from openiop.attendance.models import AttendanceRecord
from openiop.enrollment.services import episode_create
from openiop.patients.services import patient_create
from openiop.scheduling.models import Session
from openiop.scheduling.services import session_book, session_create

# Wednesday 2026-11-04, 18:00-21:00 in New York = 23:00-02:00 UTC.
START = dt.datetime(2026, 11, 4, 23, 0, tzinfo=dt.UTC)
DURING = START + dt.timedelta(hours=1)


@pytest.fixture
def session(program, episode, room):
    s = session_create(actor=None, program=program, title="Evening group", starts_at=START,
                       ends_at=START + dt.timedelta(hours=3), room=room)  # fmt: skip
    session_book(actor=None, session=s, episode=episode)
    return s


@pytest.fixture
def second(org, program, session):
    p = patient_create(actor=None, organization=org, first_name="Luis", last_name="Ortega",
                       date_of_birth=dt.date(1991, 2, 2))  # fmt: skip
    e = episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 11, 2))
    session_book(actor=None, session=session, episode=e)
    return p


def url(session):
    return reverse("scheduling:attendance-record", args=[session.public_id])


def roster_post(*rows, action="save"):
    """rows: (patient, status, minutes, check-in 'HH:MM', note)"""
    data = {"roster-TOTAL_FORMS": str(len(rows)), "roster-INITIAL_FORMS": str(len(rows)),
            "action": action}  # fmt: skip
    for i, (patient, status, minutes, checked_in, note) in enumerate(rows):
        data[f"roster-{i}-patient"] = str(patient.public_id)
        data[f"roster-{i}-status"] = status
        data[f"roster-{i}-minutes"] = "" if minutes is None else str(minutes)
        data[f"roster-{i}-checked_in"] = checked_in
        data[f"roster-{i}-note"] = note
    return data


def checked(body, status):
    """How many radio buttons for ``status`` are checked on the page."""
    return len(re.findall(rf'value="{status}" id="[^"]+" checked', body))


def statuses(session):
    return dict(AttendanceRecord.objects.filter(session=session)
                .values_list("patient__last_name", "status"))  # fmt: skip


@time_machine.travel(DURING, tick=False)
def test_front_desk_saves_the_whole_group_and_sees_the_counts(
    client, front_desk, session, patient, second
):
    login(client, front_desk)
    response = client.post(url(session), roster_post(
        (patient, "present", None, "", ""), (second, "absent", None, "", "called in sick"),
    ), follow=True)  # fmt: skip
    assert response.status_code == 200
    assert "Attendance saved: 1 present, 1 absent." in response.content.decode()
    assert statuses(session) == {"Whitfield": "present", "Ortega": "absent"}
    present = AttendanceRecord.objects.get(session=session, patient=patient)
    assert present.minutes_attended == 180 and present.recorded_by == front_desk
    assert AttendanceRecord.objects.get(session=session, patient=second).note == "called in sick"
    assert Session.objects.get(pk=session.pk).status == Session.Status.HELD


@time_machine.travel(DURING, tick=False)
def test_check_in_time_is_read_as_site_local_time(client, counselor, session, patient):
    login(client, counselor)
    response = client.post(url(session), roster_post((patient, "late", None, "18:40", "")))
    assert response.status_code == 302
    record = AttendanceRecord.objects.get(session=session, patient=patient)
    assert record.checked_in_at == START + dt.timedelta(minutes=40)  # 18:40 New York = 23:40 UTC
    assert record.minutes_attended == 140
    page = client.get(
        reverse("scheduling:session-detail", args=[session.public_id])
    ).content.decode()
    assert 'value="18:40"' in page


@time_machine.travel(DURING, tick=False)
def test_minutes_longer_than_the_session_saves_nothing_and_names_the_row(
    client, front_desk, session, patient, second
):
    login(client, front_desk)
    response = client.post(url(session), roster_post(
        (patient, "present", None, "", ""), (second, "present", 500, "", ""),
    ))  # fmt: skip
    assert response.status_code == 400
    body = response.content.decode()
    assert "The session lasts 180 minutes; 500 is more than that." in body
    assert 'value="500"' in body  # the user's input is kept
    assert statuses(session) == {"Whitfield": "expected", "Ortega": "expected"}


@time_machine.travel(DURING, tick=False)
def test_nothing_chosen_is_an_error(client, front_desk, session, patient):
    login(client, front_desk)
    response = client.post(url(session), roster_post((patient, "", None, "", "")))
    assert response.status_code == 400
    assert "Choose a status for at least one patient." in response.content.decode()


@time_machine.travel(DURING, tick=False)
def test_a_patient_not_on_the_roster_is_refused(client, front_desk, session, patient, org):
    stranger = patient_create(actor=None, organization=org, first_name="Ann", last_name="Lee",
                              date_of_birth=dt.date(1990, 1, 1))  # fmt: skip
    login(client, front_desk)
    response = client.post(url(session), roster_post((stranger, "present", None, "", "")))
    assert response.status_code == 400
    assert "The roster changed" in response.content.decode()
    assert not AttendanceRecord.objects.filter(patient=stranger).exists()


@time_machine.travel(DURING, tick=False)
def test_mark_all_present_fills_the_form_without_saving(
    client, front_desk, session, patient, second
):
    login(client, front_desk)
    response = client.post(url(session), roster_post(
        (patient, "", None, "", ""), (second, "excused", None, "", ""), action="mark_all",
    ))  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 200
    assert "Marked everyone present" in body
    assert checked(body, "present") == 1  # Whitfield; Ortega stays excused
    assert checked(body, "excused") == 1
    assert 'value="180"' in body
    assert statuses(session) == {"Whitfield": "expected", "Ortega": "expected"}


@time_machine.travel(DURING, tick=False)
def test_htmx_save_answers_with_the_page_body(client, front_desk, session, patient):
    login(client, front_desk)
    response = client.post(url(session), roster_post((patient, "present", 170, "", "")),
                           HTTP_HX_REQUEST="true")  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="session-body"' in body
    assert "Attendance saved: 1 present." in body
    assert AttendanceRecord.objects.get(session=session, patient=patient).minutes_attended == 170


@time_machine.travel(DURING, tick=False)
def test_htmx_errors_are_swapped_in_too(client, front_desk, session, patient):
    login(client, front_desk)
    response = client.post(url(session), roster_post((patient, "absent", 30, "", "")),
                           HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200
    assert "An absent patient attended 0 minutes." in response.content.decode()
    assert statuses(session) == {"Whitfield": "expected"}


def test_attendance_before_the_session_opens_is_refused(client, front_desk, session, patient):
    with time_machine.travel(START - dt.timedelta(hours=5), tick=False):
        login(client, front_desk)
        response = client.post(url(session), roster_post((patient, "present", None, "", "")))
    assert response.status_code == 400
    assert "The session has not started yet." in response.content.decode()


@time_machine.travel(DURING, tick=False)
def test_billing_cannot_take_attendance(client, billing, session, patient):
    login(client, billing)
    response = client.post(url(session), roster_post((patient, "present", None, "", "")))
    assert response.status_code == 403
    assert statuses(session) == {"Whitfield": "expected"}


@time_machine.travel(DURING, tick=False)
def test_outsider_gets_404(client, outsider, session, patient):
    login(client, outsider)
    response = client.post(url(session), roster_post((patient, "present", None, "", "")))
    assert response.status_code == 404
    assert statuses(session) == {"Whitfield": "expected"}


def test_login_required(client, session, patient):
    response = client.post(url(session), roster_post((patient, "present", None, "", "")))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_get_is_not_allowed(client, front_desk, session):
    login(client, front_desk)
    assert client.get(url(session)).status_code == 405
