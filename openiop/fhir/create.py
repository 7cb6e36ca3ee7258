"""FHIR create (``POST /fhir/r4/<Type>``): QuestionnaireResponse (scored into an Observation),
Patient and Coverage (imports from another system, matched by identifier). docs/fhir.md.

Every create runs the same steps, any failing one ends it with an ``OperationOutcome``:

1. an outside client (``system`` token, ``is_external``) creates nothing -> 403; a patient token
   may create only its own QuestionnaireResponse (Patient / Coverage -> 403);
2. the scope grants ``c`` on the type and a staff member's role the write permission (Patient:
   ``patient.edit``, Coverage: ``billing.manage``, QuestionnaireResponse:
   ``questionnaire.record``) -> else 403;
3. the body is a JSON object whose ``resourceType`` is the URL's type -> else 400;
4. it is structurally valid FHIR (``fhir.resources.R4B``) -> else 422 with the element in
   ``issue.expression`` (``Patient.birthDate``). One leniency: ``item.code`` in a
   QuestionnaireResponse is not an R4 element, but form tools send it and items may be
   identified by it, so it is left out of the structural check;
5. the business rules (unknown questionnaire item, unknown patient or payer, a duplicate...) ->
   422 (409 for an identifier conflict, 412 for an ambiguous ``If-None-Exist``).

The writes go through the domain services (``response_record``, ``patient_create``,
``coverage_save``), which write their own audit rows and (for a PHQ-9 item 9 answer) raise the
clinical alert; the answer is then audited as a write by the FHIR client
(``openiop.fhir.<type>.create`` with ``detail.outcome`` ``created`` or ``matched``).

A new resource answers ``201`` with ``Location: <base>/<Type>/<id>`` (no ``/_history/<vid>``:
this server has no vread, so the Location stays resolvable; the version is in ``ETag`` and
``meta.versionId``) and the resource as a read renders it. A match answers ``200`` with the
existing resource and creates nothing.

Choices:

* QuestionnaireResponse ``subject``: ``Patient/<id>`` (relative or absolute URL) of a patient
  this client may see. Unknown, another organization's, and outside-the-caseload patients all
  answer the same ``422 unknown patient`` (a create is not a read: no 404 that would tell one
  case from another). A patient token may leave ``subject`` out (itself); naming another patient
  is a 403. ``source``: a patient token records a ``portal`` response (the patient filled it in
  themselves, through their own app); staff and the clinic's own systems record ``staff`` (the
  closest fit: ``QuestionnaireResponse.Source`` has no "another system" value).
* Patient matching, identifier by identifier: ``urn:openiop:id|urn:uuid:<id>`` (our own id) and
  our MRN system (``urn:openiop:org:<org>:mrn``) match on the value alone, and one that names no
  patient is refused (422: the sender claims a record we do not have); another organization's
  MRN system is ignored. A foreign system's value matches a patient whose MRN equals it *and*
  whose birth date equals ``birthDate`` (it was stored as the MRN by an earlier import); the same
  value on a patient with another birth date is a 409 conflict, never a merge. Social security,
  driver's licence and passport numbers are never matched nor stored.
* The Patient model has no place for foreign identifiers: the first foreign identifier (an ``MR``
  typed one first) of at most 32 characters becomes the MRN, so a re-import matches; without one
  the clinic's next MRN is drawn. With no identifier match, a patient with the same first name,
  last name and birth date is a 409 "possible duplicate" (resolved by a person, not merged).
* ``If-None-Exist: identifier=system|value`` (or ``identifier=value``): one match -> 200 with
  it, several -> 412, none -> the create goes on. Other parameters -> 400.
* Coverage: ``beneficiary`` is ``Patient/<id>`` or an identifier (matched as above); the payer is
  matched to one of the clinic's payers by ``payor.display`` (name, case-insensitive) or
  ``payor.identifier.value`` (clearinghouse payer id); a ``payor`` naming the Patient is the
  self-pay payer. An unknown payer is refused (422, naming the known payers): payers carry
  billing rules someone must set up, so they are never created from a Coverage. An existing
  coverage with the same patient, payer and member id (``subscriberId``) is a match (200).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from openiop.accounts.permissions import Perm
from openiop.fhir.access import FhirDenied, Principal
from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, etag, mrn_system
from openiop.fhir.models import FhirClient

PERMS = {
    "Patient": Perm.PATIENT_EDIT,
    "Coverage": Perm.BILLING_MANAGE,
    "QuestionnaireResponse": Perm.QUESTIONNAIRE_RECORD,
}
MRN_MAX = 32
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
# Identifiers never matched on nor stored as an MRN (national / personal documents).
PRIVATE_SYSTEMS = frozenset(
    {"http://hl7.org/fhir/sid/us-ssn", "urn:oid:2.16.840.1.113883.4.1"}
)  # fmt: skip
PRIVATE_TYPES = frozenset({"SS", "SB", "DL", "PPN"})
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class CreateError(Exception):
    """A refusal with its HTTP status, OperationOutcome issue code and FHIRPath expression."""

    def __init__(
        self, message: str, *, status: int = 422, code: str = "invalid", expression: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.expression = expression or None


@dataclass(frozen=True)
class Result:
    row: Any  # the created or matched model row
    patient: Any
    created: bool


# --- entry point ---------------------------------------------------------------------------------


def create(request: HttpRequest, principal: Principal, resource_type: str) -> HttpResponse:
    from openiop.fhir.views import outcome

    if resource_type not in PERMS:
        return outcome(405, "not-supported", f"create is not supported for {resource_type}.")
    if principal.client.needs_consent:
        raise FhirDenied("an outside client may not create resources")
    if principal.context == FhirClient.Kind.PATIENT and resource_type != "QuestionnaireResponse":
        raise FhirDenied(f"a patient app may not create a {resource_type}")
    principal.require(resource_type, "c", PERMS[resource_type])
    try:
        resource = parse_body(request.body, resource_type)
        with transaction.atomic():
            if resource_type == "QuestionnaireResponse":
                result = _questionnaire_response(request, principal, resource)
            elif resource_type == "Patient":
                result = patient_import(
                    organization=principal.client.organization, resource=resource,
                    actor=principal.user, request=request,
                    visible=_visible_patients(principal),
                    if_none_exist=request.headers.get("If-None-Exist"),
                )  # fmt: skip
            else:
                result = _coverage(request, principal, resource)
    except CreateError as exc:
        return outcome(exc.status, exc.code, exc.message, expression=exc.expression)
    except ValidationError as exc:
        return outcome(422, "invalid", _messages(exc))
    return _answer(request, principal, resource_type, result)


def parse_body(raw: bytes | str, resource_type: str) -> dict[str, Any]:
    """The request body as a JSON object of ``resource_type``, structurally valid R4B."""
    from openiop.fhir.validate import FhirInvalid, validate_r4b

    try:
        resource = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise CreateError(f"the body is not JSON: {exc}", status=400, code="structure") from None
    if not isinstance(resource, dict):
        raise CreateError("the body must be a JSON object (a FHIR resource)", status=400,
                          code="structure")  # fmt: skip
    found = resource.get("resourceType")
    if found != resource_type:
        raise CreateError(
            f"resourceType {found!r} does not match the URL's {resource_type}",
            status=400, code="structure", expression=f"{resource_type}.resourceType",
        )  # fmt: skip
    try:
        validate_r4b(_without_item_codes(resource) if resource_type == _QR else resource)
    except FhirInvalid as exc:
        message, expression = _first_error(exc, resource_type)
        raise CreateError(message, code="structure", expression=expression) from None
    return resource


_QR = "QuestionnaireResponse"


def _without_item_codes(resource: dict[str, Any]) -> dict[str, Any]:
    """A copy without ``item[*].code``: not an R4 QuestionnaireResponse element, but form tools
    send it (and issue 11 asks us to identify items by it), so it is read but not validated."""

    def strip(items: Any) -> Any:
        if not isinstance(items, list):
            return items
        out = []
        for item in items:
            if isinstance(item, dict):
                item = {k: v for k, v in item.items() if k != "code"}
                if "item" in item:
                    item["item"] = strip(item["item"])
                if isinstance(item.get("answer"), list):
                    item["answer"] = [
                        {**a, "item": strip(a["item"])}
                        if isinstance(a, dict) and "item" in a
                        else a
                        for a in item["answer"]
                    ]
            out.append(item)
        return out

    return {**resource, "item": strip(resource["item"])} if "item" in resource else resource


def _first_error(exc: Exception, root: str) -> tuple[str, str]:
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return str(exc), root
    listed = errors()
    if not listed:
        return str(exc), root
    first = listed[0]
    path = root
    for part in first.get("loc", ()):
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    more = f" (and {len(listed) - 1} more)" if len(listed) > 1 else ""
    return f"{path}: {first.get('msg', 'invalid')}{more}", path


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(msgs)}" if field != "__all__" else " ".join(msgs)
            for field, msgs in exc.message_dict.items()
        )
    return "; ".join(exc.messages)


def _answer(
    request: HttpRequest, principal: Principal, resource_type: str, result: Result
) -> HttpResponse:
    from openiop.fhir import registry
    from openiop.fhir.views import _http_date, context, env_for, fhir_json

    spec = registry.get(resource_type)
    assert spec is not None
    row = spec.queryset(principal.organization_id).get(pk=result.row.pk)
    (resource,) = spec.render([row], context(request), env_for(principal))
    principal.record_access(
        action=f"openiop.fhir.{resource_type.lower()}.create", patients=[result.patient],
        resource_type=resource_type, categories={spec.category or "demographics"},
        request=request,
        detail={"outcome": "created" if result.created else "matched", "id": resource["id"]},
    )  # fmt: skip
    response = fhir_json(resource, 201 if result.created else 200)
    if result.created:
        response["Location"] = f"{context(request).base}/{resource_type}/{resource['id']}"
    response["ETag"] = etag(resource)
    if "lastUpdated" in resource.get("meta", {}):
        response["Last-Modified"] = _http_date(resource["meta"]["lastUpdated"])
    return response


# --- patients the caller may name ---------------------------------------------------------------


def _visible_patients(principal: Principal) -> QuerySet[Any]:
    from openiop.fhir import registry
    from openiop.fhir.views import _narrowed

    spec = registry.get("Patient")
    assert spec is not None
    return _narrowed(spec, principal)


def _reference_id(reference: Any, resource_type: str) -> str | None:
    """``Patient/<id>`` or ``<base>/Patient/<id>`` -> ``<id>`` (None for anything else)."""
    if not isinstance(reference, str):
        return None
    parts = reference.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == resource_type:
        return parts[-1]
    if len(parts) >= 4 and parts[-4] == resource_type and parts[-2] == "_history":
        return parts[-3]
    return None


def _patient_by_reference(qs: QuerySet[Any], reference: Any, where: str) -> Any:
    rid = _reference_id(reference, "Patient")
    found = qs.filter(public_id=rid).first() if rid and _UUID.match(rid) else None
    if found is None:
        raise CreateError(f"unknown patient {reference!r}", expression=where)
    return found


# --- QuestionnaireResponse -----------------------------------------------------------------------


def _questionnaire_response(
    request: HttpRequest, principal: Principal, resource: dict[str, Any]
) -> Result:
    from openiop.fhir.mappers.qr_in import FhirInputError, parse
    from openiop.questionnaires.models import QuestionnaireResponse
    from openiop.questionnaires.services import response_record

    try:
        parsed = parse(resource)
    except FhirInputError as exc:
        raise CreateError(exc.message, expression=exc.expression) from None
    where = "QuestionnaireResponse.subject"
    if principal.context == FhirClient.Kind.PATIENT:
        own = principal.client.patient
        if parsed.subject_ref is not None:
            if _reference_id(parsed.subject_ref, "Patient") != str(own.public_id):
                raise FhirDenied("a patient app may record only its own patient's responses")
        patient = own
        source = QuestionnaireResponse.Source.PORTAL
    else:
        if parsed.subject_ref is None:
            raise CreateError("subject is required (Patient/<id>)", expression=where)
        patient = _patient_by_reference(_visible_patients(principal), parsed.subject_ref, where)
        source = QuestionnaireResponse.Source.STAFF
    try:
        response = response_record(
            actor=principal.user, patient=patient, episode=None,
            instrument=parsed.instrument_key, answers=parsed.answers,
            administered_at=parsed.authored, source=source, request=request,
        )  # fmt: skip
    except ValidationError as exc:
        where = "QuestionnaireResponse.authored" if "administered_at" in _fields(exc) else ""
        raise CreateError(_messages(exc), expression=where) from None
    return Result(response, patient, True)


def _fields(exc: ValidationError) -> set[str]:
    return set(exc.message_dict) if hasattr(exc, "error_dict") else set()


# --- Patient -------------------------------------------------------------------------------------


def _identifiers(resource: dict[str, Any], root: str) -> list[tuple[str, str, str, str]]:
    """(system, value, type code, expression) of each identifier with a value."""
    out = []
    for index, ident in enumerate(resource.get("identifier") or []):
        value = str(ident.get("value") or "").strip()
        if not value:
            continue
        types = [
            c.get("code", "")
            for c in (ident.get("type") or {}).get("coding") or []
            if c.get("system") in (V2_0203, None)
        ]
        out.append((ident.get("system") or "", value, types[0] if types else "",
                    f"{root}.identifier[{index}]"))  # fmt: skip
    return out


def _private(system: str, type_code: str) -> bool:
    return system in PRIVATE_SYSTEMS or type_code in PRIVATE_TYPES


def match_patient(
    organization: Any, identifiers: list[tuple[str, str, str, str]], birth_date: dt.date | None
) -> Any:
    """The organization's patient one of ``identifiers`` names, or None (rules in the module
    docstring). Raises ``CreateError`` for an identifier of ours naming no patient and for a
    foreign value that is another person's MRN."""
    from openiop.patients.models import Patient

    patients = Patient.objects.for_org(organization)
    ours = mrn_system(organization.public_id)
    for system, value, type_code, where in identifiers:
        if _private(system, type_code):
            continue
        if system == OPENIOP_ID_SYSTEM:
            pid = value.removeprefix("urn:uuid:")
            found = patients.filter(public_id=pid).first() if _UUID.match(pid) else None
            if found is None:
                raise CreateError(f"no patient has the id {value}", expression=where)
            return found
        if system == ours:
            found = patients.filter(mrn=value).first()
            if found is None:
                raise CreateError(f"no patient has the MRN {value}", expression=where)
            return found
        if system.startswith("urn:openiop:org:"):
            continue  # another clinic's MRN: means nothing here
        found = patients.filter(mrn=value).first()
        if found is None:
            continue
        if birth_date is not None and found.date_of_birth == birth_date:
            return found
        raise CreateError(
            f"identifier {system}|{value} is the MRN of another patient (the birth date "
            "differs); resolve it by hand",
            status=409, code="conflict", expression=where,
        )  # fmt: skip
    return None


