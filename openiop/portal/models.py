"""Portal accounts for patients and guardians (issue 10, docs/guide/portal.md).

A portal account is an ordinary ``accounts.User`` of the patient's organization that holds no
staff role, tied here to one patient. ``openiop.portal.middleware.PortalIsolationMiddleware``
keeps such a user inside ``/portal/``: every staff page answers 404 to them, and every portal page
answers 404 to staff. A guardian's account sees what its visibility flags allow (defaults from
``OPENIOP_PORTAL_GUARDIAN_SEES``), narrowed by the minor's state rule (``portal.access``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import TenantModel


class AccountKind(models.TextChoices):
    PATIENT = "patient", "Patient"
    GUARDIAN = "guardian", "Parent or guardian"


class PortalAccount(TenantModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_account"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="portal_accounts"
    )
    kind = models.CharField(max_length=8, choices=AccountKind.choices)
    guardian = models.ForeignKey(
        "patients.Guardian", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # What a guardian's account shows (a patient's own account shows everything of theirs).
    sees_schedule = models.BooleanField(default=True)
    sees_questionnaires = models.BooleanField(default=False)
    sees_plan = models.BooleanField(default=False)
    sees_consents = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="patient", guardian__isnull=True)
                | Q(kind="guardian", guardian__isnull=False),
                name="portal_account_guardian_iff_kind",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(kind="patient", is_active=True),
                name="portal_one_patient_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} portal account for {self.patient}"

    @property
    def is_guardian(self) -> bool:
        return self.kind == AccountKind.GUARDIAN


class PortalInvitation(TenantModel):
    """A one-time link staff hand to a patient or guardian to create their portal log-in. Only a
    SHA-256 of the token is stored; the link is shown once."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="portal_invitations"
    )
    kind = models.CharField(max_length=8, choices=AccountKind.choices)
    guardian = models.ForeignKey(
        "patients.Guardian", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    account = models.ForeignKey(
        PortalAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="patient", guardian__isnull=True)
                | Q(kind="guardian", guardian__isnull=False),
                name="portal_invitation_guardian_iff_kind",
            )
        ]


class VirtualVisit(TenantModel):
    """A patient (or guardian's device) joining a virtual session from the portal: the join and
    leave times the facilitator sees when taking attendance."""

    session = models.ForeignKey(
        "scheduling.Session", on_delete=models.CASCADE, related_name="virtual_visits"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="virtual_visits"
    )
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at"]
        indexes = [models.Index(fields=["session", "patient"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=models.F("joined_at")),
                name="virtual_visit_leaves_after_joining",
            )
        ]


class ConsentRequest(TenantModel):
    """A Part 2 consent that staff prepared and sent to the portal for the patient (or their
    guardian) to read and sign. Signing records an ordinary ``consent.Consent`` through
    ``consent_record`` (so every 42 CFR 2.31 check applies again) and links it here."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for signature"
        SIGNED = "signed", "Signed"
        WITHDRAWN = "withdrawn", "Withdrawn by staff"

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="consent_requests"
    )
    terms = models.JSONField(help_text="consent_record keyword arguments, signer fields excluded")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    consent = models.OneToOneField(
        "consent.Consent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "patient", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="signed") | Q(consent__isnull=False, signed_at__isnull=False),
                name="portal_consent_request_signed_has_consent",
            )
        ]

    def __str__(self) -> str:
        return f"Consent for signature ({self.get_status_display()})"

    def preview(self):  # noqa: ANN201 (an unsaved consent.Consent, for its labels)
        """An unsaved Consent with these terms, so templates can use its labels."""
        from openiop.consent.models import Consent

        terms = dict(self.terms)
        if terms.get("expires_on"):
            import datetime as dt

            terms["expires_on"] = dt.date.fromisoformat(terms["expires_on"])
        fields = {f.name for f in Consent._meta.get_fields()}
        return Consent(patient=self.patient, **{k: v for k, v in terms.items() if k in fields})
