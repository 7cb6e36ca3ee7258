"""Roles and permissions, resolved in one place (ohcnetwork/care's pattern).

A role is a Django group of the same name; what a role may do is declared here, in code, and
listed in docs/roles.md. Views and API endpoints ask ``user_has_perm(user, Perm.X)``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Role(StrEnum):
    INTAKE = "intake"
    COUNSELOR = "counselor"
    PRESCRIBER = "prescriber"
    PROGRAM_DIRECTOR = "program_director"
    FRONT_DESK = "front_desk"
    BILLING = "billing"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Perm(StrEnum):
    PATIENT_VIEW = "patient.view"
    PATIENT_EDIT = "patient.edit"
    EPISODE_VIEW = "episode.view"
    EPISODE_MANAGE = "episode.manage"  # admit, hold, transfer, discharge
    PROGRAM_VIEW = "program.view"
    PROGRAM_MANAGE = "program.manage"
    SESSION_VIEW = "session.view"
    SESSION_MANAGE = "session.manage"  # create, cancel, series, book patients
    ATTENDANCE_RECORD = "attendance.record"
    COMPLIANCE_VIEW = "compliance.view"
    AUDIT_VIEW = "audit.view"
    REFERRAL_VIEW = "referral.view"
    REFERRAL_MANAGE = "referral.manage"  # take referrals, screen, waitlist, refer out, close
    ASSESSMENT_RECORD = "assessment.record"  # six-dimension assessment and level choice
    NOTE_VIEW = "note.view"  # clinical record: notes, plans, summaries, scores, screens, meds
    NOTE_WRITE = "note.write"  # write and sign notes, plans, reviews, discharge summaries
    NOTE_COSIGN = "note.cosign"  # co-sign notes of supervisees
    SUD_NOTE_WRITE = "sud_note.write"  # SUD counseling notes (42 CFR 2.11); author-only reads
    UR_PACKET = "ur.packet"  # assemble, print and export utilization-review packets
    AUTHORIZATION_VIEW = "authorization.view"
    AUTHORIZATION_MANAGE = "authorization.manage"  # record payer authorizations
    QUESTIONNAIRE_RECORD = "questionnaire.record"  # give a questionnaire, record answers
    ALERT_FOLLOW_UP = "alert.follow_up"  # record the follow-up that closes a clinical alert
    MEDICATION_MANAGE = "medication.manage"  # medications and MAT
    DRUG_SCREEN_RECORD = "drug_screen.record"
    CONSENT_VIEW = "consent.view"  # Part 2 consents and the accounting of disclosures
    CONSENT_MANAGE = "consent.manage"  # record, sign, revoke consents
    DISCLOSURE_MAKE = "disclosure.make"  # release records to an outside recipient
    BREAK_GLASS = "break_glass.use"  # emergency access to a record outside one's caseload
    BREAK_GLASS_REVIEW = "break_glass.review"
    BILLING_VIEW = "billing.view"  # payers, coverage, charges, claims (no note bodies)
    BILLING_MANAGE = "billing.manage"  # payer rules, coverage, build / submit / correct claims
    COST_ESTIMATE = "cost_estimate.make"  # patient cost estimates and Good Faith Estimates
    AFTERCARE_VIEW = "aftercare.view"  # aftercare plans, engagement, follow-up contacts
    AFTERCARE_MANAGE = "aftercare.manage"  # write plans, log engagement, record follow-ups
    OUTCOME_REPORT = "outcome_report.view"  # program outcome report (aggregates)
    TEDS_EXPORT = "teds.export"  # state TEDS discharge file
    PORTAL_INVITE = "portal.invite"  # invite a patient or guardian to the portal, disable access


ALL_STAFF = frozenset(Role)
_R = Role
_CLINICIANS = frozenset({_R.COUNSELOR, _R.PRESCRIBER, _R.PROGRAM_DIRECTOR, _R.ADMIN})

ROLE_PERMISSIONS: dict[Perm, frozenset[Role]] = {
    Perm.PATIENT_VIEW: ALL_STAFF,
    Perm.PATIENT_EDIT: frozenset({_R.INTAKE, _R.FRONT_DESK, _R.PROGRAM_DIRECTOR, _R.ADMIN}),
    Perm.EPISODE_VIEW: ALL_STAFF,
    Perm.EPISODE_MANAGE: frozenset({_R.INTAKE, _R.COUNSELOR, _R.PROGRAM_DIRECTOR, _R.ADMIN}),
    Perm.PROGRAM_VIEW: ALL_STAFF,
    Perm.PROGRAM_MANAGE: frozenset({_R.PROGRAM_DIRECTOR, _R.ADMIN}),
    Perm.SESSION_VIEW: ALL_STAFF,
    Perm.SESSION_MANAGE: frozenset({_R.FRONT_DESK, _R.PROGRAM_DIRECTOR, _R.ADMIN}),
    Perm.ATTENDANCE_RECORD: frozenset(
        {_R.FRONT_DESK, _R.COUNSELOR, _R.PRESCRIBER, _R.PROGRAM_DIRECTOR, _R.ADMIN}
    ),
    Perm.COMPLIANCE_VIEW: ALL_STAFF,
    Perm.AUDIT_VIEW: frozenset({_R.AUDITOR, _R.ADMIN}),
    Perm.REFERRAL_VIEW: ALL_STAFF - {_R.BILLING},
    Perm.REFERRAL_MANAGE: frozenset({_R.INTAKE, _R.COUNSELOR, _R.PROGRAM_DIRECTOR, _R.ADMIN}),
    Perm.ASSESSMENT_RECORD: frozenset(
        {_R.INTAKE, _R.COUNSELOR, _R.PRESCRIBER, _R.PROGRAM_DIRECTOR, _R.ADMIN}
    ),
    Perm.NOTE_VIEW: frozenset(
        {_R.INTAKE, _R.COUNSELOR, _R.PRESCRIBER, _R.PROGRAM_DIRECTOR, _R.AUDITOR, _R.ADMIN}
    ),
    Perm.NOTE_WRITE: _CLINICIANS,
    Perm.NOTE_COSIGN: frozenset({_R.PRESCRIBER, _R.PROGRAM_DIRECTOR, _R.ADMIN}),
    Perm.SUD_NOTE_WRITE: frozenset({_R.COUNSELOR, _R.PRESCRIBER, _R.PROGRAM_DIRECTOR}),
    Perm.UR_PACKET: frozenset({_R.COUNSELOR, _R.PROGRAM_DIRECTOR, _R.BILLING, _R.ADMIN}),
    Perm.AUTHORIZATION_VIEW: ALL_STAFF - {_R.FRONT_DESK},
    Perm.AUTHORIZATION_MANAGE: frozenset({_R.INTAKE, _R.BILLING, _R.PROGRAM_DIRECTOR, _R.ADMIN}),
    Perm.QUESTIONNAIRE_RECORD: frozenset(
        {_R.INTAKE, _R.COUNSELOR, _R.PRESCRIBER, _R.PROGRAM_DIRECTOR, _R.ADMIN}
    ),
    Perm.ALERT_FOLLOW_UP: _CLINICIANS,
    Perm.MEDICATION_MANAGE: frozenset({_R.PRESCRIBER, _R.PROGRAM_DIRECTOR, _R.ADMIN}),
    Perm.DRUG_SCREEN_RECORD: frozenset(
        {_R.COUNSELOR, _R.PRESCRIBER, _R.PROGRAM_DIRECTOR, _R.ADMIN}
    ),
    Perm.CONSENT_VIEW: ALL_STAFF - {_R.FRONT_DESK},
    Perm.CONSENT_MANAGE: frozenset(
        {_R.INTAKE, _R.COUNSELOR, _R.PRESCRIBER, _R.PROGRAM_DIRECTOR, _R.ADMIN}
    ),
    Perm.DISCLOSURE_MAKE: frozenset({_R.PROGRAM_DIRECTOR, _R.BILLING, _R.ADMIN}),
    Perm.BREAK_GLASS: frozenset({_R.COUNSELOR, _R.PRESCRIBER, _R.PROGRAM_DIRECTOR}),
    Perm.BREAK_GLASS_REVIEW: frozenset({_R.PROGRAM_DIRECTOR, _R.AUDITOR, _R.ADMIN}),
    Perm.BILLING_VIEW: frozenset({_R.BILLING, _R.PROGRAM_DIRECTOR, _R.AUDITOR, _R.ADMIN}),
    Perm.BILLING_MANAGE: frozenset({_R.BILLING, _R.ADMIN}),
    Perm.COST_ESTIMATE: frozenset({_R.INTAKE, _R.BILLING, _R.PROGRAM_DIRECTOR, _R.ADMIN}),
    Perm.AFTERCARE_VIEW: frozenset(
        {_R.INTAKE, _R.COUNSELOR, _R.PRESCRIBER, _R.PROGRAM_DIRECTOR, _R.AUDITOR, _R.ADMIN}
    ),
    Perm.AFTERCARE_MANAGE: frozenset(
        {_R.INTAKE, _R.COUNSELOR, _R.PRESCRIBER, _R.PROGRAM_DIRECTOR, _R.ADMIN}
    ),
    Perm.OUTCOME_REPORT: frozenset({_R.PROGRAM_DIRECTOR, _R.AUDITOR, _R.ADMIN}),
    Perm.TEDS_EXPORT: frozenset({_R.PROGRAM_DIRECTOR, _R.ADMIN}),
    Perm.PORTAL_INVITE: frozenset(
        {_R.INTAKE, _R.COUNSELOR, _R.PROGRAM_DIRECTOR, _R.FRONT_DESK, _R.ADMIN}
    ),
}


def roles_of(user: Any) -> frozenset[Role]:
    """The user's roles, cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_openiop_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(role for role in Role if role.value in names)
        user._openiop_roles = cached
    return cached


def user_has_perm(user: Any, perm: Perm) -> bool:
    if getattr(user, "organization_id", None) is None:
        return False  # staff outside any organization (e.g. a bare superuser) see no patients
    return bool(roles_of(user) & ROLE_PERMISSIONS[perm])


def matrix_markdown() -> str:
    """The role x permission table as Markdown; docs/roles.md embeds it (a test keeps it equal)."""
    roles = list(Role)
    lines = [
        "| Permission | " + " | ".join(r.value for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for perm in Perm:
        cells = ["yes" if r in ROLE_PERMISSIONS[perm] else "-" for r in roles]
        lines.append(f"| `{perm.value}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
