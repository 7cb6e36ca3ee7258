"""core.AuditEvent row -> FHIR R4 ``AuditEvent`` (IHE BALP-style).

Load: ``AuditEvent.objects.select_related("actor")``; pass the row's organization as
``organization`` (the row only stores its integer id) to name it as the audit source.

- ``type``: log-in/log-out -> DICOM 110114 User Authentication; any other action ->
  ``audit-event-type#rest`` with a ``restful-interaction`` subtype (read / search-type / create /
  update / delete) when the verb maps to one.
- ``action``: C/R/U/D/E from the verb at the end of ``openiop.<app>.<entity>.<verb>``.
- ``outcome``: success 0, denied 4 (minor failure), failed 8 (serious failure).
- ``agent``: the user (Practitioner reference for a staff user, display = username), requestor;
  the source IP as network address.
- ``entity``: the patient (role Patient) when the row names one, and the object (type and public
  id) when it is another row. ``detail`` is never copied (it can hold free text); only a
  break-glass flag becomes ``purposeOfEvent`` ETREAT.
id = the row's chain hash (64 hex digits; the row has no public id).
"""

from __future__ import annotations

from typing import Any

from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, MapContext, instant, meta, ref

EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
INTERACTION = "http://hl7.org/fhir/restful-interaction"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
OBJECT_TYPE_SYSTEM = "urn:openiop:object-type"

READ_VERBS = {"read", "view", "download", "summary", "latest", "panel", "accounting"}
SEARCH_VERBS = {"list", "search", "find", "queue", "alerts", "reviews_due", "due", "problems"}
CREATE_VERBS = {
    "create", "record", "sign", "save", "make", "add", "enroll", "schedule", "raise",
    "part_create", "part_save", "part_sign", "publish", "join", "opt_in",
}  # fmt: skip
UPDATE_VERBS = {
    "update", "amend", "change", "revoke", "void", "cancel", "transfer", "discharge", "review",
    "expire", "disable", "stop", "requeue", "pin", "visibility", "opt_out", "leave",
    "follow_up", "outcome",
}  # fmt: skip
DELETE_VERBS = {"delete", "part_remove"}
AUTH_VERBS = {"login", "logout", "lockout"}

OUTCOME = {"success": "0", "denied": "4", "failed": "8"}

# OpenIOP model names whose public id is a FHIR resource id of this type.
FHIR_TYPES = {
    "Patient": "Patient",
    "Episode": "EpisodeOfCare",
    "AttendanceRecord": "Encounter",
    "Session": "Appointment",
    "Program": "HealthcareService",
    "Site": "Location",
    "Organization": "Organization",
    "Consent": "Consent",
    "Coverage": "Coverage",
    "User": "Practitioner",
}


def verb(action: str) -> str:
    return action.rsplit(".", 1)[-1]


def fhir_action(action: str) -> str:
    v = verb(action)
    if v in READ_VERBS or v in SEARCH_VERBS:
        return "R"
    if v in CREATE_VERBS:
        return "C"
    if v in UPDATE_VERBS:
        return "U"
    if v in DELETE_VERBS:
        return "D"
    return "E"


def _type_and_subtype(action: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    v = verb(action)
    if v in AUTH_VERBS:
        return {"system": DCM, "code": "110114", "display": "User Authentication"}, []
    rest = {"system": EVENT_TYPE, "code": "rest", "display": "Restful Operation"}
    sub = None
    if v in READ_VERBS:
        sub = "read"
    elif v in SEARCH_VERBS:
        sub = "search-type"
    elif v in CREATE_VERBS:
        sub = "create"
    elif v in UPDATE_VERBS:
        sub = "update"
    elif v in DELETE_VERBS:
        sub = "delete"
    subtype = [{"system": INTERACTION, "code": sub, "display": sub}] if sub else []
    return rest, subtype


def resource_id(event: Any) -> str:
    """Deterministic id: the row's SHA-256 chain hash (64 hex digits, unique per row; a valid
    FHIR id). Look a row up with ``AuditEvent.objects.get(hash=id)``."""
    return event.hash


def to_fhir(
    event: Any,
    *,
    ctx: MapContext,  # noqa: ARG001
    organization: Any = None,
) -> dict[str, Any]:
    rid = resource_id(event)
    etype, subtype = _type_and_subtype(event.action)
    who: dict[str, Any]
    actor = event.actor if event.actor_id is not None else None
    if actor is not None and not getattr(actor, "is_portal", False):
        who = ref("Practitioner", actor.public_id, event.actor_username or str(actor))
    elif event.actor_username:
        who = {"display": event.actor_username}
    else:
        who = {"display": "system"}
    agent: dict[str, Any] = {
        "who": who,
        "requestor": True,
    }
    if event.actor_username:
        agent["altId"] = event.actor_username
    if event.actor_roles:
        agent["role"] = [{"text": r} for r in event.actor_roles.split(",") if r]
    if event.source_ip:
        agent["network"] = {"address": event.source_ip, "type": "2"}
    entities: list[dict[str, Any]] = []
    if event.patient_id:
        entities.append(
            {
                "what": ref("Patient", event.patient_id),
                "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
            }
        )
    if event.object_type and not (
        event.object_type == "Patient" and event.object_id == event.patient_id
    ):
        fhir_type = FHIR_TYPES.get(event.object_type)
        if event.object_id and fhir_type:
            what: dict[str, Any] = ref(fhir_type, event.object_id)
        elif event.object_id:
            what = {
                "identifier": {"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{event.object_id}"}
            }
        else:
            what = {"display": event.object_type}
        entities.append(
            {
                "what": what,
                "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
                "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"},
                "name": event.object_type,
            }
        )
    observer: dict[str, Any]
    if organization is not None:
        observer = ref("Organization", organization.public_id, organization.name)
    else:
        observer = {"display": "OpenIOP"}
    out: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": rid,
        "meta": meta(event, labels=bool(event.patient_id)),
        "type": etype,
        "action": fhir_action(event.action),
        "recorded": instant(event.occurred_at),
        "outcome": OUTCOME.get(event.outcome, "8"),
        "outcomeDesc": event.action,
        "agent": [agent],
        "source": {
            "site": "OpenIOP",
            "observer": observer,
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                    "display": "Application Server",
                }
            ],
        },
    }
    if subtype:
        out["subtype"] = subtype
    if isinstance(event.detail, dict) and event.detail.get("break_glass"):
        out["purposeOfEvent"] = [
            {"coding": [{"system": ACT_REASON, "code": "ETREAT", "display": "Emergency Treatment"}]}
        ]
    if entities:
        out["entity"] = entities
    return out
