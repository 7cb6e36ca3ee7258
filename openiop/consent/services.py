"""Consent, disclosure and break-glass writes. Keyword-only, atomic, audited.

``disclosure_make`` is the one door every release of Part 2 records goes through (print, export,
release to a recipient, API or FHIR access by an outside party): it asks ``rules.decide`` about
the patient's consents, and either stores the disclosure with the 2.32 notice and a copy of the
consent, or stores the refused attempt, writes an audit row with ``outcome=denied``, and raises
:class:`DisclosureRefused` so a caller that forgets to look can never produce the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.consent import rules
from openiop.consent.models import BreakGlassAccess, Consent, Disclosure
from openiop.core.actors import user_or_none as _user
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.organizations.models import Organization
from openiop.patients.models import Patient

CAT = AuditEvent.Category.CLINICAL
# Releases and emergency access: the audit report's "who received this record" category.
DISCLOSURE_CAT = AuditEvent.Category.DISCLOSURE


def org_tz(organization: Organization) -> dt.tzinfo:
    """The organization's main time zone (its first site's), for local days."""
    site = organization.sites.order_by("id").first()
    return site.tz if site is not None else dt.UTC


def minor_self_consent_ages() -> dict[str, int]:
    """State -> the age from which a minor consents to SUD treatment alone (42 CFR 2.14).

    Configuration, not law shipped in code: ``OPENIOP_CONSENT_MINOR_SELF_CONSENT_AGE`` in settings
    (e.g. ``{"PA": 14}``); a state missing from it gets the stricter rule (minor and guardian sign).
    """
    table = getattr(settings, "OPENIOP_CONSENT_MINOR_SELF_CONSENT_AGE", {}) or {}
    return {str(k).upper(): int(v) for k, v in table.items()}


def default_state() -> str:
    return str(getattr(settings, "OPENIOP_CONSENT_DEFAULT_STATE", "") or "").upper()


def break_glass_minutes() -> int:
    return int(getattr(settings, "OPENIOP_BREAK_GLASS_MINUTES", 60))


# --- consents -----------------------------------------------------------------------------------


def _consent_check(
    *,
    patient: Patient,
    kind: str,
    disclosing_party: str,
    purpose: str,
    categories: Sequence[str],
    signed_by_name: str,
    signed_at: dt.datetime,
    signer_role: str,
    recipient_name: str,
    recipient_organization: str,
    recipient_description: str,
    purpose_detail: str,
    expires_on: dt.date | None,
    expiry_event: str,
    state: str,
    guardian_signed_by_name: str,
) -> tuple[dict[str, str], dict[str, Any]]:
    """Every check of ``consent_record``: the problems by field, and the cleaned values."""
    organization = patient.organization
    tz = org_tz(organization)
    errors: dict[str, str] = {}
    recipient_name, recipient_organization = recipient_name.strip(), recipient_organization.strip()
    state = (state or default_state()).strip().upper()
    if kind not in Consent.Kind.values:
        errors["kind"] = "Choose the kind of consent."
    if not disclosing_party.strip():
        errors["disclosing_party"] = "Name the program or organization that may disclose."
    if kind == Consent.Kind.TPO:
        purpose = Consent.Purpose.TREATMENT  # the single TPO consent covers all three purposes
        recipient_description = recipient_description.strip() or rules.TPO_RECIPIENT_CLASS
    elif kind in Consent.Kind.values and not (recipient_name or recipient_organization):
        errors["recipient_name"] = "Name the recipient (a person, an organization, or both)."
    if purpose not in Consent.Purpose.values:
        errors["purpose"] = "Choose the purpose of the disclosure."
    elif purpose == Consent.Purpose.OTHER and not purpose_detail.strip():
        errors["purpose_detail"] = "Describe the purpose."
    cats = list(dict.fromkeys(categories))
    if rules.SUD_COUNSELING_NOTES in cats:
        errors["categories"] = (
            "SUD counseling notes cannot be part of this consent: they need their own, separate "
            "consent (42 CFR 2.31(b))."
        )
    elif rules.unknown_categories(cats):
        errors["categories"] = "Unknown kind of information: " + ", ".join(
            rules.unknown_categories(cats)
        )
    elif not cats:
        errors["categories"] = "Choose at least one kind of information the consent covers."
    if signed_at > timezone.now():
        errors["signed_at"] = "A consent cannot be signed in the future."
    signed_on = timezone.localdate(signed_at, timezone=tz)
    if expires_on is None and not expiry_event.strip():
        errors["expires_on"] = (
            "Give an expiry date or an expiry event (e.g. 'end of treatment'; 'none' is "
            "allowed for a TPO consent)."
        )
    elif kind != Consent.Kind.TPO and expires_on is None and rules.is_open_ended(expiry_event):
        errors["expiry_event"] = (
            "Only a TPO consent may run until revoked: give this consent an expiry date or event."
        )
    elif expires_on is not None and expires_on < signed_on:
        errors["expires_on"] = "The consent would expire before it was signed."
    if not signed_by_name.strip():
        errors["signed_by_name"] = "Type the name of the person who signed."
    if signer_role not in Consent.SignerRole.values:
        errors["signer_role"] = "Choose who signed."
    if state and (len(state) != 2 or not state.isalpha()):
        errors["state"] = "Use the two-letter state code, e.g. PA."
    if "signer_role" not in errors and "state" not in errors:
        problems = rules.signature_problems(
            age=patient.age_on(signed_on),
            state=state,
            signer_role=signer_role,
            guardian_signed_by_name=guardian_signed_by_name,
            minor_self_consent_age=minor_self_consent_ages(),
        )
        if problems:
            key = "signer_role" if signer_role != "patient" else "guardian_signed_by_name"
            errors[key] = " ".join(problems)
    cleaned = {
        "kind": kind, "purpose": purpose, "cats": cats, "state": state,
        "recipient_name": recipient_name, "recipient_organization": recipient_organization,
        "recipient_description": recipient_description,
    }  # fmt: skip
    return errors, cleaned


# What a consent sent for signature leaves to the signer (``consent_terms_check``).
SIGNER_FIELDS = ("signed_by_name", "signer_role", "guardian_signed_by_name", "signed_at")


def consent_terms_check(*, patient: Patient, **terms: Any) -> dict[str, Any]:
    """Check the terms of a consent that will be signed later (in the patient portal): every
    ``consent_record`` check except who signs and when. Raises ``ValidationError`` by field;
    returns the terms as given."""
    errors, _ = _consent_check(
        patient=patient,
        signed_by_name="-",
        signed_at=timezone.now(),
        signer_role=Consent.SignerRole.GUARDIAN,
        guardian_signed_by_name="",
        **{
            "recipient_name": "", "recipient_organization": "", "recipient_description": "",
            "purpose_detail": "", "expires_on": None, "expiry_event": "", "state": "",
            **terms,
        },
    )  # fmt: skip
    errors = {k: v for k, v in errors.items() if k not in SIGNER_FIELDS}
    if errors:
        raise ValidationError(errors)
    return terms


@transaction.atomic
def consent_record(
    *,
    actor: Any,
    patient: Patient,
    kind: str,
    disclosing_party: str,
    purpose: str,
    categories: Sequence[str],
    signed_by_name: str,
    signed_at: dt.datetime,
    signer_role: str = Consent.SignerRole.PATIENT,
    recipient_name: str = "",
    recipient_organization: str = "",
    recipient_description: str = "",
    purpose_detail: str = "",
    expires_on: dt.date | None = None,
    expiry_event: str = "",
    state: str = "",
    guardian_signed_by_name: str = "",
    request: HttpRequest | None = None,
) -> Consent:
    """Record a signed Part 2 consent with every 2.31 element; errors name the field."""
    organization = patient.organization
    errors, cleaned = _consent_check(
        patient=patient, kind=kind, disclosing_party=disclosing_party, purpose=purpose,
        categories=categories, signed_by_name=signed_by_name, signed_at=signed_at,
        signer_role=signer_role, recipient_name=recipient_name,
        recipient_organization=recipient_organization, recipient_description=recipient_description,
        purpose_detail=purpose_detail, expires_on=expires_on, expiry_event=expiry_event,
        state=state, guardian_signed_by_name=guardian_signed_by_name,
    )  # fmt: skip
    purpose, cats, state = cleaned["purpose"], cleaned["cats"], cleaned["state"]
    recipient_name = cleaned["recipient_name"]
    recipient_organization = cleaned["recipient_organization"]
    recipient_description = cleaned["recipient_description"]
    if errors:
        raise ValidationError(errors)
    consent = Consent.objects.create(
        organization=organization,
        patient=patient,
        kind=kind,
        disclosing_party=disclosing_party.strip(),
        recipient_name=recipient_name if kind != Consent.Kind.TPO else "",
        recipient_organization=recipient_organization if kind != Consent.Kind.TPO else "",
        recipient_description=recipient_description.strip(),
        purpose=purpose,
        purpose_detail=purpose_detail.strip(),
        categories=[key for key, _ in rules.CATEGORIES if key in cats],
        expires_on=expires_on,
        expiry_event=expiry_event.strip(),
        state=state,
        signed_by_name=signed_by_name.strip(),
        signer_role=signer_role,
        guardian_signed_by_name=guardian_signed_by_name.strip(),
        signed_at=signed_at,
        created_by=_user(actor),
    )
    audit_log(
        actor=actor, action="openiop.consent.consent.record", category=CAT, obj=consent,
        patient=patient, request=request,
        detail={"kind": kind, "purpose": purpose, "categories": consent.categories},
    )  # fmt: skip
    return consent


@transaction.atomic
def consent_revoke(
    *,
    actor: Any,
    consent: Consent,
    note: str,
    revoked_at: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Consent:
    """Revoke a consent from now on (2.31(a)(6)).

    Revocation is prospective: disclosures made before it stay in the accounting, with the copy
    of the consent they went out under. The very next disclosure attempt is refused (the row is
    locked, so a release racing the revocation waits for it).
    """
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.revoked_at is not None:
        raise ValidationError({"note": "This consent is already revoked."})
    if not note.strip():
        raise ValidationError({"note": "Say how the patient revoked it (e.g. 'in writing, letter "
                                       "dated ...')."})  # fmt: skip
    now = timezone.now()
    revoked_at = revoked_at or now
    if revoked_at > now:
        raise ValidationError({"revoked_at": "A revocation cannot be dated in the future."})
    consent.revoked_at = revoked_at
    consent.revoked_by = _user(actor)
    consent.revocation_note = note.strip()
    consent.updated_by = _user(actor)
    consent.save(update_fields=["revoked_at", "revoked_by", "revocation_note", "updated_by",
                                "updated_at"])  # fmt: skip
    audit_log(
        actor=actor, action="openiop.consent.consent.revoke", category=CAT, obj=consent,
        patient=consent.patient, request=request, detail={"note": consent.revocation_note},
    )  # fmt: skip
    return consent


@transaction.atomic
def consent_expiry_event_record(
    *,
    actor: Any,
    consent: Consent,
    happened_on: dt.date,
    request: HttpRequest | None = None,
) -> Consent:
    """Record that a consent's expiry event (e.g. "end of treatment") has happened."""
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    tz = org_tz(consent.organization)
    if not consent.expiry_event or rules.is_open_ended(consent.expiry_event):
        raise ValidationError({"happened_on": "This consent has no expiry event to record."})
    if consent.expiry_event_on is not None:
        raise ValidationError({"happened_on": "The expiry event is already recorded."})
    if consent.revoked_at is not None:
        raise ValidationError({"happened_on": "This consent is revoked."})
    if happened_on > consent.organization.today():
        raise ValidationError({"happened_on": "The event cannot be in the future."})
    if happened_on < timezone.localdate(consent.signed_at, timezone=tz):
        raise ValidationError({"happened_on": "The event cannot be before the consent was signed."})
    consent.expiry_event_on = happened_on
    consent.updated_by = _user(actor)
    consent.save(update_fields=["expiry_event_on", "updated_by", "updated_at"])
    audit_log(
        actor=actor, action="openiop.consent.consent.expire", category=CAT, obj=consent,
        patient=consent.patient, request=request,
        detail={"event": consent.expiry_event, "on": happened_on.isoformat()},
    )  # fmt: skip
    return consent


