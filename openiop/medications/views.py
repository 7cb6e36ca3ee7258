"""A patient's medications page and drug-screens page.

Fetch with permission first (another organization's patient: 404; a role without the
permission: 403), then form -> service -> redirect, or the page again with the form's errors
(status 400, nothing written). Reads are audited by the selectors.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.core.access import get_for_user_or_404
from openiop.enrollment.models import Episode
from openiop.medications import selectors, services
from openiop.medications.forms import (
    DrugScreenForm,
    MedicationChangeForm,
    MedicationStartForm,
    MedicationStopForm,
)
from openiop.medications.models import DrugScreen, Medication
from openiop.patients.models import Patient


def _patient(request: HttpRequest, public_id: Any, perm: Perm) -> Patient:
    return get_for_user_or_404(Patient.objects.all(), request.user, public_id, perm)


def _episodes(patient: Patient) -> list[Episode]:
    """Open episode first, then the rest newest first (the form's default is the first)."""
    episodes = list(
        Episode.objects.for_org(patient.organization_id)
        .filter(patient=patient)
        .select_related("program__site")
        .order_by("-admitted_on", "-created_at")
    )
    return sorted(episodes, key=lambda e: not e.is_open)


def _tz(episodes: list[Episode], patient: Patient) -> Any:
    return services.site_tz(patient, episodes[0] if episodes else None)


# --- medications --------------------------------------------------------------------------------


def _render_meds(
    request: HttpRequest,
    patient: Patient,
    *,
    status: int = 200,
    start_form: MedicationStartForm | None = None,
    bound: tuple[str, Any] | None = None,
) -> HttpResponse:
    """The page; ``bound`` = (medication public id, the change or stop form with errors)."""
    episodes = _episodes(patient)
    today = timezone.now().astimezone(_tz(episodes, patient)).date()
    meds = selectors.medication_list_for_patient(
        user=request.user, patient=patient, request=request
    )
    can_manage = user_has_perm(request.user, Perm.MEDICATION_MANAGE)
    active, history = [], []
    for m in meds:
        (history if m.stop_on is not None and m.stop_on <= today else active).append(m)
    rows = []
    for m in active:
        key = str(m.public_id)
        change = MedicationChangeForm(prefix=f"c-{key}", initial={"changed_on": today})
        stop = MedicationStopForm(prefix=f"s-{key}", initial={"stop_on": today})
        if bound is not None and bound[0] == key:
            if isinstance(bound[1], MedicationChangeForm):
                change = bound[1]
            else:
                stop = bound[1]
        future = m.start_on > today
        rows.append({"med": m, "change_form": change, "stop_form": stop, "future": future})
    if start_form is None:
        start_form = MedicationStartForm(
            organization_id=patient.organization_id,
            initial={"start_on": today, "prescriber": request.user if can_manage else None},
        )
    return render(
        request,
        "medications/medication_list.html",
        {"patient": patient, "rows": rows, "history": history, "start_form": start_form,
         "can_manage": can_manage, "today": today, "open_bound": bound[0] if bound else "",
         "start_open": status != 200 and bound is None},
        status=status,
    )  # fmt: skip


@login_required
def medication_list(request: HttpRequest, public_id: Any) -> HttpResponse:
    patient = _patient(request, public_id, Perm.NOTE_VIEW)
    return _render_meds(request, patient)


@login_required
@require_POST
def medication_start(request: HttpRequest, public_id: Any) -> HttpResponse:
    patient = _patient(request, public_id, Perm.MEDICATION_MANAGE)
    form = MedicationStartForm(request.POST, organization_id=patient.organization_id)
    if form.is_valid():
        episode = next((e for e in _episodes(patient) if e.is_open), None)
        try:
            med = services.medication_start(
                actor=request.user, patient=patient, episode=episode, request=request,
                **form.cleaned_data,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Started {med.name} {med.dose}.")
            return redirect("medications:medication-list", public_id=patient.public_id)
    return _render_meds(request, patient, status=400, start_form=form)


def _medication(request: HttpRequest, public_id: Any) -> Medication:
    qs = Medication.objects.select_related("patient", "episode__program__site")
    return get_for_user_or_404(qs, request.user, public_id, Perm.MEDICATION_MANAGE)


@login_required
@require_POST
def medication_change(request: HttpRequest, public_id: Any) -> HttpResponse:
    med = _medication(request, public_id)
    form = MedicationChangeForm(request.POST, prefix=f"c-{med.public_id}")
    if form.is_valid():
        try:
            new = services.medication_change(
                actor=request.user, medication=med, request=request, **form.changes()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Changed {new.name} to {new.dose} {new.frequency}.")
            return redirect("medications:medication-list", public_id=med.patient.public_id)
    return _render_meds(request, med.patient, status=400, bound=(str(med.public_id), form))


@login_required
@require_POST
def medication_stop(request: HttpRequest, public_id: Any) -> HttpResponse:
    med = _medication(request, public_id)
    form = MedicationStopForm(request.POST, prefix=f"s-{med.public_id}")
    if form.is_valid():
        try:
            services.medication_stop(
                actor=request.user, medication=med, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Stopped {med.name}.")
            return redirect("medications:medication-list", public_id=med.patient.public_id)
    return _render_meds(request, med.patient, status=400, bound=(str(med.public_id), form))


# --- drug screens -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def drug_screen_list(request: HttpRequest, public_id: Any) -> HttpResponse:
    perm = Perm.DRUG_SCREEN_RECORD if request.method == "POST" else Perm.NOTE_VIEW
    patient = _patient(request, public_id, perm)
    episodes = _episodes(patient)
    tz = _tz(episodes, patient)
    confirmable = list(
        DrugScreen.objects.for_org(patient.organization_id)
        .filter(patient=patient, method=DrugScreen.Method.PRESUMPTIVE, confirmations__isnull=True)
        .order_by("-collected_at")[:20]
    )
    form = DrugScreenForm(
        request.POST or None, tz=tz, episodes=episodes, confirmable=confirmable,
        initial={"collected_at": timezone.now().astimezone(tz).replace(second=0, microsecond=0,
                                                                       tzinfo=None)},
    )  # fmt: skip
    status = 200
    if request.method == "POST":
        status = 400
        if not episodes:
            form.add_error(None, "The patient has no episode of care to record a screen in.")
        elif form.is_valid():
            try:
                services.drug_screen_record(
                    actor=request.user, patient=patient, request=request, **form.service_args()
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, "Drug screen recorded.")
                return redirect("medications:drug-screen-list", public_id=patient.public_id)
    items = selectors.drug_screen_list_for_patient(
        user=request.user, patient=patient, request=request
    )
    return render(
        request,
        "medications/drug_screen_list.html",
        {"patient": patient, "items": items, "form": form, "tz": tz, "has_episode": bool(episodes),
         "can_record": user_has_perm(request.user, Perm.DRUG_SCREEN_RECORD),
         "form_open": status != 200 or not items},
        status=status,
    )  # fmt: skip
