"""Treatment plan pages: the episode's plan, a draft's editor (one small form per part), the
clinician's and the patient's (and guardian's) signatures, and recording a review.

Views are thin: fetch with permission first (another organization's or an unknown id: 404; a
role without NOTE_VIEW / NOTE_WRITE: 403), then form -> service -> redirect, or the page again
with the service's errors on the fields. Every page that shows a plan writes an audit row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.clinical import cadence
from openiop.clinical.forms.plans import (
    ClinicianSignForm,
    GoalForm,
    InterventionForm,
    ObjectiveForm,
    PatientSignForm,
    PlanDraftForm,
    ProblemForm,
    ReviewForm,
)
from openiop.clinical.models import (
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    TreatmentPlan,
)
from openiop.clinical.selectors import plans as selectors
from openiop.clinical.services import plans as services
from openiop.core.access import get_for_user_or_404
from openiop.enrollment.models import Episode

S = TreatmentPlan.Status
BADGE = {cadence.OK: "met", cadence.DUE_SOON: "at_risk", cadence.OVERDUE: "below"}
STATUS_LABEL = {cadence.OK: "on schedule", cadence.DUE_SOON: "due soon", cadence.OVERDUE: "overdue"}


# --- helpers --------------------------------------------------------------------------------


def _episode(request: HttpRequest, public_id: Any, perm: Perm) -> Episode:
    qs = Episode.objects.select_related("patient", "program__site")
    return get_for_user_or_404(qs, request.user, public_id, perm)


def _plan(request: HttpRequest, public_id: Any, perm: Perm = Perm.NOTE_VIEW) -> TreatmentPlan:
    return selectors.plan_get(user=request.user, public_id=public_id, perm=perm, request=request)


def _to_plan(plan: TreatmentPlan) -> HttpResponse:
    target = "clinical:plan-edit" if plan.status == S.DRAFT else "clinical:plan-detail"
    return redirect(target, public_id=plan.public_id)


def _review_state(plan: TreatmentPlan | None, today: Any) -> dict[str, Any]:
    if plan is None or plan.status != S.ACTIVE or plan.next_review_on is None:
        return {}
    status = cadence.review_status(plan.next_review_on, today)
    return {
        "review_status": status,
        "review_badge": BADGE[status],
        "review_label": STATUS_LABEL[status],
        "review_days": abs((plan.next_review_on - today).days),
    }


def _page(request: HttpRequest, episode: Episode, plan: TreatmentPlan | None) -> HttpResponse:
    """The plan page: ``plan`` shown in full, with the episode's other versions listed."""
    plans = selectors.plan_list_for_episode(user=request.user, episode=episode, request=request)
    if plan is not None:
        selectors.plan_load_tree(plan)
    today = episode.program.site.today()
    can_write = user_has_perm(request.user, Perm.NOTE_WRITE)
    draft = next((p for p in plans if p.status == S.DRAFT), None)
    context = {
        "episode": episode,
        "patient": episode.patient,
        "plan": plan,
        "plans": plans,
        "draft": draft,
        "today": today,
        "can_write": can_write,
        "can_start": can_write
        and episode.is_open
        and episode.admitted_on is not None
        and not any(p.status in (S.DRAFT, S.ACTIVE) for p in plans),
        "cadence_text": cadence.describe(plan.review_interval, plan.review_unit) if plan else "",
        "plan_due_on": (
            episode.admitted_on + dt.timedelta(days=episode.program.plan_due_days)
            if episode.admitted_on
            else None
        ),
        **_review_state(plan, today),
    }
    return render(request, "clinical/plan_detail.html", context)


# --- the plan page --------------------------------------------------------------------------


@login_required
def plan_episode(request: HttpRequest, episode_id: Any) -> HttpResponse:
    """The episode's plan: the active one, or else the newest draft."""
    episode = _episode(request, episode_id, Perm.NOTE_VIEW)
    current = selectors.plan_current_for_episode(user=request.user, episode=episode)
    if current is None:
        current = (
            TreatmentPlan.objects.for_org(request.user.organization_id)
            .filter(episode=episode, status=S.DRAFT)
            .first()
        )
    if current is not None:
        current.episode = episode
    return _page(request, episode, current)


