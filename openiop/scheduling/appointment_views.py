"""Book the week's individual sessions and medication visits from a published board (issue #4)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm
from openiop.core.access import get_for_user_or_404
from openiop.scheduling.appointments import appointments_schedule_week
from openiop.scheduling.models import ScheduleDraft


@login_required
@require_POST
def board_appointments(request: HttpRequest, public_id: Any) -> HttpResponse:
    draft = get_for_user_or_404(
        ScheduleDraft.objects.select_related("program", "program__site"),
        request.user,
        public_id,
        Perm.SESSION_MANAGE,
    )
    back = redirect("scheduling:board-draft", public_id=draft.public_id)
    if draft.status != ScheduleDraft.Status.PUBLISHED:
        messages.error(request, "Publish the week first; appointments are booked around groups.")
        return back
    try:
        result = appointments_schedule_week(
            actor=request.user, program=draft.program, week_start=draft.week_start,
            request=request,
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, f"No appointments booked: {' '.join(exc.messages)}")
        return back
    messages.success(
        request,
        f"Booked {result.individual} individual sessions and {result.medication} medication "
        f"visits for the week of {draft.week_start:%b} {draft.week_start.day}.",
    )
    for item in result.unplaced:
        label = "Individual session" if item.kind == "individual" else "Medication visit"
        messages.warning(request, f"{label} for {item.patient.display_name}: {item.reason}.")
    return back
