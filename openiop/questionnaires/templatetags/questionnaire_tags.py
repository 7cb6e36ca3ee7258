"""``{% attendee_scores scores_by_patient patient %}``: the latest PHQ-9 / GAD-7 / BAM of one
attendee, from the mapping built by ``selectors.latest_scores_for_patients``."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("questionnaires/_attendee_scores.html")
def attendee_scores(scores_by_patient: dict[int, Any] | None, patient: Any) -> dict[str, Any]:
    scores = (scores_by_patient or {}).get(getattr(patient, "pk", patient), [])
    return {"scores": scores}
