"""HTML input for individual, family, medication and SUD counseling notes.

Times are typed as the site's wall clock (a date and two times) and turned into aware datetimes
in the program's site time zone; the services store UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from openiop.clinical.models import FREE_FORMATS, SECTIONS, Note
from openiop.core.forms import ServiceErrorsMixin
from openiop.scheduling.services import local_datetime

SECTION_HELP = {
    "data": "What the patient said and what you observed.",
    "assessment": "Your clinical reading of it: progress, risk, response to treatment.",
    "plan": "What happens next: homework, next session, referrals.",
    "behavior": "What the patient said and did.",
    "intervention": "What you did (method, technique).",
    "response": "How the patient responded to it.",
    "subjective": "The patient's report in their own words.",
    "objective": "What you observed and measured.",
}
# Kinds written on this page; the individualized part of a group note has its own screen.
PAGE_KINDS = (
    Note.Kind.INDIVIDUAL,
    Note.Kind.FAMILY,
    Note.Kind.MEDICATION,
    Note.Kind.SUD_COUNSELING,
)
MAX_SECTION = 20000


class _TimesMixin(forms.Form):
    """date + start + end (site-local) -> ``started_at`` / ``ended_at`` in ``cleaned_data``."""

    modality = forms.ChoiceField(choices=Note.Modality.choices, initial=Note.Modality.IN_PERSON)
    day = forms.DateField(
        label="Date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    start_time = forms.TimeField(
        label="Start",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    end_time = forms.TimeField(
        label="End", required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )

    tz: Any = dt.UTC

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        day, start, end = data.get("day"), data.get("start_time"), data.get("end_time")
        data["started_at"] = data["ended_at"] = None
        given = [v is not None for v in (day, start, end)]
        if any(given) and not all(given) and not self.errors:
            raise ValidationError("Give the date, the start and the end time (or none of them).")
        if all(given):
            started = local_datetime(day, start, self.tz)
            ended = local_datetime(day, end, self.tz)
            if ended <= started:
                self.add_error("end_time", "The end must be after the start.")
            data["started_at"], data["ended_at"] = started, ended
        return data

    @staticmethod
    def times_initial(note: Note, tz: Any) -> dict[str, Any]:
        if note.started_at is None or note.ended_at is None:
            return {}
        start = note.started_at.astimezone(tz)
        end = note.ended_at.astimezone(tz)
        return {"day": start.date(), "start_time": start.time(), "end_time": end.time()}


class NoteCreateForm(ServiceErrorsMixin, _TimesMixin):
    service_field_map = {"started_at": "start_time", "ended_at": "end_time"}

    kind = forms.ChoiceField(choices=[])
    format = forms.ChoiceField(
        choices=[(f.value, f.label) for f in FREE_FORMATS],
        help_text="Your program's format is preselected.",
    )
    field_order = ["kind", "format", "modality", "day", "start_time", "end_time"]

    def __init__(self, *args: Any, tz: Any, allow_sud: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz
        kinds = [k for k in PAGE_KINDS if allow_sud or k != Note.Kind.SUD_COUNSELING]
        self.fields["kind"].choices = [(k.value, k.label) for k in kinds]


class NoteEditForm(ServiceErrorsMixin, _TimesMixin):
    """The draft: modality, times and one text box per section of the note's format."""

    service_field_map = {"started_at": "start_time", "ended_at": "end_time"}

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    time_fields = ("modality", "day", "start_time", "end_time")

    def __init__(
        self, *args: Any, note: Note, tz: Any, autosave_url: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz
        self.note = note
        for name in SECTIONS[note.format]:
            self.fields[f"s_{name}"] = forms.CharField(
                label=name.title(),
                required=False,
                max_length=MAX_SECTION,
                strip=False,
                help_text=SECTION_HELP.get(name, ""),
                widget=forms.Textarea(attrs={"rows": 5}),
            )
        if autosave_url:
            # htmx: text boxes save after 2 s without typing and when they lose focus; the
            # other fields when they change. Target, swap and queueing are set on the form.
            for name, field in self.fields.items():
                if name == "version":
                    continue
                trigger = "keyup changed delay:2s, blur" if name.startswith("s_") else "change"
                field.widget.attrs.update({"hx-post": autosave_url, "hx-trigger": trigger})

    @classmethod
    def initial_for(cls, note: Note, tz: Any) -> dict[str, Any]:
        return {
            "version": note.version,
            "modality": note.modality,
            **cls.times_initial(note, tz),
            **{f"s_{name}": note.sections.get(name, "") for name in SECTIONS[note.format]},
        }

    def section_fields(self) -> list[Any]:
        return [self[f"s_{name}"] for name in SECTIONS[self.note.format]]

    def sections(self) -> dict[str, str]:
        return {
            name: self.cleaned_data.get(f"s_{name}") or "" for name in SECTIONS[self.note.format]
        }

    def raw_sections(self) -> dict[str, str]:
        """What was typed, even when the form is invalid (kept on a conflict or an error)."""
        return {name: self.data.get(f"s_{name}", "") for name in SECTIONS[self.note.format]}


class NoteSignForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class NoteAmendForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Reason for the amendment",
        max_length=1000,
        help_text="What the amendment adds or corrects, e.g. 'late entry: referral omitted'.",
        widget=forms.TextInput(attrs={"size": 60}),
    )

    def __init__(self, *args: Any, note: Note, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.note = note
        for name in SECTIONS[note.format]:
            self.fields[f"s_{name}"] = forms.CharField(
                label=name.title(),
                required=False,
                max_length=MAX_SECTION,
                strip=False,
                help_text="Only what you add or correct; leave the rest empty.",
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def sections(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[f"s_{name}"]
            for name in SECTIONS[self.note.format]
            if (self.cleaned_data.get(f"s_{name}") or "").strip()
        }


class CosignForm(ServiceErrorsMixin, forms.Form):
    comment = forms.CharField(
        label="Comment (optional)", required=False, max_length=2000, widget=forms.TextInput()
    )
