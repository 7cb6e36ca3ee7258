"""Billing: payers and their rules, patient coverage, payer authorizations (issue #5),
Medicare IOP certifications, claims and their lines, claim export batches (issue #8).

Charges are never typed in: they are computed from attendance, signed notes and drug screens by
the pure rules in ``charge_rules.py`` and checked by ``scrubber.py``; a claim line stores the
result (and the ids of the services it stands for) once a claim is drafted, so a later change to
a payer's fees never rewrites a claim already built.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

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
    # Optional link to the payer row (authorizations recorded before payers existed keep only
    # the name; the billing screen matches those by name).
    payer = models.ForeignKey(
        "billing.Payer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="authorizations",
    )
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


# --- payers, coverage, certifications (issue #8) -------------------------------------------------


class PayerKind(models.TextChoices):
    COMMERCIAL = "commercial", "Commercial"
    MEDICAID = "medicaid", "Medicaid"
    MEDICARE = "medicare", "Medicare"
    SELF_PAY = "self_pay", "Self-pay"
    OTHER = "other", "Other"


class Payer(TenantModel):
    """An insurer (or "self-pay") with its charge rules as data: billing model, claim type, fee
    schedule and overrides of the documented defaults (``payer_config.py`` validates them)."""

    class BillingModel(models.TextChoices):
        PER_DIEM = "per_diem", "Per diem (one unit per qualifying IOP day)"
        PER_SERVICE = "per_service", "Per service (psychotherapy, group, medication...)"
        MEDICARE_IOP = "medicare_iop", "Medicare IOP (institutional, condition code 92)"

    class ClaimType(models.TextChoices):
        PROFESSIONAL = "professional", "Professional (837P / CMS-1500)"
        INSTITUTIONAL = "institutional", "Institutional (837I / UB-04)"

    Kind = PayerKind

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=PayerKind.choices, default=PayerKind.COMMERCIAL)
    payer_id = models.CharField(
        "payer id", max_length=80, blank=True, help_text="The id the clearinghouse publishes."
    )
    claim_filing_indicator = models.CharField(
        max_length=2, default="CI", help_text="CI commercial, MC Medicaid, MA/MB Medicare..."
    )
    billing_model = models.CharField(
        max_length=14, choices=BillingModel.choices, default=BillingModel.PER_DIEM
    )
    claim_type = models.CharField(
        max_length=14, choices=ClaimType.choices, default=ClaimType.PROFESSIONAL
    )
    rules_overrides = models.JSONField(default=dict, blank=True)
    fee_schedule = models.JSONField(default=dict, blank=True)
    group_size_cap = models.PositiveSmallIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="billing_payer_name_unique_in_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_self_pay(self) -> bool:
        return self.kind == PayerKind.SELF_PAY

    @property
    def format(self) -> str:
        return "837i" if self.claim_type == self.ClaimType.INSTITUTIONAL else "837p"


class ProgramPayerRule(TenantModel):
    """What one payer does differently for one program (e.g. psychiatric IOP billed S9480, a
    lower day minimum for the adolescent track). Overrides win over the payer's own."""

    class ProgramKind(models.TextChoices):
        SUD_IOP = "sud_iop", "Substance use IOP (H0015)"
        PSYCH_IOP = "psych_iop", "Psychiatric IOP (S9480)"

    payer = models.ForeignKey(Payer, on_delete=models.CASCADE, related_name="program_rules")
    program = models.ForeignKey(
        "organizations.Program", on_delete=models.CASCADE, related_name="payer_rules"
    )
    program_kind = models.CharField(
        max_length=10, choices=ProgramKind.choices, default=ProgramKind.SUD_IOP
    )
    rules_overrides = models.JSONField(default=dict, blank=True)
    fee_overrides = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["payer", "program"], name="billing_program_rule_one_per_payer_program"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payer} · {self.program}"


