"""HTML input parsing for patient pages. Forms only parse; services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.models import fields_for_model

from openiop.core.forms import ServiceErrorsMixin
from openiop.patients.models import Patient, UnavailableWindow
from openiop.patients.services import PATIENT_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PatientSearchForm(forms.Form):
    q = forms.CharField(label="Search by name or MRN", required=False, max_length=100)


class PatientForm(ServiceErrorsMixin, forms.Form):
    """Demographics. ``initial_from`` fills it from a patient for the edit page."""

    @classmethod
    def initial_from(cls, patient: Patient) -> dict[str, Any]:
        return {name: getattr(patient, name) for name in PATIENT_FIELDS}

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in PATIENT_FIELDS}


PatientForm.base_fields = fields_for_model(
    Patient, fields=PATIENT_FIELDS, widgets={"date_of_birth": DATE}
)  # type: ignore[assignment]


class UnavailableWindowForm(ServiceErrorsMixin, forms.Form):
    weekday = forms.TypedChoiceField(choices=UnavailableWindow.Weekday.choices, coerce=int)
    start_time = forms.TimeField(widget=TIME)
    end_time = forms.TimeField(widget=TIME)
    kind = forms.ChoiceField(choices=UnavailableWindow.Kind.choices)
    note = forms.CharField(required=False, max_length=200)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", "End time must be after the start time.")
        return data


class PatientCreateForm(PatientForm):
    """New patient, with an optional MRN and an optional first work/school window."""

    service_field_map = {
        "weekday": "window_weekday",
        "start_time": "window_start_time",
        "end_time": "window_end_time",
        "kind": "window_kind",
    }
    WINDOW_FIELDS = ("window_weekday", "window_start_time", "window_end_time")

    def window(self) -> dict[str, Any] | None:
        """The window's service arguments, or None when none was given."""
        data = self.cleaned_data
        if data.get("window_weekday") is None:
            return None
        return {
            "weekday": data["window_weekday"],
            "start_time": data["window_start_time"],
            "end_time": data["window_end_time"],
            "kind": data["window_kind"] or UnavailableWindow.Kind.WORK,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = [name for name in self.WINDOW_FIELDS if data.get(name) not in (None, "")]
        if given and len(given) < len(self.WINDOW_FIELDS):
            for name in self.WINDOW_FIELDS:
                if name not in given and name not in self.errors:
                    self.add_error(name, "Fill in the day, start and end of the window, or none.")
        start, end = data.get("window_start_time"), data.get("window_end_time")
        if start and end and end <= start:
            self.add_error("window_end_time", "End time must be after the start time.")
        return data


PatientCreateForm.base_fields = {
    "mrn": forms.CharField(
        label="MRN", max_length=32, required=False, help_text="Leave blank to assign one."
    ),
    **PatientForm.base_fields,
    "window_weekday": forms.TypedChoiceField(
        label="Unavailable (work/school): day",
        choices=[("", "—"), *UnavailableWindow.Weekday.choices],
        coerce=int,
        empty_value=None,
        required=False,
    ),
    "window_start_time": forms.TimeField(label="from", required=False, widget=TIME),
    "window_end_time": forms.TimeField(label="to", required=False, widget=TIME),
    "window_kind": forms.ChoiceField(
        label="kind", choices=UnavailableWindow.Kind.choices, required=False
    ),
}  # type: ignore[assignment]


class GuardianForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(max_length=200)
    relationship = forms.CharField(max_length=60, initial="Parent")
    phone = forms.CharField(max_length=32, required=False)
    email = forms.EmailField(required=False)
