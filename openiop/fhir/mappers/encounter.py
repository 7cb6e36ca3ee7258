"""AttendanceRecord (+ its Session) -> FHIR R4 ``Encounter``: one per patient per session.

Load: ``AttendanceRecord.objects.select_related("organization", "patient", "episode",
"session__program__site", "session__room").prefetch_related("session__facilitators")``.

id = the attendance record's public id. Status: present/late/left early -> finished; absent,
excused, or a cancelled session -> cancelled; expected (not yet recorded) -> planned. Class AMB,
or VR for a virtual session. ``period`` is check-in/check-out when recorded, else the session's
times; ``length`` is the minutes attended.
"""

from __future__ import annotations

from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, instant, meta, ref

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
SESSION_KIND = "urn:openiop:session-kind"

STATUS = {
    "expected": "planned",
    "present": "finished",
    "late": "finished",
    "left_early": "finished",
    "absent": "cancelled",
    "excused": "cancelled",
}


def fhir_status(record: Any) -> str:
    if record.session.status == "cancelled":
        return "cancelled"
    return STATUS[record.status]


def to_fhir(record: Any, *, ctx: MapContext) -> dict[str, Any]:  # noqa: ARG001
    rid = str(record.public_id)
    session = record.session
    site = session.program.site
    virtual = bool(session.is_virtual)
    start = record.checked_in_at or session.starts_at
    end = record.checked_out_at or session.ends_at
    if end < start:
        end = start
    out: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": rid,
        "meta": meta(record),
        "identifier": [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{rid}"}],
        "status": fhir_status(record),
        "class": (
            {"system": ACT_CODE, "code": "VR", "display": "virtual"}
            if virtual
            else {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"}
        ),
        "type": [
            {
                "coding": [
                    {
                        "system": SESSION_KIND,
                        "code": session.kind,
                        "display": session.get_kind_display(),
                    }
                ],
                "text": session.get_kind_display(),
            }
        ],
        "subject": ref("Patient", record.patient.public_id),
        "episodeOfCare": [ref("EpisodeOfCare", record.episode.public_id)],
        "appointment": [ref("Appointment", session.public_id)],
        "period": {"start": instant(start), "end": instant(end)},
        "serviceProvider": ref(
            "Organization", record.organization.public_id, record.organization.name
        ),
    }
    participants = []
    for i, user in enumerate(session.facilitators.all()):
        code = ("PPRF", "primary performer") if i == 0 else ("SPRF", "secondary performer")
        participants.append(
            {
                "type": [
                    {"coding": [{"system": PARTICIPATION, "code": code[0], "display": code[1]}]}
                ],
                "individual": ref("Practitioner", user.public_id, str(user)),
            }
        )
    if participants:
        out["participant"] = participants
    if record.minutes_attended is not None and out["status"] == "finished":
        out["length"] = {
            "value": record.minutes_attended,
            "unit": "min",
            "system": "http://unitsofmeasure.org",
            "code": "min",
        }
    display = site.name
    if session.room_id is not None:
        display = f"{site.name} · {session.room.name}"
    elif virtual:
        display = f"{site.name} (virtual)"
    out["location"] = [{"location": ref("Location", site.public_id, display)}]
    return out
