from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import login
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create
from openiop.organizations.models import Program, Site
from openiop.patients.services import patient_create
from openiop.reports.selectors import dashboard_for
from openiop.scheduling.services import session_book, session_create

# Wednesday 2026-11-04, 18:00-21:00 in New York = 23:00-02:00 UTC; "now" is 19:00 New York.
START = dt.datetime(2026, 11, 4, 23, 0, tzinfo=dt.UTC)
NOW = START + dt.timedelta(hours=1)
THREE_HOURS = dt.timedelta(hours=3)


def _session(program, start, title="Evening group", room=None, facilitators=()):
    return session_create(
        actor=None, program=program, title=title, starts_at=start, ends_at=start + THREE_HOURS,
        room=room, facilitators=facilitators,
    )  # fmt: skip


@pytest.fixture
def tonight(program, room, counselor, episode):
    """Tonight's group; Dana (``episode``) is booked only into it, so 3 h of 9 h is reachable."""
    session = _session(program, START, room=room, facilitators=[counselor])
    session_book(actor=None, session=session, episode=episode)
    return session


@pytest.fixture
def on_track(org, program, tonight):
    """Luis is booked Wed, Thu and Fri: 9 h over 3 days is still reachable."""
    p = patient_create(actor=None, organization=org, first_name="Luis", last_name="Ortega",
                       date_of_birth=dt.date(1991, 2, 2))  # fmt: skip
    e = episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 11, 2))
    session_book(actor=None, session=tonight, episode=e)
    for day in (1, 2):
        session_book(actor=None, session=_session(program, START + dt.timedelta(days=day),
                                                  title=f"Group {day}"), episode=e)  # fmt: skip
    return p


@time_machine.travel(NOW, tick=False)
def test_dashboard_shows_tonights_session_in_local_time(client, front_desk, tonight, on_track):
    login(client, front_desk)
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Sessions today" in body
    assert "18:00–21:00" in body and "23:00" not in body
    assert "Adult Evening IOP" in body and "Evening group" in body and "Group A" in body
    assert "Counselor Tester" in body
    assert "0 / 2" in body  # recorded / booked
    assert f"/sessions/{tonight.public_id}/" in body


@time_machine.travel(NOW, tick=False)
def test_dashboard_lists_who_is_expected_and_who_is_at_risk(client, counselor, tonight, on_track):
    login(client, counselor)
    body = client.get("/").content.decode()
    expected = body[body.index("Expected today") : body.index("At risk this week")]
    assert "Dana Whitfield" in expected and "Luis Ortega" in expected
    start = body.index("At risk this week")
    at_risk = body[start : body.index("</section>", start)]
    assert "Dana Whitfield" in at_risk and "Luis Ortega" not in at_risk
    assert "0.0 of 9.0 h" in at_risk and "At risk" in at_risk


@time_machine.travel(NOW, tick=False)
def test_dashboard_selector_counts_statuses_per_program(supervisor, tonight, on_track, program):
    board = dashboard_for(supervisor, NOW)
    [summary] = board.programs
    assert summary.program == program and summary.week_start == dt.date(2026, 11, 2)
    assert summary.counts == {"met": 0, "on_track": 1, "at_risk": 1, "below": 0, "exempt": 0}
    assert [r.patient.last_name for r in board.at_risk] == ["Whitfield"]
    assert {p.last_name for p in board.patients_shown} == {"Whitfield", "Ortega"}


@time_machine.travel(NOW, tick=False)
def test_dashboard_chart_is_an_accessible_svg(client, supervisor, tonight, on_track):
    login(client, supervisor)
    body = client.get("/").content.decode()
    assert '<svg role="img"' in body
    assert '<title id="summary-chart-title">Weekly hours status by program' in body
    assert "Adult Evening IOP: 1 on track, 1 at risk." in body


@time_machine.travel(NOW, tick=False)
def test_dashboard_read_is_audited_naming_every_patient(
    client, counselor, tonight, on_track, patient
):
    login(client, counselor)
    client.get("/")
    event = AuditEvent.objects.get(action="openiop.reports.dashboard.read")
    assert event.actor == counselor
    assert set(event.detail["patients"]) == {str(patient.public_id), str(on_track.public_id)}


