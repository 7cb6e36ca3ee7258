"""Aftercare pages: the follow-up work list, starting a plan at discharge, the plan (components,
engagement, follow-ups), recording attempts and contacts, closing a follow-up, and who has gone
quiet.

Views are thin: fetch with permission first (a role without the permission gets 403; another
organization's row, or a patient outside a counselor's caseload, 404), then form -> service ->
redirect or render. Reading needs ``AFTERCARE_VIEW``, writing ``AFTERCARE_MANAGE``. Every page
that shows a patient writes an audit row (through the selectors); bad input re-renders the
form with its errors (status 400) and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.aftercare import selectors, services
from openiop.aftercare.charts import MonthBar, engagement_chart_svg
from openiop.aftercare.forms import (
    AttemptForm,
    CloseForm,
    ComponentEndForm,
    ComponentForm,
    ComponentFormSet,
    ContactForm,
    EngagementForm,
    PlanEditForm,
    PlanForm,
    WorklistFilterForm,
)
from openiop.aftercare.models import AftercareComponent, AftercarePlan, FollowUp, FollowUpAttempt
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode

CAT = AuditEvent.Category.CLINICAL


def _window() -> dict[str, int]:
    """The follow-up window the pages explain (settings, read at call time)."""
    return {
        "window_before": settings.OPENIOP_FOLLOW_UP_WINDOW_BEFORE,
        "grace_after": settings.OPENIOP_FOLLOW_UP_GRACE_AFTER,
    }


def _today(request: HttpRequest) -> dt.date:
    user: Any = request.user
    return user.organization.today() if user.organization_id else timezone.localdate()


# --- the follow-up work list ---------------------------------------------------------------------


@login_required
def follow_up_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.AFTERCARE_VIEW)
    user: Any = request.user
    form = WorklistFilterForm(request.GET or None, organization_id=user.organization_id)
    status, program = form.values()
    rows = selectors.follow_up_worklist(
        user, _today(request), request=request, status=status, program=program
    )
    return render(
        request,
        "aftercare/follow_up_list.html",
        {
            "form": form, "rows": rows, "status": status, "program": program,
            "status_label": selectors.WORKLIST_FILTERS[status],
            "can_manage": user_has_perm(user, Perm.AFTERCARE_MANAGE), **_window(),
        },
    )  # fmt: skip


@login_required
def gone_quiet(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.AFTERCARE_VIEW)
    rows = selectors.gone_quiet_list(request.user, _today(request), request=request)
    return render(
        request,
        "aftercare/gone_quiet_list.html",
        {"rows": rows, "weeks": settings.OPENIOP_GONE_QUIET_WEEKS},
    )


# --- the plan ------------------------------------------------------------------------------------


@login_required
def plan_create(request: HttpRequest, episode_id: Any) -> HttpResponse:
    qs = Episode.objects.select_related("patient", "program__site")
    episode = get_for_user_or_404(qs, request.user, episode_id, Perm.AFTERCARE_MANAGE)
    existing = AftercarePlan.objects.filter(episode=episode).first()
    if existing is not None:
        return redirect("aftercare:plan-detail", public_id=existing.public_id)
    user: Any = request.user
    audit_log(
        actor=user, action="openiop.aftercare.plan.start_page", category=CAT, obj=episode,
        patient=episode.patient, request=request,
    )  # fmt: skip
    eligible = services.aftercare_plan_blocker(episode)
    default_start = episode.discharged_on + dt.timedelta(days=1) if episode.discharged_on else None
    form = PlanForm(request.POST or None, initial={"starts_on": default_start})
    formset = ComponentFormSet(
        request.POST or None, prefix="c", form_kwargs={"organization_id": user.organization_id}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if not eligible and form.is_valid() and formset.is_valid():
            try:
                plan = services.aftercare_plan_create(
                    actor=user, episode=episode, starts_on=form.cleaned_data["starts_on"],
                    notes=form.cleaned_data["notes"], components=formset.specs(),
                    request=request,
                )  # fmt: skip
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, "Aftercare plan started; follow-ups are scheduled.")
                return redirect("aftercare:plan-detail", public_id=plan.public_id)
    return render(
        request,
        "aftercare/plan_create.html",
        {"episode": episode, "patient": episode.patient, "form": form, "formset": formset,
         "not_eligible": eligible},
        status=status,
    )  # fmt: skip


def _month_bars(detail: selectors.PlanDetail) -> list[MonthBar]:
    return [
        MonthBar(
            index=m.month.month_index,
            label=f"{m.month.start:%b}",
            components=m.month.components,
            band=m.month.band,
            partial=m.month.partial,
        )  # fmt: skip
        for m in detail.months
    ]


def _render_plan(
    request: HttpRequest, public_id: Any, *, status: int = 200, **forms: Any
) -> HttpResponse:
    """The plan page; ``forms`` are bound forms to show with their errors."""
    user: Any = request.user
    detail = selectors.plan_detail(user, public_id, request=request)
    components = [row.component for row in detail.components]
    can_manage = user_has_perm(user, Perm.AFTERCARE_MANAGE)
    end_form, end_for = forms.pop("end_form", None), forms.pop("end_for", None)
    rows = [
        {
            "row": row,
            "end_form": end_form
            if row.component.pk == end_for
            else ComponentEndForm(
                prefix="end",
                auto_id=f"id_end_{row.component.public_id}_%s",
                initial={"ends_on": detail.today},
            ),
        }
        for row in detail.components
    ]
    context = {
        "detail": detail,
        "plan": detail.plan,
        "episode": detail.episode,
        "patient": detail.patient,
        "chart_svg": engagement_chart_svg(_month_bars(detail)),
        "can_manage": can_manage,
        "component_form": ComponentForm(organization_id=user.organization_id, prefix="add"),
        "engagement_form": EngagementForm(
            components=components, initial={"occurred_on": detail.today}, prefix="log"
        ),
        "component_rows": rows,
        "today": detail.today,
        "site_tz": detail.episode.program.site.tz,
        **_window(),
        **forms,
    }
    return render(request, "aftercare/plan_detail.html", context, status=status)


@login_required
def plan_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    return _render_plan(request, public_id)


@login_required
def plan_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    plan = selectors.plan_get(request.user, public_id, perm=Perm.AFTERCARE_MANAGE)
    initial = {"version": plan.version, "ends_on": plan.ends_on, "notes": plan.notes}
    form = PlanEditForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.aftercare_plan_update(
                    actor=request.user, plan=plan, notes=d["notes"], ends_on=d["ends_on"],
                    expected_version=d["version"], request=request,
                )  # fmt: skip
            except ValidationError as exc:
                form.add_service_errors(exc)
                status = 409 if "version" in getattr(exc, "error_dict", {}) else 400
            else:
                messages.success(request, "Aftercare plan saved.")
                return redirect("aftercare:plan-detail", public_id=plan.public_id)
    else:
        audit_log(
            actor=request.user, action="openiop.aftercare.plan.view", category=CAT, obj=plan,
            patient=plan.patient, request=request, detail={"page": "edit"},
        )  # fmt: skip
    return render(
        request, "aftercare/plan_edit.html",
        {"plan": plan, "patient": plan.patient, "episode": plan.episode, "form": form},
        status=status,
    )  # fmt: skip


@login_required
@require_POST
def component_add(request: HttpRequest, public_id: Any) -> HttpResponse:
    plan = selectors.plan_get(request.user, public_id, perm=Perm.AFTERCARE_MANAGE)
    user: Any = request.user
    form = ComponentForm(request.POST, organization_id=user.organization_id, prefix="add")
    if form.is_valid():
        try:
            services.component_add(actor=user, plan=plan, request=request, **form.service_kwargs())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Component added.")
            return redirect("aftercare:plan-detail", public_id=plan.public_id)
    return _render_plan(request, plan.public_id, status=400, component_form=form)


@login_required
@require_POST
def component_end(request: HttpRequest, public_id: Any) -> HttpResponse:
    qs = AftercareComponent.objects.select_related("plan__episode__program__site", "plan__patient")
    component = get_for_user_or_404(qs, request.user, public_id, Perm.AFTERCARE_MANAGE)
    form = ComponentEndForm(request.POST, prefix="end", auto_id=f"id_end_{component.public_id}_%s")
    if form.is_valid():
        try:
            services.component_end(
                actor=request.user, component=component, ends_on=form.cleaned_data["ends_on"],
                request=request,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"{component} ended.")
            return redirect("aftercare:plan-detail", public_id=component.plan.public_id)
    return _render_plan(
        request, component.plan.public_id, status=400, end_form=form, end_for=component.pk
    )


@login_required
@require_POST
def engagement_log(request: HttpRequest, public_id: Any) -> HttpResponse:
    plan = selectors.plan_get(request.user, public_id, perm=Perm.AFTERCARE_MANAGE)
    components = list(
        AftercareComponent.objects.filter(plan=plan).select_related("plan__episode__program__site")
    )
    form = EngagementForm(request.POST, components=components, prefix="log")
    if form.is_valid():
        try:
            services.engagement_log(actor=request.user, request=request, **form.service_kwargs())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Engagement logged.")
            return redirect("aftercare:plan-detail", public_id=plan.public_id)
    return _render_plan(request, plan.public_id, status=400, engagement_form=form)


# --- follow-ups ----------------------------------------------------------------------------------


def _follow_up_context(follow_up: FollowUp, **extra: Any) -> dict[str, Any]:
    plan = follow_up.plan
    return {
        "follow_up": follow_up,
        "plan": plan,
        "episode": plan.episode,
        "patient": follow_up.patient,
        "time_point": services.time_point_label(follow_up.offset_days),
        "attempts": selectors.follow_up_attempts(follow_up),
        **extra,
    }


def _finished(request: HttpRequest, follow_up: FollowUp) -> HttpResponse | None:
    """A completed or closed follow-up has nothing left to record: back to its plan."""
    if follow_up.status == FollowUp.Status.PENDING:
        return None
    messages.info(request, f"The {follow_up.offset_days}-day follow-up is already "
                           f"{follow_up.get_status_display().lower()}.")  # fmt: skip
    return redirect("aftercare:plan-detail", public_id=follow_up.plan.public_id)


@login_required
def follow_up_attempt(request: HttpRequest, public_id: Any) -> HttpResponse:
    follow_up = selectors.follow_up_get(request.user, public_id)
    done = _finished(request, follow_up)
    if done is not None:
        return done
    tz = follow_up.plan.episode.program.site.tz
    now = timezone.now().astimezone(tz).replace(second=0, microsecond=0, tzinfo=None)
    form = AttemptForm(request.POST or None, tz=tz, initial={"attempted_at": now})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.follow_up_attempt_record(
                    actor=request.user, follow_up=follow_up, attempted_at=d["attempted_at"],
                    channel=d["channel"], result=d["result"], note=d["note"], request=request,
                )  # fmt: skip
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                if d["result"] == FollowUpAttempt.Result.REACHED:
                    messages.success(request, "Reached: record the answers now.")
                    return redirect("aftercare:follow-up-contact", public_id=follow_up.public_id)
                messages.success(request, "Attempt recorded.")
                return redirect("aftercare:follow-up-list")
    else:
        selectors.follow_up_read(request.user, follow_up, request=request)
    return render(
        request, "aftercare/follow_up_attempt.html",
        _follow_up_context(follow_up, form=form, tz=tz), status=status,
    )  # fmt: skip


@login_required
def follow_up_contact(request: HttpRequest, public_id: Any) -> HttpResponse:
    follow_up = selectors.follow_up_get(request.user, public_id)
    done = _finished(request, follow_up)
    if done is not None:
        return done
    episode = follow_up.plan.episode
    initial = {"version": follow_up.version, "contacted_on": episode.program.site.today()}
    form = ContactForm(request.POST or None, episode=episode, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.follow_up_complete(
                    actor=request.user, follow_up=follow_up, request=request,
                    **form.service_kwargs(),
                )  # fmt: skip
            except ValidationError as exc:
                form.add_service_errors(exc)
                if "version" in getattr(exc, "error_dict", {}):
                    status = 409
            else:
                messages.success(
                    request, f"{services.time_point_label(follow_up.offset_days)} follow-up "
                             "completed.",
                )  # fmt: skip
                return redirect("aftercare:plan-detail", public_id=follow_up.plan.public_id)
    else:
        selectors.follow_up_read(request.user, follow_up, request=request)
    return render(
        request, "aftercare/follow_up_contact.html", _follow_up_context(follow_up, form=form),
        status=status,
    )  # fmt: skip


@login_required
def follow_up_close(request: HttpRequest, public_id: Any) -> HttpResponse:
    follow_up = selectors.follow_up_get(request.user, public_id)
    done = _finished(request, follow_up)
    if done is not None:
        return done
    form = CloseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                closed = services.follow_up_close(
                    actor=request.user, follow_up=follow_up, request=request, **form.cleaned_data
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                n = len(closed)
                messages.success(
                    request, f"Closed without contact ({n} follow-up{'s' if n != 1 else ''})."
                )
                return redirect("aftercare:follow-up-list")
    else:
        selectors.follow_up_read(request.user, follow_up, request=request)
    return render(
        request, "aftercare/follow_up_close.html", _follow_up_context(follow_up, form=form),
        status=status,
    )  # fmt: skip


urlpatterns = [
    path("follow-ups/", follow_up_list, name="follow-up-list"),
    path("follow-ups/<uuid:public_id>/attempt/", follow_up_attempt, name="follow-up-attempt"),
    path("follow-ups/<uuid:public_id>/contact/", follow_up_contact, name="follow-up-contact"),
    path("follow-ups/<uuid:public_id>/close/", follow_up_close, name="follow-up-close"),
    path("gone-quiet/", gone_quiet, name="gone-quiet"),
    path("plans/new/<uuid:episode_id>/", plan_create, name="plan-create"),
    path("plans/<uuid:public_id>/", plan_detail, name="plan-detail"),
    path("plans/<uuid:public_id>/edit/", plan_edit, name="plan-edit"),
    path("plans/<uuid:public_id>/components/", component_add, name="component-add"),
    path("plans/<uuid:public_id>/engagement/", engagement_log, name="engagement-log"),
    path("components/<uuid:public_id>/end/", component_end, name="component-end"),
]  # fmt: skip
