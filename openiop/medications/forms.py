"""HTML input parsing for the medication and drug-screen pages. Forms parse; services validate
and write. Field names match the services' arguments so their errors land on the right field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Role
from openiop.core.forms import ServiceErrorsMixin
from openiop.enrollment.forms import StaffChoiceField
from openiop.medications import screening
from openiop.medications.models import DrugScreen, Medication
from openiop.medications.services import AUTO
from openiop.patients.forms import DATE

TEXTAREA = forms.Textarea(attrs={"rows": 2})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
NOT_TESTED, NOT_DETECTED, DETECTED = "", "not_detected", "detected"
RESULT_CHOICES = [
    (NOT_TESTED, "Not tested"),
    (NOT_DETECTED, "Not detected"),
    (DETECTED, "Detected"),
]
PANEL_FIELD_CHOICES = [
    (AUTO, "Suggest from the MAT kind or drug name"),
    ("", "Does not show on a drug screen"),
    *screening.PANEL,
]


def _prescribers(organization_id: int) -> Any:
    return (
        User.objects.filter(
            organization_id=organization_id,
            is_active=True,
            groups__name__in=[Role.PRESCRIBER.value, Role.PROGRAM_DIRECTOR.value],
        )
        .distinct()
        .order_by("last_name", "first_name")
    )


class MedicationStartForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(max_length=200, help_text="Generic or brand, e.g. Suboxone.")
    dose = forms.CharField(max_length=100, help_text="e.g. 8 mg/2 mg")
    route = forms.ChoiceField(choices=Medication.Route.choices, initial=Medication.Route.ORAL)
    frequency = forms.CharField(max_length=100, help_text="e.g. once daily")
    start_on = forms.DateField(label="Start date", widget=DATE)
    prescriber = StaffChoiceField(queryset=User.objects.none(), required=False)
    outside_prescriber = forms.CharField(
        label="Or outside prescriber / program", max_length=200, required=False,
        help_text="e.g. the opioid treatment program that doses methadone.",
    )  # fmt: skip
    mat_kind = forms.ChoiceField(
        label="MAT", choices=[("", "Not MAT"), *Medication.MatKind.choices], required=False
    )
    panel_substance = forms.ChoiceField(
        label="Shows on drug screens as", choices=PANEL_FIELD_CHOICES, initial=AUTO,
        required=False,
    )  # fmt: skip
    adherence_notes = forms.CharField(widget=TEXTAREA, required=False)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["prescriber"].queryset = _prescribers(organization_id)  # type: ignore[attr-defined]


class MedicationChangeForm(ServiceErrorsMixin, forms.Form):
    service_field_map = {"stop_on": "changed_on"}

    changed_on = forms.DateField(label="Change from", widget=DATE)
    dose = forms.CharField(max_length=100, required=False, help_text="Blank keeps the dose.")
    frequency = forms.CharField(max_length=100, required=False, help_text="Blank keeps it.")
    route = forms.ChoiceField(
        choices=[("", "Same route"), *Medication.Route.choices], required=False
    )
    reason = forms.CharField(max_length=250)

    def changes(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "changed_on": d["changed_on"],
            "reason": d["reason"],
            **{k: d[k] for k in ("dose", "frequency", "route") if d.get(k)},
        }


class MedicationStopForm(ServiceErrorsMixin, forms.Form):
    stop_on = forms.DateField(label="Stopped on", widget=DATE)
    reason = forms.CharField(max_length=250)


class DrugScreenForm(ServiceErrorsMixin, forms.Form):
    """One radio group per panel substance ("r_<code>"): not tested / not detected / detected.
    ``collected_at`` is typed in the site's local time."""

    collected_at = forms.DateTimeField(
        label="Collected", widget=DATETIME, required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="Leave blank for a lab result that confirms a point-of-care screen.",
    )  # fmt: skip
    episode = forms.ChoiceField(label="Episode")
    specimen = forms.ChoiceField(choices=DrugScreen.Specimen.choices)
    method = forms.ChoiceField(choices=DrugScreen.Method.choices)
    observed = forms.BooleanField(label="Collection observed", required=False)
    specimen_validity = forms.ChoiceField(
        label="Specimen validity", choices=DrugScreen.Validity.choices
    )
    lab_name = forms.CharField(label="Lab", max_length=200, required=False)
    accession_number = forms.CharField(max_length=64, required=False)
    confirms = forms.ChoiceField(label="Confirms point-of-care screen", required=False)
    notes = forms.CharField(widget=TEXTAREA, required=False)

    def __init__(
        self,
        *args: Any,
        tz: Any,
        episodes: list[Any],
        confirmable: list[DrugScreen],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz
        self.episodes = {str(e.public_id): e for e in episodes}
        self.confirmable = {str(s.public_id): s for s in confirmable}
        self.fields["episode"].choices = [
            (key, f"{e.program.name} ({e.get_status_display().lower()})")
            for key, e in self.episodes.items()
        ]
        self.fields["confirms"].choices = [("", "None (a new specimen)")] + [
            (key, f"{s.collected_at.astimezone(tz):%b %d %H:%M}, {s.get_specimen_display()}")
            for key, s in self.confirmable.items()
        ]
        for code, label in screening.PANEL:
            self.fields[f"r_{code}"] = forms.ChoiceField(
                label=label, choices=RESULT_CHOICES, required=False,
                widget=forms.RadioSelect, initial=NOT_TESTED,
            )  # fmt: skip

    @property
    def panel_fields(self) -> list[Any]:
        return [self[f"r_{code}"] for code, _ in screening.PANEL]

    @property
    def detail_fields(self) -> list[Any]:
        return [f for f in self.visible_fields() if not f.name.startswith("r_")]

    def clean_collected_at(self) -> dt.datetime | None:
        value = self.cleaned_data.get("collected_at")
        if value is None:
            return None
        # Django made the typed wall-clock time aware in the current time zone (UTC); the
        # clinician typed it in the site's.
        if timezone.is_aware(value):
            value = timezone.make_naive(value)
        return value.replace(tzinfo=self.tz)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.results():
            self.add_error(None, "Mark at least one substance as detected or not detected.")
        if not data.get("collected_at") and not data.get("confirms"):
            self.add_error("collected_at", "Enter when the specimen was collected.")
        return data

    def results(self) -> list[tuple[str, bool]]:
        data = getattr(self, "cleaned_data", {})
        return [
            (code, data[f"r_{code}"] == DETECTED)
            for code, _ in screening.PANEL
            if data.get(f"r_{code}") in (DETECTED, NOT_DETECTED)
        ]

    def service_args(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "episode": self.episodes[d["episode"]],
            "collected_at": d["collected_at"],
            "specimen": d["specimen"],
            "method": d["method"],
            "observed": d["observed"],
            "specimen_validity": d["specimen_validity"],
            "lab_name": d["lab_name"],
            "accession_number": d["accession_number"],
            "confirms": self.confirmable.get(d["confirms"]) if d.get("confirms") else None,
            "notes": d["notes"],
            "results": self.results(),
        }
