"""DocumentReference (US Core, category clinical-note) from a signed ``clinical.Note``.

``to_fhir(note, *, ctx, encounter=None)``; load with
``select_related("patient", "episode", "author", "signed_by", "amends")``. ``encounter`` is the
note's session ``attendance.AttendanceRecord`` for this patient when there is one (its public_id
is the Encounter id); the caller looks it up. No query runs inside.

Refuses (``ValueError``) an SUD counseling note (``Note.Kind.SUD_COUNSELING``, 42 CFR 2.11: kept
apart from the record, never disclosed) and any note that is not signed (drafts change).

* ``type``: LOINC 11506-3 Progress note for every kind (individual, family, medication
  management, group individualized part), with the kind in ``type.text``.
* ``status`` current, ``docStatus`` final; an amendment ``relatesTo`` the note it amends
  (``appends``).
* ``content[0].attachment``: the note's sections as plain text ("Data:\\n...\\n\\nAssessment:..."),
  UTF-8, base64 in ``data``, ``contentType`` text/plain.
* ``context.encounter``: the Encounter (when given) and the EpisodeOfCare; ``context.period`` the
  session's start and end times.
"""

from __future__ import annotations

import base64
from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, instant, meta, ref

LOINC = "http://loinc.org"
CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
SUD_COUNSELING = "sud_counseling"
PROGRESS_NOTE = ("11506-3", "Progress note")


def note_text(note: Any) -> str:
    """The note's sections in their format's order, each under its name."""
    sections = dict(note.sections or {})
    names = list(note.section_names) + [k for k in sections if k not in note.section_names]
    blocks = [
        f"{name.capitalize()}:\n{sections[name]}"
        for name in names
        if str(sections.get(name) or "").strip()
    ]
    return "\n\n".join(blocks)


def to_fhir(note: Any, *, ctx: MapContext, encounter: Any = None) -> dict[str, Any]:  # noqa: ARG001
    if note.kind == SUD_COUNSELING:
        raise ValueError("an SUD counseling note (42 CFR 2.11) is never mapped to FHIR")
    if note.status != "signed" or note.signed_at is None:
        raise ValueError("only signed notes are mapped to FHIR")
    rid = str(note.public_id)
    code, display = PROGRESS_NOTE
    data = base64.b64encode(note_text(note).encode("utf-8")).decode("ascii")
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": rid,
        "meta": meta(note),
        "identifier": [{"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{rid}"}],
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [{"system": LOINC, "code": code, "display": display}],
            "text": f"{note.get_kind_display()} progress note",
        },
        "category": [
            {"coding": [{"system": CATEGORY, "code": "clinical-note", "display": "Clinical Note"}]}
        ],
        "subject": ref("Patient", note.patient.public_id),
        "date": instant(note.signed_at),
        "author": [ref("Practitioner", note.author.public_id)],
    }
    if note.signed_by is not None:
        resource["authenticator"] = ref("Practitioner", note.signed_by.public_id)
    if note.amends is not None:
        resource["relatesTo"] = [
            {"code": "appends", "target": ref("DocumentReference", note.amends.public_id)}
        ]
    resource["description"] = f"{note.get_kind_display()} note ({note.format})"
    resource["content"] = [
        {
            "attachment": {
                "contentType": "text/plain",
                "language": "en",
                "data": data,
                "title": f"{note.get_kind_display()} note",
                "creation": instant(note.signed_at),
            }
        }
    ]
    context: dict[str, Any] = {"encounter": []}
    if encounter is not None:
        context["encounter"].append(ref("Encounter", encounter.public_id))
    context["encounter"].append(ref("EpisodeOfCare", note.episode.public_id))
    if note.started_at is not None:
        period = {"start": instant(note.started_at)}
        if note.ended_at is not None:
            period["end"] = instant(note.ended_at)
        context["period"] = period
    resource["context"] = context
    return resource
