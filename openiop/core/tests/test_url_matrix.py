"""T1: the role x URL authorization matrix (security.md T1; the policy is
openiop/core/url_policy.py, rendered as docs/access-matrix.md).

For every URL of the project, every method the policy declares and 9 principals (anonymous and
one user per role, each holding that role only, in the world's organization) a real request goes
through the whole middleware stack (pages with a session, the API with a Bearer token):

* allowed: not 401/403/404/405, not a 5xx, not sent to the log-in page;
* denied: 403 for a signed-in user, with a "denied" audit row written by that request; for an
  anonymous visitor a redirect to the log-in page (the API: 401).

Every cell runs in a savepoint that is rolled back, so no cell changes what the next one sees.
A GET changes no table but the audit trail and the sessions. Methods the policy does not declare
change nothing either (probed as the admin and the auditor role). With MFA required, a
password-only session reaches no URL but the public ones.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse

from conftest import make_user
from openiop.accounts.permissions import Perm, Role
from openiop.accounts.tests.helpers import password_login
from openiop.api import api
from openiop.clinical.selectors.ur import pdf_available
from openiop.core import url_policy
from openiop.core.models import AuditEvent
from openiop.core.tests.url_matrix_targets import BODY, KWARGS, QUERY, kwargs_for
from openiop.core.tests.url_matrix_world import NOW, World, build_world
from openiop.core.url_policy import (
    AUTHENTICATED,
    FHIR,
    NOT_FOUND,
    POLICY,
    PORTAL,
    PUBLIC,
    SUPERUSER,
    TOKEN_LINK,
    allowed_roles,
    anonymous_allowed,
    policy_key,
    rule_for,
    walk_urls,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# Admin pages walked (the "admin:*" rule covers all of them): those without path arguments.
ADMIN_NOT_WALKED = {"admin:login", "admin:logout"}  # login is PUBLIC; logout answers "index"
# Tables a request may write without changing anything: the audit trail, sessions, log-in
# throttling. (An API token's last-used time is an UPDATE; row counts do not see it.)
UNCOUNTED_PREFIXES = ("core_audit", "django_session", "axes_")
# Reads that write a row on purpose, and why.
READ_WRITES_ALLOWED = {
    # The enrolment page creates the pending authenticator whose secret it shows, so that a
    # reload shows the same QR code (openiop.accounts.mfa.pending_totp_device).
    "accounts:mfa-setup": {"otp_totp_totpdevice"},
}
# What the auditor may change although "auditor reads everything, changes nothing" (roles.md):
# their own feed, the chain check (it only writes its audit row) and the review of emergency
# accesses, which the role matrix gives compliance (break_glass.review).
AUDITOR_WRITES = {
    "scheduling:my-calendar-create",
    "scheduling:my-calendar-rotate",
    "scheduling:my-calendar-revoke",
    "audit:chain-verify",
    "consent:break-glass-review",
}


# --- the URL list -------------------------------------------------------------------------------


@functools.cache
def _resolved() -> dict[str, str]:
    urls: dict[str, str] = {}
    for name, route in walk_urls():
        urls.setdefault(name, route)
    return urls


def _matrix_names() -> list[str]:
    """Every URL name walked: all non-admin names, and the admin pages without arguments."""
    names = []
    for name in _resolved():
        if policy_key(name) is None:
            continue  # test_every_url_is_in_the_policy names it
        if name.startswith("admin:"):
            if name in ADMIN_NOT_WALKED or "<" in name:
                continue
            try:
                reverse(name)
            except NoReverseMatch:  # needs arguments: the "admin:*" rule covers it anyway
                continue
        names.append(name)
    return sorted(names)


def _groups() -> dict[str, list[str]]:
    """The names in readable groups of at most 24: per namespace, split when large."""
    by_ns: dict[str, list[str]] = {}
    for name in _matrix_names():
        by_ns.setdefault(name.partition(":")[0] if ":" in name else "root", []).append(name)
    groups: dict[str, list[str]] = {}
    for ns, names in by_ns.items():
        chunks = [names[i : i + 24] for i in range(0, len(names), 24)]
        for n, chunk in enumerate(chunks, 1):
            groups[ns if len(chunks) == 1 else f"{ns}-{n}"] = chunk
    return groups


GROUPS = _groups()


def _route_methods(name: str) -> set[str]:
    """The methods the policy declares for the route behind ``name``: API operations that share
    a path (list and create) answer each other's methods."""
    routes = _resolved()
    return {
        method
        for other, route in routes.items()
        if route == routes[name] and policy_key(other) is not None
        for method in POLICY[policy_key(other)]  # type: ignore[index]
    }


