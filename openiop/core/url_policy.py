"""Who may call every URL of OpenIOP: the declared access policy (security.md T1).

``POLICY`` maps each URL name (``"clinical:note-detail"``, ``"api-v1:get_note"``) to the HTTP
methods it serves and, per method, the rule that decides who gets through:

* a ``Perm``: the user's roles must grant it (``openiop.accounts.permissions.ROLE_PERMISSIONS``);
* a tuple of ``Perm``: all of them (the view checks each);
* ``PUBLIC``: no log-in (the log-in page itself, the API's schema);
* ``AUTHENTICATED``: any signed-in staff member, whatever the role (their own account pages);
* ``TOKEN_LINK``: no log-in; a secret token in the path is the credential (calendar feeds,
  questionnaire links); a wrong token is a 404;
* ``SUPERUSER``: the Django admin, for accounts flagged staff or superuser (no role grants it);
* ``NOT_FOUND``: a route that exists only so other URLs can be built; it answers 404 to all.
* ``PORTAL``: a patient's or guardian's portal account only, on their own data; every staff
  role gets 404 (``openiop.portal.middleware``), anonymous visitors the log-in page.
* ``FHIR``: the FHIR API (``/fhir/r4/``) takes a FHIR client's bearer token and nothing else:
  a log-in session opens nothing there (401 OperationOutcome). Scopes, roles and Part 2
  consents are checked per request (``openiop.fhir.access``; tested in ``openiop/fhir/tests``).

The policy is declared by reading each view, not derived from it: the test
``openiop/core/tests/test_url_matrix.py`` sends a real request for every URL, method and role
and fails when the answer differs, and fails too when a URL has no entry here (new URLs are
refused until someone classifies them). ``docs/access-matrix.md`` is ``document()``'s output.
Regenerate it with ``python -m openiop.core.url_policy > docs/access-matrix.md``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from openiop.accounts.permissions import ROLE_PERMISSIONS, Perm, Role


class Marker(StrEnum):
    PUBLIC = "public"
    AUTHENTICATED = "authenticated"
    TOKEN_LINK = "token_link"
    SUPERUSER = "superuser"
    NOT_FOUND = "not_found"
    PORTAL = "portal"
    FHIR = "fhir"


PUBLIC = Marker.PUBLIC
AUTHENTICATED = Marker.AUTHENTICATED
TOKEN_LINK = Marker.TOKEN_LINK
SUPERUSER = Marker.SUPERUSER
NOT_FOUND = Marker.NOT_FOUND
PORTAL = Marker.PORTAL
FHIR = Marker.FHIR

Rule = Perm | tuple[Perm, ...] | Marker

P = Perm
GET, POST, PATCH = "GET", "POST", "PATCH"
DELETE = "DELETE"


def _read(perm: Rule) -> dict[str, Rule]:
    return {GET: perm}


def _write(perm: Rule) -> dict[str, Rule]:
    return {POST: perm}


def _form(perm: Rule) -> dict[str, Rule]:
    """A page with a form: GET shows it, POST submits it; the same rule for both."""
    return {GET: perm, POST: perm}


POLICY: dict[str, dict[str, Rule]] = {
    # --- log-in, log-out, the user's own account (accounts) ------------------------------------
    "login": _form(PUBLIC),
    "logout": _write(PUBLIC),  # Django's LogoutView answers POST only
    "accounts:mfa-settings": _read(AUTHENTICATED),
    "accounts:mfa-setup": _form(AUTHENTICATED),
    "accounts:mfa-verify": _form(AUTHENTICATED),
    "accounts:recovery-codes": _write(AUTHENTICATED),
    "accounts:password-change": _form(AUTHENTICATED),
    # --- Django admin: staff / superuser accounts only ------------------------------------------
    "admin:login": _form(PUBLIC),  # the admin's own log-in page
    "admin:*": _form(SUPERUSER),  # every other admin page (the model admins, index, logout ...)
    # --- dashboard (reports) ---------------------------------------------------------------------
    "reports:dashboard": _read((P.SESSION_VIEW, P.COMPLIANCE_VIEW)),
    "reports:outcomes": _read(P.OUTCOME_REPORT),
    "reports:teds-export": _read(P.TEDS_EXPORT),
    # --- patients --------------------------------------------------------------------------------
    "patients:patient-list": _read(P.PATIENT_VIEW),
    "patients:patient-create": _form(P.PATIENT_EDIT),
    "patients:patient-detail": _read(P.PATIENT_VIEW),
    "patients:patient-edit": _form(P.PATIENT_EDIT),
    "patients:guardian-create": _write(P.PATIENT_EDIT),
    "patients:unavailable-window-create": _write(P.PATIENT_EDIT),
    # --- programs (organizations) ----------------------------------------------------------------
    "organizations:program-list": _read(P.PROGRAM_VIEW),
    "organizations:program-detail": _read((P.PROGRAM_VIEW, P.COMPLIANCE_VIEW)),
    "organizations:program-edit": _form(P.PROGRAM_MANAGE),
    # --- sessions, attendance, the scheduling board, calendar feeds (scheduling, attendance) ---
    "scheduling:session-list": _read(P.SESSION_VIEW),
    "scheduling:session-create": _form(P.SESSION_MANAGE),
    "scheduling:series-create": _form(P.SESSION_MANAGE),
    "scheduling:session-detail": _read(P.SESSION_VIEW),
    "scheduling:session-cancel": _write(P.SESSION_MANAGE),
    "scheduling:booking-create": _write(P.SESSION_MANAGE),
    "scheduling:attendance-record": _write(P.ATTENDANCE_RECORD),
    "scheduling:board": {GET: P.SESSION_VIEW, POST: P.SESSION_MANAGE},  # POST builds a week
    "scheduling:board-draft": _read(P.SESSION_VIEW),
    "scheduling:board-progress": _read(P.SESSION_VIEW),
    "scheduling:board-resolve": _write(P.SESSION_MANAGE),
    "scheduling:board-pin": _write(P.SESSION_MANAGE),
    "scheduling:board-publish": _write(P.SESSION_MANAGE),
    "scheduling:board-appointments": _write(P.SESSION_MANAGE),
    # a staff member's own feed (every role with an organization)
    "scheduling:my-calendar": _read(P.SESSION_VIEW),
    "scheduling:my-calendar-create": _write(P.SESSION_VIEW),
    "scheduling:my-calendar-rotate": _write(P.SESSION_VIEW),
    "scheduling:my-calendar-revoke": _write(P.SESSION_VIEW),
    # a patient's feed: the chart box shows whether one exists; making one edits the patient
    "scheduling:patient-calendar": _read(P.PATIENT_VIEW),
    "scheduling:patient-calendar-create": _write(P.PATIENT_EDIT),
    "scheduling:patient-calendar-rotate": _write(P.PATIENT_EDIT),
    "scheduling:patient-calendar-revoke": _write(P.PATIENT_EDIT),
    "calendar:feed": _read(TOKEN_LINK),  # the .ics a calendar app subscribes to
    # --- episodes (enrollment) -------------------------------------------------------------------
    "enrollment:episode-create": _form(P.EPISODE_MANAGE),
    "enrollment:episode-detail": _read(P.EPISODE_VIEW),
    "enrollment:episode-admit": _write(P.EPISODE_MANAGE),
    "enrollment:episode-hold": _write(P.EPISODE_MANAGE),
    "enrollment:episode-resume": _write(P.EPISODE_MANAGE),
    "enrollment:episode-transfer": _write(P.EPISODE_MANAGE),
    "enrollment:episode-discharge": _write(P.EPISODE_MANAGE),
    # --- referrals, screening, assessment, waitlist (placement) ----------------------------------
    "placement:referral-list": _read(P.REFERRAL_VIEW),
    "placement:referral-create": _form(P.REFERRAL_MANAGE),
    "placement:waitlist": _read(P.REFERRAL_VIEW),
    "placement:intake-report": _read(P.REFERRAL_VIEW),
    "placement:referral-detail": _read(P.REFERRAL_VIEW),
    "placement:screening-create": _write(P.REFERRAL_MANAGE),
    "placement:assessment-create": _form(P.ASSESSMENT_RECORD),
    "placement:referral-admit": _form(P.EPISODE_MANAGE),  # admit or waitlist
    "placement:referral-refer-out": _write(P.REFERRAL_MANAGE),
    "placement:referral-close": _write(P.REFERRAL_MANAGE),
    # --- notes and co-signature (clinical) -------------------------------------------------------
    "clinical:note-list": _read(P.NOTE_VIEW),
    "clinical:note-create": _form(P.NOTE_WRITE),
    "clinical:note-detail": _read(P.NOTE_VIEW),
    "clinical:note-edit": _form(P.NOTE_WRITE),
    "clinical:note-autosave": _write(P.NOTE_WRITE),
    "clinical:note-sign": _write(P.NOTE_WRITE),
    "clinical:note-amend": _write(P.NOTE_WRITE),
    "clinical:note-cosign": _write(P.NOTE_COSIGN),
    "clinical:cosign-queue": _read(P.NOTE_COSIGN),
    "clinical:cosign-group-note": _write(P.NOTE_COSIGN),
    # group notes: reading needs note.view, starting and writing note.write
    "clinical:group-note-session": {GET: P.NOTE_VIEW, POST: P.NOTE_WRITE},
    "clinical:group-note-detail": {GET: P.NOTE_VIEW, POST: P.NOTE_WRITE},
    "clinical:group-note-autosave": _write(P.NOTE_WRITE),
    "clinical:group-note-amend": _write(P.NOTE_WRITE),
    # treatment plans
    "clinical:plan-episode": _read(P.NOTE_VIEW),
    "clinical:plan-create": _write(P.NOTE_WRITE),
    "clinical:plan-detail": _read(P.NOTE_VIEW),
    "clinical:plan-edit": _form(P.NOTE_WRITE),
    "clinical:plan-revise": _write(P.NOTE_WRITE),
    "clinical:plan-sign-clinician": _form(P.NOTE_WRITE),
    "clinical:plan-sign-patient": _form(P.NOTE_WRITE),  # witnessed by the signed-in clinician
    "clinical:plan-review-create": _form(P.NOTE_WRITE),
    "clinical:plan-part-add": _form(P.NOTE_WRITE),
    "clinical:plan-part-edit": _form(P.NOTE_WRITE),
    "clinical:plan-part-remove": _write(P.NOTE_WRITE),
    # utilization review: billing prints packets (without note-restricted sections); writing
    # the clinician's summary also needs note.write
    "clinical:ur-list": _read(P.UR_PACKET),
    "clinical:ur-create": _form((P.UR_PACKET, P.NOTE_WRITE)),
    "clinical:ur-packet": _form(P.UR_PACKET),  # POST: download = release to the payer
    "clinical:ur-detail": _read(P.UR_PACKET),
    "clinical:ur-download": _write(P.UR_PACKET),
    "clinical:ur-pdf": _write(P.UR_PACKET),
    "clinical:ur-outcome": _write(P.UR_PACKET),
    # discharge summaries
    "clinical:discharge-start": _form(P.NOTE_WRITE),
    "clinical:discharge-detail": _read(P.NOTE_VIEW),
    "clinical:discharge-edit": _form(P.NOTE_WRITE),
    "clinical:discharge-sign": _write(P.NOTE_WRITE),
    "clinical:discharge-amend": _form(P.NOTE_WRITE),
    # --- questionnaires, scores, alerts ----------------------------------------------------------
    "questionnaires:alert-list": _read(P.NOTE_VIEW),
    "questionnaires:alert-follow-up": _form(P.ALERT_FOLLOW_UP),
    "questionnaires:patient-scores": _read(P.NOTE_VIEW),
    "questionnaires:response-create": _form(P.QUESTIONNAIRE_RECORD),
    "questionnaires:response-detail": _read(P.NOTE_VIEW),
    "questionnaires:invitation-list": _form(P.QUESTIONNAIRE_RECORD),  # POST makes a link
    "questionnaires:invitation-revoke": _write(P.QUESTIONNAIRE_RECORD),
    "questionnaires:link-respond": _form(TOKEN_LINK),  # the patient's one-time page
    "questionnaires:schedule-list": {GET: P.PROGRAM_VIEW, POST: P.PROGRAM_MANAGE},
    "questionnaires:schedule-remove": _write(P.PROGRAM_MANAGE),
    "questionnaires:due-list": _read(P.NOTE_VIEW),
    "questionnaires:outcome-change": _read(P.NOTE_VIEW),
    # --- medications and drug screens ------------------------------------------------------------
    "medications:medication-list": _read(P.NOTE_VIEW),
    "medications:medication-start": _write(P.MEDICATION_MANAGE),
    "medications:drug-screen-list": {GET: P.NOTE_VIEW, POST: P.DRUG_SCREEN_RECORD},
    "medications:medication-change": _write(P.MEDICATION_MANAGE),
    "medications:medication-stop": _write(P.MEDICATION_MANAGE),
    # --- payer authorizations (billing) ----------------------------------------------------------
    "billing:authorization-alerts": _read(P.AUTHORIZATION_VIEW),
    "billing:authorization-list": _read(P.AUTHORIZATION_VIEW),
    "billing:authorization-create": _form(P.AUTHORIZATION_MANAGE),
    "billing:authorization-edit": _form(P.AUTHORIZATION_MANAGE),
    "billing:authorization-void": _write(P.AUTHORIZATION_MANAGE),
    # charges and claims (billing.view reads, billing.manage changes; no note bodies)
    "billing:billing-day": _read(P.BILLING_VIEW),
    "billing:claim-list": _read(P.BILLING_VIEW),
    "billing:claim-build": _write(P.BILLING_MANAGE),
    "billing:claim-bulk": _write(P.BILLING_MANAGE),
    "billing:claim-detail": _read(P.BILLING_VIEW),
    "billing:claim-action": _write(P.BILLING_MANAGE),
    "billing:claim-correct": _write(P.BILLING_MANAGE),
    "billing:export-list": _read(P.BILLING_VIEW),
    "billing:export-create": _form(P.BILLING_MANAGE),
    "billing:export-detail": _read(P.BILLING_VIEW),
    "billing:export-download": _read(P.BILLING_MANAGE),
    # billing set-up: payers, the organization's billing profile, coverage, certifications
    "billing:payer-list": _read(P.BILLING_VIEW),
    "billing:payer-create": _form(P.BILLING_MANAGE),
    "billing:payer-edit": _form(P.BILLING_MANAGE),
    "billing:profile-edit": _form(P.BILLING_MANAGE),
    "billing:coverage-list": _read(P.BILLING_VIEW),
    "billing:coverage-create": _form(P.BILLING_MANAGE),
    "billing:coverage-edit": _form(P.BILLING_MANAGE),
    "billing:certification-create": _form(P.BILLING_MANAGE),
    "billing:estimate": _read(P.COST_ESTIMATE),  # the patient's cost estimate
    # --- 42 CFR Part 2: consents, disclosures, break-glass (consent) ----------------------------
    "consent:consent-list": _read(P.CONSENT_VIEW),
    "consent:consent-create": _form(P.CONSENT_MANAGE),
    "consent:consent-revoke": _form(P.CONSENT_MANAGE),
    "consent:consent-expiry-event": _write(P.CONSENT_MANAGE),
    "consent:disclosure-create": _form(P.DISCLOSURE_MAKE),
    "consent:disclosure-detail": _read(P.CONSENT_VIEW),
    "consent:disclosure-accounting": _read(P.CONSENT_VIEW),
    "consent:break-glass-find": _read(P.BREAK_GLASS),  # last name + birth date, one match
    "consent:break-glass-start": _form(P.BREAK_GLASS),
    "consent:break-glass-queue": _read(P.BREAK_GLASS_REVIEW),
    "consent:break-glass-review": _write(P.BREAK_GLASS_REVIEW),
    # --- audit report (core) ---------------------------------------------------------------------
    "audit:event-list": _read(P.AUDIT_VIEW),
    "audit:event-export": _read(P.AUDIT_VIEW),
    "audit:patient-access": _read(P.AUDIT_VIEW),
    "audit:chain-verify": _write(P.AUDIT_VIEW),
    # --- JSON API /api/v1/ (api-v1): one method per operation; Bearer token or session -------
    "api-v1:openapi-json": _read(PUBLIC),  # the schema describes the API, holds no data
    "api-v1:openapi-view": _read(PUBLIC),
    "api-v1:api-root": _read(NOT_FOUND),  # ninja's anchor for building the other paths
    "api-v1:list_patients": _read(P.PATIENT_VIEW),
    "api-v1:create_patient": _write(P.PATIENT_EDIT),
    "api-v1:get_patient": _read(P.PATIENT_VIEW),
    "api-v1:update_patient": {PATCH: P.PATIENT_EDIT},
    "api-v1:list_windows": _read(P.PATIENT_VIEW),
    "api-v1:create_window": _write(P.PATIENT_EDIT),
    "api-v1:list_programs": _read(P.PROGRAM_VIEW),
    "api-v1:get_program": _read(P.PROGRAM_VIEW),
    "api-v1:list_episodes": _read(P.EPISODE_VIEW),
    "api-v1:create_episode": _write(P.EPISODE_MANAGE),
    "api-v1:get_episode": _read(P.EPISODE_VIEW),
    "api-v1:admit_episode": _write(P.EPISODE_MANAGE),
    "api-v1:hold_episode": _write(P.EPISODE_MANAGE),
    "api-v1:resume_episode": _write(P.EPISODE_MANAGE),
    "api-v1:transfer_episode": _write(P.EPISODE_MANAGE),
    "api-v1:discharge_episode": _write(P.EPISODE_MANAGE),
    "api-v1:list_sessions": _read(P.SESSION_VIEW),
    "api-v1:create_session": _write(P.SESSION_MANAGE),
    "api-v1:get_session": _read(P.SESSION_VIEW),
    "api-v1:cancel_session": _write(P.SESSION_MANAGE),
    "api-v1:book_session": _write(P.SESSION_MANAGE),
    "api-v1:record_attendance": _write(P.ATTENDANCE_RECORD),
    "api-v1:program_compliance": _read(P.COMPLIANCE_VIEW),
    "api-v1:evaluate": _write(P.ASSESSMENT_RECORD),
    "api-v1:list_referrals": _read(P.REFERRAL_VIEW),
    "api-v1:create_referral": _write(P.REFERRAL_MANAGE),
    "api-v1:get_referral": _read(P.REFERRAL_VIEW),
    "api-v1:create_screening": _write(P.REFERRAL_MANAGE),
    "api-v1:create_assessment": _write(P.ASSESSMENT_RECORD),
    "api-v1:seat_offers": _read(P.REFERRAL_VIEW),
    "api-v1:admit_referral": _write(P.EPISODE_MANAGE),
    "api-v1:waitlist_referral": _write(P.REFERRAL_MANAGE),
    "api-v1:refer_out": _write(P.REFERRAL_MANAGE),
    "api-v1:close_referral": _write(P.REFERRAL_MANAGE),
    "api-v1:program_waitlist": _read(P.REFERRAL_VIEW),
    "api-v1:list_responses": _read(P.NOTE_VIEW),
    "api-v1:create_response": _write(P.QUESTIONNAIRE_RECORD),
    "api-v1:get_response": _read(P.NOTE_VIEW),
    "api-v1:list_alerts": _read(P.NOTE_VIEW),
    "api-v1:follow_up_alert": _write(P.ALERT_FOLLOW_UP),
    "api-v1:list_notes": _read(P.NOTE_VIEW),
    "api-v1:create_note": _write(P.NOTE_WRITE),
    "api-v1:get_note": _read(P.NOTE_VIEW),
    "api-v1:patch_note": {PATCH: P.NOTE_WRITE},
    "api-v1:sign_note": _write(P.NOTE_WRITE),
    "api-v1:amend_note": _write(P.NOTE_WRITE),
    "api-v1:cosign_note": _write(P.NOTE_COSIGN),
    # --- aftercare -------------------------------------------------------------------------------
    "aftercare:follow-up-list": _read(P.AFTERCARE_VIEW),
    "aftercare:gone-quiet": _read(P.AFTERCARE_VIEW),
    "aftercare:plan-create": _form(P.AFTERCARE_MANAGE),
    "aftercare:plan-detail": _read(P.AFTERCARE_VIEW),
    "aftercare:plan-edit": _form(P.AFTERCARE_MANAGE),
    "aftercare:component-add": _write(P.AFTERCARE_MANAGE),
    "aftercare:engagement-log": _write(P.AFTERCARE_MANAGE),
    "aftercare:component-end": _write(P.AFTERCARE_MANAGE),
    "aftercare:follow-up-attempt": _form(P.AFTERCARE_MANAGE),
    "aftercare:follow-up-contact": _form(P.AFTERCARE_MANAGE),
    "aftercare:follow-up-close": _form(P.AFTERCARE_MANAGE),
    # --- patient portal (patients and guardians only) and its staff side ------------------------
    "portal:home": _read(PORTAL),
    "portal:accept": _form(TOKEN_LINK),  # the invitation link; signed-in users are told to log out
    "portal:questionnaires": _read(PORTAL),
    "portal:questionnaire-fill": _form(PORTAL),
    "portal:consents": _read(PORTAL),
    "portal:consent-revoke": _write(PORTAL),
    "portal:consent-sign": _form(PORTAL),
    "portal:accounting": _read(PORTAL),
    "portal:plan": _read(PORTAL),
    "portal:aftercare-check-in": _write(PORTAL),
    "portal:preferences": _form(PORTAL),
    "portal:calendar": _form(PORTAL),
    "portal:session-join": _write(PORTAL),
    "portal:session-leave": _write(PORTAL),
    "portal_staff:access": _read(P.PORTAL_INVITE),
    "portal_staff:invite": _write(P.PORTAL_INVITE),
    "portal_staff:disable": _write(P.PORTAL_INVITE),
    "portal_staff:consent-request-new": _form(P.CONSENT_MANAGE),
    "portal_staff:consent-request-withdraw": _write(P.CONSENT_MANAGE),
    # --- reminders: the outbox (staff) and the SMS provider's reply webhook -------------------
    "messaging:outbox": _read(P.PORTAL_INVITE),
    "messaging:sms-inbound": _write(TOKEN_LINK),  # the token in the URL is the credential
    # --- FHIR R4 (/fhir/r4/): FHIR client tokens only ----------------------------------------
    "fhir:base": _read(NOT_FOUND),
    "fhir:metadata": _read(PUBLIC),  # the CapabilityStatement holds no data
    "fhir:type": {GET: FHIR, POST: FHIR},
    "fhir:type-search": _write(FHIR),
    "fhir:instance": _read(FHIR),
    "fhir:everything": _read(FHIR),
    "fhir:export-kickoff": _read(FHIR),
    "fhir:export-patients": _read(FHIR),
    "fhir:export-status": {GET: FHIR, DELETE: FHIR},
    "fhir:export-file": _read(FHIR),
}


_SUD_ONLY_AUTHOR = "someone else's SUD counseling note: 404 (its author only, 42 CFR 2.11)"
_SUD_WRITE = "an SUD counseling note also needs `sud_note.write`"
_AUTHOR_SIGNS = "only the note's author signs it"
_COSIGNER = "only the author's co-signer or a program director co-signs"
_RELEASE = "a release to the payer: refused (409) without a consent covering payment"

# Rules on top of the role, shown beside the row in docs/access-matrix.md.
NOTES: dict[str, str] = {
    "logout": "Django's log-out answers POST only",
    "scheduling:my-calendar": "the user's own feed",
    "scheduling:board": "POST builds the chosen program's week",
    "calendar:feed": "a wrong or revoked token: 404",
    "questionnaires:link-respond": "an unknown, used, revoked or expired token: 404",
    "clinical:note-list": _SUD_ONLY_AUTHOR,
    "clinical:note-create": _SUD_WRITE,
    "clinical:note-detail": _SUD_ONLY_AUTHOR,
    "clinical:note-sign": _AUTHOR_SIGNS,
    "clinical:note-cosign": _COSIGNER,
    "clinical:cosign-group-note": _COSIGNER,
    "clinical:plan-sign-patient": "the patient signs, witnessed by the signed-in clinician",
    "clinical:ur-download": _RELEASE,
    "clinical:ur-pdf": _RELEASE + "; 404 without WeasyPrint",
    "billing:export-download": "the exported file is a release: `billing.manage`",
    "consent:break-glass-start": "other roles: 403 and a denied audit row",
    "consent:break-glass-find": "last name and birth date; one match or none",
    "api-v1:openapi-json": "the schema describes the API and holds no data",
    "api-v1:openapi-view": "the schema describes the API and holds no data",
    "api-v1:api-root": "only an anchor for building the API's paths",
    "api-v1:list_notes": _SUD_ONLY_AUTHOR,
    "api-v1:create_note": _SUD_WRITE,
    "api-v1:get_note": _SUD_ONLY_AUTHOR,
    "api-v1:sign_note": _AUTHOR_SIGNS,
    "api-v1:cosign_note": _COSIGNER,
}


# --- resolving a rule -------------------------------------------------------------------------


def policy_key(name: str) -> str | None:
    """The POLICY entry that covers a URL name: its own, else its namespace's ``"<ns>:*"``."""
    if name in POLICY:
        return name
    namespace = name.rpartition(":")[0]
    while namespace:
        if f"{namespace}:*" in POLICY:
            return f"{namespace}:*"
        namespace = namespace.rpartition(":")[0]
    return None


