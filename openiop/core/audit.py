"""The one function that writes the audit trail: ``audit_log``.

Every read and write of patient data calls it, inside the same transaction as the write, so the
trail and the data cannot disagree. Appends are serialized by locking the chain head row
(SELECT ... FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions already admit one writer),
otherwise two concurrent appends could both chain onto the same previous hash.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.core.models import AuditEvent, AuditHead

GENESIS = "0" * 64

# Characters that can forge a line or a column in a log viewer, spreadsheet or terminal: C0/C1
# controls (newline, carriage return, escape starts ANSI sequences), Unicode line separators and
# the bidi overrides that make text display in another order (ASVS 16.4.1, security.md T3).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def log_safe(text: str, max_length: int | None = None) -> str:
    """``text`` with every control character written as a visible escape (``\\n``, ``\\u001b``),
    then cut to ``max_length``: one line, no terminal escape sequences, nothing hidden."""
    safe = _UNSAFE.sub(lambda m: _NAMED.get(m.group(0), f"\\u{ord(m.group(0)):04x}"), text)
    return safe if max_length is None else safe[:max_length]


def _json_storable(value: Any) -> Any:
    """PostgreSQL's jsonb refuses NUL (\\u0000) in strings: write it as a visible escape."""
    if isinstance(value, str):
        return value.replace("\x00", "\\u0000")
    if isinstance(value, dict):
        return {_json_storable(k): _json_storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_storable(v) for v in value]
    return value


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
    ip = log_safe(str(request.META.get("REMOTE_ADDR", "") or ""), 64)
    ua = log_safe(str(request.META.get("HTTP_USER_AGENT", "") or ""), 300)
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
    if is_user and patient is not None and getattr(patient, "pk", None) is not None:
        from openiop.enrollment.caseload import seen_through_break_glass

        if seen_through_break_glass(actor, patient.pk):  # every look during emergency access
            detail = {**(detail or {}), "break_glass": True}
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor if is_user else None,
        actor_username=log_safe(actor.get_username(), 150) if is_user else "",
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
        detail=_json_storable(detail or {}),
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
