from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def nav(request: HttpRequest) -> dict[str, Any]:
    from openiop.accounts.permissions import Perm, user_has_perm
    from openiop.enrollment.caseload import is_caseload_scoped

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_organization": getattr(user, "organization", None),
        "can": {perm.name.lower(): user_has_perm(user, perm) for perm in Perm},
        "nav_caseload_scoped": is_caseload_scoped(user),
    }
