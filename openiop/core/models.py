"""Kernel models: the base every clinical row builds on, and the audit log."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models


class BaseModel(models.Model):
    """UUID public id plus who/when bookkeeping.

    The integer primary key stays inside the database: URLs, the API and exports use
    ``public_id`` only, so ids cannot be enumerated (security.md T2).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class TenantQuerySet(models.QuerySet):
    """Clinical querysets are filtered to one organization with ``for_org``.

    Cross-organization reads are only made through ``Model.unscoped`` (greppable), from
    management commands and migrations.
    """

    def for_org(self, organization: Any) -> TenantQuerySet:
        return self.filter(organization=organization)


class TenantModel(BaseModel):
    """A row that belongs to one organization (the future distribution key)."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )

    objects = TenantQuerySet.as_manager()
    unscoped = models.Manager()  # noqa: DJ012 (ruff reads a second manager as a field)

    class Meta:
        abstract = True


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:  # noqa: ARG002
        raise PermissionError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit events are append-only")


class AuditEvent(models.Model):
    """One append-only, hash-chained row per read or write of patient data.

    ``hash = SHA-256(prev_hash || canonical(row))``. Rewriting any row breaks every later hash,
    which ``openiop audit verify`` reports. Updates and deletes are refused in Python and by a
    database trigger (migration 0002), so raw SQL and the admin cannot change history either.
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        DENIED = "denied", "Denied"
        FAILED = "failed", "Failed"

    class Category(models.TextChoices):
        DEMOGRAPHICS = "demographics", "Demographics"
        EPISODE = "episode", "Episode of care"
        SCHEDULE = "schedule", "Schedule"
        ATTENDANCE = "attendance", "Attendance"
        COMPLIANCE = "compliance", "Weekly hours"
        CLINICAL = "clinical", "Clinical record"
        BILLING = "billing", "Billing and authorizations"
        ADMINISTRATIVE = "administrative", "Administrative"
        # Releases of Part 2 records and break-glass emergency access: what a compliance officer
        # answers "who received this record" from (42 CFR 2.24 accounting, 2.51).
        DISCLOSURE = "disclosure", "Disclosures (42 CFR Part 2)"

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    actor_roles = models.CharField(max_length=200, blank=True)
    organization_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=120, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.CharField(max_length=64, blank=True, db_index=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    source_ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            # The audit report: one organization, a time range, newest first, id breaks ties.
            # (PostgreSQL also gets a GIN index on ``detail``, migration 0004.)
            models.Index(
                fields=["organization_id", "occurred_at", "id"], name="audit_org_time_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit events are append-only")


class AuditHead(models.Model):
    """A single row holding the newest hash; locking it serializes chain appends on PostgreSQL."""

    singleton = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"audit head after {self.count} rows"


class PanelSnapshot(models.Model):
    """A precomputed panel or report of one organization (ADR 0016): what an expensive, org-wide
    computation returned, as JSON of ids and numbers, and when. Readers serve it while it is
    younger than ``OPENIOP_SNAPSHOT_MAX_AGE_SECONDS`` and recompute it after that or on
    "Refresh". It is a cache: deleting every row loses nothing."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=200)
    computed_at = models.DateTimeField()
    compute_ms = models.PositiveIntegerField(default=0)
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="panelsnapshot_org_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.computed_at:%Y-%m-%d %H:%M:%S}"
