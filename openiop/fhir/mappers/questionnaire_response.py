"""QuestionnaireResponse from a saved ``questionnaires.QuestionnaireResponse``.

``to_fhir(qr, *, ctx)``; load with ``select_related("patient", "administered_by")`` (no query
runs inside). The instrument definition comes from the registry (pure data).

* ``questionnaire`` = ``urn:openiop:fhir:Questionnaire/<key>`` (the Questionnaire's ``url``).
* One item per answered instrument item, in instrument order, each with one ``valueCoding``
  answer: the option's LOINC LA code when known, else ``urn:openiop:answers:<key>|<code>``
  (``questionnaire.option_coding``).
* ``author`` = the staff member who administered it (Practitioner); ``source`` = the patient
  when the patient filled it in (portal or per-response link).
* The episode has no R4 QuestionnaireResponse element and is not mapped.
"""

from __future__ import annotations

from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, instant, meta, ref
from openiop.fhir.mappers.questionnaire import canonical, option_coding
from openiop.questionnaires.instruments import registry


def _answer_coding(instrument: Any, item: Any, raw: Any) -> dict[str, str]:
    try:
        option = item.option(int(raw))
    except (KeyError, TypeError, ValueError):  # a stored code outside the options: say so
        return {"system": f"urn:openiop:answers:{instrument.key}", "code": str(raw)}
    return option_coding(instrument, option)


def items(instrument: Any, answers: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for item in instrument.items:
        if item.link_id not in answers:
            continue
        out.append(
            {
                "linkId": item.link_id,
                "text": item.text,
                "answer": [
                    {"valueCoding": _answer_coding(instrument, item, answers[item.link_id])}
                ],
            }
        )
    return out


def to_fhir(qr: Any, *, ctx: MapContext) -> dict[str, Any]:  # noqa: ARG001
    instrument = registry.get(qr.instrument)
    rid = str(qr.public_id)
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": rid,
        "meta": meta(qr),
        "identifier": {"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{rid}"},
        "questionnaire": canonical(instrument.key),
        "status": "completed",
        "subject": ref("Patient", qr.patient.public_id),
        "authored": instant(qr.administered_at),
    }
    if qr.administered_by is not None:
        resource["author"] = ref("Practitioner", qr.administered_by.public_id)
    if qr.source != "staff":
        resource["source"] = ref("Patient", qr.patient.public_id)
    resource["item"] = items(instrument, dict(qr.answers or {}))
    return resource
