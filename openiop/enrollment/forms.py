"""HTML input parsing for episode pages. Field names match the services' argument names, so a
service ``ValidationError`` lands on the field the user typed into."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from openiop.accounts.models import User
from openiop.core.forms import ServiceErrorsMixin
from openiop.enrollment.models import ReferralSource, TedsDischargeReason, TedsSubstance
from openiop.organizations.models import Program
from openiop.patients.forms import DATE


def _programs(organization_id: int) -> Any:
    return (
        Program.objects.for_org(organization_id)
        .filter(is_active=True)
        .select_related("site")
        .order_by("name")
    )


def _staff(organization_id: int) -> Any:
    return User.objects.filter(organization_id=organization_id, is_active=True).order_by(
        "last_name", "first_name"
    )


class PublicIdChoiceField(forms.ModelChoiceField):
    """A model choice whose option values are public ids (DESIGN §4: no integer ids in HTML)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("to_field_name", "public_id")
        super().__init__(*args, **kwargs)


class StaffChoiceField(PublicIdChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class ProgramChoiceField(PublicIdChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        ages = f"{obj.min_age}-{obj.max_age}" if obj.max_age is not None else f"{obj.min_age}+"
        return f"{obj.name} ({obj.site.name}, ages {ages})"


SUBSTANCES = [("", "—"), *TedsSubstance.choices]


def DAYS_USED_30(label: str, help_text: str) -> forms.IntegerField:  # noqa: N802
    return forms.IntegerField(
        label=label, help_text=help_text, required=False, min_value=0, max_value=30,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "size": 3}),
    )  # fmt: skip


class EpisodeCreateForm(ServiceErrorsMixin, forms.Form):
    program = ProgramChoiceField(queryset=Program.objects.none())
    admitted_on = forms.DateField(
        label="Admitted on", required=False, widget=DATE,
        help_text="Leave blank to put the patient on the waitlist.",
    )  # fmt: skip
    referral_date = forms.DateField(required=False, widget=DATE)
    referral_source = forms.ChoiceField(choices=ReferralSource.choices)
    primary_substance = forms.TypedChoiceField(
        label="Primary substance (TEDS)", choices=SUBSTANCES, coerce=int, empty_value=None,
        required=False,
    )  # fmt: skip
    secondary_substance = forms.TypedChoiceField(
        label="Secondary substance (TEDS)", choices=SUBSTANCES, coerce=int, empty_value=None,
        required=False,
    )  # fmt: skip
    mat = forms.BooleanField(label="Medication for addiction treatment (MAT)", required=False)
    primary_counselor = StaffChoiceField(
        label="Counselor", queryset=User.objects.none(), required=False
    )
    baseline_days_used_30 = DAYS_USED_30(
        "Days of use in the 30 days before admission",
        "Any substance; the baseline for the 6-month outcome (TEDS FREQ1). Blank if not asked.",
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = _programs(organization_id)
        self.fields["primary_counselor"].queryset = _staff(organization_id)


class AdmitForm(ServiceErrorsMixin, forms.Form):
    admitted_on = forms.DateField(label="Admission date", widget=DATE)


class HoldForm(ServiceErrorsMixin, forms.Form):
    effective_on = forms.DateField(label="On hold from", widget=DATE)
    reason = forms.CharField(max_length=300)


class ResumeForm(ServiceErrorsMixin, forms.Form):
    effective_on = forms.DateField(label="Resume on", widget=DATE)


class TransferForm(ServiceErrorsMixin, forms.Form):
    to_program = ProgramChoiceField(label="To program", queryset=Program.objects.none())
    effective_on = forms.DateField(label="Effective", widget=DATE)
    reason = forms.CharField(max_length=300, required=False)
    primary_counselor = StaffChoiceField(
        label="New counselor", queryset=User.objects.none(), required=False,
        help_text="Leave blank to keep the current counselor.",
    )  # fmt: skip

    def __init__(self, *args: Any, episode: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        org = episode.organization_id
        self.fields["to_program"].queryset = _programs(org).exclude(pk=episode.program_id)
        self.fields["primary_counselor"].queryset = _staff(org)


class DischargeForm(ServiceErrorsMixin, forms.Form):
    discharged_on = forms.DateField(label="Discharge date", widget=DATE)
    reason = forms.TypedChoiceField(
        label="Reason (TEDS)", choices=[("", "—"), *TedsDischargeReason.choices], coerce=int
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    days_used_30 = DAYS_USED_30(
        "Days of use in the last 30 days", "Any substance (TEDS FREQ1_D). Blank if not asked."
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    service_field_map = {"version": "__all__"}


def today_initial(day: dt.date) -> dict[str, Any]:
    """Date fields of the action forms default to the site's today."""
    return {"admitted_on": day, "effective_on": day, "discharged_on": day}
