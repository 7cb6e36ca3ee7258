"""The patient cost estimate page: plain words, printable, with the IOP / residential chart."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openiop.accounts.permissions import Perm
from openiop.billing import estimate as est
from openiop.billing.charts import estimate_chart_svg
from openiop.billing.forms import EstimateForm
from openiop.billing.models import BillingProfile
from openiop.billing.selectors_claims import episode_estimate, estimate_choices
from openiop.billing.services_claims import diagnoses_for
from openiop.core.access import get_for_user_or_404
from openiop.enrollment.models import Episode


@login_required
def estimate(request: HttpRequest, episode_id: Any) -> HttpResponse:
    qs = Episode.objects.select_related("patient", "program__site")
    episode = get_for_user_or_404(qs, request.user, episode_id, Perm.COST_ESTIMATE)
    program = episode.program
    today = program.site.today()
    choices = estimate_choices(episode, today)
    by_key = {c.key: c for c in choices}
    initial = {
        "coverage": choices[0].key,
        "weeks": program.typical_length_weeks,
        "hours_per_week": program.weekly_min_hours,
        "days_per_week": program.min_days_per_week,
    }
    profile = BillingProfile.objects.for_org(episode.organization_id).first()
    data = request.GET if "weeks" in request.GET else None
    form = EstimateForm(data, initial=initial, choices=[(c.key, c.label) for c in choices])
    view = None
    if data is None or form.is_valid():
        values = form.cleaned_data if data is not None else initial
        plan = est.TreatmentPlan(
            weeks=int(values["weeks"]),
            hours_per_week=Decimal(values["hours_per_week"]),
            days_per_week=int(values["days_per_week"]),
        )
        view = episode_estimate(
            user=request.user,
            episode=episode,
            choice=by_key[values["coverage"]],
            plan=plan,
            price_per_hour=values.get("price_per_hour"),
            profile=profile,
            request=request,
        )
    return render(
        request,
        "billing/estimate.html",
        {
            "episode": episode,
            "patient": episode.patient,
            "program": program,
            "form": form,
            "view": view,
            "e": view.estimate if view else None,
            "chart": estimate_chart_svg(view.estimate) if view else "",
            "today": today,
            "profile": profile,
            # A Good Faith Estimate lists the diagnosis codes when known (45 CFR 149.610).
            "diagnoses": diagnoses_for([episode.pk]).get(episode.pk, []) if view else [],
        },
    )
