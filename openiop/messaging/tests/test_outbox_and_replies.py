"""The staff outbox page and the SMS reply webhook (STOP / START)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from conftest import login
from openiop.core.models import AuditEvent
from openiop.messaging.models import ContactPreference, OutboxMessage
from openiop.messaging.services import contact_preference_for

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def queued(patient):
    return OutboxMessage.objects.create(
        organization=patient.organization, patient=patient, channel="sms", to="555-0100",
        body="Reminder", kind="session_reminder", send_after=NOW, dedupe_key="k1",
        status="failed", attempts=5, last_error="provider said: unreachable",
    )  # fmt: skip


def test_staff_see_the_outbox_with_failures_and_masked_addresses(client, intake, queued, patient):
    login(client, intake)
    page = client.get(reverse("messaging:outbox"), {"status": "failed"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "provider said: unreachable" in text and "***-0100" in text
    assert "555-0100" not in text
    assert AuditEvent.objects.filter(action="openiop.messaging.outbox.list").exists()


def test_billing_cannot_open_the_outbox(client, billing, queued):
    login(client, billing)
    assert client.get(reverse("messaging:outbox")).status_code == 403


@pytest.fixture
def webhook(settings):
    settings.OPENIOP_SMS_INBOUND_TOKEN = "s3cret-provider-token"
    return reverse("messaging:sms-inbound", args=["s3cret-provider-token"])


def test_a_stop_reply_opts_the_sender_out_and_start_back_in(webhook, patient, queued):
    pending = OutboxMessage.objects.create(
        organization=patient.organization, patient=patient, channel="sms", to="555-0100",
        body="Reminder", kind="session_reminder", send_after=NOW, dedupe_key="k2",
    )  # fmt: skip
    contact_preference_for(patient)
    response = Client().post(webhook, {"From": "+1 (555) 0100", "Body": "Stop"})
    assert response.status_code == 200
    pref = ContactPreference.objects.get(patient=patient)
    pending.refresh_from_db()
    assert pref.opted_out and pending.status == "cancelled"
    Client().post(webhook, {"From": "5550100", "Body": "START"})
    pref.refresh_from_db()
    assert not pref.opted_out


def test_other_replies_and_unknown_numbers_change_nothing(webhook, patient):
    contact_preference_for(patient)
    Client().post(webhook, {"From": "555-0100", "Body": "see you tomorrow"})
    Client().post(webhook, {"From": "555-9999", "Body": "STOP"})
    assert not ContactPreference.objects.get(patient=patient).opted_out


def test_the_webhook_is_404_without_the_right_token(settings, patient):
    contact_preference_for(patient)
    url = reverse("messaging:sms-inbound", args=["guess"])
    assert Client().post(url, {"From": "555-0100", "Body": "STOP"}).status_code == 404
    settings.OPENIOP_SMS_INBOUND_TOKEN = "s3cret-provider-token"
    assert Client().post(url, {"From": "555-0100", "Body": "STOP"}).status_code == 404
    assert not ContactPreference.objects.get(patient=patient).opted_out
