"""Treatment plan writes: draft, edit its parts, sign, activate, revise, review.

A plan is written as a draft (one per episode at a time), signed by the clinician and by the
patient (and, for a patient under 18 on the signing day, by a guardian), and becomes active when
the last of those signatures is in: the day it takes effect is the local date at the site, and
the first review is due one cadence later. An active plan's content is never edited; a revision
copies it into a new draft that supersedes it once that draft is signed.

A signature covers what was signed: changing a draft's content after someone signed it clears
the signatures (the audit row says so), so no one is recorded as agreeing to text they never saw.

Every write runs in one transaction with its audit row (category CLINICAL). ``actor=None`` is
accepted for content writes by commands and the demo; signatures and reviews need a person.
Bad input raises ``ValidationError`` naming the field, before anything is written.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm
from openiop.clinical import cadence
from openiop.clinical.models import (
    ObjectiveProgress,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanReview,
    TreatmentPlan,
)
from openiop.core.access import require_perm
from openiop.core.actors import user_or_none
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode

CAT = AuditEvent.Category.CLINICAL
S = TreatmentPlan.Status
ADULT_AGE = 18
# ICD-10-CM: a letter, a digit, a digit or letter, then optionally a dot and 1-4 characters
# (F10.20 alcohol dependence, uncomplicated; F11.20 opioid dependence; F32.1; F41.1; Z59.01).
ICD10_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
OPEN_EPISODE = (Episode.Status.ADMITTED, Episode.Status.ACTIVE, Episode.Status.ON_HOLD)
MAX_INTERVAL = {"days": 366, "months": 12}

Progress = dict[str, tuple[str, str]]


# --- helpers --------------------------------------------------------------------------------


def _allow(actor: Any, perm: Perm, organization_id: int, *, person: bool = False) -> None:
    if actor is None and not person:
        return  # a command or the demo
    if getattr(actor, "pk", None) is None:
        raise PermissionDenied("a signed-in staff member must do this")
    require_perm(actor, perm)
    if actor.organization_id != organization_id:
        raise PermissionDenied("the plan belongs to another organization")


def _text(value: Any, field: str, *, required: bool = True, max_length: int = 0) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ValidationError({field: "Enter text."})
    if required and not text:
        raise ValidationError({field: "This field is required."})
    if max_length and len(text) > max_length:
        raise ValidationError({field: f"Keep this to {max_length} characters or fewer."})
    return text


def clean_icd10(value: str) -> str:
    """An ICD-10-CM code in its dotted form ("f1020" -> "F10.20"), or ValidationError."""
    code = (value or "").strip().upper().replace(" ", "")
    if not code:
        return ""
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    if not ICD10_RE.match(code):
        raise ValidationError(
            {"icd10_code": f"{value!r} is not an ICD-10-CM code; write it like F10.20 or F32.1."}
        )
    return code


def _lock(plan: TreatmentPlan) -> TreatmentPlan:
    """The plan row, locked for this transaction, so two writers cannot race a status change."""
    return TreatmentPlan.objects.select_for_update().get(pk=plan.pk)


def _draft(plan: TreatmentPlan, actor: Any) -> TreatmentPlan:
    _allow(actor, Perm.NOTE_WRITE, plan.organization_id)
    locked = _lock(plan)
    if locked.status != S.DRAFT:
        raise ValidationError(
            {"status": "Only a draft plan can be changed; revise the active plan instead."}
        )
    return locked


def _content_changed(plan: TreatmentPlan, actor: Any) -> bool:
    """Clear the signatures of a draft whose content changed; True when any was cleared."""
    if not (plan.clinician_signed_at or plan.patient_signed_at or plan.guardian_signed_at):
        TreatmentPlan.objects.filter(pk=plan.pk).update(
            updated_at=timezone.now(), updated_by=user_or_none(actor)
        )
        return False
    fields: dict[str, Any] = {
        "clinician_signed_by": None, "clinician_signed_at": None,
        "patient_signature": "", "patient_signed_at": None,
        "guardian_signature": "", "guardian_relationship": "", "guardian_signed_at": None,
    }  # fmt: skip
    TreatmentPlan.objects.filter(pk=plan.pk).update(
        **fields, updated_at=timezone.now(), updated_by=user_or_none(actor)
    )
    for name, value in fields.items():
        setattr(plan, name, value)
    return True


def _audit(
    actor: Any, verb: str, obj: Any, plan: TreatmentPlan, request: HttpRequest | None, **detail: Any
) -> None:
    audit_log(
        actor=actor,
        action=f"openiop.clinical.{verb}",
        category=CAT,
        obj=obj,
        patient=plan.patient,
        request=request,
        detail={"plan": str(plan.public_id), **detail},
    )


def _next_position(qs: Any) -> int:
    top = qs.aggregate(top=Max("position"))["top"]
    return 0 if top is None else top + 1


def _clean_cadence(interval: Any, unit: Any) -> tuple[int, str]:
    if unit not in TreatmentPlan.Unit.values:
        raise ValidationError({"review_unit": "Choose days or months."})
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise ValidationError({"review_interval": "Enter a whole number of at least 1."})
    if interval > MAX_INTERVAL[unit]:
        raise ValidationError(
            {"review_interval": f"Review at least every {MAX_INTERVAL[unit]} {unit}."}
        )
    return interval, unit


def _day(day: dt.date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def _local_today(episode: Episode) -> dt.date:
    return episode.program.site.today()


def _episode_of(plan: TreatmentPlan) -> Episode:
    return Episode.objects.select_related("program__site", "patient").get(pk=plan.episode_id)


# --- the plan -------------------------------------------------------------------------------


@transaction.atomic
def plan_create_draft(
    *, actor: Any, episode: Episode, request: HttpRequest | None = None
) -> TreatmentPlan:
    """Start an empty draft for an admitted episode, with the program's review cadence.

    The episode row is locked first, so two counselors pressing "Start plan" at once get one
    draft and one error instead of two drafts.
    """
    _allow(actor, Perm.NOTE_WRITE, episode.organization_id)
    episode = (
        Episode.objects.select_for_update(of=("self",))
        .select_related("program", "patient")
        .get(pk=episode.pk)
    )
    if episode.status not in OPEN_EPISODE or episode.admitted_on is None:
        raise ValidationError({"episode": "Plans are written for admitted, open episodes."})
    plans = TreatmentPlan.objects.filter(episode=episode)
    if plans.filter(status=S.DRAFT).exists():
        raise ValidationError({"episode": "This episode already has a draft plan."})
    if plans.filter(status=S.ACTIVE).exists():
        raise ValidationError({"episode": "This episode has an active plan; revise it instead."})
    plan = TreatmentPlan.objects.create(
        organization_id=episode.organization_id,
        episode=episode,
        patient=episode.patient,
        version=(plans.aggregate(top=Max("version"))["top"] or 0) + 1,
        review_interval=episode.program.plan_review_interval,
        review_unit=episode.program.plan_review_unit,
        created_by=user_or_none(actor),
        updated_by=user_or_none(actor),
    )
    _audit(actor, "plan.create", plan, plan, request, version=plan.version)
    return plan


@transaction.atomic
def plan_update_draft(
    *,
    actor: Any,
    plan: TreatmentPlan,
    strengths: str,
    barriers: str,
    review_interval: int,
    review_unit: str,
    request: HttpRequest | None = None,
) -> TreatmentPlan:
    """Strengths, barriers and the review cadence (e.g. 2 months for a Medicare patient)."""
    locked = _draft(plan, actor)
    strengths = _text(strengths, "strengths", required=False)
    barriers = _text(barriers, "barriers", required=False)
    interval, unit = _clean_cadence(review_interval, review_unit)
    TreatmentPlan.objects.filter(pk=locked.pk).update(
        strengths=strengths, barriers=barriers, review_interval=interval, review_unit=unit
    )
    cleared = _content_changed(locked, actor)
    locked.refresh_from_db()
    _audit(
        actor, "plan.update", locked, locked, request,
        review=cadence.describe(interval, unit), signatures_cleared=cleared,
    )  # fmt: skip
    return locked


# --- problems, goals, objectives, interventions ----------------------------------------------


def _plan_of(part: Any) -> TreatmentPlan:
    if isinstance(part, PlanProblem):
        return part.plan
    if isinstance(part, PlanGoal):
        return part.problem.plan
    if isinstance(part, PlanObjective):
        return part.goal.problem.plan
    return part.objective.goal.problem.plan


def _problem_fields(description: Any, icd10_code: Any, icd10_text: Any) -> dict[str, str]:
    return {
        "description": _text(description, "description"),
        "icd10_code": clean_icd10(icd10_code or ""),
        "icd10_text": _text(icd10_text, "icd10_text", required=False, max_length=200),
    }


def _objective_fields(plan: TreatmentPlan, text: Any, target_on: Any) -> dict[str, Any]:
    fields = {"text": _text(text, "text"), "target_on": target_on}
    if target_on is not None:
        if not isinstance(target_on, dt.date):
            raise ValidationError({"target_on": "Enter a date."})
        admitted = plan.episode.admitted_on
        if admitted is not None and target_on < admitted:
            raise ValidationError(
                {"target_on": f"The target date cannot be before admission ({_day(admitted)})."}
            )
    return fields


def _intervention_fields(
    plan: TreatmentPlan, modality: Any, frequency: Any, description: Any, responsible: Any
) -> dict[str, Any]:
    if modality not in PlanIntervention.Modality.values:
        raise ValidationError({"modality": "Choose a modality."})
    if responsible is not None and (
        not isinstance(responsible, User) or responsible.organization_id != plan.organization_id
    ):
        raise ValidationError({"responsible": "Unknown staff member."})
    return {
        "modality": modality,
        "frequency": _text(frequency, "frequency", max_length=100),
        "description": _text(description, "description", required=False),
        "responsible": responsible,
    }


def _add(
    actor: Any, plan: TreatmentPlan, model: Any, parent: dict[str, Any], fields: dict[str, Any],
    request: HttpRequest | None,
) -> Any:  # fmt: skip
    locked = _draft(plan, actor)
    part = model.objects.create(
        organization_id=plan.organization_id,
        position=_next_position(model.objects.filter(**parent)),
        created_by=user_or_none(actor),
        updated_by=user_or_none(actor),
        **parent,
        **fields,
    )
    cleared = _content_changed(locked, actor)
    name = model.__name__.removeprefix("Plan").lower()
    _audit(actor, f"plan.{name}.add", part, locked, request, signatures_cleared=cleared)
    return part


def _update(actor: Any, part: Any, fields: dict[str, Any], request: HttpRequest | None) -> Any:
    plan = _plan_of(part)
    locked = _draft(plan, actor)
    for name, value in fields.items():
        setattr(part, name, value)
    part.updated_by = user_or_none(actor)
    part.save()
    cleared = _content_changed(locked, actor)
    name = type(part).__name__.removeprefix("Plan").lower()
    _audit(actor, f"plan.{name}.update", part, locked, request, signatures_cleared=cleared)
    return part


def _remove(actor: Any, part: Any, request: HttpRequest | None) -> None:
    plan = _plan_of(part)
    locked = _draft(plan, actor)
    name = type(part).__name__.removeprefix("Plan").lower()
    # Audit first: the row (and its public id) is gone after the delete.
    cleared = _content_changed(locked, actor)
    _audit(actor, f"plan.{name}.remove", part, locked, request, signatures_cleared=cleared)
    part.delete()  # cascades to the part's goals / objectives / interventions (all draft)


@transaction.atomic
def plan_problem_add(
    *, actor: Any, plan: TreatmentPlan, description: str, icd10_code: str = "",
    icd10_text: str = "", request: HttpRequest | None = None,
) -> PlanProblem:  # fmt: skip
    fields = _problem_fields(description, icd10_code, icd10_text)
    return _add(actor, plan, PlanProblem, {"plan": plan}, fields, request)


@transaction.atomic
def plan_problem_update(
    *, actor: Any, problem: PlanProblem, description: str, icd10_code: str = "",
    icd10_text: str = "", request: HttpRequest | None = None,
) -> PlanProblem:  # fmt: skip
    fields = _problem_fields(description, icd10_code, icd10_text)
    return _update(actor, problem, fields, request)


@transaction.atomic
def plan_problem_remove(
    *, actor: Any, problem: PlanProblem, request: HttpRequest | None = None
) -> None:
    _remove(actor, problem, request)


@transaction.atomic
def plan_goal_add(
    *, actor: Any, problem: PlanProblem, text: str, request: HttpRequest | None = None
) -> PlanGoal:
    fields = {"text": _text(text, "text")}
    return _add(actor, problem.plan, PlanGoal, {"problem": problem}, fields, request)


@transaction.atomic
def plan_goal_update(
    *, actor: Any, goal: PlanGoal, text: str, request: HttpRequest | None = None
) -> PlanGoal:
    return _update(actor, goal, {"text": _text(text, "text")}, request)


@transaction.atomic
def plan_goal_remove(*, actor: Any, goal: PlanGoal, request: HttpRequest | None = None) -> None:
    _remove(actor, goal, request)


@transaction.atomic
def plan_objective_add(
    *, actor: Any, goal: PlanGoal, text: str, target_on: dt.date | None = None,
    request: HttpRequest | None = None,
) -> PlanObjective:  # fmt: skip
    plan = goal.problem.plan
    fields = _objective_fields(plan, text, target_on)
    return _add(actor, plan, PlanObjective, {"goal": goal}, fields, request)


@transaction.atomic
def plan_objective_update(
    *, actor: Any, objective: PlanObjective, text: str, target_on: dt.date | None = None,
    request: HttpRequest | None = None,
) -> PlanObjective:  # fmt: skip
    fields = _objective_fields(objective.goal.problem.plan, text, target_on)
    return _update(actor, objective, fields, request)


@transaction.atomic
def plan_objective_remove(
    *, actor: Any, objective: PlanObjective, request: HttpRequest | None = None
) -> None:
    _remove(actor, objective, request)


@transaction.atomic
def plan_intervention_add(
    *, actor: Any, objective: PlanObjective, modality: str, frequency: str,
    description: str = "", responsible: User | None = None, request: HttpRequest | None = None,
) -> PlanIntervention:  # fmt: skip
    plan = objective.goal.problem.plan
    fields = _intervention_fields(plan, modality, frequency, description, responsible)
    return _add(actor, plan, PlanIntervention, {"objective": objective}, fields, request)


@transaction.atomic
def plan_intervention_update(
    *, actor: Any, intervention: PlanIntervention, modality: str, frequency: str,
    description: str = "", responsible: User | None = None, request: HttpRequest | None = None,
) -> PlanIntervention:  # fmt: skip
    plan = intervention.objective.goal.problem.plan
    fields = _intervention_fields(plan, modality, frequency, description, responsible)
    return _update(actor, intervention, fields, request)


@transaction.atomic
def plan_intervention_remove(
    *, actor: Any, intervention: PlanIntervention, request: HttpRequest | None = None
) -> None:
    _remove(actor, intervention, request)


# --- signing and activation -----------------------------------------------------------------


def plan_incomplete_reasons(plan: TreatmentPlan) -> list[str]:
    """What a draft still lacks before the clinician can sign it (empty when complete)."""
    problems = list(plan.problems.prefetch_related("goals__objectives__interventions"))
    if not problems:
        return ["Add at least one problem."]
    reasons: list[str] = []
    for p_index, problem in enumerate(problems, 1):
        goals = list(problem.goals.all())
        if not goals:
            reasons.append(f"Problem {p_index} has no goal.")
        for g_index, goal in enumerate(goals, 1):
            objectives = list(goal.objectives.all())
            if not objectives:
                reasons.append(f"Goal {p_index}.{g_index} has no measurable objective.")
            for o_index, objective in enumerate(objectives, 1):
                if not list(objective.interventions.all()):
                    reasons.append(f"Objective {p_index}.{g_index}.{o_index} has no intervention.")
    return reasons


def patient_is_minor_on(plan: TreatmentPlan, day: dt.date) -> bool:
    return plan.patient.age_on(day) < ADULT_AGE


def _needs_guardian(plan: TreatmentPlan) -> bool:
    if plan.patient_signed_at is None:
        return False
    episode = _episode_of(plan)
    signed_on = timezone.localtime(plan.patient_signed_at, episode.program.site.tz).date()
    return patient_is_minor_on(plan, signed_on)


def _activate_if_signed(
    actor: Any, plan: TreatmentPlan, request: HttpRequest | None
) -> TreatmentPlan:
    if plan.clinician_signed_at is None or plan.patient_signed_at is None:
        return plan
    if _needs_guardian(plan) and plan.guardian_signed_at is None:
        return plan
    episode = _episode_of(plan)
    effective = _local_today(episode)
    previous = list(
        TreatmentPlan.objects.select_for_update()
        .filter(episode_id=plan.episode_id, status=S.ACTIVE)
        .exclude(pk=plan.pk)
    )
    # Supersede first: the database allows one active plan per episode.
    TreatmentPlan.objects.filter(pk__in=[p.pk for p in previous]).update(
        status=S.SUPERSEDED, updated_at=timezone.now()
    )
    plan.status = S.ACTIVE
    plan.effective_on = effective
    plan.next_review_on = cadence.next_review_due(effective, plan.review_interval, plan.review_unit)
    plan.updated_by = user_or_none(actor)
    plan.save(
        update_fields=["status", "effective_on", "next_review_on", "updated_by", "updated_at"]
    )
    _audit(
        actor, "plan.activate", plan, plan, request,
        effective_on=effective.isoformat(), next_review_on=plan.next_review_on.isoformat(),
        superseded=[str(p.public_id) for p in previous],
    )  # fmt: skip
    return plan


@transaction.atomic
def plan_sign_clinician(
    *, actor: Any, plan: TreatmentPlan, request: HttpRequest | None = None
) -> TreatmentPlan:
    """The clinician's signature on a complete draft; activates the plan if the patient (and a
    minor's guardian) already signed."""
    _allow(actor, Perm.NOTE_WRITE, plan.organization_id, person=True)
    locked = _draft(plan, actor)
    if locked.clinician_signed_at is not None:
        raise ValidationError({"status": "The clinician has already signed this plan."})
    reasons = plan_incomplete_reasons(locked)
    if reasons:
        raise ValidationError({"plan": reasons})
    locked.clinician_signed_by = actor
    locked.clinician_signed_at = timezone.now()
    locked.updated_by = actor
    locked.save(
        update_fields=["clinician_signed_by", "clinician_signed_at", "updated_by", "updated_at"]
    )
    _audit(actor, "plan.sign_clinician", locked, locked, request)
    return _activate_if_signed(actor, locked, request)


