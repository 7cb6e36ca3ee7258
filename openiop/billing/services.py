"""Authorization writes: record, edit and void a payer authorization for an episode.

Units USED are never written here: they are counted from attendance (``selectors.count_units``),
so an authorization only records what the payer granted. A voided authorization is kept (the
claims of issue 8 and the utilization reviews may point at it) and can no longer be edited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest

from openiop.billing.models import Authorization
from openiop.core.actors import user_or_none
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode

CAT = AuditEvent.Category.BILLING
EDITABLE_STATUSES = (
    Authorization.Status.ACTIVE,
    Authorization.Status.PENDING,
    Authorization.Status.DENIED,
)
MAX_UNITS = 10_000


def _check_org(actor: Any, organization_id: int) -> None:
    org = getattr(actor, "organization_id", None)
    if actor is not None and org != organization_id:
        raise PermissionDenied("the episode belongs to another organization")


def _validate(
    *,
    payer_name: str,
    unit_kind: str,
    units_authorized: int | None,
    start_on: dt.date | None,
    end_on: dt.date | None,
    status: str,
    alert_units_remaining: int,
    alert_days_before_end: int,
) -> None:
    errors: dict[str, str] = {}
    if not (payer_name or "").strip():
        errors["payer_name"] = "Name the payer."
    if unit_kind not in Authorization.UnitKind.values:
        errors["unit_kind"] = "Choose days, sessions or hours."
    if units_authorized is None or units_authorized < 1:
        errors["units_authorized"] = "Authorize at least 1 unit."
    elif units_authorized > MAX_UNITS:
        errors["units_authorized"] = f"At most {MAX_UNITS} units."
    if start_on is None:
        errors["start_on"] = "Enter the first day the authorization covers."
    if end_on is None:
        errors["end_on"] = "Enter the last day the authorization covers."
    if start_on is not None and end_on is not None and end_on < start_on:
        errors["end_on"] = "The end date must not be before the start date."
    if status not in EDITABLE_STATUSES:
        errors["status"] = "Choose active, pending or denied (void it with the Void button)."
    if alert_units_remaining < 0:
        errors["alert_units_remaining"] = "Must be 0 or more."
    if alert_days_before_end < 0:
        errors["alert_days_before_end"] = "Must be 0 or more."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def authorization_create(
    *,
    actor: Any,
    episode: Episode,
    payer_name: str,
    units_authorized: int,
    start_on: dt.date,
    end_on: dt.date,
    unit_kind: str = Authorization.UnitKind.DAYS,
    auth_number: str = "",
    level_of_care: str = "",
    service_code: str = "H0015",
    status: str = Authorization.Status.ACTIVE,
    alert_units_remaining: int = 2,
    alert_days_before_end: int = 7,
    notes: str = "",
    request: HttpRequest | None = None,
) -> Authorization:
    """Record what the payer authorized for ``episode``; the level defaults to the program's."""
    _check_org(actor, episode.organization_id)
    _validate(
        payer_name=payer_name, unit_kind=unit_kind, units_authorized=units_authorized,
        start_on=start_on, end_on=end_on, status=status,
        alert_units_remaining=alert_units_remaining, alert_days_before_end=alert_days_before_end,
    )  # fmt: skip
    user = user_or_none(actor)
    auth = Authorization.objects.create(
        organization_id=episode.organization_id,
        episode=episode,
        patient_id=episode.patient_id,
        payer_name=payer_name.strip(),
        auth_number=(auth_number or "").strip(),
        level_of_care=(level_of_care or "").strip() or episode.program.level_of_care,
        service_code=(service_code or "").strip().upper() or "H0015",
        unit_kind=unit_kind,
        units_authorized=units_authorized,
        start_on=start_on,
        end_on=end_on,
        status=status,
        alert_units_remaining=alert_units_remaining,
        alert_days_before_end=alert_days_before_end,
        notes=notes or "",
        recorded_by=user,
        created_by=user,
        updated_by=user,
    )
    audit_log(
        actor=actor, action="openiop.billing.authorization.create", category=CAT, obj=auth,
        patient=episode.patient, organization=episode.organization, request=request,
        detail={"units": units_authorized, "unit_kind": unit_kind,
                "start_on": start_on.isoformat(), "end_on": end_on.isoformat()},
    )  # fmt: skip
    return auth


@transaction.atomic
def authorization_update(
    *,
    actor: Any,
    authorization: Authorization,
    payer_name: str,
    units_authorized: int,
    start_on: dt.date,
    end_on: dt.date,
    unit_kind: str,
    auth_number: str = "",
    level_of_care: str = "",
    service_code: str = "H0015",
    status: str = Authorization.Status.ACTIVE,
    alert_units_remaining: int = 2,
    alert_days_before_end: int = 7,
    notes: str = "",
    request: HttpRequest | None = None,
) -> Authorization:
    """Correct an authorization (a typo, an extension the payer granted). Void ones are final."""
    _check_org(actor, authorization.organization_id)
    locked = Authorization.objects.select_for_update().get(pk=authorization.pk)
    if locked.status == Authorization.Status.VOID:
        raise ValidationError({"status": "A void authorization cannot be changed."})
    _validate(
        payer_name=payer_name, unit_kind=unit_kind, units_authorized=units_authorized,
        start_on=start_on, end_on=end_on, status=status,
        alert_units_remaining=alert_units_remaining, alert_days_before_end=alert_days_before_end,
    )  # fmt: skip
    new = {
        "payer_name": payer_name.strip(),
        "auth_number": (auth_number or "").strip(),
        "level_of_care": (level_of_care or "").strip() or locked.level_of_care,
        "service_code": (service_code or "").strip().upper() or locked.service_code,
        "unit_kind": unit_kind,
        "units_authorized": units_authorized,
        "start_on": start_on,
        "end_on": end_on,
        "status": status,
        "alert_units_remaining": alert_units_remaining,
        "alert_days_before_end": alert_days_before_end,
        "notes": notes or "",
    }
    changed = {
        k: [str(getattr(locked, k)), str(v)] for k, v in new.items() if getattr(locked, k) != v
    }
    for key, value in new.items():
        setattr(locked, key, value)
    locked.updated_by = user_or_none(actor)
    locked.save()
    audit_log(
        actor=actor, action="openiop.billing.authorization.update", category=CAT, obj=locked,
        patient=locked.patient, request=request,
        detail={"changed": {k: v for k, v in changed.items() if k != "notes"},
                "notes_changed": "notes" in changed},
    )  # fmt: skip
    return locked


@transaction.atomic
def authorization_void(
    *,
    actor: Any,
    authorization: Authorization,
    reason: str,
    request: HttpRequest | None = None,
) -> Authorization:
    """Mark an authorization entered in error (or withdrawn by the payer) as void, with why."""
    _check_org(actor, authorization.organization_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the authorization is void."})
    locked = Authorization.objects.select_for_update().get(pk=authorization.pk)
    if locked.status == Authorization.Status.VOID:
        raise ValidationError({"status": "The authorization is already void."})
    locked.status = Authorization.Status.VOID
    stamp = f"Voided: {reason}"
    locked.notes = f"{locked.notes}\n{stamp}".strip() if locked.notes else stamp
    locked.updated_by = user_or_none(actor)
    locked.save(update_fields=["status", "notes", "updated_by", "updated_at"])
    audit_log(
        actor=actor, action="openiop.billing.authorization.void", category=CAT, obj=locked,
        patient=locked.patient, request=request, detail={"reason": reason},
    )  # fmt: skip
    return locked