# --- disclosures --------------------------------------------------------------------------------


class DisclosureRefused(Exception):
    """No valid consent covers the release. The refused attempt is already stored and audited
    (``disclosure``); ``messages`` say why, for the person who asked.

    Catch it where the release was asked for: letting it escape an outer ``transaction.atomic``
    would roll the refusal record back with everything else.
    """

    def __init__(self, disclosure: Disclosure, decision: rules.Decision) -> None:
        self.disclosure = disclosure
        self.decision = decision
        self.messages = decision.messages
        super().__init__("; ".join(self.messages))


def disclosure_make(
    *,
    actor: Any,
    patient: Patient,
    recipient: str,
    purpose: str,
    categories: Sequence[str],
    channel: str,
    recipient_organization: str = "",
    request: HttpRequest | None = None,
) -> Disclosure:
    """Release ``categories`` of ``patient``'s record to ``recipient`` for ``purpose``.

    Bad input (unknown purpose, channel or category, no recipient, nothing chosen) is a
    ``ValidationError`` and changes nothing. A well-formed request that no consent covers is
    stored as a refused attempt with an ``outcome=denied`` audit row, then
    :class:`DisclosureRefused` is raised.
    """
    recipient, recipient_organization = recipient.strip(), recipient_organization.strip()
    cats = list(dict.fromkeys(categories))
    errors: dict[str, str] = {}
    if not (recipient or recipient_organization):
        errors["recipient"] = "Name the recipient."
    if purpose not in Consent.Purpose.values:
        errors["purpose"] = "Choose the purpose of the disclosure."
    if channel not in Disclosure.Channel.values:
        errors["channel"] = "Choose how the records are released."
    unknown = set(cats) - rules.CATEGORY_KEYS - {rules.SUD_COUNSELING_NOTES}
    if unknown:
        errors["categories"] = "Unknown kind of information: " + ", ".join(sorted(unknown))
    elif not cats:
        errors["categories"] = rules.REASON_TEXT[rules.Reason.NOTHING_REQUESTED]
    if errors:
        raise ValidationError(errors)
    organization = patient.organization
    tz = org_tz(organization)
    now = timezone.now()
    ask = rules.Request(
        recipient_name=recipient,
        recipient_organization=recipient_organization,
        purpose=purpose,
        categories=frozenset(cats),
        on=timezone.localdate(now, timezone=tz),
    )
    ordered = [key for key, _ in rules.CATEGORIES if key in cats]
    if rules.SUD_COUNSELING_NOTES in cats:
        ordered.append(rules.SUD_COUNSELING_NOTES)
    common = dict(
        organization=organization, patient=patient, recipient_name=recipient,
        recipient_organization=recipient_organization, purpose=purpose, categories=ordered,
        channel=channel, disclosed_at=now, disclosed_by=_user(actor), created_by=_user(actor),
    )  # fmt: skip
    with transaction.atomic():
        # Lock the patient's consents: a revocation committed a moment ago is seen, and one in
        # progress is waited for (no grace release after a revocation).
        consents = list(
            Consent.objects.for_org(organization).filter(patient=patient).select_for_update()
        )
        by_ref = {str(c.public_id): c for c in consents}
        decision = rules.decide([c.terms(tz) for c in consents], ask)
        detail: dict[str, Any] = {
            "recipient": ", ".join(p for p in (recipient, recipient_organization) if p),
            "purpose": purpose, "categories": ordered, "channel": channel,
        }  # fmt: skip
        if decision.allowed:
            consent = by_ref[decision.consent_ref]
            disclosure = Disclosure.objects.create(
                **common, status=Disclosure.Status.MADE, consent=consent,
                redisclosure_notice=rules.REDISCLOSURE_NOTICE, consent_snapshot=consent.snapshot(),
            )  # fmt: skip
            audit_log(
                actor=actor, action="openiop.consent.disclosure.make", category=DISCLOSURE_CAT,
                obj=disclosure, patient=patient, request=request,
                detail={**detail, "consent": decision.consent_ref},
            )  # fmt: skip
            return disclosure
        disclosure = Disclosure.objects.create(
            **common, status=Disclosure.Status.REFUSED,
            consent=by_ref.get(decision.consent_ref), refusal_reasons=decision.messages,
        )  # fmt: skip
        audit_log(
            actor=actor, action="openiop.consent.disclosure.make", category=DISCLOSURE_CAT,
            obj=disclosure, patient=patient, request=request, outcome=AuditEvent.Outcome.DENIED,
            detail={**detail, "reasons": list(decision.reasons), "consent": decision.consent_ref},
        )  # fmt: skip
    raise DisclosureRefused(disclosure, decision)


