"""Organization -> FHIR R4 ``Organization``.

Load: the ``Organization`` row itself (no relations).
"""

from __future__ import annotations

from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, meta

ORG_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"


def to_fhir(organization: Any, *, ctx: MapContext) -> dict[str, Any]:  # noqa: ARG001
    oid = str(organization.public_id)
    return {
        "resourceType": "Organization",
        "id": oid,
        "meta": meta(organization),
        "identifier": [
            {"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{oid}"},
            {"system": "urn:openiop:organization-slug", "value": organization.slug},
        ],
        "active": True,
        "type": [
            {"coding": [{"system": ORG_TYPE, "code": "prov", "display": "Healthcare Provider"}]}
        ],
        "name": organization.name,
    }
