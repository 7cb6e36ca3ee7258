"""HTML input parsing: one radio group per item, built from the instrument definition."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.core.forms import ServiceErrorsMixin
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.instruments.base import Instrument


class ResponseForm(ServiceErrorsMixin, forms.Form):
    """Field names are the items' linkIds, so service errors land on the right radio group."""

    def __init__(
        self, *args: Any, instrument: Instrument, ask_sex: bool = True, **kwargs: Any
    ) -> None:
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
        if ask_sex and instrument.key in ("auditc", "audit"):
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


class InvitationForm(ServiceErrorsMixin, forms.Form):
    instrument = forms.ChoiceField(label="Questionnaire", choices=registry.choices())
    hours = forms.IntegerField(
        label="Valid for (hours)",
        min_value=1,
        max_value=14 * 24,
        help_text="The link works once, until it expires or you revoke it.",
    )


class ScheduleForm(ServiceErrorsMixin, forms.Form):
    instrument = forms.ChoiceField(label="Questionnaire", choices=registry.choices())
    at_admission = forms.BooleanField(label="At admission", required=False, initial=True)
    every_n_days = forms.IntegerField(
        label="Every N days", required=False, min_value=1, max_value=365,
        help_text="Leave empty for no repeat.",
    )  # fmt: skip
    at_discharge = forms.BooleanField(label="At discharge", required=False)


class OutcomeForm(forms.Form):
    instrument = forms.ChoiceField(label="Questionnaire")
    start = forms.DateField(label="Discharged from", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="to", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, instruments: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = [(k, registry.get(k).short_title) for k in instruments]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end of the range is before its start.")
            elif (end - start).days > 3 * 366:
                self.add_error("end", "Choose a range of at most three years.")
        return data