# --- break-glass --------------------------------------------------------------------------------


def break_glass_start(
    *,
    actor: Any,
    patient: Patient,
    reason: str,
    disclosed_to: str = "",
    request: HttpRequest | None = None,
) -> BreakGlassAccess:
    """Open time-limited emergency access to one patient's record (42 CFR 2.51).

    Only roles with ``break_glass.use`` may; anyone else is refused with an audit row (the
    attempt is itself worth a compliance officer's look). The access appears in the program
    directors' review queue at once and stays there until reviewed.
    """
    if not user_has_perm(actor, Perm.BREAK_GLASS):
        audit_log(
            actor=actor, action="openiop.consent.break_glass.start", category=DISCLOSURE_CAT,
            patient=patient, request=request, outcome=AuditEvent.Outcome.DENIED,
            detail={"why": "role may not use break-glass"},
        )  # fmt: skip
        raise PermissionDenied("your role does not allow emergency access")
    reason = reason.strip()
    if len(reason) < BreakGlassAccess.MIN_REASON:
        raise ValidationError(
            {"reason": f"Describe the emergency (at least {BreakGlassAccess.MIN_REASON} "
                       "characters): what is happening and why you need this record now."}
        )  # fmt: skip
    now = timezone.now()
    with transaction.atomic():
        current = (
            BreakGlassAccess.objects.for_org(patient.organization_id)
            .filter(user=actor, patient=patient)
            .active_at(now)
            .first()
        )
        if current is not None:
            local = timezone.localtime(current.expires_at, org_tz(patient.organization))
            raise ValidationError(
                {"reason": f"You already have emergency access to this record until "
                           f"{local:%H:%M}."}
            )  # fmt: skip
        access = BreakGlassAccess.objects.create(
            organization=patient.organization, user=actor, patient=patient, reason=reason,
            disclosed_to=disclosed_to.strip(), started_at=now,
            expires_at=now + dt.timedelta(minutes=break_glass_minutes()), created_by=_user(actor),
        )  # fmt: skip
        audit_log(
            actor=actor, action="openiop.consent.break_glass.start", category=DISCLOSURE_CAT,
            obj=access, patient=patient, request=request,
            detail={"break_glass": True, "reason": reason, "disclosed_to": access.disclosed_to,
                    "expires_at": access.expires_at.isoformat()},
        )  # fmt: skip
    return access


@transaction.atomic
def break_glass_review(
    *,
    actor: Any,
    access: BreakGlassAccess,
    note: str,
    request: HttpRequest | None = None,
) -> BreakGlassAccess:
    """Record a program director's review of an emergency access. Nobody reviews their own."""
    access = BreakGlassAccess.objects.select_for_update().get(pk=access.pk)
    if access.reviewed_at is not None:
        raise ValidationError({"note": "This emergency access has already been reviewed."})
    if access.user_id == getattr(actor, "pk", None):
        raise ValidationError({"note": "Someone else must review your own emergency access."})
    if not note.strip():
        raise ValidationError({"note": "Write what you found (justified or not, and any action)."})
    access.reviewed_at = timezone.now()
    access.reviewed_by = _user(actor)
    access.review_note = note.strip()
    access.updated_by = _user(actor)
    access.save(update_fields=["reviewed_at", "reviewed_by", "review_note", "updated_by",
                               "updated_at"])  # fmt: skip
    audit_log(
        actor=actor, action="openiop.consent.break_glass.review", category=DISCLOSURE_CAT,
        obj=access, patient=access.patient, request=request, detail={"note": access.review_note},
    )  # fmt: skip
    return access
