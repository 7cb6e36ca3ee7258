"""A small, fixed clinic for the API fuzz tests (``test_api_fuzz.py``).

Two organizations. Organization A has one of every object the API reaches by id (patient,
unavailable window, episode, session with a booking, draft and signed notes, referral,
questionnaire response with its safety alert, programs); organization B has its own staff
member and program. The objects are created through the API itself, as a full-rights staff
member of A, so the world is what a client could have built. Text fields of A's objects carry
``SENTINEL`` so a test can tell whether any of A's data leaked into a response.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import uuid
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.test import Client

from openiop.accounts.models import User
from openiop.accounts.permissions import Role
from openiop.accounts.tokens import token_create
from openiop.organizations.models import Organization, Program, Room, Site

NOW = dt.datetime(2026, 11, 4, 23, 0, tzinfo=dt.UTC)  # Wednesday 18:00 in New York
SENTINEL = "Zyqwerlin"  # a made-up word that appears in no fixture text, only in A's records
FULL_RIGHTS = (Role.PROGRAM_DIRECTOR, Role.ADMIN, Role.COUNSELOR)
RISK_FACTS = (
    "needs_detox_now",
    "needs_24h_supervision",
    "toxic_home",
    "harmful_environment",
    "serious_co_occurring",
    "medically_unstable",
)


@dataclass
class World:
    """Public ids of organization A's objects by OpenAPI path parameter name, and tokens."""

    ids: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)  # ids not named by a path parameter
    tokens: dict[str, str] = field(default_factory=dict)  # staff_a, staff_b, counselor_a
    users: dict[str, Any] = field(default_factory=dict)

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _program(org: Organization, site: Site, name: str) -> Program:
    return Program.objects.create(
        organization=org,
        site=site,
        name=name,
        cohort=Program.Cohort.EVENING,
        weekly_min_hours=Decimal("9.0"),
        weekly_max_hours=Decimal("19.0"),
        min_days_per_week=3,
        group_size_cap=10,
    )


def _staff(username: str, organization: Organization, *roles: Role) -> User:
    """A staff member with an API token only: no password, so no 1,000,000-round hash (conftest's
    make_user would cost over half a second per user, for each of the ~50 fuzz tests)."""
    user = User(username=username, organization=organization, first_name=username.title())
    user.set_unusable_password()
    user.save()
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user


def _post(client: Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, body, content_type="application/json")
    assert response.status_code in (200, 201), (path, response.status_code, response.content)
    return response.json()


