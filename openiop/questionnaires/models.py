"""Questionnaire responses, the clinical alerts they raise, and per-program schedules.

Scores are computed by the pure ``instruments`` package at the time of recording and stored
beside the answers (with the instrument version), so a later change to an instrument module never
rewrites a past score.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import TenantModel, TenantQuerySet
from openiop.questionnaires.instruments import registry

INSTRUMENT_CHOICES = registry.choices()


class QuestionnaireResponse(TenantModel):
    class Source(models.TextChoices):
        STAFF = "staff", "Staff, in session"
        PORTAL = "portal", "Patient portal"
        LINK = "link", "Per-response link"

    class Status(models.TextChoices):
        COMPLETED = "completed", "Completed"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="questionnaire_responses"
    )
    episode = models.ForeignKey(
        "enrollment.Episode",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="questionnaire_responses",
    )
    instrument = models.CharField(max_length=16, choices=INSTRUMENT_CHOICES)
    instrument_version = models.CharField(max_length=16)
    answers = models.JSONField(help_text="answer codes keyed by item linkId")
    total = models.IntegerField(null=True, blank=True)
    severity = models.CharField(max_length=40, blank=True)
    flags = models.JSONField(default=list, blank=True)
    positive = models.BooleanField(null=True, blank=True)
    subscales = models.JSONField(default=dict, blank=True)
    administered_at = models.DateTimeField()
    administered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.STAFF)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.COMPLETED)

    class Meta:
        ordering = ["-administered_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "patient", "instrument", "administered_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} {self.administered_at:%Y-%m-%d}"

    @property
    def definition(self):  # noqa: ANN201 (an instruments.base.Instrument)
        return registry.get(self.instrument)

    @property
    def trend_value(self) -> int | None:
        metric = self.definition.trend_metric
        return self.total if metric == "total" else self.subscales.get(metric)

    @property
    def alert_flags(self) -> list[str]:
        from openiop.questionnaires.instruments.base import ALERT_FLAGS

        return [f for f in self.flags if f in ALERT_FLAGS]


class ClinicalAlertQuerySet(TenantQuerySet):
    def open(self) -> ClinicalAlertQuerySet:
        return self.filter(followed_up_at__isnull=True)


class ClinicalAlert(TenantModel):
    """A safety answer that needs a person to act. It is a task for the patient's counselor and
    stays open until someone records the follow-up; there is no way to close it without one
    (the check constraint below holds even for raw SQL and the admin)."""

    class Kind(models.TextChoices):
        SUICIDAL_IDEATION = "suicidal_ideation", "Suicidal ideation (PHQ-9 item 9)"
        HIGH_RISK = "high_risk", "High suicide risk (C-SSRS)"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="clinical_alerts"
    )
    episode = models.ForeignKey(
        "enrollment.Episode",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clinical_alerts",
    )
    response = models.ForeignKey(
        QuestionnaireResponse, on_delete=models.PROTECT, related_name="alerts"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    raised_at = models.DateTimeField()
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_clinical_alerts",
    )
    follow_up_note = models.TextField(blank=True)
    followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    followed_up_at = models.DateTimeField(null=True, blank=True)

    objects = ClinicalAlertQuerySet.as_manager()

    class Meta:
        ordering = ["raised_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(followed_up_at__isnull=True)
                | (Q(followed_up_by__isnull=False) & ~Q(follow_up_note="")),
                name="clinical_alert_closed_only_with_follow_up",
            ),
            models.UniqueConstraint(
                fields=["response", "kind"], name="clinical_alert_one_per_response_kind"
            ),
        ]
        indexes = [models.Index(fields=["organization", "followed_up_at", "assigned_to"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.raised_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.followed_up_at is None


class QuestionnaireSchedule(TenantModel):
    """Which instruments a program gives and when (e.g. PHQ-9 at admission, every 14 days and
    at discharge). Due dates are computed by the pure ``schedule`` module."""

    program = models.ForeignKey(
        "organizations.Program", on_delete=models.CASCADE, related_name="questionnaire_schedules"
    )
    instrument = models.CharField(max_length=16, choices=INSTRUMENT_CHOICES)
    at_admission = models.BooleanField(default=True)
    every_n_days = models.PositiveSmallIntegerField(null=True, blank=True)
    at_discharge = models.BooleanField(default=False)

    class Meta:
        ordering = ["program", "instrument"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "instrument"], name="questionnaire_schedule_one_per_program"
            ),
            models.CheckConstraint(
                condition=Q(every_n_days__isnull=True) | Q(every_n_days__gte=1),
                name="questionnaire_schedule_interval_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} for {self.program_id}"


class QuestionnaireInvitationQuerySet(TenantQuerySet):
    def pending(self, now: Any) -> QuestionnaireInvitationQuerySet:
        """Links a patient could still open: not used, not revoked, not expired."""
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class QuestionnaireInvitation(TenantModel):
    """A one-time link (``/questionnaires/r/<token>/``) for a patient to fill in one instrument
    on their own phone, without logging in.

    The token is the only credential, so only its SHA-256 digest is stored (as for
    ``accounts.ApiToken`` and ``scheduling.CalendarFeed``): a database leak yields no working
    link, and staff see the link once, when it is made. A link works once (``used_at``), until
    ``expires_at`` (default ``OPENIOP_QUESTIONNAIRE_LINK_HOURS``, 72 hours), and until revoked.
    """

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="questionnaire_invitations"
    )
    episode = models.ForeignKey(
        "enrollment.Episode",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="questionnaire_invitations",
    )
    instrument = models.CharField(max_length=16, choices=INSTRUMENT_CHOICES)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    response = models.OneToOneField(
        QuestionnaireResponse,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invitation",
    )

    objects = QuestionnaireInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(response__isnull=False),
                name="questionnaire_invitation_used_has_response",
            ),
        ]
        indexes = [models.Index(fields=["organization", "patient", "used_at"])]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} link {self.prefix}…"

    def state(self, now: Any) -> str:
        """ "used", "revoked", "expired" or "pending" at ``now``."""
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "pending"
