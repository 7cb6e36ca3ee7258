"""Every URL of the site, with the world object each path parameter names (security.md T2, T6).

``OBJECT_URLS`` maps each URL name that takes a parameter to the objects of a
:class:`~openiop.core.tests.sec_world.World` that fill it. ``walk_urls`` lists the URL names the
resolver knows, so a test can fail when a new URL is added without a row here (default deny:
someone has to say which object it names before it is covered).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from openiop.core.tests.sec_world import World

# url name -> {path parameter: world object name, or ("=", literal)}
OBJECT_URLS: dict[str, dict[str, Any]] = {
    "aftercare:plan-create": {"episode_id": "episode2"},
    "aftercare:plan-detail": {"public_id": "aftercare_plan"},
    "aftercare:plan-edit": {"public_id": "aftercare_plan"},
    "aftercare:component-add": {"public_id": "aftercare_plan"},
    "aftercare:engagement-log": {"public_id": "aftercare_plan"},
    "aftercare:component-end": {"public_id": "aftercare_component"},
    "aftercare:follow-up-attempt": {"public_id": "follow_up"},
    "aftercare:follow-up-contact": {"public_id": "follow_up"},
    "aftercare:follow-up-close": {"public_id": "follow_up"},
    "patients:patient-detail": {"public_id": "patient"},
    "patients:patient-edit": {"public_id": "patient"},
    "patients:guardian-create": {"public_id": "patient"},
    "patients:unavailable-window-create": {"public_id": "patient"},
    "organizations:program-detail": {"public_id": "program"},
    "organizations:program-edit": {"public_id": "program"},
    "scheduling:session-detail": {"public_id": "session"},
    "scheduling:session-cancel": {"public_id": "next_session"},
    "scheduling:booking-create": {"public_id": "next_session"},
    "scheduling:attendance-record": {"public_id": "session"},
    "scheduling:patient-calendar": {"public_id": "patient"},
    "scheduling:patient-calendar-create": {"public_id": "patient2"},
    "scheduling:patient-calendar-rotate": {"public_id": "patient"},
    "scheduling:patient-calendar-revoke": {"public_id": "patient"},
    "scheduling:board-draft": {"public_id": "draft"},
    "scheduling:board-progress": {"public_id": "draft"},
    "scheduling:board-resolve": {"public_id": "draft"},
    "scheduling:board-pin": {"public_id": "draft", "patient_id": "patient"},
    "scheduling:board-publish": {"public_id": "draft"},
    "scheduling:board-appointments": {"public_id": "draft"},
    "enrollment:episode-create": {"patient_id": "patient3"},
    "enrollment:episode-detail": {"public_id": "episode"},
    "enrollment:episode-admit": {"public_id": "episode"},
    "enrollment:episode-hold": {"public_id": "episode"},
    "enrollment:episode-resume": {"public_id": "episode"},
    "enrollment:episode-transfer": {"public_id": "episode"},
    "enrollment:episode-discharge": {"public_id": "episode"},
    "placement:referral-detail": {"public_id": "referral"},
    "placement:screening-create": {"public_id": "referral"},
    "placement:assessment-create": {"public_id": "referral"},
    "placement:referral-admit": {"public_id": "referral"},
    "placement:referral-refer-out": {"public_id": "referral"},
    "placement:referral-close": {"public_id": "referral"},
    "clinical:note-list": {"episode_id": "episode"},
    "clinical:note-create": {"episode_id": "episode"},
    "clinical:note-detail": {"public_id": "note_dap"},
    "clinical:note-edit": {"public_id": "note_birp"},
    "clinical:note-autosave": {"public_id": "note_birp"},
    "clinical:note-sign": {"public_id": "note_birp"},
    "clinical:note-amend": {"public_id": "note_soap"},
    "clinical:note-cosign": {"public_id": "note_dap"},
    "clinical:cosign-group-note": {"public_id": "group_note"},
    "clinical:group-note-session": {"public_id": "session"},
    "clinical:group-note-detail": {"public_id": "group_note"},
    "clinical:group-note-autosave": {"public_id": "group_note"},
    "clinical:group-note-amend": {"public_id": "group_note"},
    "clinical:plan-episode": {"episode_id": "episode"},
    "clinical:plan-create": {"episode_id": "episode"},
    "clinical:plan-detail": {"public_id": "plan"},
    "clinical:plan-edit": {"public_id": "draft_plan"},
    "clinical:plan-revise": {"public_id": "plan"},
    "clinical:plan-sign-clinician": {"public_id": "draft_plan"},
    "clinical:plan-sign-patient": {"public_id": "draft_plan"},
    "clinical:plan-review-create": {"public_id": "plan"},
    "clinical:plan-part-add": {"kind": ("=", "goal"), "parent_id": "draft_problem"},
    "clinical:plan-part-edit": {"kind": ("=", "goal"), "public_id": "draft_goal"},
    "clinical:plan-part-remove": {"kind": ("=", "goal"), "public_id": "draft_goal"},
    "clinical:ur-list": {"episode_id": "episode"},
    "clinical:ur-create": {"episode_id": "episode"},
    "clinical:ur-packet": {"episode_id": "episode"},
    "clinical:ur-detail": {"public_id": "ur"},
    "clinical:ur-download": {"public_id": "ur"},
    "clinical:ur-pdf": {"public_id": "ur"},
    "clinical:ur-outcome": {"public_id": "ur"},
    "clinical:discharge-start": {"episode_id": "episode2"},
    "clinical:discharge-detail": {"public_id": "discharge"},
    "clinical:discharge-edit": {"public_id": "discharge"},
    "clinical:discharge-sign": {"public_id": "discharge"},
    "clinical:discharge-amend": {"public_id": "discharge"},
    "questionnaires:alert-follow-up": {"public_id": "alert_open"},
    "questionnaires:patient-scores": {"public_id": "patient"},
    "questionnaires:response-create": {"public_id": "patient"},
    "questionnaires:response-detail": {"public_id": "response"},
    "questionnaires:invitation-list": {"public_id": "patient"},
    "questionnaires:invitation-revoke": {"public_id": "invitation"},
    "questionnaires:schedule-list": {"public_id": "program"},
    "questionnaires:schedule-remove": {"public_id": "schedule"},
    "questionnaires:due-list": {"public_id": "program"},
    "questionnaires:outcome-change": {"public_id": "program"},
    "medications:medication-list": {"public_id": "patient"},
    "medications:medication-start": {"public_id": "patient"},
    "medications:drug-screen-list": {"public_id": "patient"},
    "medications:medication-change": {"public_id": "medication"},
    "medications:medication-stop": {"public_id": "medication"},
    "billing:authorization-list": {"episode_id": "episode"},
    "billing:authorization-create": {"episode_id": "episode"},
    "billing:authorization-edit": {"public_id": "authorization"},
    "billing:authorization-void": {"public_id": "authorization"},
    "billing:claim-detail": {"public_id": "claim"},
    "billing:claim-action": {"public_id": "claim"},
    "billing:claim-correct": {"public_id": "claim"},
    "billing:export-detail": {"public_id": "export"},
    "billing:export-download": {"public_id": "export"},
    "billing:payer-edit": {"public_id": "payer"},
    "billing:coverage-list": {"patient_id": "patient"},
    "billing:coverage-create": {"patient_id": "patient"},
    "billing:coverage-edit": {"public_id": "coverage"},
    "billing:certification-create": {"episode_id": "episode"},
    "billing:estimate": {"episode_id": "episode"},
    "consent:consent-list": {"patient_id": "patient"},
    "consent:consent-create": {"patient_id": "patient"},
    "consent:disclosure-create": {"patient_id": "patient"},
    "consent:disclosure-accounting": {"patient_id": "patient"},
    "consent:break-glass-start": {"patient_id": "patient"},
    "consent:consent-revoke": {"public_id": "consent"},
    "consent:consent-expiry-event": {"public_id": "consent"},
    "consent:disclosure-detail": {"public_id": "disclosure"},
    "consent:break-glass-review": {"public_id": "break_glass"},
    "audit:patient-access": {"public_id": "patient"},
    # Capability URLs: the token in the path is the credential (no login); see test_idor.
    "calendar:feed": {"token": "feed_token"},
    "questionnaires:link-respond": {"token": "invitation_token"},
    "portal:accept": {"token": "portal_token"},
    "messaging:sms-inbound": {"token": ("=", "sms-inbound-token-not-set")},
    "portal:questionnaire-fill": {"key": ("=", "phq9")},
    "portal:consent-revoke": {"public_id": "consent"},
    "portal:consent-sign": {"public_id": "consent_request"},
    "portal:aftercare-check-in": {"public_id": "aftercare_component"},
    "portal:session-join": {"public_id": "session"},
    "portal:session-leave": {"public_id": "session"},
    "portal_staff:access": {"patient_id": "patient"},
    "portal_staff:invite": {"patient_id": "patient"},
    "portal_staff:disable": {"public_id": "portal_account"},
    "portal_staff:consent-request-new": {"patient_id": "patient"},
    "portal_staff:consent-request-withdraw": {"public_id": "consent_request"},
}

# The other plan-part kinds, each with its parent and an existing part of that kind.
PLAN_PARTS = {
    "problem": ("draft_plan", "draft_problem"),
    "goal": ("draft_problem", "draft_goal"),
    "objective": ("draft_goal", "draft_objective"),
    "intervention": ("draft_objective", "draft_intervention"),
}

CAPABILITY_URLS = frozenset(
    {"calendar:feed", "questionnaires:link-respond", "portal:accept", "messaging:sms-inbound"}
)

# Pages of the Django admin and the API are covered elsewhere (admin: staff-only; API below;
# FHIR: bearer tokens only, its organization isolation is tested in openiop/fhir/tests).
SKIP_NAMESPACES = ("admin", "api-v1", "fhir")


def walk_urls() -> Iterator[tuple[str, list[str]]]:
    """(url name, path parameter names) for every named URL outside the admin and the API."""

    def walk(patterns: Any, namespace: str) -> Iterator[tuple[str, list[str]]]:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or ""
                full = ":".join(x for x in (namespace, ns) if x)
                if full.split(":")[0] in SKIP_NAMESPACES:
                    continue
                yield from walk(p.url_patterns, full)
            elif isinstance(p, URLPattern) and p.name:
                name = f"{namespace}:{p.name}" if namespace else p.name
                yield name, list(p.pattern.regex.groupindex)

    yield from walk(get_resolver().url_patterns, "")


def kwargs_for(world: World, name: str) -> dict[str, Any]:
    out = {}
    for param, source in OBJECT_URLS[name].items():
        if isinstance(source, tuple):
            out[param] = source[1]
        elif source.endswith("_token"):
            out[param] = getattr(world, source)
        else:
            out[param] = world.objs[source].public_id
    return out


def url_for(world: World, name: str) -> str:
    return reverse(name, kwargs=kwargs_for(world, name))


def plan_part_urls(world: World) -> list[str]:
    """The plan-part add/edit/remove URLs for every kind."""
    urls = []
    for kind, (parent, part) in PLAN_PARTS.items():
        urls.append(reverse("clinical:plan-part-add", args=[kind, world.id(parent)]))
        urls.append(reverse("clinical:plan-part-edit", args=[kind, world.id(part)]))
        urls.append(reverse("clinical:plan-part-remove", args=[kind, world.id(part)]))
    return urls


def parameterless_urls() -> list[str]:
    """Every named URL without a path parameter (lists, dashboards, forms), minus log-out."""
    return [reverse(name) for name, params in walk_urls() if not params and name != "logout"]


# --- the JSON API -------------------------------------------------------------------------------

# Path parameter -> world object.
API_PARAMS = {
    "patient_id": "patient",
    "program_id": "program",
    "episode_id": "episode",
    "session_id": "next_session",
    "referral_id": "referral",
    "response_id": "response",
    "alert_id": "alert_open",
    "note_id": "note_birp",
}


def api_operations() -> list[tuple[str, str, str, list[str]]]:
    """(method, path template, operation id, path parameters) from the OpenAPI document."""
    from openiop.api import api

    schema = api.get_openapi_schema()
    out = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            params = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
            out.append((method.upper(), path, op["operationId"].rsplit("_api_", 1)[1], params))
    return out


def api_path(template: str, values: dict[str, Any]) -> str:
    path = template
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    return path
