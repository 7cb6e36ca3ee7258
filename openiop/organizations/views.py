"""Program pages: the list with census and weekly rules, one program's weekly compliance table,
and editing a program's thresholds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.attendance.compliance import week_start_for
from openiop.attendance.selectors import compliance_for_program_week
from openiop.core.access import require_perm
from openiop.core.audit import audit_log_many
from openiop.core.models import AuditEvent
from openiop.organizations import selectors, services
from openiop.organizations.forms import ProgramRulesForm
from openiop.organizations.models import Program
from openiop.reports.charts_hours import week_row


@login_required
def program_list(request: HttpRequest) -> HttpResponse:
    programs = list(selectors.program_list(user=request.user).order_by("-is_active", "name"))
    return render(request, "organizations/program_list.html", {"programs": programs})


def _chosen_week(request: HttpRequest, today: dt.date) -> dt.date:
    """?week=YYYY-MM-DD (any day snaps to its Monday); missing or malformed -> this week."""
    raw = request.GET.get("week", "")
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        day = today
    if not 1900 <= day.year <= 2200:
        day = today
    return week_start_for(day)


@login_required
def program_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    program = selectors.program_get(user=request.user, public_id=public_id)
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
    program = selectors.program_get(
        user=request.user, public_id=public_id, perm=Perm.PROGRAM_MANAGE
    )
    name = program.name
    form = ProgramRulesForm(request.POST or None, instance=program)
    if request.method == "POST" and form.is_valid():
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        program = services.program_update(
            actor=request.user, program=Program.objects.get(pk=program.pk), request=request,
            **changes,
        )  # fmt: skip
        messages.success(request, f"Saved the rules of {program.name}.")
        return redirect("organizations:program-detail", public_id=program.public_id)
    return render(
        request, "organizations/program_edit.html", {"program": program, "name": name, "form": form}
    )
