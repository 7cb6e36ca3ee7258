"""Discharge summary writes: start (pre-filled from the record), save the draft, sign, amend.

The facts are taken from the record when the draft is started, so the clinician writes only what
the data cannot say (domain.md §5.4): TEDS reason, ASAM level at admission and at discharge,
last service date, services received (counts and hours by kind), progress per objective from the
latest plan review, medications at discharge. Narrative fields are the clinician's.

Drafts are saved with a version check (``UPDATE ... WHERE version = ?``): a second, stale save
is refused with ``DischargeSummaryConflict`` carrying the rejected text, never silently
overwriting. Signing locks the summary (``SignedDocument.save`` refuses, and database triggers
refuse UPDATE/DELETE of signed rows); corrections are linked amendments with a reason.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from openiop.attendance.models import AttendanceRecord
from openiop.clinical.models import DischargeSummary, Note
from openiop.clinical.selectors.ur import plan_in_force, plan_progress
from openiop.core.actors import user_or_none
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode, TedsDischargeReason
from openiop.reports.charts_hours import hours
from openiop.scheduling.models import Session

CAT = AuditEvent.Category.CLINICAL
TEXT_FIELDS = (
    "progress_narrative",
    "medications",
    "aftercare_plan",
    "referrals",
    "risk_at_discharge",
    "recommendations",
)


class DischargeSummaryConflict(ValidationError):
    """Someone else saved the draft first; ``texts`` holds the rejected text, unsaved."""

    def __init__(self, *, current_version: int, texts: dict[str, str]) -> None:
        super().__init__(
            {"version": "Someone else saved this summary first; your text is shown below, "
                        "not saved. Review it and save again."}
        )  # fmt: skip
        self.current_version = current_version
        self.texts = dict(texts)


def _check_org(actor: Any, organization_id: int) -> None:
    if actor is not None and getattr(actor, "organization_id", None) != organization_id:
        raise PermissionDenied("the episode belongs to another organization")


# --- the facts, from the record -----------------------------------------------------------------


def _first_segment(episode: Episode) -> Episode:
    """The episode that opened this course of treatment (step up / down makes a chain)."""
    first = episode
    while first.transferred_from_id is not None:
        first = Episode.objects.select_related("program").get(pk=first.transferred_from_id)
    return first


def services_received(episode: Episode) -> tuple[dict[str, Any], dt.date | None]:
    """Counts and hours by kind from attendance and signed notes, and the last service date.

    SUD counseling notes are not counted: they never leave their author (42 CFR 2.11)."""
    tz = episode.program.site.tz
    sessions: Counter[str] = Counter()
    minutes: Counter[str] = Counter()
    labels: dict[str, str] = {}
    days: set[dt.date] = set()
    records = (
        AttendanceRecord.objects.filter(
            episode=episode, status__in=AttendanceRecord.ATTENDED, minutes_attended__gt=0
        )
        .exclude(session__status=Session.Status.CANCELLED)
        .select_related("session")
    )
    for r in records:
        kind = r.session.kind
        labels[kind] = r.session.get_kind_display()
        sessions[kind] += 1
        minutes[kind] += r.minutes_attended or 0
        days.add(r.session.starts_at.astimezone(tz).date())
    notes = (
        Note.objects.for_org(episode.organization_id)
        .filter(episode=episode, status=Note.Status.SIGNED, amends__isnull=True)
        .exclude(kind=Note.Kind.SUD_COUNSELING)
        .only("kind", "started_at", "ended_at")
    )
    note_count: Counter[str] = Counter()
    note_minutes: Counter[str] = Counter()
    note_labels: dict[str, str] = {}
    note_days: set[dt.date] = set()
    for n in notes:
        note_labels[n.kind] = n.get_kind_display()
        note_count[n.kind] += 1
        note_minutes[n.kind] += n.duration_minutes or 0
        if n.started_at is not None:
            note_days.add(n.started_at.astimezone(tz).date())
    data = {
        "sessions": [
            {"kind": k, "label": labels[k], "count": sessions[k], "hours": hours(minutes[k])}
            for k in sorted(sessions)
        ],
        "notes": [
            {
                "kind": k,
                "label": note_labels[k],
                "count": note_count[k],
                "hours": hours(note_minutes[k]),
            }
            for k in sorted(note_count)
        ],
        "total_sessions": sum(sessions.values()),
        "total_hours": hours(sum(minutes.values())),
        "days_attended": len(days),
    }
    every = days | note_days
    return data, (max(every) if every else None)


def goal_progress(episode: Episode, on: dt.date) -> list[dict[str, Any]]:
    """One row per plan objective with the latest review rating up to ``on``."""
    plan = plan_in_force(episode, on)
    if plan is None:
        return []
    section = plan_progress(plan, on)
    rows = []
    for p in section.problems:
        for g in p.goals:
            for o in g.objectives:
                rows.append(
                    {
                        "problem": p.problem.description,
                        "goal": g.goal.text,
                        "objective": o.objective.text,
                        "rating": o.rating,
                        "rating_label": o.rating_label,
                        "reviewed_on": o.reviewed_on.isoformat() if o.reviewed_on else "",
                        "comment": o.comment,
                    }
                )
    return rows


def medications_at_discharge(episode: Episode, on: dt.date) -> str:
    """Medications taken on the discharge date, one a line; empty if the app has none."""
    try:
        from openiop.medications.models import Medication
    except ImportError:  # the medications app is optional for this summary
        return ""
    meds = (
        Medication.objects.for_org(episode.organization_id)
        .filter(patient_id=episode.patient_id)
        .filter(start_on__lte=on)
        .exclude(stop_on__lt=on)
        .select_related("prescriber")
        .order_by("name")
    )
    lines = []
    for m in meds:
        mat = " (MAT)" if m.is_mat else ""
        by = m.prescriber_display
        lines.append(
            f"{m.name} {m.dose} {m.get_route_display().lower()} {m.frequency}{mat}"
            + (f"; prescribed by {by}" if by else "")
        )
    return "\n".join(lines)


def due_on(episode: Episode) -> dt.date:
    assert episode.discharged_on is not None
    return episode.discharged_on + dt.timedelta(days=episode.program.discharge_summary_days)


# --- writes -------------------------------------------------------------------------------------


@transaction.atomic
def discharge_summary_start(
    *, actor: Any, episode: Episode, request: HttpRequest | None = None
) -> DischargeSummary:
    """Start the draft summary of a discharged episode, pre-filled from the record."""
    _check_org(actor, episode.organization_id)
    if episode.status != Episode.Status.DISCHARGED or episode.discharged_on is None:
        raise ValidationError({"episode": "Only a discharged episode gets a discharge summary."})
    if hasattr(episode, "transferred_to"):
        raise ValidationError(
            {"episode": "Treatment continued in another program after this transfer; write the "
                        "discharge summary when the course of treatment ends."}
        )  # fmt: skip
    existing = (
        DischargeSummary.objects.for_org(episode.organization_id)
        .filter(episode=episode, amends__isnull=True)
        .exists()
    )
    if existing:
        raise ValidationError({"episode": "This episode already has a discharge summary."})
    first = _first_segment(episode)
    services, last_service = services_received(episode)
    user = user_or_none(actor)
    summary = DischargeSummary.objects.create(
        organization_id=episode.organization_id,
        episode=episode,
        patient_id=episode.patient_id,
        author=actor,
        due_on=due_on(episode),
        reason_code=episode.discharge_reason,
        level_at_admission=first.program.level_of_care,
        level_at_discharge=episode.program.level_of_care,
        last_service_on=last_service,
        services=services,
        goal_progress=goal_progress(episode, episode.discharged_on),
        medications=medications_at_discharge(episode, episode.discharged_on),
        referrals="",
        aftercare_plan="",
        created_by=user,
        updated_by=user,
    )
    audit_log(
        actor=actor, action="openiop.clinical.discharge_summary.create", category=CAT,
        obj=summary, patient=episode.patient, request=request,
        detail={"due_on": summary.due_on.isoformat()},
    )  # fmt: skip
    return summary


def _clean_texts(texts: dict[str, Any]) -> dict[str, str]:
    unknown = sorted(set(texts) - set(TEXT_FIELDS))
    if unknown:
        raise ValidationError({"__all__": f"Unknown fields: {', '.join(unknown)}."})
    return {name: str(texts.get(name) or "") for name in TEXT_FIELDS if name in texts}


def _update_versioned(summary: DischargeSummary, expected_version: int, **fields: Any) -> None:
    updated = DischargeSummary.objects.filter(
        pk=summary.pk, version=expected_version, status=DischargeSummary.Status.DRAFT
    ).update(**fields, updated_at=timezone.now(), version=F("version") + 1)
    if updated != 1:
        current = (
            DischargeSummary.objects.filter(pk=summary.pk).values_list("version", "status").first()
        )
        if current is not None and current[1] == DischargeSummary.Status.SIGNED:
            raise ValidationError({"status": "The summary is signed; write an amendment."})
        raise DischargeSummaryConflict(
            current_version=current[0] if current else expected_version,
            texts={k: v for k, v in fields.items() if k in TEXT_FIELDS},
        )
    summary.refresh_from_db()


@transaction.atomic
def discharge_summary_save_draft(
    *,
    actor: Any,
    summary: DischargeSummary,
    expected_version: int,
    texts: dict[str, str],
    request: HttpRequest | None = None,
) -> DischargeSummary:
    """Save the narrative fields (``TEXT_FIELDS``) if nobody saved since ``expected_version``."""
    _check_org(actor, summary.organization_id)
    if summary.is_signed:
        raise ValidationError({"status": "The summary is signed; write an amendment."})
    clean = _clean_texts(texts)
    _update_versioned(summary, expected_version, **clean, updated_by=user_or_none(actor))
    audit_log(
        actor=actor, action="openiop.clinical.discharge_summary.save", category=CAT, obj=summary,
        patient=summary.patient, request=request,
        detail={"version": summary.version, "fields": sorted(clean)},
    )  # fmt: skip
    return summary


@transaction.atomic
def discharge_summary_sign(
    *,
    actor: Any,
    summary: DischargeSummary,
    expected_version: int,
    request: HttpRequest | None = None,
) -> DischargeSummary:
    """Sign (and lock) the summary. Its author signs; an original needs the progress narrative
    and, unless the patient died, an aftercare plan; an amendment needs some text."""
    _check_org(actor, summary.organization_id)
    if summary.is_signed:
        raise ValidationError({"status": "The summary is already signed."})
    if getattr(actor, "pk", None) is None or actor.pk != summary.author_id:
        raise PermissionDenied("only the summary's author can sign it")
    errors: dict[str, str] = {}
    if summary.amends_id is None:
        if not summary.progress_narrative.strip():
            errors["progress_narrative"] = "Describe the patient's progress before signing."
        if summary.reason_code != TedsDischargeReason.DEATH and not summary.aftercare_plan.strip():
            errors["aftercare_plan"] = "Write the aftercare plan before signing."
    elif not any(getattr(summary, f).strip() for f in TEXT_FIELDS):
        errors["progress_narrative"] = "An amendment needs text in at least one field."
    if errors:
        raise ValidationError(errors)
    _update_versioned(
        summary,
        expected_version,
        status=DischargeSummary.Status.SIGNED,
        signed_at=timezone.now(),
        signed_by=actor,
        updated_by=actor,
    )
    audit_log(
        actor=actor, action="openiop.clinical.discharge_summary.sign", category=CAT, obj=summary,
        patient=summary.patient, request=request,
        detail={"version": summary.version,
                "amends": str(summary.amends.public_id) if summary.amends else ""},
    )  # fmt: skip
    return summary


@transaction.atomic
def discharge_summary_amend(
    *,
    actor: Any,
    summary: DischargeSummary,
    reason: str,
    request: HttpRequest | None = None,
) -> DischargeSummary:
    """Start an amendment of a signed summary: a new draft linked through ``amends`` carrying
    the original's facts and texts to correct; the original is never touched."""
    _check_org(actor, summary.organization_id)
    if not summary.is_signed:
        raise ValidationError({"amends": "Only a signed summary is amended; edit the draft."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for the amendment."})
    if getattr(actor, "pk", None) is None:
        raise PermissionDenied("an amendment is written by a staff member")
    user = user_or_none(actor)
    amendment = DischargeSummary.objects.create(
        organization_id=summary.organization_id,
        episode_id=summary.episode_id,
        patient_id=summary.patient_id,
        author=actor,
        due_on=summary.due_on,
        reason_code=summary.reason_code,
        level_at_admission=summary.level_at_admission,
        level_at_discharge=summary.level_at_discharge,
        last_service_on=summary.last_service_on,
        services=summary.services,
        goal_progress=summary.goal_progress,
        **{name: getattr(summary, name) for name in TEXT_FIELDS},
        amends=summary,
        amendment_reason=reason,
        created_by=user,
        updated_by=user,
    )
    audit_log(
        actor=actor, action="openiop.clinical.discharge_summary.amend", category=CAT,
        obj=amendment, patient=summary.patient, request=request,
        detail={"amends": str(summary.public_id)},
    )  # fmt: skip
    return amendment
