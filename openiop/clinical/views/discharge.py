"""Discharge summary pages: start (from a discharged episode), edit the draft, sign, view,
amend. Reading needs NOTE_VIEW; writing NOTE_WRITE (billing and front desk do neither).
Another organization's episode or summary is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.clinical.forms.discharge import AmendForm, DischargeSummaryForm, VersionForm
from openiop.clinical.selectors.discharge import (
    discharge_summary_chain,
    discharge_summary_for_episode,
    discharge_summary_get,
)
from openiop.clinical.services.discharge import (
    TEXT_FIELDS,
    DischargeSummaryConflict,
    discharge_summary_amend,
    discharge_summary_save_draft,
    discharge_summary_sign,
    discharge_summary_start,
    due_on,
)
from openiop.core.access import get_for_user_or_404
from openiop.enrollment.models import Episode


@login_required
def discharge_start(request: HttpRequest, episode_id: Any) -> HttpResponse:
    qs = Episode.objects.select_related("patient", "program__site")
    episode = get_for_user_or_404(qs, request.user, episode_id, Perm.NOTE_WRITE)
    existing = discharge_summary_for_episode(episode)
    if existing is not None:
        return redirect("clinical:discharge-detail", public_id=existing.public_id)
    error = ""
    if request.method == "POST":
        try:
            summary = discharge_summary_start(actor=request.user, episode=episode, request=request)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, "Discharge summary started from the record.")
            return redirect("clinical:discharge-edit", public_id=summary.public_id)
    return render(
        request,
        "clinical/discharge_start.html",
        {
            "episode": episode,
            "patient": episode.patient,
            "error": error,
            "due_on": due_on(episode) if episode.discharged_on else None,
        },
        status=400 if error else 200,
    )


@login_required
def discharge_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    summary = discharge_summary_get(user=request.user, public_id=public_id, request=request)
    can_write = user_has_perm(request.user, Perm.NOTE_WRITE)
    return render(
        request,
        "clinical/discharge_detail.html",
        {
            "summary": summary,
            "episode": summary.episode,
            "patient": summary.patient,
            "chain": discharge_summary_chain(summary),
            "can_write": can_write,
            "can_sign": can_write and not summary.is_signed
            and summary.author_id == request.user.pk,
            "sign_form": VersionForm(initial={"version": summary.version}),
            "amend_form": AmendForm(),
        },
    )  # fmt: skip


@login_required
def discharge_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    summary = discharge_summary_get(
        user=request.user, public_id=public_id, perm=Perm.NOTE_WRITE, request=request
    )
    if summary.is_signed:
        messages.error(request, "The summary is signed; write an amendment instead.")
        return redirect("clinical:discharge-detail", public_id=summary.public_id)
    initial = {"version": summary.version, **{f: getattr(summary, f) for f in TEXT_FIELDS}}
    form = DischargeSummaryForm(request.POST or None, initial=initial)
    conflict = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        texts = {f: data[f] for f in TEXT_FIELDS}
        try:
            discharge_summary_save_draft(
                actor=request.user,
                summary=summary,
                request=request,
                expected_version=data["version"],
                texts=texts,
            )
        except DischargeSummaryConflict as exc:
            conflict = True
            # Keep the user's text on the form; the hidden version moves to the current one,
            # so saving again is a deliberate choice after comparing.
            post = request.POST.copy()
            post["version"] = str(exc.current_version)
            form = DischargeSummaryForm(post)
            form.is_valid()
            form.add_service_errors(exc)
            summary.refresh_from_db()
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Draft saved.")
            if request.POST.get("then") == "sign":
                return redirect("clinical:discharge-detail", public_id=summary.public_id)
            return redirect("clinical:discharge-edit", public_id=summary.public_id)
    return render(
        request,
        "clinical/discharge_edit.html",
        {"summary": summary, "episode": summary.episode, "patient": summary.patient,
         "form": form, "conflict": conflict},
        status=409 if conflict else 200,
    )  # fmt: skip


@login_required
@require_POST
def discharge_sign(request: HttpRequest, public_id: Any) -> HttpResponse:
    summary = discharge_summary_get(
        user=request.user, public_id=public_id, perm=Perm.NOTE_WRITE, request=request
    )
    form = VersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The page was out of date; reload and sign again.")
        return redirect("clinical:discharge-detail", public_id=summary.public_id)
    try:
        discharge_summary_sign(
            actor=request.user,
            summary=summary,
            request=request,
            expected_version=form.cleaned_data["version"],
        )
    except PermissionDenied:
        messages.error(request, "Only the summary's author can sign it.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Discharge summary signed.")
    return redirect("clinical:discharge-detail", public_id=summary.public_id)


@login_required
def discharge_amend(request: HttpRequest, public_id: Any) -> HttpResponse:
    summary = discharge_summary_get(
        user=request.user, public_id=public_id, perm=Perm.NOTE_WRITE, request=request
    )
    form = AmendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            amendment = discharge_summary_amend(
                actor=request.user, summary=summary, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Amendment started; edit and sign it.")
            return redirect("clinical:discharge-edit", public_id=amendment.public_id)
    return render(
        request, "clinical/discharge_amend.html",
        {"summary": summary, "episode": summary.episode, "patient": summary.patient,
         "form": form},
    )  # fmt: skip


urlpatterns = [
    path("episodes/<uuid:episode_id>/discharge-summary/", discharge_start,
         name="discharge-start"),
    path("discharge-summaries/<uuid:public_id>/", discharge_detail, name="discharge-detail"),
    path("discharge-summaries/<uuid:public_id>/edit/", discharge_edit, name="discharge-edit"),
    path("discharge-summaries/<uuid:public_id>/sign/", discharge_sign, name="discharge-sign"),
    path("discharge-summaries/<uuid:public_id>/amend/", discharge_amend, name="discharge-amend"),
]  # fmt: skip
