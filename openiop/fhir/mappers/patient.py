"""Patient -> FHIR R4 ``Patient`` (US Core Patient shape).

Load: ``Patient.objects.select_related("organization")``.

The model stores no race, ethnicity or birth sex, so the US Core extensions for them are not
emitted; ``sex`` is the administrative gender. Emergency contact goes to ``contact``.
"""

from __future__ import annotations

from typing import Any

from openiop.fhir.mappers.common import (
    OPENIOP_ID_SYSTEM,
    MapContext,
    fhir_date,
    meta,
    mrn_system,
    ref,
)

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
BCP47 = "urn:ietf:bcp:47"
_LANGUAGES = {
    "english": ("en", "English"),
    "spanish": ("es", "Spanish"),
    "french": ("fr", "French"),
    "portuguese": ("pt", "Portuguese"),
    "chinese": ("zh", "Chinese"),
    "vietnamese": ("vi", "Vietnamese"),
    "russian": ("ru", "Russian"),
    "arabic": ("ar", "Arabic"),
    "korean": ("ko", "Korean"),
    "haitian creole": ("ht", "Haitian Creole"),
}
GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}


def _language(text: str) -> dict[str, Any]:
    code = _LANGUAGES.get(text.strip().lower())
    if code is None:
        return {"text": text}
    return {"coding": [{"system": BCP47, "code": code[0], "display": code[1]}], "text": text}


def to_fhir(patient: Any, *, ctx: MapContext) -> dict[str, Any]:  # noqa: ARG001
    pid = str(patient.public_id)
    names: list[dict[str, Any]] = [
        {
            "use": "official",
            "family": patient.last_name,
            "given": [patient.first_name],
            "text": f"{patient.first_name} {patient.last_name}",
        }
    ]
    if patient.preferred_name and patient.preferred_name != patient.first_name:
        names.append(
            {
                "use": "usual",
                "family": patient.last_name,
                "given": [patient.preferred_name],
                "text": f"{patient.preferred_name} {patient.last_name}",
            }
        )
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "meta": meta(patient),
        "identifier": [
            {"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{pid}"},
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {"system": V2_0203, "code": "MR", "display": "Medical record number"}
                    ]
                },
                "system": mrn_system(patient.organization.public_id),
                "value": patient.mrn,
            },
        ],
        "active": True,
        "name": names,
        "gender": GENDER.get(patient.sex, "unknown"),
        "birthDate": fhir_date(patient.date_of_birth),
        "managingOrganization": ref(
            "Organization", patient.organization.public_id, patient.organization.name
        ),
    }
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        out["telecom"] = telecom
    if patient.address:
        out["address"] = [{"text": patient.address}]
    if patient.preferred_language:
        out["communication"] = [
            {"language": _language(patient.preferred_language), "preferred": True}
        ]
    if patient.emergency_contact_name or patient.emergency_contact_phone:
        contact: dict[str, Any] = {
            "relationship": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0131",
                            "code": "C",
                            "display": "Emergency Contact",
                        }
                    ],
                    "text": "Emergency contact",
                }
            ]
        }
        if patient.emergency_contact_relationship:
            contact["relationship"].append({"text": patient.emergency_contact_relationship})
        if patient.emergency_contact_name:
            contact["name"] = {"text": patient.emergency_contact_name}
        if patient.emergency_contact_phone:
            contact["telecom"] = [{"system": "phone", "value": patient.emergency_contact_phone}]
        out["contact"] = [contact]
    return out
