"""The score Observation of a saved ``questionnaires.QuestionnaireResponse``.

``to_fhir(qr, *, ctx)``; load with ``select_related("patient", "administered_by")`` (no query
runs inside). Scores are the ones stored with the response (computed when it was recorded), never
recomputed here.

* ``id`` = the QuestionnaireResponse's public_id: one score Observation per response, and the
  resource types differ, so the id is deterministic and unique (``Observation/<qr uuid>``).
* ``category`` survey; ``code`` = the instrument's total LOINC (PHQ-9 44261-6, GAD-7 70274-6,
  AUDIT-C 75626-2, DAST-10 82667-7, ...). Instruments without one (C-SSRS screener, BAM) use the
  local system ``urn:openiop:scores`` with the instrument key as code.
* ``valueQuantity`` = the total (UCUM ``{score}``); BAM has no total: no value,
  ``dataAbsentReason`` not-applicable, and its composites are ``component``s.
* ``interpretation``: the severity band (local system ``urn:openiop:severity:<key>``, band label as
  display and text) and POS/NEG (v3 ObservationInterpretation) when the instrument decides
  positive/negative. ``note`` says the band and any safety flag in words.
* Subscales (BAM use/risk/protective, PCL-5 clusters...) are ``component``s with code
  ``urn:openiop:scores|<key>-<subscale>`` and ``valueInteger``; no separate Observations.
* ``derivedFrom`` = the QuestionnaireResponse.
"""

from __future__ import annotations

import re
from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, instant, meta, ref
from openiop.questionnaires.instruments import registry

LOINC = "http://loinc.org"
SCORES_SYSTEM = "urn:openiop:scores"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


def severity_system(key: str) -> str:
    return f"urn:openiop:severity:{key}"


def score_code(instrument: Any) -> dict[str, Any]:
    display = f"{instrument.short_title} total score"
    if instrument.total_loinc:
        coding = {"system": LOINC, "code": instrument.total_loinc, "display": display}
    else:
        coding = {"system": SCORES_SYSTEM, "code": instrument.key, "display": display}
    return {"coding": [coding], "text": display}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _interpretation(instrument: Any, qr: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if qr.severity:
        out.append(
            {
                "coding": [
                    {
                        "system": severity_system(instrument.key),
                        "code": _slug(qr.severity),
                        "display": qr.severity,
                    }
                ],
                "text": qr.severity,
            }
        )
    if qr.positive is not None:
        code, text = ("POS", "Positive") if qr.positive else ("NEG", "Negative")
        out.append({"coding": [{"system": INTERPRETATION, "code": code, "display": text}]})
    return out


def _note(instrument: Any, qr: Any) -> str:
    total = "no total" if qr.total is None else f"total {qr.total}"
    parts = [f"{instrument.short_title} {total}"]
    if qr.severity:
        parts.append(f"severity: {qr.severity}")
    flags = list(qr.flags or [])
    if flags:
        parts.append("flags: " + ", ".join(str(f) for f in flags))
    return "; ".join(parts)


def to_fhir(qr: Any, *, ctx: MapContext) -> dict[str, Any]:  # noqa: ARG001
    instrument = registry.get(qr.instrument)
    rid = str(qr.public_id)
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid,
        "meta": meta(qr),
        "identifier": [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{rid}"}],
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": score_code(instrument),
        "subject": ref("Patient", qr.patient.public_id),
        "effectiveDateTime": instant(qr.administered_at),
        "issued": instant(qr.created_at or qr.administered_at),
    }
    if qr.administered_by is not None:
        resource["performer"] = [ref("Practitioner", qr.administered_by.public_id)]
    if qr.total is not None:
        resource["valueQuantity"] = {
            "value": qr.total,
            "unit": "{score}",
            "system": "http://unitsofmeasure.org",
            "code": "{score}",
        }
    else:
        resource["dataAbsentReason"] = {
            "coding": [{"system": ABSENT, "code": "not-applicable", "display": "Not Applicable"}]
        }
    interpretation = _interpretation(instrument, qr)
    if interpretation:
        resource["interpretation"] = interpretation
    resource["note"] = [{"text": _note(instrument, qr)}]
    resource["derivedFrom"] = [ref("QuestionnaireResponse", rid)]
    subscales = dict(qr.subscales or {})
    if subscales:
        resource["component"] = [
            {
                "code": {
                    "coding": [{"system": SCORES_SYSTEM, "code": f"{instrument.key}-{name}"}],
                    "text": f"{instrument.short_title} {name}",
                },
                "valueInteger": int(value),
            }
            for name, value in subscales.items()
        ]
    return resource
