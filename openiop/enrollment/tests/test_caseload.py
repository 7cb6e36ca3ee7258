"""Counselors see their caseload (issue 7): another counselor's patient is a 404, like another
organization's; program assignment, facilitated sessions and break-glass widen it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.urls import reverse

from conftest import api_client, login, make_user
from openiop.accounts.permissions import Role
from openiop.attendance.models import AttendanceRecord
from openiop.core.models import AuditEvent
from openiop.enrollment.caseload import patient_in_caseload, visible_patients
from openiop.enrollment.services import episode_create
from openiop.patients.services import patient_create
from openiop.scheduling.models import ClinicianProgram, Session


@pytest.fixture
def colleague(org):
    return make_user("colleague", org, Role.COUNSELOR)


@pytest.fixture
def theirs(org, program, colleague):
    """A patient in the same program whose primary counselor is the colleague."""
    patient = patient_create(
        actor=None, organization=org, first_name="Quentin", last_name="Hollowell",
        date_of_birth=dt.date(1979, 3, 3), sex="male",
    )  # fmt: skip
    episode_create(
        actor=None, patient=patient, program=program, admitted_on=dt.date(2026, 11, 2),
        referral_source="self", primary_substance=2, primary_counselor=colleague,
    )  # fmt: skip
    return patient


def pages(patient):
    episode = patient.episodes.get()
    return [
        reverse("patients:patient-detail", args=[patient.public_id]),
        reverse("enrollment:episode-detail", args=[episode.public_id]),
        reverse("clinical:note-list", args=[episode.public_id]),
        reverse("questionnaires:patient-scores", args=[patient.public_id]),
        reverse("consent:consent-list", args=[patient.public_id]),
    ]


def test_a_counselor_sees_own_patients_but_not_a_colleagues(
    client, counselor, patient, episode, theirs
):
    login(client, counselor)
    for url in pages(patient):
        assert client.get(url).status_code == 200, url
    for url in pages(theirs):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Hollowell" not in response.content.decode()
    listing = client.get(reverse("patients:patient-list")).content.decode()
    assert "Whitfield" in listing and "Hollowell" not in listing


def test_the_api_hides_patients_outside_the_caseload(counselor, episode, theirs):
    client = api_client(counselor)
    assert client.get(f"/api/v1/patients/{theirs.public_id}").status_code == 404
    names = [p["last_name"] for p in client.get("/api/v1/patients").json()["items"]]
    assert names == ["Whitfield"]


def test_directors_and_prescribers_see_the_whole_organization(
    client, supervisor, prescriber, theirs
):
    for user in (supervisor, prescriber):
        client.force_login(user)
        assert client.get(pages(theirs)[0]).status_code == 200


def test_leading_the_programs_groups_brings_its_patients_into_the_caseload(
    client, counselor, org, program, theirs
):
    assert not patient_in_caseload(counselor, theirs.pk)
    ClinicianProgram.objects.create(organization=org, user=counselor, program=program)
    assert patient_in_caseload(counselor, theirs.pk)
    assert login(client, counselor).get(pages(theirs)[0]).status_code == 200


def test_facilitating_a_session_the_patient_is_booked_into_brings_them_in(
    counselor, org, program, room, theirs
):
    start = dt.datetime(2026, 11, 10, 23, 0, tzinfo=dt.UTC)
    session = Session.objects.create(
        organization=org, program=program, room=room, kind="group", title="Relapse prevention",
        starts_at=start, ends_at=start + dt.timedelta(hours=3),
    )  # fmt: skip
    session.facilitators.add(counselor)
    AttendanceRecord.objects.create(
        organization=org, session=session, patient=theirs, episode=theirs.episodes.get()
    )
    assert patient_in_caseload(counselor, theirs.pk)


def test_a_patient_nobody_is_assigned_to_yet_is_visible_for_intake_work(counselor, org):
    new = patient_create(
        actor=None, organization=org, first_name="Iris", last_name="Newcomb",
        date_of_birth=dt.date(2000, 1, 1), sex="female",
    )  # fmt: skip
    assert patient_in_caseload(counselor, new.pk)
    assert new in visible_patients(counselor)


def test_break_glass_opens_the_record_for_its_window_and_marks_every_look(
    client, counselor, theirs, time_machine
):
    time_machine.move_to(dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC), tick=False)
    login(client, counselor)
    found = client.get(
        reverse("consent:break-glass-find"),
        {"last_name": "hollowell", "date_of_birth": "1979-03-03"},
    )
    start = reverse("consent:break-glass-start", args=[theirs.public_id])
    assert found.status_code == 302 and found["Location"] == start
    reason = "Patient collapsed in the lobby; need medication list for EMS now."
    assert client.post(start, {"reason": reason}).status_code == 302
    assert client.get(pages(theirs)[0]).status_code == 200
    looked = AuditEvent.objects.filter(
        actor=counselor, patient_id=str(theirs.public_id), detail__break_glass=True
    )
    assert looked.exists()
    time_machine.move_to(dt.datetime(2026, 11, 20, 16, 1, tzinfo=dt.UTC), tick=False)
    login(client, counselor)  # a fresh session: the idle time-out is not what is tested here
    assert client.get(pages(theirs)[0]).status_code == 404


def test_break_glass_find_never_lists_patients(client, counselor, theirs):
    login(client, counselor)
    response = client.get(
        reverse("consent:break-glass-find"),
        {"last_name": "Hollowell", "date_of_birth": "1990-01-01"},
    )
    assert response.status_code == 200
    assert "No single patient matches" in response.content.decode()
    assert "Quentin" not in response.content.decode()


@override_settings(OPENIOP_CASELOAD_SCOPING=False)
def test_scoping_can_be_turned_off_for_a_small_clinic(client, counselor, theirs):
    assert login(client, counselor).get(pages(theirs)[0]).status_code == 200
