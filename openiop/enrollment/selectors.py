from __future__ import annotations

import datetime as dt
from typing import Any

from openiop.accounts.permissions import Perm
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.enrollment.models import Episode, EpisodeQuerySet, EpisodeStatusChange


def episode_list(*, user: Any, program: Any = None, status: str = "") -> EpisodeQuerySet:
    require_perm(user, Perm.EPISODE_VIEW)
    qs = Episode.objects.for_org(user.organization).select_related(
        "patient", "program", "program__site", "primary_counselor"
    )
    if program is not None:
        qs = qs.filter(program=program)
    if status:
        qs = qs.filter(status=status)
    from openiop.enrollment.caseload import scope_to_caseload

    return scope_to_caseload(qs, user)


def episode_get(*, user: Any, public_id: Any) -> Episode:
    qs = Episode.objects.select_related("patient", "program", "program__site", "primary_counselor")
    return get_for_user_or_404(qs, user, public_id, Perm.EPISODE_VIEW)


def hold_days(
    changes: list[EpisodeStatusChange], start: dt.date, end: dt.date
) -> frozenset[dt.date]:
    """Local dates in [start, end] during which the episode was on hold, from its status history."""
    days: set[dt.date] = set()
    hold_from: dt.date | None = None
    for change in sorted(changes, key=lambda c: (c.effective_on, c.pk or 0)):
        if change.to_status == Episode.Status.ON_HOLD:
            hold_from = change.effective_on
        elif hold_from is not None:
            _add_days(days, hold_from, change.effective_on - dt.timedelta(days=1), start, end)
            hold_from = None
    if hold_from is not None:
        _add_days(days, hold_from, end, start, end)
    return frozenset(days)


def _add_days(days: set[dt.date], a: dt.date, b: dt.date, lo: dt.date, hi: dt.date) -> None:
    day = max(a, lo)
    while day <= min(b, hi):
        days.add(day)
        day += dt.timedelta(days=1)
