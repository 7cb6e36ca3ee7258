"""HTML input parsing: one radio group per item, built from the instrument definition."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.core.forms import ServiceErrorsMixin
from openiop.questionnaires.instruments.base import Instrument


class ResponseForm(ServiceErrorsMixin, forms.Form):
    """Field names are the items' linkIds, so service errors land on the right radio group."""

    def __init__(self, *args: Any, instrument: Instrument, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in instrument.items:
            self.fields[item.link_id] = forms.TypedChoiceField(
                label=f"{item.label}. {item.text}",
                choices=[(o.code, o.text) for o in item.options],
                coerce=int,
                widget=forms.RadioSelect,
                help_text=item.help_text,
                error_messages={"required": f"Answer item {item.label}."},
            )
        if instrument.key in ("auditc", "audit"):
            self.fields["sex"] = forms.ChoiceField(
                label="Sex (for the AUDIT-C cut-off)",
                choices=[("", "As recorded on the patient"), ("male", "Male"),
                         ("female", "Female")],
                required=False,
            )  # fmt: skip

    def item_fields(self) -> list[forms.BoundField]:
        return [self[item.link_id] for item in self.instrument.items]

    def answers(self) -> dict[str, int]:
        return {item.link_id: self.cleaned_data[item.link_id] for item in self.instrument.items}


class FollowUpForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label="Follow-up",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Who was contacted, what was assessed, what was done (e.g. safety plan, "
        "referral for evaluation).",
        max_length=4000,
    )
