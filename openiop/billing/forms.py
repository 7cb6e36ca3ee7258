"""HTML input parsing for authorizations. Field names match the service arguments, so a service
``ValidationError`` lands on the field the user typed into."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from openiop.accounts.models import User
from openiop.billing.charge_capture import check_period
from openiop.billing.models import (
    Authorization,
    BillingProfile,
    Certification,
    Coverage,
    Payer,
    PayerKind,
)
from openiop.billing.services import EDITABLE_STATUSES, MAX_UNITS
from openiop.core.forms import ServiceErrorsMixin
from openiop.organizations.models import Program
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


# --- billing screen, claims, export (issue #8) --------------------------------------------------


def _program_choices(organization_id: int) -> Any:
    return Program.objects.for_org(organization_id).filter(is_active=True).order_by("name")


def _payer_choices(organization_id: int) -> Any:
    return Payer.objects.for_org(organization_id).order_by("name")


class _PeriodMixin(forms.Form):
    start = forms.DateField(label="From", widget=DATE)
    end = forms.DateField(label="To (inclusive)", widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            problem = check_period(start, end)
            if problem:
                self.add_error("end", problem)
        return data


class BillingDayForm(_PeriodMixin):
    """GET filters of the billing screen: a program and a period (a week by default)."""

    program = forms.ModelChoiceField(queryset=None, required=False, empty_label="All programs")  # type: ignore[arg-type]

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = _program_choices(organization_id)  # type: ignore[attr-defined]
        self.fields["program"].to_field_name = "public_id"  # type: ignore[attr-defined]


class ClaimBuildForm(BillingDayForm):
    payer = forms.ModelChoiceField(queryset=None, required=False, empty_label="All payers")  # type: ignore[arg-type]

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, organization_id=organization_id, **kwargs)
        self.fields["payer"].queryset = _payer_choices(organization_id)  # type: ignore[attr-defined]
        self.fields["payer"].to_field_name = "public_id"  # type: ignore[attr-defined]


class ExportForm(ServiceErrorsMixin, _PeriodMixin):
    format = forms.ChoiceField(
        choices=[("837p", "837P professional (X12)"), ("837i", "837I institutional (X12)"),
                 ("csv", "CSV for clearinghouses")],
    )  # fmt: skip
    payer = forms.ModelChoiceField(queryset=None, required=False, empty_label="All payers")  # type: ignore[arg-type]

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = _payer_choices(organization_id)  # type: ignore[attr-defined]
        self.fields["payer"].to_field_name = "public_id"  # type: ignore[attr-defined]


class ClaimActionForm(ServiceErrorsMixin, forms.Form):
    ACTIONS = [
        ("ready", "Mark ready to send"),
        ("draft", "Back to draft"),
        ("void", "Void (never sent)"),
        ("paid", "Record payment"),
        ("denied", "Record denial"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    amount = forms.DecimalField(
        label="Amount paid", max_digits=11, decimal_places=2, min_value=0, required=False
    )
    payer_claim_number = forms.CharField(
        label="Payer's claim number", max_length=50, required=False
    )
    reason = forms.CharField(max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if action == "paid" and data.get("amount") is None:
            self.add_error("amount", "Enter the amount paid.")
        if action in ("denied", "void") and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give the reason.")
        return data


class ClaimBulkForm(forms.Form):
    action = forms.ChoiceField(choices=[("ready", "Mark ready"), ("draft", "Back to draft")])
    claims = forms.CharField(widget=forms.MultipleHiddenInput, required=False)


class ClaimCorrectForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label="What the correction changes", max_length=300)
    original_claim_reference = forms.CharField(
        label="Payer's claim number of the original", max_length=50, required=False
    )


# --- set-up forms -------------------------------------------------------------------------------


class JSONText(forms.JSONField):
    """A JSON object typed in a textarea; blank = {}."""

    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "mono"})

    def to_python(self, value: Any) -> Any:
        if value in (None, "") or (isinstance(value, str) and not value.strip()):
            return {}
        data = super().to_python(value)
        if not isinstance(data, dict):
            raise forms.ValidationError('Enter a JSON object, e.g. {"H0015": "185.00"}.')
        return data


class PayerForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=PayerKind.choices)
    payer_id = forms.CharField(label="Payer id", max_length=80, required=False)
    claim_filing_indicator = forms.CharField(
        label="Claim filing code", max_length=2, initial="CI",
        help_text="CI commercial, MC Medicaid, MA Medicare Part A, MB Part B, BL Blue Cross",
    )  # fmt: skip
    billing_model = forms.ChoiceField(choices=Payer.BillingModel.choices)
    claim_type = forms.ChoiceField(choices=Payer.ClaimType.choices)
    fee_schedule = JSONText(
        required=False, help_text='Charge per unit by code, e.g. {"H0015": "185.00"}'
    )
    rules_overrides = JSONText(
        label="Rule changes", required=False,
        help_text='e.g. {"per_diem_min_minutes": 180, "video_modifier": "GT"}; see the guide',
    )  # fmt: skip
    group_size_cap = forms.IntegerField(
        label="Largest group paid", min_value=1, max_value=100, required=False
    )
    active = forms.BooleanField(required=False, initial=True)

    @classmethod
    def initial_for(cls, payer: Any) -> dict[str, Any]:
        return {name: getattr(payer, name) for name in cls.base_fields}


class CoverageForm(ServiceErrorsMixin, forms.Form):
    payer = forms.ModelChoiceField(queryset=None)  # type: ignore[arg-type]
    member_id = forms.CharField(label="Member id", max_length=80, required=False)
    group_number = forms.CharField(max_length=50, required=False)
    priority = forms.TypedChoiceField(choices=Coverage.Priority.choices, coerce=int, initial=1)
    subscriber_relationship = forms.ChoiceField(
        label="Patient is the subscriber's", choices=Coverage.Relationship.choices, initial="self"
    )
    subscriber_first_name = forms.CharField(max_length=100, required=False)
    subscriber_last_name = forms.CharField(max_length=100, required=False)
    subscriber_date_of_birth = forms.DateField(widget=DATE, required=False)
    subscriber_sex = forms.ChoiceField(choices=Coverage.Sex.choices, initial="U")
    effective_on = forms.DateField(label="Coverage starts", widget=DATE, required=False)
    terminates_on = forms.DateField(label="Last covered day", widget=DATE, required=False)
    active = forms.BooleanField(label="Eligibility verified, active", required=False, initial=True)
    copay = forms.DecimalField(label="Copay per day ($)", max_digits=8, decimal_places=2,
                               min_value=0, required=False)  # fmt: skip
    coinsurance_percent = forms.DecimalField(
        label="Coinsurance (%)", max_digits=5, decimal_places=2, min_value=0, max_value=100,
        required=False,
    )  # fmt: skip
    deductible = forms.DecimalField(max_digits=9, decimal_places=2, min_value=0, required=False)
    deductible_met = forms.DecimalField(
        label="Deductible met so far", max_digits=9, decimal_places=2, min_value=0,
        required=False,
    )  # fmt: skip
    out_of_pocket_max = forms.DecimalField(
        label="Out-of-pocket maximum", max_digits=9, decimal_places=2, min_value=0,
        required=False,
    )  # fmt: skip
    out_of_pocket_met = forms.DecimalField(
        label="Out-of-pocket met so far", max_digits=9, decimal_places=2, min_value=0,
        required=False,
    )  # fmt: skip

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = _payer_choices(organization_id).filter(active=True)  # type: ignore[attr-defined]
        self.fields["payer"].to_field_name = "public_id"  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for key in ("deductible_met", "out_of_pocket_met"):
            if data.get(key) is None:
                data[key] = Decimal(0)
        return data

    @classmethod
    def initial_for(cls, coverage: Any) -> dict[str, Any]:
        data = {name: getattr(coverage, name) for name in cls.base_fields if name != "payer"}
        data["payer"] = coverage.payer.public_id
        return data


class CertificationForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(choices=Certification.Kind.choices)
    signed_on = forms.DateField(label="Signed on", widget=DATE)
    signed_by_name = forms.CharField(label="Physician", max_length=200)


class BillingProfileForm(ServiceErrorsMixin, forms.ModelForm):
    class Meta:
        model = BillingProfile
        fields = [
            "billing_name", "npi", "tax_id", "taxonomy", "address_line1", "address_line2",
            "city", "state", "zip_code", "submitter_id", "contact_name", "contact_phone",
            "contact_email", "receiver_name", "receiver_id", "usage_indicator",
            "facility_type_code", "attending_provider", "claim_prefix", "price_per_hour",
            "residential_daily_rate",
        ]  # fmt: skip

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["attending_provider"]
        field.queryset = (
            User.objects.filter(  # type: ignore[attr-defined]
                organization_id=organization_id, is_active=True
            )
            .exclude(npi="")
            .order_by("last_name", "first_name")
        )
        field.to_field_name = "public_id"  # type: ignore[attr-defined]  # no integer ids in pages
        doctor = self.instance.attending_provider if self.instance.pk else None
        if doctor is not None:
            self.initial["attending_provider"] = doctor.public_id

    def _post_clean(self) -> None:  # the service validates and saves; no model validation here
        pass


class EstimateForm(forms.Form):
    coverage = forms.ChoiceField(label="Pay with", choices=())
    weeks = forms.IntegerField(min_value=1, max_value=52)
    hours_per_week = forms.DecimalField(
        label="Hours a week", min_value=Decimal("0.5"), max_value=60, decimal_places=1
    )
    days_per_week = forms.IntegerField(label="Days a week", min_value=1, max_value=7)
    price_per_hour = forms.DecimalField(
        label="Price per hour ($)", min_value=0, max_digits=8, decimal_places=2, required=False,
        help_text="Blank: the payer's day rate, or the clinic's list price",
    )  # fmt: skip

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coverage"].choices = choices  # type: ignore[attr-defined]
