"""``openiop fhir client``: make, list and revoke FHIR tokens from the command line."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from openiop.fhir.models import FhirClient


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("fhir", *args, stdout=out)
    return out.getvalue()


def test_create_prints_a_working_token_once_then_revoke_stops_it(org, counselor, patient):
    text = run(
        "client", "create", "--name", "Counselor app", "--kind", "user", "--user", "counselor",
        "--scopes", "user/Patient.rs",
    )  # fmt: skip
    token = re.search(r"token \(shown once\): (fhir_\S+)", text).group(1)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/fhir/r4/Patient").status_code == 200
    stored = FhirClient.objects.get()
    assert token not in (stored.key_hash, stored.prefix)
    listing = run("client", "list")
    assert "Counselor app" in listing and "active" in listing and token not in listing
    run("client", "revoke", stored.prefix)
    assert api.get("/fhir/r4/Patient").status_code == 401


def test_an_outside_client_must_name_the_recipient_and_purpose(org):
    base = ["client", "create", "--name", "Hospital", "--kind", "system"]
    with pytest.raises(CommandError, match="recipient"):
        run(*base, "--scopes", "system/*.rs", "--purpose", "treatment")
    outside = ["--recipient-org", "County Hospital", "--purpose", "treatment"]
    with pytest.raises(CommandError, match="scopes"):
        run(*base, "--scopes", "user/*.rs", *outside)
    text = run(*base, "--scopes", "system/*.rs", *outside)
    assert "patient data only under a consent" in text
    assert FhirClient.objects.get().needs_consent