@login_required
def plan_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    """One version of a plan (earlier versions are read here)."""
    plan = _plan(request, public_id)
    return _page(request, plan.episode, plan)


@login_required
@require_POST
def plan_create(request: HttpRequest, episode_id: Any) -> HttpResponse:
    episode = _episode(request, episode_id, Perm.NOTE_WRITE)
    try:
        plan = services.plan_create_draft(actor=request.user, episode=episode, request=request)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("clinical:plan-episode", episode_id=episode.public_id)
    messages.success(request, "Draft plan started.")
    return redirect("clinical:plan-edit", public_id=plan.public_id)


@login_required
@require_POST
def plan_revise(request: HttpRequest, public_id: Any) -> HttpResponse:
    plan = _plan(request, public_id, Perm.NOTE_WRITE)
    try:
        draft = services.plan_revise(actor=request.user, plan=plan, request=request)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _to_plan(plan)
    messages.success(request, "Revision started: the current plan stays in force until signed.")
    return redirect("clinical:plan-edit", public_id=draft.public_id)


# --- editing a draft ------------------------------------------------------------------------


@login_required
def plan_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The draft's editor: strengths, barriers and cadence here; each part on its own form."""
    plan = _plan(request, public_id, Perm.NOTE_WRITE)
    if plan.status != S.DRAFT:
        messages.error(request, "Only a draft is edited; revise the active plan instead.")
        return _to_plan(plan)
    initial = {
        "strengths": plan.strengths,
        "barriers": plan.barriers,
        "review_interval": plan.review_interval,
        "review_unit": plan.review_unit,
    }
    form = PlanDraftForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                plan = services.plan_update_draft(
                    actor=request.user, plan=plan, request=request, **form.cleaned_data
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, "Plan saved.")
                return redirect("clinical:plan-edit", public_id=plan.public_id)
    selectors.plan_load_tree(plan)
    context = {
        "plan": plan,
        "episode": plan.episode,
        "patient": plan.patient,
        "form": form,
        "incomplete": services.plan_incomplete_reasons(plan),
        "cadence_text": cadence.describe(plan.review_interval, plan.review_unit),
    }
    return render(request, "clinical/plan_edit.html", context, status=status)


@dataclass(frozen=True)
class Part:
    """One kind of plan part: its model, form, services and where it hangs."""

    model: type[Model]
    form: type[Any]
    arg: str  # the service's keyword for an existing part
    parent_model: type[Model]
    parent_arg: str  # the add service's keyword for the parent
    label: str
    add: Any
    update: Any
    remove: Any
    fields: tuple[str, ...]


PARTS: dict[str, Part] = {
    "problem": Part(
        PlanProblem, ProblemForm, "problem", TreatmentPlan, "plan", "problem",
        services.plan_problem_add, services.plan_problem_update, services.plan_problem_remove,
        ("description", "icd10_code", "icd10_text"),
    ),
    "goal": Part(
        PlanGoal, GoalForm, "goal", PlanProblem, "problem", "goal",
        services.plan_goal_add, services.plan_goal_update, services.plan_goal_remove, ("text",),
    ),
    "objective": Part(
        PlanObjective, ObjectiveForm, "objective", PlanGoal, "goal", "objective",
        services.plan_objective_add, services.plan_objective_update,
        services.plan_objective_remove, ("text", "target_on"),
    ),
    "intervention": Part(
        PlanIntervention, InterventionForm, "intervention", PlanObjective, "objective",
        "intervention", services.plan_intervention_add, services.plan_intervention_update,
        services.plan_intervention_remove, ("modality", "frequency", "description", "responsible"),
    ),
}  # fmt: skip
PLAN_PATH = {
    TreatmentPlan: "",
    PlanProblem: "plan",
    PlanGoal: "problem__plan",
    PlanObjective: "goal__problem__plan",
    PlanIntervention: "objective__goal__problem__plan",
}


