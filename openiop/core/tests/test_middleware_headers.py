"""T5 headers: CSP without inline scripts, frame-ancestors 'none', nosniff, Referrer-Policy,
no-store; and the account deploy checks."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from openiop.accounts.checks import check_account_security


def _csp(response) -> dict[str, list[str]]:
    policy = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        policy[name] = values
    return policy


@pytest.mark.django_db
def test_a_patient_page_carries_the_security_headers(counselor, patient, client):
    client.force_login(counselor)
    response = client.get(reverse("patients:patient-detail", args=[patient.public_id]))
    assert response.status_code == 200
    csp = _csp(response)
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in str(csp)
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"] and csp["default-src"] == ["'self'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_log_in_page_has_them_too(client):
    response = client.get(reverse("login"))
    assert _csp(response)["frame-ancestors"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_our_own_pages_have_no_inline_script(counselor, client):
    client.force_login(counselor)
    for url in [reverse("login"), reverse("accounts:mfa-settings"), reverse("accounts:mfa-setup")]:
        body = client.get(url).content.decode().lower()
        assert "<script>" not in body and " onclick=" not in body and " onsubmit=" not in body


def test_deploy_check_warns_when_mfa_is_not_required(settings):
    settings.OPENIOP_MFA_REQUIRED = False
    assert [w.id for w in check_account_security()] == ["openiop.W001"]
    settings.OPENIOP_MFA_REQUIRED = True
    assert check_account_security() == []


def test_mfa_is_required_by_default_outside_development(monkeypatch):
    import importlib

    import openiop.settings as module

    monkeypatch.setenv("OPENIOP_DEV", "false")
    monkeypatch.setenv("SECRET_KEY", "x" * 60)
    monkeypatch.delenv("OPENIOP_MFA_REQUIRED", raising=False)
    try:
        assert importlib.reload(module).OPENIOP_MFA_REQUIRED is True
        monkeypatch.setenv("OPENIOP_DEV", "true")
        assert importlib.reload(module).OPENIOP_MFA_REQUIRED is False
    finally:
        monkeypatch.undo()
        importlib.reload(module)


@pytest.mark.django_db
def test_system_checks_pass():
    call_command("check", fail_level="WARNING")
