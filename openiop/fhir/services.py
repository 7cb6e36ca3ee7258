"""FHIR clients: create (the token is shown once) and revoke. Audited."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from openiop.accounts.models import User
from openiop.consent.models import Consent
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.fhir import scopes as smart
from openiop.fhir.access import TOKEN_PREFIX, digest, new_token
from openiop.fhir.models import FhirClient

CAT = AuditEvent.Category.ADMINISTRATIVE


@transaction.atomic
def fhir_client_create(
    *,
    actor: Any,
    organization: Any,
    name: str,
    kind: str,
    scopes: str,
    user: User | None = None,
    patient: Any = None,
    is_external: bool = True,
    recipient_name: str = "",
    recipient_organization: str = "",
    purpose: str = "",
) -> tuple[FhirClient, str]:
    """A client and its bearer token (returned once; only its SHA-256 is stored).

    * ``user``: a staff member's app; ``user`` is that staff member (same organization).
    * ``patient``: the patient's own app; acts through their portal log-in if they have one,
      else through a service account.
    * ``system``: a backend service, through a service account made for it. Outside recipients
      (``is_external``) must be named and give the purpose their consents must cover.
    """
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Name the client (e.g. 'County Hospital HIE')."
    if kind not in FhirClient.Kind.values:
        errors["kind"] = f"kind is one of {', '.join(FhirClient.Kind.values)}"
    try:
        parsed = smart.parse(scopes)
    except smart.ScopeError as exc:
        errors["scopes"] = str(exc)
        parsed = ()
    if "scopes" not in errors:
        if not parsed:
            errors["scopes"] = "Give at least one resource scope, e.g. 'system/*.rs'."
        elif any(s.context != kind for s in parsed):
            errors["scopes"] = f"A {kind} client takes {kind}/ scopes only."
    if kind == FhirClient.Kind.USER:
        if user is None or user.organization_id != organization.pk or user.is_portal:
            errors["user"] = "A user client needs a staff member of this organization."
    if kind == FhirClient.Kind.PATIENT and (
        patient is None or patient.organization_id != organization.pk
    ):
        errors["patient"] = "A patient client needs a patient of this organization."
    if kind == FhirClient.Kind.SYSTEM and is_external:
        if not (recipient_name.strip() or recipient_organization.strip()):
            errors["recipient_organization"] = (
                "An outside client must name the recipient its patients' consents name."
            )
        if purpose not in Consent.Purpose.values:
            errors["purpose"] = f"purpose is one of {', '.join(Consent.Purpose.values)}"
    if errors:
        raise ValidationError(errors)
    if kind != FhirClient.Kind.USER:
        portal_user = None
        if kind == FhirClient.Kind.PATIENT:
            account = patient.portal_accounts.filter(kind="patient", is_active=True).first()
            portal_user = account.user if account else None
        user = portal_user or _service_user(organization, name)
    raw = new_token()
    client = FhirClient.objects.create(
        organization=organization, name=name.strip(), kind=kind, user=user, patient=patient,
        scopes=" ".join(str(s) for s in parsed), is_external=is_external and kind == "system",
        recipient_name=recipient_name.strip(),
        recipient_organization=recipient_organization.strip(), purpose=purpose,
        prefix=raw[: len(TOKEN_PREFIX) + 6], key_hash=digest(raw),
        created_by=actor if getattr(actor, "pk", None) else None,
    )  # fmt: skip
    audit_log(
        actor=actor, action="openiop.fhir.client.create", category=CAT, obj=client,
        organization=organization,
        detail={"kind": kind, "scopes": client.scopes, "external": client.is_external},
    )  # fmt: skip
    return client, raw


def _service_user(organization: Any, name: str) -> User:
    username = f"fhir-{slugify(name)[:40] or 'client'}-{secrets.token_hex(3)}"
    user = User(username=username, organization=organization, first_name=name[:150])
    user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def fhir_client_revoke(*, actor: Any, client: FhirClient) -> FhirClient:
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at", "updated_at"])
    audit_log(
        actor=actor, action="openiop.fhir.client.revoke", category=CAT, obj=client,
        organization=client.organization,
    )  # fmt: skip
    return client
