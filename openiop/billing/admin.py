"""Django admin for billing set-up rows (payers, billing profile). Claims, lines and export
batches are read-only here: they change only through the services, which audit every change."""

from django.contrib import admin

from openiop.billing.models import (
    BillingProfile,
    Claim,
    ClaimLine,
    ExportBatch,
    Payer,
    ProgramPayerRule,
)


@admin.register(Payer)
class PayerAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "kind", "payer_id", "billing_model", "claim_type",
                    "active")  # fmt: skip
    list_filter = ("organization", "kind", "billing_model", "active")
    search_fields = ("name", "payer_id")


@admin.register(ProgramPayerRule)
class ProgramPayerRuleAdmin(admin.ModelAdmin):
    list_display = ("payer", "program", "program_kind")
    list_filter = ("organization",)


@admin.register(BillingProfile)
class BillingProfileAdmin(admin.ModelAdmin):
    list_display = ("billing_name", "organization", "npi", "receiver_name", "usage_indicator")


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]  # noqa: ARG002
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]  # noqa: ARG002
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]  # noqa: ARG002
        return False


@admin.register(Claim)
class ClaimAdmin(_ReadOnly):
    list_display = ("claim_number", "organization", "payer", "status", "period_start",
                    "total_charge")  # fmt: skip
    list_filter = ("organization", "status", "claim_type")


@admin.register(ClaimLine)
class ClaimLineAdmin(_ReadOnly):
    list_display = ("claim", "service_date", "code", "charge", "status")


@admin.register(ExportBatch)
class ExportBatchAdmin(_ReadOnly):
    list_display = ("filename", "organization", "format", "claim_count", "created_at")
    exclude = ("content",)
