"""MedicationStatement and MedicationRequest from a ``medications.Medication`` row.

``statement_to_fhir(medication, *, ctx, today)`` and ``request_to_fhir(medication, *, ctx,
today)``; load with ``select_related("patient", "episode", "prescriber")``. No query runs inside.
``today`` (the site's local date) decides whether a medication is current; without it a row
with no stop date is active and a row with one is completed/stopped.

The row stores no RxNorm code: ``medicationCodeableConcept`` is text only (the drug name). Dose,
route and frequency are ``dosage.text`` / ``dosageInstruction.text`` (route also coded in a local
system). Medication for addiction treatment (MAT/MOUD) is marked with a category coding
``urn:openiop:medication-category|mat`` plus ``urn:openiop:mat-kind|<kind>``.

* MedicationStatement: status active (taken today, or ``today`` not given and no stop date),
  intended (starts after ``today``), completed (stopped); ``effectivePeriod`` start_on .. stop_on;
  ``context`` = the EpisodeOfCare; ``informationSource`` = our prescriber (Practitioner).
* MedicationRequest: status active, or stopped (stopped with a reason) / completed; intent
  ``order`` when one of our prescribers ordered it (``requester`` = Practitioner), else ``plan``
  with ``reportedBoolean`` true and the outside prescriber as a display-only ``requester``;
  ``authoredOn`` = start date; ``dispenseRequest.validityPeriod`` = start_on .. stop_on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, fhir_date, meta, ref

CATEGORY_SYSTEM = "urn:openiop:medication-category"
MAT_KIND_SYSTEM = "urn:openiop:mat-kind"
ROUTE_SYSTEM = "urn:openiop:medication-route"


def _active(medication: Any, today: dt.date | None) -> bool:
    if today is None:
        return medication.stop_on is None
    return medication.is_active_on(today) or medication.start_on > today


def _period(medication: Any) -> dict[str, str]:
    out = {"start": fhir_date(medication.start_on)}
    if medication.stop_on is not None:
        out["end"] = fhir_date(medication.stop_on)
    return out


def _dosage(medication: Any) -> dict[str, Any]:
    words = [w for w in (medication.dose, medication.frequency) if w]
    return {
        "text": " ".join(words) + f" ({medication.get_route_display().lower()})",
        "route": {
            "coding": [
                {
                    "system": ROUTE_SYSTEM,
                    "code": medication.route,
                    "display": medication.get_route_display(),
                }
            ],
            "text": medication.get_route_display(),
        },
    }


def _common(medication: Any, resource_type: str) -> dict[str, Any]:
    rid = str(medication.public_id)
    out: dict[str, Any] = {
        "resourceType": resource_type,
        "id": rid,
        "meta": meta(medication),
        "identifier": [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{rid}"}],
    }
    return out


def _category(medication: Any) -> dict[str, Any] | None:
    if not medication.is_mat:
        return None
    coding = [
        {
            "system": CATEGORY_SYSTEM,
            "code": "mat",
            "display": "Medication for addiction treatment",
        }
    ]
    if medication.mat_kind:
        coding.append(
            {
                "system": MAT_KIND_SYSTEM,
                "code": medication.mat_kind,
                "display": medication.get_mat_kind_display(),
            }
        )
    return {"coding": coding, "text": "Medication for addiction treatment"}


def statement_to_fhir(
    medication: Any,
    *,
    ctx: MapContext,
    today: dt.date | None = None,  # noqa: ARG001
) -> dict[str, Any]:
    resource = _common(medication, "MedicationStatement")
    if today is not None and medication.start_on > today:
        resource["status"] = "intended"
    else:
        resource["status"] = "active" if _active(medication, today) else "completed"
    category = _category(medication)
    if category:
        resource["category"] = category
    resource["medicationCodeableConcept"] = {"text": medication.name}
    resource["subject"] = ref("Patient", medication.patient.public_id)
    if medication.episode is not None:
        resource["context"] = ref("EpisodeOfCare", medication.episode.public_id)
    resource["effectivePeriod"] = _period(medication)
    resource["dateAsserted"] = fhir_date(medication.start_on)
    if medication.prescriber is not None:
        resource["informationSource"] = ref("Practitioner", medication.prescriber.public_id)
    resource["dosage"] = [_dosage(medication)]
    return resource


def request_to_fhir(
    medication: Any,
    *,
    ctx: MapContext,
    today: dt.date | None = None,  # noqa: ARG001
) -> dict[str, Any]:
    resource = _common(medication, "MedicationRequest")
    if _active(medication, today):
        resource["status"] = "active"
    else:
        resource["status"] = "stopped" if medication.stop_reason else "completed"
    ours = medication.prescriber is not None
    resource["intent"] = "order" if ours else "plan"
    category = _category(medication)
    if category:
        resource["category"] = [category]
    resource["reportedBoolean"] = not ours
    resource["medicationCodeableConcept"] = {"text": medication.name}
    resource["subject"] = ref("Patient", medication.patient.public_id)
    resource["authoredOn"] = fhir_date(medication.start_on)
    if ours:
        resource["requester"] = ref(
            "Practitioner", medication.prescriber.public_id, medication.prescriber_display
        )
    elif medication.outside_prescriber:
        resource["requester"] = {"display": medication.outside_prescriber}
    resource["dosageInstruction"] = [_dosage(medication)]
    resource["dispenseRequest"] = {"validityPeriod": _period(medication)}
    return resource
