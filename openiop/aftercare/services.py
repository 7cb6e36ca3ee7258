"""Aftercare writes: start the plan at discharge, its components, engagement, follow-up contacts.

A plan belongs to the episode that *ended* treatment: a step up or step down closes a segment
with TEDS reason 4 and care goes on in the next segment, so that segment's discharge gets the
plan (and so does the patient's follow-up schedule). Starting the plan creates one ``FollowUp``
per ``OPENIOP_FOLLOW_UP_DAYS`` offset, due that many days after discharge: the follow-up work
list is built from those rows, so the schedule is fixed when the plan starts and a later change
of the setting does not move follow-ups already promised to a program's outcome report.

A follow-up ends one of two ways: *completed* (someone reached the patient and recorded the
answers) or *closed* without contact (the patient declined, died, the window passed). A closed
follow-up leaves the work list but stays a non-response in the outcome report: it is never
counted as a success (``openiop.aftercare.rules.use_outcome``).

Every write runs in one transaction with its audit row (category CLINICAL). ``actor=None`` is
accepted for the demo and commands; a signed-in actor needs ``Perm.AFTERCARE_MANAGE`` in the
row's organization. Bad input raises ``ValidationError`` naming the field, before anything is
written. Edits of an existing plan or follow-up carry the ``version`` the user saw
(``UPDATE ... WHERE version = ?``): a stale save is refused, never silently overwritten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.permissions import Perm
from openiop.aftercare import rules
from openiop.aftercare.models import (
    AftercareComponent,
    AftercarePlan,
    ComponentKind,
    EngagementEntry,
    FollowUp,
    FollowUpAttempt,
)
from openiop.core.access import require_perm
from openiop.core.actors import user_or_none
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode, TedsDischargeReason, TedsSubstance
from openiop.organizations.models import Program

CAT = AuditEvent.Category.CLINICAL

#: TEDS EMPLOY codes asked at a follow-up (domain.md §8).
EMPLOYMENT_CHOICES: tuple[tuple[int, str], ...] = (
    (1, "Full-time"),
    (2, "Part-time"),
    (3, "Unemployed (looking for work)"),
    (4, "Not in the labour force (student, retired, homemaker, disabled ...)"),
)
#: TEDS LIVARAG codes.
LIVING_CHOICES: tuple[tuple[int, str], ...] = (
    (1, "Homeless"),
    (2, "Dependent living (supervised, sober living, with family support ...)"),
    (3, "Independent living"),
)
PHQ9_MAX = 27
GAD7_MAX = 21
ARRESTS_MAX = 30
MAX_TEXT = 300

#: Why a follow-up is closed without contact (stored in its notes and the audit row).
CLOSE_REASONS: dict[str, str] = {
    "unreachable": "Could not be reached after repeated attempts",
    "window_passed": "The follow-up window passed without contact",
    "declined": "The patient declined follow-up",
    "died": "The patient died",
    "other": "Other reason",
}


@dataclass(frozen=True)
class ComponentSpec:
    """One component to add when the plan starts (``starts_on`` None: the plan's start)."""

    kind: str
    provider: str = ""
    schedule: str = ""
    starts_on: dt.date | None = None
    program: Program | None = None


# --- helpers -------------------------------------------------------------------------------------


def _allow(actor: Any, organization_id: int) -> None:
    if actor is None:
        return  # the demo or a command
    if getattr(actor, "pk", None) is None:
        raise PermissionDenied("a signed-in staff member must do this")
    require_perm(actor, Perm.AFTERCARE_MANAGE)
    if actor.organization_id != organization_id:
        raise PermissionDenied("the record belongs to another organization")


def _patient_reporting(actor: Any, plan: AftercarePlan, source: str) -> bool:
    """The patient's own portal account logging their engagement (a check-in)."""
    account = getattr(actor, "portal_account", None) if getattr(actor, "is_portal", False) else None
    return (
        source == EngagementEntry.Source.PATIENT
        and account is not None
        and account.is_active
        and account.kind == "patient"
        and account.patient_id == plan.patient_id
        and account.organization_id == plan.organization_id
    )


def _audit(
    actor: Any, verb: str, obj: Any, patient: Any, request: HttpRequest | None, **detail: Any
) -> None:
    audit_log(
        actor=actor, action=f"openiop.aftercare.{verb}", category=CAT, obj=obj, patient=patient,
        request=request, detail=detail,
    )  # fmt: skip


def _today(plan: AftercarePlan) -> dt.date:
    """Today at the site of the episode the plan follows."""
    return plan.episode.program.site.today()


def _text(value: Any, field: str, max_length: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({field: "Enter text."})
    text = value.strip()
    if len(text) > max_length:
        raise ValidationError({field: f"Keep this to {max_length} characters or fewer."})
    return text


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationError({field: "Enter a date."})
    return value


def _count(value: Any, field: str, top: int, what: str) -> int | None:
    """An optional whole number 0..top (None: not asked, or the patient did not answer)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({field: f"{what}: enter a whole number."})
    if not 0 <= value <= top:
        raise ValidationError({field: f"{what}: enter a number from 0 to {top}."})
    return value


def _optional_bool(value: Any, field: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ValidationError({field: "Answer yes, no, or leave it unanswered."})
    return value


def _code(value: Any, field: str, choices: Iterable[tuple[int, str]], what: str) -> int | None:
    if value is None:
        return None
    codes = [c for c, _ in choices]
    if isinstance(value, bool) or value not in codes:
        raise ValidationError({field: f"Choose one of the {what} answers."})
    return int(value)


def _fmt(day: dt.date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def _plan_window(plan: AftercarePlan) -> str:
    return f"{_fmt(plan.starts_on)} to {_fmt(plan.ends_on)}"


def time_point_label(offset_days: int) -> str:
    """``30`` -> ``"30-day"``, the way staff name a follow-up."""
    return f"{offset_days}-day"


# --- the plan ------------------------------------------------------------------------------------


def aftercare_plan_blocker(episode: Episode) -> str:
    """Why this episode cannot get an aftercare plan, or "" when it can."""
    if episode.status != Episode.Status.DISCHARGED or episode.discharged_on is None:
        return "An aftercare plan starts at discharge; this episode is not discharged."
    if episode.discharge_reason == TedsDischargeReason.TRANSFERRED:
        return (
            "This episode ended in a transfer, so treatment went on elsewhere; the aftercare "
            "plan belongs to the discharge that ends the course of treatment."
        )
    if episode.discharge_reason == TedsDischargeReason.DEATH:
        return "The patient died; there is no aftercare to plan."
    return ""


def _component_values(
    plan: AftercarePlan,
    *,
    kind: Any,
    provider: Any,
    schedule: Any,
    starts_on: Any,
    program: Program | None,
) -> dict[str, Any]:
    if kind not in ComponentKind.values:
        raise ValidationError({"kind": "Choose the kind of aftercare."})
    start = plan.starts_on if starts_on is None else _date(starts_on, "starts_on")
    if not plan.starts_on <= start <= plan.ends_on:
        raise ValidationError(
            {"starts_on": f"A component starts within the plan ({_plan_window(plan)})."}
        )
    if program is not None and program.organization_id != plan.organization_id:
        raise ValidationError({"program": "Unknown program."})
    return {
        "kind": kind,
        "provider": _text(provider, "provider", 200),
        "schedule": _text(schedule, "schedule", 200),
        "starts_on": start,
        "program": program,
    }


@transaction.atomic
def aftercare_plan_create(
    *,
    actor: Any,
    episode: Episode,
    starts_on: dt.date | None = None,
    notes: str = "",
    components: Iterable[ComponentSpec] = (),
    request: HttpRequest | None = None,
) -> AftercarePlan:
    """Start the aftercare plan of a discharged episode, with its follow-up schedule.

    ``starts_on`` defaults to the day after discharge; the plan runs ``OPENIOP_AFTERCARE_MONTHS``
    calendar months (its last day is the day before the same day-of-month that many months on).
    """
    _allow(actor, episode.organization_id)
    blocker = aftercare_plan_blocker(episode)
    if blocker:
        raise ValidationError({"episode": blocker})
    discharged_on = episode.discharged_on
    assert discharged_on is not None
    start = (
        discharged_on + dt.timedelta(days=1) if starts_on is None else _date(starts_on, "starts_on")
    )
    if start < discharged_on:
        raise ValidationError(
            {"starts_on": f"Aftercare starts on or after the discharge ({_fmt(discharged_on)})."}
        )
    if AftercarePlan.objects.filter(episode=episode).exists():
        raise ValidationError({"episode": "This episode already has an aftercare plan."})
    user = user_or_none(actor)
    plan = AftercarePlan(
        organization_id=episode.organization_id,
        patient_id=episode.patient_id,
        episode=episode,
        starts_on=start,
        ends_on=rules.aftercare_plan_ends_on(start, settings.OPENIOP_AFTERCARE_MONTHS),
        notes=_text(notes, "notes", 5000),
        created_by=user,
        updated_by=user,
    )
    values = []
    for number, spec in enumerate(components, start=1):
        try:
            values.append(
                _component_values(
                    plan,
                    kind=spec.kind,
                    provider=spec.provider,
                    schedule=spec.schedule,
                    starts_on=spec.starts_on,
                    program=spec.program,
                )  # fmt: skip
            )
        except ValidationError as exc:  # name the row: the plan has fields of the same names
            raise ValidationError(
                {"components": [f"Component {number}: {m}" for m in exc.messages]}
            ) from None
    try:
        with transaction.atomic():  # a concurrent start of the same plan: a field error
            plan.save()
    except IntegrityError:
        raise ValidationError({"episode": "This episode already has an aftercare plan."}) from None
    AftercareComponent.objects.bulk_create(
        AftercareComponent(
            organization_id=plan.organization_id, plan=plan, created_by=user, updated_by=user, **v
        )
        for v in values
    )
    due = rules.follow_ups_due(discharged_on, settings.OPENIOP_FOLLOW_UP_DAYS)
    FollowUp.objects.bulk_create(
        FollowUp(
            organization_id=plan.organization_id, plan=plan, patient_id=plan.patient_id,
            offset_days=d.offset_days, due_on=d.due_on, created_by=user, updated_by=user,
        )
        for d in due
    )  # fmt: skip
    _audit(
        actor, "plan.create", plan, episode.patient, request,
        episode=str(episode.public_id), starts_on=plan.starts_on.isoformat(),
        ends_on=plan.ends_on.isoformat(), components=[v["kind"] for v in values],
        follow_ups=[d.due_on.isoformat() for d in due],
    )  # fmt: skip
    return plan


@transaction.atomic
def aftercare_plan_update(
    *,
    actor: Any,
    plan: AftercarePlan,
    notes: str,
    ends_on: dt.date,
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> AftercarePlan:
    """Change the plan's notes or its last day (e.g. extend it); refused if someone saved
    first (``expected_version``: the version the user saw; None: the one loaded in ``plan``)."""
    _allow(actor, plan.organization_id)
    end = _date(ends_on, "ends_on")
    if end < plan.starts_on:
        raise ValidationError(
            {"ends_on": f"The plan cannot end before it starts ({_fmt(plan.starts_on)})."}
        )
    text = _text(notes, "notes", 5000)
    changed = [
        name for name, value in (("notes", text), ("ends_on", end)) if getattr(plan, name) != value
    ]
    version = plan.version if expected_version is None else expected_version
    updated = AftercarePlan.objects.filter(pk=plan.pk, version=version).update(
        notes=text, ends_on=end, version=F("version") + 1, updated_at=timezone.now(),
        updated_by=user_or_none(actor),
    )  # fmt: skip
    if updated != 1:
        raise ValidationError(
            {"version": "Someone else changed this plan meanwhile; reload it and try again."}
        )
    before = plan.ends_on
    plan.refresh_from_db()
    _audit(
        actor, "plan.update", plan, plan.patient, request, changed=changed,
        ends_on={"from": before.isoformat(), "to": end.isoformat()} if "ends_on" in changed
        else None,
    )  # fmt: skip
    return plan


# --- components and engagement -------------------------------------------------------------------


@transaction.atomic
def component_add(
    *,
    actor: Any,
    plan: AftercarePlan,
    kind: str,
    provider: str = "",
    schedule: str = "",
    starts_on: dt.date | None = None,
    program: Program | None = None,
    request: HttpRequest | None = None,
) -> AftercareComponent:
    """Add a component (``program``: an aftercare group this organization runs, whose
    attendance then counts as engagement)."""
    _allow(actor, plan.organization_id)
    values = _component_values(
        plan, kind=kind, provider=provider, schedule=schedule, starts_on=starts_on,
        program=program,
    )  # fmt: skip
    user = user_or_none(actor)
    component = AftercareComponent.objects.create(
        organization_id=plan.organization_id, plan=plan, created_by=user, updated_by=user, **values
    )
    _audit(
        actor, "component.create", component, plan.patient, request, plan=str(plan.public_id),
        kind=component.kind, starts_on=component.starts_on.isoformat(),
        program=str(program.public_id) if program else None,
    )  # fmt: skip
    return component


@transaction.atomic
def component_end(
    *,
    actor: Any,
    component: AftercareComponent,
    ends_on: dt.date,
    request: HttpRequest | None = None,
) -> AftercareComponent:
    """Record the last day of a component (the patient stopped going, therapy finished)."""
    plan = component.plan
    _allow(actor, plan.organization_id)
    end = _date(ends_on, "ends_on")
    if component.ends_on is not None:
        raise ValidationError(
            {"ends_on": f"This component already ended on {_fmt(component.ends_on)}."}
        )
    if end < component.starts_on:
        raise ValidationError(
            {"ends_on": f"It cannot end before it started ({_fmt(component.starts_on)})."}
        )
    if end > _today(plan):
        raise ValidationError({"ends_on": "Record the end on or after the day it happens."})
    updated = AftercareComponent.objects.filter(pk=component.pk, ends_on__isnull=True).update(
        ends_on=end, updated_at=timezone.now(), updated_by=user_or_none(actor)
    )
    if updated != 1:
        raise ValidationError({"ends_on": "Someone else ended this component meanwhile."})
    component.ends_on = end
    _audit(
        actor, "component.end", component, plan.patient, request, plan=str(plan.public_id),
        ends_on=end.isoformat(),
    )  # fmt: skip
    return component


@transaction.atomic
def engagement_log(
    *,
    actor: Any,
    component: AftercareComponent,
    occurred_on: dt.date,
    source: str = EngagementEntry.Source.STAFF,
    note: str = "",
    request: HttpRequest | None = None,
) -> EngagementEntry:
    """Log one contact with a component (a meeting attended, a therapy visit kept)."""
    plan = component.plan
    if not _patient_reporting(actor, plan, source):
        _allow(actor, plan.organization_id)
    day = _date(occurred_on, "occurred_on")
    if source not in EngagementEntry.Source.values:
        raise ValidationError({"source": "Say who reported it: staff or the patient."})
    if day > _today(plan):
        raise ValidationError({"occurred_on": "The date cannot be in the future."})
    if day < plan.starts_on:
        raise ValidationError(
            {"occurred_on": f"The aftercare plan starts on {_fmt(plan.starts_on)}; engagement "
                            "before that is part of treatment, not aftercare."}
        )  # fmt: skip
    if day > plan.ends_on:
        raise ValidationError(
            {"occurred_on": f"The plan ended on {_fmt(plan.ends_on)}; extend the plan first."}
        )
    if day < component.starts_on:
        raise ValidationError(
            {"occurred_on": f"{component} starts on {_fmt(component.starts_on)}."}
        )
    if component.ends_on is not None and day > component.ends_on:
        raise ValidationError({"occurred_on": f"{component} ended on {_fmt(component.ends_on)}."})
    user = user_or_none(actor)
    entry = EngagementEntry.objects.create(
        organization_id=plan.organization_id, component=component, occurred_on=day,
        source=source, note=_text(note, "note"), created_by=user, updated_by=user,
    )  # fmt: skip
    _audit(
        actor, "engagement.create", entry, plan.patient, request, plan=str(plan.public_id),
        component=str(component.public_id), occurred_on=day.isoformat(), source=source,
    )  # fmt: skip
    return entry


# --- follow-ups ----------------------------------------------------------------------------------


def _check_pending(follow_up: FollowUp, field: str = "__all__") -> None:
    if follow_up.status == FollowUp.Status.COMPLETED:
        raise ValidationError({field: "This follow-up is already completed."})
    if follow_up.status == FollowUp.Status.CLOSED:
        raise ValidationError({field: "This follow-up was closed without contact."})


def _discharged_on(follow_up: FollowUp) -> dt.date:
    discharged = follow_up.plan.episode.discharged_on
    assert discharged is not None  # a plan exists only for a discharged episode
    return discharged


@transaction.atomic
def follow_up_attempt_record(
    *,
    actor: Any,
    follow_up: FollowUp,
    attempted_at: dt.datetime,
    channel: str = FollowUpAttempt.Channel.PHONE,
    result: str,
    note: str = "",
    request: HttpRequest | None = None,
) -> FollowUpAttempt:
    """Record one try at reaching the patient, reached or not (the response rate and the
    "unreachable" decision rest on these)."""
    plan = follow_up.plan
    _allow(actor, plan.organization_id)
    _check_pending(follow_up)
    if not isinstance(attempted_at, dt.datetime) or timezone.is_naive(attempted_at):
        raise ValidationError({"attempted_at": "Enter the date and time of the attempt."})
    if attempted_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"attempted_at": "The attempt cannot be in the future."})
    tz = plan.episode.program.site.tz
    discharged = _discharged_on(follow_up)
    if attempted_at.astimezone(tz).date() < discharged:
        raise ValidationError(
            {"attempted_at": f"The patient was discharged on {_fmt(discharged)}; a follow-up "
                             "call comes after that."}
        )  # fmt: skip
    if channel not in FollowUpAttempt.Channel.values:
        raise ValidationError({"channel": "Choose how you tried to reach the patient."})
    if result not in FollowUpAttempt.Result.values:
        raise ValidationError({"result": "Choose what happened."})
    user = user_or_none(actor)
    attempt = FollowUpAttempt.objects.create(
        organization_id=plan.organization_id, follow_up=follow_up, attempted_at=attempted_at,
        channel=channel, result=result, note=_text(note, "note"), created_by=user,
        updated_by=user,
    )  # fmt: skip
    _audit(
        actor, "follow_up_attempt.create", attempt, follow_up.patient, request,
        follow_up=str(follow_up.public_id), offset_days=follow_up.offset_days, result=result,
        channel=channel,
    )  # fmt: skip
    return attempt


def _substance_days(value: Any) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError({"substance_days": "Enter days of use per substance."})
    out: dict[str, int] = {}
    for key, days in value.items():
        try:
            code = int(key)
        except (TypeError, ValueError):
            code = -1
        if code not in TedsSubstance.values or code == TedsSubstance.NONE:
            raise ValidationError({"substance_days": f"Unknown substance code {key!r}."})
        if days is None:
            continue
        label = TedsSubstance(code).label
        counted = _count(days, "substance_days", rules.LOOKBACK_DAYS, f"Days of {label} use")
        assert counted is not None
        out[str(code)] = counted
    return out


@transaction.atomic
def follow_up_complete(
    *,
    actor: Any,
    follow_up: FollowUp,
    contacted_on: dt.date,
    any_use_since_last: bool | None,
    days_used_30: int | None,
    substance_days: Mapping[str, int | None] | None = None,
    employment: int | None = None,
    living: int | None = None,
    arrests_30: int | None = None,
    in_treatment: bool | None = None,
    phq9: int | None = None,
    gad7: int | None = None,
    notes: str = "",
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> FollowUp:
    """Record the answers of a reached follow-up and mark it completed.

    An answer left None was not asked or not given. The answers must agree with each other:
    days of use overall are at least the days of any one substance, and "no use since the last
    contact" cannot come with days of use in the past 30 days (the outcome report would have to
    guess which one is true). ``expected_version``: the version the user's form was built from
    (None: the one loaded in ``follow_up``).
    """
    plan = follow_up.plan
    _allow(actor, plan.organization_id)
    _check_pending(follow_up)
    day = _date(contacted_on, "contacted_on")
    if day > _today(plan):
        raise ValidationError({"contacted_on": "The date cannot be in the future."})
    discharged = _discharged_on(follow_up)
    if day < discharged:
        raise ValidationError(
            {"contacted_on": f"The patient was discharged on {_fmt(discharged)}; the follow-up "
                             "contact comes after that."}
        )  # fmt: skip
    any_use = _optional_bool(any_use_since_last, "any_use_since_last")
    days = _count(days_used_30, "days_used_30", rules.LOOKBACK_DAYS, "Days of use")
    per_substance = _substance_days(substance_days)
    top = max(per_substance.values(), default=0)
    if top and days is None:
        raise ValidationError(
            {"days_used_30": "Enter the days of use of any substance in the past 30 days (at "
                             f"least {top}, the most for one substance)."}
        )  # fmt: skip
    if days is not None and days < top:
        raise ValidationError(
            {"days_used_30": f"Days of use of any substance ({days}) cannot be fewer than the "
                             f"days of one substance ({top})."}
        )  # fmt: skip
    if any_use is False and days:
        raise ValidationError(
            {"any_use_since_last": "No use since the last contact contradicts "
                                   f"{days} day{'s' if days != 1 else ''} of use in the past 30 "
                                   "days; check both answers with the patient."}
        )  # fmt: skip
    values = {
        "status": FollowUp.Status.COMPLETED,
        "contacted_on": day,
        "contacted_by": user_or_none(actor),
        "any_use_since_last": any_use,
        "days_used_30": days,
        "substance_days": per_substance,
        "employment": _code(employment, "employment", EMPLOYMENT_CHOICES, "employment"),
        "living": _code(living, "living", LIVING_CHOICES, "living arrangement"),
        "arrests_30": _count(arrests_30, "arrests_30", ARRESTS_MAX, "Arrests"),
        "in_treatment": _optional_bool(in_treatment, "in_treatment"),
        "phq9": _count(phq9, "phq9", PHQ9_MAX, "PHQ-9 total"),
        "gad7": _count(gad7, "gad7", GAD7_MAX, "GAD-7 total"),
        "notes": _text(notes, "notes", 5000),
    }
    version = follow_up.version if expected_version is None else expected_version
    updated = FollowUp.objects.filter(
        pk=follow_up.pk, version=version, status=FollowUp.Status.PENDING
    ).update(
        **values, version=F("version") + 1, updated_at=timezone.now(),
        updated_by=user_or_none(actor),
    )  # fmt: skip
    if updated != 1:
        raise ValidationError(
            {"version": "Someone else changed this follow-up meanwhile; reload it and check "
                        "before saving again."}
        )  # fmt: skip
    follow_up.refresh_from_db()
    schedule = rules.FollowUpSchedule(
        offsets=(follow_up.offset_days,),
        window_before=settings.OPENIOP_FOLLOW_UP_WINDOW_BEFORE,
        grace_after=settings.OPENIOP_FOLLOW_UP_GRACE_AFTER,
    )
    _audit(
        actor, "follow_up.complete", follow_up, follow_up.patient, request,
        offset_days=follow_up.offset_days, contacted_on=day.isoformat(),
        in_window=schedule.time_point_for(discharged, day) == follow_up.offset_days,
    )  # fmt: skip
    return follow_up


@transaction.atomic
def follow_up_close(
    *,
    actor: Any,
    follow_up: FollowUp,
    reason: str,
    note: str = "",
    request: HttpRequest | None = None,
) -> list[FollowUp]:
    """Close a follow-up without contact so it leaves the work list; it stays a non-response
    in the outcome report. "The patient died" closes every pending follow-up of the plan.

    Returns the follow-ups closed."""
    plan = follow_up.plan
    _allow(actor, plan.organization_id)
    _check_pending(follow_up)
    if reason not in CLOSE_REASONS:
        raise ValidationError({"reason": "Choose why the follow-up is closed."})
    text = _text(note, "note")
    if reason == "other" and not text:
        raise ValidationError({"note": "Say why the follow-up is closed."})
    notes = f"Closed without contact: {CLOSE_REASONS[reason]}." + (f" {text}" if text else "")
    targets = FollowUp.objects.filter(plan=plan, status=FollowUp.Status.PENDING)
    if reason != "died":
        targets = targets.filter(pk=follow_up.pk)
    closing = list(targets.select_for_update(of=("self",)).order_by("due_on"))
    if not any(f.pk == follow_up.pk for f in closing):
        raise ValidationError({"__all__": "Someone else finished this follow-up meanwhile."})
    FollowUp.objects.filter(pk__in=[f.pk for f in closing]).update(
        status=FollowUp.Status.CLOSED, notes=notes, version=F("version") + 1,
        updated_at=timezone.now(), updated_by=user_or_none(actor),
    )  # fmt: skip
    for f in closing:
        f.refresh_from_db()
    _audit(
        actor, "follow_up.close", follow_up, follow_up.patient, request, reason=reason,
        closed=[f.offset_days for f in closing],
    )  # fmt: skip
    return closing
