"""Who is calling the FHIR API and what they may see (issue 11, docs/fhir.md).

Order of the checks for every request, any failing one ends it:

1. the bearer token (``fhir_...``; only a SHA-256 is stored) names an active client -> else 401;
2. a SMART scope of the client's context grants the interaction on the type -> else 403;
3. ``user`` clients: the staff member's role grants the type's permission -> else 403; a
   counselor's caseload narrows patient rows;
4. ``patient`` clients: only rows of that patient (anything else reads as 404);
5. outside ``system`` clients: only rows of patients whose active Part 2 consent names this
   recipient, covers the client's purpose and the kind of information (``registry.Spec.category``).
   Rows of other patients are filtered out of searches, ``$everything`` and bulk export, and a
   direct read answers 404, so a client learns nothing about who is in treatment.

Every answer that carries patient data writes audit rows; for an outside client each patient
whose records went out gets a ``Disclosure`` (channel FHIR) in the accounting of disclosures.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from openiop.accounts.permissions import user_has_perm
from openiop.consent import rules
from openiop.consent.models import Consent, Disclosure
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.fhir import scopes as smart
from openiop.fhir.models import FhirClient
from openiop.fhir.registry import Spec

TOKEN_PREFIX = "fhir_"
CAT = AuditEvent.Category.CLINICAL
DISCLOSURE_CAT = AuditEvent.Category.DISCLOSURE
# Non-patient types an outside or patient client may read (directories, no patient data).
DIRECTORY_TYPES = frozenset(
    {"Organization", "Location", "HealthcareService", "Practitioner", "Questionnaire"}
)


class FhirDenied(Exception):
    """403 with an OperationOutcome naming what is missing."""


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass
class Principal:
    client: FhirClient
    scopes: tuple[smart.Scope, ...]
    _allowed: dict[str, dict[int, str]] = field(default_factory=dict)

    @property
    def user(self) -> Any:
        return self.client.user

    @property
    def organization_id(self) -> int:
        return self.client.organization_id

    @property
    def context(self) -> str:
        return self.client.kind

    def require(self, spec_type: str, interaction: str, perm: Any = None) -> None:
        if not smart.allows(self.scopes, self.context, spec_type, interaction):
            raise FhirDenied(
                f"the token's scopes do not allow {interaction!r} on {spec_type} "
                f"(e.g. {self.context}/{spec_type}.{interaction})"
            )
        if self.context == FhirClient.Kind.USER and perm is not None:
            if not user_has_perm(self.user, perm):
                raise FhirDenied(f"your role does not grant {perm.value}")
        if self.context == FhirClient.Kind.PATIENT and spec_type == "AuditEvent":
            return  # a patient may read who accessed their record (filtered to them)
        if self.context != FhirClient.Kind.USER and spec_type == "AuditEvent":
            if self.client.needs_consent:
                raise FhirDenied("the audit trail is not released to outside clients")

    # -- Part 2 ---------------------------------------------------------------------------------

    def allowed_patients(self, category: str) -> dict[int, str]:
        """Patient pk -> public id of the consent that lets this outside client receive
        ``category`` today (computed once per request and category)."""
        if category in self._allowed:
            return self._allowed[category]
        client = self.client
        org = client.organization
        tz = org.tz()
        today = timezone.localdate(timezone.now(), timezone=tz)
        ask = rules.Request(
            recipient_name=client.recipient_name,
            recipient_organization=client.recipient_organization,
            purpose=client.purpose,
            categories=frozenset({category}),
            on=today,
        )
        by_patient: dict[int, list[Any]] = {}
        for c in Consent.objects.for_org(org).filter(revoked_at__isnull=True):
            by_patient.setdefault(c.patient_id, []).append(c.terms(tz))
        allowed = {}
        for patient_id, terms in by_patient.items():
            decision = rules.decide(terms, ask)
            if decision.allowed:
                allowed[patient_id] = decision.consent_ref
        self._allowed[category] = allowed
        return allowed

    def narrow(self, spec: Spec, qs: QuerySet[Any]) -> QuerySet[Any]:
        """Apply rules 3-5 to a queryset of ``spec`` rows."""
        if spec.patient_path is None:
            if spec.type == "AuditEvent" and self.context == FhirClient.Kind.PATIENT:
                return qs.filter(patient_id=str(self.client.patient.public_id))
            if spec.type == "Group" and self.context == FhirClient.Kind.PATIENT:
                return qs.none()  # a cohort list is other patients' data
            return qs
        path = "pk" if spec.patient_path == "pk" else f"{spec.patient_path}_id"
        if self.context == FhirClient.Kind.PATIENT:
            return qs.filter(**{path: self.client.patient_id})
        if self.context == FhirClient.Kind.USER:
            from openiop.enrollment.caseload import scope_to_caseload

            return scope_to_caseload(qs, self.user, spec.patient_path)
        if self.client.needs_consent:
            allowed = self.allowed_patients(spec.category or "demographics")
            return qs.filter(**{f"{path}__in": list(allowed)})
        return qs

    def allowed_members(self, patients: list[Any]) -> list[Any]:
        """A Group's member list, narrowed like patient rows."""
        if self.context == FhirClient.Kind.PATIENT:
            return [p for p in patients if p.pk == self.client.patient_id]
        if self.context == FhirClient.Kind.SYSTEM and self.client.needs_consent:
            allowed = self.allowed_patients("attendance")
            return [p for p in patients if p.pk in allowed]
        if self.context == FhirClient.Kind.USER:
            from openiop.enrollment.caseload import is_caseload_scoped, visible_patients

            if is_caseload_scoped(self.user):
                ids = set(visible_patients(self.user).values_list("pk", flat=True))
                return [p for p in patients if p.pk in ids]
        return patients

    # -- audit and disclosures ------------------------------------------------------------------

    def record_access(
        self,
        *,
        action: str,
        patients: list[Any],
        resource_type: str,
        categories: set[str],
        request: Any = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """The audit trail of one answer: one row naming every patient in it; for an outside
        client, one disclosure per patient with the consent it went out under."""
        unique = {p.pk: p for p in patients}
        info = {"client": self.client.name, "type": resource_type, **(detail or {})}
        with transaction.atomic():
            if not self.client.needs_consent:
                if len(unique) == 1:
                    (only,) = unique.values()
                    audit_log(
                        actor=self.user, action=action, category=CAT, patient=only,
                        organization=self.client.organization, request=request, detail=info,
                    )  # fmt: skip
                else:
                    ids = sorted(str(p.public_id) for p in unique.values())
                    audit_log(
                        actor=self.user, action=action, category=CAT,
                        organization=self.client.organization, request=request,
                        detail={**info, "patients": ids},
                    )  # fmt: skip
                return
            self._disclose(list(unique.values()), categories, action, info, request)

    def _disclose(
        self,
        patients: list[Any],
        categories: set[str],
        action: str,
        info: dict[str, Any],
        request: Any,
    ) -> None:
        client = self.client
        now = timezone.now()
        consent_ids: dict[int, str] = {}
        for category in categories:
            for pk, ref in self.allowed_patients(category).items():
                consent_ids.setdefault(pk, ref)
        consents = {
            str(c.public_id): c
            for c in Consent.objects.for_org(client.organization_id).filter(
                public_id__in=set(consent_ids.values())
            )
        }
        cats = [key for key, _ in rules.CATEGORIES if key in categories]
        rows = []
        for p in patients:
            consent = consents.get(consent_ids.get(p.pk, ""))
            rows.append(
                Disclosure(
                    organization_id=client.organization_id,
                    patient=p,
                    consent=consent,
                    status=Disclosure.Status.MADE,
                    recipient_name=client.recipient_name,
                    recipient_organization=client.recipient_organization,
                    purpose=client.purpose or Consent.Purpose.TREATMENT,
                    categories=cats,
                    channel=Disclosure.Channel.FHIR,
                    disclosed_at=now,
                    disclosed_by=client.user,
                    created_by=client.user,
                    redisclosure_notice=rules.REDISCLOSURE_NOTICE,
                    consent_snapshot=consent.snapshot() if consent else {},
                )  # fmt: skip
            )
        Disclosure.objects.bulk_create(rows)
        for p in patients:
            audit_log(
                actor=client.user, action=action, category=DISCLOSURE_CAT, patient=p,
                organization=client.organization, request=request,
                detail={**info, "consent": consent_ids.get(p.pk, ""), "categories": cats},
            )  # fmt: skip

    def refused(self, *, action: str, request: Any, reason: str) -> None:
        audit_log(
            actor=self.user, action=action, category=CAT, organization=self.client.organization,
            request=request, outcome=AuditEvent.Outcome.DENIED,
            detail={"client": self.client.name, "reason": reason[:300]},
        )  # fmt: skip


def authenticate(header: str) -> Principal | None:
    """``Authorization: Bearer fhir_...`` -> the client, or None."""
    kind, _, raw = header.partition(" ")
    if kind.lower() != "bearer" or not raw.startswith(TOKEN_PREFIX):
        return None
    client = (
        FhirClient.objects.select_related("user", "organization", "patient")
        .filter(key_hash=digest(raw.strip()), revoked_at__isnull=True)
        .first()
    )
    if client is None or not client.user.is_active:
        return None
    now = timezone.now()
    if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
        FhirClient.objects.filter(pk=client.pk).update(last_used_at=now)
    try:
        parsed = smart.parse(client.scopes)
    except smart.ScopeError:
        return None
    return Principal(client=client, scopes=parsed)
