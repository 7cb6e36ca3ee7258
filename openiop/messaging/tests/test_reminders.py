from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_create
from openiop.messaging import backends, wording
from openiop.messaging.models import ContactPreference, OutboxMessage
from openiop.messaging.services import (
    MAX_ATTEMPTS,
    contact_preference_for,
    contact_preference_opt_out,
    contact_preference_update,
    outbox_deliver,
    reminders_queue,
)
from openiop.organizations.models import Program
from openiop.patients.services import patient_create
from openiop.scheduling.services import session_book, session_cancel, session_create

BEFORE = dt.datetime(2026, 11, 10, 12, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 16, 23, 30, tzinfo=dt.UTC)  # Mon 6:30 PM Eastern
START = dt.datetime(2026, 11, 17, 23, 0, tzinfo=dt.UTC)  # Tue 6:00 PM Eastern
Status = OutboxMessage.Status


@pytest.fixture(autouse=True)
def _sms_file(settings, tmp_path):
    settings.OPENIOP_SMS_BACKEND = "file"
    settings.OPENIOP_SMS_FILE = str(tmp_path / "sms.log")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def booked(patient, episode, program):
    patient.email = "dana@example.org"
    patient.save(update_fields=["email"])
    program.name = "Substance Use IOP"
    program.save(update_fields=["name"])
    with time_machine.travel(BEFORE, tick=False):
        session = session_create(
            actor=None, program=program, title="Relapse prevention group", starts_at=START,
            ends_at=START + dt.timedelta(hours=3),
        )  # fmt: skip
        session_book(actor=None, session=session, episode=episode)
    return session


def _sms_lines(settings) -> list[dict]:
    with open(settings.OPENIOP_SMS_FILE, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_queue_one_per_channel_and_idempotent(booked, patient):
    assert reminders_queue(now=NOW) == 2
    assert reminders_queue(now=NOW) == 0
    assert reminders_queue(now=NOW + dt.timedelta(hours=1)) == 0
    rows = {m.channel: m for m in OutboxMessage.objects.for_org(patient.organization_id)}
    assert set(rows) == {"email", "sms"}
    assert rows["email"].to == "dana@example.org" and rows["sms"].to == "555-0100"
    assert rows["sms"].dedupe_key == f"reminder:{booked.public_id}:{patient.public_id}:sms"
    assert rows["sms"].body == (
        "Reminder: your appointment at Riverbend is tomorrow at 6:00 PM (Eastern). "
        "Reply STOP to opt out."
    )
    assert all(m.status == Status.PENDING for m in rows.values())
    assert AuditEvent.objects.filter(action="openiop.messaging.message.queue").count() == 2


def test_queue_only_sessions_in_next_24_hours(booked):
    assert reminders_queue(now=START - dt.timedelta(hours=25)) == 0
    assert reminders_queue(now=START + dt.timedelta(minutes=1)) == 0
    assert not OutboxMessage.objects.exists()


def test_cancelled_session_not_queued_and_pending_cancelled(booked):
    assert reminders_queue(now=NOW) == 2
    with time_machine.travel(NOW, tick=False):
        session_cancel(actor=None, session=booked, reason="Snow")
    assert reminders_queue(now=NOW) == 0
    result = outbox_deliver(now=NOW)
    assert result.cancelled == 2 and not mail.outbox
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.CANCELLED}


def test_preferences_respected(booked, patient):
    contact_preference_update(
        actor=None, patient=patient, email_ok=True, sms_ok=False,
        email="dana@example.org", phone="555-0100",
    )  # fmt: skip
    assert reminders_queue(now=NOW) == 1
    assert OutboxMessage.objects.get().channel == "email"


def test_opted_out_patient_gets_nothing(booked, patient):
    contact_preference_opt_out(actor=None, patient=patient, now=BEFORE)
    assert reminders_queue(now=NOW) == 0
    assert outbox_deliver(now=NOW).total == 0
    assert not mail.outbox


def test_opt_out_after_queueing_cancels_delivery(booked, patient, settings):
    reminders_queue(now=NOW)
    pref = contact_preference_for(patient)
    # STOP recorded behind the service's back (e.g. by a gateway webhook): delivery re-checks.
    ContactPreference.objects.filter(pk=pref.pk).update(opted_out_at=NOW)
    result = outbox_deliver(now=NOW)
    assert result.cancelled == 2 and result.sent == 0
    assert not mail.outbox
    msgs = list(OutboxMessage.objects.all())
    assert all(m.status == Status.CANCELLED and m.sent_at is None for m in msgs)
    assert all("opted out" in m.last_error for m in msgs)


