"""HTML input parsing for the consent pages. Forms only parse; the services validate and write,
and their errors land on the field of the same name (``ServiceErrorsMixin``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms

from openiop.consent import rules
from openiop.consent.models import Consent, Disclosure
from openiop.core.forms import ServiceErrorsMixin
from openiop.patients.forms import DATE

TEXTAREA = forms.Textarea(attrs={"rows": 3})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
CONSENT_CATEGORIES = list(rules.CATEGORIES)
DISCLOSURE_CATEGORIES = [
    *rules.CATEGORIES,
    (rules.SUD_COUNSELING_NOTES, "SUD counseling notes (never released under these consents)"),
]
TYPED = "typed"


def local_naive(value: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The form parsed the wall-clock time as UTC (TIME_ZONE); read it as the clinic's time."""
    return value.replace(tzinfo=None).replace(tzinfo=tz)


class ConsentForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(
        label="Kind of consent", choices=Consent.Kind.choices, widget=forms.RadioSelect
    )
    disclosing_party = forms.CharField(
        label="Who may disclose", max_length=200,
        help_text="The program or organization allowed to disclose.",
    )  # fmt: skip
    recipient_name = forms.CharField(
        label="Recipient (person)", max_length=200, required=False,
        help_text="Named consents: the person, e.g. 'Officer Dana Reyes'.",
    )  # fmt: skip
    recipient_organization = forms.CharField(
        label="Recipient (organization)", max_length=200, required=False,
        help_text="Named consents: e.g. 'County Adult Probation'.",
    )  # fmt: skip
    recipient_description = forms.CharField(
        label="Recipients (TPO consent)", max_length=300, required=False,
        initial=rules.TPO_RECIPIENT_CLASS,
        help_text="TPO consents name recipients by class.",
    )  # fmt: skip
    purpose = forms.ChoiceField(
        choices=[("", "—"), *Consent.Purpose.choices], required=False,
        help_text="Ignored for a TPO consent (it covers treatment, payment and operations).",
    )  # fmt: skip
    purpose_detail = forms.CharField(label="Purpose, in words", max_length=300, required=False)
    categories = forms.MultipleChoiceField(
        label="Information that may be disclosed", choices=CONSENT_CATEGORIES, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="SUD counseling notes are never part of this consent: they need their own.",
    )  # fmt: skip
    expires_on = forms.DateField(label="Expires on", required=False, widget=DATE)
    expiry_event = forms.CharField(
        label="Or expires on this event", max_length=200, required=False,
        help_text="e.g. 'end of treatment', 'end of probation'; 'none' is allowed for TPO.",
    )  # fmt: skip
    signed_by_name = forms.CharField(label="Signed by (typed name)", max_length=200)
    signer_role = forms.ChoiceField(label="Signer is the", choices=Consent.SignerRole.choices)
    guardian_signed_by_name = forms.CharField(
        label="Parent / guardian signature (typed name)", max_length=200, required=False,
        help_text="Minors: needed where state law does not let the minor consent alone.",
    )  # fmt: skip
    state = forms.CharField(
        label="State (law for minors)", max_length=2, required=False,
        widget=forms.TextInput(attrs={"size": 3}),
    )  # fmt: skip
    signed_at = forms.DateTimeField(label="Signed at", widget=DATETIME)

    def service_kwargs(self, tz: dt.tzinfo) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["signed_at"] = local_naive(data["signed_at"], tz)
        return data


class RevokeForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label="How the patient revoked it", widget=TEXTAREA, required=False, max_length=2000,
        help_text="e.g. 'Signed revocation form handed in at the front desk'.",
    )  # fmt: skip


class ExpiryEventForm(ServiceErrorsMixin, forms.Form):
    happened_on = forms.DateField(label="The event happened on", widget=DATE)


class DisclosureForm(ServiceErrorsMixin, forms.Form):
    """Release records. The recipient is chosen from the consents in force (named recipients),
    or typed for a TPO release; the service decides whether a consent covers it."""

    service_field_map = {"recipient": "recipient_name"}

    recipient_choice = forms.ChoiceField(label="Recipient")
    recipient_name = forms.CharField(
        label="Recipient name", max_length=200, required=False,
        help_text="Typed recipients only (e.g. a treating provider under the TPO consent).",
    )  # fmt: skip
    recipient_organization = forms.CharField(
        label="Recipient organization", max_length=200, required=False
    )
    purpose = forms.ChoiceField(choices=[("", "—"), *Consent.Purpose.choices])
    categories = forms.MultipleChoiceField(
        label="Information to release", choices=DISCLOSURE_CATEGORIES, required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    channel = forms.ChoiceField(
        label="How", choices=[(c.value, c.label) for c in (
            Disclosure.Channel.PRINT, Disclosure.Channel.RELEASE, Disclosure.Channel.EXPORT)],
    )  # fmt: skip

    def __init__(self, *args: Any, consents: Iterable[Consent] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.named = {str(c.public_id): c for c in consents if c.kind != Consent.Kind.TPO}
        choices = [(key, f"{c.recipient_label} (named consent)") for key, c in self.named.items()]
        choices.append((TYPED, "Someone else (type the name below)"))
        self.fields["recipient_choice"].choices = choices

    def recipient(self) -> tuple[str, str]:
        choice = self.cleaned_data["recipient_choice"]
        if choice in self.named:
            c = self.named[choice]
            return c.recipient_name, c.recipient_organization
        return self.cleaned_data["recipient_name"], self.cleaned_data["recipient_organization"]


class BreakGlassForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Nature of the emergency", widget=TEXTAREA, required=False, max_length=2000,
        help_text="Required. What is happening and why you need this record now.",
    )  # fmt: skip
    disclosed_to = forms.CharField(
        label="Records given to (name and affiliation)", max_length=300, required=False,
        help_text="If you pass information to outside medical personnel (42 CFR 2.51).",
    )  # fmt: skip


class BreakGlassFindForm(forms.Form):
    """Exact last name and date of birth: enough to find one patient in an emergency, never a
    list to browse."""

    last_name = forms.CharField(label="Last name", max_length=100)
    date_of_birth = forms.DateField(
        label="Date of birth", widget=forms.DateInput(attrs={"type": "date"})
    )


class ReviewForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(label="Review note", widget=TEXTAREA, required=False, max_length=2000)


class AccountingForm(forms.Form):
    years = forms.TypedChoiceField(
        choices=[(3, "3 years (42 CFR 2.25)"), (6, "6 years (HIPAA)")], coerce=int,
        required=False, empty_value=3,
    )  # fmt: skip
