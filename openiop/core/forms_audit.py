"""Filters of the audit report and of the "who looked at this patient" page (GET forms)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from openiop.core.models import AuditEvent
from openiop.core.selectors_audit import DEFAULT_SORT, SORT_FIELDS, max_page

OUTCOME_CHOICES = [
    ("", "Any outcome"),
    (AuditEvent.Outcome.SUCCESS.value, "Allowed"),
    (AuditEvent.Outcome.DENIED.value, "Denied (no permission)"),
    (AuditEvent.Outcome.FAILED.value, "Failed (not found or error)"),
]
SORT_CHOICES = [(k, k) for k in SORT_FIELDS] + [("-" + k, "-" + k) for k in SORT_FIELDS]
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2999, 12, 31)


class DateInput(forms.DateInput):
    input_type = "date"


class _DateRangeMixin:
    def clean(self) -> dict[str, Any]:
        data = super().clean()  # type: ignore[misc]
        start, end = data.get("date_from"), data.get("date_to")
        for name in ("date_from", "date_to"):
            value = data.get(name)
            if value is not None and not EARLIEST <= value <= LATEST:
                self.add_error(name, "Pick a date between 2000 and 2999.")  # type: ignore[attr-defined]
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")  # type: ignore[attr-defined]
        return data


class AuditReportForm(_DateRangeMixin, forms.Form):
    q = forms.CharField(
        label="Find a patient", required=False, max_length=100,
        help_text="Name or MRN, then pick the patient from the matches.",
    )  # fmt: skip
    patient = forms.UUIDField(required=False, widget=forms.HiddenInput)
    user = forms.ModelChoiceField(
        label="User", queryset=None, required=False, to_field_name="public_id",
        empty_label="Any user",
    )  # fmt: skip
    date_from = forms.DateField(label="From (local date)", required=False, widget=DateInput)
    date_to = forms.DateField(label="To (local date)", required=False, widget=DateInput)
    action = forms.CharField(
        label="Action starts with", required=False, max_length=120,
        help_text="e.g. openiop.clinical. or openiop.patients.patient.read",
    )  # fmt: skip
    category = forms.ChoiceField(
        label="Category", required=False,
        choices=[("", "Any category"), *AuditEvent.Category.choices],
    )  # fmt: skip
    outcome = forms.ChoiceField(label="Outcome", required=False, choices=OUTCOME_CHOICES)
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from openiop.accounts.models import User

        # Former staff stay in the list (deactivated accounts still have a trail).
        self.fields["user"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            organization_id=organization_id
        ).order_by("last_name", "first_name", "username")
        self.fields["user"].label_from_instance = _user_label  # type: ignore[attr-defined]

    def clean_page(self) -> int:
        page = self.cleaned_data.get("page") or 1
        if page > max_page():
            raise forms.ValidationError(
                f"The report shows at most {max_page()} pages; narrow the filter or export it."
            )
        return page

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or DEFAULT_SORT


def _user_label(user: Any) -> str:
    name = user.get_full_name()
    label = f"{name} ({user.username})" if name else user.username
    return label if user.is_active else label + " (inactive)"


class PatientAccessForm(_DateRangeMixin, forms.Form):
    date_from = forms.DateField(label="From (local date)", required=False, widget=DateInput)
    date_to = forms.DateField(label="To (local date)", required=False, widget=DateInput)
