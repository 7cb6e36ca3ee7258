"""Authentication for the JSON API, plus the small plumbing every router shares.

Decision (see also docs): the API accepts two credentials, tried in this order.

1. ``Authorization: Bearer oiop_...`` -- an API token made with ``openiop token create --user U``.
   This is the credential for scripts and integrations. Only a SHA-256 of the token is stored
   (``openiop.accounts.tokens``). Ninja marks its views CSRF-exempt, which is right for a header
   credential: a browser never attaches it on its own, so cross-site requests cannot forge it.
2. The Django session cookie of a logged-in staff member, so the interactive docs at
   ``/api/v1/docs`` work from the browser. A cookie *is* attached by the browser automatically,
   so for unsafe methods (POST, PATCH, ...) the CSRF token is checked exactly as for a form post
   (``X-CSRFToken`` header); a forged cross-site POST gets 403. Unlike ninja's ``django_auth``
   the CSRF check runs only when a session cookie is present: an anonymous POST is 401, not 403.

Either way the user must be active and belong to an organization: staff outside any
organization (e.g. a bare superuser) get 401, as they can see no patient anyway. Roles are not
checked here; each endpoint asks for its permission (``openiop.core.access.require_perm``).

The rest of this module is shared by the routers: the error body, the paging envelope, the
input base schema (rejects unknown fields and NUL characters) and bounded date/time types, so
that odd but well-formed input (year 9999, ``\\x00``) is a 422 instead of a 500 further down.
"""

from __future__ import annotations

import datetime as dt
import re
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from django.conf import settings
from django.http import HttpRequest
from ninja import Schema
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from openiop.accounts.tokens import token_authenticate


def _staff(user: Any) -> Any:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if getattr(user, "organization_id", None) is None:
        return None
    return user


class BearerAuth(HttpBearer):
    """``Authorization: Bearer oiop_...``; sets ``request.user`` to the token's owner."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = _staff(token_authenticate(token.strip()))
        if user is not None:
            request.user = user
        return user


class StaffSessionAuth(APIKeyCookie):
    """The browser's Django session; CSRF-checked for unsafe methods when the cookie is sent."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key:
            return None
        user = _staff(getattr(request, "user", None))
        if user is None:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False):
            if check_csrf(request) is not None:
                raise HttpError(403, "CSRF check failed: send the X-CSRFToken header.")
        return user


API_AUTH = [BearerAuth(), StaffSessionAuth()]


# --- errors -------------------------------------------------------------------------------------


class FieldError(Schema):
    field: str | None = Field(description="The input field at fault (dotted path), if any.")
    message: str
    loc: list[str | int] | None = None
    type: str | None = None


class ErrorOut(Schema):
    detail: str | list[FieldError]


# Declared on every operation so the OpenAPI document lists what a client can get back.
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422)}


def responses(ok: Any, code: int = 200) -> dict[int, Any]:
    return {code: ok, **ERRORS}


# --- input --------------------------------------------------------------------------------------

MIN_YEAR, MAX_YEAR = 1900, 2200

# pydantic's lax mode reads a number as a Unix timestamp (``"date_of_birth": 0`` would be
# 1970-01-01, ``?date_to=0`` too) and ``"12"`` as a time of day: only ISO-8601 text is a date.
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_ISO_TIME = re.compile(r"\d{2}:\d{2}")


def _iso_text(pattern: re.Pattern[str], kind: type, example: str, whole: bool = False) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, str):
            found = pattern.fullmatch(value) if whole else pattern.match(value)
            if found:
                return value
        elif isinstance(value, kind):
            return value
        raise ValueError(f"give ISO-8601 text, e.g. {example}")

    return BeforeValidator(check)


def _day_in_range(value: dt.date) -> dt.date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


def _moment_in_range(value: dt.datetime) -> dt.datetime:
    _day_in_range(value.date())
    return value


Day = Annotated[
    dt.date,
    _iso_text(_ISO_DAY, dt.date, "2026-11-04", whole=True),
    AfterValidator(_day_in_range),
]
"""A calendar date (YYYY-MM-DD) between the years 1900 and 2200."""

Moment = Annotated[
    AwareDatetime,
    _iso_text(_ISO_MOMENT, dt.datetime, "2026-11-04T18:00:00-05:00"),
    AfterValidator(_moment_in_range),
]
"""An ISO-8601 date-time WITH an offset (``2026-11-04T18:00:00-05:00``); naive ones are refused."""


def _wall_time(value: dt.time) -> dt.time:
    if value.tzinfo is not None:
        raise ValueError("give a site-local wall time without an offset, e.g. 18:00")
    return value


# JSON Schema's "time" format is RFC 3339 full-time, which REQUIRES an offset; a wall-clock time
# has none, so the OpenAPI document describes it with a pattern instead.
_WALL_TIME_SCHEMA = {
    "type": "string",
    "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
    "description": "Site-local wall-clock time without an offset, HH:MM or HH:MM:SS",
}

WallTime = Annotated[
    dt.time,
    _iso_text(_ISO_TIME, dt.time, "18:00"),
    AfterValidator(_wall_time),
    WithJsonSchema(_WALL_TIME_SCHEMA),
]
"""A site-local wall-clock time (HH:MM[:SS]) without an offset."""

ClockTime = Annotated[dt.time, WithJsonSchema(_WALL_TIME_SCHEMA)]
"""The output twin of ``WallTime``: serialized as ``HH:MM:SS``, documented without an offset."""


def choices(values: list[Any]) -> Any:
    """``Literal[...]`` of a TextChoices' values (avoids clashing enum names in the OpenAPI)."""
    return Literal[tuple(values)]  # type: ignore[valid-type]


def _json_scalars(annotation: Any) -> set[Any]:
    """The scalar types a field accepts: {bool}, {int}, {int, None} ...; ``object`` for others."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _json_scalars(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return set().union(*(_json_scalars(arg) for arg in get_args(annotation)))
    if annotation is type(None):
        return {None}
    if annotation in (bool, int):
        return {annotation}
    return {object}


class In(Schema):
    """Base for request bodies: unknown fields are refused (no mass assignment), and so are NUL
    characters, which PostgreSQL cannot store.

    JSON types are taken at their word: a boolean field takes ``true``/``false`` only (not
    ``0``, ``"no"``), an integer field a JSON number without a fraction only (not ``"5"`` or
    ``true``), which pydantic's lax mode would otherwise convert silently. (``5.0`` is an integer
    in JSON Schema's sense, so it passes here.)"""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _json_types(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or info.field_name is None:
            return value
        kinds = _json_scalars(cls.model_fields[info.field_name].annotation) - {None}
        if kinds == {bool} and not isinstance(value, bool):
            raise ValueError("must be true or false")
        if kinds == {int} and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (isinstance(value, float) and not value.is_integer())
        ):
            raise ValueError("must be an integer")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


# --- output -------------------------------------------------------------------------------------


class Ref(Schema):
    """Another object, by public id and display name."""

    id: str
    name: str


def ref(obj: Any) -> dict[str, str] | None:
    if obj is None:
        return None
    return {"id": str(obj.public_id), "name": str(obj)}


def page_size() -> int:
    return int(settings.OPENIOP_API_PAGE_SIZE)


def paginate(queryset: Any, limit: int | None, offset: int) -> tuple[int, list[Any], int]:
    """(count, items, limit). ``limit`` defaults to, and is capped at, OPENIOP_API_PAGE_SIZE."""
    size = page_size() if limit is None else min(limit, page_size())
    count = queryset.count()
    items = list(queryset[offset : offset + size]) if offset < count else []
    return count, items, size
