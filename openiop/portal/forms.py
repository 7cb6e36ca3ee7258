from __future__ import annotations

import copy
from typing import Any

from django import forms

from openiop.core.forms import ServiceErrorsMixin


class AcceptForm(ServiceErrorsMixin, forms.Form):
    username = forms.CharField(
        label="Choose a user name", max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )  # fmt: skip
    password = forms.CharField(
        label="Choose a password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; not a common password.",
    )
    password_again = forms.CharField(
        label="Password again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class InviteForm(forms.Form):
    guardian = forms.CharField(required=False, widget=forms.HiddenInput)


class ConsentRequestForm(ServiceErrorsMixin, forms.Form):
    """The terms of a consent staff send to the portal: the staff consent form without the
    signature fields (the patient signs in the portal)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from openiop.consent.forms import ConsentForm
        from openiop.portal.services import TERMS_FIELDS

        super().__init__(*args, **kwargs)
        base = ConsentForm()
        for name in TERMS_FIELDS:
            self.fields[name] = copy.deepcopy(base.fields[name])
            if name in base.initial:
                self.initial.setdefault(name, base.initial[name])

    def terms(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["categories"] = list(data.get("categories") or [])
        return data


class ConsentSignForm(ServiceErrorsMixin, forms.Form):
    typed_name = forms.CharField(
        label="Type your full name to sign", max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )  # fmt: skip
    agreed = forms.BooleanField(
        label="I have read this consent, and I agree to it.", required=False
    )
