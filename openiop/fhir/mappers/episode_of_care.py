"""Episode -> FHIR R4 ``EpisodeOfCare``.

Load: ``Episode.objects.select_related("organization", "patient", "program",
"primary_counselor")``; the status history is a keyword argument: the episode's
``EpisodeStatusChange`` rows (``episode.status_changes.all()``, prefetched, in model order).

Status: waitlisted -> waitlist; admitted/active -> active (planned when ``today`` is given and
admission is after it); on_hold -> onhold; discharged -> finished, or cancelled when the patient
was never admitted. ``type`` is the program (``urn:openiop:program`` + program public id). The
TEDS-D discharge reason is the extension ``urn:openiop:fhir:StructureDefinition/discharge-reason``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, fhir_date, meta, ref

DISCHARGE_REASON_EXT = "urn:openiop:fhir:StructureDefinition/discharge-reason"
TEDS_REASON_SYSTEM = "urn:openiop:CodeSystem/teds-d-reason"
PROGRAM_SYSTEM = "urn:openiop:program"

STATUS = {
    "waitlisted": "waitlist",
    "admitted": "active",
    "active": "active",
    "on_hold": "onhold",
    "discharged": "finished",
}


def fhir_status(status: str, *, admitted_on: dt.date | None, today: dt.date | None = None) -> str:
    if status == "discharged" and admitted_on is None:
        return "cancelled"
    if status == "admitted" and today is not None and admitted_on and admitted_on > today:
        return "planned"
    return STATUS[status]


def _history(episode: Any, changes: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    rows = list(changes)
    for i, change in enumerate(rows):
        period: dict[str, str] = {"start": fhir_date(change.effective_on)}
        if i + 1 < len(rows):
            period["end"] = fhir_date(max(rows[i + 1].effective_on, change.effective_on))
        fstatus = fhir_status(change.to_status, admitted_on=episode.admitted_on)
        out.append({"status": fstatus, "period": period})
    return out


def to_fhir(
    episode: Any,
    *,
    ctx: MapContext,  # noqa: ARG001
    status_changes: Sequence[Any] = (),
    today: dt.date | None = None,
) -> dict[str, Any]:
    eid = str(episode.public_id)
    program = episode.program
    out: dict[str, Any] = {
        "resourceType": "EpisodeOfCare",
        "id": eid,
        "meta": meta(episode),
        "identifier": [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{eid}"}],
        "status": fhir_status(episode.status, admitted_on=episode.admitted_on, today=today),
        "type": [
            {
                "coding": [
                    {
                        "system": PROGRAM_SYSTEM,
                        "code": str(program.public_id),
                        "display": program.name,
                    }
                ],
                "text": program.name,
            }
        ],
        "patient": ref("Patient", episode.patient.public_id),
        "managingOrganization": ref(
            "Organization", episode.organization.public_id, episode.organization.name
        ),
    }
    if episode.discharge_reason is not None:
        out["extension"] = [
            {
                "url": DISCHARGE_REASON_EXT,
                "valueCoding": {
                    "system": TEDS_REASON_SYSTEM,
                    "code": str(episode.discharge_reason),
                    "display": episode.get_discharge_reason_display(),
                },
            }
        ]
    history = _history(episode, status_changes)
    if history:
        out["statusHistory"] = history
    period: dict[str, str] = {}
    if episode.admitted_on:
        period["start"] = fhir_date(episode.admitted_on)
    if episode.discharged_on:
        period["end"] = fhir_date(episode.discharged_on)
    if period:
        out["period"] = period
    if episode.primary_counselor_id is not None:
        out["careManager"] = ref(
            "Practitioner", episode.primary_counselor.public_id, str(episode.primary_counselor)
        )
    return out
