"""Saving a session's attendance: the whole roster in one request, all or nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm
from openiop.attendance.forms import RosterFormSet
from openiop.attendance.models import AttendanceRecord
from openiop.attendance.services import attendance_record as record_attendance
from openiop.core.access import get_for_user_or_404
from openiop.scheduling.views import render_detail, sessions_qs

LABELS = dict(AttendanceRecord.Status.choices)


def _summary(statuses: list[str], changed: int) -> str:
    counts = Counter(statuses)
    parts = [f"{counts[s]} {LABELS[s].lower()}" for s in LABELS if counts[s]]
    tail = f" ({changed} changed)" if changed != len(statuses) else ""
    return "Attendance saved: " + ", ".join(parts) + tail + "."


@login_required
@require_POST
def attendance_record(request: HttpRequest, public_id: Any) -> HttpResponse:
    session = get_for_user_or_404(sessions_qs(), request.user, public_id, Perm.ATTENDANCE_RECORD)
    roster = list(
        session.attendance.select_related("patient").order_by(
            "patient__last_name", "patient__first_name"
        )
    )
    formset = RosterFormSet.for_roster(session, roster, data=request.POST)
    htmx = bool(getattr(request, "htmx", False))
    bad = 200 if htmx else 400  # htmx swaps only 2xx answers
    if not formset.is_valid():
        return render_detail(request, session, roster_formset=formset, status=bad)
    if request.POST.get("action") == "mark_all":
        marked = RosterFormSet.for_roster(session, roster, initial=formset.with_rest_present())
        notice = "Marked everyone present. Review the rows, then press Save attendance."
        return render_detail(request, session, roster_formset=marked, notice=notice)
    entries = formset.entries()
    if not entries:
        formset.non_form_errors().append("Choose a status for at least one patient.")
        return render_detail(request, session, roster_formset=formset, status=bad)
    try:
        results = record_attendance(
            actor=request.user, session=session, entries=[e for _, e in entries], request=request
        )
    except ValidationError as exc:
        formset.add_service_errors(exc, entries)
        return render_detail(request, session, roster_formset=formset, status=bad)
    summary = _summary([rec.status for rec, _ in results], sum(1 for _, c in results if c))
    if htmx:
        return render_detail(request, session, notice=summary)
    messages.success(request, summary)
    return redirect("scheduling:session-detail", public_id=session.public_id)
