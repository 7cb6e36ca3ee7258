"""Portal reads for questionnaires, consents and the accounting of disclosures (issue 10).

Everything is read through ``account.patient``; an object named in a URL is fetched filtered by
that patient and the account's organization. Reads of patient data are audited (one row each).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Max
from django.http import Http404, HttpRequest
from django.utils import timezone

from openiop.accounts.permissions import Role
from openiop.consent import selectors as consent_selectors
from openiop.consent.models import Consent, Disclosure
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.portal.models import ConsentRequest, PortalAccount
from openiop.portal.selectors import open_episode
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.models import QuestionnaireInvitation, QuestionnaireResponse
from openiop.questionnaires.selectors import questionnaires_due

CAT = AuditEvent.Category.CLINICAL
ACCESS_DAYS = 90
ACCESS_PAGE_SIZE = 50

REASONS = {
    "admission": "Due since you started the program",
    "periodic": "Due for your regular check-in",
    "discharge": "Due as you finish the program",
}


@dataclass(frozen=True)
class Assigned:
    """One questionnaire the patient is asked to fill in (by a link sent or by the schedule)."""

    key: str
    title: str
    reason: str
    due_on: dt.date | None = None
    expires_at: dt.datetime | None = None


def _today(account: PortalAccount, episode: Any) -> dt.date:
    if episode is not None:
        return episode.program.site.today()
    return account.patient.organization.today()


def _assigned(account: PortalAccount, *, now: dt.datetime | None = None) -> list[Assigned]:
    now = now or timezone.now()
    episode = open_episode(account)
    out: dict[str, Assigned] = {}
    if episode is not None:
        for due in questionnaires_due(episode, _today(account, episode)):
            if due.instrument in registry.INSTRUMENTS:
                out[due.instrument] = Assigned(
                    key=due.instrument, title=registry.get(due.instrument).title,
                    reason=REASONS.get(due.reason, "Due"), due_on=due.due_on,
                )  # fmt: skip
    links = list(
        QuestionnaireInvitation.objects.for_org(account.organization_id)
        .filter(patient=account.patient)
        .pending(now)
        .order_by("expires_at")
    )
    if links:
        # A link answered in the portal instead stays unused; the newer answer covers it.
        latest = dict(
            QuestionnaireResponse.objects.for_org(account.organization_id)
            .filter(patient=account.patient, instrument__in={i.instrument for i in links})
            .values_list("instrument")
            .annotate(last=Max("administered_at"))
        )
        for link in links:
            answered = latest.get(link.instrument)
            if answered is not None and answered >= link.created_at:
                continue
            if link.instrument in out or link.instrument not in registry.INSTRUMENTS:
                continue
            out[link.instrument] = Assigned(
                key=link.instrument, title=registry.get(link.instrument).title,
                reason="Your care team asked you to fill this in", expires_at=link.expires_at,
            )  # fmt: skip
    return sorted(out.values(), key=lambda a: a.title)


def assigned_questionnaires(
    account: PortalAccount, *, request: HttpRequest | None = None, now: dt.datetime | None = None
) -> list[Assigned]:
    """Questionnaires the patient is asked to fill in now: what the program's schedule says is
    due, plus open (unused, unrevoked, unexpired) links from the care team. One audit row."""
    rows = _assigned(account, now=now)
    audit_log(
        actor=account.user, action="openiop.portal.questionnaires.list", category=CAT,
        obj=account.patient, patient=account.patient, request=request,
        detail={"instruments": [a.key for a in rows]},
    )  # fmt: skip
    return rows


def assigned_get(account: PortalAccount, key: str) -> Assigned:
    """The assigned questionnaire ``key`` for this patient, else 404 (not audited: the view
    audits the answers it records)."""
    for row in _assigned(account):
        if row.key == key:
            return row
    raise Http404("Not found")


# -- consents -------------------------------------------------------------------------------------


def my_consents(
    account: PortalAccount, *, request: HttpRequest | None = None
) -> list[consent_selectors.ConsentRow]:
    """The patient's Part 2 consents with today's status (audited by the consent selector)."""
    return consent_selectors.consent_list(
        user=account.user, patient=account.patient, request=request
    )


def my_consent_get(account: PortalAccount, public_id: Any) -> Consent:
    consent = (
        Consent.objects.for_org(account.organization_id)
        .filter(patient=account.patient, public_id=public_id)
        .select_related("patient")
        .first()
    )
    if consent is None:
        raise Http404("Not found")
    return consent


def my_consent_requests(
    account: PortalAccount, *, request: HttpRequest | None = None
) -> list[ConsentRequest]:
    """Consents staff sent for this patient to sign, still waiting (audited as a read)."""
    rows = list(
        ConsentRequest.objects.for_org(account.organization_id)
        .filter(patient=account.patient, status=ConsentRequest.Status.PENDING)
        .select_related("patient", "patient__organization")
    )
    if rows:
        audit_log(
            actor=account.user, action="openiop.portal.consent_request.list", category=CAT,
            patient=account.patient, request=request, detail={"count": len(rows)},
        )  # fmt: skip
    return rows


def my_consent_request_get(account: PortalAccount, public_id: Any) -> ConsentRequest:
    row = (
        ConsentRequest.objects.for_org(account.organization_id)
        .filter(patient=account.patient, public_id=public_id)
        .select_related("patient", "patient__organization")
        .first()
    )
    if row is None:
        raise Http404("Not found")
    return row


# -- accounting: who received my records, who looked at them --------------------------------------

VERBS = {
    "read": "Viewed", "view": "Viewed", "list": "Viewed", "open": "Opened", "accounting":
    "Viewed the list of releases of", "create": "Added", "record": "Recorded", "update":
    "Changed", "edit": "Changed", "delete": "Removed", "revoke": "Revoked", "sign": "Signed",
    "print": "Printed", "export": "Exported", "raise": "Raised", "follow_up": "Followed up on",
    "make": "Released", "refuse": "Refused", "start": "Started", "review": "Reviewed",
    "book": "Booked", "cancel": "Cancelled", "discharge": "Discharged", "admit": "Admitted",
}  # fmt: skip
THINGS = {
    "response": "questionnaire answers", "alert": "a safety alert", "patient": "your profile",
    "episode": "your episode of care", "note": "a clinical note", "consent": "a consent",
    "disclosure": "your records", "invitation": "a questionnaire link", "break_glass":
    "emergency access to your record", "account": "your portal log-in",
    "attendance": "attendance", "scores": "questionnaire scores", "chart": "your chart",
}  # fmt: skip
ROLE_LABELS = {
    Role.INTAKE: "Intake", Role.COUNSELOR: "Counselor", Role.PRESCRIBER: "Prescriber",
    Role.PROGRAM_DIRECTOR: "Program director", Role.FRONT_DESK: "Front desk",
    Role.BILLING: "Billing", Role.AUDITOR: "Auditor", Role.ADMIN: "Administrator",
}  # fmt: skip


def action_words(action: str) -> str:
    """``openiop.clinical.note.read`` -> "Viewed a clinical note" (plain words, no codes)."""
    parts = action.split(".")
    if len(parts) < 3:
        return "Used your record"
    verb = parts[-1]
    entity = parts[-2] if len(parts) >= 4 else parts[1]
    thing = THINGS.get(entity, entity.replace("_", " "))
    if verb == "list":
        return f"Viewed {thing} (in a list)"
    word = VERBS.get(verb, verb.replace("_", " ").capitalize())
    return f"{word} {thing}"


def role_words(roles: str) -> str:
    labels = []
    for name in filter(None, roles.split(",")):
        try:
            labels.append(ROLE_LABELS.get(Role(name), name))
        except ValueError:
            labels.append(name.replace("_", " "))
    return ", ".join(labels) or "Staff"


@dataclass(frozen=True)
class AccessRow:
    occurred_at: dt.datetime
    name: str
    role: str
    what: str
    category: str


@dataclass(frozen=True)
class Accounting:
    disclosures: list[Disclosure]
    access_page: Page
    access_rows: list[AccessRow]
    days: int
    tz_name: str


def my_accounting(
    account: PortalAccount,
    *,
    page: Any = 1,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Accounting:
    """Disclosures made (3 years, as 42 CFR 2.25; audited by the consent selector) and staff
    who touched the record in the last ``ACCESS_DAYS`` days, newest first, 50 a page."""
    now = now or timezone.now()
    patient = account.patient
    disclosures = consent_selectors.disclosure_accounting(
        user=account.user, patient=patient, years=3, now=now, request=request
    )
    events = (
        AuditEvent.objects.filter(
            organization_id=account.organization_id,
            patient_id=str(patient.public_id),
            occurred_at__gte=now - dt.timedelta(days=ACCESS_DAYS),
            actor__isnull=False,
            actor__is_portal=False,
        )
        .select_related("actor")
        .order_by("-occurred_at", "-id")
    )
    access_page = Paginator(events, ACCESS_PAGE_SIZE).get_page(page)
    rows = [
        AccessRow(
            occurred_at=e.occurred_at,
            name=(e.actor.get_full_name() if e.actor else "") or e.actor_username,
            role=role_words(e.actor_roles),
            what=action_words(e.action),
            category=AuditEvent.Category(e.category).label
            if e.category in AuditEvent.Category.values
            else "",
        )
        for e in access_page.object_list
    ]
    audit_log(
        actor=account.user, action="openiop.portal.access_log.read", category=CAT,
        obj=patient, patient=patient, request=request,
        detail={"page": access_page.number, "days": ACCESS_DAYS},
    )  # fmt: skip
    return Accounting(
        disclosures=disclosures, access_page=access_page, access_rows=rows, days=ACCESS_DAYS,
        tz_name=str(patient.organization.tz()),
    )  # fmt: skip