class Coverage(TenantModel):
    """A patient's coverage by one payer (or self-pay): ids for the claim and the patient's
    cost-sharing for the estimate. ``terminates_on`` is the last covered day."""

    class Relationship(models.TextChoices):
        SELF = "self", "Self"
        SPOUSE = "spouse", "Spouse"
        CHILD = "child", "Child"
        OTHER = "other", "Other"

    class Priority(models.IntegerChoices):
        PRIMARY = 1, "Primary"
        SECONDARY = 2, "Secondary"
        TERTIARY = 3, "Tertiary"

    class Sex(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        UNKNOWN = "U", "Unknown"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="coverages"
    )
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    member_id = models.CharField(max_length=80, blank=True)
    group_number = models.CharField(max_length=50, blank=True)
    subscriber_relationship = models.CharField(
        max_length=8, choices=Relationship.choices, default=Relationship.SELF
    )
    subscriber_first_name = models.CharField(max_length=100, blank=True)
    subscriber_last_name = models.CharField(max_length=100, blank=True)
    subscriber_date_of_birth = models.DateField(null=True, blank=True)
    subscriber_sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.PRIMARY)
    effective_on = models.DateField(null=True, blank=True)
    terminates_on = models.DateField(null=True, blank=True)
    active = models.BooleanField(
        default=True, help_text="Untick when the payer reports the coverage inactive."
    )
    copay = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    coinsurance_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    deductible = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    deductible_met = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    out_of_pocket_max = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    out_of_pocket_met = models.DecimalField(max_digits=9, decimal_places=2, default=0)

    class Meta:
        ordering = ["priority", "-effective_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(terminates_on__isnull=True)
                | Q(effective_on__isnull=True)
                | Q(terminates_on__gte=F("effective_on")),
                name="billing_coverage_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(coinsurance_percent__isnull=True)
                | (Q(coinsurance_percent__gte=0) & Q(coinsurance_percent__lte=100)),
                name="billing_coverage_coinsurance_0_100",
            ),
        ]
        indexes = [models.Index(fields=["organization", "patient"])]

    def __str__(self) -> str:
        return f"{self.payer} {self.member_id} ({self.get_priority_display()})"

    def in_force_on(self, day: dt.date) -> bool:
        return (
            self.active
            and (self.effective_on is None or self.effective_on <= day)
            and (self.terminates_on is None or day <= self.terminates_on)
        )

    @property
    def deductible_remaining(self) -> Decimal:
        if self.deductible is None:
            return Decimal(0)
        return max(Decimal(0), self.deductible - (self.deductible_met or 0))


class Certification(TenantModel):
    """A physician's certification (or recertification) that a Medicare IOP patient needs at
    least 9 hours a week (domain.md §2.2); the scrubber blocks lines after it lapses."""

    class Kind(models.TextChoices):
        CERTIFICATION = "certification", "Certification"
        RECERTIFICATION = "recertification", "Recertification"

    episode = models.ForeignKey(
        "enrollment.Episode", on_delete=models.PROTECT, related_name="certifications"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="certifications"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CERTIFICATION)
    signed_on = models.DateField()
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_by_name = models.CharField(
        max_length=200, blank=True, help_text="The physician, when not a staff user."
    )

    class Meta:
        ordering = ["-signed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.signed_on}"

    @property
    def physician(self) -> str:
        if self.signed_by_id is not None:
            return self.signed_by.get_full_name() or self.signed_by.get_username()
        return self.signed_by_name


# --- billing set-up, control numbers ------------------------------------------------------------


class BillingProfile(TenantModel):
    """Who bills and who receives the files: the billing provider (NPI, EIN, address), the
    submitter and receiver ids the clearinghouse assigned, and the list prices used for patient
    cost estimates. One per organization."""

    class Usage(models.TextChoices):
        TEST = "T", "Test"
        PRODUCTION = "P", "Production"

    billing_name = models.CharField(max_length=60)
    npi = models.CharField("NPI", max_length=10)
    tax_id = models.CharField("EIN", max_length=10)
    taxonomy = models.CharField(max_length=10, blank=True, default="261QR0405X")
    address_line1 = models.CharField(max_length=55)
    address_line2 = models.CharField(max_length=55, blank=True)
    city = models.CharField(max_length=30)
    state = models.CharField(max_length=2)
    zip_code = models.CharField("ZIP+4", max_length=10, help_text="9 digits, e.g. 12201-1234")
    submitter_id = models.CharField(max_length=80)
    contact_name = models.CharField(max_length=60)
    contact_phone = models.CharField(max_length=20)
    contact_email = models.EmailField(blank=True)
    receiver_name = models.CharField(max_length=60)
    receiver_id = models.CharField(max_length=80)
    usage_indicator = models.CharField(max_length=1, choices=Usage.choices, default=Usage.TEST)
    facility_type_code = models.CharField(
        max_length=2, default="13", help_text="837I type of bill, middle digits: 13 hospital "
        "outpatient, 76 CMHC, 85 CAH"
    )  # fmt: skip
    attending_provider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="837I attending provider (needs an NPI on the staff account).",
    )
    claim_prefix = models.CharField(max_length=6, default="IOP")
    price_per_hour = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("45.00"),
        help_text="List price per hour of IOP for estimates and self-pay.",
    )  # fmt: skip
    residential_daily_rate = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("575.00"),
        help_text="What a day of residential treatment costs in your area (for the comparison).",
    )  # fmt: skip

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="billing_profile_one_per_org"),
        ]

    def __str__(self) -> str:
        return self.billing_name


