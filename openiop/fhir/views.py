"""The FHIR R4 REST endpoints under ``/fhir/r4/`` (docs/fhir.md).

JSON only (``application/fhir+json``); every error is an ``OperationOutcome`` with the HTTP
status that fits (400 bad search, 401 no token, 403 scope or role, 404 unknown or not yours,
405, 410 gone, 422 invalid resource). Authentication and Part 2 filtering are in
``openiop.fhir.access``; which types exist and how they load in ``openiop.fhir.registry``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from openiop.fhir import registry
from openiop.fhir.access import FhirDenied, Principal, authenticate
from openiop.fhir.mappers.common import MapContext, etag, instant
from openiop.fhir.registry import SearchError, Spec

CONTENT_TYPE = "application/fhir+json; charset=utf-8"
DEFAULT_COUNT = 50
MAX_COUNT = 500


def outcome(status: int, code: str, message: str, *, expression: str | None = None) -> HttpResponse:
    issue: dict[str, Any] = {
        "severity": "error" if status < 500 else "fatal",
        "code": code,
        "diagnostics": message,
    }
    if expression:
        issue["expression"] = [expression]
    body = {"resourceType": "OperationOutcome", "issue": [issue]}
    response = HttpResponse(json.dumps(body), status=status, content_type=CONTENT_TYPE)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="openiop-fhir"'
    return response


def fhir_json(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, separators=(",", ":")), status=status, content_type=CONTENT_TYPE
    )


def fhir_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Bearer authentication and the OperationOutcome for every failure."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        principal = authenticate(request.META.get("HTTP_AUTHORIZATION", ""))
        if principal is None:
            return outcome(401, "login", "A valid bearer token is required (fhir_...).")
        request.fhir = principal  # type: ignore[attr-defined]
        try:
            return view(request, principal, *args, **kwargs)
        except FhirDenied as exc:
            principal.refused(
                action="openiop.fhir.request.refuse", request=request, reason=str(exc)
            )
            return outcome(403, "forbidden", str(exc))
        except SearchError as exc:
            return outcome(400, "invalid", str(exc))
        except Http404:
            return outcome(404, "not-found", "No such resource.")
        except ValidationError as exc:
            return outcome(422, "invalid", "; ".join(exc.messages))

    return wrapped


def context(request: HttpRequest) -> MapContext:
    return MapContext(base=request.build_absolute_uri("/fhir/r4").rstrip("/"))


def _spec(resource_type: str) -> Spec:
    spec = registry.get(resource_type)
    if spec is None:
        raise Http404
    return spec


# --- metadata ------------------------------------------------------------------------------------


@csrf_exempt
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: public, as FHIR asks (it holds no data)."""
    from openiop.fhir.capability import capability_statement

    if request.method != "GET":
        return outcome(405, "not-supported", "metadata answers GET only.")
    return fhir_json(capability_statement(base=context(request).base))


# --- read and search -----------------------------------------------------------------------------


def env_for(principal: Principal) -> dict[str, Any]:
    org = principal.client.organization

    def members(program: Any) -> list[Any]:
        return principal.allowed_members(cohort(program))

    return {
        "organization": org,
        "today": org.today(),
        "tz": org.tz(),
        "group_members": members,
        "allowed_members": principal.allowed_members,
    }


def cohort(program: Any) -> list[Any]:
    """A program's cohort: patients with a current (not discharged) episode in it."""
    from openiop.enrollment.models import Episode
    from openiop.patients.models import Patient

    current = (
        Episode.objects.for_org(program.organization_id)
        .filter(program=program)
        .exclude(status=Episode.Status.DISCHARGED)
    )
    return list(
        Patient.objects.for_org(program.organization_id)
        .filter(pk__in=current.values("patient_id"))
        .order_by("last_name", "first_name", "pk")
    )


def patients_of(spec: Spec, rows: list[Any], env: dict[str, Any]) -> list[Any]:
    """The patients whose data a page of rows shows (for the audit trail)."""
    if spec.type == "Appointment":
        return [b.patient for s in rows for b in s.attendance.all()]
    if spec.type == "Group":
        return [p for program in rows for p in env["group_members"](program)]
    if spec.patient_path is None:
        return []
    if spec.patient_path == "pk":
        return list(rows)
    out = []
    for row in rows:
        obj = row
        for part in spec.patient_path.split("__"):
            obj = getattr(obj, part)
        out.append(obj)
    return out


def _render(spec: Spec, rows: list[Any], request: HttpRequest, env: dict[str, Any]) -> list[Any]:
    return spec.render(rows, context(request), env)


def _narrowed(spec: Spec, principal: Principal) -> QuerySet[Any]:
    qs = principal.narrow(spec, spec.queryset(principal.organization_id))
    if spec.type == "Appointment":
        qs = qs.distinct()
    return qs


