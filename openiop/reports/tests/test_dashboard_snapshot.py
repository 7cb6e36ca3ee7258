"""The dashboard's precomputed panels (ADR 0016): the weekly-hours summary, the at-risk list and
the authorization alerts are computed once per organization at most every
``OPENIOP_SNAPSHOT_MAX_AGE_SECONDS`` and read from the snapshot in between; "Refresh now"
recomputes; each reader still sees only their own organization and caseload."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import login, make_user
from openiop.accounts.permissions import Role
from openiop.billing.services import authorization_create
from openiop.core.models import AuditEvent, PanelSnapshot
from openiop.enrollment.services import episode_create
from openiop.organizations.models import Program
from openiop.patients.services import patient_create
from openiop.reports.tests.test_dashboard import NOW, START, _session
from openiop.scheduling.services import session_book

MAX_AGE = 60


@pytest.fixture(autouse=True)
def _snapshots_on(settings):
    settings.OPENIOP_SNAPSHOT_MAX_AGE_SECONDS = MAX_AGE


@pytest.fixture
def tonight(program, room, counselor, episode):
    """Tonight's group, led by the counselor; Dana (``episode``) can reach 3 h of 9 h: at risk."""
    session = _session(program, START, room=room, facilitators=[counselor])
    session_book(actor=None, session=session, episode=episode)
    return session


def _newcomer(org, program, session, first="Nora", last="Late", counselor=None):
    p = patient_create(actor=None, organization=org, first_name=first, last_name=last,
                       date_of_birth=dt.date(1992, 3, 3))  # fmt: skip
    e = episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 11, 2),
                       primary_counselor=counselor)  # fmt: skip
    session_book(actor=None, session=session, episode=e)
    return e


def _at_risk(body):
    start = body.index("At risk this week")
    return body[start : body.index("</section>", start)]


def test_a_second_load_within_the_age_reads_the_snapshot_and_says_when(
    client, supervisor, org, program, tonight
):
    login(client, supervisor)
    with time_machine.travel(NOW, tick=False):
        first = client.get("/").content.decode()
    assert "Dana Whitfield" in _at_risk(first) and "Nora Late" not in first
    # The New York time of the computation.
    assert "discharge summaries as of" in first and "19:00:00" in first
    _newcomer(org, program, tonight)

    with time_machine.travel(NOW + dt.timedelta(seconds=30), tick=False):
        cached = client.get("/").content.decode()
        refreshed = client.get("/?refresh=1").content.decode()
    # The expected list is live, the at-risk list is the snapshot of 30 seconds ago.
    assert "Nora Late" in cached and "Nora Late" not in _at_risk(cached)
    assert "(30 s ago)" in cached and 'href="?refresh=1"' in cached
    assert "Nora Late" in _at_risk(refreshed) and "19:00:30" in refreshed


def test_the_snapshot_is_recomputed_once_it_is_older_than_the_age(
    client, supervisor, org, program, tonight
):
    login(client, supervisor)
    with time_machine.travel(NOW, tick=False):
        client.get("/")
    _newcomer(org, program, tonight)
    with time_machine.travel(NOW + dt.timedelta(seconds=MAX_AGE + 1), tick=False):
        body = client.get("/").content.decode()
    assert "Nora Late" in _at_risk(body)
    assert PanelSnapshot.objects.get(
        key="dashboard:weekly_hours"
    ).computed_at == NOW + dt.timedelta(seconds=MAX_AGE + 1)


def test_a_new_program_or_a_new_week_recomputes_at_once(
    client, supervisor, org, site, program, tonight
):
    login(client, supervisor)
    with time_machine.travel(NOW, tick=False):
        client.get("/")
        Program.objects.create(organization=org, site=site, name="Zeta Day IOP")
        body = client.get("/").content.decode()
    assert "Zeta Day IOP" in body  # a row in the summary, with zero counts
    # Sunday 23:59:50 and then Monday 00:00:10 in New York: another week, another snapshot.
    sunday = dt.datetime(2026, 11, 9, 4, 59, 50, tzinfo=dt.UTC)
    with time_machine.travel(sunday, tick=False):
        client.get("/")
    with time_machine.travel(sunday + dt.timedelta(seconds=20), tick=False):
        client.get("/")
    snap = PanelSnapshot.objects.get(key="dashboard:weekly_hours")
    assert snap.computed_at == sunday + dt.timedelta(seconds=20)
    assert {week for _pk, week in snap.data["weeks"]} == {"2026-11-09"}


