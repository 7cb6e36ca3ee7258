"""HTML input parsing for discharge summaries."""

from __future__ import annotations

from django import forms

from openiop.core.forms import ServiceErrorsMixin


def _text(label: str, rows: int = 4, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label, required=False, help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows, "cols": 80}),
    )  # fmt: skip


class DischargeSummaryForm(ServiceErrorsMixin, forms.Form):
    # A version conflict is about the whole form (the hidden field cannot show an error).
    service_field_map = {"version": "__all__"}

    version = forms.IntegerField(widget=forms.HiddenInput)
    progress_narrative = _text(
        "Progress and outcome", 6, "Course of treatment, progress toward each goal, status now"
    )
    medications = _text("Medications at discharge", 3, "Pre-filled from the medication list")
    aftercare_plan = _text(
        "Aftercare plan", 5, "Continuing care: level, provider, appointments, supports"
    )
    referrals = _text("Referrals", 3, "Agencies, providers, recovery supports, housing")
    risk_at_discharge = _text("Risk at discharge", 3, "e.g. C-SSRS screen, overdose risk, plan")
    recommendations = _text("Recommendations", 3)


class AmendForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Reason for the amendment", max_length=500,
        widget=forms.TextInput(attrs={"size": 60}),
    )  # fmt: skip


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