def _audit(
    principal: Principal, spec: Spec, rows: list[Any], env: dict[str, Any], request: HttpRequest,
    verb: str, detail: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    patients = patients_of(spec, rows, env)
    if spec.patient_path is None and spec.type not in ("Group", "Appointment", "AuditEvent"):
        return  # directory data (programs, sites, staff): nothing about a patient
    principal.record_access(
        action=f"openiop.fhir.{spec.type.lower()}.{verb}", patients=patients,
        resource_type=spec.type, categories={spec.category or "attendance"}, request=request,
        detail=detail,
    )  # fmt: skip


@fhir_endpoint
def type_view(request: HttpRequest, principal: Principal, resource_type: str) -> HttpResponse:
    if resource_type == "Questionnaire":
        return questionnaire_search(request, principal)
    spec = _spec(resource_type)
    if request.method == "POST" and request.path.endswith("/_search"):
        return search(request, principal, spec, request.POST)
    if request.method == "POST":
        from openiop.fhir.create import create

        return create(request, principal, resource_type)
    if request.method != "GET":
        return outcome(405, "not-supported", f"{request.method} is not supported here.")
    return search(request, principal, spec, request.GET)


def search(request: HttpRequest, principal: Principal, spec: Spec, params: Any) -> HttpResponse:
    principal.require(spec.type, "s", spec.perm)
    allowed = set(registry.supported_params(spec))
    unknown = sorted(k for k in params if k not in allowed)
    if unknown:
        raise SearchError(
            f"unsupported search parameter(s) for {spec.type}: {', '.join(unknown)}; "
            f"supported: {', '.join(sorted(allowed))}"
        )
    qs = _narrowed(spec, principal)
    for name in params:
        for value in params.getlist(name):
            if value == "" and name not in ("_cursor",):
                raise SearchError(f"{name}: empty value")
            if name == "_id":
                qs = qs.filter(**{f"{spec.id_field}__in": value.split(",")})
            elif name == "_lastUpdated":
                qs = registry.date_filter(spec.updated_field)(qs, value)
            elif name in spec.params:
                qs = spec.params[name](qs, value)
            elif name in registry.PATIENT_PARAMS:
                qs = registry.patient_filter(spec)(qs, value)
    count = _count(params.get("_count"))
    cursor = params.get("_cursor")
    if cursor:
        model = qs.model
        anchor = model._default_manager.filter(**{spec.id_field: cursor}).values("pk")[:1]
        qs = qs.filter(pk__gt=anchor)
    try:
        rows = list(qs.order_by("pk")[: count + 1])
    except (ValueError, ValidationError) as exc:  # a malformed uuid in _id or _cursor
        raise SearchError(f"bad id in the search: {exc}") from None
    has_next = len(rows) > count
    rows = rows[:count]
    env = env_for(principal)
    resources = _render(spec, rows, request, env)
    _audit(principal, spec, rows, env, request, "search", {"count": len(rows)})
    base = context(request).base
    query = {k: params.getlist(k) for k in params if k != "_cursor"}
    links = [{"relation": "self", "url": request.build_absolute_uri()}]
    if has_next:
        nxt = {**query, "_cursor": [str(getattr(rows[-1], spec.id_field))], "_count": [str(count)]}
        links.append(
            {"relation": "next", "url": f"{base}/{spec.type}?{urlencode(nxt, doseq=True)}"}
        )
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": instant(timezone.now()),
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }
    if not params.get("_cursor") and not has_next:
        bundle["total"] = len(resources)
    return fhir_json(bundle)


def _count(value: str | None) -> int:
    if value is None:
        return DEFAULT_COUNT
    try:
        n = int(value)
    except ValueError:
        raise SearchError(f"_count must be a whole number, not {value!r}") from None
    if n < 1:
        raise SearchError("_count must be at least 1")
    return min(n, MAX_COUNT)


@fhir_endpoint
def instance_view(
    request: HttpRequest, principal: Principal, resource_type: str, rid: str
) -> HttpResponse:
    if request.method != "GET":
        return outcome(405, "not-supported", f"{request.method} is not supported here.")
    if resource_type == "Questionnaire":
        return questionnaire_read(request, principal, rid)
    spec = _spec(resource_type)
    principal.require(spec.type, "r", spec.perm)
    try:
        row = _narrowed(spec, principal).filter(**{spec.id_field: rid}).first()
    except (ValueError, ValidationError):
        row = None
    if row is None:
        raise Http404
    env = env_for(principal)
    (resource,) = _render(spec, [row], request, env)
    tag = etag(resource)
    if request.headers.get("If-None-Match") == tag:
        return HttpResponse(status=304)
    _audit(principal, spec, [row], env, request, "read")
    response = fhir_json(resource)
    response["ETag"] = tag
    if "lastUpdated" in resource.get("meta", {}):
        response["Last-Modified"] = _http_date(resource["meta"]["lastUpdated"])
    return response


