"""Attendance and weekly-hours compliance API.

* ``POST /sessions/{id}/attendance``: a whole group's check-in in one call, all or nothing, through
  ``attendance_record``. Re-sending the same body is safe (a retried request after a lost
  response): every record comes back with ``changed: false``.
* ``GET /compliance?week=YYYY-MM-DD&program=<uuid>``: every episode of a program for one
  site-local week (Monday to Sunday), read in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from openiop.accounts.permissions import Perm
from openiop.attendance.schemas import AttendanceIn, AttendanceOut, ComplianceOut
from openiop.attendance.selectors import compliance_for_program_week
from openiop.attendance.services import AttendanceEntry, AttendanceError, attendance_record
from openiop.core.api_auth import Day, ref, responses
from openiop.core.audit import audit_log_many
from openiop.core.models import AuditEvent
from openiop.organizations.api import program_for
from openiop.patients.models import Patient
from openiop.scheduling.api import roster_row, session_for

router = Router()


@router.post(
    "sessions/{session_id}/attendance",
    response=responses(AttendanceOut),
    summary="Record attendance for a session (bulk check-in)",
)
def record_attendance(
    request: HttpRequest, session_id: uuid.UUID, payload: AttendanceIn
) -> dict[str, Any]:
    user = request.user
    session = session_for(user, session_id, Perm.ATTENDANCE_RECORD)
    wanted = {e.patient for e in payload.entries}
    patients = {
        p.public_id: p
        for p in Patient.objects.for_org(user.organization).filter(public_id__in=wanted)
    }
    errors: dict[str, str] = {}
    for index, entry in enumerate(payload.entries):
        if entry.patient not in patients:
            errors[f"entries.{index}.patient"] = "Unknown patient."
        cin, cout = entry.checked_in_at, entry.checked_out_at
        if cin is not None and cout is not None and cout <= cin:
            errors[f"entries.{index}.checked_out_at"] = "Check-out must be after check-in."
    if errors:
        raise ValidationError(errors)
    entries = [
        AttendanceEntry(
            patient=patients[e.patient],
            status=e.status,
            minutes_attended=e.minutes_attended,
            checked_in_at=e.checked_in_at,
            checked_out_at=e.checked_out_at,
            note=e.note,
        )
        for e in payload.entries
    ]
    try:
        results = attendance_record(actor=user, session=session, entries=entries, request=request)
    except AttendanceError as exc:
        fields = {
            (k if k == "session" else f"entries.{exc.entry_index}.{k}"): v
            for k, v in exc.entry_errors.items()
        }
        raise ValidationError(fields) from None
    unchanged = [rec.patient for rec, changed in results if not changed]
    if unchanged:  # an idempotent re-send reads back records it did not write
        audit_log_many(
            actor=user,
            action="openiop.attendance.record.read",
            category="attendance",
            patients=unchanged,
            request=request,
            detail={"session": str(session.public_id)},
        )
    tz = session.tz
    by_pk = {p.pk: p for p in patients.values()}
    records = []
    for record, changed in results:
        record.patient = by_pk[record.patient_id]
        records.append({**roster_row(record, tz), "changed": changed})
    return {"session": str(session.public_id), "session_status": session.status, "records": records}


@router.get(
    "compliance",
    response=responses(ComplianceOut),
    summary="Weekly hours of every episode in a program",
)
def program_compliance(
    request: HttpRequest,
    week: Annotated[
        Day, Query(description="The Monday the week starts on (site-local), YYYY-MM-DD")
    ],
    program: Annotated[uuid.UUID, Query(description="Program id")],
) -> dict[str, Any]:
    chosen = program_for(request.user, program, Perm.COMPLIANCE_VIEW)
    if week.weekday() != 0:
        monday = week - dt.timedelta(days=week.weekday())
        raise ValidationError(
            {"week": f"A week starts on a Monday; {week} is a {week:%A}. Did you mean {monday}?"}
        )
    rows = compliance_for_program_week(program=chosen, week_start=week, now=timezone.now())
    audit_log_many(
        actor=request.user,
        action="openiop.attendance.compliance.read",
        category=AuditEvent.Category.COMPLIANCE,
        patients=[r.episode.patient for r in rows],
        request=request,
        detail={"program": str(chosen.public_id), "week": week.isoformat()},
    )
    return {
        "week": week,
        "program": ref(chosen),
        "weekly_min_minutes": chosen.weekly_min_minutes,
        "weekly_max_minutes": chosen.weekly_max_minutes,
        "min_days_per_week": chosen.min_days_per_week,
        "rows": [
            {
                "patient": {
                    "id": str(r.episode.patient.public_id),
                    "name": r.episode.patient.display_name,
                },
                "episode": str(r.episode.public_id),
                "episode_status": r.episode.status,
                "minutes_attended": r.result.minutes_attended,
                "days_attended": r.result.days_attended,
                "minutes_remaining": r.result.minutes_remaining,
                "days_possible": r.result.days_possible,
                "required_minutes": r.result.required_minutes,
                "required_days": r.result.required_days,
                "status": str(r.result.status),
                "over_max": r.result.over_max,
                "prorated": r.result.prorated,
                "reason": r.result.reason,
            }
            for r in rows
        ],
    }