def rule_for(name: str, method: str) -> Rule | None:
    key = policy_key(name)
    return None if key is None else POLICY[key].get(method)


def allowed_roles(rule: Rule) -> frozenset[Role]:
    """The roles whose (organization-bound, active) users pass the rule."""
    if isinstance(rule, Marker):
        if rule in (PUBLIC, AUTHENTICATED, TOKEN_LINK):
            return frozenset(Role)
        return frozenset()  # SUPERUSER: a flag on the account, not a role; NOT_FOUND: nobody
    if isinstance(rule, tuple):
        roles = frozenset(Role)
        for perm in rule:
            roles &= ROLE_PERMISSIONS[perm]
        return roles
    return ROLE_PERMISSIONS[rule]


def anonymous_allowed(rule: Rule) -> bool:
    return rule in (PUBLIC, TOKEN_LINK)


# --- walking the URLconf ----------------------------------------------------------------------


def walk_urls(patterns: Any = None, prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    """Every URL of the project as (name, route); unnamed routes get ``"<ns>:<route>"``."""
    from django.urls import URLResolver, get_resolver

    if patterns is None:
        patterns = get_resolver().url_patterns
    found: list[tuple[str, str]] = []
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            found.extend(walk_urls(entry.url_patterns, route, inner))
            continue
        name = entry.name or f"<{route}>"
        found.append((f"{namespace}:{name}" if namespace else name, route))
    return found


# --- the document ---------------------------------------------------------------------------

_MARKER_TEXT = {
    PUBLIC: ("public (no log-in)", "everyone, signed in or not"),
    AUTHENTICATED: ("any signed-in staff member", "all roles"),
    TOKEN_LINK: ("secret token in the link", "whoever holds the link"),
    SUPERUSER: ("Django admin: staff or superuser flag", "no role"),
    NOT_FOUND: ("nothing (404 for everyone)", "nobody"),
    PORTAL: ("a patient or guardian portal account (own data only)", "no staff role (404)"),
    FHIR: ("a FHIR client's bearer token with a SMART scope", "no session (401)"),
}


def _who(rule: Rule) -> tuple[str, str]:
    if isinstance(rule, Marker):
        return _MARKER_TEXT[rule]
    perms = rule if isinstance(rule, tuple) else (rule,)
    text = " + ".join(f"`{p.value}`" for p in perms)
    roles = allowed_roles(rule)
    listed = ", ".join(r.value for r in Role if r in roles) or "no role"
    return text, listed


def policy_markdown() -> str:
    """The policy as a Markdown table: one row per URL name and method."""
    routes: dict[str, str] = {}
    for name, route in walk_urls():
        routes.setdefault(name, route)
    lines = [
        "| URL name | Path | Method | Needs | Roles | Notes |",
        "|---|---|---|---|---|---|",
    ]
    for name, methods in POLICY.items():
        path = "/admin/…" if name.endswith(":*") else "/" + routes.get(name, "?")
        for method, rule in methods.items():
            needs, roles = _who(rule)
            note = NOTES.get(name, "")
            lines.append(f"| `{name}` | `{path}` | {method} | {needs} | {roles} | {note} |")
    return "\n".join(lines) + "\n"


INTRO = """\
# Who may call which URL

Every URL of OpenIOP, every HTTP method it answers, and who gets through. The table is generated
from `openiop/core/url_policy.py` (`python -m openiop.core.url_policy > docs/access-matrix.md`);
a test fails if the two ever differ. Another test (`openiop/core/tests/test_url_matrix.py`,
security.md T1) sends a real request for every row, as each role and as an anonymous visitor,
and fails on any answer that differs from the table, and on any URL missing from it. "Needs"
names the permissions of [roles.md](roles.md) (all of them when joined by +). A role without
them gets 403 (the API: 403 too) and the refusal is written to the audit log; an anonymous
visitor is sent to the log-in page (the API: 401). Records of another organization, or outside
a counselor's caseload, are 404 for everyone (tested separately, T2). Rules on top of the role
(only a note's author signs it, SUD counseling notes are their author's only ...) are in the
Notes column. The Django admin (`/admin/`) opens for accounts with the staff flag only; no role
grants it.
"""


def document() -> str:
    return INTRO + "\n" + policy_markdown()


if __name__ == "__main__":  # pragma: no cover
    import os
    import sys

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    django.setup()
    sys.stdout.write(document())