def test_a_counselor_reads_the_directors_snapshot_but_sees_only_their_caseload(
    client, supervisor, counselor, org, program, tonight
):
    """Nora is another counselor's patient, booked into a group this counselor does not lead:
    the snapshot the director's load computed names her, this counselor's page does not."""
    other_group = _session(program, START + dt.timedelta(days=1), title="Thursday group")
    colleague = make_user("colleague", org, Role.COUNSELOR)
    _newcomer(org, program, other_group, counselor=colleague)
    with time_machine.travel(NOW, tick=False):
        login(client, supervisor)
        director = client.get("/").content.decode()
        login(client, counselor)
        mine = client.get("/").content.decode()
    assert "Nora Late" in _at_risk(director) and "Dana Whitfield" in _at_risk(director)
    assert "Nora Late" not in mine and "Dana Whitfield" in _at_risk(mine)
    assert 'At risk this week <span class="muted">(1)</span>' in mine
    assert PanelSnapshot.objects.filter(key="dashboard:weekly_hours").count() == 1
    event = AuditEvent.objects.filter(
        action="openiop.reports.dashboard.read", actor=counselor
    ).get()
    assert event.detail["patients"] == [str(tonight.attendance.get().patient.public_id)]


def test_another_organization_never_reads_this_organizations_snapshot(
    client, supervisor, outsider, tonight
):
    with time_machine.travel(NOW, tick=False):
        login(client, supervisor)
        client.get("/")
        login(client, outsider)
        body = client.get("/").content.decode()
    assert "Dana Whitfield" not in body
    assert "No patient is at risk" in body


def test_authorization_alerts_come_from_the_snapshot_until_refreshed(
    client, billing, episode, tonight
):
    today = dt.date(2026, 11, 4)
    login(client, billing)
    with time_machine.travel(NOW, tick=False):
        before = client.get("/").content.decode()
        authorization_create(
            actor=None, episode=episode, payer_name="Blue River Health", units_authorized=20,
            start_on=dt.date(2026, 11, 2), end_on=today + dt.timedelta(days=30),
            auth_number="BR-9",
        )  # fmt: skip
        cached = client.get("/").content.decode()
        refreshed = client.get("/?refresh=1").content.decode()
    panel = "Authorizations needing attention"
    assert "No authorization" in before[before.index(panel) :]
    assert "No authorization" in cached[cached.index(panel) :]  # the snapshot, shown as such
    assert "Every patient in treatment has an authorization" in refreshed
    # Both looks that named Dana are audited, the one served from the snapshot too.
    reads = AuditEvent.objects.filter(action="openiop.billing.authorization.alerts")
    assert [r.detail["patients"] for r in reads.order_by("id")] == [
        [str(episode.patient.public_id)]
    ] * 2


def test_a_snapshot_hit_costs_the_same_queries_whatever_the_census(
    client, supervisor, org, program, tonight
):
    login(client, supervisor)

    def hit_queries():
        with time_machine.travel(NOW, tick=False):
            client.get("/?refresh=1")
        with time_machine.travel(NOW + dt.timedelta(seconds=5), tick=False):
            with CaptureQueriesContext(connection) as queries:
                body = client.get("/").content.decode()
        return len(queries), body

    few, _ = hit_queries()
    for n in range(8):
        _newcomer(org, program, tonight, first=f"P{n}", last="Many")
    many, body = hit_queries()
    assert "P7 Many" in _at_risk(body)
    assert many <= few


def test_max_age_zero_always_computes_and_stores_nothing(
    client, settings, supervisor, org, program, tonight
):
    settings.OPENIOP_SNAPSHOT_MAX_AGE_SECONDS = 0
    login(client, supervisor)
    with time_machine.travel(NOW, tick=False):
        client.get("/")
        _newcomer(org, program, tonight)
        body = client.get("/").content.decode()
    assert "Nora Late" in _at_risk(body)
    assert not PanelSnapshot.objects.exists()


@pytest.mark.parametrize(
    ("template", "context"),
    [
        ("billing/_authorization_alerts.html",
         {"authorization_alerts": [], "authorization_alerts_total": 30}),
        ("clinical/_discharge_due.html",
         {"discharge_summaries_due": [], "discharge_summaries_due_total": 30}),
    ],
)  # fmt: skip
def test_a_panel_heading_gives_the_whole_count_not_the_rows_shown(template, context):
    """A panel that shows 25 of 30 says 30 in its heading (it used to say 0)."""
    from django.template.loader import render_to_string

    assert "(30)" in render_to_string(template, context)
    assert "(0)" in render_to_string(template, {k: (0 if "total" in k else []) for k in context})
