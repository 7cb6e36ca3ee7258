"""HTML input parsing for the intake pages. Forms only parse; the services validate and write.

Field names match the services' argument names where they can, so a service ``ValidationError``
lands on the field the user typed into (``ServiceErrorsMixin``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms

from openiop.accounts.models import User
from openiop.core.forms import ServiceErrorsMixin
from openiop.enrollment.forms import (
    DAYS_USED_30,
    SUBSTANCES,
    PublicIdChoiceField,
    StaffChoiceField,
)
from openiop.enrollment.models import ReferralSource
from openiop.organizations.models import Program
from openiop.patients.forms import DATE, TIME
from openiop.patients.models import UnavailableWindow
from openiop.placement import rules
from openiop.placement.models import Referral, Urgency

TEXTAREA = forms.Textarea(attrs={"rows": 2})

# The substances offered as checkboxes (keys as the screen and the rules read them); anything
# else goes in the "other" text box, comma-separated.
COMMON_SUBSTANCES = [
    ("alcohol", "Alcohol"),
    ("opioids", "Opioids (any)"),
    ("heroin", "Heroin"),
    ("fentanyl", "Fentanyl"),
    ("prescription_opioids", "Prescription opioids"),
    ("methadone", "Methadone (non-prescribed)"),
    ("benzodiazepines", "Benzodiazepines"),
    ("sedatives", "Other sedatives"),
    ("cocaine", "Cocaine / crack"),
    ("methamphetamine", "Methamphetamine"),
    ("marijuana", "Cannabis"),
    ("hallucinogens", "Hallucinogens"),
]
RESPONSIBILITIES = [
    ("work", "Work"),
    ("school", "School"),
    ("childcare", "Childcare"),
    ("family", "Family"),
    ("caregiving", "Caregiving"),
]
FACT_LABELS = {
    "needs_detox_now": "Needs withdrawal management (detox) now",
    "needs_24h_supervision": "Needs 24-hour supervision",
    "toxic_home": "Lives in a toxic home",
    "harmful_environment": "Harmful living environment",
    "serious_co_occurring": "Serious co-occurring mental illness",
    "medically_unstable": "Medically unstable",
}
RATING_CHOICES = [(n, str(n)) for n in range(5)]
# TEDS primary-substance code suggested from the first substance named at assessment.
TEDS_FOR = {
    "alcohol": 2,
    "cocaine": 3,
    "marijuana": 4,
    "heroin": 5,
    "methadone": 6,
    "opioids": 7,
    "fentanyl": 7,
    "prescription_opioids": 7,
    "hallucinogens": 9,
    "methamphetamine": 10,
    "benzodiazepines": 13,
    "sedatives": 16,
}


def _other_words(text: str) -> list[str]:
    return [w.strip() for w in text.replace(";", ",").split(",") if w.strip()]


def substances_initial(items: Sequence[str]) -> dict[str, Any]:
    """Split stored substance keys into the checkbox list and the "other" text."""
    keys = {k for k, _ in COMMON_SUBSTANCES}
    return {
        "substances": [s for s in items if s in keys],
        "substances_other": ", ".join(s.replace("_", " ") for s in items if s not in keys),
    }


def _programs(organization_id: int) -> Any:
    return (
        Program.objects.for_org(organization_id)
        .filter(is_active=True)
        .select_related("site")
        .order_by("name")
    )


class ReferralFilterForm(forms.Form):
    FILTERS = [("open", "Open"), ("all", "All"), *Referral.Status.choices]

    status = forms.ChoiceField(choices=FILTERS, required=False)
    q = forms.CharField(label="Search by name", required=False, max_length=100)

    def values(self) -> tuple[str, str]:
        if not self.is_valid():
            return "open", ""
        status = self.cleaned_data["status"] or "open"
        return status, self.cleaned_data["q"].strip()


class ReferralForm(ServiceErrorsMixin, forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    date_of_birth = forms.DateField(label="Date of birth", required=False, widget=DATE)
    phone = forms.CharField(max_length=32, required=False)
    email = forms.EmailField(required=False)
    source = forms.ChoiceField(choices=ReferralSource.choices, initial=ReferralSource.SELF)
    referrer_name = forms.CharField(label="Referrer name", max_length=200, required=False)
    referrer_contact = forms.CharField(label="Referrer contact", max_length=200, required=False)
    reason = forms.CharField(label="Reason for referral", required=False, widget=TEXTAREA)
    urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.ROUTINE)
    received_on = forms.DateField(label="Received on", widget=DATE)
    program_requested = PublicIdChoiceField(
        label="Requested program", queryset=Program.objects.none(), required=False
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program_requested"].queryset = _programs(organization_id)  # type: ignore[attr-defined]


class ScreeningForm(ServiceErrorsMixin, forms.Form):
    substances = forms.MultipleChoiceField(
        label="Substances used",
        choices=COMMON_SUBSTANCES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    substances_other = forms.CharField(
        label="Other substances", required=False, max_length=200, help_text="Comma-separated."
    )
    last_use_on = forms.DateField(label="Last use", required=False, widget=DATE)
    withdrawal_symptoms = forms.BooleanField(label="Withdrawal symptoms now", required=False)
    withdrawal_severe = forms.BooleanField(
        label="Severe withdrawal (seizures, hallucinations, DTs history, or severe now)",
        required=False,
    )
    suicidal_ideation = forms.BooleanField(label="Suicidal thoughts", required=False)
    suicide_plan_or_intent = forms.BooleanField(label="Suicidal plan or intent", required=False)
    homicidal_ideation = forms.BooleanField(label="Thoughts of harming others", required=False)
    pregnant = forms.ChoiceField(
        choices=[("unknown", "Unknown / n.a."), ("no", "No"), ("yes", "Yes")],
        initial="unknown",
        widget=forms.RadioSelect,
    )
    insurance = forms.CharField(max_length=200, required=False)
    notes = forms.CharField(required=False, widget=TEXTAREA)

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["substances"] = [*data["substances"], *_other_words(data.pop("substances_other"))]
        return data


class ReferOutForm(ServiceErrorsMixin, forms.Form):
    to = forms.CharField(label="Referred to", max_length=200)
    note = forms.CharField(required=False, widget=TEXTAREA)


class CloseForm(ServiceErrorsMixin, forms.Form):
    status = forms.ChoiceField(
        label="Outcome",
        choices=[
            (Referral.Status.DECLINED, "Declined"),
            (Referral.Status.LOST, "Lost to contact"),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(widget=TEXTAREA)


def dimension_label(n: int, edition: str) -> tuple[str, str]:
    """(name in the edition entered, name in the other edition) of dimension ``n``."""
    other = "4" if edition == "3" else "3"
    return rules.DIMENSION_NAMES[edition][n], rules.DIMENSION_NAMES[other][n]


class AssessmentForm(ServiceErrorsMixin, forms.Form):
    """The six dimensions with their justifications, the facts the rules read, and the
    clinician's choice. Justifications are checked by the service when saving (a preview can be
    asked for before they are written)."""

    criteria_edition = forms.ChoiceField(
        label="Criteria edition",
        choices=[("3", "3rd edition (2013)"), ("4", "4th edition (2023)")],
        initial="3",
        widget=forms.RadioSelect,
    )
    assessed_on = forms.DateField(label="Assessed on", widget=DATE)
    age = forms.IntegerField(
        min_value=rules.MIN_AGE,
        max_value=rules.MAX_AGE,
        required=False,
        help_text="Prefilled from the date of birth.",
    )
    responsibilities = forms.MultipleChoiceField(
        choices=RESPONSIBILITIES, required=False, widget=forms.CheckboxSelectMultiple
    )
    substances = forms.MultipleChoiceField(
        choices=COMMON_SUBSTANCES, required=False, widget=forms.CheckboxSelectMultiple
    )
    substances_other = forms.CharField(
        label="Other substances", required=False, max_length=200, help_text="Comma-separated."
    )
    mat_interest = forms.BooleanField(label="Interested in medication (MAT)", required=False)
    mat_eligible = forms.BooleanField(label="Eligible for medication (MAT)", required=False)
    chosen_level = forms.ChoiceField(
        label="Chosen level of care",
        choices=[
            ("", "The recommended level"),
            *[(c, f"{c} {rules.LEVEL_NAMES[c]}") for c in rules.LEVELS],
        ],
        required=False,
    )
    chosen_program = forms.ChoiceField(label="Program", choices=[("", "—")], required=False)
    variance_reason = forms.CharField(
        label="Variance reason",
        required=False,
        widget=TEXTAREA,
        help_text="Required when the chosen level differs from the recommendation.",
    )

    def __init__(
        self, *args: Any, programs: Sequence[Program], first: Sequence[str] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, 7):
            self.fields[f"d{n}"] = forms.TypedChoiceField(
                label=f"Dimension {n}",
                choices=RATING_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
            )
            self.fields[f"d{n}_note"] = forms.CharField(
                label=f"Dimension {n} justification", required=False, widget=TEXTAREA
            )
        for name, label in FACT_LABELS.items():
            self.fields[name] = forms.BooleanField(label=label, required=False)
        self.set_programs(programs, first)

    def set_programs(self, programs: Sequence[Program], first: Sequence[str] = ()) -> None:
        """Program choices, the recommendation's matching programs first (in its order)."""
        self.programs = {str(p.public_id): p for p in programs}
        rank = {key: i for i, key in enumerate(first)}
        ordered = sorted(programs, key=lambda p: (rank.get(str(p.public_id), len(rank)), p.name))
        choices: list[tuple[str, str]] = [("", "—")]
        for p in ordered:
            key = str(p.public_id)
            star = " ★" if key in rank else ""
            choices.append((key, f"{p.name} (level {p.level_of_care}){star}"))
        self.fields["chosen_program"].choices = choices  # type: ignore[attr-defined]

    @property
    def edition(self) -> str:
        value = self["criteria_edition"].value()
        return value if value in rules.EDITIONS else "3"

    def dimensions(self) -> list[dict[str, Any]]:
        """Per dimension: the rating field, its justification and both editions' names."""
        rows = []
        for n in range(1, 7):
            name, other = dimension_label(n, self.edition)
            rows.append(
                {
                    "n": n,
                    "rating": self[f"d{n}"],
                    "note": self[f"d{n}_note"],
                    "name": name,
                    "other_name": other,
                    "other_edition": "4th" if self.edition == "3" else "3rd",
                }
            )
        return rows

    def facts(self) -> list[Any]:
        return [self[name] for name in FACT_LABELS]

    def substance_list(self) -> list[str]:
        data = self.cleaned_data
        return [*data["substances"], *_other_words(data["substances_other"])]

    def rules_data(self, age: int | None) -> dict[str, Any]:
        """The dict ``services.recommend`` reads."""
        data = self.cleaned_data
        return {
            "age": age,
            **{f"d{n}": data[f"d{n}"] for n in range(1, 7)},
            **{name: bool(data[name]) for name in FACT_LABELS},
            "responsibilities": list(data["responsibilities"]),
            "substances": self.substance_list(),
            "criteria_edition": data["criteria_edition"],
        }

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "assessed_on": data["assessed_on"],
            "ratings": {
                **{f"d{n}": data[f"d{n}"] for n in range(1, 7)},
                **{name: bool(data[name]) for name in FACT_LABELS},
            },
            "notes": {n: data[f"d{n}_note"] for n in range(1, 7)},
            "chosen_level": data["chosen_level"],
            "chosen_program": self.programs.get(data["chosen_program"]),
            "variance_reason": data["variance_reason"],
            "criteria_edition": data["criteria_edition"],
            "age": data["age"],
            "responsibilities": list(data["responsibilities"]),
            "substances": self.substance_list(),
            "mat_interest": data["mat_interest"],
            "mat_eligible": data["mat_eligible"],
        }


