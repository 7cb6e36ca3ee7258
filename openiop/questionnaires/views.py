"""Staff pages: give a questionnaire, see the result (with crisis resources when a safety answer
was given), a patient's scores with trend charts, the open alerts and the follow-up form.

Thin views: fetch with permission first (outsiders 404, roles without the permission 403), then
form -> service -> redirect or render. Reads go through audited selectors.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.patients.models import Patient
from openiop.questionnaires import selectors, services
from openiop.questionnaires.forms import FollowUpForm, ResponseForm
from openiop.questionnaires.instruments import registry


@login_required
def response_create(request: HttpRequest, public_id: str) -> HttpResponse:
    patient = get_for_user_or_404(
        Patient.objects.all(), request.user, public_id, Perm.QUESTIONNAIRE_RECORD
    )
    key = request.POST.get("instrument") or request.GET.get("instrument") or ""
    if key not in registry.INSTRUMENTS:
        return render(
            request,
            "questionnaires/response_pick.html",
            {"patient": patient, "instruments": list(registry.INSTRUMENTS.values())},
        )
    instrument = registry.get(key)
    form = ResponseForm(request.POST or None, instrument=instrument)
    if request.method == "POST" and form.is_valid():
        try:
            response = services.response_record(
                actor=request.user,
                patient=patient,
                episode=None,
                instrument=key,
                answers=form.answers(),
                sex=form.cleaned_data.get("sex") or None,
                request=request,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return redirect("questionnaires:response-detail", response.public_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "questionnaires/response_create.html",
        {"patient": patient, "instrument": instrument, "form": form},
        status=status,
    )


@login_required
def response_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    response = selectors.response_get(user=request.user, public_id=public_id, request=request)
    alerts = list(response.alerts.select_related("assigned_to"))
    rows = [
        (item, item.option(response.answers[item.link_id]))
        for item in response.definition.items
        if item.link_id in response.answers
    ]
    return render(
        request,
        "questionnaires/response_detail.html",
        {
            "response": response,
            "patient": response.patient,
            "instrument": response.definition,
            "alerts": alerts,
            "rows": rows,
            "can_follow_up": user_has_perm(request.user, Perm.ALERT_FOLLOW_UP),
        },
    )


@login_required
def patient_scores(request: HttpRequest, public_id: str) -> HttpResponse:
    patient = get_for_user_or_404(Patient.objects.all(), request.user, public_id, Perm.NOTE_VIEW)
    panel = selectors.scores_panel(
        user=request.user, patient=patient, small_charts=False, request=request
    )
    return render(
        request,
        "questionnaires/patient_scores.html",
        {"patient": patient, "panel": panel, "responses": panel.responses[::-1]},
    )


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.NOTE_VIEW)
    alerts = selectors.alert_list_open(request.user, request=request)
    return render(
        request,
        "questionnaires/alert_list.html",
        {
            "alerts": alerts,
            "can_follow_up": user_has_perm(request.user, Perm.ALERT_FOLLOW_UP),
        },
    )


@login_required
def alert_follow_up(request: HttpRequest, public_id: str) -> HttpResponse:
    alert = selectors.alert_get(
        user=request.user, public_id=public_id, perm=Perm.ALERT_FOLLOW_UP, request=request
    )
    form = FollowUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.alert_follow_up(
                actor=request.user, alert=alert, note=form.cleaned_data["note"], request=request
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Follow-up recorded for {alert.patient.display_name}.")
            return redirect("questionnaires:alert-list")
    return render(
        request,
        "questionnaires/alert_follow_up.html",
        {"alert": alert, "patient": alert.patient, "form": form},
        status=400 if request.method == "POST" else 200,
    )
