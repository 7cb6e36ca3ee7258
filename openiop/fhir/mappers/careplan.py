"""CarePlan (US Core, category assess-plan) from a ``clinical.TreatmentPlan``.

``to_fhir(plan, *, ctx, problems, goals, interventions)``; load the plan with
``select_related("patient", "clinician_signed_by", "supersedes")`` and pass:

* ``problems``: its ``PlanProblem`` rows -> ``addresses`` (Condition references);
* ``goals``: its ``PlanGoal`` rows -> ``goal`` (Goal references);
* ``interventions``: its ``PlanIntervention`` rows loaded with
  ``select_related("objective__goal", "responsible")`` -> ``activity``.

No query runs inside. Status: draft -> draft, active -> active, superseded -> revoked (a signed
revision replaced it; the revision's ``replaces`` points back). ``period.start`` = effective date;
the activities' status follows the plan (not-started / in-progress / stopped). The plan's free-text
strengths and barriers are not mapped (minimum necessary).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openiop.fhir.mappers.common import (
    OPENIOP_ID_SYSTEM,
    MapContext,
    fhir_date,
    instant,
    meta,
    narrative,
    ref,
)

CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
INTERVENTIONS = "urn:openiop:interventions"
STATUS = {"draft": "draft", "active": "active", "superseded": "revoked"}
ACTIVITY_STATUS = {"draft": "not-started", "active": "in-progress", "superseded": "stopped"}


def _activity(intervention: Any, status: str) -> dict[str, Any]:
    label = intervention.get_modality_display()
    detail: dict[str, Any] = {
        "code": {
            "coding": [{"system": INTERVENTIONS, "code": intervention.modality, "display": label}],
            "text": label,
        },
        "goal": [ref("Goal", intervention.objective.goal.public_id)],
        "status": status,
    }
    if intervention.responsible is not None:
        detail["performer"] = [ref("Practitioner", intervention.responsible.public_id)]
    words = [w for w in (intervention.description, intervention.frequency) if w]
    if words:
        detail["description"] = "; ".join(words)
    return {"detail": detail}


def to_fhir(
    plan: Any,
    *,
    ctx: MapContext,  # noqa: ARG001
    problems: Sequence[Any] = (),
    goals: Sequence[Any] = (),
    interventions: Sequence[Any] = (),
) -> dict[str, Any]:
    rid = str(plan.public_id)
    status = STATUS.get(plan.status, "unknown")
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": rid,
        "meta": meta(plan),
        "text": narrative(f"Treatment plan version {plan.version} ({plan.get_status_display()})"),
        "identifier": [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{rid}"}],
        "status": status,
        "intent": "plan",
        "category": [{"coding": [{"system": CATEGORY, "code": "assess-plan"}]}],
        "title": f"Treatment plan v{plan.version}",
        "subject": ref("Patient", plan.patient.public_id),
        "created": instant(plan.created_at),
    }
    if plan.supersedes is not None:
        resource["replaces"] = [ref("CarePlan", plan.supersedes.public_id)]
    if plan.effective_on is not None:
        resource["period"] = {"start": fhir_date(plan.effective_on)}
    if plan.clinician_signed_by is not None:
        resource["author"] = ref("Practitioner", plan.clinician_signed_by.public_id)
    if problems:
        resource["addresses"] = [ref("Condition", p.public_id) for p in problems]
    if goals:
        resource["goal"] = [ref("Goal", g.public_id) for g in goals]
    if interventions:
        activity_status = ACTIVITY_STATUS.get(plan.status, "unknown")
        resource["activity"] = [_activity(i, activity_status) for i in interventions]
    return resource
