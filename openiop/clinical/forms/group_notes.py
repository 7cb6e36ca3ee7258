"""HTML input for the group-note screen: the shared narrative and, per attendee card, the four
sections of the individualized part and the picked plan objectives.

The per-attendee fields are named ``p-<patient public id>-<section>`` and
``p-<patient public id>-objectives``. Forms only parse; ``services.group_notes`` validates and
writes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from django import forms

from openiop.clinical.quality import REQUIRED, SECTION_LABELS
from openiop.clinical.selectors.group_notes import GRP_SECTIONS, AttendeeCard
from openiop.clinical.services.group_notes import MAX_LENGTH, SECTION_MAX, PartInput
from openiop.core.forms import ServiceErrorsMixin

SECTION_HELP = {
    "participation": "What they did in group: shared, listened, practised a skill.",
    "response": "How they responded to the topic and the interventions.",
    "progress": "Progress toward the objectives picked below.",
    "risk": "Risk observations: cravings, use, safety, SI/HI.",
}
_PART_FIELD = re.compile(
    r"^p-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-(\w+)$"
)


def posted_patient_keys(data: Any) -> list[str]:
    """Patient public ids named by the posted part fields (so text typed for a patient whose
    card has since left the roster is shown again, not dropped)."""
    keys: list[str] = []
    for name in data or {}:
        match = _PART_FIELD.match(str(name))
        if match and match.group(2) in (*GRP_SECTIONS, "objectives"):
            key = str(uuid.UUID(match.group(1)))
            if key not in keys:
                keys.append(key)
    return keys


def field_name(key: str, section: str) -> str:
    return f"p-{key}-{section}"


class GroupNoteForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    topic = forms.CharField(max_length=MAX_LENGTH["topic"], required=False)
    curriculum_module = forms.CharField(
        max_length=MAX_LENGTH["curriculum_module"], required=False, label="Curriculum module"
    )
    interventions = forms.CharField(
        max_length=MAX_LENGTH["interventions"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you did: e.g. CBT relapse-prevention skills, motivational interviewing.",
    )
    narrative = forms.CharField(
        max_length=MAX_LENGTH["narrative"],
        required=False,
        label="Group narrative",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What happened in the group as a whole. Each attendee's part is on their card.",
    )
    acknowledge_warnings = forms.BooleanField(
        required=False,
        label="I reviewed the quality warnings and sign anyway.",
    )

    def __init__(self, *args: Any, cards: Iterable[AttendeeCard] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cards = list(cards)
        for card in self.cards:
            name = card.patient.display_name
            for section in GRP_SECTIONS:
                label = SECTION_LABELS[section]
                text_field = self.fields[field_name(card.key, section)] = forms.CharField(
                    label=label,
                    required=False,
                    max_length=SECTION_MAX,
                    help_text=SECTION_HELP[section],
                    widget=forms.Textarea(
                        attrs={
                            "rows": 3 if section != "risk" else 2,
                            "aria-label": f"{label} for {name}",
                            "data-section": section,
                            "data-required": "true" if section in REQUIRED else "false",
                        }
                    ),
                )
                text_field.required_to_sign = section in REQUIRED  # type: ignore[attr-defined]
            self.fields[field_name(card.key, "objectives")] = forms.MultipleChoiceField(
                label=f"Plan objectives for {name}",
                required=False,
                choices=[(o.public_id, o.label) for o in card.objectives],
                widget=forms.CheckboxSelectMultiple,
            )

    @classmethod
    def initial_for(cls, group_note: Any, cards: Iterable[AttendeeCard]) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "version": group_note.version,
            "topic": group_note.topic,
            "curriculum_module": group_note.curriculum_module,
            "interventions": group_note.interventions,
            "narrative": group_note.narrative,
        }
        for card in cards:
            for section, text in card.sections.items():
                initial[field_name(card.key, section)] = text
            initial[field_name(card.key, "objectives")] = (
                list(card.part.objectives) if card.part is not None else []
            )
        return initial

    def attach(self) -> None:
        """Give each card its bound fields, for the template."""
        for card in self.cards:
            card.fields = [self[field_name(card.key, s)] for s in GRP_SECTIONS]  # type: ignore[attr-defined]
            card.objective_field = self[field_name(card.key, "objectives")]  # type: ignore[attr-defined]

    def shared(self) -> dict[str, str]:
        return {
            name: self.cleaned_data.get(name) or ""
            for name in ("topic", "curriculum_module", "interventions", "narrative")
        }

    def parts(self) -> dict[str, PartInput]:
        out: dict[str, PartInput] = {}
        for card in self.cards:
            out[card.key] = {
                "sections": {
                    s: self.cleaned_data.get(field_name(card.key, s)) or "" for s in GRP_SECTIONS
                },
                "objectives": list(self.cleaned_data.get(field_name(card.key, "objectives")) or []),
            }
        return out

    def part_errors(self) -> dict[str, list[str]]:
        """Field errors of each card's fields, by patient public id."""
        out: dict[str, list[str]] = {}
        for card in self.cards:
            for section in (*GRP_SECTIONS, "objectives"):
                for error in self.errors.get(field_name(card.key, section), []):
                    label = SECTION_LABELS.get(section, "Objectives")
                    out.setdefault(card.key, []).append(f"{label}: {error}")
        return out


class AmendForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason for the amendment",
        error_messages={"required": "Give the reason for the amendment."},
    )
    add_patients = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Add an attendee's part"
    )
    correct_patients = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Correct an attendee's part"
    )

    def __init__(
        self,
        *args: Any,
        can_add: Iterable[tuple[str, str]] = (),
        can_correct: Iterable[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["add_patients"].choices = list(can_add)  # type: ignore[attr-defined]
        self.fields["correct_patients"].choices = list(can_correct)  # type: ignore[attr-defined]
