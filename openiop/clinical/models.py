"""Clinical notes: individual, family and medication-management notes (issue #5).

A note is written as a draft (autosaved, guarded by a ``version`` column against concurrent
edits), then signed. A signed note is never changed or deleted: ``save()`` and ``delete()`` refuse
in Python and database triggers (migration 0002) refuse UPDATE and DELETE from any client.
Corrections are new notes that point at the signed one through ``amends``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from openiop.core.models import TenantModel

# Psychotherapy time bands (domain.md §3.2, CPT 90832 / 90834 / 90837): 16-37 minutes,
# 38-52 minutes, 53 minutes and more. Under 16 minutes no psychotherapy code applies.
PSYCHOTHERAPY_MIN_MINUTES = 16
PSYCHOTHERAPY_BAND_30_MAX = 37
PSYCHOTHERAPY_BAND_45_MAX = 52
BAND_30 = "16-37"
BAND_45 = "38-52"
BAND_60 = "53+"


class NoteFormat(models.TextChoices):
    DAP = "DAP", "DAP (data, assessment, plan)"
    BIRP = "BIRP", "BIRP (behavior, intervention, response, plan)"
    SOAP = "SOAP", "SOAP (subjective, objective, assessment, plan)"


SECTIONS: dict[str, tuple[str, ...]] = {
    NoteFormat.DAP: ("data", "assessment", "plan"),
    NoteFormat.BIRP: ("behavior", "intervention", "response", "plan"),
    NoteFormat.SOAP: ("subjective", "objective", "assessment", "plan"),
}


class NoteSignedError(ValidationError):
    """A signed note was about to be changed or deleted."""


class Note(TenantModel):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", "Individual"
        FAMILY = "family", "Family"
        MEDICATION = "medication", "Medication management"
        GROUP_INDIVIDUALIZED = "group_individualized", "Group (individualized)"

    class Modality(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIDEO = "video", "Video"
        AUDIO_ONLY = "audio_only", "Audio only"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    Format = NoteFormat

    episode = models.ForeignKey(
        "enrollment.Episode", on_delete=models.PROTECT, related_name="notes"
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="notes")
    session = models.ForeignKey(
        "scheduling.Session",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notes",
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    format = models.CharField(max_length=4, choices=NoteFormat.choices)
    sections = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    modality = models.CharField(max_length=12, choices=Modality.choices, default=Modality.IN_PERSON)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_notes"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signed_notes",
    )
    version = models.PositiveIntegerField(default=1)
    amends = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="amendments"
    )
    amendment_reason = models.TextField(blank=True)

    # Status as last read from the database; None for an instance not loaded from it.
    _loaded_status: str | None = None

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(started_at__isnull=True)
                | Q(ended_at__isnull=True)
                | Q(ended_at__gt=F("started_at")),
                name="clinical_note_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | Q(
                    signed_at__isnull=False,
                    signed_by__isnull=False,
                    started_at__isnull=False,
                    ended_at__isnull=False,
                ),
                name="clinical_note_signed_is_complete",
            ),
            models.CheckConstraint(
                condition=Q(amends__isnull=True) | ~Q(amendment_reason=""),
                name="clinical_note_amendment_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["organization", "episode", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} note ({self.format}, {self.status})"

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Note:
        instance = super().from_db(db, field_names, values)
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._loaded_status = self.__dict__.get("status")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and self._loaded_status == self.Status.SIGNED:
            raise NoteSignedError("A signed note cannot be changed; write an amendment instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self._loaded_status == self.Status.SIGNED or self.status == self.Status.SIGNED:
            raise NoteSignedError("A signed note cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED

    @property
    def section_names(self) -> tuple[str, ...]:
        return SECTIONS[self.format]

    @property
    def duration_minutes(self) -> int | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds() // 60)

    @property
    def psychotherapy_band(self) -> str | None:
        return psychotherapy_band(self.duration_minutes)


def psychotherapy_band(minutes: int | None) -> str | None:
    """The CPT psychotherapy time band for a duration in whole minutes (domain.md §3.2)."""
    if minutes is None or minutes < PSYCHOTHERAPY_MIN_MINUTES:
        return None
    if minutes <= PSYCHOTHERAPY_BAND_30_MAX:
        return BAND_30
    if minutes <= PSYCHOTHERAPY_BAND_45_MAX:
        return BAND_45
    return BAND_60