@transaction.atomic
def plan_sign_patient(
    *,
    actor: Any,
    plan: TreatmentPlan,
    patient_signature: str,
    guardian_signature: str = "",
    guardian_relationship: str = "",
    request: HttpRequest | None = None,
) -> TreatmentPlan:
    """Record the patient's typed signature (and a guardian's, required when the patient is
    under 18 on the signing day), witnessed by the signed-in staff member ``actor``."""
    _allow(actor, Perm.NOTE_WRITE, plan.organization_id, person=True)
    locked = _draft(plan, actor)
    if locked.patient_signed_at is not None:
        raise ValidationError({"patient_signature": "The patient has already signed this plan."})
    if not locked.problems.exists():
        raise ValidationError({"plan": "The plan is empty; add its problems before signing."})
    signature = _text(patient_signature, "patient_signature", max_length=200)
    guardian = _text(guardian_signature, "guardian_signature", required=False, max_length=200)
    relationship = _text(
        guardian_relationship, "guardian_relationship", required=False, max_length=60
    )
    episode = _episode_of(locked)
    today = _local_today(episode)
    if patient_is_minor_on(locked, today) and not guardian:
        raise ValidationError(
            {"guardian_signature": "The patient is under 18: a parent or guardian must sign too."}
        )
    if guardian and not relationship:
        raise ValidationError(
            {"guardian_relationship": "Give the signer's relationship to the patient."}
        )
    now = timezone.now()
    locked.patient_signature = signature
    locked.patient_signed_at = now
    fields = ["patient_signature", "patient_signed_at", "updated_by", "updated_at"]
    if guardian:
        locked.guardian_signature = guardian
        locked.guardian_relationship = relationship
        locked.guardian_signed_at = now
        fields += ["guardian_signature", "guardian_relationship", "guardian_signed_at"]
    locked.updated_by = actor
    locked.save(update_fields=fields)
    _audit(
        actor, "plan.sign_patient", locked, locked, request,
        guardian=bool(guardian), witnessed_by=actor.get_username(),
    )  # fmt: skip
    return _activate_if_signed(actor, locked, request)


