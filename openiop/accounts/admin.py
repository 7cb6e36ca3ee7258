from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from openiop.accounts.models import User


@admin.register(User)
class StaffAdmin(UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Organization", {"fields": ("organization", "credential", "npi")}),
    )
    list_display = (
        "username",
        "first_name",
        "last_name",
        "organization",
        "credential",
        "is_active",
    )
    list_filter = ("organization", "groups", "is_active")
