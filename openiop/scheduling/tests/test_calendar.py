"""Calendar feeds (issue #4): neutral wording (42 CFR Part 2), token handling, audit, pages."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from conftest import login, make_user
from openiop.accounts.permissions import Role
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create
from openiop.patients.services import patient_create
from openiop.scheduling import calendar
from openiop.scheduling.feeds import (
    calendar_feed_active,
    calendar_feed_create,
    calendar_feed_revoke,
    calendar_feed_rotate,
)
from openiop.scheduling.models import CalendarFeed, SessionKind
from openiop.scheduling.services import session_book, session_cancel, session_create

# Monday 2026-11-16, 10:00 in New York. The feed window is 2026-11-02 15:00Z .. 2027-01-11 15:00Z.
NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)
ADDRESS = "100 Main Street, Springfield"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _at(y: int, m: int, d: int, h: int) -> dt.datetime:
    return dt.datetime(y, m, d, h, 0, tzinfo=dt.UTC)


def _session(program, title, start, *, room=None, facilitators=(), kind=SessionKind.GROUP, **kw):
    return session_create(
        actor=None, program=program, title=title, starts_at=start,
        ends_at=start + dt.timedelta(hours=3), room=room, facilitators=facilitators, kind=kind,
        **kw,
    )  # fmt: skip


@pytest.fixture
def other_episode(org, program):
    other = patient_create(actor=None, organization=org, first_name="Luis", last_name="Ortega",
                           date_of_birth=dt.date(1991, 2, 2))  # fmt: skip
    return episode_create(
        actor=None, patient=other, program=program, admitted_on=dt.date(2026, 11, 2)
    )


@pytest.fixture
def clinic(site, program, room, episode, other_episode, counselor):
    """Sessions around NOW: booked for Dana (in the window, cancelled, too early, too late) and
    one booked only for another patient."""
    site.address = ADDRESS
    site.save()
    s = SimpleNamespace()
    s.past = _session(program, "Relapse prevention IOP", _at(2026, 11, 4, 23), room=room,
                      facilitators=[counselor])  # fmt: skip
    s.future = _session(program, "Opioid recovery group", _at(2026, 11, 18, 23), room=room,
                        facilitators=[counselor])  # fmt: skip
    s.online = _session(program, "Telehealth check-in", _at(2026, 11, 19, 15), is_virtual=True,
                        kind=SessionKind.INDIVIDUAL, facilitators=[counselor])  # fmt: skip
    s.cancelled = _session(program, "Evening group", _at(2026, 11, 20, 23), room=room)
    s.too_early = _session(program, "Evening group", _at(2026, 11, 2, 14), room=room)
    s.too_late = _session(program, "Evening group", _at(2027, 1, 20, 23), room=room)
    s.others = _session(program, "Luis only group", _at(2026, 11, 25, 23), room=room)
    for session in (s.past, s.future, s.online, s.cancelled, s.too_early, s.too_late):
        session_book(actor=None, session=session, episode=episode)
    session_book(actor=None, session=s.others, episode=other_episode)
    session_cancel(actor=None, session=s.cancelled, reason="Holiday")
    return s


def feed_url(raw: str) -> str:
    return reverse("calendar:feed", kwargs={"token": raw})


def fetch(raw: str, client: Client | None = None):
    return (client or Client()).get(feed_url(raw), HTTP_USER_AGENT="Google-Calendar-Importer")


def events_by_uid(body: bytes) -> dict[str, object]:
    cal = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def uid(session) -> str:
    return f"{session.public_id}{calendar.UID_SUFFIX}"


# --- the patient's feed ------------------------------------------------------------------------


def test_patient_feed_lists_booked_sessions_as_neutral_appointments(clinic, patient, program):
    _, raw = calendar_feed_create(actor=None, patient=patient)
    response = fetch(raw)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "no-store, private"
    assert "noindex" in response["X-Robots-Tag"]
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert "X-WR-CALNAME:Appointments" in text
    assert text.count("BEGIN:VEVENT") == 4
    assert text.count("SUMMARY:Appointment\r\n") == 4
    # Nothing that reveals treatment, the program, the clinic or any person reaches the feed.
    for secret in (program.name, "Relapse prevention", "Opioid", "Telehealth", "Evening group",
                   "IOP", "iop", "Riverbend", "Recovery", "recovery", "Downtown", "Group A",
                   "Dana", "Whitfield", "Luis", "Ortega", "Counselor", "Holiday"):  # fmt: skip
        assert secret not in text, secret


def test_patient_feed_parses_back_with_times_in_utc_and_neutral_places(clinic, patient):
    _, raw = calendar_feed_create(actor=None, patient=patient)
    cal = Calendar.from_ical(fetch(raw).content)
    assert str(cal["PRODID"]) == calendar.PRODID and str(cal["VERSION"]) == "2.0"
    events = events_by_uid(fetch(raw).content)
    future = events[uid(clinic.future)]
    assert future["DTSTART"].dt == _at(2026, 11, 18, 23)
    assert future["DTEND"].dt == _at(2026, 11, 19, 2)
    assert str(future["LOCATION"]) == ADDRESS
    assert str(future["DESCRIPTION"]) == calendar.PATIENT_DESCRIPTION
    assert str(future["STATUS"]) == "CONFIRMED"
    online = events[uid(clinic.online)]
    assert str(online["LOCATION"]) == "Online" and "DESCRIPTION" not in online


def test_cancelled_session_is_marked_cancelled(clinic, patient):
    _, raw = calendar_feed_create(actor=None, patient=patient)
    events = events_by_uid(fetch(raw).content)
    assert str(events[uid(clinic.cancelled)]["STATUS"]) == "CANCELLED"
    assert str(events[uid(clinic.past)]["STATUS"]) == "CONFIRMED"


def test_other_patients_and_out_of_window_sessions_are_absent(clinic, patient):
    _, raw = calendar_feed_create(actor=None, patient=patient)
    events = events_by_uid(fetch(raw).content)
    assert set(events) == {uid(clinic.past), uid(clinic.future), uid(clinic.online),
                           uid(clinic.cancelled)}  # fmt: skip
    assert uid(clinic.others) not in events  # booked for Luis only
    assert uid(clinic.too_early) not in events and uid(clinic.too_late) not in events


def test_address_naming_the_clinic_is_left_out(clinic, patient, site):
    site.address = "Riverbend Recovery, 100 Main Street"
    site.save()
    _, raw = calendar_feed_create(actor=None, patient=patient)
    text = fetch(raw).content.decode()
    assert "Riverbend" not in text and "LOCATION:" in text  # only "Online" remains
    assert set(re.findall(r"LOCATION:(.*)\r\n", text)) == {"Online"}


# --- tokens ------------------------------------------------------------------------------------


def test_unknown_and_revoked_tokens_get_an_empty_404(clinic, patient):
    feed, raw = calendar_feed_create(actor=None, patient=patient)
    assert fetch(raw).status_code == 200
    calendar_feed_revoke(actor=None, feed=feed)
    for token in (raw, raw[:-1] + ("A" if raw[-1] != "A" else "B"), "x", "a" * 300):
        response = fetch(token)
        assert response.status_code == 404
        assert response.content == b""
        assert response["Cache-Control"] == "no-store, private"


def test_rotating_invalidates_the_old_link(clinic, patient):
    old, old_raw = calendar_feed_create(actor=None, patient=patient)
    new, new_raw = calendar_feed_rotate(actor=None, patient=patient)
    assert fetch(old_raw).status_code == 404
    assert fetch(new_raw).status_code == 200
    old.refresh_from_db()
    assert old.revoked_at is not None and new.revoked_at is None
    assert calendar_feed_active(patient=patient) == new
    assert CalendarFeed.objects.active().filter(patient=patient).count() == 1


def test_a_second_create_is_refused_while_a_link_is_active(patient):
    calendar_feed_create(actor=None, patient=patient)
    with pytest.raises(Exception, match="already an active calendar link"):
        calendar_feed_create(actor=None, patient=patient)
    assert CalendarFeed.objects.filter(patient=patient).count() == 1


def test_token_is_long_random_and_never_stored_in_plain_text(clinic, patient, counselor):
    _, raw = calendar_feed_create(actor=counselor, patient=patient)
    rotated, raw2 = calendar_feed_rotate(actor=counselor, patient=patient)
    fetch(raw2)
    assert len(raw) >= 43 and raw != raw2  # secrets.token_urlsafe(32): 256 bits
    assert rotated.prefix == raw2[:8]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from Django)
            for row in cursor.fetchall():
                dump = repr(row)
                assert raw not in dump and raw2 not in dump, table


def test_fetch_writes_an_audit_row_without_an_actor(clinic, patient):
    feed, raw = calendar_feed_create(actor=None, patient=patient)
    fetch(raw)
    row = AuditEvent.objects.filter(action="openiop.scheduling.calendar_feed.read").get()
    assert row.actor is None and row.actor_username == ""
    assert row.patient_id == str(patient.public_id)
    assert row.organization_id == patient.organization_id
    assert row.detail == {"kind": "patient", "prefix": feed.prefix, "events": 4}
    assert row.user_agent == "Google-Calendar-Importer"
    feed.refresh_from_db()
    assert feed.last_used_at == NOW
    fetch("unknown-token-" + "x" * 40)
    assert AuditEvent.objects.filter(action="openiop.scheduling.calendar_feed.read").count() == 1


def test_create_rotate_and_revoke_are_audited(patient, front_desk):
    first, _ = calendar_feed_create(actor=front_desk, patient=patient)
    second, _ = calendar_feed_rotate(actor=front_desk, patient=patient)
    calendar_feed_revoke(actor=front_desk, feed=second)
    rows = list(AuditEvent.objects.filter(action__startswith="openiop.scheduling.calendar_feed."))
    assert [r.action.rsplit(".", 1)[1] for r in rows] == ["create", "rotate", "revoke"]
    assert all(r.actor == front_desk and r.patient_id == str(patient.public_id) for r in rows)
    assert rows[1].detail["old_prefix"] == first.prefix


def test_feed_fetch_query_count_does_not_grow_with_sessions(
    clinic, patient, django_assert_max_num_queries
):
    _, raw = calendar_feed_create(actor=None, patient=patient)
    with django_assert_max_num_queries(12):
        assert fetch(raw).status_code == 200


# --- the clinician's feed ----------------------------------------------------------------------


def test_clinician_feed_lists_facilitated_sessions(clinic, counselor):
    _, raw = calendar_feed_create(actor=counselor, user=counselor)
    response = fetch(raw)
    assert response.status_code == 200
    events = events_by_uid(response.content)
    assert set(events) == {uid(clinic.past), uid(clinic.future), uid(clinic.online)}
    assert str(events[uid(clinic.future)]["SUMMARY"]) == "Group session"
    assert str(events[uid(clinic.online)]["SUMMARY"]) == "Appointment"
    text = response.content.decode()
    for secret in ("IOP", "Relapse", "Opioid", "Telehealth", "Dana", "Luis", "Recovery"):
        assert secret not in text, secret
    row = AuditEvent.objects.filter(action="openiop.scheduling.calendar_feed.read").get()
    assert row.patient_id == "" and row.detail["events"] == 3


def test_clinician_feed_stops_when_the_account_is_deactivated(clinic, counselor):
    _, raw = calendar_feed_create(actor=counselor, user=counselor)
    counselor.is_active = False
    counselor.save()
    assert fetch(raw).status_code == 404


def test_feed_url_accepts_only_get(patient):
    _, raw = calendar_feed_create(actor=None, patient=patient)
    assert Client().post(feed_url(raw)).status_code == 405


# --- wording rules (pure) ----------------------------------------------------------------------


def test_every_fixed_word_in_a_feed_is_neutral():
    for text in (calendar.PRODID, calendar.CALENDAR_NAME, calendar.PATIENT_SUMMARY,
                 calendar.CLINICIAN_GROUP_SUMMARY, calendar.CLINICIAN_SUMMARY,
                 calendar.ONLINE_LOCATION, calendar.PATIENT_DESCRIPTION,
                 calendar.UID_SUFFIX):  # fmt: skip
        assert calendar.is_neutral(text), text
        assert "iop" not in text.casefold()


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("100 Main Street", True),
        ("Hope House, 100 Main Street", False),  # the organization's own name
        ("Suite 4, Sober Living Center", False),
        ("Methadone clinic, 2 Elm Rd", False),
        ("12 Drug Store Plaza", False),  # dropped too: a missing address is the safe failure
        ("", False),
    ],
)
def test_location_is_the_address_only_when_it_is_neutral(address, shown):
    site = SimpleNamespace(address=address, kind="in_person")
    session = SimpleNamespace(is_virtual=False, program=SimpleNamespace(site=site))
    expected = address if shown else ""
    assert calendar.neutral_location(session, organization_name="Hope House") == expected


# --- pages -------------------------------------------------------------------------------------


def chart(patient) -> str:
    return reverse("patients:patient-detail", args=[patient.public_id])


def action(patient, verb: str) -> str:
    return reverse(f"scheduling:patient-calendar-{verb}", args=[patient.public_id])


def box(patient) -> str:
    return reverse("scheduling:patient-calendar", args=[patient.public_id])


def test_front_desk_creates_a_link_and_sees_the_full_url_once(client, front_desk, clinic, patient):
    login(client, front_desk)
    assert 'id="calendar-feed"' in client.get(chart(patient)).content.decode()
    response = client.post(action(patient, "create"), follow=True)
    assert response.redirect_chain[-1][0] == chart(patient)
    page = response.content.decode()
    url = re.search(r"http://testserver/calendar/[A-Za-z0-9_-]+\.ics", page).group(0)
    assert Client().get(url).status_code == 200  # the link works without a login
    assert url not in client.get(chart(patient)).content.decode()  # shown once only
    feed = calendar_feed_active(patient=patient)
    inner = client.get(box(patient), HTTP_HX_REQUEST="true").content.decode()
    assert feed.prefix in inner and "Rotate link" in inner and "Revoke" in inner
    assert "<html" not in inner


def test_front_desk_rotates_and_revokes_from_the_chart(client, front_desk, patient):
    _, raw = calendar_feed_create(actor=None, patient=patient)
    login(client, front_desk)
    response = client.post(action(patient, "rotate"), follow=True)
    new_url = re.search(
        r"http://testserver(/calendar/[A-Za-z0-9_-]+\.ics)", response.content.decode()
    )
    assert fetch(raw).status_code == 404
    assert (
        fetch(new_url.group(1).removeprefix("/calendar/").removesuffix(".ics")).status_code == 200
    )
    client.post(action(patient, "revoke"))
    assert calendar_feed_active(patient=patient) is None
    assert "Create calendar link" in client.get(box(patient)).content.decode()


def test_create_and_rotate_require_login(client, patient):
    for verb in ("create", "rotate", "revoke"):
        response = client.post(action(patient, verb))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get(box(patient)).status_code == 302
    assert not CalendarFeed.objects.exists()


def test_outsider_gets_404_on_our_patient(client, outsider, patient):
    login(client, outsider)
    assert client.get(box(patient)).status_code == 404
    for verb in ("create", "rotate", "revoke"):
        assert client.post(action(patient, verb)).status_code == 404
    assert not CalendarFeed.objects.exists()


def test_role_without_patient_edit_gets_403_but_sees_the_box(client, counselor, patient):
    login(client, counselor)
    for verb in ("create", "rotate", "revoke"):
        assert client.post(action(patient, verb)).status_code == 403
    assert not CalendarFeed.objects.exists()
    page = client.get(box(patient)).content.decode()
    assert "No calendar link" in page and "Create calendar link" not in page
    assert AuditEvent.objects.filter(
        action="openiop.scheduling.calendar_feed.view", actor=counselor,
        patient_id=str(patient.public_id),
    ).exists()  # fmt: skip


def test_staff_member_manages_their_own_feed(client, billing, org):
    page = reverse("scheduling:my-calendar")
    login(client, billing)
    assert "Create calendar link" in client.get(page).content.decode()
    response = client.post(reverse("scheduling:my-calendar-create"), follow=True)
    url = re.search(r"/calendar/([A-Za-z0-9_-]+)\.ics", response.content.decode())
    assert fetch(url.group(1)).status_code == 200
    feed = calendar_feed_active(user=billing)
    assert (
        feed.kind == CalendarFeed.Kind.CLINICIAN
        and feed.prefix in client.get(page).content.decode()
    )
    client.post(reverse("scheduling:my-calendar-rotate"))
    assert fetch(url.group(1)).status_code == 404
    client.post(reverse("scheduling:my-calendar-revoke"))
    assert calendar_feed_active(user=billing) is None


def test_my_calendar_requires_login_and_a_staff_role(client, org):
    page = reverse("scheduling:my-calendar")
    assert client.get(page).status_code == 302
    assert client.post(reverse("scheduling:my-calendar-create")).status_code == 302
    login(client, make_user("nobody", org))
    assert client.get(page).status_code == 403
    assert client.post(reverse("scheduling:my-calendar-create")).status_code == 403
    login(client, make_user("roleless_outside", None, Role.ADMIN))
    assert client.get(page).status_code == 403
    assert not CalendarFeed.objects.exists()