# --- revision -------------------------------------------------------------------------------


@transaction.atomic
def plan_revise(
    *, actor: Any, plan: TreatmentPlan, request: HttpRequest | None = None
) -> TreatmentPlan:
    """Copy an active plan, with all its problems, goals, objectives and interventions, into a
    new draft that supersedes it when signed. The active plan stays in force meanwhile."""
    _allow(actor, Perm.NOTE_WRITE, plan.organization_id)
    Episode.objects.select_for_update(of=("self",)).filter(pk=plan.episode_id).first()
    locked = _lock(plan)
    if locked.status != S.ACTIVE:
        raise ValidationError({"status": "Only the active plan can be revised."})
    siblings = TreatmentPlan.objects.filter(episode_id=locked.episode_id)
    if siblings.filter(status=S.DRAFT).exists():
        raise ValidationError({"episode": "This episode already has a draft plan."})
    by = user_or_none(actor)
    org = locked.organization_id
    draft = TreatmentPlan.objects.create(
        organization_id=org,
        episode_id=locked.episode_id,
        patient_id=locked.patient_id,
        version=(siblings.aggregate(top=Max("version"))["top"] or 0) + 1,
        supersedes=locked,
        strengths=locked.strengths,
        barriers=locked.barriers,
        review_interval=locked.review_interval,
        review_unit=locked.review_unit,
        created_by=by,
        updated_by=by,
    )
    base = {"organization_id": org, "created_by": by, "updated_by": by}
    problems = list(locked.problems.prefetch_related("goals__objectives__interventions"))
    new_problems = PlanProblem.objects.bulk_create(
        [
            PlanProblem(plan=draft, position=p.position, description=p.description,
                        icd10_code=p.icd10_code, icd10_text=p.icd10_text, **base)
            for p in problems
        ]
    )  # fmt: skip
    goals = [(g, new) for p, new in zip(problems, new_problems, strict=True) for g in p.goals.all()]
    new_goals = PlanGoal.objects.bulk_create(
        [PlanGoal(problem=new, position=g.position, text=g.text, **base) for g, new in goals]
    )
    objectives = [
        (o, new) for (g, _), new in zip(goals, new_goals, strict=True) for o in g.objectives.all()
    ]
    new_objectives = PlanObjective.objects.bulk_create(
        [
            PlanObjective(goal=new, position=o.position, text=o.text, target_on=o.target_on, **base)
            for o, new in objectives
        ]
    )
    PlanIntervention.objects.bulk_create(
        [
            PlanIntervention(objective=new, position=i.position, modality=i.modality,
                             description=i.description, frequency=i.frequency,
                             responsible_id=i.responsible_id, **base)
            for (o, _), new in zip(objectives, new_objectives, strict=True)
            for i in o.interventions.all()
        ]
    )  # fmt: skip
    _audit(
        actor, "plan.revise", draft, draft, request,
        supersedes=str(locked.public_id), version=draft.version,
    )  # fmt: skip
    return draft


