"""Fetch-with-permission, in one call (healthchecks' ``_get_rw_check_for_user``).

A role without the permission gets 403 (it learns nothing about any one object); an object of
another organization, or one that does not exist, is a 404, so existence never leaks.
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


def get_for_user_or_404(queryset: QuerySet[M], user: Any, public_id: Any, perm: Perm) -> M:
    require_perm(user, perm)
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404("not found") from None
    obj = queryset.filter(organization_id=user.organization_id, public_id=key).first()
    if obj is None:  # unknown or another organization's: the same answer either way
        raise Http404("not found")
    return obj
