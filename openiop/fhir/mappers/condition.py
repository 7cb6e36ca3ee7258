"""Condition (problem-list-item) from a treatment plan problem (``clinical.PlanProblem``).

``to_fhir(problem, *, ctx)``; load with ``select_related("plan__patient")`` (no query inside).

* ``code``: ICD-10-CM (``http://hl7.org/fhir/sid/icd-10-cm``, dotted as stored: F10.20) with the
  diagnosis text; a problem without a code carries only the problem statement as ``code.text``.
* ``clinicalStatus``: active while the plan is draft or active; inactive once the plan is
  superseded (the revision has its own problem rows). ``verificationStatus`` provisional on a
  draft plan, confirmed otherwise.
"""

from __future__ import annotations

from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, instant, meta, ref

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"


def to_fhir(problem: Any, *, ctx: MapContext) -> dict[str, Any]:  # noqa: ARG001
    plan = problem.plan
    rid = str(problem.public_id)
    clinical = "inactive" if plan.status == "superseded" else "active"
    verification = "provisional" if plan.status == "draft" else "confirmed"
    if problem.icd10_code:
        coding = {"system": ICD10CM, "code": problem.icd10_code}
        if problem.icd10_text:
            coding["display"] = problem.icd10_text
        code = {"coding": [coding], "text": problem.icd10_text or problem.icd10_code}
    else:
        code = {"text": problem.description}
    return {
        "resourceType": "Condition",
        "id": rid,
        "meta": meta(problem),
        "identifier": [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{rid}"}],
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": clinical}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": verification}]},
        "category": [
            {
                "coding": [
                    {
                        "system": CATEGORY,
                        "code": "problem-list-item",
                        "display": "Problem List Item",
                    }
                ]
            }
        ],
        "code": code,
        "subject": ref("Patient", plan.patient.public_id),
        "recordedDate": instant(problem.created_at),
    }
