"""T4 credentials, (d)(12): PBKDF2-SHA256 (FIPS-approved) with >= 1,000,000 iterations hashes new
passwords; an older Argon2 hash still logs in and is replaced by PBKDF2 at that log-in; and no test
password appears anywhere in a dump of the database."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher, make_password
from django.db import connection
from django.urls import reverse

from openiop.accounts.tests.helpers import password_login, password_of

pytestmark = pytest.mark.django_db


def _pbkdf2_iterations(encoded: str) -> int:
    algorithm, iterations, _salt, _hash = encoded.split("$")
    assert algorithm == "pbkdf2_sha256"
    return int(iterations)


def test_new_passwords_are_pbkdf2_sha256_with_a_million_iterations(counselor):
    counselor.refresh_from_db()
    assert counselor.password.startswith("pbkdf2_sha256$")
    assert _pbkdf2_iterations(counselor.password) >= 1_000_000
    counselor.set_password("a quiet river at dawn")
    counselor.save()
    counselor.refresh_from_db()
    assert _pbkdf2_iterations(counselor.password) >= 1_000_000
    assert counselor.check_password("a quiet river at dawn")


def test_an_argon2_hash_logs_in_and_is_rehashed_with_pbkdf2(client, counselor):
    argon2 = make_password(password_of(counselor), hasher="argon2")
    assert argon2.startswith("argon2$")
    type(counselor).objects.filter(pk=counselor.pk).update(password=argon2)

    response = password_login(client, counselor)
    assert response.status_code == 302  # logged in with the old hash
    assert client.get(reverse("patients:patient-list")).status_code == 200
    counselor.refresh_from_db()
    assert identify_hasher(counselor.password).algorithm == "pbkdf2_sha256"
    assert _pbkdf2_iterations(counselor.password) >= 1_000_000
    assert counselor.check_password(password_of(counselor))


def _dump() -> str:
    """Every row of every table, as text (what a stolen backup would show)."""
    out = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            out.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(out)


def test_no_test_password_is_stored_in_plain_text_anywhere(client, counselor, supervisor):
    wrong = "not-the-password-9vQ2"
    password_login(client, supervisor, password=wrong)  # a failed attempt (django-axes, audit)
    password_login(client, counselor)  # a successful log-in (session, audit)
    new = "a quiet river at dawn 7Kx"
    changed = client.post(
        reverse("accounts:password-change"),
        {"old_password": password_of(counselor), "new_password1": new, "new_password2": new},
    )
    assert changed.status_code == 302
    dump = _dump()
    assert "pbkdf2_sha256$" in dump and "counselor" in dump  # the dump did read the users
    for secret in (password_of(counselor), password_of(supervisor), wrong, new):
        assert secret not in dump
