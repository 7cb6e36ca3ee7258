"""T4 sessions: 15-minute idle time-out and 12-hour cap that delete the server-side session,
no bypass by query string or header, polling does not count as activity, log-out and a
disabled account end the session."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from openiop.accounts.tests.helpers import password_login
from openiop.core.models import AuditEvent

START = dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)
PAGE = "/patients/"


def _row_exists(client: Client) -> bool:
    return Session.objects.filter(session_key=client.cookies["sessionid"].value).exists()


@pytest.mark.django_db
def test_idle_for_14_59_keeps_the_session_15_01_ends_it_and_deletes_the_row(counselor, client):
    with time_machine.travel(START, tick=False) as clock:
        password_login(client, counselor)
        clock.shift(dt.timedelta(minutes=14, seconds=59))
        assert client.get(PAGE).status_code == 200
        clock.shift(dt.timedelta(minutes=15, seconds=1))
        key = client.cookies["sessionid"].value
        response = client.get(PAGE + "?q=a")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?expired=idle&next=%2Fpatients%2F%3Fq%3Da"
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(PAGE).status_code == 302  # and stays logged out
    login_page = client.get(response["Location"]).content.decode()
    assert "logged out because you were inactive" in login_page
    row = AuditEvent.objects.filter(action="openiop.accounts.session.logout").get()
    assert row.actor == counselor and row.detail == {"reason": "idle"}


@pytest.mark.django_db
def test_the_idle_limit_comes_from_the_setting(counselor, client, settings):
    settings.OPENIOP_IDLE_TIMEOUT_MINUTES = 5
    with time_machine.travel(START, tick=False) as clock:
        password_login(client, counselor)
        clock.shift(dt.timedelta(minutes=5, seconds=1))
        assert client.get(PAGE).status_code == 302


@pytest.mark.django_db
def test_activity_keeps_the_session_alive(counselor, client):
    with time_machine.travel(START, tick=False) as clock:
        password_login(client, counselor)
        for _ in range(6):
            clock.shift(dt.timedelta(minutes=10))
            assert client.get(PAGE).status_code == 200


@pytest.mark.django_db
def test_the_absolute_cap_ends_even_an_active_session_after_12_hours(counselor, client):
    with time_machine.travel(START, tick=False) as clock:
        password_login(client, counselor)
        for _ in range(11 * 6 + 5):  # a request every 10 minutes for 11 h 50 min
            clock.shift(dt.timedelta(minutes=10))
            assert client.get(PAGE).status_code == 200
        clock.shift(dt.timedelta(minutes=10, seconds=1))
        response = client.get(PAGE)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?expired=max")
        assert not _row_exists(client)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("?skip_timeout_reset=1", {}),
        ("?keepalive=1&poll=1", {}),
        ("", {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}),
        ("", {"HTTP_HX_REQUEST": "true", "HTTP_HX_TRIGGER": "board-progress"}),
        ("", {"HTTP_X_OPENIOP_POLL": "1"}),
    ],
)
def test_no_query_or_header_revives_an_expired_session(counselor, client, query, headers):
    with time_machine.travel(START, tick=False) as clock:
        password_login(client, counselor)
        clock.shift(dt.timedelta(minutes=16))
        response = client.get(PAGE + query, **headers)
        assert response.status_code in (204, 302)
        assert "Whitfield" not in response.content.decode()
        assert client.get(PAGE).status_code == 302


@pytest.mark.django_db
def test_htmx_requests_are_told_to_go_to_the_log_in_page(counselor, client):
    with time_machine.travel(START, tick=False) as clock:
        password_login(client, counselor)
        clock.shift(dt.timedelta(minutes=16))
        response = client.get(PAGE, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?expired=idle"


@pytest.mark.django_db
def test_api_calls_on_an_expired_session_get_401(counselor, client):
    with time_machine.travel(START, tick=False) as clock:
        password_login(client, counselor)
        clock.shift(dt.timedelta(minutes=16))
        response = client.get("/api/v1/patients")
    assert response.status_code == 401


@pytest.mark.django_db
def test_a_poller_does_not_count_as_activity(counselor, client):
    with time_machine.travel(START, tick=False) as clock:
        password_login(client, counselor)
        for _ in range(7):  # 14 minutes of polling every 2 minutes
            clock.shift(dt.timedelta(minutes=2))
            assert client.get(PAGE, HTTP_X_OPENIOP_POLL="1").status_code == 200
        clock.shift(dt.timedelta(minutes=1, seconds=1))
        assert client.get(PAGE, HTTP_X_OPENIOP_POLL="1").status_code == 302


@pytest.mark.django_db
def test_log_out_ends_the_session_for_a_replayed_cookie(counselor, client):
    password_login(client, counselor)
    cookie = client.cookies["sessionid"].value
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert not Session.objects.filter(session_key=cookie).exists()
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert replay.get(PAGE).status_code == 302


@pytest.mark.django_db
def test_the_session_key_changes_at_log_in(counselor, client):
    client.get(reverse("login"))
    client.cookies["sessionid"] = "attacker-chosen-session-key-0000"
    password_login(client, counselor)
    assert client.cookies["sessionid"].value != "attacker-chosen-session-key-0000"


@pytest.mark.django_db
def test_disabling_an_account_ends_its_sessions_at_the_next_request(counselor):
    first, second = Client(), Client()
    password_login(first, counselor)
    password_login(second, counselor)
    assert first.get(PAGE).status_code == 200
    counselor.is_active = False
    counselor.save(update_fields=["is_active"])
    assert first.get(PAGE).status_code == 302
    assert not _row_exists(first)
    assert second.get(PAGE).status_code == 302
    assert not _row_exists(second)
    counselor.is_active = True
    counselor.save(update_fields=["is_active"])
    assert first.get(PAGE).status_code == 302  # re-enabling does not revive old sessions
