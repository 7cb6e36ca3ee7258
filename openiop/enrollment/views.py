"""Episode pages: open an episode, see it, and move it through its life cycle.

Each action view is access check -> form -> service -> redirect; bad input re-renders the episode
page with the error next to the field, and the service's transaction has changed nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.attendance.models import AttendanceRecord
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment import services
from openiop.enrollment.forms import (
    AdmitForm,
    DischargeForm,
    EpisodeCreateForm,
    HoldForm,
    ResumeForm,
    TransferForm,
    today_initial,
)
from openiop.enrollment.models import Episode
from openiop.enrollment.selectors import episode_get
from openiop.patients.selectors import patient_get

CAT = AuditEvent.Category.EPISODE
S = Episode.Status


def _site_today(episode: Episode) -> Any:
    return timezone.now().astimezone(episode.program.site.tz).date()


def _episode_for_manage(request: HttpRequest, public_id: Any) -> Episode:
    qs = Episode.objects.select_related("patient", "program", "program__site", "primary_counselor")
    return get_for_user_or_404(qs, request.user, public_id, Perm.EPISODE_MANAGE)


@login_required
def episode_create(request: HttpRequest, patient_id: Any) -> HttpResponse:
    patient = patient_get(user=request.user, public_id=patient_id)
    require_perm(request.user, Perm.EPISODE_MANAGE)
    form = EpisodeCreateForm(request.POST or None, organization_id=request.user.organization_id)
    if request.method == "POST" and form.is_valid():
        try:
            episode = services.episode_create(
                actor=request.user, patient=patient, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            done = "Admitted to" if episode.admitted_on else "Added to the waitlist for"
            messages.success(request, f"{done} {episode.program.name}.")
            return redirect("enrollment:episode-detail", public_id=episode.public_id)
    audit_log(
        actor=request.user, action="openiop.patients.patient.read", category=CAT,
        obj=patient, patient=patient, request=request, detail={"view": "episode-create"},
    )  # fmt: skip
    return render(request, "enrollment/episode_create.html", {"patient": patient, "form": form})


def _action_forms(episode: Episode, bound: dict[str, forms.Form]) -> dict[str, forms.Form | None]:
    """The action forms that apply to the episode's status (a bound one replaces its blank)."""
    initial = today_initial(_site_today(episode))
    status = episode.status
    available: dict[str, Callable[[], forms.Form]] = {}
    if status == S.WAITLISTED:
        available["admit_form"] = lambda: AdmitForm(initial=initial, prefix="admit")
    if status in (S.ADMITTED, S.ACTIVE):
        available["hold_form"] = lambda: HoldForm(initial=initial, prefix="hold")
    if status == S.ON_HOLD:
        available["resume_form"] = lambda: ResumeForm(initial=initial, prefix="resume")
    if status in (S.ADMITTED, S.ACTIVE, S.ON_HOLD):
        available["transfer_form"] = lambda: TransferForm(
            episode=episode, initial=initial, prefix="transfer"
        )
    if status != S.DISCHARGED:
        available["discharge_form"] = lambda: DischargeForm(
            initial={**initial, "version": episode.version}, prefix="discharge"
        )
    forms_shown = {name: bound.get(name) or make() for name, make in available.items()}
    # A rejected form stays on the page with its error even if the status no longer offers it.
    return {**bound, **forms_shown}


def _render_episode(request: HttpRequest, episode: Episode, **bound: forms.Form) -> HttpResponse:
    attendance = list(
        AttendanceRecord.objects.filter(episode=episode)
        .select_related("session")
        .order_by("-session__starts_at")
    )
    attended = sum(r.minutes_attended or 0 for r in attendance)
    context: dict[str, Any] = {
        "episode": episode,
        "patient": episode.patient,
        "history": list(
            episode.status_changes.select_related("changed_by").order_by("-effective_on", "-id")
        ),
        "attendance": [
            {"record": r, "hours": f"{(r.minutes_attended or 0) / 60:.1f}"} for r in attendance
        ],
        "attended_hours": f"{attended / 60:.1f}",
        "transferred_to": Episode.objects.filter(transferred_from=episode)
        .select_related("program")
        .first(),
        "site_tz": episode.program.site.timezone,
        "can_manage": user_has_perm(request.user, Perm.EPISODE_MANAGE),
    }
    if context["can_manage"]:
        context.update(_action_forms(episode, bound))
    audit_log(
        actor=request.user, action="openiop.enrollment.episode.read", category=CAT,
        obj=episode, patient=episode.patient, request=request,
    )  # fmt: skip
    return render(request, "enrollment/episode_detail.html", context)


