"""The clinical record (issue #5): notes, group notes, treatment plans and their reviews,
co-signatures, utilization reviews and discharge summaries.

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
    GROUP = "GRP", "Group note, individualized part"


SECTIONS: dict[str, tuple[str, ...]] = {
    NoteFormat.DAP: ("data", "assessment", "plan"),
    NoteFormat.BIRP: ("behavior", "intervention", "response", "plan"),
    NoteFormat.SOAP: ("subjective", "objective", "assessment", "plan"),
    NoteFormat.GROUP: ("participation", "response", "progress", "risk"),
}
# The formats a program can choose for individual, family and medication notes.
FREE_FORMATS = (NoteFormat.DAP, NoteFormat.BIRP, NoteFormat.SOAP)


class NoteSignedError(ValidationError):
    """A signed note was about to be changed or deleted."""


class Note(TenantModel):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", "Individual"
        FAMILY = "family", "Family"
        MEDICATION = "medication", "Medication management"
        GROUP_INDIVIDUALIZED = "group_individualized", "Group (individualized)"
        # 42 CFR 2.11 "SUD counseling notes": kept apart from the rest of the record; only the
        # author reads them, and they never go into packets, exports or disclosures.
        SUD_COUNSELING = "sud_counseling", "SUD counseling note"

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
    # The individualized part of a group note points at the session's shared narrative, and
    # names the patient's own plan objectives it speaks to (public ids, kept inside the row so a
    # signed part cannot be re-pointed).
    group_note = models.ForeignKey(
        "clinical.GroupNote", null=True, blank=True, on_delete=models.PROTECT, related_name="parts"
    )
    objectives = models.JSONField(default=list, blank=True)
    cosign_required = models.BooleanField(default=False)

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
        indexes = [
            models.Index(fields=["organization", "episode", "created_at"]),
            models.Index(fields=["organization", "status", "cosign_required"]),
        ]

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


class SignedDocument(TenantModel):
    """What every signed clinical document shares: a versioned draft, one signature that locks
    it (Python here, database triggers in the migrations), and linked amendments."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    amends = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="amendments"
    )
    amendment_reason = models.TextField(blank=True)

    _loaded_status: str | None = None

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Any:
        instance = super().from_db(db, field_names, values)
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._loaded_status = self.__dict__.get("status")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and self._loaded_status == self.Status.SIGNED:
            raise NoteSignedError("A signed document cannot be changed; write an amendment.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self._loaded_status == self.Status.SIGNED or self.status == self.Status.SIGNED:
            raise NoteSignedError("A signed document cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED


class GroupNote(SignedDocument):
    """The shared narrative of one group session. Each attendee's individualized part is a
    ``Note`` (kind ``group_individualized``, format ``GRP``) with ``group_note`` pointing here;
    signing the group note signs every part in the same transaction. After signing, the roster
    of parts changes only through an amendment (a new GroupNote with ``amends``)."""

    session = models.ForeignKey(
        "scheduling.Session", on_delete=models.PROTECT, related_name="group_notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_group_notes"
    )
    topic = models.CharField(max_length=200, blank=True)
    curriculum_module = models.CharField(max_length=200, blank=True)
    interventions = models.TextField(blank=True)
    narrative = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    cosign_required = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(amends__isnull=True),
                name="clinical_groupnote_one_original_per_session",
            ),
            models.CheckConstraint(
                condition=Q(amends__isnull=True) | ~Q(amendment_reason=""),
                name="clinical_groupnote_amendment_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="clinical_groupnote_signed_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Group note ({self.status})"


class Cosignature(TenantModel):
    """A supervisor's co-signature on a signed note or group note. A separate append-only row,
    so co-signing never touches the signed document itself."""

    note = models.OneToOneField(
        Note, null=True, blank=True, on_delete=models.PROTECT, related_name="cosignature"
    )
    group_note = models.OneToOneField(
        GroupNote, null=True, blank=True, on_delete=models.PROTECT, related_name="cosignature"
    )
    cosigner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cosignatures"
    )
    cosigned_at = models.DateTimeField()
    comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(note__isnull=False, group_note__isnull=True)
                | Q(note__isnull=True, group_note__isnull=False),
                name="clinical_cosignature_one_document",
            )
        ]


