"""Reminders through an outbox (issue 10, "Reminders").

``reminders_queue`` writes one ``OutboxMessage`` per booked patient and allowed channel for the
sessions of the next 24 hours (idempotent: the ``dedupe_key`` is unique). ``outbox_deliver``
sends what is due, one locked row at a time, and records the outcome on the row: ``sent`` with
``sent_at``; on an error ``attempts`` + 1, ``last_error`` and a retry after ``BACKOFF`` until
``MAX_ATTEMPTS``, then ``failed``. A patient who opted out (or turned the channel off) after a
message was queued, a cancelled session and a session already started cancel the message instead.

Both run from ``openiop messages send`` (the background runner, see the command), without a
user: the audit rows have no actor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest

from openiop.attendance.models import AttendanceRecord
from openiop.core.actors import user_or_none as _user
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.messaging import backends, wording
from openiop.messaging.models import ContactPreference, OutboxMessage
from openiop.patients.models import Patient
from openiop.scheduling.models import Session

CAT = AuditEvent.Category.SCHEDULE
REMINDER_WINDOW = dt.timedelta(hours=24)
MAX_ATTEMPTS = 5
#: Wait before retry n (after the n-th failed attempt); the last value repeats.
BACKOFF = (dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(minutes=120))
Status = OutboxMessage.Status


def _defaults(patient: Patient) -> dict[str, Any]:
    return {
        "organization_id": patient.organization_id,
        "email": patient.email or "",
        "phone": patient.phone or "",
    }


def contact_preference_for(patient: Patient) -> ContactPreference:
    """The patient's preference, created from their e-mail and phone on first use."""
    pref, _ = ContactPreference.objects.get_or_create(patient=patient, defaults=_defaults(patient))
    return pref


@transaction.atomic
def contact_preference_update(
    *,
    actor: Any,
    patient: Patient,
    email_ok: bool,
    sms_ok: bool,
    email: str,
    phone: str,
    request: HttpRequest | None = None,
) -> ContactPreference:
    pref = contact_preference_for(patient)
    pref.email_ok, pref.sms_ok, pref.email, pref.phone = email_ok, sms_ok, email, phone
    pref.updated_by = _user(actor)
    pref.save()
    audit_log(
        actor=actor, action="openiop.messaging.preference.update", category=CAT,
        obj=pref, patient=patient, request=request,
        detail={"email_ok": email_ok, "sms_ok": sms_ok},
    )  # fmt: skip
    return pref


@transaction.atomic
def contact_preference_opt_out(
    *, actor: Any, patient: Patient, now: dt.datetime, request: HttpRequest | None = None
) -> ContactPreference:
    """STOP: no more messages. Pending ones are cancelled now (delivery re-checks as well)."""
    pref = contact_preference_for(patient)
    if pref.opted_out_at is None:
        pref.opted_out_at = now
        pref.updated_by = _user(actor)
        pref.save(update_fields=["opted_out_at", "updated_by", "updated_at"])
    cancelled = (
        OutboxMessage.objects.for_org(patient.organization_id)
        .filter(patient=patient, status=Status.PENDING)
        .update(status=Status.CANCELLED, last_error="The patient opted out.")
    )
    audit_log(
        actor=actor, action="openiop.messaging.preference.opt_out", category=CAT,
        obj=pref, patient=patient, request=request, detail={"cancelled": cancelled},
    )  # fmt: skip
    return pref


@transaction.atomic
def contact_preference_opt_in(
    *, actor: Any, patient: Patient, request: HttpRequest | None = None
) -> ContactPreference:
    pref = contact_preference_for(patient)
    pref.opted_out_at = None
    pref.updated_by = _user(actor)
    pref.save(update_fields=["opted_out_at", "updated_by", "updated_at"])
    audit_log(
        actor=actor, action="openiop.messaging.preference.opt_in", category=CAT,
        obj=pref, patient=patient, request=request,
    )  # fmt: skip
    return pref


def reminder_key(session: Session, patient: Patient, channel: str) -> str:
    return f"reminder:{session.public_id}:{patient.public_id}:{channel}"


