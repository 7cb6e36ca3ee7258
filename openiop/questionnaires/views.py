"""Staff pages: give a questionnaire, see the result (with crisis resources when a safety answer
was given), a patient's scores with trend charts, the open alerts and the follow-up form, one-time
links for patients, program schedules, who is due, and program outcomes. Plus the one public
page: a patient answering through a one-time link (``link_respond``).

Thin views: fetch with permission first (outsiders 404, roles without the permission 403), then
form -> service -> redirect or render. Reads go through audited selectors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.organizations.models import Program
from openiop.patients.models import Patient
from openiop.questionnaires import selectors, services
from openiop.questionnaires.forms import (
    FollowUpForm,
    InvitationForm,
    OutcomeForm,
    ResponseForm,
    ScheduleForm,
)
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.models import QuestionnaireSchedule


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


# -- one-time links: staff side ----------------------------------------------------------------


@login_required
def invitation_list(request: HttpRequest, public_id: str) -> HttpResponse:
    """A patient's pending links and the form that makes one. The new link is shown once, on
    the page that answers the POST (it is not stored, not put in a message or a redirect)."""
    patient = get_for_user_or_404(
        Patient.objects.all(), request.user, public_id, Perm.QUESTIONNAIRE_RECORD
    )
    form = InvitationForm(
        request.POST or None,
        initial={
            "hours": services.link_hours_default(),
            "instrument": request.GET.get("instrument"),
        },
    )
    new_url = ""
    new_invitation = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                new_invitation, raw = services.invitation_create(
                    actor=request.user,
                    patient=patient,
                    instrument=form.cleaned_data["instrument"],
                    hours=form.cleaned_data["hours"],
                    request=request,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                new_url = request.build_absolute_uri(
                    reverse("questionnaires:link-respond", kwargs={"token": raw})
                )
                form = InvitationForm(initial={"hours": services.link_hours_default()})
        if not new_url:
            status = 400
    links = selectors.invitation_list_pending(user=request.user, patient=patient, request=request)
    return render(
        request,
        "questionnaires/invitation_list.html",
        {
            "patient": patient,
            "form": form,
            "links": links,
            "new_url": new_url,
            "new_invitation": new_invitation,
        },
        status=status,
    )


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, public_id: str) -> HttpResponse:
    invitation = selectors.invitation_get(user=request.user, public_id=public_id)
    try:
        services.invitation_revoke(actor=request.user, invitation=invitation, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Link revoked; it no longer opens.")
    return redirect("questionnaires:invitation-list", invitation.patient.public_id)


# -- one-time links: the patient's page (no login) ---------------------------------------------

PUBLIC_HEADERS = {
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


def _public(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200):  # noqa: ANN202
    response = render(request, template, context, status=status)
    for key, value in PUBLIC_HEADERS.items():
        response[key] = value
    return response


def _invalid(request: HttpRequest) -> HttpResponse:
    """One neutral page for unknown, used, revoked and expired links alike."""
    return _public(request, "questionnaires/link_invalid.html", {}, status=404)


@never_cache
def link_respond(request: HttpRequest, token: str) -> HttpResponse:
    """The patient's page: the questions of one instrument, nothing else. The page title and
    headings are neutral (it may be seen on a shared phone); only the first name is shown."""
    try:
        invitation = services.invitation_open(token=token, request=request)
    except services.InvitationInvalid:
        return _invalid(request)
    instrument = registry.get(invitation.instrument)
    form = ResponseForm(request.POST or None, instrument=instrument, ask_sex=False)
    if request.method == "POST" and form.is_valid():
        try:
            response = services.invitation_complete(
                token=token, answers=form.answers(), request=request
            )
        except services.InvitationInvalid:
            return _invalid(request)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _public(
                request,
                "questionnaires/link_done.html",
                {"crisis": bool(response.alert_flags)},
            )
    patient = invitation.patient
    return _public(
        request,
        "questionnaires/link_respond.html",
        {
            "first_name": patient.preferred_name or patient.first_name,
            "instrument": instrument,
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


# -- program schedules, who is due, outcomes ---------------------------------------------------


def _program(request: HttpRequest, public_id: Any, perm: Perm) -> Program:
    return get_for_user_or_404(
        Program.objects.select_related("site"), request.user, public_id, perm
    )


@login_required
def schedule_list(request: HttpRequest, public_id: str) -> HttpResponse:
    """The program's schedule; program managers add rows here (POST)."""
    program = _program(request, public_id, Perm.PROGRAM_VIEW)
    can_manage = user_has_perm(request.user, Perm.PROGRAM_MANAGE)
    form = ScheduleForm(request.POST or None)
    if request.method == "POST":
        require_perm(request.user, Perm.PROGRAM_MANAGE)
        if form.is_valid():
            try:
                row = services.schedule_add(
                    actor=request.user, program=program, request=request, **form.cleaned_data
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"{row.get_instrument_display()} added to the schedule.")
                return redirect("questionnaires:schedule-list", program.public_id)
    return render(
        request,
        "questionnaires/schedule_list.html",
        {
            "program": program,
            "rows": selectors.schedule_list(program=program),
            "form": form,
            "can_manage": can_manage,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def schedule_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    row = get_for_user_or_404(
        QuestionnaireSchedule.objects.select_related("program"),
        request.user,
        public_id,
        Perm.PROGRAM_MANAGE,
    )
    program = row.program
    label = row.get_instrument_display()
    services.schedule_remove(actor=request.user, schedule=row, request=request)
    messages.success(request, f"{label} removed from the schedule.")
    return redirect("questionnaires:schedule-list", program.public_id)


@login_required
def due_list(request: HttpRequest, public_id: str) -> HttpResponse:
    program = _program(request, public_id, Perm.NOTE_VIEW)
    today = program.site.today()
    rows = selectors.questionnaires_due_for_program(
        user=request.user, program=program, today=today, request=request
    )
    return render(
        request,
        "questionnaires/due_list.html",
        {
            "program": program,
            "today": today,
            "rows": rows,
            "has_schedule": bool(rows)
            or QuestionnaireSchedule.objects.filter(
                organization_id=program.organization_id, program=program
            ).exists(),
            "can_record": user_has_perm(request.user, Perm.QUESTIONNAIRE_RECORD),
        },
    )


@login_required
def outcome_change(request: HttpRequest, public_id: str) -> HttpResponse:
    program = _program(request, public_id, Perm.NOTE_VIEW)
    today = program.site.today()
    instruments = selectors.OUTCOME_INSTRUMENTS
    defaults = {
        "instrument": instruments[0],
        "start": today - dt.timedelta(days=365),
        "end": today,
    }
    form = OutcomeForm({**defaults, **request.GET.dict()}, instruments=instruments)
    report = None
    if form.is_valid():
        report = selectors.outcome_change(
            user=request.user,
            program=program,
            instrument=form.cleaned_data["instrument"],
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            request=request,
        )
    return render(
        request,
        "questionnaires/outcome_change.html",
        {"program": program, "form": form, "report": report, "min_n": selectors.outcomes.MIN_N},
        status=200 if report is not None else 400,
    )