@login_required
def episode_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    episode = episode_get(user=request.user, public_id=public_id)
    return _render_episode(request, episode)


def _act(
    request: HttpRequest,
    public_id: Any,
    name: str,
    make_form: Callable[[Episode], Any],
    call: Callable[[Episode, dict[str, Any]], Any],
    done: str,
) -> HttpResponse:
    """Run one life-cycle service from a valid form, or re-render the page with its errors."""
    episode = _episode_for_manage(request, public_id)
    form = make_form(episode)
    if form.is_valid():
        try:
            call(episode, form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
            episode = _episode_for_manage(request, public_id)  # drop in-memory changes
        else:
            messages.success(request, done)
            return redirect("enrollment:episode-detail", public_id=episode.public_id)
    return _render_episode(request, episode, **{name: form})


@login_required
@require_POST
def episode_admit(request: HttpRequest, public_id: Any) -> HttpResponse:
    def call(episode: Episode, data: dict[str, Any]) -> Any:
        return services.episode_admit(actor=request.user, episode=episode, request=request, **data)

    def form(_: Episode) -> Any:
        return AdmitForm(request.POST, prefix="admit")

    return _act(request, public_id, "admit_form", form, call, "Patient admitted.")


@login_required
@require_POST
def episode_hold(request: HttpRequest, public_id: Any) -> HttpResponse:
    def call(episode: Episode, data: dict[str, Any]) -> Any:
        return services.episode_hold(actor=request.user, episode=episode, request=request, **data)

    def form(_: Episode) -> Any:
        return HoldForm(request.POST, prefix="hold")

    return _act(request, public_id, "hold_form", form, call, "Episode put on hold.")


@login_required
@require_POST
def episode_resume(request: HttpRequest, public_id: Any) -> HttpResponse:
    def call(episode: Episode, data: dict[str, Any]) -> Any:
        return services.episode_resume(actor=request.user, episode=episode, request=request, **data)

    def form(_: Episode) -> Any:
        return ResumeForm(request.POST, prefix="resume")

    return _act(request, public_id, "resume_form", form, call, "Episode resumed.")


@login_required
@require_POST
def episode_transfer(request: HttpRequest, public_id: Any) -> HttpResponse:
    result: dict[str, Episode] = {}

    def call(episode: Episode, data: dict[str, Any]) -> Any:
        result["new"] = services.episode_transfer(
            actor=request.user, episode=episode, request=request, **data
        )
        return result["new"]

    def form(episode: Episode) -> Any:
        return TransferForm(request.POST, episode=episode, prefix="transfer")

    response = _act(request, public_id, "transfer_form", form, call, "Patient transferred.")
    if "new" in result and response.status_code == 302:
        return redirect("enrollment:episode-detail", public_id=result["new"].public_id)
    return response


@login_required
@require_POST
def episode_discharge(request: HttpRequest, public_id: Any) -> HttpResponse:
    def call(episode: Episode, data: dict[str, Any]) -> Any:
        return services.episode_discharge(
            actor=request.user, episode=episode, request=request,
            discharged_on=data["discharged_on"], reason=data["reason"], note=data["note"],
            days_used_30=data.get("days_used_30"),
            expected_version=data["version"],
        )  # fmt: skip

    def form(_: Episode) -> Any:
        return DischargeForm(request.POST, prefix="discharge")

    return _act(request, public_id, "discharge_form", form, call, "Patient discharged.")