def reminders_queue(*, now: dt.datetime) -> int:
    """Queue a reminder per booked patient and allowed channel for every session starting in
    the next 24 hours (all organizations). Returns how many messages were queued; running it
    again queues nothing new."""
    records = list(
        AttendanceRecord.unscoped.filter(
            status=AttendanceRecord.Status.EXPECTED,
            session__starts_at__gte=now,
            session__starts_at__lt=now + REMINDER_WINDOW,
        )
        .exclude(session__status=Session.Status.CANCELLED)
        .select_related("patient", "session__program__site", "session__organization")
        .order_by("session__starts_at", "id")
    )
    if not records:
        return 0
    patients = {r.patient_id: r.patient for r in records}
    prefs = _preferences(patients)
    wanted: dict[str, OutboxMessage] = {}
    for record in records:
        pref, session = prefs[record.patient_id], record.session
        for channel in OutboxMessage.Channel.values:
            if not pref.allows(channel):
                continue
            subject, body = wording.render(
                OutboxMessage.Kind.SESSION_REMINDER, channel,
                organization=session.organization, now=now, starts_at=session.starts_at,
                tz=session.program.site.tz, is_virtual=session.is_virtual,
            )  # fmt: skip
            key = reminder_key(session, record.patient, channel)
            wanted[key] = OutboxMessage(
                organization_id=session.organization_id, patient=record.patient, session=session,
                channel=channel, to=pref.address(channel), subject=subject, body=body,
                kind=OutboxMessage.Kind.SESSION_REMINDER, send_after=now, dedupe_key=key,
            )  # fmt: skip
    return _queue_new(wanted)


def _preferences(patients: dict[int, Patient]) -> dict[int, ContactPreference]:
    """Each patient's preference, created from their e-mail and phone where missing."""
    prefs = {p.patient_id: p for p in ContactPreference.unscoped.filter(patient_id__in=patients)}
    missing = [pid for pid in patients if pid not in prefs]
    if missing:
        ContactPreference.objects.bulk_create(
            [
                ContactPreference(patient=patients[pid], **_defaults(patients[pid]))
                for pid in missing
            ],
            ignore_conflicts=True,
        )
        prefs = {
            p.patient_id: p for p in ContactPreference.unscoped.filter(patient_id__in=patients)
        }
    return prefs


def _queue_new(wanted: dict[str, OutboxMessage]) -> int:
    """Insert the messages whose dedupe key is new, with one audit row each."""
    if not wanted:
        return 0
    existing = set(
        OutboxMessage.unscoped.filter(dedupe_key__in=list(wanted)).values_list(
            "dedupe_key", flat=True
        )
    )
    new = [m for k, m in wanted.items() if k not in existing]
    with transaction.atomic():
        # ignore_conflicts: a second runner that queued the same key first wins, silently.
        OutboxMessage.objects.bulk_create(new, ignore_conflicts=True)
        queued = OutboxMessage.unscoped.filter(dedupe_key__in=[m.dedupe_key for m in new])
        for message in queued.select_related("patient"):
            audit_log(
                actor=None, action="openiop.messaging.message.queue", category=CAT,
                obj=message, patient=message.patient,
                detail={"kind": message.kind, "channel": message.channel},
            )  # fmt: skip
    return len(new)


def _plain(
    kind: str, patients: dict[int, Patient], keys: dict[int, str], now: dt.datetime
) -> dict[str, OutboxMessage]:
    """One message of ``kind`` per patient and allowed channel (no time in the text)."""
    prefs = _preferences(patients)
    wanted: dict[str, OutboxMessage] = {}
    for pid, patient in patients.items():
        pref = prefs[pid]
        for channel in OutboxMessage.Channel.values:
            if not pref.allows(channel):
                continue
            subject, body = wording.render(
                kind, channel, organization=patient.organization, now=now
            )
            key = f"{keys[pid]}:{channel}"
            wanted[key] = OutboxMessage(
                organization_id=patient.organization_id, patient=patient, channel=channel,
                to=pref.address(channel), subject=subject, body=body, kind=kind,
                send_after=now, dedupe_key=key,
            )  # fmt: skip
    return wanted


def follow_up_messages_queue(*, now: dt.datetime) -> int:
    """Aftercare follow-ups: on the due date (or within the week after it, if the runner was
    down) ask the patient to call, once per follow-up. The text says only "would like to check
    in" (wording.TEMPLATES)."""
    from openiop.aftercare.models import FollowUp

    today = now.date()
    rows = list(
        FollowUp.unscoped.filter(
            status=FollowUp.Status.PENDING,
            due_on__lte=today,
            due_on__gt=today - dt.timedelta(days=7),
        ).select_related("patient__organization")
    )
    patients = {f.patient_id: f.patient for f in rows}
    keys = {f.patient_id: f"follow_up:{f.public_id}" for f in rows}
    return _queue_new(_plain(OutboxMessage.Kind.FOLLOW_UP, patients, keys, now))


