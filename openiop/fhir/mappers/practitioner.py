"""Staff user -> FHIR R4 ``Practitioner``: name, NPI, credential as a qualification.

Load: the ``User`` row (no relations). Portal log-ins (patients, guardians) are not staff and
are refused with ``ValueError``.
"""

from __future__ import annotations

from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, meta

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
CREDENTIAL_SYSTEM = "urn:openiop:credential"


def to_fhir(user: Any, *, ctx: MapContext) -> dict[str, Any]:  # noqa: ARG001
    if getattr(user, "is_portal", False):
        raise ValueError("a portal log-in is not a Practitioner")
    uid = str(user.public_id)
    identifiers = [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{uid}"}]
    if user.npi:
        identifiers.append({"system": NPI_SYSTEM, "value": user.npi})
    name: dict[str, Any] = {"use": "official"}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = [user.first_name]
    full = " ".join(p for p in (user.first_name, user.last_name) if p) or user.username
    name["text"] = f"{full}, {user.credential}" if user.credential else full
    if user.credential:
        name["suffix"] = [user.credential]
    out: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": uid,
        "meta": meta(user),
        "identifier": identifiers,
        "active": bool(user.is_active),
        "name": [name],
    }
    if user.credential:
        label = user.get_credential_display()
        out["qualification"] = [
            {
                "code": {
                    "coding": [
                        {"system": CREDENTIAL_SYSTEM, "code": user.credential, "display": label}
                    ],
                    "text": label,
                }
            }
        ]
    return out