def test_opt_out_service_cancels_pending(booked, patient):
    reminders_queue(now=NOW)
    contact_preference_opt_out(actor=None, patient=patient, now=NOW)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.CANCELLED}


def test_delivery_sends_email_and_sms_and_records_it(booked, patient, settings):
    reminders_queue(now=NOW)
    result = outbox_deliver(now=NOW + dt.timedelta(minutes=1))
    assert result.sent == 2
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["dana@example.org"]
    assert email.subject == "Appointment reminder from Riverbend"
    assert "tomorrow at 6:00 PM (Eastern)" in email.body
    lines = _sms_lines(settings)
    assert len(lines) == 1 and lines[0]["to"] == "555-0100"
    assert lines[0]["body"].endswith("Reply STOP to opt out.")
    for m in OutboxMessage.objects.all():
        assert m.status == Status.SENT and m.attempts == 1
        assert m.sent_at == NOW + dt.timedelta(minutes=1)
    # Nothing is sent twice.
    assert outbox_deliver(now=NOW + dt.timedelta(minutes=2)).total == 0
    assert len(mail.outbox) == 1 and len(_sms_lines(settings)) == 1


def test_not_due_is_not_sent(booked):
    reminders_queue(now=NOW)
    assert outbox_deliver(now=NOW - dt.timedelta(minutes=1)).total == 0


def _broken(to: str, body: str) -> None:
    raise ConnectionError("gateway down")


def test_retry_with_backoff_then_failed(booked, patient, settings):
    settings.OPENIOP_SMS_BACKEND = "openiop.messaging.tests.test_reminders._broken"
    contact_preference_update(
        actor=None, patient=patient, email_ok=False, sms_ok=True, email="", phone="555-0100",
    )  # fmt: skip
    reminders_queue(now=NOW)
    message = OutboxMessage.objects.get()
    at = NOW
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result = outbox_deliver(now=at)
        message.refresh_from_db()
        assert message.attempts == attempt
        assert message.last_error == "ConnectionError: gateway down"
        if attempt < MAX_ATTEMPTS:
            assert result.retrying == 1 and message.status == Status.PENDING
            waits.append(message.send_after - at)
            # not due before the backoff has passed
            assert outbox_deliver(now=message.send_after - dt.timedelta(seconds=1)).total == 0
            at = message.send_after
        else:
            assert result.failed == 1 and message.status == Status.FAILED
    assert waits == [dt.timedelta(minutes=m) for m in (5, 30, 120, 120)]
    assert message.sent_at is None
    assert outbox_deliver(now=at + dt.timedelta(days=1)).total == 0
    assert (
        AuditEvent.objects.filter(
            action="openiop.messaging.message.send", outcome=AuditEvent.Outcome.FAILED
        ).count()
        == MAX_ATTEMPTS
    )


def test_retry_succeeds_after_a_failure(booked, patient, settings):
    settings.OPENIOP_SMS_BACKEND = "openiop.messaging.tests.test_reminders._broken"
    contact_preference_update(
        actor=None, patient=patient, email_ok=False, sms_ok=True, email="", phone="555-0100",
    )  # fmt: skip
    reminders_queue(now=NOW)
    outbox_deliver(now=NOW)
    settings.OPENIOP_SMS_BACKEND = "file"
    assert outbox_deliver(now=NOW + dt.timedelta(minutes=5)).sent == 1
    message = OutboxMessage.objects.get()
    assert message.status == Status.SENT and message.attempts == 2 and message.last_error == ""
    assert len(_sms_lines(settings)) == 1


def test_one_failure_does_not_block_others(booked, patient, settings):
    settings.OPENIOP_SMS_BACKEND = "openiop.messaging.tests.test_reminders._broken"
    reminders_queue(now=NOW)
    result = outbox_deliver(now=NOW)
    assert result.sent == 1 and result.retrying == 1 and len(mail.outbox) == 1


def test_console_backend_logs(caplog):
    with caplog.at_level("INFO", logger="openiop.messaging.sms"):
        backends.get_sms_backend("console")("555-0100", "hello")
    assert "555-0100" in caplog.text


def test_unknown_sms_backend():
    with pytest.raises(ValueError, match="unknown SMS backend"):
        backends.get_sms_backend("nope")


def test_command_queues_and_delivers(booked, settings, capsys):
    with time_machine.travel(NOW, tick=False):
        call_command("messages", "send")
    err = capsys.readouterr().err
    assert "queued 2 session reminder(s)" in err and "2 sent" in err
    assert len(mail.outbox) == 1 and len(_sms_lines(settings)) == 1


