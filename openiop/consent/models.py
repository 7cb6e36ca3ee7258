"""42 CFR Part 2 consents, the disclosures made under them (and refused attempts), and
break-glass emergency access.

The required elements of a consent (42 CFR 2.31, domain.md §6.1) are columns, and the ones a
database can check are ``Meta.constraints``: who may disclose, a recipient for a named consent, a
purpose, an expiry date or event, a typed signature and its date, a note on every revocation.
Whether a consent covers a given release is decided by the pure ``rules`` module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from openiop.consent import rules
from openiop.core.models import TenantModel, TenantQuerySet


class ConsentQuerySet(TenantQuerySet):
    def unrevoked(self) -> ConsentQuerySet:
        return self.filter(revoked_at__isnull=True)

    def active_on(self, day: dt.date) -> ConsentQuerySet:
        """Neither revoked, expired by date, nor expired by a recorded event, on ``day``."""
        return self.filter(
            Q(revoked_at__isnull=True),
            Q(expires_on__isnull=True) | Q(expires_on__gte=day),
            Q(expiry_event_on__isnull=True) | Q(expiry_event_on__gt=day),
        )


class Consent(TenantModel):
    class Kind(models.TextChoices):
        TPO = rules.Kind.TPO.value, "Treatment, payment and health care operations (single consent)"
        NAMED = rules.Kind.NAMED.value, "Disclosure to a named recipient"
        OTHER = rules.Kind.OTHER.value, "Other"

    class SignerRole(models.TextChoices):
        PATIENT = "patient", "Patient"
        GUARDIAN = "guardian", "Parent or legal guardian"
        REPRESENTATIVE = "representative", "Personal representative"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"
        NOT_YET = "not_yet_signed", "Not yet in effect"

    class Purpose(models.TextChoices):
        TREATMENT = rules.Purpose.TREATMENT.value, "Treatment"
        PAYMENT = rules.Purpose.PAYMENT.value, "Payment"
        OPERATIONS = rules.Purpose.OPERATIONS.value, "Health care operations"
        PATIENT_REQUEST = rules.Purpose.PATIENT_REQUEST.value, "At the request of the patient"
        CRIMINAL_JUSTICE = (
            rules.Purpose.CRIMINAL_JUSTICE.value,
            "Court, probation or parole supervision",
        )
        EMPLOYMENT = rules.Purpose.EMPLOYMENT.value, "Employment / employee assistance program"
        OTHER = rules.Purpose.OTHER.value, "Other (described on the consent)"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    disclosing_party = models.CharField(
        "who may disclose", max_length=200,
        help_text="The program or organization allowed to disclose (e.g. this program's name).",
    )  # fmt: skip
    recipient_name = models.CharField(max_length=200, blank=True)
    recipient_organization = models.CharField(max_length=200, blank=True)
    recipient_description = models.CharField(
        max_length=300, blank=True, help_text="For a TPO consent: the class of recipients."
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    purpose_detail = models.CharField(max_length=300, blank=True)
    categories = models.JSONField(default=list)
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(max_length=200, blank=True)
    expiry_event_on = models.DateField(
        null=True, blank=True, help_text="The day the expiry event was recorded as happened."
    )
    state = models.CharField(
        max_length=2, blank=True, help_text="State whose law governs a minor's consent."
    )
    signed_by_name = models.CharField(max_length=200)
    signer_role = models.CharField(
        max_length=16, choices=SignerRole.choices, default=SignerRole.PATIENT
    )
    guardian_signed_by_name = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revocation_note = models.TextField(blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["organization", "patient"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(disclosing_party=""), name="consent_names_who_may_disclose"
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=False) | ~Q(expiry_event=""),
                name="consent_has_expiry_date_or_event",
            ),
            models.CheckConstraint(
                condition=Q(kind="tpo") | ~Q(recipient_name="") | ~Q(recipient_organization=""),
                name="consent_named_has_recipient",
            ),
            models.CheckConstraint(
                condition=~Q(purpose="other") | ~Q(purpose_detail=""),
                name="consent_other_purpose_described",
            ),
            models.CheckConstraint(
                condition=~Q(kind="tpo") | Q(purpose__in=["treatment", "payment", "operations"]),
                name="consent_tpo_purpose",
            ),
            models.CheckConstraint(condition=~Q(signed_by_name=""), name="consent_signed"),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revocation_note=""),
                name="consent_revocation_has_note",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} consent ({self.recipient_label})"

    @property
    def recipient_label(self) -> str:
        if self.kind == self.Kind.TPO:
            return self.recipient_description or rules.TPO_RECIPIENT_CLASS
        parts = [p for p in (self.recipient_name, self.recipient_organization) if p]
        return ", ".join(parts)

    @property
    def purpose_label(self) -> str:
        if self.kind == self.Kind.TPO:
            return "Treatment, payment and health care operations"
        label = self.get_purpose_display()
        return f"{label}: {self.purpose_detail}" if self.purpose_detail else label

    @property
    def expiry_label(self) -> str:
        parts = []
        if self.expires_on:
            parts.append(self.expires_on.strftime("%b %-d, %Y"))
        if self.expiry_event:
            event = self.expiry_event
            if self.expiry_event_on:
                event += f" (happened {self.expiry_event_on:%b %-d, %Y})"
            parts.append(event)
        return " or ".join(parts)

    @property
    def category_labels(self) -> list[str]:
        return [rules.CATEGORY_LABELS.get(c, c) for c in self.categories]

    @property
    def awaits_expiry_event(self) -> bool:
        """Has an expiry event (not "none") that is not yet recorded as having happened."""
        return (
            bool(self.expiry_event)
            and not rules.is_open_ended(self.expiry_event)
            and self.expiry_event_on is None
        )

    def terms(self, tz: dt.tzinfo) -> rules.ConsentTerms:
        """The consent for ``rules``; ``tz`` is the organization's, for the signing day."""
        return rules.ConsentTerms(
            kind=self.kind,
            purpose=self.purpose,
            categories=frozenset(self.categories),
            signed_on=timezone.localdate(self.signed_at, timezone=tz),
            recipient_name=self.recipient_name,
            recipient_organization=self.recipient_organization,
            expires_on=self.expires_on,
            expiry_event_on=self.expiry_event_on,
            revoked=self.revoked_at is not None,
            ref=str(self.public_id),
        )

    def status_on(self, day: dt.date, tz: dt.tzinfo = dt.UTC) -> str:
        """``active``, ``expired``, ``revoked`` (or ``not_yet_signed``) on a local day."""
        return rules.status_on(self.terms(tz), day)

    def snapshot(self) -> dict[str, Any]:
        """A copy of the consent as it stood, stored with each disclosure (2.32: a copy of the
        consent accompanies the records). Plain JSON: later edits or revocation never change it."""
        return {
            "consent_id": str(self.public_id),
            "kind": self.kind,
            "kind_label": self.get_kind_display(),
            "disclosing_party": self.disclosing_party,
            "recipient": self.recipient_label,
            "recipient_name": self.recipient_name,
            "recipient_organization": self.recipient_organization,
            "purpose": self.purpose,
            "purpose_label": self.purpose_label,
            "categories": list(self.categories),
            "category_labels": self.category_labels,
            "expires_on": self.expires_on.isoformat() if self.expires_on else "",
            "expiry_event": self.expiry_event,
            "expiry": self.expiry_label,
            "signed_by_name": self.signed_by_name,
            "signer_role": self.get_signer_role_display(),
            "guardian_signed_by_name": self.guardian_signed_by_name,
            "signed_at": self.signed_at.isoformat(),
            "state": self.state,
        }


