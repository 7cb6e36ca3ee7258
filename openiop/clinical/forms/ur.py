"""HTML input parsing for utilization reviews. Field names match the service arguments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from openiop.billing.models import Authorization
from openiop.clinical.models import UtilizationReview
from openiop.clinical.selectors.ur import check_period
from openiop.core.forms import ServiceErrorsMixin
from openiop.enrollment.forms import PublicIdChoiceField
from openiop.patients.forms import DATE


class PeriodForm(forms.Form):
    """The packet's date range (GET): both dates included."""

    start = forms.DateField(label="From", widget=DATE)
    end = forms.DateField(label="To", widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, dt.date) and isinstance(end, dt.date):
            problem = check_period(start, end)
            if problem:
                self.add_error("end", problem)
        return data


class AuthorizationChoiceField(PublicIdChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        number = f" #{obj.auth_number}" if obj.auth_number else ""
        return f"{obj.payer_name}{number} ({obj.start_on:%b %d} – {obj.end_on:%b %d, %Y})"


class URCreateForm(ServiceErrorsMixin, forms.Form):
    period_start = forms.DateField(label="Period from", widget=DATE)
    period_end = forms.DateField(label="Period to", widget=DATE)
    authorization = AuthorizationChoiceField(
        queryset=Authorization.objects.none(), required=False,
        empty_label="— none —", help_text="The authorization this review asks to continue",
    )  # fmt: skip
    clinician_summary = forms.CharField(
        label="Clinician's summary",
        widget=forms.Textarea(attrs={"rows": 10, "cols": 80}),
        help_text="Current presentation against the criteria, why this level of care is still "
        "needed, barriers, and the plan for the next period.",
    )

    def __init__(self, *args: Any, episode: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["authorization"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            Authorization.objects.for_org(episode.organization_id)
            .filter(episode=episode)
            .exclude(status=Authorization.Status.VOID)
            .order_by("-start_on")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if isinstance(start, dt.date) and isinstance(end, dt.date):
            problem = check_period(start, end)
            if problem:
                self.add_error("period_end", problem)
        return data


class OutcomeForm(ServiceErrorsMixin, forms.Form):
    outcome = forms.ChoiceField(label="Payer decision", choices=UtilizationReview.Outcome.choices)
    outcome_note = forms.CharField(
        label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Units or days approved, what was denied, appeal deadline",
    )  # fmt: skip
