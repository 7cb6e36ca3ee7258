"""Consent reads: a patient's consents, the accounting of disclosures, break-glass queues.

Every read of patient data writes one audit row. ``break_glass_active`` is the question a later
change asks to widen caseload access during an emergency window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.consent.models import BreakGlassAccess, Consent, Disclosure
from openiop.consent.services import CAT, org_tz
from openiop.core.access import get_for_user_or_404
from openiop.core.audit import audit_log, audit_log_many
from openiop.patients.models import Patient

# 42 CFR 2.25 asks for 3 years of disclosures made with consent; HIPAA's own accounting, 6.
ACCOUNTING_YEARS = (3, 6)


@dataclass(frozen=True)
class ConsentRow:
    consent: Consent
    status: str

    @property
    def status_label(self) -> str:
        return Consent.Status(self.status).label


def patient_get(*, user: Any, public_id: Any, perm: Perm) -> Patient:
    return get_for_user_or_404(
        Patient.objects.select_related("organization"), user, public_id, perm
    )


def consent_list(
    *, user: Any, patient: Patient, request: HttpRequest | None = None
) -> list[ConsentRow]:
    """The patient's consents, newest first, each with its status today."""
    tz = org_tz(patient.organization)
    today = timezone.localdate(timezone.now(), timezone=tz)
    consents = Consent.objects.for_org(patient.organization_id).filter(patient=patient)
    rows = [ConsentRow(c, c.status_on(today, tz)) for c in consents.select_related("revoked_by")]
    audit_log(
        actor=user, action="openiop.consent.consent.list", category=CAT, patient=patient,
        request=request, detail={"count": len(rows)},
    )  # fmt: skip
    return rows


def consent_get(*, user: Any, public_id: Any, perm: Perm) -> Consent:
    return get_for_user_or_404(
        Consent.objects.select_related("patient__organization"), user, public_id, perm
    )


def consents_covering(patient: Patient, today: dt.date) -> list[Consent]:
    """Consents in force today (for the release page's recipient choices)."""
    return list(
        Consent.objects.for_org(patient.organization_id).filter(patient=patient).active_on(today)
    )


def disclosure_accounting(
    *,
    user: Any,
    patient: Patient,
    years: int = 3,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> list[Disclosure]:
    """Every disclosure made in the last ``years`` years, newest first (42 CFR 2.25)."""
    now = now or timezone.now()
    since = years_before(now, years)
    rows = list(
        Disclosure.objects.for_org(patient.organization_id)
        .made()
        .filter(patient=patient, disclosed_at__gte=since, disclosed_at__lte=now)
        .select_related("disclosed_by", "consent")
    )
    audit_log(
        actor=user, action="openiop.consent.disclosure.accounting", category=CAT,
        patient=patient, request=request, detail={"years": years, "count": len(rows)},
    )  # fmt: skip
    return rows


def disclosure_refusals(*, patient: Patient, since: dt.datetime) -> list[Disclosure]:
    """Refused attempts (shown beside the accounting; read under the same audit row)."""
    return list(
        Disclosure.objects.for_org(patient.organization_id)
        .filter(patient=patient, status=Disclosure.Status.REFUSED, disclosed_at__gte=since)
        .select_related("disclosed_by")
    )


def years_before(when: dt.datetime, years: int) -> dt.datetime:
    try:
        return when.replace(year=when.year - years)
    except ValueError:  # 29 February
        return when.replace(year=when.year - years, day=28)


def disclosure_get(*, user: Any, public_id: Any, request: HttpRequest | None = None) -> Disclosure:
    disclosure = get_for_user_or_404(
        Disclosure.objects.made().select_related("patient", "disclosed_by", "consent"),
        user, public_id, Perm.CONSENT_VIEW,
    )  # fmt: skip
    audit_log(
        actor=user, action="openiop.consent.disclosure.read", category=CAT, obj=disclosure,
        patient=disclosure.patient, request=request,
    )  # fmt: skip
    return disclosure


# --- break-glass --------------------------------------------------------------------------------


def break_glass_active(user: Any, patient: Patient, *, when: dt.datetime | None = None) -> bool:
    """Does ``user`` hold unexpired emergency access to ``patient`` right now?"""
    if getattr(user, "pk", None) is None or user.organization_id != patient.organization_id:
        return False
    return (
        BreakGlassAccess.objects.for_org(patient.organization_id)
        .filter(user=user, patient=patient)
        .active_at(when or timezone.now())
        .exists()
    )


def break_glass_unreviewed(
    user: Any, *, request: HttpRequest | None = None, limit: int | None = None
) -> list[BreakGlassAccess]:
    """Emergency accesses waiting for review, oldest first; empty for roles that do not review.

    A reviewer's own accesses are listed too (marked in the template), since someone must see
    them, but ``break_glass_review`` refuses self-review.
    """
    if not user_has_perm(user, Perm.BREAK_GLASS_REVIEW):
        return []
    qs = (
        BreakGlassAccess.objects.for_org(user.organization_id)
        .unreviewed()
        .select_related("user", "patient")
        .order_by("started_at", "id")
    )
    rows = list(qs[:limit] if limit else qs)
    audit_log_many(
        actor=user, action="openiop.consent.break_glass.queue", category=CAT,
        patients=[r.patient for r in rows], request=request,
    )  # fmt: skip
    return rows


def break_glass_reviewed(
    user: Any, *, request: HttpRequest | None = None, limit: int = 50
) -> list[BreakGlassAccess]:
    """The most recently reviewed accesses, newest review first."""
    if not user_has_perm(user, Perm.BREAK_GLASS_REVIEW):
        return []
    rows = list(
        BreakGlassAccess.objects.for_org(user.organization_id)
        .filter(reviewed_at__isnull=False)
        .select_related("user", "patient", "reviewed_by")
        .order_by("-reviewed_at")[:limit]
    )
    audit_log_many(
        actor=user, action="openiop.consent.break_glass.reviewed_list", category=CAT,
        patients=[r.patient for r in rows], request=request,
    )  # fmt: skip
    return rows


def break_glass_panel_context(user: Any, *, request: HttpRequest | None = None) -> dict[str, Any]:
    """Context for ``consent/_break_glass_panel.html``; None hides the panel for other roles."""
    if not user_has_perm(user, Perm.BREAK_GLASS_REVIEW):
        return {"break_glass_unreviewed": None}
    return {"break_glass_unreviewed": break_glass_unreviewed(user, request=request, limit=10)}
