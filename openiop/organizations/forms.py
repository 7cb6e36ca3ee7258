"""HTML input parsing for program pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from openiop.core.forms import ServiceErrorsMixin
from openiop.organizations.models import Program

HOURS_IN_WEEK = Decimal(7 * 24)


class ProgramRulesForm(ServiceErrorsMixin, forms.ModelForm):
    """The program's weekly intensity rules (thresholds are configuration, DESIGN §4).

    ``Program.clean`` checks min <= max hours and ages; this form adds the bounds a week can hold.
    """

    class Meta:
        model = Program
        fields = [
            "weekly_min_hours", "weekly_max_hours", "min_days_per_week",
            "typical_session_minutes", "typical_length_weeks", "group_size_cap",
            "min_age", "max_age", "is_active",
        ]  # fmt: skip
        labels = {
            "weekly_min_hours": "Weekly minimum hours",
            "weekly_max_hours": "Weekly maximum hours",
            "min_days_per_week": "Minimum days per week",
            "typical_session_minutes": "Session length (minutes)",
            "typical_length_weeks": "Typical length (weeks)",
            "group_size_cap": "Group size cap",
            "is_active": "Accepting patients",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("weekly_min_hours"), data.get("weekly_max_hours")
        if low is not None and low < 0:
            self.add_error("weekly_min_hours", "Hours cannot be negative.")
        if high is not None and high > HOURS_IN_WEEK:
            self.add_error("weekly_max_hours", "A week has only 168 hours.")
        days = data.get("min_days_per_week")
        if days is not None and not 1 <= days <= 7:
            self.add_error("min_days_per_week", "Choose between 1 and 7 days.")
        for name in ("typical_session_minutes", "typical_length_weeks", "group_size_cap"):
            if data.get(name) == 0:
                self.add_error(name, "Must be at least 1.")
        minutes = data.get("typical_session_minutes")
        if minutes is not None and minutes > 8 * 60:
            self.add_error("typical_session_minutes", "A session cannot be longer than 8 hours.")
        return data
