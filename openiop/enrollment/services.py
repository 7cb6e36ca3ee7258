"""Episode life cycle: admit, activate, hold, resume, transfer (step up / down), discharge.

Each change writes an ``EpisodeStatusChange`` row and an audit row in the same transaction.
Concurrent edits are caught with the ``version`` column: a stale writer gets a ValidationError
instead of silently overwriting the other person's change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from openiop.core.actors import user_or_none as _user
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode, EpisodeStatusChange, TedsDischargeReason
from openiop.organizations.models import Program
from openiop.patients.models import Patient

CAT = AuditEvent.Category.EPISODE
S = Episode.Status

ALLOWED: dict[str, set[str]] = {
    S.WAITLISTED: {S.ADMITTED, S.DISCHARGED},
    S.ADMITTED: {S.ACTIVE, S.ON_HOLD, S.DISCHARGED},
    S.ACTIVE: {S.ON_HOLD, S.DISCHARGED},
    S.ON_HOLD: {S.ACTIVE, S.DISCHARGED},
    S.DISCHARGED: set(),
}


def _change(
    *,
    actor: Any,
    episode: Episode,
    to_status: str,
    effective_on: dt.date,
    reason: str = "",
    request: HttpRequest | None,
    verb: str,
    expected_version: int | None = None,
    detail: dict[str, Any] | None = None,
) -> Episode:
    from_status = episode.status
    if to_status not in ALLOWED[from_status]:
        raise ValidationError(
            {
                "status": f"An episode that is {episode.get_status_display().lower()} "
                f"cannot become {S(to_status).label.lower()}."
            }
        )
    if episode.admitted_on and effective_on < episode.admitted_on and to_status != S.ADMITTED:
        raise ValidationError({"effective_on": "The date cannot be before the admission."})
    last = episode.status_changes.order_by("-effective_on", "-id").first()
    if last is not None and effective_on < last.effective_on:
        raise ValidationError(
            {
                "effective_on": f"The last change was on {last.effective_on:%Y-%m-%d}; "
                "a later change cannot be dated before it."
            }
        )
    if effective_on > episode.program.site.today() and to_status != S.ADMITTED:
        raise ValidationError({"effective_on": "The date cannot be in the future."})
    version = episode.version if expected_version is None else expected_version
    episode.status = to_status
    episode.updated_by = _user(actor)
    episode.full_clean(exclude=["organization", "created_by", "updated_by", "transferred_from"])
    fields = {
        f.name: getattr(episode, f.name)
        for f in Episode._meta.concrete_fields
        if f.name not in {"id", "public_id", "created_at", "created_by", "version"}
    }
    fields["updated_at"] = timezone.now()
    updated = Episode.objects.filter(pk=episode.pk, version=version).update(
        **fields, version=F("version") + 1
    )
    if updated != 1:
        raise ValidationError(
            {"version": "Someone else changed this episode; reload it and try again."}
        )
    episode.version = version + 1
    EpisodeStatusChange.objects.create(
        organization_id=episode.organization_id,
        episode=episode,
        from_status=from_status,
        to_status=to_status,
        effective_on=effective_on,
        changed_by=_user(actor),
        reason=reason,
    )
    audit_log(
        actor=actor,
        action=f"openiop.enrollment.episode.{verb}",
        category=CAT,
        obj=episode,
        patient=episode.patient,
        request=request,
        detail={
            "from": from_status,
            "to": to_status,
            "effective_on": effective_on.isoformat(),
            **(detail or {}),
        },
    )
    return episode


def _days_30(days: int | None, field: str) -> int | None:
    if days is not None and not 0 <= days <= 30:
        raise ValidationError({field: "Days of use in 30 days must be between 0 and 30."})
    return days


def _check_program_fits(patient: Patient, program: Program, on: dt.date) -> None:
    if program.organization_id != patient.organization_id:
        raise ValidationError({"program": "Unknown program."})
    if not program.is_active:
        raise ValidationError({"program": f"{program} is not accepting patients."})
    age = patient.age_on(on)
    if age < program.min_age or (program.max_age is not None and age > program.max_age):
        top = f"-{program.max_age}" if program.max_age is not None else "+"
        raise ValidationError(
            {"program": f"{program} is for ages {program.min_age}{top}; the patient is {age}."}
        )
    other = (
        Episode.objects.for_org(patient.organization)
        .filter(patient=patient)
        .open()
        .select_related("program")
        .first()
    )
    if other is not None:
        raise ValidationError(
            {
                "program": f"The patient already has an open episode in {other.program}; "
                "transfer or discharge it first."
            }
        )


@transaction.atomic
def episode_create(
    *,
    actor: Any,
    patient: Patient,
    program: Program,
    admitted_on: dt.date | None = None,
    referral_date: dt.date | None = None,
    referral_source: str = "self",
    primary_substance: int | None = None,
    secondary_substance: int | None = None,
    mat: bool = False,
    primary_counselor: Any = None,
    baseline_days_used_30: int | None = None,
    request: HttpRequest | None = None,
) -> Episode:
    """Open an episode: waitlisted when ``admitted_on`` is None, otherwise admitted that day.

    ``baseline_days_used_30``: days of use of any substance in the 30 days before admission, the
    baseline of the 95% reduction outcome (issue 9) and TEDS FREQ1."""
    today = program.site.today()
    _check_program_fits(patient, program, admitted_on or today)
    if (
        primary_counselor is not None
        and primary_counselor.organization_id != patient.organization_id
    ):
        raise ValidationError({"primary_counselor": "Unknown staff member."})
    episode = Episode(
        organization_id=patient.organization_id,
        patient=patient,
        program=program,
        status=S.WAITLISTED,
        referral_date=referral_date or admitted_on or today,
        referral_source=referral_source,
        primary_substance=primary_substance,
        secondary_substance=secondary_substance,
        mat=mat,
        primary_counselor=primary_counselor,
        baseline_days_used_30=_days_30(baseline_days_used_30, "baseline_days_used_30"),
        created_by=_user(actor),
    )
    episode.full_clean(
        exclude=[
            "organization",
            "patient",
            "program",
            "created_by",
            "updated_by",
            "transferred_from",
            "primary_counselor",
        ]
    )
    episode.save()
    EpisodeStatusChange.objects.create(
        organization_id=episode.organization_id,
        episode=episode,
        from_status="",
        to_status=S.WAITLISTED,
        effective_on=episode.referral_date,
        changed_by=_user(actor),
    )
    audit_log(
        actor=actor,
        action="openiop.enrollment.episode.create",
        category=CAT,
        obj=episode,
        patient=patient,
        request=request,
    )
    if admitted_on is not None:
        episode_admit(actor=actor, episode=episode, admitted_on=admitted_on, request=request)
    return episode


@transaction.atomic
def episode_admit(
    *, actor: Any, episode: Episode, admitted_on: dt.date, request: HttpRequest | None = None
) -> Episode:
    if episode.referral_date and admitted_on < episode.referral_date:
        raise ValidationError({"admitted_on": "Admission cannot be before the referral date."})
    episode.admitted_on = admitted_on
    return _change(
        actor=actor,
        episode=episode,
        to_status=S.ADMITTED,
        effective_on=admitted_on,
        request=request,
        verb="admit",
    )


@transaction.atomic
def episode_activate(
    *, actor: Any, episode: Episode, on: dt.date, request: HttpRequest | None = None
) -> Episode:
    """Admitted -> active at the first attended session (called by attendance_record)."""
    return _change(
        actor=actor,
        episode=episode,
        to_status=S.ACTIVE,
        effective_on=on,
        request=request,
        verb="activate",
        reason="first session attended",
    )


@transaction.atomic
def episode_hold(
    *,
    actor: Any,
    episode: Episode,
    effective_on: dt.date,
    reason: str,
    request: HttpRequest | None = None,
) -> Episode:
    if not reason.strip():
        raise ValidationError({"reason": "Say why the episode is put on hold."})
    return _change(
        actor=actor,
        episode=episode,
        to_status=S.ON_HOLD,
        effective_on=effective_on,
        reason=reason,
        request=request,
        verb="hold",
    )


@transaction.atomic
def episode_resume(
    *, actor: Any, episode: Episode, effective_on: dt.date, request: HttpRequest | None = None
) -> Episode:
    if episode.status != S.ON_HOLD:
        raise ValidationError({"status": "Only an episode on hold can be resumed."})
    return _change(
        actor=actor,
        episode=episode,
        to_status=S.ACTIVE,
        effective_on=effective_on,
        request=request,
        verb="resume",
    )


def _release_future_bookings(episode: Episode, after: dt.date) -> int:
    """Remove the patient from sessions after ``after`` that nobody has taken attendance for."""
    from openiop.attendance.models import AttendanceRecord

    site_tz = episode.program.site.tz
    cutoff = dt.datetime.combine(after + dt.timedelta(days=1), dt.time(0), tzinfo=site_tz)
    deleted, _ = AttendanceRecord.objects.filter(
        episode=episode, status=AttendanceRecord.Status.EXPECTED, session__starts_at__gte=cutoff
    ).delete()
    return deleted


@transaction.atomic
def episode_discharge(
    *,
    actor: Any,
    episode: Episode,
    discharged_on: dt.date,
    reason: int,
    note: str = "",
    days_used_30: int | None = None,
    request: HttpRequest | None = None,
    expected_version: int | None = None,
) -> Episode:
    """Close the episode with a TEDS reason and release the patient's future session bookings.

    ``days_used_30``: days of use in the 30 days before discharge (TEDS FREQ1_D), if asked."""
    if reason not in TedsDischargeReason.values:
        raise ValidationError({"reason": "Choose a discharge reason (TEDS codes 1-7)."})
    if episode.admitted_on and discharged_on < episode.admitted_on:
        raise ValidationError({"discharged_on": "Discharge cannot be before admission."})
    if discharged_on > episode.program.site.today():
        raise ValidationError({"discharged_on": "Discharge cannot be recorded for a future date."})
    episode.discharged_on = discharged_on
    episode.discharge_reason = reason
    episode.discharge_note = note
    if days_used_30 is not None:
        episode.discharge_days_used_30 = _days_30(days_used_30, "days_used_30")
    _change(
        actor=actor,
        episode=episode,
        to_status=S.DISCHARGED,
        effective_on=discharged_on,
        reason=TedsDischargeReason(reason).label,
        request=request,
        verb="discharge",
        expected_version=expected_version,
    )
    released = _release_future_bookings(episode, discharged_on)
    if reason != TedsDischargeReason.TRANSFERRED:
        # A discharged patient's calendar link stops (a transfer keeps it: care goes on).
        from openiop.scheduling.feeds import calendar_feed_active, calendar_feed_revoke

        feed = calendar_feed_active(patient=episode.patient)
        if feed is not None:
            calendar_feed_revoke(actor=actor, feed=feed, request=request)
    if released:
        audit_log(
            actor=actor,
            action="openiop.scheduling.booking.release",
            category=CAT,
            obj=episode,
            patient=episode.patient,
            request=request,
            detail={"sessions": released},
        )
    return episode


@transaction.atomic
def episode_transfer(
    *,
    actor: Any,
    episode: Episode,
    to_program: Program,
    effective_on: dt.date,
    reason: str = "",
    primary_counselor: Any = None,
    request: HttpRequest | None = None,
) -> Episode:
    """Step up or step down: close this segment as "transferred" and open one in ``to_program``.

    Both segments include ``effective_on`` so no day of care is lost between them; the new
    segment points back to the old one, keeping the whole course of treatment in one chain.
    """
    if to_program.pk == episode.program_id:
        raise ValidationError({"to_program": "Choose a different program."})
    if to_program.organization_id != episode.organization_id:
        raise ValidationError({"to_program": "Unknown program."})
    if not to_program.is_active:
        raise ValidationError({"to_program": f"{to_program} is not accepting patients."})
    if (
        primary_counselor is not None
        and primary_counselor.organization_id != episode.organization_id
    ):
        raise ValidationError({"primary_counselor": "Unknown staff member."})
    if episode.status not in (S.ADMITTED, S.ACTIVE, S.ON_HOLD):
        raise ValidationError({"status": "Only an admitted or active episode can be transferred."})
    patient = episode.patient
    age = patient.age_on(effective_on)
    if age < to_program.min_age or (to_program.max_age is not None and age > to_program.max_age):
        raise ValidationError({"to_program": f"{to_program} does not accept a patient aged {age}."})
    episode_discharge(
        actor=actor,
        episode=episode,
        discharged_on=effective_on,
        reason=TedsDischargeReason.TRANSFERRED,
        note=reason,
        request=request,
    )
    new = Episode(
        organization_id=episode.organization_id,
        patient=patient,
        program=to_program,
        status=S.WAITLISTED,
        referral_date=effective_on,
        referral_source=episode.referral_source,
        primary_substance=episode.primary_substance,
        secondary_substance=episode.secondary_substance,
        mat=episode.mat,
        primary_counselor=primary_counselor or episode.primary_counselor,
        transferred_from=episode,
        created_by=_user(actor),
    )
    new.save()
    EpisodeStatusChange.objects.create(
        organization_id=new.organization_id,
        episode=new,
        from_status="",
        to_status=S.WAITLISTED,
        effective_on=effective_on,
        changed_by=_user(actor),
        reason=f"transfer from {episode.program}",
    )
    audit_log(
        actor=actor,
        action="openiop.enrollment.episode.transfer",
        category=CAT,
        obj=new,
        patient=patient,
        request=request,
        detail={
            "from_episode": str(episode.public_id),
            "from_program": str(episode.program),
            "to_program": str(to_program),
        },
    )
    return episode_admit(actor=actor, episode=new, admitted_on=effective_on, request=request)