# --- wording ------------------------------------------------------------------------------

BANNED_CHECK = (
    "substance", "alcohol", "drug", "opioid", "addiction", "recovery", "rehab", "iop",
    "treatment", "therapy", "counsel", "relapse", "group",
)  # fmt: skip


class _Org:
    def __init__(self, name: str) -> None:
        self.name = name


@pytest.mark.parametrize("kind", list(wording.TEMPLATES))
@pytest.mark.parametrize("channel", ["email", "sms"])
@pytest.mark.parametrize(
    "org_name",
    ["Riverbend Recovery", "Substance Use IOP", "Lakeside Behavioral Health & Counseling",
     "Hope Addiction Treatment Center", "Northside Rehab"],
)  # fmt: skip
@pytest.mark.parametrize("virtual", [False, True])
def test_wording_never_names_the_care(kind, channel, org_name, virtual):
    subject, body = wording.render(
        kind, channel, organization=_Org(org_name), now=NOW, starts_at=START,
        tz=zoneinfo.ZoneInfo("America/Chicago"), is_virtual=virtual,
    )  # fmt: skip
    text = f"{subject}\n{body}".lower()
    for word in BANNED_CHECK:
        assert word not in text, (word, text)


def test_wording_reminder_text():
    _, body = wording.render(
        "session_reminder", "sms", organization=_Org("Riverbend Recovery"), now=NOW,
        starts_at=START, tz=zoneinfo.ZoneInfo("America/Chicago"),
    )  # fmt: skip
    assert body == (
        "Reminder: your appointment at Riverbend is tomorrow at 5:00 PM (Central). "
        "Reply STOP to opt out."
    )


def test_wording_sender_fallback_and_days():
    assert wording.sender_name(_Org("Lakeside Behavioral Health & Counseling")) == "Lakeside"
    assert wording.sender_name(_Org("Recovery Treatment Center")) == "Center"
    assert wording.sender_name(_Org("Addiction Recovery")) == wording.FALLBACK_SENDER
    tz = zoneinfo.ZoneInfo("America/New_York")
    assert wording.when_text(START, tz, now=START - dt.timedelta(hours=2)).startswith("today at")
    assert wording.when_text(START, tz, now=START - dt.timedelta(days=3)) == (
        "on Tuesday, Nov 17 at 6:00 PM (Eastern)"
    )


def test_render_refuses_a_banned_word(monkeypatch):
    monkeypatch.setitem(wording.TEMPLATES, "follow_up", ("Hi", "Your therapy is due."))
    with pytest.raises(wording.NotNeutralError):
        wording.render("follow_up", "sms", organization=_Org("Riverbend"), now=NOW)


def test_reminder_for_program_named_substance_use_iop(booked):
    assert Program.objects.get().name == "Substance Use IOP"
    reminders_queue(now=NOW)
    for m in OutboxMessage.objects.all():
        assert not wording.banned_in(m.subject + " " + m.body)
        assert "Relapse" not in m.body and "Substance" not in m.body


def test_default_preference_from_patient(org):
    p = patient_create(
        actor=None, organization=org, first_name="Luis", last_name="Ortega",
        date_of_birth=dt.date(1991, 2, 2), email="luis@example.org",
    )  # fmt: skip
    pref = contact_preference_for(p)
    assert pref.email == "luis@example.org" and pref.phone == ""
    assert pref.allows("email") and not pref.allows("sms")


def test_second_patient_other_org_isolated(booked, other_org, settings):
    """Reminders are built per organization: the other organization's name is used for its own
    patients and nothing crosses over."""
    from openiop.organizations.models import Site

    site = Site.objects.create(organization=other_org, name="Main", timezone="America/Chicago")
    prog = Program.objects.create(organization=other_org, site=site, name="Evening")
    p = patient_create(
        actor=None, organization=other_org, first_name="Ana", last_name="Lee",
        date_of_birth=dt.date(1990, 1, 1), phone="555-0200",
    )  # fmt: skip
    with time_machine.travel(BEFORE, tick=False):
        e = episode_create(actor=None, patient=p, program=prog, admitted_on=dt.date(2026, 11, 2))
        s = session_create(actor=None, program=prog, title="X", starts_at=START,
                           ends_at=START + dt.timedelta(hours=1))  # fmt: skip
        session_book(actor=None, session=s, episode=e)
    assert reminders_queue(now=NOW) == 3
    mine = OutboxMessage.objects.for_org(other_org).get()
    assert mine.to == "555-0200" and "Lakeside" in mine.body and "5:00 PM (Central)" in mine.body
