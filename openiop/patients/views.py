"""Patient pages: list and search, the chart, demographics, guardians and unavailable windows.

Views are thin: fetch with permission first, then form -> service -> redirect or render. Every
page that shows patient data writes one audit row (lists: one row naming every patient shown).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.attendance.compliance import week_start_for
from openiop.attendance.selectors import compliance_for_episode
from openiop.core.access import require_perm
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.medications.selectors import medication_chart_panel
from openiop.organizations.models import Site
from openiop.patients import services
from openiop.patients.forms import (
    GuardianForm,
    PatientCreateForm,
    PatientForm,
    PatientSearchForm,
    UnavailableWindowForm,
)
from openiop.patients.models import Patient
from openiop.patients.selectors import patient_get
from openiop.patients.selectors import patient_list as select_patients
from openiop.questionnaires.selectors import scores_panel
from openiop.reports.charts_hours import bars_from_results, week_row, weekly_hours_svg

PAGE_SIZE = 50
CAT = AuditEvent.Category.DEMOGRAPHICS
MINOR_AGE = 18


def _org_today(user: Any) -> dt.date:
    """Today on the wall clock of the organization's first site (patients belong to no site)."""
    site = Site.objects.for_org(user.organization_id).order_by("id").only("timezone").first()
    now = timezone.now()
    return now.astimezone(site.tz).date() if site is not None else now.date()


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    search = PatientSearchForm(request.GET)
    text = search.cleaned_data["q"] if search.is_valid() else ""
    patients = select_patients(user=request.user, search=text).prefetch_related(
        "open_episodes__primary_counselor"
    )
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    today = _org_today(request.user)
    rows = [
        {
            "patient": p,
            "age": p.age_on(today),
            "episode": p.open_episodes[0] if p.open_episodes else None,
        }
        for p in page.object_list
    ]
    audit_log_many(
        actor=request.user, action="openiop.patients.patient.list", category=CAT,
        patients=[r["patient"] for r in rows], request=request,
        detail={"search": text, "page": page.number},
    )  # fmt: skip
    return render(
        request, "patients/patient_list.html", {"search": search, "page": page, "rows": rows}
    )


@login_required
def patient_create(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.PATIENT_EDIT)
    form = PatientCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                patient = services.patient_create(
                    actor=request.user, organization=request.user.organization,
                    mrn=form.cleaned_data["mrn"], request=request, **form.changes(),
                )  # fmt: skip
                window = form.window()
                if window is not None:
                    services.unavailable_window_add(
                        actor=request.user, patient=patient, request=request, **window
                    )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Added {patient.display_name} ({patient.mrn}).")
            return redirect("patients:patient-detail", public_id=patient.public_id)
    return render(request, "patients/patient_create.html", {"form": form})


