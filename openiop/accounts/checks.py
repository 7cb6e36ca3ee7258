"""Deploy checks for account security: `openiop check --deploy` warns when a production
deployment runs without required MFA or with the lock-out switched off."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_account_security(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    warnings = []
    if not getattr(settings, "OPENIOP_MFA_REQUIRED", False):
        warnings.append(
            Warning(
                "OPENIOP_MFA_REQUIRED is false: staff who read clinical notes can log in with a "
                "password alone.",
                hint="Unset OPENIOP_MFA_REQUIRED (it defaults to true when OPENIOP_DEV=false).",
                id="openiop.W001",
            )
        )
    if not getattr(settings, "AXES_ENABLED", True):
        warnings.append(
            Warning(
                "AXES_ENABLED is false: repeated failed log-ins are never locked out.",
                id="openiop.W002",
            )
        )
    return warnings