@time_machine.travel(NOW, tick=False)
def test_dashboard_uses_each_sites_own_today(client, front_desk, org, tonight):
    """At 00:00 UTC on Nov 5 it is still Nov 4 in New York but already Nov 5 in Berlin."""
    berlin = Site.objects.create(organization=org, name="Berlin", timezone="Europe/Berlin")
    far = Program.objects.create(organization=org, site=berlin, name="Berlin IOP")
    _session(far, dt.datetime(2026, 11, 5, 8, 0, tzinfo=dt.UTC), title="Morgengruppe")
    _session(far, dt.datetime(2026, 11, 4, 8, 0, tzinfo=dt.UTC), title="Gestern")
    login(client, front_desk)
    body = client.get("/").content.decode()
    assert "Evening group" in body and "Morgengruppe" in body and "Gestern" not in body
    assert "09:00–12:00" in body  # Berlin local time


@time_machine.travel(NOW, tick=False)
def test_dashboard_hides_other_organizations(client, outsider, tonight):
    login(client, outsider)
    body = client.get("/").content.decode()
    assert "Evening group" not in body and "Dana Whitfield" not in body
    assert "No sessions today." in body


def test_dashboard_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@time_machine.travel(NOW, tick=False)
def test_dashboard_query_count_does_not_grow_with_patients(
    client, front_desk, org, program, tonight, django_assert_max_num_queries
):
    def add_patients(n, offset):
        for i in range(n):
            p = patient_create(actor=None, organization=org, first_name=f"P{offset + i}",
                               last_name="Many", date_of_birth=dt.date(1990, 1, 1))  # fmt: skip
            e = episode_create(actor=None, patient=p, program=program,
                               admitted_on=dt.date(2026, 11, 2))  # fmt: skip
            session_book(actor=None, session=tonight, episode=e)

    login(client, front_desk)
    add_patients(2, 0)
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    add_patients(6, 2)
    assert len(few) <= 22  # the shown at-risk rows are loaded after the weekly computation
    with django_assert_max_num_queries(len(few)):
        body = client.get("/").content.decode()
    assert body.count("P7 Many") == 2  # expected today and at risk


@time_machine.travel(NOW, tick=False)
def test_long_lists_show_the_first_rows_with_the_whole_count(
    org, program, tonight, on_track, supervisor
):
    """At a large organization the director sees counts for everyone and names for the first
    few: "expected" by start time, "at risk" the furthest behind first (Dana, booked into one
    3-hour group, is further behind than the newcomers booked into two)."""
    for n in range(3):
        p = patient_create(actor=None, organization=org, first_name=f"New{n}",
                           last_name=f"Comer{n}", date_of_birth=dt.date(1990, 1, 1))  # fmt: skip
        e = episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 11, 2))
        session_book(actor=None, session=tonight, episode=e)
        session_book(actor=None, session=_session(program, START + dt.timedelta(days=1),
                                                  title=f"Extra {n}"), episode=e)  # fmt: skip
    whole = dashboard_for(supervisor, NOW)
    assert whole.expected_total == 5 and not whole.expected_truncated
    assert whole.at_risk_total == 4  # Dana and the three newcomers (6 h of 9 h at most)
    board = dashboard_for(supervisor, NOW, limit=2)
    assert board.expected_total == 5 and len(board.expected) == 2 and board.expected_truncated
    assert board.at_risk_total == 4 and len(board.at_risk) == 2 and board.at_risk_truncated
    assert "Whitfield" in [r.patient.last_name for r in board.at_risk]
    # The audit row names only the patients on the page.
    assert len(board.patients_shown) <= 4


@time_machine.travel(NOW, tick=False)
def test_the_page_says_when_a_list_is_cut_short(client, org, program, tonight, supervisor):
    from openiop.reports import views

    groups = [tonight] + [_session(program, START, title=f"Group {k}") for k in range(3)]
    for n in range(views.PANEL_ROWS + 2):
        p = patient_create(actor=None, organization=org, first_name=f"P{n:02d}",
                           last_name="Many", date_of_birth=dt.date(1990, 1, 1))  # fmt: skip
        e = episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 11, 2))
        session_book(actor=None, session=groups[n % 4], episode=e)
    login(client, supervisor)
    body = client.get("/").content.decode()
    total = views.PANEL_ROWS + 3  # Dana as well
    assert f'Expected today <span class="muted">({total})</span>' in body
    assert f"The first {views.PANEL_ROWS} of {total}, by start time." in body
    assert f"furthest behind their minimum, of {total}." in body
