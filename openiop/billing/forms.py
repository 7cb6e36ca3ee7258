"""HTML input parsing for authorizations. Field names match the service arguments, so a service
``ValidationError`` lands on the field the user typed into."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.billing.models import Authorization
from openiop.billing.services import EDITABLE_STATUSES, MAX_UNITS
from openiop.core.forms import ServiceErrorsMixin
from openiop.patients.forms import DATE

STATUS_CHOICES = [(s.value, s.label) for s in EDITABLE_STATUSES]


class AuthorizationForm(ServiceErrorsMixin, forms.Form):
    payer_name = forms.CharField(label="Payer", max_length=200)
    auth_number = forms.CharField(label="Authorization number", max_length=60, required=False)
    level_of_care = forms.CharField(
        label="Level of care", max_length=8, required=False,
        help_text="ASAM level, e.g. 2.1; blank = the program's level",
    )  # fmt: skip
    service_code = forms.CharField(
        label="Service code", max_length=10, initial="H0015", help_text="e.g. H0015, S9480"
    )
    unit_kind = forms.ChoiceField(
        label="Units are", choices=Authorization.UnitKind.choices, initial="days"
    )
    units_authorized = forms.IntegerField(label="Units authorized", max_value=MAX_UNITS)
    start_on = forms.DateField(label="From", widget=DATE)
    end_on = forms.DateField(label="To (inclusive)", widget=DATE)
    status = forms.ChoiceField(choices=STATUS_CHOICES, initial="active")
    alert_units_remaining = forms.IntegerField(
        label="Alert when units left are at most", min_value=0, max_value=1000, initial=2
    )
    alert_days_before_end = forms.IntegerField(
        label="Alert this many days before the end", min_value=0, max_value=365, initial=7
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_on"), data.get("end_on")
        if start and end and end < start:
            self.add_error("end_on", "The end date must not be before the start date.")
        units = data.get("units_authorized")
        if units is not None and units < 1:
            self.add_error("units_authorized", "Authorize at least 1 unit.")
        return data

    @classmethod
    def initial_for(cls, authorization: Authorization) -> dict[str, Any]:
        return {name: getattr(authorization, name) for name in cls.base_fields}


class VoidForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Why is it void?", max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "entered in error, withdrawn by payer..."}),
    )  # fmt: skip