def _kind(kind: str) -> Part:
    if kind not in PARTS:
        raise Http404("not found")
    return PARTS[kind]


def _fetch(request: HttpRequest, model: type[Model], public_id: Any) -> tuple[Any, TreatmentPlan]:
    """A part (or plan) of the user's organization with its plan, or 404/403."""
    to_plan = PLAN_PATH[model]
    related = [f"{to_plan}__patient", f"{to_plan}__episode"] if to_plan else ["patient", "episode"]
    obj = get_for_user_or_404(
        model.objects.select_related(*related),  # type: ignore[attr-defined]
        request.user,
        public_id,
        Perm.NOTE_WRITE,
    )
    plan = obj
    for step in to_plan.split("__") if to_plan else []:
        plan = getattr(plan, step)
    return obj, plan


def _part_form(part: Part, request: HttpRequest, plan: TreatmentPlan, **kw: Any) -> Any:
    if part.form is InterventionForm:
        kw["organization_id"] = plan.organization_id
    return part.form(request.POST or None, **kw)


def _render_part(
    request: HttpRequest, plan: TreatmentPlan, form: Any, heading: str, parent: Any, status: int
) -> HttpResponse:
    context = {"plan": plan, "patient": plan.patient, "form": form, "heading": heading,
               "parent": parent}  # fmt: skip
    return render(request, "clinical/plan_part_form.html", context, status=status)


@login_required
def plan_part_add(request: HttpRequest, kind: str, parent_id: Any) -> HttpResponse:
    """Add a problem to a plan, a goal to a problem, an objective to a goal, or an intervention
    to an objective."""
    part = _kind(kind)
    parent, plan = _fetch(request, part.parent_model, parent_id)
    if plan.status != S.DRAFT:
        messages.error(request, "Only a draft is edited; revise the active plan instead.")
        return _to_plan(plan)
    form = _part_form(part, request, plan)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                part.add(actor=request.user, request=request,
                         **{part.parent_arg: parent}, **form.cleaned_data)  # fmt: skip
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"The {part.label} was added.")
                return redirect("clinical:plan-edit", public_id=plan.public_id)
    heading = f"Add a{'n' if part.label[0] in 'aeiou' else ''} {part.label}"
    return _render_part(request, plan, form, heading, None if parent is plan else parent, status)


@login_required
def plan_part_edit(request: HttpRequest, kind: str, public_id: Any) -> HttpResponse:
    part = _kind(kind)
    obj, plan = _fetch(request, part.model, public_id)
    if plan.status != S.DRAFT:
        messages.error(request, "Only a draft is edited; revise the active plan instead.")
        return _to_plan(plan)
    form = _part_form(part, request, plan, initial={f: getattr(obj, f) for f in part.fields})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                part.update(actor=request.user, request=request,
                            **{part.arg: obj}, **form.cleaned_data)  # fmt: skip
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"The {part.label} was saved.")
                return redirect("clinical:plan-edit", public_id=plan.public_id)
    return _render_part(request, plan, form, f"Edit the {part.label}", None, status)


@login_required
@require_POST
def plan_part_remove(request: HttpRequest, kind: str, public_id: Any) -> HttpResponse:
    part = _kind(kind)
    obj, plan = _fetch(request, part.model, public_id)
    try:
        part.remove(actor=request.user, request=request, **{part.arg: obj})
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"The {part.label} was removed.")
    return _to_plan(plan)


# --- signatures -----------------------------------------------------------------------------


def _signed_message(plan: TreatmentPlan) -> str:
    if plan.status == S.ACTIVE:
        return f"Plan signed and in effect; first review due {plan.next_review_on:%b %d, %Y}."
    return "Signature recorded; the plan takes effect when every signature is in."


