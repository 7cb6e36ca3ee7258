"""Joining a virtual session from the portal, and the facilitator's pre-filled roster."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import login
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create
from openiop.patients.models import Guardian
from openiop.patients.services import patient_create
from openiop.portal import services
from openiop.portal.models import VirtualVisit
from openiop.portal.tests.helpers import make_account as _account
from openiop.portal.tests.helpers import signed_in
from openiop.portal.video import ROOM_PREFIX, room_url
from openiop.scheduling.models import Session
from openiop.scheduling.services import session_book, session_create

# Monday 2026-11-16, 10:00-13:00 in New York = 15:00-18:00 UTC.
START = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)
END = START + dt.timedelta(hours=3)
BEFORE = START - dt.timedelta(days=2)


@pytest.fixture
def portal_client(patient, intake):
    _account(patient, intake)
    return signed_in("dana-w")


def _virtual(program, title="Online group", start=START):
    with time_machine.travel(BEFORE, tick=False):
        return session_create(
            actor=None, program=program, title=title, starts_at=start,
            ends_at=start + dt.timedelta(hours=3), is_virtual=True,
        )  # fmt: skip


@pytest.fixture
def vsession(program, episode):
    s = _virtual(program)
    with time_machine.travel(BEFORE, tick=False):
        session_book(actor=None, session=s, episode=episode)
    return s


@pytest.fixture
def second(org, program, vsession, intake):
    p = patient_create(actor=None, organization=org, first_name="Luis", last_name="Ortega",
                       date_of_birth=dt.date(1991, 2, 2))  # fmt: skip
    with time_machine.travel(BEFORE, tick=False):
        e = episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 11, 2))
        session_book(actor=None, session=vsession, episode=e)
    _account(p, intake, username="luis-o")
    return p


def join(client, session):
    return client.post(reverse("portal:session-join", args=[session.public_id]))


def leave(client, session):
    return client.post(reverse("portal:session-leave", args=[session.public_id]))


def test_join_inside_the_window_sends_to_an_unguessable_room_and_records_the_visit(
    portal_client, vsession, patient, settings
):
    settings.OPENIOP_VIDEO_PROVIDER = "jitsi"
    settings.OPENIOP_VIDEO_BASE_URL = "https://meet.jit.si/"
    with time_machine.travel(START - dt.timedelta(minutes=10), tick=False):
        response = join(portal_client, vsession)
    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith("https://meet.jit.si/" + ROOM_PREFIX)
    name = url.removeprefix("https://meet.jit.si/")
    assert len(name) >= len(ROOM_PREFIX) + 20 and vsession.title not in name
    vsession.refresh_from_db()
    assert vsession.video_room == name
    visit = VirtualVisit.objects.get()
    assert visit.patient == patient and visit.session == vsession
    assert visit.joined_at == START - dt.timedelta(minutes=10) and visit.left_at is None
    assert AuditEvent.objects.filter(
        action="openiop.portal.virtual_visit.join", patient_id=str(patient.public_id)
    ).exists()
    # Joining again while still in reuses the open visit and the same room.
    with time_machine.travel(START + dt.timedelta(minutes=5), tick=False):
        assert join(portal_client, vsession)["Location"] == url
    assert VirtualVisit.objects.count() == 1
    # Leaving closes the visit; a later join starts a new one.
    with time_machine.travel(START + dt.timedelta(minutes=30), tick=False):
        assert leave(portal_client, vsession).status_code == 302
    visit.refresh_from_db()
    assert visit.left_at == START + dt.timedelta(minutes=30)
    with time_machine.travel(START + dt.timedelta(minutes=40), tick=False):
        assert join(portal_client, vsession)["Location"] == url
    assert VirtualVisit.objects.count() == 2


def test_custom_provider_uses_the_clinic_base_url(portal_client, vsession, settings):
    settings.OPENIOP_VIDEO_PROVIDER = "custom"
    settings.OPENIOP_VIDEO_BASE_URL = "https://video.example.org/rooms"
    with time_machine.travel(START, tick=False):
        url = join(portal_client, vsession)["Location"]
    assert url.startswith("https://video.example.org/rooms/" + ROOM_PREFIX)


def test_two_patients_of_the_same_session_get_the_same_room(portal_client, vsession, second):
    with time_machine.travel(START, tick=False):
        first = join(portal_client, vsession)["Location"]
        other = join(signed_in("luis-o"), vsession)["Location"]
    assert first == other and ROOM_PREFIX in first
    assert VirtualVisit.objects.count() == 2
    assert Session.objects.get(pk=vsession.pk).video_room in first
    # Another virtual session gets a different room.
    assert room_url(_virtual(vsession.program, title="Other")) != first


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (START - dt.timedelta(minutes=16), "15 minutes before it starts"),
        (END + dt.timedelta(minutes=1), "has ended"),
    ],
)
def test_outside_the_window_is_refused_and_nothing_recorded(portal_client, vsession, when, message):
    with time_machine.travel(when, tick=False):
        response = join(portal_client, vsession)
        assert response.status_code == 302 and response["Location"] == reverse("portal:home")
        home = portal_client.get(response["Location"]).content.decode()
    assert message in home
    assert not VirtualVisit.objects.exists()
    vsession.refresh_from_db()
    assert vsession.video_room == ""


def test_home_shows_a_join_button_for_a_virtual_session(portal_client, vsession):
    with time_machine.travel(START - dt.timedelta(hours=1), tick=False):
        body = portal_client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:session-join", args=[vsession.public_id]) in body
    assert "Join online session" in body


def test_a_session_the_patient_is_not_booked_on_is_404(portal_client, program, episode):
    unbooked = _virtual(program, title="Someone else's group")
    with time_machine.travel(START, tick=False):
        assert join(portal_client, unbooked).status_code == 404
        assert leave(portal_client, unbooked).status_code == 404
    assert not VirtualVisit.objects.exists()


def test_another_patients_session_is_404(patient, intake, org, program, vsession):
    p = patient_create(actor=None, organization=org, first_name="Ann", last_name="Lee",
                       date_of_birth=dt.date(1990, 1, 1))  # fmt: skip
    _account(p, intake, username="ann-l")
    with time_machine.travel(START, tick=False):
        assert join(signed_in("ann-l"), vsession).status_code == 404
    assert not VirtualVisit.objects.exists()


def test_in_person_and_cancelled_sessions_are_404(portal_client, vsession, program, episode, room):
    with time_machine.travel(BEFORE, tick=False):
        in_person = session_create(actor=None, program=program, title="Group", starts_at=START,
                                   ends_at=END, room=room)  # fmt: skip
        session_book(actor=None, session=in_person, episode=episode)
    Session.objects.filter(pk=vsession.pk).update(status=Session.Status.CANCELLED)
    with time_machine.travel(START, tick=False):
        assert join(portal_client, in_person).status_code == 404
        assert join(portal_client, vsession).status_code == 404
    assert not VirtualVisit.objects.exists()


def test_staff_get_404_and_anonymous_the_log_in_page(vsession, counselor, client):
    with time_machine.travel(START, tick=False):
        assert join(login(Client(), counselor), vsession).status_code == 404
        response = join(client, vsession)
    assert response.status_code == 302 and "login" in response["Location"]
    assert not VirtualVisit.objects.exists()


def test_get_is_not_allowed(portal_client, vsession):
    with time_machine.travel(START, tick=False):
        url = reverse("portal:session-join", args=[vsession.public_id])
        assert portal_client.get(url).status_code == 405
    assert not VirtualVisit.objects.exists()


def test_guardian_joins_for_the_patient_only_when_the_schedule_is_shown(intake, patient, vsession):
    guardian = Guardian.objects.create(
        organization=patient.organization, patient=patient, name="Rosa Whitfield"
    )
    account = _account(patient, intake, guardian=guardian, username="rosa")
    client = signed_in("rosa")
    with time_machine.travel(START, tick=False):
        assert join(client, vsession).status_code == 302
    assert VirtualVisit.objects.get().patient == patient
    services.guardian_visibility_set(actor=intake, account=account, areas=set())
    with time_machine.travel(START + dt.timedelta(minutes=1), tick=False):
        assert join(client, vsession).status_code == 404


def test_attendance_screen_shows_portal_joins_and_prefills(
    portal_client, vsession, second, counselor, patient
):
    # Dana joins 5 min early and leaves after 2 h; Luis joins 20 min late and stays.
    with time_machine.travel(START - dt.timedelta(minutes=5), tick=False):
        join(portal_client, vsession)
    with time_machine.travel(START + dt.timedelta(hours=2), tick=False):
        leave(portal_client, vsession)
    with time_machine.travel(START + dt.timedelta(minutes=20), tick=False):
        join(signed_in("luis-o"), vsession)
    with time_machine.travel(END + dt.timedelta(minutes=5), tick=False):
        body = (
            login(Client(), counselor)
            .get(reverse("scheduling:session-detail", args=[vsession.public_id]))
            .content.decode()
        )
    # Times are shown in the site's zone (New York, UTC-5).
    assert "joined 09:55, left 12:00" in body and "joined 10:20, not left" in body
    rows = dict(re.findall(r'data-patient="([^"]+)"(.*?)</tr>', body, re.S))
    dana, luis = rows[str(patient.public_id)], rows[str(second.public_id)]
    assert re.search(r'value="present" id="[^"]+" checked', dana)
    assert re.search(r'name="roster-\d-minutes" value="120"', dana)
    assert re.search(r'value="late" id="[^"]+" checked', luis)
    assert re.search(r'name="roster-\d-minutes" value="160"', luis)
    # Nothing is recorded until the facilitator saves.
    assert vsession.attendance.filter(status="expected").count() == 2
