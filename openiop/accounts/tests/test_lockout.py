"""T4 brute force: 5 failed log-ins for one username from one address lock it for 15 minutes
(django-axes); every attempt, success and lock-out is in the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from openiop.accounts.tests.helpers import password_login
from openiop.core.models import AuditEvent

START = dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)


def _fail(client, user, times: int, ip: str = "10.1.2.3") -> None:
    for _ in range(times):
        response = password_login(client, user, password="wrong-password", REMOTE_ADDR=ip)
        assert response.status_code in (200, 429)


@pytest.mark.django_db
def test_five_failures_lock_the_username_at_that_address_with_a_clear_message(counselor, client):
    with time_machine.travel(START, tick=False):
        _fail(client, counselor, 4)
        # Four failures: the right password still works.
        ok = password_login(client, counselor, REMOTE_ADDR="10.1.2.3")
        assert ok.status_code == 302
        client.post(reverse("logout"))

        _fail(client, counselor, 5)
        locked = password_login(client, counselor, REMOTE_ADDR="10.1.2.3")
        assert locked.status_code == 429
        body = locked.content.decode()
        assert "Log-in locked" in body and "15 minutes" in body
        # Not logged in: the dashboard sends the visitor to the log-in page.
        assert client.get(reverse("reports:dashboard")).status_code == 302


@pytest.mark.django_db
def test_the_lock_is_per_username_and_address_and_lifts_after_the_cool_off(counselor, client):
    with time_machine.travel(START, tick=False) as clock:
        _fail(client, counselor, 5)
        assert password_login(client, counselor, REMOTE_ADDR="10.1.2.3").status_code == 429
        # The same person from the clinic's other network is not locked out by an attacker.
        assert password_login(client, counselor, REMOTE_ADDR="10.9.9.9").status_code == 302
        client.post(reverse("logout"))
        clock.shift(dt.timedelta(minutes=14))
        assert password_login(client, counselor, REMOTE_ADDR="10.1.2.3").status_code == 429
        # An attempt while locked starts the 15 minutes again (hammering never gets through).
        clock.shift(dt.timedelta(minutes=14))
        assert password_login(client, counselor, REMOTE_ADDR="10.1.2.3").status_code == 429
        clock.shift(dt.timedelta(minutes=16))
        assert password_login(client, counselor, REMOTE_ADDR="10.1.2.3").status_code == 302


@pytest.mark.django_db
def test_limit_and_cool_off_are_configurable(counselor, client, settings):
    settings.AXES_FAILURE_LIMIT = 2
    _fail(client, counselor, 2)
    assert password_login(client, counselor, REMOTE_ADDR="10.1.2.3").status_code == 429


@pytest.mark.django_db
def test_log_ins_failures_and_lock_outs_are_audited(counselor, client):
    with time_machine.travel(START, tick=False):
        password_login(client, counselor, REMOTE_ADDR="10.1.2.3")
        client.post(reverse("logout"))
        _fail(client, counselor, 6)
    rows = AuditEvent.objects.filter(action__startswith="openiop.accounts.session.").order_by("id")
    summary = [(r.action.rsplit(".", 1)[1], r.outcome) for r in rows]
    assert summary[:2] == [("login", "success"), ("logout", "success")]
    # One login row per attempt: four plain failures, then the 5th (which trips the lock) and
    # the 6th (refused without checking the password) marked denied; a lockout row each time
    # the lock trips or refuses an attempt.
    assert summary[2:] == [("login", "failed")] * 4 + [
        ("lockout", "denied"),
        ("login", "denied"),
        ("lockout", "denied"),
        ("login", "denied"),
    ]
    first = rows[0]
    assert first.actor == counselor and first.source_ip == "10.1.2.3"
    assert first.category == AuditEvent.Category.ADMINISTRATIVE
    failure = rows[2]
    assert failure.actor is None and failure.detail["username"] == "counselor"
    assert "wrong-password" not in str(failure.detail)
    lockout = rows[6]
    assert lockout.detail["username"] == "counselor" and lockout.source_ip == "10.1.2.3"


@pytest.mark.django_db
def test_an_unknown_username_is_refused_and_audited_like_a_wrong_password(client):
    response = client.post(reverse("login"), {"username": "nobody", "password": "x" * 12})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    row = AuditEvent.objects.get(action="openiop.accounts.session.login")
    assert row.outcome == "failed" and row.detail["username"] == "nobody"