@login_required
def plan_sign_clinician(request: HttpRequest, public_id: Any) -> HttpResponse:
    plan = _plan(request, public_id, Perm.NOTE_WRITE)
    if plan.status != S.DRAFT:
        messages.error(request, "This plan is already signed.")
        return _to_plan(plan)
    form = ClinicianSignForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                plan = services.plan_sign_clinician(actor=request.user, plan=plan, request=request)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _signed_message(plan))
                return _to_plan(plan)
    selectors.plan_load_tree(plan)
    context = {"plan": plan, "patient": plan.patient, "form": form, "who": "clinician",
               "incomplete": services.plan_incomplete_reasons(plan)}  # fmt: skip
    return render(request, "clinical/plan_sign.html", context, status=status)


@login_required
def plan_sign_patient(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The patient types their name (and a guardian theirs for a minor), witnessed by the
    signed-in clinician."""
    plan = _plan(request, public_id, Perm.NOTE_WRITE)
    if plan.status != S.DRAFT:
        messages.error(request, "This plan is already signed.")
        return _to_plan(plan)
    form = PatientSignForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                plan = services.plan_sign_patient(
                    actor=request.user, plan=plan, request=request, **form.cleaned_data
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _signed_message(plan))
                return _to_plan(plan)
    selectors.plan_load_tree(plan)
    today = plan.episode.program.site.today()
    context = {"plan": plan, "patient": plan.patient, "form": form, "who": "patient",
               "minor": services.patient_is_minor_on(plan, today)}  # fmt: skip
    return render(request, "clinical/plan_sign.html", context, status=status)


# --- reviews --------------------------------------------------------------------------------


@login_required
def plan_review_create(request: HttpRequest, public_id: Any) -> HttpResponse:
    plan = _plan(request, public_id, Perm.NOTE_WRITE)
    if plan.status != S.ACTIVE:
        messages.error(request, "Only the active plan is reviewed.")
        return _to_plan(plan)
    selectors.plan_load_tree(plan)
    objectives = [o for p in plan.problems.all() for g in p.goals.all() for o in g.objectives.all()]
    today = plan.episode.program.site.today()
    form = ReviewForm(request.POST or None, objectives=objectives, initial={"reviewed_on": today})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.plan_review_record(
                    actor=request.user, plan=plan, request=request,
                    reviewed_on=form.cleaned_data["reviewed_on"],
                    summary=form.cleaned_data["summary"], progress=form.progress(),
                )  # fmt: skip
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                plan.refresh_from_db()
                messages.success(
                    request, f"Review recorded; next review due {plan.next_review_on:%b %d, %Y}."
                )
                return redirect("clinical:plan-detail", public_id=plan.public_id)
    context = {"plan": plan, "patient": plan.patient, "form": form, "today": today,
               **_review_state(plan, today)}  # fmt: skip
    return render(request, "clinical/plan_review_form.html", context, status=status)


urlpatterns = [
    path("plans/episode/<uuid:episode_id>/", plan_episode, name="plan-episode"),
    path("plans/episode/<uuid:episode_id>/start/", plan_create, name="plan-create"),
    path("plans/<uuid:public_id>/", plan_detail, name="plan-detail"),
    path("plans/<uuid:public_id>/edit/", plan_edit, name="plan-edit"),
    path("plans/<uuid:public_id>/revise/", plan_revise, name="plan-revise"),
    path("plans/<uuid:public_id>/sign/clinician/", plan_sign_clinician,
         name="plan-sign-clinician"),
    path("plans/<uuid:public_id>/sign/patient/", plan_sign_patient, name="plan-sign-patient"),
    path("plans/<uuid:public_id>/review/", plan_review_create, name="plan-review-create"),
    path("plans/add/<str:kind>/<uuid:parent_id>/", plan_part_add, name="plan-part-add"),
    path("plans/<str:kind>/<uuid:public_id>/edit/", plan_part_edit, name="plan-part-edit"),
    path("plans/<str:kind>/<uuid:public_id>/remove/", plan_part_remove, name="plan-part-remove"),
]  # fmt: skip