def _if_none_exist(header: str) -> list[tuple[str, str, str, str]]:
    query = urllib.parse.parse_qs(header.lstrip("?"), keep_blank_values=True)
    unknown = sorted(set(query) - {"identifier"})
    if unknown or not query.get("identifier"):
        raise CreateError(
            "If-None-Exist supports identifier=system|value only"
            + (f" (not {', '.join(unknown)})" if unknown else ""),
            status=400, code="not-supported",
        )  # fmt: skip
    out = []
    for token in query["identifier"]:
        system, bar, value = token.partition("|")
        if not bar:
            system, value = "", token
        out.append((system, value.strip(), "", "If-None-Exist"))
    return out


def _name(resource: dict[str, Any]) -> tuple[str, str, str]:
    names = [n for n in resource.get("name") or [] if isinstance(n, dict)]
    if not names:
        raise CreateError("a patient needs a name", expression="Patient.name")
    official = next((n for n in names if n.get("use") == "official"), names[0])
    index = names.index(official)
    given = [g for g in official.get("given") or [] if g]
    family = (official.get("family") or "").strip()
    first = (given[0] if given else "").strip()
    if not (family and first) and official.get("text"):
        words = official["text"].split()
        if len(words) >= 2:
            first, family = first or words[0], family or words[-1]
    if not family or not first:
        raise CreateError("the name needs a given and a family name",
                          expression=f"Patient.name[{index}]")  # fmt: skip
    usual = next((n for n in names if n.get("use") in ("usual", "nickname")), None)
    preferred = ""
    if usual and usual.get("given") and usual["given"][0] != first:
        preferred = usual["given"][0].strip()
    return first, family, preferred


