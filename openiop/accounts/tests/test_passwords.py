"""T4 credentials: NIST-style password rules (length, not composition), hashed storage, and a
password change that ends the user's other sessions."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from openiop.accounts.tests.helpers import password_login, password_of
from openiop.core.models import AuditEvent


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-pass1", "too short"),  # 11 characters
        ("password1234", "too common"),
        ("839201746251", "entirely numeric"),
        ("counselor-tester", "too similar"),
    ],
)
@pytest.mark.django_db
def test_weak_passwords_are_refused_with_the_reason(password, reason, counselor):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user=counselor)
    assert reason in " ".join(refused.value.messages)


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "alllowercaseletters",  # no forced digits, capitals or symbols
        "x" * 3 + "a long passphrase of 64+ characters is fine too, any length at all" * 2,
    ],
)
@pytest.mark.django_db
def test_long_passphrases_pass_without_composition_rules(password, counselor):
    validate_password(password, user=counselor)


@pytest.mark.django_db
def test_passwords_are_stored_hashed(counselor):
    counselor.refresh_from_db()
    assert counselor.password.startswith(("argon2$", "pbkdf2_sha256$"))
    assert password_of(counselor) not in counselor.password


@pytest.mark.django_db
def test_changing_the_password_keeps_this_session_and_ends_the_others(counselor):
    here, elsewhere = Client(), Client()
    password_login(here, counselor)
    password_login(elsewhere, counselor)
    assert elsewhere.get(reverse("patients:patient-list")).status_code == 200

    weak = here.post(
        reverse("accounts:password-change"),
        {
            "old_password": password_of(counselor),
            "new_password1": "12345678",
            "new_password2": "12345678",
        },
    )
    assert weak.status_code == 200 and "too short" in weak.content.decode()

    new = "a quiet river at dawn"
    done = here.post(
        reverse("accounts:password-change"),
        {"old_password": password_of(counselor), "new_password1": new, "new_password2": new},
    )
    assert done.status_code == 302
    assert here.get(reverse("patients:patient-list")).status_code == 200
    assert elsewhere.get(reverse("patients:patient-list")).status_code == 302
    assert AuditEvent.objects.filter(
        action="openiop.accounts.password.change", actor=counselor
    ).exists()
