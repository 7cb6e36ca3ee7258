"""T4 MFA: TOTP is required for every role that reads clinical notes; a password-only session
reaches no page with patient data; wrong codes are refused; recovery codes work once."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.models import RecoveryCode
from openiop.accounts.permissions import Perm, Role, user_has_perm
from openiop.accounts.tests.helpers import current_code, password_login
from openiop.core.models import AuditEvent

START = dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def mfa_on(settings):
    settings.OPENIOP_MFA_REQUIRED = True


def _enroll(client: Client, user) -> list[str]:
    """Walk the enrolment page as the user would; returns the recovery codes shown."""
    client.get(reverse("accounts:mfa-setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("accounts:mfa-setup"), {"code": current_code(device)})
    assert response.status_code == 200
    return re.findall(r"<code>([a-z0-9]{4}(?:-[a-z0-9]{4}){3})</code>", response.content.decode())


def _phi_urls(patient) -> list[str]:
    return [
        reverse("patients:patient-list"),
        reverse("patients:patient-detail", args=[patient.public_id]),
        reverse("reports:dashboard"),
        "/api/v1/patients",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", [Role.COUNSELOR, Role.INTAKE, Role.PRESCRIBER, Role.PROGRAM_DIRECTOR, Role.AUDITOR]
)
def test_note_reading_roles_are_sent_to_enrolment_before_anything_else(
    role, org, patient, mfa_on, client
):
    from conftest import make_user

    user = make_user("reader", org, role)
    assert user_has_perm(user, Perm.NOTE_VIEW)
    response = password_login(client, user)
    assert response.status_code == 302
    for url in _phi_urls(patient):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("accounts:mfa-setup")), url
        assert "Whitfield" not in response.content.decode()


@pytest.mark.django_db
def test_enrolment_shows_the_secret_then_a_right_code_turns_it_on(counselor, mfa_on, client):
    with time_machine.travel(START, tick=False) as clock:
        password_login(client, counselor)
        page = client.get(reverse("accounts:mfa-setup"))
        body = page.content.decode()
        device = TOTPDevice.objects.get(user=counselor, confirmed=False)
        assert "otpauth://totp/OpenIOP%3Acounselor?secret=" in body
        assert "<svg" in body  # QR code
        secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', body).group(1).replace(" ", "")
        assert secret in device.config_url

        wrong = client.post(reverse("accounts:mfa-setup"), {"code": "000000"})
        assert "did not match" in wrong.content.decode()
        assert client.get(reverse("patients:patient-list")).status_code == 302

        clock.shift(dt.timedelta(seconds=31))
        codes = _enroll(client, counselor)
        assert len(codes) == 10 and len(set(codes)) == 10
        assert client.get(reverse("patients:patient-list")).status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    # Only hashes are stored: no code appears in the table.
    stored = list(RecoveryCode.objects.values_list("code_hash", flat=True))
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert not any(c.replace("-", "") in h for c in codes for h in stored)
    assert AuditEvent.objects.filter(
        action="openiop.accounts.mfa.enroll", actor=counselor, outcome="success"
    ).exists()


@pytest.mark.django_db
def test_an_enrolled_user_passes_the_code_step_at_every_log_in(counselor, mfa_on, client):
    with time_machine.travel(START, tick=False) as clock:
        password_login(client, counselor)
        _enroll(client, counselor)
        client.post(reverse("logout"))

        clock.shift(dt.timedelta(minutes=5))
        response = password_login(client, counselor)
        target = reverse("patients:patient-list")
        response = client.get(target)
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:mfa-verify") + "?next=%2Fpatients%2F"

        refused = client.post(reverse("accounts:mfa-verify"), {"code": "123456", "next": target})
        assert refused.status_code == 200 and "not valid" in refused.content.decode()
        assert client.get(target).status_code == 302

        clock.shift(dt.timedelta(seconds=31))  # django-otp's back-off after a wrong code
        device = TOTPDevice.objects.get(user=counselor)
        session_before = client.session.session_key
        ok = client.post(
            reverse("accounts:mfa-verify"), {"code": current_code(device), "next": target}
        )
        assert ok.status_code == 302 and ok["Location"] == target
        assert client.session.session_key != session_before  # rotated on the raised privilege
        assert client.get(target).status_code == 200
    outcomes = list(
        AuditEvent.objects.filter(action="openiop.accounts.mfa.verify").values_list(
            "outcome", flat=True
        )
    )
    assert outcomes == ["failed", "success"]


@pytest.mark.django_db
def test_a_used_totp_code_cannot_be_replayed_in_the_same_time_step(counselor, mfa_on):
    with time_machine.travel(START, tick=False) as clock:
        first = Client()
        password_login(first, counselor)
        _enroll(first, counselor)
        device = TOTPDevice.objects.get(user=counselor)
        clock.shift(dt.timedelta(seconds=30))
        code = current_code(device)
        second, third = Client(), Client()
        password_login(second, counselor)
        assert second.post(reverse("accounts:mfa-verify"), {"code": code}).status_code == 302
        password_login(third, counselor)
        replay = third.post(reverse("accounts:mfa-verify"), {"code": code})
        assert replay.status_code == 200 and "not valid" in replay.content.decode()


@pytest.mark.django_db
def test_wrong_codes_are_throttled_even_before_the_right_one(counselor, mfa_on, client):
    with time_machine.travel(START, tick=False) as clock:
        password_login(client, counselor)
        _enroll(client, counselor)
        client.post(reverse("logout"))
        password_login(client, counselor)
        clock.shift(dt.timedelta(seconds=30))
        device = TOTPDevice.objects.get(user=counselor)
        for _ in range(3):
            client.post(reverse("accounts:mfa-verify"), {"code": "000000"})
        right = client.post(reverse("accounts:mfa-verify"), {"code": current_code(device)})
        assert "Too many wrong codes" in right.content.decode()
        clock.shift(dt.timedelta(seconds=5))  # 1, 2, 4 s back-off after three failures
        assert (
            client.post(reverse("accounts:mfa-verify"), {"code": current_code(device)}).status_code
            == 302
        )


@pytest.mark.django_db
def test_a_recovery_code_logs_in_once(counselor, mfa_on):
    with time_machine.travel(START, tick=False):
        setup = Client()
        password_login(setup, counselor)
        codes = _enroll(setup, counselor)

        first = Client()
        password_login(first, counselor)
        ok = first.post(reverse("accounts:mfa-verify"), {"code": codes[3].upper()})
        assert ok.status_code == 302
        assert first.get(reverse("patients:patient-list")).status_code == 200

        again = Client()
        password_login(again, counselor)
        refused = again.post(reverse("accounts:mfa-verify"), {"code": codes[3]})
        assert refused.status_code == 200 and "not valid" in refused.content.decode()
        assert again.get(reverse("patients:patient-list")).status_code == 302
    event = AuditEvent.objects.filter(action="openiop.accounts.mfa.verify", outcome="success")
    assert event.get().detail == {"method": "recovery_code", "left": 9}


@pytest.mark.django_db
def test_new_recovery_codes_replace_the_old_ones(counselor, mfa_on, client):
    with time_machine.travel(START, tick=False) as clock:
        password_login(client, counselor)
        old = _enroll(client, counselor)
        page = client.post(reverse("accounts:recovery-codes"))
        new = re.findall(r"<code>([a-z0-9-]{19})</code>", page.content.decode())
        assert len(new) == 10 and not set(old) & set(new)
        other = Client()
        password_login(other, counselor)
        assert other.post(reverse("accounts:mfa-verify"), {"code": old[0]}).status_code == 200
        clock.shift(dt.timedelta(seconds=2))  # the back-off after one wrong code
        assert other.post(reverse("accounts:mfa-verify"), {"code": new[0]}).status_code == 302


@pytest.mark.django_db
def test_an_enrolled_user_cannot_enrol_a_second_device_from_a_password_only_session(
    counselor, mfa_on
):
    with time_machine.travel(START, tick=False):
        first = Client()
        password_login(first, counselor)
        _enroll(first, counselor)
        attacker = Client()
        password_login(attacker, counselor)
        response = attacker.get(reverse("accounts:mfa-setup"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:mfa-verify"))
    assert TOTPDevice.objects.filter(user=counselor).count() == 1


@pytest.mark.django_db
def test_roles_that_read_no_notes_may_enrol_but_are_not_forced(
    front_desk, billing, patient, mfa_on, client
):
    assert not user_has_perm(front_desk, Perm.NOTE_VIEW)
    password_login(client, front_desk)
    assert client.get(reverse("patients:patient-list")).status_code == 200
    assert client.get(reverse("accounts:mfa-setup")).status_code == 200
    page = client.get(reverse("accounts:mfa-settings")).content.decode()
    assert "Off." in page and "Your role requires it" not in page


@pytest.mark.django_db
def test_relaxed_in_development_but_an_enrolled_user_still_gives_a_code(counselor, settings):
    settings.OPENIOP_MFA_REQUIRED = False
    plain = Client()
    password_login(plain, counselor)
    assert plain.get(reverse("patients:patient-list")).status_code == 200
    with time_machine.travel(START, tick=False):
        _enroll(plain, counselor)
        again = Client()
        password_login(again, counselor)
        assert again.get(reverse("patients:patient-list")).status_code == 302


@pytest.mark.django_db
def test_an_administrator_reset_sends_a_required_user_back_to_enrolment(counselor, mfa_on):
    with time_machine.travel(START, tick=False):
        setup = Client()
        password_login(setup, counselor)
        _enroll(setup, counselor)
        client = Client()
        password_login(client, counselor)
        TOTPDevice.objects.filter(user=counselor).delete()  # the admin's "reset"
        response = client.get(reverse("accounts:mfa-verify"))
        assert response["Location"] == reverse("accounts:mfa-setup")


@pytest.mark.django_db
def test_a_password_only_session_gets_no_api_data(counselor, patient, mfa_on, client):
    password_login(client, counselor)
    response = client.get("/api/v1/patients")
    assert response.status_code == 403
    assert "Whitfield" not in response.content.decode()


@pytest.mark.django_db
def test_session_rows_of_other_users_are_untouched_by_enrolment(counselor, supervisor, mfa_on):
    other = Client()
    password_login(other, supervisor)
    keys = set(Session.objects.values_list("session_key", flat=True))
    with time_machine.travel(START, tick=False):
        mine = Client()
        password_login(mine, counselor)
        _enroll(mine, counselor)
    assert other.session.session_key in keys
    assert Session.objects.filter(session_key=other.session.session_key).exists()
