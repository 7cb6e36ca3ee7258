"""Fetch-with-permission, in one call (healthchecks' ``_get_rw_check_for_user``).

A role without the permission gets 403 (it learns nothing about any one object); an object of
another organization, or one that does not exist, is a 404, so existence never leaks. So is a
patient's record outside a counselor's caseload (``openiop.enrollment.caseload``).
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

from openiop.accounts.permissions import Perm, user_has_perm

M = TypeVar("M", bound=Model)


def require_perm(user: Any, perm: Perm) -> None:
    if not user_has_perm(user, perm):
        raise PermissionDenied(f"your role does not allow {perm.value}")


def get_for_user_or_404(
    queryset: QuerySet[M], user: Any, public_id: Any, perm: Perm, *, caseload: bool = True
) -> M:
    """The object with this public id, if the user's role has ``perm``, it belongs to the
    user's organization and (``caseload=True``, the default) its patient is in the user's
    caseload. Only the break-glass page itself looks past the caseload."""
    require_perm(user, perm)
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404("not found") from None
    obj = queryset.filter(organization_id=user.organization_id, public_id=key).first()
    if obj is None:  # unknown or another organization's: the same answer either way
        raise Http404("not found")
    if caseload and not in_caseload(user, obj):  # outside the caseload: the same answer
        raise Http404("not found")
    return obj


# How a patient-linked row reaches its patient: directly, or through these relations in turn.
_PATIENT_PATHS = ("episode", "plan", "problem", "goal", "objective", "group_note", "review")


def patient_id_of(obj: Any, depth: int = 0) -> int | None:
    """The primary key of the patient a row belongs to, or None for rows of no one patient
    (programs, sessions, drafts)."""
    from openiop.patients.models import Patient

    if isinstance(obj, Patient):
        return obj.pk
    patient_id = getattr(obj, "patient_id", None)
    if patient_id is not None or depth > 4:
        return patient_id
    for name in _PATIENT_PATHS:
        if getattr(obj, f"{name}_id", None) is not None:
            return patient_id_of(getattr(obj, name), depth + 1)
    return None


def in_caseload(user: Any, obj: Any) -> bool:
    from openiop.enrollment.caseload import (
        is_caseload_scoped,
        patient_in_caseload,
        session_in_caseload,
    )

    if not is_caseload_scoped(user):
        return True
    from openiop.clinical.models import GroupNote

    if isinstance(obj, GroupNote):  # a whole group's record: only for those who have a part in it
        return session_in_caseload(user, obj.session)
    patient_id = patient_id_of(obj)
    return patient_id is None or patient_in_caseload(user, patient_id)
