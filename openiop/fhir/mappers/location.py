"""Site -> FHIR R4 ``Location``; the site's IANA time zone is the core extension
``http://hl7.org/fhir/StructureDefinition/timezone`` (valueCode, e.g. ``America/New_York``).

Load: ``Site.objects.select_related("organization")``.
"""

from __future__ import annotations

from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, meta, ref

TIMEZONE_EXT = "http://hl7.org/fhir/StructureDefinition/timezone"
PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"


def to_fhir(site: Any, *, ctx: MapContext) -> dict[str, Any]:  # noqa: ARG001
    sid = str(site.public_id)
    virtual = site.kind == "virtual"
    out: dict[str, Any] = {
        "resourceType": "Location",
        "id": sid,
        "meta": meta(site),
        "extension": [{"url": TIMEZONE_EXT, "valueCode": site.timezone}],
        "identifier": [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{sid}"}],
        "status": "active",
        "name": site.name,
        "mode": "instance",
        "physicalType": {
            "coding": [
                {"system": PHYSICAL_TYPE, "code": "vi", "display": "Virtual"}
                if virtual
                else {"system": PHYSICAL_TYPE, "code": "bu", "display": "Building"}
            ]
        },
        "managingOrganization": ref(
            "Organization", site.organization.public_id, site.organization.name
        ),
    }
    if site.address:
        out["address"] = {"text": site.address}
    return out
