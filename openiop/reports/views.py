"""Report pages. The dashboard ("Today"): today's sessions, who is expected, who is at risk of
missing this week's hours, a status summary per program, and the clinical work that is due
(safety alerts, plan reviews, co-signatures, discharge summaries, authorizations running out).

Each work panel comes from its own app's selector; a panel whose permission the user lacks is
left out (``None``), not shown empty."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.core.audit import audit_log_many
from openiop.core.models import AuditEvent
from openiop.reports.charts import ProgramBar, compliance_summary_svg
from openiop.reports.selectors import dashboard_for

# Dashboard panels list the most urgent rows and give the total (a panel of thousands of rows
# helps nobody and would make the page's cost grow with the organization).
PANEL_ROWS = 25


def _work_panels(request: HttpRequest) -> dict[str, Any]:
    from openiop.aftercare.selectors import follow_ups_panel_context, gone_quiet_panel_context
    from openiop.billing.selectors import authorization_alerts_context
    from openiop.clinical.selectors import cosign_queue
    from openiop.clinical.selectors.discharge import discharge_due_context
    from openiop.clinical.selectors.plans import plan_reviews_due
    from openiop.consent.selectors import break_glass_panel_context
    from openiop.questionnaires.selectors import alert_list_open

    user = request.user
    today = user.organization.today() if user.organization_id else timezone.localdate()
    clinical = user_has_perm(user, Perm.NOTE_VIEW)
    return {
        "alerts": alert_list_open(user, request=request, limit=10) if clinical else None,
        "plan_reviews_due": (
            plan_reviews_due(user=user, today=today, request=request, limit=PANEL_ROWS)
            if clinical
            else None
        ),
        "cosign_queue": (
            cosign_queue(user, request=request) if user_has_perm(user, Perm.NOTE_COSIGN) else []
        ),
        **authorization_alerts_context(
            user, today, request=request, limit=PANEL_ROWS, snapshot=True
        ),
        **discharge_due_context(user, today, request=request, snapshot=True),
        **break_glass_panel_context(user, request=request),
        **follow_ups_panel_context(user, today, request=request),
        **gone_quiet_panel_context(user, today, request=request),
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    refresh = request.GET.get("refresh") == "1"
    now = timezone.now()
    board = dashboard_for(request.user, now, limit=PANEL_ROWS, refresh=refresh)
    chart = compliance_summary_svg(
        [ProgramBar.of(p.program.name, p.counts) for p in board.programs],
        title="Weekly hours status by program, this week",
    )
    audit_log_many(
        actor=request.user, action="openiop.reports.dashboard.read",
        category=AuditEvent.Category.COMPLIANCE, patients=board.patients_shown, request=request,
    )  # fmt: skip
    from openiop.billing.selectors_claims import billing_panel_context

    context = {"board": board, "chart_svg": chart, **_work_panels(request)}
    context.update(billing_panel_context(request.user))
    # The oldest of the precomputed panels (ADR 0016), shown with a "Refresh" link.
    stamps = [
        board.panels_computed_at,
        context.get("authorization_alerts_computed_at"),
        context.get("discharge_summaries_due_computed_at"),
    ]
    as_of = min((s for s in stamps if s is not None), default=None)
    context["panels_as_of"] = as_of
    context["panels_age_seconds"] = max(0, int((now - as_of).total_seconds())) if as_of else None
    org = request.user.organization
    context["panels_tz"] = org.tz() if org is not None else None
    return render(request, "reports/dashboard.html", context)
