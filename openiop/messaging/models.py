"""Patient messages (issue 10, "Reminders"): contact preferences and an outbox.

Every message is a row in :class:`OutboxMessage` first (the outbox); ``outbox_deliver`` sends the
due rows, retries failures with backoff and records the outcome on the row (the delivery record).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from openiop.core.models import TenantModel


class ContactPreference(TenantModel):
    """How a patient may be reached. Created on first use from the patient's e-mail and phone.

    ``opted_out_at`` is set by STOP (or the staff/portal opt-out): no message is queued or sent
    while it is set, whatever the channel flags say."""

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.CASCADE, related_name="contact_preference"
    )
    email_ok = models.BooleanField("E-mail reminders", default=True)
    sms_ok = models.BooleanField("Text message reminders", default=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Contact preference of {self.patient_id}"

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None

    def allows(self, channel: str) -> bool:
        """May a message go out on ``channel`` now (not opted out, channel on, address known)?"""
        if self.opted_out:
            return False
        if channel == OutboxMessage.Channel.EMAIL:
            return self.email_ok and bool(self.email)
        if channel == OutboxMessage.Channel.SMS:
            return self.sms_ok and bool(self.phone)
        return False

    def address(self, channel: str) -> str:
        return self.email if channel == OutboxMessage.Channel.EMAIL else self.phone


class OutboxMessage(TenantModel):
    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "Text message"

    class Kind(models.TextChoices):
        SESSION_REMINDER = "session_reminder", "Session reminder"
        FOLLOW_UP = "follow_up", "Follow-up"
        QUESTIONNAIRE = "questionnaire", "Questionnaire reminder"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="outbox_messages"
    )
    # The session a reminder is about (a cancelled session cancels its pending reminders).
    session = models.ForeignKey(
        "scheduling.Session",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbox_messages",
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    send_after = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # e.g. "reminder:<session public id>:<patient public id>:<channel>": never queued twice.
    dedupe_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["send_after", "id"]
        indexes = [models.Index(fields=["status", "send_after"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="outbox_sent_has_sent_at",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} {self.status}"
