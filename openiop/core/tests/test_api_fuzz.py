"""The whole JSON API under schemathesis, in process (security.md T6 and T2).

1. ``test_no_operation_misbehaves``: every operation of ``/api/v1/openapi.json`` is called with
   requests schemathesis derives from the schema (phases examples, coverage and fuzzing; the
   stateful phase is off), authenticated as a full-rights staff member of organization A, against
   a seeded clinic (``fuzz_world``) so that most path ids resolve. Fixed seed, derandomized, no
   example database: the same run every time. schemathesis' checks are all on except
   ``positive_data_acceptance`` (a schema cannot say "a discharge date after the admission",
   so schema-valid requests are refused with a 400 by design); ``use_after_free``,
   ``ensure_resource_availability`` and ``object_level_authorization`` need the stateful engine
   or several identities and have nothing to act on here (part 2 covers the last one). So: no
   5xx, every response and status code as documented, invalid input refused, credentials
   enforced, undocumented methods answered 405.
2. ``test_another_organization_...`` / ``test_a_counselor_...``: the two-user object-level
   check. Every operation with an object id in its path is called with organization A's object
   by organization B's staff member (and, for patient records, by a counselor of A outside whose
   caseload the patient is). The answer must be the one a made-up id gets (404, no data), and
   the database must not change.

Each generated request runs in a savepoint that is rolled back, so every example starts from the
same clinic (the audit table refuses DELETE, not a rollback).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
import time_machine
from django.apps import apps
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from hypothesis import HealthCheck, settings
from ninja import Schema

from openiop.core.tests.fuzz_world import NOW, RISK_FACTS, SENTINEL, World, aim, build_world
from openiop.wsgi import application

# Fuzzing-phase cases per operation (the coverage phase adds its own, ~60 per operation).
# 25 keeps the whole file near two minutes on two cores; a longer hunt (security.md T6, tier B):
# OPENIOP_FUZZ_EXAMPLES=200 pytest openiop/core/tests/test_api_fuzz.py
MAX_EXAMPLES = int(os.environ.get("OPENIOP_FUZZ_EXAMPLES", "25"))

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261104,
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # The bearer token is ours to send (below); generated Authorization headers and
            # session cookies would only exercise the 401 path, which ignored_auth covers.
            "with-security-parameters": False,
        },
        # Generation from the seed alone. Values echoed by earlier responses (the clinic's ids
        # are random UUIDs) would make one run differ from the next; aim() points ids instead.
        "phases": {
            "examples": {"extra-data-sources": {"responses": False}},
            "coverage": {"extra-data-sources": {"responses": False}},
            "fuzzing": {
                "extra-data-sources": {"responses": False},
                "error-feedback": {"enabled": False},
            },
            "stateful": {"enabled": False},
        },
        "checks": {"positive_data_acceptance": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)


@pytest.fixture
def world(db) -> Iterator[World]:
    with time_machine.travel(NOW, tick=False):
        world = build_world()
        # Django's WSGI handler closes "old" connections as a request starts and ends; inside the
        # test's transaction that throws the connection away on PostgreSQL. Django's test client
        # unhooks the same receiver around each of its requests (and hooks it back after, which
        # is why this comes after build_world).
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            yield world
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_no_operation_misbehaves(case, world):
    aim(case, world)
    with transaction.atomic():
        case.call_and_validate(headers=world.bearer("staff_a"))
        transaction.set_rollback(True)


# --- T2: object-level authorization, two organizations -----------------------------------------

MISSING = "5d7b1c2a-0000-4000-8000-000000000000"  # an id no object has

Body = Callable[[dict[str, str]], dict[str, Any]] | None

# A request organization A's own staff would send successfully (or be refused for a business
# reason, never for the id or the schema), for every operation with an object id in its path.
OWNER_REQUESTS: dict[tuple[str, str], Body] = {
    ("GET", "/api/v1/patients/{patient_id}"): None,
    ("PATCH", "/api/v1/patients/{patient_id}"): lambda ids: {"phone": "555-0199"},
    ("GET", "/api/v1/patients/{patient_id}/unavailable-windows"): None,
    ("POST", "/api/v1/patients/{patient_id}/unavailable-windows"): lambda ids: {
        "weekday": 2,
        "start_time": "08:00",
        "end_time": "12:00",
    },
    ("GET", "/api/v1/programs/{program_id}"): None,
    ("GET", "/api/v1/episodes/{episode_id}"): None,
    ("POST", "/api/v1/episodes/{episode_id}/admit"): lambda ids: {"admitted_on": "2026-11-02"},
    ("POST", "/api/v1/episodes/{episode_id}/hold"): lambda ids: {
        "effective_on": "2026-11-04",
        "reason": "Family emergency",
    },
    ("POST", "/api/v1/episodes/{episode_id}/resume"): lambda ids: {"effective_on": "2026-11-04"},
    ("POST", "/api/v1/episodes/{episode_id}/transfer"): lambda ids: {
        "to_program": ids["other_program_id"],
        "effective_on": "2026-11-04",
    },
    ("POST", "/api/v1/episodes/{episode_id}/discharge"): lambda ids: {
        "discharged_on": "2026-11-04",
        "reason": 1,
    },
    ("GET", "/api/v1/sessions/{session_id}"): None,
    ("POST", "/api/v1/sessions/{session_id}/cancel"): lambda ids: {"reason": "Snow"},
    ("POST", "/api/v1/sessions/{session_id}/bookings"): lambda ids: {"episode": ids["episode_id"]},
    ("POST", "/api/v1/sessions/{session_id}/attendance"): lambda ids: {
        "entries": [{"patient": ids["patient_id"], "status": "present"}]
    },
    ("GET", "/api/v1/referrals/{referral_id}"): None,
    ("POST", "/api/v1/referrals/{referral_id}/screenings"): lambda ids: {"notes": "By phone"},
    ("POST", "/api/v1/referrals/{referral_id}/assessments"): lambda ids: {
        "assessed_on": "2026-11-03",
        "criteria_edition": "3",
        **{f"d{n}": 1 for n in range(1, 7)},
        **{f"d{n}_note": "Reason" for n in range(1, 7)},
        **dict.fromkeys(RISK_FACTS, False),
        "chosen_level": "2.1",
    },
    ("GET", "/api/v1/referrals/{referral_id}/seat-offers"): None,
    ("POST", "/api/v1/referrals/{referral_id}/admit"): lambda ids: {
        "program": ids["program_id"],
        "admitted_on": "2026-11-04",
        "consent_signed_by": "Maya Lindqvist",
    },
    ("POST", "/api/v1/referrals/{referral_id}/waitlist"): lambda ids: {
        "program": ids["program_id"]
    },
    ("POST", "/api/v1/referrals/{referral_id}/refer-out"): lambda ids: {"to": "Harbor Detox"},
    ("POST", "/api/v1/referrals/{referral_id}/close"): lambda ids: {
        "status": "declined",
        "note": "Chose another provider",
    },
    ("GET", "/api/v1/patients/{patient_id}/questionnaire-responses"): None,
    ("POST", "/api/v1/patients/{patient_id}/questionnaire-responses"): lambda ids: {
        "instrument": "gad7",
        "answers": [0, 1, 0, 1, 0, 1, 0],
    },
    ("GET", "/api/v1/questionnaire-responses/{response_id}"): None,
    ("POST", "/api/v1/alerts/{alert_id}/follow-up"): lambda ids: {"note": "Called; safe"},
    ("GET", "/api/v1/episodes/{episode_id}/notes"): None,
    ("POST", "/api/v1/episodes/{episode_id}/notes"): lambda ids: {"kind": "individual"},
    ("GET", "/api/v1/notes/{note_id}"): None,
    ("PATCH", "/api/v1/notes/{note_id}"): lambda ids: {"version": 1, "modality": "video"},
    ("POST", "/api/v1/notes/{note_id}/sign"): lambda ids: {"version": 1},
    ("POST", "/api/v1/notes/{note_id}/amendments"): lambda ids: {
        "reason": "Wrong date",
        "sections": {"data": "Corrected"},
    },
    ("POST", "/api/v1/notes/{note_id}/cosign"): lambda ids: {"comment": "Reviewed"},
}

# Operations whose path object is (part of) one patient's record: caseload scoping applies.
PATIENT_RECORD_IDS = {"patient_id", "episode_id", "note_id", "response_id", "alert_id"}

# Operations without a path id that take organization A's ids in the body or the query: another
# organization must get a refusal naming the field, never A's data or a write.
FOREIGN_REFERENCES: list[tuple[str, str, Body]] = [
    ("GET", "/api/v1/episodes?patient={patient_id}", None),
    ("GET", "/api/v1/episodes?program={program_id}", None),
    ("GET", "/api/v1/sessions?program={program_id}", None),
    ("GET", "/api/v1/compliance?program={program_id}&week=2026-11-02", None),
    ("GET", "/api/v1/waitlist?program={program_id}", None),
    ("POST", "/api/v1/episodes", lambda ids: {"patient": ids["patient_id"], "program": "{own}"}),
    (
        "POST",
        "/api/v1/sessions",
        lambda ids: {
            "program": ids["program_id"],
            "title": "Group",
            "starts_at": "2026-11-05T09:00:00-06:00",
            "ends_at": "2026-11-05T12:00:00-06:00",
        },
    ),
    (
        "POST",
        "/api/v1/referrals",
        lambda ids: {
            "first_name": "Ann",
            "last_name": "Lee",
            "received_on": "2026-11-03",
            "phone": "555-0101",
            "patient": ids["patient_id"],
        },
    ),
]


def _path_ids(template: str) -> list[str]:
    return [part[1:-1] for part in template.split("/") if part.startswith("{")]


def _url(template: str, ids: dict[str, str]) -> str:
    return template.format(**ids)


def _send(client: Client, method: str, url: str, body: dict[str, Any] | None) -> Any:
    if method == "GET":
        return client.get(url)
    return getattr(client, method.lower())(url, body or {}, content_type="application/json")


def _client(world: World, who: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens[who]}")


def _fingerprint() -> str:
    """A digest of every row the application keeps, except the audit trail (a refusal is
    audited, as it should be) and the tokens' last-used time."""
    digest = hashlib.sha256()
    skip = {"core.auditevent", "core.audithead", "accounts.apitoken", "sessions.session"}
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label_lower):
        if model._meta.label_lower in skip or not model._meta.managed:
            continue
        rows = model._base_manager.order_by("pk").values_list()
        digest.update(model._meta.label_lower.encode())
        digest.update(repr(list(rows)).encode())
    return digest.hexdigest()


