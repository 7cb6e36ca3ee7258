"""Questionnaire: an instrument definition from the instrument registry (no database row).

``to_fhir(instrument, *, ctx)`` takes an ``instruments.base.Instrument`` (``registry.get(key)``);
it runs no query. Definitional data, no patient information: ``meta`` carries no Part 2 labels.

* ``id`` = the instrument key (``phq9``); ``url`` = ``urn:openiop:fhir:Questionnaire/<key>``;
  ``code`` = the LOINC panel code where the instrument has one (PHQ-9 44249-1).
* One ``choice`` item per instrument item: ``linkId`` = our linkId (the LOINC item code where one
  exists), ``code`` = the LOINC item code, ``prefix`` = the number printed on the form.
* ``answerOption.valueCoding``: the LOINC answer code (LA...) when known, else
  ``urn:openiop:answers:<key>`` with our answer code as a string. The option's scored value is the
  ``ordinalValue`` extension on the answerOption (reverse scoring already applied: DAST-10 item 3
  "No" scores 1).
"""

from __future__ import annotations

import re
from typing import Any

from openiop.fhir.mappers.common import MapContext

LOINC = "http://loinc.org"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
CANONICAL_PREFIX = "urn:openiop:fhir:Questionnaire/"


def canonical(key: str) -> str:
    return f"{CANONICAL_PREFIX}{key}"


def answer_system(key: str) -> str:
    return f"urn:openiop:answers:{key}"


def option_coding(instrument: Any, option: Any) -> dict[str, str]:
    """The Coding of one answer option (LOINC LA code when known, else our own code)."""
    if option.loinc:
        return {"system": LOINC, "code": option.loinc, "display": option.text}
    return {
        "system": answer_system(instrument.key),
        "code": str(option.code),
        "display": option.text,
    }


def _name(instrument: Any) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "", instrument.short_title) or instrument.key
    return name if name[0].isalpha() else f"Q{name}"


def _item(instrument: Any, item: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"linkId": item.link_id}
    if item.loinc:
        out["code"] = [{"system": LOINC, "code": item.loinc}]
    out.update({"prefix": item.label, "text": item.text, "type": "choice", "required": True})
    out["answerOption"] = [
        {
            "extension": [{"url": ORDINAL_VALUE, "valueDecimal": option.value}],
            "valueCoding": option_coding(instrument, option),
        }
        for option in item.options
    ]
    return out


def to_fhir(instrument: Any, *, ctx: MapContext) -> dict[str, Any]:  # noqa: ARG001
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": instrument.key,
        "meta": {"versionId": instrument.version},
        "url": canonical(instrument.key),
        "identifier": [{"system": "urn:openiop:instrument", "value": instrument.key}],
        "version": instrument.version,
        "name": _name(instrument),
        "title": instrument.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": instrument.instructions,
    }
    if instrument.panel_loinc:
        resource["code"] = [
            {"system": LOINC, "code": instrument.panel_loinc, "display": instrument.title}
        ]
    resource["item"] = [_item(instrument, item) for item in instrument.items]
    return resource
