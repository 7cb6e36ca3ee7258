"""Programs API: the tracks of the user's organization, each with its census.

No selector exists for programs yet, so the organization-scoped query lives here; it always
filters on ``request.user.organization``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Query, Router

from openiop.accounts.permissions import Perm
from openiop.core.access import require_perm
from openiop.core.api_auth import paginate, ref, responses
from openiop.organizations.models import Program
from openiop.organizations.schemas import ProgramOut, ProgramPage
from openiop.organizations.selectors import census, program_list

router = Router()


def programs_for(user: Any) -> QuerySet[Program]:
    """The user's organization's programs, with census counts, in one query."""
    return program_list(user=user).order_by("name")


def program_for(user: Any, public_id: Any, perm: Perm = Perm.PROGRAM_VIEW) -> Program:
    """One program of the user's organization, or 404 (for API bodies and query filters)."""
    require_perm(user, perm)
    program = (
        Program.objects.for_org(user.organization)
        .select_related("site")
        .filter(public_id=public_id)
        .first()
    )
    if program is None:
        raise Http404("not found")
    return program


def program_out(program: Program) -> dict[str, Any]:
    return {
        "id": str(program.public_id),
        "name": program.name,
        "site": ref(program.site),
        "timezone": program.site.timezone,
        "level_of_care": program.level_of_care,
        "population": program.population,
        "min_age": program.min_age,
        "max_age": program.max_age,
        "modality": program.modality,
        "cohort": program.cohort,
        "weekly_min_hours": float(program.weekly_min_hours),
        "weekly_max_hours": float(program.weekly_max_hours),
        "min_days_per_week": program.min_days_per_week,
        "typical_session_minutes": program.typical_session_minutes,
        "typical_length_weeks": program.typical_length_weeks,
        "group_size_cap": program.group_size_cap,
        "is_active": program.is_active,
        "census": census(program),
    }


@router.get("", response=responses(ProgramPage), summary="List programs with their census")
def list_programs(
    request: HttpRequest,
    active: Annotated[
        bool | None, Query(description="Only active (true) or inactive (false)")
    ] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    qs = programs_for(request.user)
    if active is not None:
        qs = qs.filter(is_active=active)
    count, programs, size = paginate(qs, limit, offset)
    return {
        "count": count,
        "limit": size,
        "offset": offset,
        "items": [program_out(p) for p in programs],
    }


@router.get("/{program_id}", response=responses(ProgramOut), summary="Read a program")
def get_program(request: HttpRequest, program_id: uuid.UUID) -> dict[str, Any]:
    program = programs_for(request.user).filter(public_id=program_id).first()
    if program is None:
        raise Http404("not found")
    return program_out(program)
