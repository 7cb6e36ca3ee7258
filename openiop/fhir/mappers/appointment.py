"""Session -> FHIR R4 ``Appointment`` (one per session, a participant per booked patient).

Load: ``Session.objects.select_related("program__site").prefetch_related("facilitators")``;
``bookings`` = the session's ``AttendanceRecord`` rows with ``select_related("patient")``
(``session.attendance.all()`` prefetched with ``Prefetch("attendance",
AttendanceRecord.objects.select_related("patient"))``).

Status: scheduled -> booked, held -> fulfilled (noshow when nobody booked attended and at least
one was absent), cancelled -> cancelled. ``description`` and ``serviceType`` are the neutral
session kind ("Group therapy"), never the title, which can name a substance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, instant, meta, ref

SESSION_KIND = "urn:openiop:session-kind"
ATTENDED = ("present", "late", "left_early")

STATUS = {"scheduled": "booked", "held": "fulfilled", "cancelled": "cancelled"}
PARTICIPANT_STATUS = {
    "expected": "accepted",
    "present": "accepted",
    "late": "accepted",
    "left_early": "accepted",
    "absent": "declined",
    "excused": "declined",
}


def fhir_status(session: Any, bookings: Sequence[Any]) -> str:
    status = STATUS[session.status]
    if status == "fulfilled" and bookings:
        statuses = {b.status for b in bookings}
        if not statuses & set(ATTENDED) and "absent" in statuses:
            return "noshow"
    return status


def to_fhir(
    session: Any,
    *,
    ctx: MapContext,  # noqa: ARG001
    bookings: Sequence[Any] = (),
) -> dict[str, Any]:
    sid = str(session.public_id)
    kind = session.get_kind_display()
    participants: list[dict[str, Any]] = [
        {
            "actor": ref("Patient", b.patient.public_id),
            "required": "required",
            "status": PARTICIPANT_STATUS[b.status],
        }
        for b in bookings
    ]
    participants += [
        {
            "actor": ref("Practitioner", user.public_id, str(user)),
            "required": "required",
            "status": "accepted",
        }
        for user in session.facilitators.all()
    ]
    site = session.program.site
    participants.append({"actor": ref("Location", site.public_id, site.name), "status": "accepted"})
    return {
        "resourceType": "Appointment",
        "id": sid,
        "meta": meta(session),
        "identifier": [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{sid}"}],
        "status": fhir_status(session, bookings),
        "serviceType": [
            {"coding": [{"system": SESSION_KIND, "code": session.kind, "display": kind}]}
        ],
        "description": kind,
        "start": instant(session.starts_at),
        "end": instant(session.ends_at),
        "minutesDuration": session.duration_minutes,
        "created": instant(session.created_at),
        "participant": participants,
    }
