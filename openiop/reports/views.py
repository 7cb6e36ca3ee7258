"""Report pages. The dashboard ("Today"): today's sessions, who is expected, who is at risk of
missing this week's hours, and a status summary per program."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from openiop.core.audit import audit_log_many
from openiop.core.models import AuditEvent
from openiop.reports.charts import ProgramBar, compliance_summary_svg
from openiop.reports.selectors import dashboard_for


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    board = dashboard_for(request.user, timezone.now())
    chart = compliance_summary_svg(
        [ProgramBar.of(p.program.name, p.counts) for p in board.programs],
        title="Weekly hours status by program, this week",
    )
    audit_log_many(
        actor=request.user, action="openiop.reports.dashboard.read",
        category=AuditEvent.Category.COMPLIANCE, patients=board.patients_shown, request=request,
    )  # fmt: skip
    return render(request, "reports/dashboard.html", {"board": board, "chart_svg": chart})