# --- the policy itself --------------------------------------------------------------------------


def test_every_url_is_in_the_policy():
    """The completeness gate: a new URL fails here until someone classifies it."""
    missing = sorted(name for name in _resolved() if policy_key(name) is None)
    assert not missing, "URLs missing from openiop/core/url_policy.py POLICY:\n" + "\n".join(
        missing
    )


def test_every_policy_entry_still_exists():
    names = set(_resolved())
    stale = [
        key
        for key in POLICY
        if not (any(n.startswith(key[:-1]) for n in names) if key.endswith(":*") else key in names)
    ]
    assert not stale, f"POLICY entries for URLs that no longer exist: {stale}"
    assert set(url_policy.NOTES) <= set(POLICY)


def test_every_rule_is_a_method_and_a_known_rule():
    for key, methods in POLICY.items():
        assert methods, key
        for method, rule in methods.items():
            assert method in ("GET", *UNSAFE), (key, method)
            perms = rule if isinstance(rule, tuple) else (rule,)
            assert all(isinstance(p, Perm | url_policy.Marker) for p in perms), (key, rule)


def test_every_url_with_path_arguments_has_its_request_built():
    """Each walked name with path arguments has a builder in url_matrix_targets.KWARGS."""
    routes = _resolved()
    needs = [n for n in _matrix_names() if "<" in routes[n] and n not in KWARGS]
    assert not needs, needs


def test_the_docs_table_matches_the_policy():
    actual = (ROOT / "docs" / "access-matrix.md").read_text()
    assert actual == url_policy.document(), (
        "docs/access-matrix.md is out of date: run "
        "`python -m openiop.core.url_policy > docs/access-matrix.md`"
    )


def test_rules_resolve_through_the_role_matrix():
    assert allowed_roles((Perm.UR_PACKET, Perm.NOTE_WRITE)) == {
        Role.COUNSELOR, Role.PROGRAM_DIRECTOR, Role.ADMIN
    }  # fmt: skip
    assert allowed_roles(SUPERUSER) == frozenset() and allowed_roles(TOKEN_LINK) == set(Role)
    assert rule_for("admin:auth_group_changelist", "GET") == SUPERUSER
    assert rule_for("clinical:note-detail", "POST") is None
    assert anonymous_allowed(TOKEN_LINK) and not anonymous_allowed(AUTHENTICATED)


def test_the_auditor_changes_nothing_but_their_own_account():
    """roles.md: the auditor reads everything and changes nothing. The unsafe methods the policy
    lets the auditor through are their own account's pages and the listed exceptions."""
    writes = {
        name
        for name, methods in POLICY.items()
        for method, rule in methods.items()
        if method in UNSAFE
        and rule not in (PUBLIC, AUTHENTICATED, TOKEN_LINK)
        and Role.AUDITOR in allowed_roles(rule)
    }
    assert writes == AUDITOR_WRITES


def test_front_desk_and_billing_never_reach_a_note():
    """Front desk and billing do not read clinical notes (roles.md, issue 5 and 7)."""
    for name, methods in POLICY.items():
        if name.startswith(("clinical:note", "clinical:group-note", "api-v1:get_note")):
            for rule in methods.values():
                assert not allowed_roles(rule) & {Role.FRONT_DESK, Role.BILLING}, name


