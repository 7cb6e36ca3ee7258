"""Aftercare after discharge: the plan, its components, engagement, and follow-up contacts.

The computations (follow-up windows, the 95% reduction rule, engagement bands) live in the pure
``openiop.aftercare.rules``; these tables hold what staff and patients record. Thresholds are the
``OPENIOP_AFTERCARE_*`` settings (docs/guide/aftercare.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import TenantModel


class AftercarePlan(TenantModel):
    """What a patient will do after the program, for ``OPENIOP_AFTERCARE_MONTHS`` (default 10)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="aftercare_plans"
    )
    episode = models.OneToOneField(
        "enrollment.Episode", on_delete=models.PROTECT, related_name="aftercare_plan"
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    notes = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-starts_on", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="aftercare_plan_ends_after"
            )
        ]

    def __str__(self) -> str:
        return f"Aftercare {self.starts_on:%Y-%m-%d} to {self.ends_on:%Y-%m-%d}"


class ComponentKind(models.TextChoices):
    ALUMNI_GROUP = "alumni_group", "Alumni group"
    OUTPATIENT_THERAPY = "outpatient_therapy", "Outpatient therapy"
    PEER_RECOVERY = "peer_recovery", "Peer recovery support"
    MUTUAL_HELP = "mutual_help", "Mutual-help meetings"
    MAT_CONTINUATION = "mat_continuation", "Medication (MAT) continuation"
    SOBER_LIVING = "sober_living", "Sober living"
    VIRTUAL_AFTERCARE = "virtual_aftercare", "Virtual aftercare"
    OTHER = "other", "Other"


class AftercareComponent(TenantModel):
    """One part of the plan. ``program`` set: an OpenIOP-run group whose attendance counts."""

    plan = models.ForeignKey(AftercarePlan, on_delete=models.CASCADE, related_name="components")
    kind = models.CharField(max_length=24, choices=ComponentKind.choices)
    provider = models.CharField(max_length=200, blank=True)
    schedule = models.CharField(max_length=200, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    program = models.ForeignKey(
        "organizations.Program",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="aftercare_components",
        help_text="An aftercare group this organization runs: attendance there counts.",
    )

    class Meta:
        ordering = ["starts_on", "kind"]

    def __str__(self) -> str:
        provider = f" ({self.provider})" if self.provider else ""
        return f"{self.get_kind_display()}{provider}"


class EngagementEntry(TenantModel):
    """A logged contact with an outside component (a meeting went to, a therapy visit kept)."""

    class Source(models.TextChoices):
        STAFF = "staff", "Logged by staff"
        PATIENT = "patient", "Reported by the patient"

    component = models.ForeignKey(
        AftercareComponent, on_delete=models.CASCADE, related_name="engagement"
    )
    occurred_on = models.DateField()
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.STAFF)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-occurred_on", "-created_at"]


class FollowUp(TenantModel):
    """A structured contact due ``offset_days`` after discharge (30, 90, 180, 365 by default)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Not yet reached"
        COMPLETED = "completed", "Completed"
        CLOSED = "closed", "Closed without contact"

    plan = models.ForeignKey(AftercarePlan, on_delete=models.CASCADE, related_name="follow_ups")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="follow_ups"
    )
    offset_days = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    contacted_on = models.DateField(null=True, blank=True)
    contacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    # What the patient reported (null: not asked or declined to answer).
    any_use_since_last = models.BooleanField(null=True, blank=True)
    days_used_30 = models.PositiveSmallIntegerField(null=True, blank=True)
    substance_days = models.JSONField(
        default=dict, blank=True, help_text="Days of use in the past 30 days per TEDS substance."
    )
    employment = models.SmallIntegerField(null=True, blank=True)  # TEDS EMPLOY code
    living = models.SmallIntegerField(null=True, blank=True)  # TEDS LIVARAG code
    arrests_30 = models.PositiveSmallIntegerField(null=True, blank=True)
    in_treatment = models.BooleanField(null=True, blank=True)
    phq9 = models.PositiveSmallIntegerField(null=True, blank=True)
    gad7 = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due_on"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "offset_days"], name="follow_up_once"),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(contacted_on__isnull=False),
                name="follow_up_completed_has_date",
            ),
            models.CheckConstraint(
                condition=Q(days_used_30__isnull=True) | Q(days_used_30__lte=30),
                name="follow_up_days_used_at_most_30",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offset_days}-day follow-up due {self.due_on:%Y-%m-%d}"


class FollowUpAttempt(TenantModel):
    """One try at reaching the patient for a follow-up, reached or not."""

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone"
        TEXT = "text", "Text message"
        EMAIL = "email", "E-mail"
        IN_PERSON = "in_person", "In person"
        PORTAL = "portal", "Portal"

    class Result(models.TextChoices):
        REACHED = "reached", "Reached"
        NO_ANSWER = "no_answer", "No answer"
        LEFT_MESSAGE = "left_message", "Left a message"
        WRONG_NUMBER = "wrong_number", "Wrong number / bounced"
        DECLINED = "declined", "Declined to take part"

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField()
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PHONE)
    result = models.CharField(max_length=14, choices=Result.choices)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-attempted_at"]
