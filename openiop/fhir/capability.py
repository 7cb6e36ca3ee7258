"""The server's CapabilityStatement, built from the registry (so it never drifts)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from openiop.fhir import registry
from openiop.fhir.mappers.common import instant

SEARCH_TYPES = {
    "_id": "token", "_lastUpdated": "date", "identifier": "token", "name": "string",
    "family": "string", "given": "string", "birthdate": "date", "gender": "token",
    "patient": "reference", "subject": "reference", "status": "token", "date": "date",
    "category": "token", "code": "token", "intent": "token", "type": "token",
    "authored": "date", "questionnaire": "reference", "actor": "reference",
}  # fmt: skip
CREATABLE = ("Patient", "Coverage", "QuestionnaireResponse")


def capability_statement(*, base: str) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for spec in registry.specs().values():
        interactions = [{"code": "read"}, {"code": "search-type"}]
        if spec.type in CREATABLE:
            interactions.append({"code": "create"})
        params = [
            {"name": name, "type": SEARCH_TYPES.get(name, "token")}
            for name in registry.supported_params(spec)
            if name not in ("_count", "_cursor", "_format", "_summary")
        ]
        entry: dict[str, Any] = {
            "type": spec.type,
            "interaction": interactions,
            "versioning": "versioned",
            "readHistory": False,
            "searchParam": params,
        }
        if spec.type == "Patient":
            entry["operation"] = [
                {"name": "everything",
                 "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}
            ]  # fmt: skip
        if spec.type == "Group":
            entry["operation"] = [
                {"name": "export",
                 "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"}
            ]  # fmt: skip
        resources.append(entry)
    resources.append(
        {
            "type": "Questionnaire",
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": "_id", "type": "token"}, {"name": "url", "type": "uri"}],
        }
    )
    resources.sort(key=lambda r: r["type"])
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(timezone.now()),
        "kind": "instance",
        "software": {"name": "OpenIOP"},
        "implementation": {"description": "OpenIOP FHIR R4 facade", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Every resource carries 42 CFR Part 2 security labels. Outside clients "
                    "receive patient data only under a consent naming them; see docs/fhir.md."
                ),
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ],
                            "text": "Bearer tokens with SMART scopes (openiop fhir client create)",
                        }
                    ],
                },
                "resource": resources,
            }
        ],
    }
