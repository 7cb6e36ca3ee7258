from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import F, Q

from openiop.core.models import TenantModel, TenantQuerySet


class PatientQuerySet(TenantQuerySet):
    def search(self, text: str) -> PatientQuerySet:
        """Patients with a name or MRN word starting with every word of ``text``, ignoring
        case and accents (``openiop.patients.search``); an index range per word, so the cost
        does not grow with the number of patients."""
        from openiop.patients import search

        if not text.strip():
            return self
        wanted = search.words(text)
        if not wanted:  # only punctuation: no word can match
            return self.none()
        result = self
        for word in wanted:
            low, high = search.prefix_range(word)
            result = result.filter(
                pk__in=PatientSearchTerm.objects.filter(key__gte=low, key__lt=high).values(
                    "patient_id"
                )
            )
        return result


class Patient(TenantModel):
    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        UNKNOWN = "unknown", "Unknown"

    mrn = models.CharField("MRN", max_length=32)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=300, blank=True)
    preferred_language = models.CharField(max_length=40, default="English")
    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_phone = models.CharField(max_length=32, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "mrn"], name="patient_mrn_unique_in_org"
            )
        ]
        indexes = [models.Index(fields=["organization", "last_name", "first_name"])]
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        fields = kwargs.get("update_fields")
        if fields is None or set(fields) & {"first_name", "last_name", "preferred_name", "mrn"}:
            from openiop.patients.search import index_patients

            index_patients([self])

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.first_name
        return f"{first} {self.last_name}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError
        from django.utils import timezone

        if self.date_of_birth and self.date_of_birth > timezone.localdate():
            raise ValidationError({"date_of_birth": "Date of birth cannot be in the future."})
        if self.date_of_birth and self.date_of_birth.year < 1900:
            raise ValidationError({"date_of_birth": "Date of birth must be after 1900."})

    def age_on(self, day: dt.date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


class Guardian(TenantModel):
    """A parent or legal guardian; required for minors (adolescent tracks)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="guardians")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=60, default="Parent")
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    is_legal_guardian = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.relationship})"


class UnavailableWindow(TenantModel):
    """A weekly window the patient must keep for work, school or childcare (site-local times)."""

    class Kind(models.TextChoices):
        WORK = "work", "Work"
        SCHOOL = "school", "School"
        CHILDCARE = "childcare", "Childcare"
        OTHER = "other", "Other"

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="unavailable_windows"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.WORK)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="window_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="window_weekday_0_6"
            ),
        ]

    def __str__(self) -> str:
        hours = f"{self.start_time:%H:%M}-{self.end_time:%H:%M}"
        return f"{self.get_weekday_display()} {hours} {self.kind}"


class PatientSearchTerm(models.Model):
    """One word of a patient's names or MRN, hex-encoded, for prefix search
    (``openiop.patients.search``). Derived data: ``openiop.patients.search.index_patients``
    rebuilds it."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="search_terms")
    key = models.CharField(max_length=100)

    class Meta:
        indexes = [models.Index(fields=["key", "patient"], name="patient_search_key")]

    def __str__(self) -> str:
        return bytes.fromhex(self.key).decode("utf-8", errors="replace")
