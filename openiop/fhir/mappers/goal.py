"""Goal from a treatment plan goal (``clinical.PlanGoal``) and its objectives.

``to_fhir(goal, *, ctx, objectives)``; load the goal with
``select_related("problem__plan__patient")`` and pass its ``PlanObjective`` rows
(``goal.objectives.all()`` prefetched, in position order). No query runs inside.

* ``description.text`` = the goal in the patient's own words; ``expressedBy`` = the patient.
* ``lifecycleStatus`` from the plan: draft -> proposed, active -> active, superseded -> cancelled
  (the revision carries its own goal rows).
* One ``target`` per objective: ``measure.text`` = the measurable objective, ``dueDate`` = its
  target date when set.
* ``addresses`` = the problem's Condition; ``startDate`` = the plan's effective date.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, fhir_date, meta, ref

LIFECYCLE = {"draft": "proposed", "active": "active", "superseded": "cancelled"}


def _target(objective: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"measure": {"text": objective.text}}
    if objective.target_on is not None:
        out["dueDate"] = fhir_date(objective.target_on)
    return out


def to_fhir(goal: Any, *, ctx: MapContext, objectives: Sequence[Any] = ()) -> dict[str, Any]:  # noqa: ARG001
    plan = goal.problem.plan
    rid = str(goal.public_id)
    patient = ref("Patient", plan.patient.public_id)
    resource: dict[str, Any] = {
        "resourceType": "Goal",
        "id": rid,
        "meta": meta(goal),
        "identifier": [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{rid}"}],
        "lifecycleStatus": LIFECYCLE.get(plan.status, "proposed"),
        "description": {"text": goal.text},
        "subject": patient,
    }
    if plan.effective_on is not None:
        resource["startDate"] = fhir_date(plan.effective_on)
    if objectives:
        resource["target"] = [_target(o) for o in objectives]
    resource["expressedBy"] = dict(patient)
    resource["addresses"] = [ref("Condition", goal.problem.public_id)]
    return resource