# --- the world ----------------------------------------------------------------------------------


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    """Nine accounts per test: hash their passwords cheaply (hashing is not what is tested)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(
    fast_passwords, frozen, org, site, room, program, patient, episode, counselor, supervisor,
    intake, front_desk, billing, auditor, prescriber, monkeypatch,
) -> World:  # fmt: skip
    from openiop.scheduling import week

    # Building a week starts a solver process; the matrix only asks whether the door opens.
    monkeypatch.setattr(week, "start_background_solve", lambda draft: None)
    # The OpenAPI document takes seconds to build and is the same for everyone: build it once.
    schema = api.get_openapi_schema()
    monkeypatch.setattr(api, "get_openapi_schema", lambda **kwargs: schema)
    users = {
        Role.INTAKE: intake, Role.COUNSELOR: counselor, Role.PRESCRIBER: prescriber,
        Role.PROGRAM_DIRECTOR: supervisor, Role.FRONT_DESK: front_desk, Role.BILLING: billing,
        Role.AUDITOR: auditor, Role.ADMIN: make_user("admin", org, Role.ADMIN),
    }  # fmt: skip
    from django.conf import settings as django_settings

    # The SMS provider's reply webhook opens only with the configured token.
    monkeypatch.setattr(django_settings, "OPENIOP_SMS_INBOUND_TOKEN", "matrix-sms-inbound-token")
    world = build_world(org=org, site=site, room=room, program=program, patient=patient,
                        episode=episode, users=users)  # fmt: skip
    world.tokens["sms"] = "matrix-sms-inbound-token"
    return world


def test_the_world_has_what_the_urls_need(world):
    assert all(len(user.groups.all()) == 1 for user in world.users.values())
    assert {u.organization_id for u in world.users.values()} == {world["org"].pk}
    assert world["alert"] is not None, "the PHQ-9 should have raised an item-9 alert"
    assert world["plan_active"].status == "active" and world["plan_draft"].status == "draft"
    assert world["signed_note"].cosign_required and world["colleague_note"].cosign_required
    assert world["note"].status == "draft" and world["note"].kind == "individual"
    assert world["referral"].is_open and world["ended_episode"].status == "discharged"


# --- one request ----------------------------------------------------------------------------


def _is_api(name: str) -> bool:
    return name.startswith("api-v1:")


def _tables() -> list[str]:
    names = connection.introspection.table_names()
    return sorted(t for t in names if not t.startswith(UNCOUNTED_PREFIXES))


def _counts(tables: list[str]) -> dict[str, int]:
    """Row counts of every table, in one query."""
    quote = connection.ops.quote_name
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(t)})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return dict(zip(tables, row, strict=True))


@dataclass
class Outcome:
    status: int
    location: str = ""
    error: str = ""

    def __str__(self) -> str:
        if self.error:
            return self.error
        return f"{self.status} -> {self.location}" if self.location else str(self.status)


def _send(client: Client, method: str, url: str, body: dict[str, Any] | None) -> Outcome:
    """One request; a view's exception is an outcome too (reported, not raised)."""
    try:
        if body is not None:
            response = client.generic(method, url, json.dumps(body), "application/json")
        elif method == "GET":
            response = client.get(url)
        else:
            response = client.generic(method, url, "", "application/x-www-form-urlencoded")
    except Exception as exc:  # noqa: BLE001
        return Outcome(500, error=f"exception {type(exc).__name__}: {exc}"[:300])
    return Outcome(response.status_code, response.get("Location", ""))


def _login_redirect(outcome: Outcome, *, admin: bool = False) -> bool:
    if outcome.status not in (301, 302):
        return False
    if admin:
        return outcome.location.startswith("/admin/")
    return outcome.location.startswith(settings.LOGIN_URL) and "next=" in outcome.location


def _verdict(name: str, rule: Any, role: Role | None, outcome: Outcome) -> tuple[str, bool]:
    """(what the policy expects, does the outcome match it)."""
    if rule == NOT_FOUND:
        return "404", outcome.status == 404
    if rule == FHIR:  # FHIR takes a client token only: a session (or nothing) gets 401
        return "401", outcome.status == 401
    allowed = anonymous_allowed(rule) if role is None else role in allowed_roles(rule)
    if allowed:
        ok = (
            outcome.status < 500
            and outcome.status not in (401, 403, 404, 405)
            and not (_login_redirect(outcome) and rule not in (PUBLIC, TOKEN_LINK))
        )
        if outcome.status == 404 and name == "clinical:ur-pdf" and not pdf_available():
            ok = True  # PDF export needs the optional WeasyPrint (the HTML download is walked)
        return "allowed", ok
    if rule == SUPERUSER:  # the admin sends anyone without the staff flag to its log-in page
        return "redirect to the admin log-in", _login_redirect(outcome, admin=True)
    if role is None:
        if _is_api(name):
            return "401", outcome.status == 401
        return "redirect to log in", _login_redirect(outcome)
    if rule == PORTAL:  # the portal is not a staff place: 404 whatever the role
        return "404", outcome.status == 404
    return "403", outcome.status == 403