def build_world() -> World:
    """Create both organizations and A's objects; call inside a test with database access and
    with the clock frozen at ``NOW``."""
    world = World()
    org_a = Organization.objects.create(name="Riverbend Recovery", slug="fuzz-a")
    org_b = Organization.objects.create(name="Lakeside Behavioral", slug="fuzz-b")
    site_a = Site.objects.create(organization=org_a, name="Downtown", timezone="America/New_York")
    site_b = Site.objects.create(organization=org_b, name="Lakeside", timezone="America/Chicago")
    room = Room.objects.create(organization=org_a, site=site_a, name="Group A", capacity=12)
    program = _program(org_a, site_a, "Adult Evening IOP")
    other_program = _program(org_a, site_a, "Adult Day IOP")
    _program(org_b, site_b, "Lakeside IOP")

    staff_a = _staff("fuzz_staff_a", org_a, *FULL_RIGHTS)
    staff_b = _staff("fuzz_staff_b", org_b, *FULL_RIGHTS)
    counselor_a = _staff("fuzz_counselor_a", org_a, Role.COUNSELOR)
    for name, user in (("staff_a", staff_a), ("staff_b", staff_b), ("counselor_a", counselor_a)):
        world.users[name] = user
        world.tokens[name] = token_create(user=user)[1]

    client = Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens['staff_a']}")
    patient = _post(
        client,
        "/api/v1/patients",
        {
            "first_name": "Dana",
            "last_name": "Whitfield",
            "date_of_birth": "1988-04-12",
            "sex": "female",
            "phone": "555-0100",
            "address": f"12 {SENTINEL} Lane",
        },
    )
    p = patient["id"]
    new_patient = _post(  # registered, no episode yet
        client,
        "/api/v1/patients",
        {"first_name": "Rui", "last_name": "Okafor", "date_of_birth": "1979-09-30"},
    )
    window = _post(
        client,
        f"/api/v1/patients/{p}/unavailable-windows",
        {"weekday": 0, "start_time": "09:00", "end_time": "17:00", "note": SENTINEL},
    )
    episode = _post(
        client,
        "/api/v1/episodes",
        {
            "patient": p,
            "program": str(program.public_id),
            "admitted_on": "2026-11-02",
            "primary_substance": 2,
            "primary_counselor": str(staff_a.public_id),
        },
    )
    e = episode["id"]
    session = _post(
        client,
        "/api/v1/sessions",
        {
            "program": str(program.public_id),
            "title": "Relapse prevention",
            "starts_at": "2026-11-04T17:00:00-05:00",  # under way at NOW: attendance is open
            "ends_at": "2026-11-04T20:00:00-05:00",
            "room": str(room.public_id),
        },
    )
    s = session["id"]
    _post(client, f"/api/v1/sessions/{s}/bookings", {"episode": e})
    draft = _post(
        client,
        f"/api/v1/episodes/{e}/notes",
        {"kind": "individual", "sections": {"data": f"Draft about {SENTINEL}."}},
    )
    signed = _post(
        client,
        f"/api/v1/episodes/{e}/notes",
        {
            "kind": "individual",
            "format": "DAP",
            "started_at": "2026-11-03T15:00:00-05:00",
            "ended_at": "2026-11-03T15:50:00-05:00",
            "sections": {"data": f"{SENTINEL} said.", "assessment": "Calm.", "plan": "Next week."},
        },
    )
    _post(client, f"/api/v1/notes/{signed['id']}/sign", {"version": signed["version"]})
    referral = _post(
        client,
        "/api/v1/referrals",
        {
            "first_name": "Maya",
            "last_name": "Lindqvist",
            "received_on": "2026-11-02",
            "date_of_birth": "1990-06-01",
            "phone": "555-0142",
            "reason": f"{SENTINEL} drinking after work",
            "program_requested": str(program.public_id),
        },
    )
    assessed = _post(
        client,
        "/api/v1/referrals",
        {
            "first_name": "Ines",
            "last_name": "Moreau",
            "received_on": "2026-11-01",
            "date_of_birth": "1992-03-14",
            "email": "ines@example.org",
            "program_requested": str(program.public_id),
        },
    )
    _post(
        client,
        f"/api/v1/referrals/{assessed['id']}/assessments",
        {
            "assessed_on": "2026-11-03",
            "criteria_edition": "3",
            **{f"d{n}": rating for n, rating in enumerate([0, 0, 1, 2, 2, 1], start=1)},
            **{f"d{n}_note": f"Reason for dimension {n}" for n in range(1, 7)},
            **dict.fromkeys(RISK_FACTS, False),
            "responsibilities": ["work"],
            "substances": ["alcohol"],
            "chosen_level": "2.1",
        },
    )
    response = _post(
        client,
        f"/api/v1/patients/{p}/questionnaire-responses",
        {"instrument": "phq9", "answers": [1, 1, 1, 1, 1, 1, 1, 1, 2]},
    )
    assert response["alerts"], "PHQ-9 item 9 above 0 raises a safety alert"

    world.ids = {
        "patient_id": p,
        "episode_id": e,
        "session_id": s,
        "note_id": signed["id"],
        "referral_id": referral["id"],
        "response_id": response["id"],
        "alert_id": response["alerts"][0]["id"],
        "program_id": str(program.public_id),
    }
    world.extra = {
        "draft_note_id": draft["id"],
        "new_patient_id": new_patient["id"],
        "assessed_referral_id": assessed["id"],
        "window_id": window["id"],
        "other_program_id": str(other_program.public_id),
        "room_id": str(room.public_id),
        "staff_a_id": str(staff_a.public_id),
    }
    for value in world.ids.values():
        uuid.UUID(value)
    return world


# Body and query fields that name another object, and the world's object to name instead.
REFERENCES: dict[str, tuple[str, ...]] = {
    "patient": ("patient_id", "patient_id", "new_patient_id"),
    "episode": ("episode_id",),
    "program": ("program_id",),
    "program_requested": ("program_id",),
    "chosen_program": ("program_id", "other_program_id"),
    "to_program": ("other_program_id",),
    "room": ("room_id",),
    "primary_counselor": ("staff_a_id",),
    "facilitators": ("staff_a_id",),
}

# Path parameters with more than one object to name: a draft and a signed note, a new and an
# assessed referral.
PATH_OPTIONS: dict[str, tuple[str, ...]] = {
    "note_id": ("note_id", "draft_note_id"),
    "referral_id": ("referral_id", "assessed_referral_id"),
}