def _chart_context(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    """Everything the chart shows, in a fixed number of queries."""
    episodes = list(
        Episode.objects.for_org(patient.organization_id)
        .filter(patient=patient)
        .select_related("program", "program__site", "primary_counselor")
        .prefetch_related("status_changes__changed_by")
        .order_by("-referral_date", "-created_at")
    )
    by_pk = {e.pk: e for e in episodes}
    for e in episodes:
        e.chain_from = by_pk.get(e.transferred_from_id)
        e.chain_to = next((o for o in episodes if o.transferred_from_id == e.pk), None)
        e.history = sorted(
            e.status_changes.all(), key=lambda c: (c.effective_on, c.pk), reverse=True
        )
    current = next((e for e in episodes if e.is_open), None)
    tz = current.program.site.tz if current is not None else None
    today = timezone.now().astimezone(tz).date() if tz else _org_today(request.user)
    weeks = compliance_for_episode(episode=current) if current is not None else []
    chart = ""
    this_week = None
    if weeks:
        program = current.program
        chart = weekly_hours_svg(
            bars_from_results(weeks), min_minutes=program.weekly_min_minutes,
            max_minutes=program.weekly_max_minutes,
            title=f"Hours attended per week in {program.name}",
        )  # fmt: skip
        if weeks[-1].week_start == week_start_for(today):
            this_week = weeks[-1]
    age = patient.age_on(today)
    return {
        "patient": patient,
        "age": age,
        "is_minor": age < MINOR_AGE,
        "guardians": list(patient.guardians.all()),
        "windows": list(patient.unavailable_windows.all()),
        "episodes": episodes,
        "current": current,
        "weeks": [week_row(w) for w in weeks],
        "chart_svg": chart,
        "this_week": week_row(this_week) if this_week is not None else None,
        "can_edit": user_has_perm(request.user, Perm.PATIENT_EDIT),
        "can_manage_episodes": user_has_perm(request.user, Perm.EPISODE_MANAGE),
        **medication_chart_panel(user=request.user, patient=patient, today=today, request=request),
        "scores_panel": (
            scores_panel(
                user=request.user, patient=patient, episode=current, today=today, request=request
            )
            if user_has_perm(request.user, Perm.NOTE_VIEW)
            else None
        ),
        "guardian_form": GuardianForm(prefix="guardian"),
        "window_form": UnavailableWindowForm(prefix="window"),
    }


def _render_chart(
    request: HttpRequest, patient: Patient, status: int = 200, **forms: Any
) -> HttpResponse:
    from openiop.aftercare.selectors import plans_for_patient_context

    context = _chart_context(request, patient)
    context.update(plans_for_patient_context(request.user, patient, request=request))
    context.update(forms)
    audit_log(
        actor=request.user, action="openiop.patients.patient.read", category=CAT,
        obj=patient, patient=patient, request=request,
    )  # fmt: skip
    return render(request, "patients/patient_detail.html", context, status=status)


@login_required
def patient_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    patient = patient_get(user=request.user, public_id=public_id)
    return _render_chart(request, patient)


@login_required
def patient_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    patient = patient_get(user=request.user, public_id=public_id)
    require_perm(request.user, Perm.PATIENT_EDIT)
    form = PatientForm(request.POST or None, initial=PatientForm.initial_from(patient))
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(
                actor=request.user, patient=patient, request=request, **form.changes()
            )
        except ValidationError as exc:
            patient.refresh_from_db()
            form.add_service_errors(exc)
        else:
            messages.success(request, "Demographics saved.")
            return redirect("patients:patient-detail", public_id=patient.public_id)
    audit_log(
        actor=request.user, action="openiop.patients.patient.read", category=CAT,
        obj=patient, patient=patient, request=request, detail={"view": "edit"},
    )  # fmt: skip
    return render(request, "patients/patient_edit.html", {"patient": patient, "form": form})


@login_required
@require_POST
def guardian_create(request: HttpRequest, public_id: Any) -> HttpResponse:
    patient = patient_get(user=request.user, public_id=public_id)
    require_perm(request.user, Perm.PATIENT_EDIT)
    form = GuardianForm(request.POST, prefix="guardian")
    if form.is_valid():
        try:
            services.guardian_add(
                actor=request.user, patient=patient, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Added guardian {form.cleaned_data['name']}.")
            return redirect("patients:patient-detail", public_id=patient.public_id)
    return _render_chart(request, patient, guardian_form=form)


@login_required
@require_POST
def unavailable_window_create(request: HttpRequest, public_id: Any) -> HttpResponse:
    patient = patient_get(user=request.user, public_id=public_id)
    require_perm(request.user, Perm.PATIENT_EDIT)
    form = UnavailableWindowForm(request.POST, prefix="window")
    if form.is_valid():
        try:
            services.unavailable_window_add(
                actor=request.user, patient=patient, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Unavailable window added.")
            return redirect("patients:patient-detail", public_id=patient.public_id)
    return _render_chart(request, patient, window_form=form)