class TreatmentPlan(TenantModel):
    """A personalized recovery plan for one episode.

    Draft -> active when the clinician and the patient (and, for a minor, a guardian) have
    signed. An active plan's content is not edited: a revision is a new plan (``supersedes``)
    and the old one becomes superseded when the new one is signed. Reviews (``PlanReview``)
    hang off the active plan; ``next_review_on`` moves forward with each signed review on the
    cadence copied from the program (days or calendar months)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        SUPERSEDED = "superseded", "Superseded"

    class Unit(models.TextChoices):
        DAYS = "days", "days"
        MONTHS = "months", "months"

    episode = models.ForeignKey(
        "enrollment.Episode", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1)
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="revisions"
    )
    strengths = models.TextField(blank=True)
    barriers = models.TextField(blank=True)
    review_interval = models.PositiveSmallIntegerField(default=30)
    review_unit = models.CharField(max_length=6, choices=Unit.choices, default=Unit.DAYS)
    clinician_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    clinician_signed_at = models.DateTimeField(null=True, blank=True)
    patient_signature = models.CharField(max_length=200, blank=True)
    patient_signed_at = models.DateTimeField(null=True, blank=True)
    guardian_signature = models.CharField(max_length=200, blank=True)
    guardian_relationship = models.CharField(max_length=60, blank=True)
    guardian_signed_at = models.DateTimeField(null=True, blank=True)
    effective_on = models.DateField(null=True, blank=True)
    next_review_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode"],
                condition=Q(status="active"),
                name="clinical_plan_one_active_per_episode",
            ),
            models.CheckConstraint(
                condition=~Q(status="active")
                | Q(
                    clinician_signed_at__isnull=False,
                    patient_signed_at__isnull=False,
                    effective_on__isnull=False,
                    next_review_on__isnull=False,
                ),
                name="clinical_plan_active_is_signed",
            ),
            models.CheckConstraint(
                condition=Q(review_interval__gte=1), name="clinical_plan_review_interval_positive"
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "next_review_on"])]

    def __str__(self) -> str:
        return f"Treatment plan v{self.version} ({self.status})"


class PlanProblem(TenantModel):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="problems")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.TextField()
    icd10_code = models.CharField("ICD-10-CM code", max_length=10, blank=True)
    icd10_text = models.CharField("diagnosis", max_length=200, blank=True)

    class Meta:
        ordering = ["position", "id"]


class PlanGoal(TenantModel):
    problem = models.ForeignKey(PlanProblem, on_delete=models.CASCADE, related_name="goals")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.TextField(help_text="In the patient's own words.")

    class Meta:
        ordering = ["position", "id"]


class PlanObjective(TenantModel):
    goal = models.ForeignKey(PlanGoal, on_delete=models.CASCADE, related_name="objectives")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.TextField(help_text="Measurable: what, how much, by when.")
    target_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]


class PlanIntervention(TenantModel):
    class Modality(models.TextChoices):
        GROUP = "group", "Group therapy"
        INDIVIDUAL = "individual", "Individual therapy"
        FAMILY = "family", "Family therapy"
        MEDICATION = "medication", "Medication management"
        PSYCHOEDUCATION = "psychoeducation", "Psychoeducation"
        CASE_MANAGEMENT = "case_management", "Case management"
        PEER_SUPPORT = "peer_support", "Peer recovery support"
        DRUG_SCREENING = "drug_screening", "Drug screening"
        OTHER = "other", "Other"

    objective = models.ForeignKey(
        PlanObjective, on_delete=models.CASCADE, related_name="interventions"
    )
    position = models.PositiveSmallIntegerField(default=0)
    modality = models.CharField(max_length=16, choices=Modality.choices)
    description = models.TextField(blank=True)
    frequency = models.CharField(max_length=100, help_text="e.g. 3 groups a week")
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]


class PlanReview(TenantModel):
    """A signed review of an active plan with a progress rating per objective."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="reviews")
    reviewed_on = models.DateField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField()
    due_on = models.DateField(help_text="When the review was due (for on-time reporting).")
    next_review_on = models.DateField()

    class Meta:
        ordering = ["reviewed_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(next_review_on__gt=F("reviewed_on")),
                name="clinical_review_next_after_this",
            )
        ]


class ObjectiveProgress(TenantModel):
    class Rating(models.TextChoices):
        ACHIEVED = "achieved", "Achieved"
        PROGRESSING = "progressing", "Progressing"
        NO_PROGRESS = "no_progress", "No progress"
        REVISED = "revised", "Revised"

    review = models.ForeignKey(PlanReview, on_delete=models.PROTECT, related_name="progress")
    objective = models.ForeignKey(PlanObjective, on_delete=models.PROTECT, related_name="progress")
    rating = models.CharField(max_length=12, choices=Rating.choices)
    comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["review", "objective"], name="clinical_progress_one_per_objective"
            )
        ]


class UtilizationReview(TenantModel):
    """One utilization-review packet as prepared for a payer: the period it covers and the
    clinician's summary. The packet itself is assembled from the record each time it is shown,
    so it always matches the record; this row keeps what was asked and what the payer said."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        PARTIAL = "partial", "Partly approved"
        DENIED = "denied", "Denied"

    episode = models.ForeignKey(
        "enrollment.Episode", on_delete=models.PROTECT, related_name="utilization_reviews"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    clinician_summary = models.TextField()
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    authorization = models.ForeignKey(
        "billing.Authorization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="utilization_reviews",
    )
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.PENDING)
    outcome_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="clinical_ur_period_ordered"
            )
        ]


class DischargeSummary(SignedDocument):
    """The discharge summary of one episode (domain.md §5.4): due within the program's
    ``discharge_summary_days`` of discharge; signed and then immutable like a note."""

    episode = models.ForeignKey(
        "enrollment.Episode", on_delete=models.PROTECT, related_name="discharge_summaries"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="discharge_summaries"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    reason_code = models.PositiveSmallIntegerField(null=True, blank=True)  # TEDS REASON
    level_at_admission = models.CharField(max_length=8, blank=True)
    level_at_discharge = models.CharField(max_length=8, blank=True)
    last_service_on = models.DateField(null=True, blank=True)
    services = models.JSONField(default=dict, blank=True)  # counts and hours, from the record
    goal_progress = models.JSONField(default=list, blank=True)  # per objective, from reviews
    progress_narrative = models.TextField(blank=True)
    medications = models.TextField(blank=True)
    aftercare_plan = models.TextField(blank=True)
    referrals = models.TextField(blank=True)
    risk_at_discharge = models.TextField(blank=True)
    recommendations = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode"],
                condition=Q(amends__isnull=True),
                name="clinical_discharge_one_original_per_episode",
            ),
            models.CheckConstraint(
                condition=Q(amends__isnull=True) | ~Q(amendment_reason=""),
                name="clinical_discharge_amendment_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="clinical_discharge_signed_is_complete",
            ),
        ]
