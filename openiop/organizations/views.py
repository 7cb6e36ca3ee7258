"""Program pages: the list with census and weekly rules, one program's weekly compliance table,
and editing a program's thresholds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.attendance.compliance import week_start_for
from openiop.attendance.selectors import compliance_for_program_week
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.organizations.forms import ProgramRulesForm
from openiop.organizations.models import Program
from openiop.reports.charts_hours import week_row

S = Episode.Status
CENSUS = {
    "census_active": S.ACTIVE,
    "census_admitted": S.ADMITTED,
    "census_on_hold": S.ON_HOLD,
    "census_waitlisted": S.WAITLISTED,
}


def _with_census(qs: QuerySet[Program]) -> QuerySet[Program]:
    """Counts of open episodes by status, in the same query as the programs.

    (A read across relations: it belongs in an organizations selector once that module exists.)
    """
    counts = {
        name: Count("episodes", filter=Q(episodes__status=status), distinct=True)
        for name, status in CENSUS.items()
    }
    return qs.select_related("site").annotate(**counts)


def _programs(user: Any) -> QuerySet[Program]:
    return _with_census(Program.objects.for_org(user.organization_id))


@login_required
def program_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.PROGRAM_VIEW)
    programs = list(_programs(request.user).order_by("-is_active", "name"))
    return render(request, "organizations/program_list.html", {"programs": programs})


def _chosen_week(request: HttpRequest, today: dt.date) -> dt.date:
    """?week=YYYY-MM-DD (any day snaps to its Monday); missing or malformed -> this week."""
    raw = request.GET.get("week", "")
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        day = today
    return week_start_for(day)


@login_required
def program_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    program = get_for_user_or_404(
        _programs(request.user), request.user, public_id, Perm.PROGRAM_VIEW
    )
    require_perm(request.user, Perm.COMPLIANCE_VIEW)
    today = timezone.now().astimezone(program.site.tz).date()
    week = _chosen_week(request, today)
    rows = [
        {"episode": row.episode, **week_row(row.result)}
        for row in compliance_for_program_week(program=program, week_start=week)
    ]
    audit_log_many(
        actor=request.user, action="openiop.attendance.compliance.list",
        category=AuditEvent.Category.COMPLIANCE, patients=[r["episode"].patient for r in rows],
        request=request, detail={"program": str(program.public_id), "week": week.isoformat()},
    )  # fmt: skip
    week_end = week + dt.timedelta(days=6)
    context = {
        "program": program,
        "week": week,
        "week_end": week_end,
        "prev_week": week - dt.timedelta(days=7),
        "next_week": week + dt.timedelta(days=7),
        "this_week": week_start_for(today),
        "is_this_week": week == week_start_for(today),
        "rows": rows,
        "counts": {
            status: sum(1 for r in rows if str(r["result"].status) == status)
            for status in ("met", "on_track", "at_risk", "below", "exempt")
        },
        "can_manage": user_has_perm(request.user, Perm.PROGRAM_MANAGE),
    }
    return render(request, "organizations/program_detail.html", context)


@login_required
def program_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    qs = Program.objects.select_related("site")
    program = get_for_user_or_404(qs, request.user, public_id, Perm.PROGRAM_MANAGE)
    name = program.name
    form = ProgramRulesForm(request.POST or None, instance=program)
    if request.method == "POST" and form.is_valid():
        # No organizations service exists yet; the ModelForm save and its audit row share one
        # transaction, as a service would.
        with transaction.atomic():
            program = form.save(commit=False)
            program.updated_by = request.user
            program.save()
            audit_log(
                actor=request.user, action="openiop.organizations.program.update",
                category=AuditEvent.Category.ADMINISTRATIVE, obj=program, request=request,
                detail={"fields": sorted(form.changed_data)},
            )  # fmt: skip
        messages.success(request, f"Saved the rules of {program.name}.")
        return redirect("organizations:program-detail", public_id=program.public_id)
    return render(
        request, "organizations/program_edit.html", {"program": program, "name": name, "form": form}
    )