def _http_date(instant_text: str) -> str:
    import datetime as dt
    from email.utils import format_datetime

    moment = dt.datetime.fromisoformat(instant_text.replace("Z", "+00:00"))
    return format_datetime(moment, usegmt=True)


# --- Questionnaire: definitions from the instrument registry ------------------------------------


def questionnaire_search(request: HttpRequest, principal: Principal) -> HttpResponse:
    from openiop.fhir.mappers import questionnaire
    from openiop.questionnaires.instruments import registry as instruments

    principal.require("Questionnaire", "s")
    ctx = context(request)
    wanted = request.GET.get("_id") or request.GET.get("url") or request.GET.get("code")
    items = []
    for key, instrument in instruments.INSTRUMENTS.items():
        resource = questionnaire.to_fhir(instrument, ctx=ctx)
        if wanted:
            codes = {key, resource.get("url", ""), *(c["code"] for c in resource.get("code", []))}
            if not any(w in codes for w in wanted.split(",")):
                continue
        items.append(resource)
    return fhir_json(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(items),
            "link": [{"relation": "self", "url": request.build_absolute_uri()}],
            "entry": [
                {
                    "fullUrl": f"{ctx.base}/Questionnaire/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in items
            ],
        }  # fmt: skip
    )


def questionnaire_read(request: HttpRequest, principal: Principal, rid: str) -> HttpResponse:
    from openiop.fhir.mappers import questionnaire
    from openiop.questionnaires.instruments import registry as instruments

    principal.require("Questionnaire", "r")
    if rid not in instruments.INSTRUMENTS:
        raise Http404
    return fhir_json(questionnaire.to_fhir(instruments.INSTRUMENTS[rid], ctx=context(request)))


# --- Patient/$everything -------------------------------------------------------------------------

EVERYTHING_TYPES = (
    "EpisodeOfCare", "Encounter", "Appointment", "CarePlan", "Goal", "Condition",
    "QuestionnaireResponse", "Observation", "MedicationStatement", "MedicationRequest",
    "DocumentReference", "Consent", "Coverage",
)  # fmt: skip


@fhir_endpoint
def patient_everything(request: HttpRequest, principal: Principal, rid: str) -> HttpResponse:
    """The patient and every resource about them this client may see (Part 2 filtered per
    type: an outside client gets only the kinds of information the consent covers)."""
    if request.method != "GET":
        return outcome(405, "not-supported", "$everything answers GET only.")
    patient_spec = _spec("Patient")
    principal.require("Patient", "r", patient_spec.perm)
    try:
        patient = _narrowed(patient_spec, principal).filter(public_id=rid).first()
    except (ValueError, ValidationError):
        patient = None
    if patient is None:
        raise Http404
    wanted = set(EVERYTHING_TYPES)
    if request.GET.get("_type"):
        asked = set(request.GET["_type"].split(","))
        unknown = asked - wanted - {"Patient"}
        if unknown:
            raise SearchError(f"_type: not part of $everything: {', '.join(sorted(unknown))}")
        wanted &= asked
    since = request.GET.get("_since")
    env = env_for(principal)
    resources = _render(patient_spec, [patient], request, env)
    categories = {"demographics"}
    for resource_type in EVERYTHING_TYPES:
        if resource_type not in wanted:
            continue
        spec = _spec(resource_type)
        if not _permitted(principal, spec):
            continue
        qs = _narrowed(spec, principal)
        qs = registry.patient_filter(spec)(qs, str(patient.public_id))
        if since:
            qs = registry.date_filter(spec.updated_field)(qs, f"ge{since}")
        rows = list(qs.order_by("pk"))
        if rows:
            categories.add(spec.category or "attendance")
            resources += _render(spec, rows, request, env)
    principal.record_access(
        action="openiop.fhir.patient.everything", patients=[patient], resource_type="Patient",
        categories=categories, request=request, detail={"count": len(resources)},
    )  # fmt: skip
    base = context(request).base
    return fhir_json(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(resources),
            "meta": {"security": resources[0]["meta"]["security"]},
            "link": [{"relation": "self", "url": request.build_absolute_uri()}],
            "entry": [
                {
                    "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in resources
            ],
        }  # fmt: skip
    )


def _permitted(principal: Principal, spec: Spec) -> bool:
    try:
        principal.require(spec.type, "r", spec.perm)
    except FhirDenied:
        return False
    return True


def base_view(request: HttpRequest) -> HttpResponse:
    """``/fhir/r4/`` itself: no system-level interactions are offered."""
    del request
    return outcome(404, "not-found", "See /fhir/r4/metadata for what this server offers.")
