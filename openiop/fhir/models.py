"""FHIR clients (bearer tokens with SMART-style scopes) and bulk-export jobs.

The FHIR facade owns no clinical data; these two tables are its plumbing.

A **client** is who calls ``/fhir/r4/``. Every client acts through a ``User`` so the audit trail
names it: a staff member's own account (``user`` tokens: the role's permissions and the caseload
apply on top of the scopes), the patient's portal account (``patient`` tokens: that patient's
data only), or a service account made for the client (``system`` tokens). A system client is
either part of the program (``is_external=False``: the clinic's own warehouse or reporting) or an
outside recipient (``is_external=True``, the default): then every patient resource it asks for is
served only under a Part 2 consent naming ``recipient_name`` / ``recipient_organization`` for
``purpose`` and covering the kind of information, and each release is recorded as a disclosure.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import TenantModel


class FhirClient(TenantModel):
    class Kind(models.TextChoices):
        USER = "user", "A staff member's app (user/ scopes)"
        PATIENT = "patient", "A patient's app (patient/ scopes)"
        SYSTEM = "system", "A backend service (system/ scopes)"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="fhir_clients"
    )
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scopes = models.TextField(help_text="Space-separated SMART scopes, e.g. 'system/*.rs'.")
    is_external = models.BooleanField(
        default=True, help_text="An outside recipient: patient data only under a Part 2 consent."
    )
    recipient_name = models.CharField(max_length=200, blank=True)
    recipient_organization = models.CharField(max_length=200, blank=True)
    purpose = models.CharField(max_length=20, blank=True)
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="patient") | Q(patient__isnull=False),
                name="fhir_client_patient_token_names_patient",
            ),
            models.CheckConstraint(
                condition=~Q(kind="system", is_external=True)
                | ~Q(recipient_name="")
                | ~Q(recipient_organization=""),
                name="fhir_client_external_names_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def needs_consent(self) -> bool:
        return self.kind == self.Kind.SYSTEM and self.is_external


class BulkExport(TenantModel):
    """A Bulk Data ``$export`` job: kicked off by a client, run in the background, polled."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Complete"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    client = models.ForeignKey(FhirClient, on_delete=models.PROTECT, related_name="exports")
    group_program = models.ForeignKey(
        "organizations.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    request_url = models.TextField()
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    transaction_time = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    output = models.JSONField(default=list)  # [{"type", "file", "count"}]
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Export {self.public_id} ({self.status})"
