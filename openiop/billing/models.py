"""Billing (issue #8 builds claims on this). For now: payer authorizations (issue #5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from openiop.core.models import TenantModel


class Authorization(TenantModel):
    """A payer's authorization of services for one episode: how many units of what, between
    which dates. Units used are counted from attendance (never typed in), so the alert before
    it runs out is always current."""

    class UnitKind(models.TextChoices):
        DAYS = "days", "Treatment days"
        SESSIONS = "sessions", "Sessions"
        HOURS = "hours", "Hours"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PENDING = "pending", "Requested, pending"
        DENIED = "denied", "Denied"
        VOID = "void", "Void"

    episode = models.ForeignKey(
        "enrollment.Episode", on_delete=models.PROTECT, related_name="authorizations"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="authorizations"
    )
    payer_name = models.CharField(max_length=200)
    auth_number = models.CharField(max_length=60, blank=True)
    level_of_care = models.CharField(max_length=8, default="2.1")
    service_code = models.CharField(max_length=10, default="H0015")
    unit_kind = models.CharField(max_length=8, choices=UnitKind.choices, default=UnitKind.DAYS)
    units_authorized = models.PositiveIntegerField()
    start_on = models.DateField()
    end_on = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    # Alert when this few units remain, or this many days before the end date.
    alert_units_remaining = models.PositiveSmallIntegerField(default=2)
    alert_days_before_end = models.PositiveSmallIntegerField(default=7)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-start_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__gte=F("start_on")), name="billing_auth_end_not_before_start"
            ),
            models.CheckConstraint(
                condition=Q(units_authorized__gte=1), name="billing_auth_units_positive"
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "end_on"])]

    def __str__(self) -> str:
        return f"{self.payer_name} {self.auth_number} ({self.units_authorized} {self.unit_kind})"
