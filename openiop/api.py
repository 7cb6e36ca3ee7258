"""The JSON API, version 1: /api/v1/, OpenAPI at /api/v1/openapi.json.

Every error is JSON ``{"detail": ...}``:

* 400: a service refused the input (django ``ValidationError``); ``detail`` lists
  ``{"field", "message"}`` per problem, so a client can put the message next to the field.
* 401: no or bad credential (see ``openiop.core.api_auth``).
* 403: the role lacks the permission (an audit row with outcome "denied" is written).
* 404: not found, or it belongs to another organization (existence never leaks).
* 409: the database refused a write that raced with another one.
* 422: the request does not match the schema (wrong type, unknown field, naive datetime ...);
  ``detail`` lists ``{"field", "message", "loc", "type"}``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError as SchemaValidationError

from openiop.attendance.api import router as attendance_router
from openiop.clinical.api import router as clinical_router
from openiop.core.api_auth import API_AUTH
from openiop.core.middleware import audit_refusal
from openiop.enrollment.api import router as enrollment_router
from openiop.organizations.api import router as organizations_router
from openiop.patients.api import router as patients_router
from openiop.placement.api import router as placement_router
from openiop.questionnaires.api import router as questionnaires_router
from openiop.scheduling.api import router as scheduling_router

api = NinjaAPI(
    title="OpenIOP API",
    version="1",
    urls_namespace="api-v1",
    description=(
        "Programs, patients, episodes, sessions, attendance and weekly-hours compliance. "
        "Authenticate with `Authorization: Bearer <token>` (`openiop token create --user U`). "
        "Ids are UUIDs. Datetimes are ISO-8601 with an offset."
    ),
    auth=API_AUTH,
)

api.add_router("/patients", patients_router, tags=["patients"])
api.add_router("/programs", organizations_router, tags=["programs"])
api.add_router("/episodes", enrollment_router, tags=["episodes"])
api.add_router("/sessions", scheduling_router, tags=["sessions"])
api.add_router("/", attendance_router, tags=["attendance"])
api.add_router("/", placement_router, tags=["placement"])
api.add_router("/", questionnaires_router, tags=["questionnaires"])
api.add_router("/", clinical_router, tags=["notes"])


def _field_from_loc(loc: tuple[Any, ...] | list[Any]) -> str | None:
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[2:]  # ("body", "<parameter name>", field, ...)
    elif parts and parts[0] in ("query", "path", "header", "cookie", "form"):
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or None


@api.exception_handler(SchemaValidationError)
def schema_error(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
    detail = []
    for error in exc.errors:
        loc = list(error.get("loc", ()))
        message = str(error.get("msg", "invalid value"))
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        detail.append(
            {
                "field": _field_from_loc(loc),
                "message": message,
                "loc": [p if isinstance(p, int) else str(p) for p in loc],
                "type": str(error.get("type", "")),
            }
        )
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(DjangoValidationError)
def service_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    detail: list[dict[str, Any]] = []
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            name = None if field == NON_FIELD_ERRORS else field
            detail.extend({"field": name, "message": str(m)} for m in messages)
    else:
        detail.extend({"field": None, "message": str(m)} for m in exc.messages)
    return api.create_response(request, {"detail": detail}, status=400)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    audit_refusal(request, exc)
    return api.create_response(request, {"detail": "Not found"}, status=404)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    audit_refusal(request, exc)
    return api.create_response(request, {"detail": str(exc) or "Forbidden"}, status=403)


@api.exception_handler(IntegrityError)
def conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": "The change conflicts with data saved at the same time; reload and retry."},
        status=409,
    )
