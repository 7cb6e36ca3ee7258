from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from openiop.core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: the audit trail is append-only."""

    list_display = ("occurred_at", "actor_username", "action", "patient_id", "outcome")
    list_filter = ("category", "outcome")
    search_fields = ("actor_username", "action", "patient_id", "object_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
