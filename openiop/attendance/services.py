"""Taking attendance: one patient at a time or a whole group in one call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.attendance.models import AttendanceRecord
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.patients.models import Patient
from openiop.scheduling.models import Session

CAT = AuditEvent.Category.ATTENDANCE
ST = AttendanceRecord.Status
ATTENDED = AttendanceRecord.ATTENDED
# Check-in may open a little before the session starts (people arrive early).
CHECK_IN_OPENS_BEFORE = dt.timedelta(minutes=30)


class AttendanceError(ValidationError):
    """A refused entry of a group check-in. ``entry_index`` says which entry (in the order given)
    and ``entry_errors`` holds its messages by field, so a form or an API can put each message on
    the right row; the ordinary messages name the patient for people reading them."""

    def __init__(self, entry_index: int, entry_errors: dict[str, list[str]], label: str) -> None:
        self.entry_index = entry_index
        self.entry_errors = entry_errors
        prefix = f"{label}: " if label else ""
        super().__init__({k: [prefix + m for m in msgs] for k, msgs in entry_errors.items()})


@dataclass(frozen=True)
class AttendanceEntry:
    patient: Patient
    status: str
    minutes_attended: int | None = None
    checked_in_at: dt.datetime | None = None
    checked_out_at: dt.datetime | None = None
    note: str = ""


def _default_minutes(session: Session, entry: AttendanceEntry) -> int:
    if entry.status in (ST.ABSENT, ST.EXCUSED):
        return 0
    if entry.minutes_attended is not None:
        return entry.minutes_attended
    start = max(entry.checked_in_at or session.starts_at, session.starts_at)
    end = min(entry.checked_out_at or session.ends_at, session.ends_at)
    return max(0, int((end - start).total_seconds() // 60))


def _validate(session: Session, entry: AttendanceEntry, now: dt.datetime) -> int:
    errors: dict[str, str] = {}
    if entry.status not in ST.values or entry.status == ST.EXPECTED:
        errors["status"] = "Choose present, late, left early, absent or excused."
    if session.status == Session.Status.CANCELLED:
        errors["session"] = "The session was cancelled; attendance cannot be taken."
    if now < session.starts_at - CHECK_IN_OPENS_BEFORE:
        errors["session"] = "The session has not started yet."
    if entry.checked_in_at and entry.checked_out_at and entry.checked_out_at <= entry.checked_in_at:
        errors["checked_out_at"] = "Check-out must be after check-in."
    for name, value in (
        ("checked_in_at", entry.checked_in_at),
        ("checked_out_at", entry.checked_out_at),
    ):
        if value is not None and not (
            session.starts_at - dt.timedelta(hours=2)
            <= value
            <= session.ends_at + dt.timedelta(hours=2)
        ):
            errors[name] = "The time must be on the day of the session, near its start and end."
    if entry.status in (ST.ABSENT, ST.EXCUSED) and entry.minutes_attended not in (None, 0):
        errors["minutes_attended"] = "An absent patient attended 0 minutes."
    if errors:
        raise ValidationError(errors)
    minutes = _default_minutes(session, entry)
    if minutes < 0:
        raise ValidationError({"minutes_attended": "Minutes cannot be negative."})
    if minutes > session.duration_minutes:
        raise ValidationError(
            {
                "minutes_attended": f"The session lasts {session.duration_minutes} minutes; "
                f"{minutes} is more than that."
            }
        )
    if entry.status in ATTENDED and minutes == 0:
        raise ValidationError(
            {"minutes_attended": "A patient who attended has more than 0 minutes."}
        )
    return minutes


def _episode_for(session: Session, patient: Patient) -> Episode:
    episode = (
        Episode.objects.for_org(session.organization_id)
        .filter(patient=patient, program=session.program)
        .exclude(status=Episode.Status.WAITLISTED)
        .order_by("-admitted_on")
        .first()
    )
    if episode is None:
        raise ValidationError({"patient": f"{patient} is not enrolled in {session.program}."})
    return episode


def _record_one(
    *,
    actor: Any,
    session: Session,
    entry: AttendanceEntry,
    now: dt.datetime,
    request: HttpRequest | None,
) -> tuple[AttendanceRecord, bool]:
    if entry.patient.organization_id != session.organization_id:
        raise ValidationError({"patient": "Unknown patient."})
    minutes = _validate(session, entry, now)
    record = session.attendance.filter(patient=entry.patient).select_related("episode").first()
    if record is None:  # a walk-in who was not on the roster
        episode = _episode_for(session, entry.patient)
        if session.attendance.count() >= session.capacity:
            raise ValidationError({"session": f"The session is full ({session.capacity})."})
        record = AttendanceRecord(
            organization_id=session.organization_id,
            session=session,
            patient=entry.patient,
            episode=episode,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
    else:
        unchanged = (
            record.status == entry.status
            and record.minutes_attended == minutes
            and record.note == entry.note
            and (entry.checked_in_at is None or record.checked_in_at == entry.checked_in_at)
            and (entry.checked_out_at is None or record.checked_out_at == entry.checked_out_at)
        )
        if unchanged:  # the same check-in sent twice: nothing to do (idempotent)
            return record, False
    episode = record.episode
    local_day = session.local_start.date()
    if episode.admitted_on and local_day < episode.admitted_on:
        raise ValidationError({"patient": "The session is before the patient's admission."})
    if episode.discharged_on and local_day > episode.discharged_on:
        raise ValidationError({"patient": "The session is after the patient's discharge."})
    before = record.status if record.pk else None
    record.status = entry.status
    record.minutes_attended = minutes
    record.note = entry.note
    if entry.status in ATTENDED:
        record.checked_in_at = entry.checked_in_at or record.checked_in_at or session.starts_at
        record.checked_out_at = entry.checked_out_at or record.checked_out_at
    else:
        record.checked_in_at = None
        record.checked_out_at = None
    record.recorded_at = now
    record.recorded_by = actor if getattr(actor, "pk", None) else None
    record.save()
    audit_log(
        actor=actor,
        action="openiop.attendance.record." + ("create" if before is None else "update"),
        category=CAT,
        obj=record,
        patient=entry.patient,
        request=request,
        detail={
            "session": str(session.public_id),
            "from": before,
            "to": entry.status,
            "minutes": minutes,
        },
    )
    if entry.status in ATTENDED and episode.status == Episode.Status.ADMITTED:
        from openiop.enrollment.services import episode_activate

        episode_activate(actor=actor, episode=episode, on=local_day, request=request)
    return record, True


@transaction.atomic
def attendance_record(
    *,
    actor: Any,
    session: Session,
    entries: Sequence[AttendanceEntry],
    request: HttpRequest | None = None,
) -> list[tuple[AttendanceRecord, bool]]:
    """Record attendance for one or more patients of a session, all or nothing.

    Returns each record with whether it changed. Any bad entry raises ValidationError (its
    message names the patient) and nothing is saved. Re-sending the same entries changes nothing.
    """
    now = timezone.now()
    seen: set[int] = set()
    results: list[tuple[AttendanceRecord, bool]] = []
    for index, entry in enumerate(entries):
        label = str(entry.patient) if len(entries) > 1 else ""
        if entry.patient.pk in seen:
            raise AttendanceError(index, {"patient": ["listed twice"]}, label)
        seen.add(entry.patient.pk)
        try:
            results.append(
                _record_one(actor=actor, session=session, entry=entry, now=now, request=request)
            )
        except ValidationError as exc:
            raise AttendanceError(index, exc.message_dict, label) from None
    if (
        any(rec.status in ATTENDED for rec, _ in results)
        and session.status == Session.Status.SCHEDULED
    ):
        session.status = Session.Status.HELD
        session.save(update_fields=["status", "updated_at"])
    return results
