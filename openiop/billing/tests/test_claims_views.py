"""Billing pages: the week of attendance -> claims -> a validated 837 file, in the browser.

Every page: it works, login is required, another organization's object is a 404, a role
without the permission gets 403; billing pages never show a note's text."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.urls import reverse

from conftest import login, make_user
from openiop.accounts.permissions import Role
from openiop.billing.models import (
    BillingProfile,
    Claim,
    ClaimStatus,
    Coverage,
    ExportBatch,
    Payer,
)
from openiop.billing.services_claims import claim_mark_ready, claims_build, claims_export
from openiop.billing.tests.claims_fixtures import (
    FROZEN,
    SENTINEL,
)
from openiop.billing.x12.pyx12_check import pyx12_errors
from openiop.core.models import AuditEvent

MON1, SUN2 = dt.date(2026, 11, 2), dt.date(2026, 11, 15)
PERIOD = {"start": "2026-11-02", "end": "2026-11-15"}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(FROZEN, tick=False):
        yield


@pytest.fixture
def claim(org, billing, clinic) -> Claim:
    [c] = claims_build(actor=billing, organization=org, start=MON1, end=SUN2).created
    return c


@pytest.fixture
def batch(org, billing, claim) -> ExportBatch:
    claim_mark_ready(actor=billing, claim=claim)
    return claims_export(actor=billing, organization=org, fmt="837p", start=MON1, end=SUN2).batch


@pytest.fixture
def outside_biller(outsider):
    """Billing staff of another organization (the outsider persona has no billing role)."""
    return make_user("outside-biller", outsider.organization, Role.BILLING)


def day_url(**params):
    query = "&".join(f"{k}={v}" for k, v in {**PERIOD, **params}.items())
    return reverse("billing:billing-day") + "?" + query


# --- the billing screen ---------------------------------------------------------------------


def test_billing_day_shows_lines_and_what_blocks_them(client, billing, clinic, counselor):
    from openiop.billing.tests.claims_fixtures import documented_day

    documented_day(clinic["episode"], dt.date(2026, 11, 3), counselor, at=dt.time(9),
                   signed=False)  # fmt: skip
    body = login(client, billing).get(day_url()).content.decode()
    assert "Dana Whitfield" in body and "Blue River Health Plan" in body
    assert body.count("H0015") >= 6
    assert "Note not signed for group on 2026-11-03" in body
    assert "Build draft claims from the 6 ready lines" in body
    assert SENTINEL not in body


def test_billing_day_defaults_to_last_week_and_rejects_a_bad_period(client, billing, clinic):
    login(client, billing)
    body = client.get(reverse("billing:billing-day")).content.decode()
    assert 'value="2026-11-09"' in body  # the last full week before Monday Nov 16
    bad = client.get(day_url(end="2026-10-01"))
    assert (
        bad.status_code == 200 and "The last day is before the first day." in bad.content.decode()
    )


def test_billing_day_login_required_and_roles(client, clinic, front_desk, counselor, auditor):
    assert client.get(day_url()).status_code == 302
    assert login(client, front_desk).get(day_url()).status_code == 403
    assert login(client, counselor).get(day_url()).status_code == 403
    body = login(client, auditor).get(day_url()).content.decode()
    assert "Dana Whitfield" in body and "Build draft claims" not in body


def test_outsider_sees_none_of_our_patients(client, clinic, outside_biller):
    body = login(client, outside_biller).get(day_url()).content.decode()
    assert "Dana Whitfield" not in body


# --- building claims, the claim page --------------------------------------------------------


def test_billing_builds_draft_claims_from_the_screen(client, billing, clinic):
    response = login(client, billing).post(reverse("billing:claim-build"), PERIOD)
    assert response.status_code == 302 and "status=draft" in response["Location"]
    claim = Claim.objects.get()
    assert claim.status == ClaimStatus.DRAFT and claim.lines.count() == 6
    body = client.get(response["Location"]).content.decode()
    assert claim.claim_number in body


def test_building_needs_billing_manage(client, clinic, auditor, supervisor):
    for user in (auditor, supervisor):
        assert login(client, user).post(reverse("billing:claim-build"), PERIOD).status_code == 403
    assert not Claim.objects.exists()


def test_claim_page_works_and_never_shows_a_note(client, billing, claim):
    body = login(client, billing).get(reverse("billing:claim-detail", args=[claim.public_id]))
    text = body.content.decode()
    assert claim.claim_number in text and "F10.20" in text and "Mark ready to send" in text
    assert SENTINEL not in text
    assert AuditEvent.objects.filter(action="openiop.billing.claim.view").exists()


def test_claim_page_access(client, claim, outsider, front_desk, counselor):
    url = reverse("billing:claim-detail", args=[claim.public_id])
    assert client.get(url).status_code == 302
    assert login(client, outsider).get(url).status_code == 404
    assert login(client, front_desk).get(url).status_code == 403
    assert login(client, counselor).get(url).status_code == 403


def test_mark_ready_then_a_bad_move_is_an_error_not_a_change(client, billing, claim):
    url = reverse("billing:claim-action", args=[claim.public_id])
    login(client, billing)
    client.post(url, {"action": "ready"})
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.READY
    response = client.post(url, {"action": "paid", "amount": "10"}, follow=True)
    assert "A ready to send claim cannot become paid." in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.READY


def test_bulk_ready_reports_claims_with_problems(client, billing, claim):
    Claim.objects.filter(pk=claim.pk).update(diagnosis_codes=[])
    response = login(client, billing).post(
        reverse("billing:claim-bulk"), {"action": "ready", "claims": [str(claim.public_id)]},
        follow=True,
    )  # fmt: skip
    assert "The claim has no diagnosis." in response.content.decode()
    assert Claim.objects.get().status == ClaimStatus.DRAFT


def test_claim_actions_need_billing_manage(client, claim, auditor, outside_biller):
    url = reverse("billing:claim-action", args=[claim.public_id])
    assert login(client, auditor).post(url, {"action": "ready"}).status_code == 403
    assert login(client, outside_biller).post(url, {"action": "ready"}).status_code == 404
    assert Claim.objects.get().status == ClaimStatus.DRAFT


def test_correcting_a_denied_claim_from_the_page(client, billing, batch):
    claim = batch.claims.get()
    login(client, billing)
    client.post(
        reverse("billing:claim-action", args=[claim.public_id]),
        {"action": "denied", "reason": "CO-16", "payer_claim_number": "ICN5"},
    )
    response = client.post(
        reverse("billing:claim-correct", args=[claim.public_id]),
        {"reason": "member id corrected", "original_claim_reference": ""},
    )
    replacement = Claim.objects.get(frequency="7")
    assert response["Location"] == reverse("billing:claim-detail", args=[replacement.public_id])
    assert replacement.original_claim_reference == "ICN5"


# --- export ---------------------------------------------------------------------------------


def test_export_from_the_page_gives_a_pyx12_valid_file_with_its_sha256(client, billing, claim):
    claim_mark_ready(actor=billing, claim=claim)
    login(client, billing)
    response = client.post(reverse("billing:export-create"), {**PERIOD, "format": "837p"})
    batch = ExportBatch.objects.get()
    assert response["Location"] == reverse("billing:export-detail", args=[batch.public_id])
    page = client.get(response["Location"]).content.decode()
    assert batch.sha256 in page and claim.claim_number in page
    download = client.get(reverse("billing:export-download", args=[batch.public_id]))
    assert download["X-Content-SHA256"] == hashlib.sha256(download.content).hexdigest()
    assert download["Content-Disposition"].startswith("attachment;")
    assert pyx12_errors(download.content.decode()) == []
    assert AuditEvent.objects.filter(action="openiop.billing.export.download").exists()


def test_export_with_a_problem_lists_it_and_exports_nothing(client, billing, claim, clinic):
    claim_mark_ready(actor=billing, claim=claim)
    Coverage.objects.filter(pk=clinic["coverage"].pk).update(member_id="")
    response = login(client, billing).post(
        reverse("billing:export-create"), {**PERIOD, "format": "837p"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Nothing was exported." in body
    assert "has no member id" in body
    assert not ExportBatch.objects.exists()


def test_export_pages_access(client, batch, auditor, front_desk, outsider, outside_biller):
    detail = reverse("billing:export-detail", args=[batch.public_id])
    download = reverse("billing:export-download", args=[batch.public_id])
    assert client.get(detail).status_code == 302
    assert login(client, auditor).get(detail).status_code == 200
    assert login(client, auditor).get(download).status_code == 403
    assert login(client, front_desk).get(detail).status_code == 403
    assert login(client, outsider).get(detail).status_code == 404
    assert login(client, outside_biller).get(download).status_code == 404
    assert login(client, auditor).get(reverse("billing:export-create")).status_code == 403


def test_lists_render(client, billing, batch):
    login(client, billing)
    for name in ("billing:claim-list", "billing:export-list", "billing:payer-list"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert SENTINEL not in response.content.decode()
    assert batch.filename in client.get(reverse("billing:export-list")).content.decode()


# --- set-up pages ---------------------------------------------------------------------------


def test_payer_form_rejects_a_bad_rule_and_saves_a_good_one(client, billing, org):
    url = reverse("billing:payer-create")
    data = {
        "name": "Acme Health", "kind": "commercial", "payer_id": "ACME1",
        "claim_filing_indicator": "CI", "billing_model": "per_diem",
        "claim_type": "professional", "fee_schedule": '{"H0015": "190"}',
        "rules_overrides": '{"per_diem_min_minutes": "lots"}', "active": "on",
    }  # fmt: skip
    login(client, billing)
    bad = client.post(url, data)
    assert bad.status_code == 200 and "must be a whole number" in bad.content.decode()
    assert not Payer.objects.filter(name="Acme Health").exists()
    good = client.post(url, {**data, "rules_overrides": '{"per_diem_min_minutes": 150}'})
    assert good.status_code == 302
    payer = Payer.objects.get(name="Acme Health")
    assert payer.rules_overrides == {"per_diem_min_minutes": 150}
    assert payer.fee_schedule == {"H0015": "190"}


def test_payer_pages_access(client, clinic, auditor, outside_biller):
    payer = clinic["payer"]
    edit = reverse("billing:payer-edit", args=[payer.public_id])
    assert client.get(edit).status_code == 302
    assert login(client, auditor).get(edit).status_code == 403
    assert login(client, auditor).get(reverse("billing:payer-list")).status_code == 200
    assert login(client, outside_biller).get(edit).status_code == 404


def test_coverage_pages(client, billing, clinic, patient, outsider, front_desk):
    login(client, billing)
    listing = reverse("billing:coverage-list", args=[patient.public_id])
    body = client.get(listing).content.decode()
    assert "BRX12345678" in body and "in force" in body
    create = reverse("billing:coverage-create", args=[patient.public_id])
    data = {
        "payer": str(clinic["payer"].public_id), "member_id": "", "priority": "2",
        "subscriber_relationship": "spouse", "subscriber_sex": "U", "active": "on",
    }  # fmt: skip
    bad = client.post(create, data)
    assert "Enter the subscriber" in bad.content.decode()
    ok = client.post(create, {**data, "subscriber_first_name": "Sam",
                              "subscriber_last_name": "Whitfield"})  # fmt: skip
    assert ok.status_code == 302 and Coverage.objects.filter(priority=2).exists()
    assert login(client, outsider).get(listing).status_code == 404
    assert login(client, front_desk).get(listing).status_code == 403
    assert client.get(create).status_code == 403


def test_certification_and_profile_pages(client, billing, clinic, episode, auditor):
    login(client, billing)
    url = reverse("billing:certification-create", args=[episode.public_id])
    response = client.post(
        url, {"kind": "certification", "signed_on": "2026-11-02", "signed_by_name": "Dr. Zhou"}
    )
    assert response.status_code == 302
    profile = client.get(reverse("billing:profile-edit"))
    assert profile.status_code == 200 and "Riverbend Recovery" in profile.content.decode()
    data = {
        "billing_name": "Riverbend Recovery", "npi": "1234567890", "tax_id": "16-4021988",
        "taxonomy": "261QR0405X", "address_line1": "410 Water Street", "city": "Riverbend",
        "state": "NY", "zip_code": "12901-4410", "submitter_id": "RIVER01",
        "contact_name": "Billing Office", "contact_phone": "518-555-0140",
        "receiver_name": "Example Clearinghouse", "receiver_id": "CLEAR01",
        "usage_indicator": "T", "facility_type_code": "76", "claim_prefix": "RB",
        "price_per_hour": "48.00", "residential_daily_rate": "600.00",
    }  # fmt: skip
    bad = client.post(reverse("billing:profile-edit"), data)
    assert "Not a valid NPI" in bad.content.decode()
    assert BillingProfile.objects.get().claim_prefix == "IOP"  # unchanged
    ok = client.post(reverse("billing:profile-edit"), {**data, "npi": "1234567893"})
    assert ok.status_code == 302
    assert BillingProfile.objects.get().claim_prefix == "RB"
    assert login(client, auditor).get(reverse("billing:profile-edit")).status_code == 403


def test_profile_names_the_attending_physician_by_public_id(client, billing, clinic, prescriber):
    from openiop.accounts.models import User
    from openiop.billing.tests.claims_fixtures import npi

    User.objects.filter(pk=prescriber.pk).update(npi=npi("176543210"))
    login(client, billing)
    page = client.get(reverse("billing:profile-edit")).content.decode()
    assert f'value="{prescriber.public_id}"' in page
    assert f'value="{prescriber.pk}"' not in page
    profile = BillingProfile.objects.get()
    data = {
        name: getattr(profile, name)
        for name in ("billing_name", "npi", "tax_id", "taxonomy", "address_line1", "city",
                     "state", "zip_code", "submitter_id", "contact_name", "contact_phone",
                     "receiver_name", "receiver_id", "usage_indicator", "facility_type_code",
                     "claim_prefix", "price_per_hour", "residential_daily_rate")
    }  # fmt: skip
    response = client.post(
        reverse("billing:profile-edit"), {**data, "attending_provider": str(prescriber.public_id)}
    )
    assert response.status_code == 302
    assert BillingProfile.objects.get().attending_provider == prescriber
    again = client.get(reverse("billing:profile-edit")).content.decode()
    assert f'value="{prescriber.public_id}" selected' in again


def test_dashboard_panel_counts_claims_for_billing_roles_only(billing, claim, front_desk):
    from django.template.loader import render_to_string

    from openiop.billing.selectors_claims import billing_panel_context

    context = billing_panel_context(billing)
    assert ("draft", "Draft", 1) in context["billing_panel"]["rows"]
    html = render_to_string("billing/_billing_panel.html", context)
    assert "?status=draft" in html and "<strong>1</strong>" in html
    assert billing_panel_context(front_desk) == {"billing_panel": None}


def test_garbage_in_filters_is_a_form_error_not_a_500(client, billing, clinic):
    login(client, billing)
    response = client.get(day_url(program="not-a-uuid"))
    assert response.status_code == 200 and "is not a valid UUID" in response.content.decode()
    response = client.post(
        reverse("billing:export-create"), {**PERIOD, "format": "837p", "payer": "zzz"}
    )
    assert response.status_code == 200 and not ExportBatch.objects.exists()
    response = client.post(reverse("billing:claim-bulk"), {"action": "ready", "claims": ["x"]})
    assert response.status_code == 404


def test_claim_list_loads_in_fixed_queries(
    client, billing, org, program, clinic, counselor, django_assert_max_num_queries
):
    from openiop.billing.tests.claims_fixtures import authorize, cover, documented_day
    from openiop.billing.tests.helpers import second_episode

    for i in range(4):
        e = second_episode(org, program, first=f"P{i}", last=f"Q{i}")
        cover(e.patient, clinic["payer"])
        authorize(e, clinic["payer"])
        for day in (2, 4, 6):
            documented_day(e, dt.date(2026, 11, day), counselor)
    assert len(claims_build(actor=billing, organization=org, start=MON1, end=SUN2).created) == 5
    login(client, billing)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("billing:claim-list"))
    assert response.content.decode().count('">IOP0000') == 5


def test_export_times_read_in_the_clinics_time_zone(client, billing, batch):
    """Stored in UTC; a biller in New York reads New York time, with its zone named."""
    ExportBatch.objects.filter(pk=batch.pk).update(
        created_at=dt.datetime(2026, 11, 27, 2, 30, tzinfo=dt.UTC)
    )
    login(client, billing)
    for url in (reverse("billing:export-list"),
                reverse("billing:export-detail", args=[batch.public_id])):  # fmt: skip
        page = client.get(url).content.decode()
        assert "Nov 26, 2026 21:30 EST" in page, url
        assert "Nov 27, 2026 02:30" not in page, url
