"""Medications (including MAT) and drug screens with per-substance results (issue #6).

A medication row is never edited in place once it has been taken: a change of dose or
frequency stops the row and starts a new one that points back through ``replaces``, so the
history of what the patient was on, and when, is always readable (and so screens keep being
interpreted against what was prescribed *on the collection day*).

``stop_on`` is the day the medication was stopped: it is taken on ``start_on <= day < stop_on``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from openiop.core.models import TenantModel, TenantQuerySet
from openiop.medications import screening

PANEL_CHOICES = list(screening.PANEL)


class MedicationQuerySet(TenantQuerySet):
    def active_on(self, day: dt.date) -> MedicationQuerySet:
        return self.filter(start_on__lte=day).filter(Q(stop_on__isnull=True) | Q(stop_on__gt=day))


class Medication(TenantModel):
    class Route(models.TextChoices):
        ORAL = "oral", "Oral"
        SUBLINGUAL = "sublingual", "Sublingual / buccal"
        INJECTION = "injection", "Injection (IM / subcutaneous)"
        IMPLANT = "implant", "Implant"
        TRANSDERMAL = "transdermal", "Transdermal"
        INHALED = "inhaled", "Inhaled / nasal"
        OTHER = "other", "Other"

    class MatKind(models.TextChoices):
        BUPRENORPHINE = "buprenorphine", "Buprenorphine"
        NALTREXONE = "naltrexone", "Naltrexone"
        METHADONE = "methadone", "Methadone (outside OTP)"
        ACAMPROSATE = "acamprosate", "Acamprosate"
        DISULFIRAM = "disulfiram", "Disulfiram"
        OTHER = "other", "Other MAT"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="medications"
    )
    episode = models.ForeignKey(
        "enrollment.Episode",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="medications",
    )
    name = models.CharField(max_length=200)
    dose = models.CharField(max_length=100)
    route = models.CharField(max_length=12, choices=Route.choices, default=Route.ORAL)
    frequency = models.CharField(max_length=100)
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prescribed_medications",
    )
    outside_prescriber = models.CharField(
        "outside prescriber or program", max_length=200, blank=True
    )
    start_on = models.DateField()
    stop_on = models.DateField(null=True, blank=True)
    is_mat = models.BooleanField("medication for addiction treatment", default=False)
    mat_kind = models.CharField(max_length=14, choices=MatKind.choices, blank=True)
    # Which screen substance the drug shows up as; blank when it shows up as none.
    panel_substance = models.CharField(max_length=16, choices=PANEL_CHOICES, blank=True)
    adherence_notes = models.TextField(blank=True)
    stop_reason = models.CharField(max_length=300, blank=True)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )

    objects = MedicationQuerySet.as_manager()

    class Meta:
        ordering = ["-start_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stop_on__isnull=True) | Q(stop_on__gte=F("start_on")),
                name="medication_stop_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(is_mat=False, mat_kind="") | (Q(is_mat=True) & ~Q(mat_kind="")),
                name="medication_mat_kind_iff_mat",
            ),
            models.CheckConstraint(
                condition=Q(prescriber__isnull=False) | ~Q(outside_prescriber=""),
                name="medication_has_prescriber",
            ),
        ]
        indexes = [models.Index(fields=["organization", "patient", "start_on"])]

    def __str__(self) -> str:
        return f"{self.name} {self.dose} {self.frequency}"

    def is_active_on(self, day: dt.date) -> bool:
        return self.start_on <= day and (self.stop_on is None or self.stop_on > day)

    @property
    def prescriber_display(self) -> str:
        if self.prescriber is not None:
            return self.prescriber.get_full_name() or self.prescriber.get_username()
        return self.outside_prescriber

    @property
    def panel_label(self) -> str:
        return screening.SUBSTANCE_LABELS.get(self.panel_substance, "")


class DrugScreen(TenantModel):
    """One specimen tested by one method. A lab (confirmatory) result on a point-of-care
    specimen is its own row pointing at the presumptive one through ``confirms``."""

    class Specimen(models.TextChoices):
        URINE = "urine", "Urine"
        ORAL_FLUID = "oral_fluid", "Oral fluid"
        BLOOD = "blood", "Blood"
        BREATH = "breath", "Breath"

    class Method(models.TextChoices):
        PRESUMPTIVE = screening.PRESUMPTIVE, "Presumptive (point-of-care)"
        CONFIRMATORY = screening.CONFIRMATORY, "Confirmatory (lab)"

    class Validity(models.TextChoices):
        VALID = screening.VALID, "Valid"
        DILUTE = screening.DILUTE, "Dilute"
        ADULTERATED = screening.ADULTERATED, "Adulterated"
        SUBSTITUTED = screening.SUBSTITUTED, "Substituted"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="drug_screens"
    )
    episode = models.ForeignKey(
        "enrollment.Episode", on_delete=models.PROTECT, related_name="drug_screens"
    )
    collected_at = models.DateTimeField()
    # The collection date in the site's local time: the date of service for billing.
    collected_on = models.DateField()
    specimen = models.CharField(max_length=12, choices=Specimen.choices, default=Specimen.URINE)
    method = models.CharField(max_length=12, choices=Method.choices)
    observed = models.BooleanField("collection observed", default=False)
    specimen_validity = models.CharField(
        max_length=12, choices=Validity.choices, default=Validity.VALID
    )
    lab_name = models.CharField(max_length=200, blank=True)
    accession_number = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recorded_drug_screens",
    )
    confirms = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="confirmations"
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-collected_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(confirms__isnull=True) | Q(method="confirmatory"),
                name="drug_screen_only_lab_confirms",
            ),
            models.UniqueConstraint(
                fields=["organization", "lab_name", "accession_number"],
                condition=~Q(accession_number=""),
                name="drug_screen_accession_unique",
            ),
        ]
        indexes = [models.Index(fields=["organization", "patient", "collected_at"])]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.get_specimen_display()} {self.collected_on}"


class DrugScreenResult(TenantModel):
    class Interpretation(models.TextChoices):
        NEGATIVE = screening.NEGATIVE, "Negative"
        POSITIVE = screening.POSITIVE, "Positive"
        EXPECTED = screening.EXPECTED, "Expected (prescribed)"
        EXPECTED_NOT_DETECTED = screening.EXPECTED_NOT_DETECTED, "Expected, not detected"
        INVALID = screening.INVALID, "Invalid"

    screen = models.ForeignKey(DrugScreen, on_delete=models.CASCADE, related_name="results")
    substance = models.CharField(max_length=16, choices=PANEL_CHOICES)
    detected = models.BooleanField()
    cutoff_ng_ml = models.PositiveIntegerField("cutoff (ng/mL)", null=True, blank=True)
    interpretation = models.CharField(max_length=24, choices=Interpretation.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["screen", "substance"], name="drug_screen_result_one_per_substance"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_substance_display()}: {self.get_interpretation_display()}"

    @property
    def order(self) -> int:
        return [code for code, _ in screening.PANEL].index(self.substance)
