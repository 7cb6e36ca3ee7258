"""Coverage -> FHIR R4 ``Coverage`` (US Core Coverage shape).

Load: ``Coverage.objects.select_related("patient", "payer")``.

The payer is not a FHIR-served Organization here: ``payor`` is a reference by display (the payer's
name, plus its clearinghouse payer id as an identifier when set); a self-pay coverage names the
Patient as payor and its type is ``coverage-selfpay#pay``. ``type`` is the Source of Payment
Typology code of the payer kind.
"""

from __future__ import annotations

from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, fhir_date, meta, ref

SOPT = "https://nahdo.org/sopt"
SELFPAY = "http://terminology.hl7.org/CodeSystem/coverage-selfpay"
RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
PAYER_ID_SYSTEM = "urn:openiop:clearinghouse-payer-id"

PAYER_TYPE = {
    "medicare": (SOPT, "1", "MEDICARE"),
    "medicaid": (SOPT, "2", "MEDICAID"),
    "commercial": (SOPT, "5", "PRIVATE HEALTH INSURANCE"),
    "other": (SOPT, "9", "MISCELLANEOUS/OTHER"),
    "self_pay": (SELFPAY, "pay", "PAY"),
}
RELATIONSHIP_DISPLAY = {"self": "Self", "spouse": "Spouse", "child": "Child", "other": "Other"}


def fhir_status(coverage: Any) -> str:
    return "active" if coverage.active else "cancelled"


def to_fhir(coverage: Any, *, ctx: MapContext) -> dict[str, Any]:  # noqa: ARG001
    cid = str(coverage.public_id)
    payer = coverage.payer
    patient_ref = ref("Patient", coverage.patient.public_id)
    system, code, display = PAYER_TYPE.get(payer.kind, PAYER_TYPE["other"])
    if payer.kind == "self_pay":
        payor = dict(patient_ref)
    else:
        payor = {"display": payer.name}
        if payer.payer_id:
            payor["identifier"] = {"system": PAYER_ID_SYSTEM, "value": payer.payer_id}
    rel = coverage.subscriber_relationship
    out: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": cid,
        "meta": meta(coverage),
        "identifier": [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{cid}"}],
        "status": fhir_status(coverage),
        "type": {"coding": [{"system": system, "code": code, "display": display}]},
        "beneficiary": patient_ref,
        "relationship": {
            "coding": [
                {"system": RELATIONSHIP, "code": rel, "display": RELATIONSHIP_DISPLAY.get(rel, rel)}
            ]
        },
        "payor": [payor],
        "order": int(coverage.priority),
    }
    if coverage.member_id:
        out["subscriberId"] = coverage.member_id
        out["identifier"].append(
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "MB",
                            "display": "Member Number",
                        }
                    ]
                },
                "value": coverage.member_id,
            }
        )
    if rel == "self":
        out["subscriber"] = dict(patient_ref)
    period: dict[str, str] = {}
    if coverage.effective_on:
        period["start"] = fhir_date(coverage.effective_on)
    if coverage.terminates_on:
        period["end"] = fhir_date(coverage.terminates_on)
    if period:
        out["period"] = period
    if coverage.group_number:
        out["class"] = [
            {
                "type": {
                    "coding": [{"system": COVERAGE_CLASS, "code": "group", "display": "Group"}]
                },
                "value": coverage.group_number,
            }
        ]
    return out
