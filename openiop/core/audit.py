"""The one function that writes the audit trail: ``audit_log``.

Every read and write of patient data calls it, inside the same transaction as the write, so the
trail and the data cannot disagree. Appends are serialized by locking the chain head row
(SELECT ... FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions already admit one writer),
otherwise two concurrent appends could both chain onto the same previous hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.core.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _canonical(event: AuditEvent) -> str:
    payload = {
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor_username,
        "roles": event.actor_roles,
        "organization": event.organization_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "patient": event.patient_id,
        "category": event.category,
        "outcome": event.outcome,
        "ip": event.source_ip,
        "ua": event.user_agent,
        "detail": event.detail,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + _canonical(event)).encode()).hexdigest()


def _client(request: HttpRequest | None) -> tuple[str, str]:
    if request is None:
        return "", ""
    ip = request.META.get("REMOTE_ADDR", "") or ""
    ua = (request.META.get("HTTP_USER_AGENT", "") or "")[:300]
    return ip, ua


def audit_log(
    *,
    actor: Any,
    action: str,
    category: str,
    obj: Any = None,
    patient: Any = None,
    organization: Any = None,
    request: HttpRequest | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one hash-chained audit row.

    ``action`` is namespaced ``openiop.<app>.<entity>.<verb>``. ``obj`` and ``patient`` are model
    instances (their public ids are stored) or None.
    """
    if not action.startswith("openiop."):
        raise ValueError("audit actions are namespaced 'openiop.<app>.<entity>.<verb>'")
    from openiop.accounts.permissions import roles_of

    ip, ua = _client(request)
    if organization is None:
        organization = getattr(obj, "organization", None) or getattr(actor, "organization", None)
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor if is_user else None,
        actor_username=actor.get_username() if is_user else "",
        actor_roles=",".join(sorted(roles_of(actor))) if is_user else "",
        organization_id=getattr(organization, "pk", None),
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "public_id", "")) if obj is not None else "",
        patient_id=str(patient.public_id) if patient is not None else "",
        category=category,
        outcome=outcome,
        source_ip=ip,
        user_agent=ua,
        detail=detail or {},
    )
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            singleton=1, defaults={"last_hash": GENESIS}
        )
        event.prev_hash = head.last_hash
        event.hash = compute_hash(head.last_hash, event)
        event.save()
        AuditHead.objects.filter(singleton=1).update(last_hash=event.hash, count=head.count + 1)
    return event


def audit_log_many(
    *,
    actor: Any,
    action: str,
    category: str,
    patients: Iterable[Any],
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """Audit a list view: one row naming every patient shown (security.md T3)."""
    ids = sorted({str(p.public_id) for p in patients})
    if not ids:
        return None
    return audit_log(
        actor=actor,
        action=action,
        category=category,
        request=request,
        detail={**(detail or {}), "patients": ids},
    )


@dataclass(frozen=True)
class ChainReport:
    checked: int
    ok: bool
    first_bad_id: int | None = None
    problem: str = ""


def audit_verify(batch_size: int = 2000) -> ChainReport:
    """Recompute the chain from the first row; report the first row that does not match."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not rows:
            break
        for event in rows:
            if event.prev_hash != prev:
                return ChainReport(checked, False, event.id, "previous hash does not match")
            if compute_hash(prev, event) != event.hash:
                return ChainReport(checked, False, event.id, "row content does not match its hash")
            prev = event.hash
            checked += 1
            last_id = event.id
    head = AuditHead.objects.filter(singleton=1).first()
    if head is not None and head.last_hash != prev:
        return ChainReport(checked, False, None, "newest rows are missing (chain head mismatch)")
    return ChainReport(checked, True)