def _leaks(response: Any, world: World) -> list[str]:
    text = response.content.decode(errors="replace")
    own = {**world.ids, **world.extra}
    return [m for m in [SENTINEL, "Whitfield", *own.values()] if m and m in text]


def _owner_reaches(world: World, method: str, url: str, body: dict[str, Any] | None) -> int:
    """The status organization A's staff gets (rolled back): proves the id and body are good."""
    with transaction.atomic():
        status = _send(_client(world, "staff_a"), method, url, body).status_code
        transaction.set_rollback(True)
    return status


def _compare_with_missing(
    world: World, who: str, method: str, template: str, body: Body, target: dict[str, str]
) -> list[str]:
    """Call the operation on A's object and on a made-up id as ``who``; both must look alike."""
    problems: list[str] = []
    client = _client(world, who)
    data = body({**world.ids, **world.extra}) if body else None
    missing = dict.fromkeys(_path_ids(template), MISSING)
    foreign = _send(client, method, _url(template, target), data)
    unknown = _send(client, method, _url(template, missing), data)
    label = f"{method} {template} as {who}"
    if foreign.status_code != unknown.status_code or foreign.content != unknown.content:
        problems.append(
            f"{label}: A's object answers {foreign.status_code} {foreign.content[:120]!r}, "
            f"a made-up id {unknown.status_code} {unknown.content[:120]!r}"
        )
    if foreign.status_code not in (403, 404):
        problems.append(f"{label}: {foreign.status_code}, expected 404")
    if leaked := _leaks(foreign, world):
        problems.append(f"{label}: the answer carries A's data {leaked}")
    return problems