def questionnaire_messages_queue(*, now: dt.datetime) -> int:
    """Patients with a portal log-in and a questionnaire due by their program's schedule: one
    message per instrument and due date ("a short form is waiting in your online account")."""
    from openiop.enrollment.models import Episode
    from openiop.portal.models import PortalAccount
    from openiop.questionnaires.selectors import questionnaires_due

    with_portal = PortalAccount.unscoped.filter(kind="patient", is_active=True).values("patient_id")
    episodes = list(
        Episode.unscoped.filter(patient_id__in=with_portal)
        .exclude(status=Episode.Status.DISCHARGED)
        .exclude(admitted_on__isnull=True)
        .select_related("patient__organization", "program__site")
    )
    patients: dict[int, Patient] = {}
    keys: dict[int, str] = {}
    for episode in episodes:
        due = questionnaires_due(episode, episode.program.site.today())
        if due:
            first = min(due, key=lambda d: (d.due_on, d.instrument))
            patients[episode.patient_id] = episode.patient
            keys[episode.patient_id] = (
                f"questionnaire:{episode.patient.public_id}:{first.instrument}:{first.due_on}"
            )
    return _queue_new(_plain(OutboxMessage.Kind.QUESTIONNAIRE, patients, keys, now))


@dataclass
class DeliveryResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retrying + self.failed + self.cancelled


def _backoff(attempts: int) -> dt.timedelta:
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def _cancel_reason(message: OutboxMessage, now: dt.datetime) -> str:
    pref = ContactPreference.unscoped.filter(patient_id=message.patient_id).first()
    if pref is None or pref.opted_out:
        return "The patient opted out." if pref else "No contact preference."
    if not pref.allows(message.channel):
        return f"The patient turned off {message.get_channel_display().lower()} messages."
    session = message.session
    if message.kind == OutboxMessage.Kind.SESSION_REMINDER and session is not None:
        if session.status == Session.Status.CANCELLED:
            return "The session was cancelled."
        if session.starts_at <= now:
            return "The session has already started."
    return ""


def _locked(pk: int, now: dt.datetime) -> OutboxMessage | None:
    qs = OutboxMessage.unscoped.filter(pk=pk, status=Status.PENDING, send_after__lte=now)
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return qs.select_related("patient", "session").first()


def _deliver_one(pk: int, now: dt.datetime, result: DeliveryResult) -> None:
    with transaction.atomic():
        message = _locked(pk, now)
        if message is None:  # taken by another runner, or no longer due
            return
        reason = _cancel_reason(message, now)
        if reason:
            message.status, message.last_error = Status.CANCELLED, reason
            message.save(update_fields=["status", "last_error", "updated_at"])
            result.cancelled += 1
            verb, outcome = "cancel", AuditEvent.Outcome.SUCCESS
        else:
            message.attempts += 1
            try:
                backends.deliver(message)
            except Exception as exc:  # noqa: BLE001 (any backend error is recorded and retried)
                message.last_error = f"{type(exc).__name__}: {exc}"[:500]
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = Status.FAILED
                    result.failed += 1
                else:
                    message.send_after = now + _backoff(message.attempts)
                    result.retrying += 1
                verb, outcome = "send", AuditEvent.Outcome.FAILED
            else:
                message.status, message.sent_at, message.last_error = Status.SENT, now, ""
                result.sent += 1
                verb, outcome = "send", AuditEvent.Outcome.SUCCESS
            message.save(
                update_fields=[
                    "status", "sent_at", "attempts", "last_error", "send_after", "updated_at",
                ]
            )  # fmt: skip
        audit_log(
            actor=None, action=f"openiop.messaging.message.{verb}", category=CAT,
            obj=message, patient=message.patient, outcome=outcome,
            detail={"channel": message.channel, "status": message.status,
                    "attempts": message.attempts},
        )  # fmt: skip


def outbox_deliver(*, now: dt.datetime, limit: int = 100) -> DeliveryResult:
    """Send up to ``limit`` due pending messages (oldest first). Each message is sent in its own
    transaction with its row locked (``skip_locked`` where the database has it), so two runners
    never send the same message and one bad message never blocks the others."""
    due = list(
        OutboxMessage.unscoped.filter(status=Status.PENDING, send_after__lte=now)
        .order_by("send_after", "id")
        .values_list("pk", flat=True)[:limit]
    )
    result = DeliveryResult()
    for pk in due:
        _deliver_one(pk, now, result)
    return result