def _birth_date(resource: dict[str, Any]) -> dt.date:
    value = resource.get("birthDate")
    if not value:
        raise CreateError("birthDate is required", expression="Patient.birthDate")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CreateError(f"birthDate {value!r} must be a full date (YYYY-MM-DD)",
                          expression="Patient.birthDate") from None  # fmt: skip


def _address(resource: dict[str, Any]) -> str:
    for address in resource.get("address") or []:
        if address.get("text"):
            return address["text"].strip()
        city_line = " ".join(
            p for p in (address.get("state"), address.get("postalCode")) if p
        )  # fmt: skip
        parts = [*(address.get("line") or []), address.get("city") or "", city_line]
        text = ", ".join(p.strip() for p in parts if p and p.strip())
        if text:
            return text
    return ""


def _language(resource: dict[str, Any]) -> str:
    for comm in resource.get("communication") or []:
        language = comm.get("language") or {}
        text = language.get("text") or next(
            (c.get("display") for c in language.get("coding") or [] if c.get("display")), ""
        )
        if text:
            return text.split("(")[0].strip()[:40]
    return ""


def patient_fields(resource: dict[str, Any]) -> dict[str, Any]:
    """Our Patient fields from a FHIR Patient (raises ``CreateError`` naming the element)."""
    first, family, preferred = _name(resource)
    fields: dict[str, Any] = {
        "first_name": first, "last_name": family, "date_of_birth": _birth_date(resource),
    }  # fmt: skip
    if preferred:
        fields["preferred_name"] = preferred
    gender = resource.get("gender")
    if gender in ("male", "female", "other", "unknown"):
        fields["sex"] = gender
    for telecom in resource.get("telecom") or []:
        key = {"phone": "phone", "email": "email"}.get(telecom.get("system", ""))
        if key and telecom.get("value") and key not in fields:
            fields[key] = telecom["value"].strip()
    address = _address(resource)
    if address:
        fields["address"] = address
    language = _language(resource)
    if language:
        fields["preferred_language"] = language
    return fields