@dataclass
class Principal:
    role: Role | None
    user: Any
    session_key: str

    @property
    def label(self) -> str:
        return self.role.value if self.role else "anonymous"

    def client(self, api_route: bool, world: World) -> Client:
        """A fresh client per request: a cell that logs out or rotates the session key cannot
        leak into the next one (its database side is rolled back with the cell)."""
        if api_route and self.role is not None:
            return Client(HTTP_AUTHORIZATION=f"Bearer {world.api_tokens[self.role]}")
        client = Client()
        if self.session_key:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.session_key
        return client


def _principals(world: World) -> list[Principal]:
    found = [Principal(None, None, "")]
    for role in Role:
        client = Client()
        client.force_login(world.users[role])
        found.append(
            Principal(role, world.users[role], client.cookies[settings.SESSION_COOKIE_NAME].value)
        )
    return found


def _requests(world: World, name: str, method: str, role: Role | None) -> list[tuple[str, Any]]:
    """(url, JSON body or None) for each object the name is walked with."""
    query = QUERY[name](world) if name in QUERY else ""
    body = None
    if _is_api(name) and method != "GET":
        body = BODY[name](world, role) if name in BODY else {}
    return [(reverse(name, kwargs=kw) + query, body) for kw in kwargs_for(name, world, role)]


def _cell(world: World, name: str, method: str, who: Principal, tables: list[str]) -> list[str]:
    """Check one (URL, method, principal) cell; returns the problems found."""
    rule = rule_for(name, method)
    problems = []
    for url, body in _requests(world, name, method, who.role):
        label = f"{method} {url} [{name}] as {who.label}"
        with transaction.atomic():
            last_audit = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
            before = _counts(tables) if method == "GET" else None
            outcome = _send(who.client(_is_api(name), world), method, url, body)
            expected, ok = _verdict(name, rule, who.role, outcome)
            if outcome.error:  # the view raised: the transaction may be unusable until rollback
                problems.append(f"{label}: expected {expected}, got {outcome}")
                before = None
            elif not ok:
                problems.append(f"{label}: expected {expected}, got {outcome}")
            elif (
                expected == "403"
                and not AuditEvent.objects.filter(
                    id__gt=last_audit or 0, outcome=AuditEvent.Outcome.DENIED, actor=who.user
                ).exists()
            ):
                problems.append(f"{label}: 403 without a 'denied' audit row")
            if before is not None:
                problems.extend(_writes(label, name, tables, before))
            transaction.set_rollback(True)
    return problems


def _writes(label: str, name: str, tables: list[str], before: dict[str, int]) -> list[str]:
    after = _counts(tables)
    changed = {t for t in tables if after[t] != before[t]} - READ_WRITES_ALLOWED.get(name, set())
    return [f"{label}: changed rows of {sorted(changed)}"] if changed else []


def _undeclared(world: World, name: str, who: Principal, tables: list[str]) -> list[str]:
    """Unsafe methods the policy does not declare for the URL change nothing, and a page
    answers them 405 (``DeclaredMethodsMiddleware``; the API's router does the same)."""
    problems = []
    for method in UNSAFE:
        if method in _route_methods(name):
            continue
        for url, _ in _requests(world, name, "GET", who.role)[:1]:
            label = f"{method} {url} [{name}] (not in the policy) as {who.label}"
            with transaction.atomic():
                before = _counts(tables)
                body = {} if _is_api(name) else None
                outcome = _send(who.client(_is_api(name), world), method, url, body)
                if outcome.status >= 500:
                    problems.append(f"{label}: got {outcome}")
                elif not outcome.error and outcome.status != 405 and not name.startswith("admin:"):
                    problems.append(f"{label}: got {outcome}, not 405")
                if not outcome.error:
                    problems.extend(_writes(label, name, tables, before))
                transaction.set_rollback(True)
    return problems


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_role_matrix(group, world):
    tables = _tables()
    principals = _principals(world)
    problems: list[str] = []
    cells = 0
    for name in GROUPS[group]:
        for method in POLICY[policy_key(name)]:  # type: ignore[index]
            for who in principals:
                cells += 1
                problems.extend(_cell(world, name, method, who, tables))
        if not name.startswith("admin:"):
            for who in principals:
                if who.role in (Role.ADMIN, Role.AUDITOR):
                    problems.extend(_undeclared(world, name, who, tables))
    assert cells
    assert not problems, f"{len(problems)} problems in {cells} cells:\n" + "\n".join(problems)


