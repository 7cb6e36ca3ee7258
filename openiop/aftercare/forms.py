"""HTML input parsing for aftercare pages. Field names match the services' argument names, so a
service ``ValidationError`` lands on the field the user typed into; choices of rows (programs,
components) use public ids (DESIGN §4: no integer ids in HTML)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone

from openiop.aftercare.models import (
    AftercareComponent,
    ComponentKind,
    EngagementEntry,
    FollowUpAttempt,
)
from openiop.aftercare.selectors import WORKLIST_FILTERS
from openiop.aftercare.services import (
    ARRESTS_MAX,
    CLOSE_REASONS,
    EMPLOYMENT_CHOICES,
    GAD7_MAX,
    LIVING_CHOICES,
    PHQ9_MAX,
    ComponentSpec,
)
from openiop.core.forms import ServiceErrorsMixin
from openiop.enrollment.models import Episode, TedsSubstance
from openiop.organizations.models import Program
from openiop.patients.forms import DATE

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
TEXTAREA = forms.Textarea(attrs={"rows": 3, "cols": 60})
NUMBER = {"inputmode": "numeric", "size": 3}


def _programs(organization_id: int) -> list[Program]:
    return list(Program.objects.for_org(organization_id).select_related("site").order_by("name"))


def _program_choices(programs: Sequence[Program], blank: str) -> list[tuple[str, str]]:
    return [("", blank), *[(str(p.public_id), p.name) for p in programs]]


def _yes_no(label: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, required=False, empty_value=None, widget=forms.RadioSelect,
        choices=[("", "Not answered"), ("yes", "Yes"), ("no", "No")],
        coerce=lambda v: v == "yes",
    )  # fmt: skip


def _code(label: str, choices: Sequence[tuple[int, str]]) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, required=False, empty_value=None, coerce=int,
        choices=[("", "Not answered"), *choices],
    )  # fmt: skip


def _days(label: str, top: int = 30, help_text: str = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=0, max_value=top, help_text=help_text,
        widget=forms.NumberInput(attrs=NUMBER),
    )  # fmt: skip


class WorklistFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Show", choices=list(WORKLIST_FILTERS.items()), required=False, initial="open"
    )
    program = forms.ChoiceField(label="Program", required=False)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programs = {str(p.public_id): p for p in _programs(organization_id)}
        self.fields["program"].choices = _program_choices(  # type: ignore[attr-defined]
            list(self.programs.values()), "All programs"
        )

    def values(self) -> tuple[str, Program | None]:
        """(status, program) from a valid form; the defaults for anything unreadable."""
        if not self.is_valid():
            return "open", None
        status = self.cleaned_data["status"] or "open"
        return status, self.programs.get(self.cleaned_data["program"])


# --- the plan ------------------------------------------------------------------------------------


class PlanForm(ServiceErrorsMixin, forms.Form):
    service_field_map = {"episode": "__all__"}

    starts_on = forms.DateField(
        label="Aftercare starts on", widget=DATE, help_text="Usually the day after discharge."
    )
    notes = forms.CharField(label="Plan notes", required=False, widget=TEXTAREA)


class ComponentForm(ServiceErrorsMixin, forms.Form):
    """One component. On the plan's start page the rows are optional: a row left with no kind
    is skipped."""

    kind = forms.ChoiceField(label="Kind", choices=[("", "—"), *ComponentKind.choices])
    provider = forms.CharField(
        label="Provider", max_length=200, required=False,
        help_text="Who runs it: a clinic, a therapist, a meeting group.",
    )  # fmt: skip
    schedule = forms.CharField(
        label="Schedule", max_length=200, required=False, help_text="e.g. Tuesdays 6 pm"
    )
    starts_on = forms.DateField(
        label="Starts on", widget=DATE, required=False, help_text="Empty: the plan's start."
    )
    program = forms.ChoiceField(
        label="Our aftercare group",
        required=False,
        help_text="If this is a group we run, attendance there counts as engagement.",
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programs = {str(p.public_id): p for p in _programs(organization_id)}
        self.fields["program"].choices = _program_choices(  # type: ignore[attr-defined]
            list(self.programs.values()), "— (an outside provider)"
        )

    def spec(self) -> ComponentSpec:
        d = self.cleaned_data
        return ComponentSpec(
            kind=d["kind"], provider=d["provider"], schedule=d["schedule"],
            starts_on=d["starts_on"], program=self.programs.get(d["program"]),
        )  # fmt: skip

    def service_kwargs(self) -> dict[str, Any]:
        s = self.spec()
        return {
            "kind": s.kind, "provider": s.provider, "schedule": s.schedule,
            "starts_on": s.starts_on, "program": s.program,
        }  # fmt: skip


class BaseComponentFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def specs(self) -> list[ComponentSpec]:
        return [f.spec() for f in self.forms if f.has_changed() and f.cleaned_data.get("kind")]


ComponentFormSet = forms.formset_factory(
    ComponentForm, formset=BaseComponentFormSet, extra=3, max_num=10, validate_max=True
)


class PlanEditForm(ServiceErrorsMixin, forms.Form):
    service_field_map = {"version": "__all__"}

    version = forms.IntegerField(widget=forms.HiddenInput)
    ends_on = forms.DateField(label="Plan ends on", widget=DATE)
    notes = forms.CharField(label="Plan notes", required=False, widget=TEXTAREA)


class ComponentEndForm(ServiceErrorsMixin, forms.Form):
    ends_on = forms.DateField(label="Last day", widget=DATE)


class EngagementForm(ServiceErrorsMixin, forms.Form):
    component = forms.ChoiceField(label="Component")
    occurred_on = forms.DateField(label="Date", widget=DATE)
    source = forms.ChoiceField(
        label="Reported by", choices=EngagementEntry.Source.choices,
        initial=EngagementEntry.Source.STAFF,
    )  # fmt: skip
    note = forms.CharField(
        label="Note", max_length=300, required=False, help_text="e.g. attended Tuesday meeting"
    )

    def __init__(self, *args: Any, components: Sequence[AftercareComponent], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.components = {str(c.public_id): c for c in components}
        self.fields["component"].choices = [  # type: ignore[attr-defined]
            (key, str(c)) for key, c in self.components.items()
        ]

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "component": self.components[d["component"]],
            "occurred_on": d["occurred_on"], "source": d["source"], "note": d["note"],
        }  # fmt: skip


# --- follow-ups ----------------------------------------------------------------------------------


class AttemptForm(ServiceErrorsMixin, forms.Form):
    """``attempted_at`` is typed in the site's local time."""

    attempted_at = forms.DateTimeField(label="When", widget=DATETIME)
    channel = forms.ChoiceField(
        label="How", choices=FollowUpAttempt.Channel.choices,
        initial=FollowUpAttempt.Channel.PHONE,
    )  # fmt: skip
    result = forms.ChoiceField(
        label="What happened", choices=FollowUpAttempt.Result.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(label="Note", max_length=300, required=False)

    def __init__(self, *args: Any, tz: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz

    def clean_attempted_at(self) -> dt.datetime:
        value: dt.datetime = self.cleaned_data["attempted_at"]
        # Django made the typed wall-clock time aware in the current time zone (UTC); staff
        # typed it in the site's.
        if timezone.is_aware(value):
            value = timezone.make_naive(value)
        return value.replace(tzinfo=self.tz)


class ContactForm(ServiceErrorsMixin, forms.Form):
    """The structured follow-up contact. The episode's primary and secondary substances are
    listed by name; another substance can be added with its days."""

    service_field_map = {"version": "__all__", "substance_days": "__all__"}

    version = forms.IntegerField(widget=forms.HiddenInput)
    contacted_on = forms.DateField(label="Contact date", widget=DATE)
    any_use_since_last = _yes_no("Any alcohol or drug use since the last contact (or discharge)?")
    days_used_30 = _days("Days of any use, past 30 days", help_text="0-30; any substance.")
    other_substance = forms.TypedChoiceField(
        label="Another substance", required=False, empty_value=None, coerce=int,
        choices=[("", "—"), *[(c, label) for c, label in TedsSubstance.choices if c != 1]],
    )  # fmt: skip
    other_days = _days("Days of that substance, past 30 days")
    employment = _code("Employment or school", EMPLOYMENT_CHOICES)
    living = _code("Living arrangement", LIVING_CHOICES)
    arrests_30 = _days("Arrests in the past 30 days", ARRESTS_MAX)
    in_treatment = _yes_no("Currently in treatment (any kind)?")
    phq9 = _days("PHQ-9 total", PHQ9_MAX, help_text=f"0-{PHQ9_MAX}")
    gad7 = _days("GAD-7 total", GAD7_MAX, help_text=f"0-{GAD7_MAX}")
    notes = forms.CharField(label="Notes", required=False, widget=TEXTAREA)

    def __init__(self, *args: Any, episode: Episode, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.substance_codes = [
            code
            for code in dict.fromkeys([episode.primary_substance, episode.secondary_substance])
            if code and code != TedsSubstance.NONE
        ]
        listed = {}
        for code in self.substance_codes:
            listed[f"sub_{code}"] = _days(
                f"Days of {TedsSubstance(code).label.lower()}, past 30 days"
            )
        # The listed substances right after the overall days.
        order = list(self.fields)
        at = order.index("days_used_30") + 1
        fields = {name: self.fields[name] for name in order[:at]}
        fields.update(listed)
        fields.update({name: self.fields[name] for name in order[at:]})
        self.fields = fields

    def substance_fields(self) -> list[Any]:
        return [self[f"sub_{code}"] for code in self.substance_codes]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        other, days = data.get("other_substance"), data.get("other_days")
        if other is not None and days is None:
            self.add_error("other_days", "Enter the days for that substance, or clear it.")
        if other is None and days is not None:
            self.add_error("other_substance", "Choose which substance the days are for.")
        if other is not None and other in self.substance_codes:
            self.add_error("other_substance", "That substance is already listed above.")
        return data

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        substance_days: dict[str, int | None] = {
            str(code): d[f"sub_{code}"] for code in self.substance_codes
        }
        if d["other_substance"] is not None:
            substance_days[str(d["other_substance"])] = d["other_days"]
        return {
            "contacted_on": d["contacted_on"],
            "any_use_since_last": d["any_use_since_last"],
            "days_used_30": d["days_used_30"],
            "substance_days": {k: v for k, v in substance_days.items() if v is not None},
            "employment": d["employment"],
            "living": d["living"],
            "arrests_30": d["arrests_30"],
            "in_treatment": d["in_treatment"],
            "phq9": d["phq9"],
            "gad7": d["gad7"],
            "notes": d["notes"],
            "expected_version": d["version"],
        }


class CloseForm(ServiceErrorsMixin, forms.Form):
    reason = forms.ChoiceField(
        label="Why", choices=list(CLOSE_REASONS.items()), widget=forms.RadioSelect
    )
    note = forms.CharField(label="Note", max_length=300, required=False)