def _operations_with_path_ids() -> set[tuple[str, str]]:
    found = set()
    for path, item in schema.raw_schema["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "patch", "delete") and _path_ids(path):
                found.add((method.upper(), path))
    return found


def test_every_operation_with_an_object_id_is_in_the_two_user_table():
    assert set(OWNER_REQUESTS) == _operations_with_path_ids()


def test_another_organization_gets_404_for_every_object_and_changes_nothing(world):
    ids = {**world.ids, **world.extra}
    for (method, template), body in OWNER_REQUESTS.items():
        status = _owner_reaches(world, method, _url(template, ids), body(ids) if body else None)
        assert status not in (404, 422) and status < 500, (method, template, status)

    before = _fingerprint()
    problems: list[str] = []
    for (method, template), body in OWNER_REQUESTS.items():
        problems += _compare_with_missing(world, "staff_b", method, template, body, ids)
        if method == "GET":  # 404, never 403: B's role could read such objects in its own org
            response = _send(_client(world, "staff_b"), method, _url(template, ids), None)
            assert response.status_code == 404, (template, response.status_code)
            assert response.json() == {"detail": "Not found"}

    b_program = next(
        p["id"]
        for p in _send(_client(world, "staff_b"), "GET", "/api/v1/programs", None).json()["items"]
    )
    for method, template, body in FOREIGN_REFERENCES:
        data = body(ids) if body else None
        if data and data.get("program") == "{own}":
            data["program"] = b_program
        response = _send(_client(world, "staff_b"), method, _url(template, ids), data)
        label = f"{method} {template} as staff_b"
        if not (400 <= response.status_code < 500 or response.status_code == 200):
            problems.append(f"{label}: {response.status_code}")
        if method != "GET" and response.status_code < 400:
            problems.append(f"{label}: accepted A's ids ({response.status_code})")
        if leaked := _leaks(response, world):
            problems.append(f"{label}: the answer carries A's data {leaked}")
    if _fingerprint() != before:
        problems.append("a refused request changed the database")
    assert not problems, "\n".join(problems)


def test_a_counselor_gets_404_for_a_patient_outside_the_caseload(world):
    ids = {**world.ids, **world.extra}
    counselor = _client(world, "counselor_a")
    # The counselor's token works: a patient nobody is assigned to yet (intake) is visible.
    assert counselor.get(f"/api/v1/patients/{ids['new_patient_id']}").status_code == 200

    before = _fingerprint()
    problems: list[str] = []
    for (method, template), body in OWNER_REQUESTS.items():
        if set(_path_ids(template)) <= PATIENT_RECORD_IDS:
            problems += _compare_with_missing(world, "counselor_a", method, template, body, ids)
    if _fingerprint() != before:
        problems.append("a refused request changed the database")
    assert not problems, "\n".join(problems)


def test_openapi_component_names_are_unique():
    """Two request schemas with one class name share one OpenAPI component, so the document
    describes one operation's body with the other's fields (it did: two ``AdmitIn``)."""
    seen: dict[str, str] = {}
    stack: list[type] = [Schema]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        module = cls.__module__
        if module.startswith("openiop.") and (
            module.endswith(".schemas") or module.endswith(".api") or module.endswith("api_auth")
        ):
            where = f"{module}.{cls.__qualname__}"
            assert seen.setdefault(cls.__name__, where) == where, (seen[cls.__name__], where)
    documented = set(json.loads(json.dumps(schema.raw_schema))["components"]["schemas"])
    assert documented <= set(seen)