# --- reviews --------------------------------------------------------------------------------


@transaction.atomic
def plan_review_record(
    *,
    actor: Any,
    plan: TreatmentPlan,
    reviewed_on: dt.date,
    summary: str,
    progress: Progress,
    request: HttpRequest | None = None,
) -> PlanReview:
    """Record a review of the active plan with a rating for every one of its objectives.

    ``progress`` maps each objective's public id (str) to ``(rating, comment)``. The review keeps
    the date it was due (the plan's ``next_review_on`` before it, for on-time reporting); the
    next review is due one cadence after ``reviewed_on``.
    """
    _allow(actor, Perm.NOTE_WRITE, plan.organization_id, person=True)
    locked = _lock(plan)
    if locked.status != S.ACTIVE:
        raise ValidationError({"status": "Only the active plan is reviewed."})
    if not isinstance(reviewed_on, dt.date) or isinstance(reviewed_on, dt.datetime):
        raise ValidationError({"reviewed_on": "Enter a date."})
    today = _local_today(_episode_of(locked))
    if reviewed_on > today:
        raise ValidationError({"reviewed_on": "The review date cannot be in the future."})
    if locked.effective_on and reviewed_on < locked.effective_on:
        raise ValidationError({"reviewed_on": "The review cannot be before the plan took effect."})
    last = locked.reviews.aggregate(last=Max("reviewed_on"))["last"]
    if last is not None and reviewed_on < last:
        raise ValidationError(
            {"reviewed_on": f"A later review ({_day(last)}) is already recorded."}
        )
    summary = _text(summary, "summary")
    objectives = {
        str(o.public_id): o
        for o in PlanObjective.objects.filter(goal__problem__plan=locked).order_by(
            "goal__problem__position", "goal__position", "position", "id"
        )
    }
    progress = {str(k): v for k, v in (progress or {}).items()}
    unknown = sorted(set(progress) - set(objectives))
    if unknown:
        raise ValidationError({"progress": "Unknown objective(s) for this plan."})
    missing = [o.text for key, o in objectives.items() if not (progress.get(key) or ("",))[0]]
    if missing:
        raise ValidationError({"progress": [f"Rate the progress on: {text}" for text in missing]})
    ratings = ObjectiveProgress.Rating.values
    rows: list[tuple[PlanObjective, str, str]] = []
    for key, objective in objectives.items():
        rating, comment = progress[key]
        if rating not in ratings:
            raise ValidationError({"progress": f"Unknown rating {rating!r}."})
        rows.append((objective, rating, _text(comment, "progress", required=False)))
    due_on = locked.next_review_on
    following = cadence.next_review_due(reviewed_on, locked.review_interval, locked.review_unit)
    review = PlanReview.objects.create(
        organization_id=locked.organization_id,
        plan=locked,
        reviewed_on=reviewed_on,
        reviewer=actor,
        summary=summary,
        due_on=due_on,
        next_review_on=following,
        created_by=actor,
        updated_by=actor,
    )
    ObjectiveProgress.objects.bulk_create(
        [
            ObjectiveProgress(
                organization_id=locked.organization_id, review=review, objective=objective,
                rating=rating, comment=comment, created_by=actor, updated_by=actor,
            )
            for objective, rating, comment in rows
        ]
    )  # fmt: skip
    locked.next_review_on = following
    locked.updated_by = actor
    locked.save(update_fields=["next_review_on", "updated_by", "updated_at"])
    _audit(
        actor, "plan.review", review, locked, request,
        reviewed_on=reviewed_on.isoformat(), due_on=due_on.isoformat() if due_on else "",
        next_review_on=following.isoformat(), late=bool(due_on and reviewed_on > due_on),
    )  # fmt: skip
    return review


# The name the brief uses.
review_record = plan_review_record
