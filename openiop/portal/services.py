"""Portal invitations and accounts (issue 10). Audited; the token is shown once, stored hashed."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.portal.models import AccountKind, ConsentRequest, PortalAccount, PortalInvitation

CAT = AuditEvent.Category.CLINICAL
GUARDIAN_AREAS = ("schedule", "questionnaires", "plan", "consents")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(
    *,
    actor: Any,
    patient: Any,
    guardian: Any = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> tuple[PortalInvitation, str]:
    """A one-time invitation for the patient, or for one of their guardians. Returns the row and
    the token (shown once). Earlier open invitations for the same person stop working."""
    if guardian is not None and guardian.patient_id != patient.pk:
        raise ValidationError({"guardian": "That guardian is not this patient's."})
    kind = AccountKind.GUARDIAN if guardian is not None else AccountKind.PATIENT
    if (
        kind == AccountKind.PATIENT
        and PortalAccount.objects.filter(
            patient=patient, kind=AccountKind.PATIENT, is_active=True
        ).exists()
    ):
        raise ValidationError({"patient": "This patient already has a portal log-in."})
    now = now or timezone.now()
    PortalInvitation.objects.filter(
        patient=patient, guardian=guardian, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = PortalInvitation.objects.create(
        organization_id=patient.organization_id, patient=patient, kind=kind, guardian=guardian,
        token_hash=_digest(token),
        expires_at=now + dt.timedelta(days=settings.OPENIOP_PORTAL_INVITATION_DAYS),
        created_by=actor if getattr(actor, "pk", None) else None,
    )  # fmt: skip
    audit_log(
        actor=actor, action="openiop.portal.invitation.create", category=CAT, obj=invitation,
        patient=patient, request=request, detail={"kind": kind},
    )  # fmt: skip
    return invitation, token


def invitation_for_token(token: str, *, now: dt.datetime | None = None) -> PortalInvitation | None:
    """The open invitation a token names, or None (unknown, used, revoked or expired alike)."""
    now = now or timezone.now()
    return (
        PortalInvitation.objects.select_related("patient", "guardian", "patient__organization")
        .filter(
            token_hash=_digest(token),
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        )  # fmt: skip
        .first()
    )


@transaction.atomic
def invitation_accept(
    *,
    invitation: PortalInvitation,
    username: str,
    password: str,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> PortalAccount:
    """Create the portal log-in the invitation offers. Bad input raises ValidationError and
    creates nothing; the invitation works once."""
    now = now or timezone.now()
    locked = PortalInvitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at or locked.revoked_at or locked.expires_at <= now:
        raise ValidationError("This invitation link has already been used or has expired.")
    username = username.strip()
    if not username:
        raise ValidationError({"username": "Choose a user name."})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "That user name is taken; choose another."})
    patient, guardian = locked.patient, locked.guardian
    name = guardian.name if guardian else (patient.preferred_name or patient.first_name)
    user = User(
        username=username, organization_id=patient.organization_id, is_portal=True,
        first_name=name[:150],
    )  # fmt: skip
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationError({"username": "That user name is taken; choose another."}) from None
    defaults = set(settings.OPENIOP_PORTAL_GUARDIAN_SEES) if guardian else set(GUARDIAN_AREAS)
    account = PortalAccount.objects.create(
        organization_id=patient.organization_id, user=user, patient=patient,
        kind=locked.kind, guardian=guardian,
        **{f"sees_{area}": area in defaults for area in GUARDIAN_AREAS},
    )  # fmt: skip
    locked.accepted_at = now
    locked.account = account
    locked.save(update_fields=["accepted_at", "account", "updated_at"])
    audit_log(
        actor=user, action="openiop.portal.account.create", category=CAT, obj=account,
        patient=patient, request=request, detail={"kind": locked.kind},
    )  # fmt: skip
    return account


@transaction.atomic
def account_disable(*, actor: Any, account: PortalAccount, request: HttpRequest | None = None):  # noqa: ANN201
    """Stop a portal log-in at once (the next request of an open session logs it out)."""
    account.is_active = False
    account.save(update_fields=["is_active", "updated_at"])
    User.objects.filter(pk=account.user_id).update(is_active=False)
    audit_log(
        actor=actor, action="openiop.portal.account.disable", category=CAT, obj=account,
        patient=account.patient, request=request,
    )  # fmt: skip
    return account


@transaction.atomic
def guardian_visibility_set(
    *, actor: Any, account: PortalAccount, areas: set[str], request: HttpRequest | None = None
) -> PortalAccount:
    if not account.is_guardian:
        raise ValidationError("A patient's own account always shows all of their record.")
    unknown = set(areas) - set(GUARDIAN_AREAS)
    if unknown:
        raise ValidationError({"areas": f"Unknown areas: {', '.join(sorted(unknown))}."})
    for area in GUARDIAN_AREAS:
        setattr(account, f"sees_{area}", area in areas)
    account.save()
    audit_log(
        actor=actor, action="openiop.portal.account.visibility", category=CAT, obj=account,
        patient=account.patient, request=request, detail={"areas": sorted(areas)},
    )  # fmt: skip
    return account


# --- consents sent to the portal for signature ----------------------------------------------------

TERMS_FIELDS = (
    "kind", "disclosing_party", "recipient_name", "recipient_organization",
    "recipient_description", "purpose", "purpose_detail", "categories", "expires_on",
    "expiry_event", "state",
)  # fmt: skip


@transaction.atomic
def consent_request_create(
    *, actor: Any, patient: Any, terms: dict[str, Any], request: HttpRequest | None = None
) -> ConsentRequest:
    """Send a consent to the portal for signature. The terms get every check a recorded consent
    gets, except who signs and when (``consent_terms_check``); errors name the field."""
    from openiop.consent.services import consent_terms_check

    unknown = set(terms) - set(TERMS_FIELDS)
    if unknown:
        raise ValidationError(f"unknown consent fields: {', '.join(sorted(unknown))}")
    consent_terms_check(patient=patient, **terms)
    stored = dict(terms)
    if stored.get("expires_on") is not None:
        stored["expires_on"] = stored["expires_on"].isoformat()
    row = ConsentRequest.objects.create(
        organization=patient.organization, patient=patient, terms=stored,
        created_by=actor if getattr(actor, "pk", None) else None,
    )  # fmt: skip
    audit_log(
        actor=actor, action="openiop.portal.consent_request.create", category=CAT, obj=row,
        patient=patient, request=request, detail={"kind": terms.get("kind")},
    )  # fmt: skip
    return row


@transaction.atomic
def consent_request_sign(
    *,
    account: PortalAccount,
    consent_request: ConsentRequest,
    typed_name: str,
    agreed: bool,
    request: HttpRequest | None = None,
) -> ConsentRequest:
    """The patient (or guardian) signs in the portal: a typed name and an explicit "I agree".
    Records the consent through ``consent_record`` (all 42 CFR 2.31 checks, the minors rule
    included) with the signer's role, and closes the request."""
    import datetime as _dt

    from openiop.consent.models import Consent
    from openiop.consent.services import consent_record

    row = ConsentRequest.objects.select_for_update().get(pk=consent_request.pk)
    if row.patient_id != account.patient_id:
        raise ValidationError("This consent is not yours to sign.")
    if row.status != ConsentRequest.Status.PENDING:
        raise ValidationError("This consent is no longer waiting for a signature.")
    errors: dict[str, str] = {}
    if not typed_name.strip():
        errors["typed_name"] = "Type your full name to sign."
    if not agreed:
        errors["agreed"] = "Tick the box to confirm you have read the consent and agree to it."
    if errors:
        raise ValidationError(errors)
    terms = dict(row.terms)
    if terms.get("expires_on"):
        terms["expires_on"] = _dt.date.fromisoformat(terms["expires_on"])
    role = Consent.SignerRole.GUARDIAN if account.is_guardian else Consent.SignerRole.PATIENT
    try:
        consent = consent_record(
            actor=account.user, patient=row.patient, signed_by_name=typed_name.strip(),
            signer_role=role, signed_at=timezone.now(), request=request, **terms,
        )  # fmt: skip
    except ValidationError as exc:
        # Signer problems (e.g. a minor whose state needs a parent's signature) in plain words.
        raise ValidationError({"typed_name": " ".join(exc.messages)}) from None
    row.status = ConsentRequest.Status.SIGNED
    row.consent = consent
    row.signed_at = row.closed_at = consent.signed_at
    row.save(update_fields=["status", "consent", "signed_at", "closed_at", "updated_at"])
    audit_log(
        actor=account.user, action="openiop.portal.consent_request.sign", category=CAT, obj=row,
        patient=row.patient, request=request, detail={"signer_role": role},
    )  # fmt: skip
    return row


@transaction.atomic
def consent_request_withdraw(
    *, actor: Any, consent_request: ConsentRequest, request: HttpRequest | None = None
) -> ConsentRequest:
    row = ConsentRequest.objects.select_for_update().get(pk=consent_request.pk)
    if row.status != ConsentRequest.Status.PENDING:
        raise ValidationError("Only a consent waiting for a signature can be withdrawn.")
    row.status = ConsentRequest.Status.WITHDRAWN
    row.closed_at = timezone.now()
    row.save(update_fields=["status", "closed_at", "updated_at"])
    audit_log(
        actor=actor, action="openiop.portal.consent_request.withdraw", category=CAT, obj=row,
        patient=row.patient, request=request,
    )  # fmt: skip
    return row