class DisclosureQuerySet(TenantQuerySet):
    def made(self) -> DisclosureQuerySet:
        return self.filter(status=Disclosure.Status.MADE)


class Disclosure(TenantModel):
    """One release of Part 2 records (or a refused attempt at one).

    ``made`` rows are the accounting of disclosures (42 CFR 2.25). ``refused`` rows keep the
    attempt and why it was refused beside the audit row, for the compliance officer.
    """

    class Status(models.TextChoices):
        MADE = "made", "Disclosed"
        REFUSED = "refused", "Refused"

    class Channel(models.TextChoices):
        PRINT = "print", "Printed"
        EXPORT = "export", "File export"
        RELEASE = "release", "Release to recipient"
        API = "api", "API"
        FHIR = "fhir", "FHIR"

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    consent = models.ForeignKey(
        Consent, null=True, blank=True, on_delete=models.PROTECT, related_name="disclosures"
    )
    status = models.CharField(max_length=8, choices=Status.choices)
    recipient_name = models.CharField(max_length=200, blank=True)
    recipient_organization = models.CharField(max_length=200, blank=True)
    purpose = models.CharField(max_length=20, choices=Consent.Purpose.choices)
    categories = models.JSONField(default=list)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    disclosed_at = models.DateTimeField(db_index=True)
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    redisclosure_notice = models.TextField(blank=True)
    consent_snapshot = models.JSONField(default=dict, blank=True)
    refusal_reasons = models.JSONField(default=list, blank=True)

    objects = DisclosureQuerySet.as_manager()

    class Meta:
        ordering = ["-disclosed_at", "-id"]
        indexes = [models.Index(fields=["organization", "patient", "disclosed_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="refused")
                | (Q(consent__isnull=False) & ~Q(redisclosure_notice="")),
                name="disclosure_made_has_consent_and_notice",
            ),
            models.CheckConstraint(
                condition=~Q(recipient_name="") | ~Q(recipient_organization=""),
                name="disclosure_has_recipient",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_status_display()} to {self.recipient_label} on {self.disclosed_at:%Y-%m-%d}"
        )

    @property
    def recipient_label(self) -> str:
        return ", ".join(p for p in (self.recipient_name, self.recipient_organization) if p)

    @property
    def category_labels(self) -> list[str]:
        return [rules.CATEGORY_LABELS.get(c, c) for c in self.categories]

    @property
    def refusal_messages(self) -> list[str]:
        return list(self.refusal_reasons)


class BreakGlassQuerySet(TenantQuerySet):
    def active_at(self, when: dt.datetime) -> BreakGlassQuerySet:
        return self.filter(started_at__lte=when, expires_at__gt=when)

    def unreviewed(self) -> BreakGlassQuerySet:
        return self.filter(reviewed_at__isnull=True)


class BreakGlassAccess(TenantModel):
    """Emergency access to one patient's record outside one's caseload (42 CFR 2.51).

    Time-limited (``OPENIOP_BREAK_GLASS_MINUTES``, default 60); a program director reviews every
    one afterwards. ``reason`` is the nature of the emergency; ``disclosed_to`` the name and
    affiliation of outside medical personnel the records went to, when they went anywhere.
    """

    MIN_REASON = 20

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    disclosed_to = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    objects = BreakGlassQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["organization", "user", "patient", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("started_at")), name="break_glass_expires_after_start"
            ),
            models.CheckConstraint(
                condition=Q(reviewed_at__isnull=True) | ~Q(review_note=""),
                name="break_glass_review_has_note",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="break_glass_has_reason"),
        ]

    def __str__(self) -> str:
        return f"Break-glass by {self.user} at {self.started_at:%Y-%m-%d %H:%M}"

    def is_active_at(self, when: dt.datetime) -> bool:
        return self.started_at <= when < self.expires_at
