from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest


def nav(request: HttpRequest) -> dict[str, Any]:
    from openiop.accounts.permissions import Perm, user_has_perm
    from openiop.enrollment.caseload import is_caseload_scoped

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"base_template": "base.html"}
    if getattr(user, "is_portal", False):
        # The account pages (password, two-step sign-in) a portal user shares with staff wear
        # the portal's layout, with the portal's menu.
        return {"base_template": "portal/base_portal.html", "portal_nav": _portal_nav(user)}
    return {
        "base_template": "base.html",
        "nav_organization": getattr(user, "organization", None),
        "can": {perm.name.lower(): user_has_perm(user, perm) for perm in Perm},
        "nav_caseload_scoped": is_caseload_scoped(user),
        # The organization's main time zone for timestamps (`|timezone:org_tz`). A callable: the
        # template engine calls it (one query) only when a template uses it.
        "org_tz": functools.cache(lambda: _org_tz(user)),
    }


def _org_tz(user: Any) -> Any:
    import zoneinfo

    org = getattr(user, "organization", None)
    return org.tz() if org is not None else zoneinfo.ZoneInfo("UTC")


def _portal_nav(user: Any) -> list[dict[str, Any]]:
    from openiop.portal.access import account_for
    from openiop.portal.views_records import portal_nav

    account = account_for(user)
    return portal_nav(account, "") if account is not None else []