# Values a clinic would send, for fields whose schema-valid values are mostly refused by the
# business rules (a date in the year 3000, a session ending before it starts, a made-up level of
# care). Positive cases get them three times in four so that requests reach the services; the
# schema-driven values keep the fourth.
DAYS = ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-09"]
PLAUSIBLE: dict[str, list[Any]] = {
    **{name: DAYS for name in ("admitted_on", "effective_on", "discharged_on", "assessed_on")},
    **{name: DAYS for name in ("received_on", "referral_date", "last_use_on", "from", "date_to")},
    "date_from": ["2026-11-02"],
    "week": ["2026-11-02", "2026-10-26"],
    "date_of_birth": ["1988-04-12", "2001-02-28", "2012-06-30"],
    "starts_at": ["2026-11-05T09:00:00-05:00", "2026-11-04T17:00:00-05:00"],
    "ends_at": ["2026-11-05T12:00:00-05:00", "2026-11-04T20:00:00-05:00"],
    "started_at": ["2026-11-03T15:00:00-05:00"],
    "ended_at": ["2026-11-03T15:50:00-05:00", "2026-11-03T16:30:00-05:00"],
    "checked_in_at": ["2026-11-04T17:05:00-05:00"],
    "checked_out_at": ["2026-11-04T19:55:00-05:00"],
    "administered_at": ["2026-11-04T12:00:00-05:00"],
    "start_time": ["09:00", "18:30"],
    "end_time": ["17:00", "21:00"],
    "chosen_level": ["2.1", "2.5", "1"],
    "instrument": ["phq9"],
    "answers": [[1, 1, 1, 1, 1, 1, 1, 1, 0], [0, 1, 2, 3, 0, 1, 2, 3, 1]],
    "version": [1, 2],
}


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _draw(*parts: Any) -> int:
    """A number derived from the generated values: the same case always makes the same choice."""
    return zlib.crc32(repr(parts).encode())


def _aimed(key: Any, value: Any, ids: dict[str, str], salt: str, plausible: bool) -> Any:
    if key in REFERENCES and _is_uuid(value) and _draw(salt, key, value) % 4:
        options = REFERENCES[key]
        return ids[options[_draw(value, salt) % len(options)]]
    if plausible and key in PLAUSIBLE and _draw(salt, key, value) % 4:
        options = PLAUSIBLE[key]
        return options[_draw(value, salt) % len(options)]
    return value


def aim(case: Any, world: World) -> None:
    """Point the well-formed ids schemathesis made up at the world's objects, so most requests
    reach the code behind the id lookup (one in four keeps its made-up id: the 404 path), and
    give positive cases plausible values for the fields listed in ``PLAUSIBLE``.
    Malformed ids, and every value of a negative case other than ids, are left as they are,
    so a case meant to be refused stays refusable."""
    ids = {**world.ids, **world.extra}
    meta = case.meta
    plausible = meta is not None and meta.generation.mode.value == "positive"
    # Objects such as schemathesis' NotSet print their memory address: leave it out.
    salt = re.sub(r" at 0x[0-9a-f]+", "", repr((case.path_parameters, case.query, case.body)))
    # Work on copies: the coverage phase shares one container between several cases.
    if case.path_parameters:
        path = copy.deepcopy(case.path_parameters)
        for name, value in list(path.items()):
            if name in ids and _is_uuid(value) and _draw(salt, name) % 4:
                options = PATH_OPTIONS.get(name, (name,))
                path[name] = ids[options[_draw(value, salt) % len(options)]]
        case.path_parameters = path
    if case.query:
        query = copy.deepcopy(case.query)
        for name, value in list(query.items()):
            query[name] = _aimed(name, value, ids, salt, plausible)
        case.query = query
    if isinstance(case.body, (dict, list)):
        body = copy.deepcopy(case.body)
        _aim_body(body, ids, salt, plausible)
        case.body = body


def _aim_body(body: Any, ids: dict[str, str], salt: str, plausible: bool) -> None:
    items = list(body.items() if isinstance(body, dict) else enumerate(body))
    for key, value in items:
        if isinstance(value, list) and key in REFERENCES:
            for i, item in enumerate(value):
                value[i] = _aimed(key, item, ids, salt, plausible)
        elif isinstance(value, (dict, list)) and not (plausible and key in PLAUSIBLE):
            _aim_body(value, ids, salt, plausible)
        else:
            body[key] = _aimed(key, value, ids, salt, plausible)
