"""Writes for programs."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.organizations.models import Program

EDITABLE = (
    "name", "level_of_care", "population", "min_age", "max_age", "modality", "cohort",
    "weekly_min_hours", "weekly_max_hours", "min_days_per_week", "typical_session_minutes",
    "typical_length_weeks", "group_size_cap", "is_active",
)  # fmt: skip


@transaction.atomic
def program_update(
    *, actor: Any, program: Program, request: HttpRequest | None = None, **changes: Any
) -> Program:
    """Change a program's rules. Thresholds are data (DESIGN §4), so directors tune them here and
    the weekly-hours status of every patient follows on the next page load."""
    from django.core.exceptions import ValidationError

    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: "this field cannot be changed" for name in sorted(unknown)})
    changed = sorted(k for k, v in changes.items() if getattr(program, k) != v)
    for key, value in changes.items():
        setattr(program, key, value)
    program.full_clean(exclude=["organization", "site", "created_by", "updated_by"])
    if not changed:
        return program
    program.updated_by = actor if getattr(actor, "pk", None) else None
    program.save()
    audit_log(
        actor=actor,
        action="openiop.organizations.program.update",
        category=AuditEvent.Category.ADMINISTRATIVE,
        obj=program,
        request=request,
        detail={"fields": changed},
    )
    return program