class AdmitForm(ServiceErrorsMixin, forms.Form):
    """Admission: program, date, consent to treat, the episode's first facts, the groups to book,
    and optional work/school hours (saved on the patient; they decide which groups fit)."""

    program = forms.ChoiceField(choices=[])
    admitted_on = forms.DateField(label="Admission date", widget=DATE)
    consent_signed_by = forms.CharField(
        label="Consent to treat: patient signature (type full name)", max_length=200, required=False
    )
    guardian_signed_by = forms.CharField(
        label="Parent or guardian signature (type full name)", max_length=200, required=False
    )
    primary_counselor = StaffChoiceField(
        label="Primary counselor", queryset=User.objects.none(), required=False
    )
    primary_substance = forms.TypedChoiceField(
        label="Primary substance (TEDS)", choices=SUBSTANCES, coerce=int, empty_value=None,
        required=False,
    )  # fmt: skip
    mat = forms.BooleanField(label="Medication for addiction treatment (MAT)", required=False)
    baseline_days_used_30 = DAYS_USED_30(
        "Days of use in the 30 days before admission",
        "Any substance; the baseline for the 6-month outcome (TEDS FREQ1). Blank if not asked.",
    )
    series = forms.MultipleChoiceField(
        label="Groups to book", choices=[], required=False, widget=forms.CheckboxSelectMultiple
    )
    window_days = forms.TypedMultipleChoiceField(
        label="Unavailable on",
        choices=UnavailableWindow.Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    window_start = forms.TimeField(label="from", required=False, widget=TIME)
    window_end = forms.TimeField(label="to", required=False, widget=TIME)
    window_kind = forms.ChoiceField(
        label="for", choices=UnavailableWindow.Kind.choices, initial=UnavailableWindow.Kind.WORK
    )

    def __init__(self, *args: Any, programs: Sequence[Program], staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programs = {str(p.public_id): p for p in programs}
        self.fields["program"].choices = [(k, p.name) for k, p in self.programs.items()]  # type: ignore[attr-defined]
        self.fields["primary_counselor"].queryset = staff  # type: ignore[attr-defined]
        self.bookable: dict[str, Any] = {}

    def set_offers(self, offers: Sequence[Any]) -> None:
        """Groups with a seat at their next meeting can be booked; full ones are shown only."""
        self.bookable = {
            str(o.series.public_id): o.series
            for o in offers
            if o.next_session is not None and o.free_seats > 0
        }
        self.fields["series"].choices = [(k, str(s)) for k, s in self.bookable.items()]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        days, start, end = data.get("window_days"), data.get("window_start"), data.get("window_end")
        given = [bool(days), start is not None, end is not None]
        if any(given) and not all(given):
            self.add_error("window_days", "Give the days, start and end of the hours, or none.")
        if start and end and end <= start:
            self.add_error("window_end", "End time must be after the start time.")
        return data

    @property
    def selected_program(self) -> Program | None:
        key = self.cleaned_data.get("program") if hasattr(self, "cleaned_data") else None
        return self.programs.get(key or "")

    def windows(self) -> list[dict[str, Any]]:
        """The typed hours as ``unavailable_window_add`` arguments (one per day)."""
        data = self.cleaned_data
        if not data.get("window_days") or not data.get("window_start"):
            return []
        return [
            {
                "weekday": day,
                "start_time": data["window_start"],
                "end_time": data["window_end"],
                "kind": data["window_kind"],
            }
            for day in data["window_days"]
        ]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "program": self.selected_program,
            "admitted_on": data["admitted_on"],
            "consent_signed_by": data["consent_signed_by"],
            "guardian_signed_by": data["guardian_signed_by"],
            "primary_counselor": data["primary_counselor"],
            "primary_substance": data["primary_substance"],
            "mat": data["mat"],
            "baseline_days_used_30": data["baseline_days_used_30"],
            "series": [self.bookable[k] for k in data["series"] if k in self.bookable],
        }


class IntakeReportForm(forms.Form):
    start = forms.DateField(required=False, widget=DATE)
    end = forms.DateField(required=False, widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "The end date must not be before the start date.")
        return data

    def period(self, today: dt.date, days: int = 90) -> tuple[dt.date, dt.date]:
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or end - dt.timedelta(days=days)
        return start, end
