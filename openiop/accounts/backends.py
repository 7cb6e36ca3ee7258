"""The lock-out backend: django-axes' check, first in AUTHENTICATION_BACKENDS."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a locked-out username + address before any password is checked.

    Every web log-in (our form, the admin's) passes the request. A call without one (a management
    command or a shell calling ``authenticate()``) has no address to throttle and nothing to lock,
    so it is passed on to the password backend instead of raising as django-axes does."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
