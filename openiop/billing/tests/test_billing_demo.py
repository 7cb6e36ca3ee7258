"""The demo clinic's billing: payers, coverage, claims in several states, and an ``openiop
billing export`` that writes a pyx12-valid 837P for it."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command

from openiop.billing.models import Claim, ClaimStatus, Coverage, ExportBatch, Payer
from openiop.billing.x12.pyx12_check import pyx12_errors
from openiop.organizations import demo

NY = zoneinfo.ZoneInfo("America/New_York")
TODAY = dt.date(2026, 11, 18)  # a Wednesday
NOW = dt.datetime(2026, 11, 18, 12, 30, tzinfo=NY)


@pytest.fixture
def clinic(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with time_machine.travel(NOW, tick=False):
        result = demo.build_demo(seed=7, patients=24, weeks=3, today=TODAY, now=NOW)
        org = result.organization
        # build_demo seeds billing itself (organizations/demo.py calls seed_billing)
        counts = {
            "payers": Payer.objects.for_org(org).count(),
            "coverages": Coverage.objects.for_org(org).count(),
        }
        yield org, counts


def test_demo_has_payers_coverage_and_claims_in_several_states(clinic):
    org, counts = clinic
    assert counts["payers"] == 6 and counts["coverages"] > 10
    names = set(Payer.objects.for_org(org).values_list("name", flat=True))
    assert {"Keystone Medicaid", "Medicare", "Self-pay"} <= names
    assert Coverage.objects.for_org(org).filter(member_id="").exclude(payer__kind="self_pay")
    statuses = set(Claim.objects.for_org(org).values_list("status", flat=True))
    assert {ClaimStatus.PAID, ClaimStatus.DENIED, ClaimStatus.READY} <= statuses
    assert Claim.objects.for_org(org).filter(frequency="7", original__isnull=False).exists()
    batches = list(ExportBatch.objects.for_org(org).exclude(format="csv"))
    assert "837p" in {b.format for b in batches}  # 837I validity: test_claims_services.py
    assert all(pyx12_errors(b.content) == [] for b in batches)


def test_billing_export_writes_a_pyx12_valid_837p_for_the_demo_clinic(clinic, tmp_path):
    org, _ = clinic
    out = tmp_path / "claims.x12"
    stdout = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command(
            "billing", "export", "--format", "837p", "--from", "2026-11-09", "--to",
            "2026-11-15", "--out", str(out), "--organization", org.slug, stdout=stdout,
            stderr=io.StringIO(),
        )  # fmt: skip
    text = out.read_text()
    assert text.startswith("ISA*") and "005010X222A1" in text
    assert pyx12_errors(text) == []
    assert "wrote" in stdout.getvalue()
