"""Audit rows of Part 2 disclosures and break-glass access carry their own category, so a
compliance officer filters "who received this record" in one click; plus the audit report's
indexes (security.md T3 / T8)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection

from conftest import login
from openiop.consent import services
from openiop.consent.tests.factories import PROBATION, make_named
from openiop.core.models import AuditEvent

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)  # Monday 10:00 in New York
REASON = "Patient collapsed in the lobby; ER physician asks about current medications."
DISCLOSURE = AuditEvent.Category.DISCLOSURE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def disclosures(patient, site, supervisor, counselor, front_desk):
    """A consent, a release under it, a refused release, and break-glass: start, review, refusal."""
    make_named(patient, supervisor)
    services.disclosure_make(
        actor=supervisor, patient=patient, recipient=PROBATION["recipient_name"],
        recipient_organization=PROBATION["recipient_organization"],
        purpose="criminal_justice", categories=["attendance"], channel="release",
    )  # fmt: skip
    with pytest.raises(services.DisclosureRefused):
        services.disclosure_make(
            actor=supervisor, patient=patient, recipient="Acme Staffing",
            purpose="employment", categories=["attendance"], channel="print",
        )  # fmt: skip
    access = services.break_glass_start(actor=counselor, patient=patient, reason=REASON)
    services.break_glass_review(actor=supervisor, access=access, note="Justified: ER call.")
    with pytest.raises(PermissionDenied):
        services.break_glass_start(actor=front_desk, patient=patient, reason=REASON)


EXPECTED = {
    ("openiop.consent.disclosure.make", "success"),
    ("openiop.consent.disclosure.make", "denied"),
    ("openiop.consent.break_glass.start", "success"),
    ("openiop.consent.break_glass.review", "success"),
    ("openiop.consent.break_glass.start", "denied"),
}


def test_disclosures_and_break_glass_are_in_the_disclosure_category(disclosures):
    rows = AuditEvent.objects.filter(category=DISCLOSURE)
    assert {(e.action, e.outcome) for e in rows} == EXPECTED
    assert rows.count() == len(EXPECTED)
    # Recording the consent itself stays a clinical-record write.
    assert AuditEvent.objects.get(action="openiop.consent.consent.record").category == "clinical"
    assert DISCLOSURE.label == "Disclosures (42 CFR Part 2)"


def test_audit_report_filters_by_the_disclosure_category(client, auditor, disclosures):
    login(client, auditor)
    page = client.get("/audit/?category=disclosure&date_from=2026-11-01&date_to=2026-11-30")
    assert page.status_code == 200
    shown = [r.event for r in page.context["page"].rows]
    assert {(e.action, e.outcome) for e in shown} == EXPECTED
    html = page.content.decode()
    assert '<option value="disclosure" selected>Disclosures (42 CFR Part 2)</option>' in html
    everything = client.get("/audit/?date_from=2026-11-01&date_to=2026-11-30")
    assert len(everything.context["page"].rows) > len(shown)  # the filter did narrow

    export = client.get("/audit/export.csv?category=disclosure&date_from=2026-11-01")
    assert export.status_code == 200
    body = b"".join(export.streaming_content).decode()
    header, *data = list(csv.reader(io.StringIO(body)))
    assert {row[header.index("category")] for row in data} == {"disclosure"}
    assert len(data) == len(EXPECTED)


def test_the_audit_report_has_its_indexes():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "core_auditevent")
    org_time = constraints["audit_org_time_idx"]
    assert org_time["index"] and org_time["columns"] == ["organization_id", "occurred_at", "id"]
    if connection.vendor == "postgresql":
        assert constraints["audit_detail_gin_idx"]["type"] == "gin"
    else:
        assert "audit_detail_gin_idx" not in constraints