def _mrn_for(organization: Any, identifiers: list[tuple[str, str, str, str]]) -> str:
    """The foreign identifier to keep as the MRN ("" = draw the clinic's next one)."""
    foreign = [
        (system, value, type_code)
        for system, value, type_code, _ in identifiers
        if system not in (OPENIOP_ID_SYSTEM, mrn_system(organization.public_id))
        and not system.startswith("urn:openiop:org:")
        and not _private(system, type_code)
        and len(value) <= MRN_MAX
    ]
    foreign.sort(key=lambda f: f[2] != "MR")
    return foreign[0][1] if foreign else ""


def patient_import(
    *,
    organization: Any,
    resource: dict[str, Any],
    actor: Any,
    request: HttpRequest | None = None,
    visible: QuerySet[Any] | None = None,
    if_none_exist: str | None = None,
) -> Result:
    """Match a FHIR Patient to one of ``organization``'s patients by identifier, else create it
    (``patient_create``, audited). ``visible``: the patients the caller may see; a match outside
    it is a 409 that names no one. Call inside a transaction."""
    from openiop.patients.models import Patient
    from openiop.patients.services import patient_create

    def seen(found: Any) -> Result:
        if visible is not None and not visible.filter(pk=found.pk).exists():
            raise CreateError("an identifier matches a patient outside your access",
                              status=409, code="conflict")  # fmt: skip
        return Result(found, found, False)

    if if_none_exist:
        wanted = _if_none_exist(if_none_exist)
        hits = {p.pk: p for p in _search_identifiers(organization, wanted)}
        if len(hits) > 1:
            raise CreateError("If-None-Exist matches more than one patient", status=412,
                              code="duplicate")  # fmt: skip
        if hits:
            return seen(next(iter(hits.values())))
    fields = patient_fields(resource)
    identifiers = _identifiers(resource, "Patient")
    found = match_patient(organization, identifiers, fields["date_of_birth"])
    if found is not None:
        return seen(found)
    twin = (
        Patient.objects.for_org(organization)
        .filter(
            first_name__iexact=fields["first_name"],
            last_name__iexact=fields["last_name"],
            date_of_birth=fields["date_of_birth"],
        )  # fmt: skip
        .exists()
    )
    if twin:
        raise CreateError(
            "possible duplicate: a patient with the same name and birth date exists and no "
            "identifier matched; resolve it by hand",
            status=409, code="duplicate", expression="Patient.identifier",
        )  # fmt: skip
    mrn = _mrn_for(organization, identifiers)
    patient = patient_create(
        actor=actor, organization=organization, mrn=mrn, request=request, **fields
    )
    return Result(patient, patient, True)