# --- MFA: a password-only session reaches nothing -------------------------------------------


def test_a_password_only_session_of_a_note_reader_reaches_no_page(world, settings, client):
    """With MFA required, a counselor who typed only the password is sent to enrol (pages) or
    refused (API, 403) for every URL but the public ones, the enrolment page and log-out."""
    settings.OPENIOP_MFA_REQUIRED = True
    assert password_login(client, world.users[Role.COUNSELOR]).status_code == 302
    setup = reverse("accounts:mfa-setup")
    exempt = {"accounts:mfa-setup", "logout"}
    problems, cells = [], 0
    for name in _matrix_names():
        for method, rule in POLICY[policy_key(name)].items():  # type: ignore[index]
            if rule in (PUBLIC, TOKEN_LINK, NOT_FOUND, FHIR) or name in exempt:
                continue
            for url, body in _requests(world, name, method, Role.COUNSELOR):
                cells += 1
                with transaction.atomic():
                    outcome = _send(client, method, url, body)
                    transaction.set_rollback(True)
                if _is_api(name):
                    ok = outcome.status == 403
                else:
                    ok = outcome.status == 302 and outcome.location.startswith(setup)
                if not ok:
                    problems.append(f"{method} {url} [{name}]: got {outcome}")
    assert cells > 200
    assert not problems, "\n".join(problems)


def test_the_admin_opens_for_a_superuser_only(world, client):
    boss = make_user("root", None)
    boss.is_staff = boss.is_superuser = True
    boss.save()
    client.force_login(boss)
    assert client.get(reverse("admin:index")).status_code == 200
    client.force_login(world.users[Role.ADMIN])  # the "admin" role is not the staff flag
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_a_token_link_without_its_token_is_a_404(world, client):
    """TOKEN_LINK rows are public only with the secret: a guessed token opens nothing."""
    for name in (n for n, m in POLICY.items() if TOKEN_LINK in m.values()):
        key = {"calendar:feed": "feed", "portal:accept": "portal", "messaging:sms-inbound": "sms"}
        real = world.tokens[key.get(name, "link")]
        guessed = real[:-4] + ("aaaa" if not real.endswith("aaaa") else "bbbb")
        send = client.post if "GET" not in POLICY[name] else client.get
        assert send(reverse(name, kwargs={"token": guessed})).status_code == 404, name
        assert send(reverse(name, kwargs={"token": real})).status_code == 200, name


def test_only_sud_note_writers_start_an_sud_counseling_note(world):
    """One URL, two rules: any note.write role starts a note, but an SUD counseling note also
    needs sud_note.write (42 CFR 2.11). The admin role writes notes, not SUD counseling notes."""
    from openiop.clinical.models import Note

    url = reverse("api-v1:create_note", kwargs={"episode_id": world.pid("episode")})
    writers = allowed_roles(Perm.NOTE_WRITE)
    for role in writers:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {world.api_tokens[role]}")
        with transaction.atomic():
            last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
            response = client.post(url, {"kind": "sud_counseling"}, content_type="application/json")
            created = Note.objects.filter(kind=Note.Kind.SUD_COUNSELING).exists()
            denied = AuditEvent.objects.filter(id__gt=last, outcome="denied").exists()
            transaction.set_rollback(True)
        if role in allowed_roles(Perm.SUD_NOTE_WRITE):
            assert response.status_code == 201 and created, role
        else:
            assert (response.status_code, created, denied) == (403, False, True), role
    assert Role.ADMIN in writers - allowed_roles(Perm.SUD_NOTE_WRITE)
