"""Authorization pages: an episode's authorizations with units used, record / edit / void one,
and the alerts list. Each view: fetch with permission -> form -> service -> redirect/render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.billing import selectors, services
from openiop.billing.forms import AuthorizationForm, VoidForm
from openiop.billing.models import Authorization
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.enrollment.models import Episode


def _episode(request: HttpRequest, public_id: Any, perm: Perm) -> Episode:
    qs = Episode.objects.select_related("patient", "program__site", "primary_counselor")
    return get_for_user_or_404(qs, request.user, public_id, perm)


def _authorization(request: HttpRequest, public_id: Any, perm: Perm) -> Authorization:
    qs = Authorization.objects.select_related("episode__program__site", "episode__patient")
    return get_for_user_or_404(qs, request.user, public_id, perm)


@login_required
def authorization_list(request: HttpRequest, episode_id: Any) -> HttpResponse:
    episode = _episode(request, episode_id, Perm.AUTHORIZATION_VIEW)
    today = episode.program.site.today()
    usages = selectors.authorization_list_for_episode(
        user=request.user, episode=episode, today=today, request=request
    )
    return render(
        request,
        "billing/authorization_list.html",
        {
            "episode": episode,
            "patient": episode.patient,
            "usages": usages,
            "today": today,
            "can_manage": user_has_perm(request.user, Perm.AUTHORIZATION_MANAGE),
            "void_form": VoidForm(),
        },
    )


@login_required
def authorization_create(request: HttpRequest, episode_id: Any) -> HttpResponse:
    episode = _episode(request, episode_id, Perm.AUTHORIZATION_MANAGE)
    initial = {"level_of_care": episode.program.level_of_care}
    form = AuthorizationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.authorization_create(
                actor=request.user, episode=episode, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Authorization recorded.")
            return redirect("billing:authorization-list", episode_id=episode.public_id)
    return render(
        request,
        "billing/authorization_form.html",
        {"episode": episode, "patient": episode.patient, "form": form, "authorization": None},
    )


@login_required
def authorization_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    auth = _authorization(request, public_id, Perm.AUTHORIZATION_MANAGE)
    episode = auth.episode
    if auth.status == Authorization.Status.VOID:
        messages.error(request, "A void authorization cannot be changed.")
        return redirect("billing:authorization-list", episode_id=episode.public_id)
    form = AuthorizationForm(request.POST or None, initial=AuthorizationForm.initial_for(auth))
    if request.method == "POST" and form.is_valid():
        try:
            services.authorization_update(
                actor=request.user, authorization=auth, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Authorization updated.")
            return redirect("billing:authorization-list", episode_id=episode.public_id)
    return render(
        request,
        "billing/authorization_form.html",
        {"episode": episode, "patient": episode.patient, "form": form, "authorization": auth},
    )


@login_required
@require_POST
def authorization_void(request: HttpRequest, public_id: Any) -> HttpResponse:
    auth = _authorization(request, public_id, Perm.AUTHORIZATION_MANAGE)
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            services.authorization_void(
                actor=request.user, authorization=auth, request=request,
                reason=form.cleaned_data["reason"],
            )  # fmt: skip
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Authorization voided.")
    else:
        messages.error(request, "Say why the authorization is void.")
    return redirect("billing:authorization-list", episode_id=auth.episode.public_id)


@login_required
def authorization_alerts(request: HttpRequest) -> HttpResponse:
    """Every alert of the organization on one page (the dashboard shows the same partial)."""
    require_perm(request.user, Perm.AUTHORIZATION_VIEW)
    today = request.user.organization.today()
    context = selectors.authorization_alerts_context(request.user, today, request=request)
    return render(request, "billing/authorization_alerts.html", {**context, "today": today})
