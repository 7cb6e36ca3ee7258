from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from openiop.core.models import TenantModel, TenantQuerySet


class TedsSubstance(models.IntegerChoices):
    """TEDS SUB1-3 codes (domain.md §8.5)."""

    NONE = 1, "None"
    ALCOHOL = 2, "Alcohol"
    COCAINE = 3, "Cocaine/crack"
    MARIJUANA = 4, "Marijuana/hashish"
    HEROIN = 5, "Heroin"
    METHADONE = 6, "Non-prescription methadone"
    OTHER_OPIATES = 7, "Other opiates and synthetics"
    PCP = 8, "PCP"
    HALLUCINOGENS = 9, "Hallucinogens"
    METHAMPHETAMINE = 10, "Methamphetamine"
    OTHER_AMPHETAMINES = 11, "Other amphetamines"
    OTHER_STIMULANTS = 12, "Other stimulants"
    BENZODIAZEPINES = 13, "Benzodiazepines"
    OTHER_TRANQUILIZERS = 14, "Other tranquilizers"
    BARBITURATES = 15, "Barbiturates"
    OTHER_SEDATIVES = 16, "Other sedatives or hypnotics"
    INHALANTS = 17, "Inhalants"
    OTC = 18, "Over-the-counter medications"
    OTHER = 19, "Other"


class TedsDischargeReason(models.IntegerChoices):
    """TEDS-D REASON codes (domain.md §8.2)."""

    COMPLETED = 1, "Treatment completed"
    DROPPED_OUT = 2, "Dropped out of treatment"
    TERMINATED = 3, "Terminated by facility"
    TRANSFERRED = 4, "Transferred to another program or facility"
    INCARCERATED = 5, "Incarcerated"
    DEATH = 6, "Death"
    OTHER = 7, "Other"


class ReferralSource(models.TextChoices):
    SELF = "self", "Self"
    FAMILY = "family", "Family or friend"
    EMPLOYER = "employer", "Employer / EAP"
    COURT = "court", "Court / criminal justice"
    HOSPITAL = "hospital", "Hospital"
    DETOX = "detox", "Withdrawal management"
    RESIDENTIAL = "residential", "Residential step-down"
    SCHOOL = "school", "School"
    PROVIDER = "provider", "Other provider"
    OTHER = "other", "Other"


class EpisodeQuerySet(TenantQuerySet):
    def open(self) -> EpisodeQuerySet:
        return self.exclude(status=Episode.Status.DISCHARGED)

    def active_on(self, day: dt.date) -> EpisodeQuerySet:
        """Admitted on or before ``day`` and not discharged before it."""
        return self.filter(admitted_on__lte=day).filter(
            Q(discharged_on__isnull=True) | Q(discharged_on__gte=day)
        )


class Episode(TenantModel):
    """One treatment episode segment in one program.

    A step up or step down closes this segment (discharge reason "transferred") and opens a new one
    that points back through ``transferred_from``, so the whole course of treatment stays readable.
    """

    class Status(models.TextChoices):
        WAITLISTED = "waitlisted", "Waitlisted"
        ADMITTED = "admitted", "Admitted"
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        DISCHARGED = "discharged", "Discharged"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="episodes"
    )
    program = models.ForeignKey(
        "organizations.Program", on_delete=models.PROTECT, related_name="episodes"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.WAITLISTED)
    referral_date = models.DateField(null=True, blank=True)
    referral_source = models.CharField(
        max_length=12, choices=ReferralSource.choices, default=ReferralSource.SELF
    )
    admitted_on = models.DateField(null=True, blank=True)
    discharged_on = models.DateField(null=True, blank=True)
    primary_substance = models.PositiveSmallIntegerField(
        choices=TedsSubstance.choices, null=True, blank=True
    )
    secondary_substance = models.PositiveSmallIntegerField(
        choices=TedsSubstance.choices, null=True, blank=True
    )
    mat = models.BooleanField("medication for addiction treatment", default=False)
    # Days of use of any substance in the 30 days before admission (the baseline the 95%
    # reduction is measured against, TEDS FREQ1) and in the 30 days before discharge (FREQ1_D).
    baseline_days_used_30 = models.PositiveSmallIntegerField(
        "days of use in the 30 days before admission", null=True, blank=True
    )
    discharge_days_used_30 = models.PositiveSmallIntegerField(
        "days of use in the 30 days before discharge", null=True, blank=True
    )
    discharge_reason = models.PositiveSmallIntegerField(
        choices=TedsDischargeReason.choices, null=True, blank=True
    )
    discharge_note = models.TextField(blank=True)
    primary_counselor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="caseload",
    )
    transferred_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="transferred_to"
    )
    version = models.PositiveIntegerField(default=1)

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["-admitted_on", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discharged_on__isnull=True)
                | Q(admitted_on__isnull=True)
                | Q(discharged_on__gte=F("admitted_on")),
                name="episode_discharge_not_before_admission",
            ),
            models.CheckConstraint(
                condition=(Q(baseline_days_used_30__isnull=True) | Q(baseline_days_used_30__lte=30))
                & (Q(discharge_days_used_30__isnull=True) | Q(discharge_days_used_30__lte=30)),
                name="episode_days_used_at_most_30",
            ),
            models.CheckConstraint(
                condition=~Q(status="discharged") | Q(discharge_reason__isnull=False),
                name="episode_discharged_has_reason",
            ),
            # One open episode per patient at a time (a transfer closes one before opening the
            # next), enforced here too so two concurrent admissions cannot both succeed.
            models.UniqueConstraint(
                fields=["patient"],
                condition=~Q(status="discharged"),
                name="episode_one_open_per_patient",
            ),
        ]
        indexes = [models.Index(fields=["organization", "program", "status"])]

    def __str__(self) -> str:
        return f"{self.patient} in {self.program}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.DISCHARGED


class EpisodeStatusChange(TenantModel):
    """Every status change, in order; on-hold periods for weekly compliance come from here."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=Episode.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Episode.Status.choices)
    effective_on = models.DateField()
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["effective_on", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status} on {self.effective_on}"
