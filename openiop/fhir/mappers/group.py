"""A program's cohort -> FHIR R4 ``Group`` (person, actual): the patients with a current episode
in the program. id = the program's public id (``Group/<program uuid>``).

Load: ``Program.objects.select_related("organization")``; ``members`` = the cohort's Patient
rows (the caller selects them; only ``public_id`` is read).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, meta, ref


def to_fhir(
    program: Any,
    *,
    ctx: MapContext,  # noqa: ARG001
    members: Sequence[Any] = (),
) -> dict[str, Any]:
    gid = str(program.public_id)
    out: dict[str, Any] = {
        "resourceType": "Group",
        "id": gid,
        "meta": meta(program),
        "identifier": [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{gid}"}],
        "active": bool(program.is_active),
        "type": "person",
        "actual": True,
        "name": program.name,
        "quantity": len(members),
        "managingEntity": ref(
            "Organization", program.organization.public_id, program.organization.name
        ),
    }
    if members:
        out["member"] = [{"entity": ref("Patient", p.public_id)} for p in members]
    return out