def _search_identifiers(organization: Any, wanted: list[tuple[str, str, str, str]]) -> list[Any]:
    """Every patient an ``If-None-Exist`` identifier names (as the ``identifier`` search)."""
    from openiop.patients.models import Patient

    patients = Patient.objects.for_org(organization)
    out = []
    for system, value, _, _ in wanted:
        if system == OPENIOP_ID_SYSTEM:
            pid = value.removeprefix("urn:uuid:")
            out += list(patients.filter(public_id=pid)) if _UUID.match(pid) else []
        elif system.startswith("urn:openiop:org:") and system != mrn_system(organization.public_id):
            continue
        else:
            out += list(patients.filter(mrn=value))
    return out


# --- Coverage ------------------------------------------------------------------------------------

RELATIONSHIPS = {"self": "self", "spouse": "spouse", "common": "spouse", "child": "child"}


def _coverage(request: HttpRequest, principal: Principal, resource: dict[str, Any]) -> Result:
    from openiop.billing.models import Coverage, Payer, PayerKind
    from openiop.billing.services_setup import coverage_save

    org = principal.client.organization
    visible = _visible_patients(principal)
    beneficiary = resource.get("beneficiary") or {}
    where = "Coverage.beneficiary"
    if beneficiary.get("reference"):
        patient = _patient_by_reference(visible, beneficiary["reference"], where)
    elif beneficiary.get("identifier"):
        ident = beneficiary["identifier"]
        patient = (
            match_patient(
                org, [(ident.get("system") or "", str(ident.get("value") or ""), "", where)], None
            )
            if ident.get("system") in (OPENIOP_ID_SYSTEM, mrn_system(org.public_id))
            else None
        )
        if patient is None or not visible.filter(pk=patient.pk).exists():
            raise CreateError("unknown patient (identifier)", expression=where)
    else:
        raise CreateError("beneficiary is required (Patient/<id>)", expression=where)

    payers = Payer.objects.for_org(org).filter(active=True)
    payor = (resource.get("payor") or [{}])[0]
    payer = None
    if _reference_id(payor.get("reference"), "Patient") is not None:
        if _reference_id(payor["reference"], "Patient") != str(patient.public_id):
            raise CreateError("a Patient payor must be the beneficiary (self-pay)",
                              expression="Coverage.payor[0]")  # fmt: skip
        payer = payers.filter(kind=PayerKind.SELF_PAY).first()
    else:
        display = (payor.get("display") or "").strip()
        ident = str((payor.get("identifier") or {}).get("value") or "").strip()
        if display:
            payer = payers.filter(name__iexact=display).first()
        if payer is None and ident:
            payer = payers.filter(payer_id=ident).first()
    if payer is None:
        known = ", ".join(payers.values_list("name", flat=True)) or "none set up"
        raise CreateError(
            f"unknown payer; this clinic's payers: {known} (payers are set up in billing, not "
            "created from a Coverage)",
            expression="Coverage.payor[0]",
        )  # fmt: skip
    member_id = (resource.get("subscriberId") or "").strip()
    existing = (
        Coverage.objects.for_org(org).filter(patient=patient, payer=payer, member_id=member_id)
        .first()
    )  # fmt: skip
    if existing is not None:
        return Result(existing, patient, False)
    relationship = "self"
    for coding in (resource.get("relationship") or {}).get("coding") or []:
        relationship = RELATIONSHIPS.get(coding.get("code", ""), "other")
    period = resource.get("period") or {}
    group = next(
        (
            c.get("value", "")
            for c in resource.get("class") or []
            if any(t.get("code") == "group" for t in (c.get("type") or {}).get("coding") or [])
        ),
        "",
    )
    order = resource.get("order") or 1
    coverage = coverage_save(
        actor=principal.user, patient=patient, payer=payer, member_id=member_id,
        group_number=group, subscriber_relationship=relationship,
        priority=order if order in (1, 2, 3) else 99,
        effective_on=_date(period.get("start"), "Coverage.period.start"),
        terminates_on=_date(period.get("end"), "Coverage.period.end"),
        active=resource.get("status", "active") == "active",
        deductible_met=Decimal(0), request=request,
    )  # fmt: skip
    return Result(coverage, patient, True)


def _date(value: Any, where: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise CreateError(f"{value!r} is not a date", expression=where) from None