class ControlNumber(TenantModel):
    """The organization's counters: the last interchange control number used (ISA13, never
    reused, also GS06) and the last claim sequence number. Incremented under
    ``select_for_update`` (``services.next_control_numbers``)."""

    last_interchange = models.PositiveIntegerField(default=0)
    last_claim = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="billing_control_one_per_org"),
        ]


# --- claims -------------------------------------------------------------------------------------


class ExportBatch(TenantModel):
    """One exported file, kept so it can be downloaded again byte for byte."""

    class Format(models.TextChoices):
        X837P = "837p", "X12 837P (professional)"
        X837I = "837i", "X12 837I (institutional)"
        CSV = "csv", "CSV for clearinghouses"

    format = models.CharField(max_length=4, choices=Format.choices)
    interchange_control_number = models.PositiveIntegerField(null=True, blank=True)
    group_control_number = models.PositiveIntegerField(null=True, blank=True)
    usage_indicator = models.CharField(max_length=1, blank=True)
    period_start = models.DateField()
    period_end = models.DateField()
    payer = models.ForeignKey(
        Payer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    filename = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    content = models.TextField()
    claim_count = models.PositiveIntegerField()
    total_charge = models.DecimalField(max_digits=11, decimal_places=2)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "interchange_control_number"],
                condition=Q(interchange_control_number__isnull=False),
                name="billing_batch_isa13_unique_in_org",
            ),
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def content_type(self) -> str:
        return "text/csv" if self.format == self.Format.CSV else "application/edi-x12"


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    READY = "ready", "Ready to send"
    SUBMITTED = "submitted", "Submitted"
    PAID = "paid", "Paid"
    DENIED = "denied", "Denied"
    CORRECTED = "corrected", "Corrected (replaced)"
    VOID = "void", "Void"


class Claim(TenantModel):
    """One claim for one patient's services with one payer over a period."""

    Status = ClaimStatus

    class Frequency(models.TextChoices):
        ORIGINAL = "1", "Original"
        REPLACEMENT = "7", "Replacement"
        VOID = "8", "Void"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey("enrollment.Episode", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="claims")
    coverage = models.ForeignKey(
        Coverage, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    claim_type = models.CharField(max_length=14, choices=Payer.ClaimType.choices)
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default="draft")
    claim_number = models.CharField(max_length=20)
    frequency = models.CharField(max_length=1, choices=Frequency.choices, default="1")
    original = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replacements"
    )
    original_claim_reference = models.CharField(max_length=50, blank=True)
    payer_claim_number = models.CharField(
        max_length=50, blank=True, help_text="The payer's claim control number (from the 835/EOB)."
    )
    period_start = models.DateField()
    period_end = models.DateField()
    total_charge = models.DecimalField(max_digits=11, decimal_places=2, default=0)
    paid_amount = models.DecimalField(max_digits=11, decimal_places=2, null=True, blank=True)
    diagnosis_codes = models.JSONField(default=list, blank=True)
    prior_authorization = models.CharField(max_length=50, blank=True)
    condition_codes = models.JSONField(default=list, blank=True)
    place_of_service = models.CharField(max_length=2, blank=True)
    status_note = models.CharField(max_length=300, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    export_batch = models.ForeignKey(
        ExportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-period_start", "claim_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "claim_number"], name="billing_claim_number_unique_in_org"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="billing_claim_period_end_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(frequency="1") | Q(original__isnull=False),
                name="billing_claim_replacement_has_original",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "period_start"]),
            models.Index(fields=["organization", "patient", "payer"]),
        ]

    def __str__(self) -> str:
        return f"Claim {self.claim_number} ({self.status})"

    @property
    def format(self) -> str:
        return "837i" if self.claim_type == Payer.ClaimType.INSTITUTIONAL else "837p"


class ClaimLine(TenantModel):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        DENIED = "denied", "Denied"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    service_date = models.DateField()
    code = models.CharField(max_length=5)
    modifiers = models.JSONField(default=list, blank=True)
    units = models.DecimalField(max_digits=7, decimal_places=2, default=1)
    place_of_service = models.CharField(max_length=2, blank=True)
    revenue_code = models.CharField(max_length=4, blank=True)
    charge = models.DecimalField(max_digits=9, decimal_places=2)
    minutes = models.PositiveIntegerField(default=0)
    day_category = models.CharField(max_length=16, blank=True)
    # Opaque ids of the services the line stands for ("att:<uuid>", "note:<uuid>",
    # "screen:<uuid>"), and the same joined as one key for the "already claimed" check.
    source_ids = models.JSONField(default=list)
    source_key = models.CharField(max_length=400)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "position"], name="billing_claim_line_position_unique"
            ),
            models.CheckConstraint(condition=Q(charge__gt=0), name="billing_line_charge_positive"),
        ]
        indexes = [models.Index(fields=["organization", "service_date"])]

    def __str__(self) -> str:
        return f"{self.service_date} {self.code}"
