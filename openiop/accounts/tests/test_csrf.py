"""T5 CSRF: unsafe methods without the token are refused (403), for the log-in form itself and
for forms of a logged-in user."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from openiop.accounts.tests.helpers import password_of


def _token(client: Client, url: str) -> str:
    client.get(url)
    return client.cookies["csrftoken"].value


@pytest.mark.django_db
def test_log_in_without_a_csrf_token_is_refused(counselor):
    client = Client(enforce_csrf_checks=True)
    creds = {"username": counselor.username, "password": password_of(counselor)}
    assert client.post(reverse("login"), creds).status_code == 403
    assert "_auth_user_id" not in client.session
    token = _token(client, reverse("login"))
    assert client.post(reverse("login"), {**creds, "csrfmiddlewaretoken": token}).status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        reverse("logout"),
        reverse("accounts:password-change"),
        reverse("accounts:mfa-setup"),
        reverse("accounts:recovery-codes"),
        reverse("patients:patient-create"),
    ],
)
def test_forms_of_a_logged_in_user_refuse_a_post_without_the_token(url, counselor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(counselor)
    response = client.post(url, {"code": "123456", "first_name": "Forged"})
    assert response.status_code == 403
    # Still logged in (a forged log-out did nothing) and nothing was created.
    assert client.get(reverse("patients:patient-list")).status_code == 200
    assert "Forged" not in client.get(reverse("patients:patient-list")).content.decode()


@pytest.mark.django_db
def test_the_same_form_with_the_token_goes_through(counselor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(counselor)
    token = _token(client, reverse("patients:patient-list"))
    response = client.post(reverse("logout"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert client.get(reverse("patients:patient-list")).status_code == 302
