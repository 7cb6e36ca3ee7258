"""Intake: referral, phone screen, six-dimension assessment, consent to treat.

A referral is the first contact, often before there is a patient record. It moves through
screening and assessment to admission, a referral out, a decline, or loss of contact. Every
assessment is kept (reassessments are new rows); placement is iterative (domain.md §1.6).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import TenantModel, TenantQuerySet
from openiop.enrollment.models import ReferralSource


class Urgency(models.TextChoices):
    EMERGENT = "emergent", "Emergent (today)"
    URGENT = "urgent", "Urgent (within 72 h)"
    ROUTINE = "routine", "Routine"


URGENCY_ORDER = {Urgency.EMERGENT: 0, Urgency.URGENT: 1, Urgency.ROUTINE: 2}


class ReferralQuerySet(TenantQuerySet):
    def open(self) -> ReferralQuerySet:
        return self.filter(status__in=Referral.OPEN_STATUSES)


class Referral(TenantModel):
    class Status(models.TextChoices):
        NEW = "new", "New"
        SCREENING = "screening", "Screened"
        ASSESSMENT = "assessment", "Assessed"
        WAITLISTED = "waitlisted", "Waitlisted"
        ADMITTED = "admitted", "Admitted"
        REFERRED_OUT = "referred_out", "Referred out"
        DECLINED = "declined", "Declined"
        LOST = "lost_to_contact", "Lost to contact"

    OPEN_STATUSES = (Status.NEW, Status.SCREENING, Status.ASSESSMENT, Status.WAITLISTED)

    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    source = models.CharField(
        max_length=12, choices=ReferralSource.choices, default=ReferralSource.SELF
    )
    referrer_name = models.CharField(max_length=200, blank=True)
    referrer_contact = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    received_on = models.DateField()
    program_requested = models.ForeignKey(
        "organizations.Program", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    outcome_note = models.TextField(blank=True)
    referred_out_to = models.CharField(max_length=200, blank=True)
    episode = models.OneToOneField(
        "enrollment.Episode",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referral",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_on = models.DateField(null=True, blank=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-created_at"]
        indexes = [models.Index(fields=["organization", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="referred_out") | ~Q(referred_out_to=""),
                name="referral_out_names_where",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} (referred {self.received_on:%Y-%m-%d})"

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class Screening(TenantModel):
    """The short phone screen. Its route decides at once whether to continue to an assessment or
    to send the person elsewhere now (withdrawal management, emergency care)."""

    class Route(models.TextChoices):
        ASSESS = "assess", "Continue to assessment"
        WITHDRAWAL = "withdrawal_management", "Refer to withdrawal management now"
        EMERGENCY = "emergency", "Emergency care now"
        PRENATAL = "prenatal", "Assess with prenatal care coordination"

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="screenings")
    screened_at = models.DateTimeField()
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    substances = models.JSONField(default=list, blank=True)
    last_use_on = models.DateField(null=True, blank=True)
    withdrawal_symptoms = models.BooleanField(default=False)
    withdrawal_severe = models.BooleanField(
        default=False, help_text="seizures, hallucinations, DTs history, or severe symptoms now"
    )
    suicidal_ideation = models.BooleanField(default=False)
    suicide_plan_or_intent = models.BooleanField(default=False)
    homicidal_ideation = models.BooleanField(default=False)
    pregnant = models.CharField(
        max_length=8,
        choices=[("no", "No"), ("yes", "Yes"), ("unknown", "Unknown / n.a.")],
        default="unknown",
    )
    insurance = models.CharField(max_length=200, blank=True)
    route = models.CharField(max_length=24, choices=Route.choices)
    route_reasons = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-screened_at"]

    def __str__(self) -> str:
        return f"Screen of {self.referral} → {self.get_route_display()}"


class Assessment(TenantModel):
    """A six-dimension assessment with the facts that decide whether an IOP fits.

    Saved once and never edited: a changed picture is a reassessment (a new row pointing to the
    one it supersedes), so the history of placement decisions stays intact.
    """

    class Edition(models.TextChoices):
        THIRD = "3", "ASAM Criteria, 3rd edition (2013)"
        FOURTH = "4", "ASAM Criteria, 4th edition (2023)"

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="assessments")
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    assessed_on = models.DateField()
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    criteria_edition = models.CharField(
        max_length=1, choices=Edition.choices, default=Edition.THIRD
    )
    age = models.PositiveSmallIntegerField()
    d1 = models.PositiveSmallIntegerField("dimension 1")
    d2 = models.PositiveSmallIntegerField("dimension 2")
    d3 = models.PositiveSmallIntegerField("dimension 3")
    d4 = models.PositiveSmallIntegerField("dimension 4")
    d5 = models.PositiveSmallIntegerField("dimension 5")
    d6 = models.PositiveSmallIntegerField("dimension 6")
    d1_note = models.TextField("dimension 1 justification")
    d2_note = models.TextField("dimension 2 justification")
    d3_note = models.TextField("dimension 3 justification")
    d4_note = models.TextField("dimension 4 justification")
    d5_note = models.TextField("dimension 5 justification")
    d6_note = models.TextField("dimension 6 justification")
    needs_detox_now = models.BooleanField(default=False)
    needs_24h_supervision = models.BooleanField(default=False)
    toxic_home = models.BooleanField(default=False)
    harmful_environment = models.BooleanField(default=False)
    serious_co_occurring = models.BooleanField(default=False)
    medically_unstable = models.BooleanField(default=False)
    responsibilities = models.JSONField(default=list, blank=True)
    substances = models.JSONField(default=list, blank=True)
    mat_interest = models.BooleanField("interested in medication (MAT)", default=False)
    mat_eligible = models.BooleanField("eligible for medication (MAT)", default=False)
    recommended_level = models.CharField(max_length=8)
    recommended_category = models.CharField(max_length=24)
    recommendation = models.JSONField(default=dict)
    chosen_level = models.CharField(max_length=8)
    chosen_program = models.ForeignKey(
        "organizations.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    variance_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-assessed_on", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(d1__lte=4)
                & Q(d2__lte=4)
                & Q(d3__lte=4)
                & Q(d4__lte=4)
                & Q(d5__lte=4)
                & Q(d6__lte=4),
                name="assessment_ratings_0_to_4",
            ),
            models.CheckConstraint(
                condition=Q(chosen_level=models.F("recommended_level")) | ~Q(variance_reason=""),
                name="assessment_variance_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Assessment of {self.referral} on {self.assessed_on:%Y-%m-%d}"

    @property
    def is_variance(self) -> bool:
        return self.chosen_level != self.recommended_level

    @property
    def ratings(self) -> list[tuple[int, int, str]]:
        return [(n, getattr(self, f"d{n}"), getattr(self, f"d{n}_note")) for n in range(1, 7)]


class ConsentToTreat(TenantModel):
    """The patient's (and for a minor the guardian's) consent to treatment, signed at admission.
    Typed signature with a timestamp; 42 CFR Part 2 disclosure consents are a separate record
    (issue 7)."""

    episode = models.OneToOneField(
        "enrollment.Episode", on_delete=models.PROTECT, related_name="consent_to_treat"
    )
    signed_by_patient = models.CharField(max_length=200)
    signed_by_guardian = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField()
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Consent to treat for {self.episode}"
