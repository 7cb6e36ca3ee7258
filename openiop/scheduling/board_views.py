"""The weekly board (issue #4): a program director builds a draft week with the solver, sees it as
blocks x groups with who falls short and why, pins patients, re-solves and publishes.

Solving never runs in the request: the views queue the draft and call
:func:`openiop.scheduling.week.start_background_solve`; the page polls a small progress partial
every 2 s with htmx while the draft is queued or solving.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, user_has_perm
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.audit import audit_log_many
from openiop.core.models import AuditEvent
from openiop.organizations.models import Program, Room
from openiop.patients.models import Patient
from openiop.scheduling import week
from openiop.scheduling.forms import WeekForm
from openiop.scheduling.models import ScheduleDraft

CAT = AuditEvent.Category.SCHEDULE


def _drafts() -> Any:
    return ScheduleDraft.objects.select_related("program", "program__site", "created_by")


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """Choose a program and week; list that week's drafts; POST builds one and starts solving."""
    require_perm(request.user, Perm.SESSION_VIEW)
    if request.method == "POST":
        require_perm(request.user, Perm.SESSION_MANAGE)
    org = request.user.organization_id
    form = WeekForm(request.GET)
    programs = list(Program.objects.for_org(org).select_related("site").order_by("name"))
    chosen = form.cleaned_data.get("program") if form.is_valid() else None
    program = next((p for p in programs if p.public_id == chosen), None)
    if chosen and program is None:
        raise Http404("not found")
    today = (program.site.today() if program else timezone.localdate()) + dt.timedelta(days=7)
    monday = form.week_start(today)
    if request.method == "POST":
        if program is None:
            raise Http404("not found")
        try:
            draft = week.draft_create(actor=request.user, program=program, week_start=monday)
        except ValidationError as exc:
            messages.error(request, f"Cannot build the week: {_error_text(exc)}")
            return redirect(request.get_full_path())
        week.start_background_solve(draft)
        return redirect("scheduling:board-draft", public_id=draft.public_id)
    drafts = []
    if program is not None:
        drafts = list(_drafts().filter(organization_id=org, program=program, week_start=monday))
    query = f"&program={program.public_id}" if program else ""
    return render(request, "scheduling/board.html", {
        "programs": programs, "program": program, "week": monday, "drafts": drafts,
        "can_manage": user_has_perm(request.user, Perm.SESSION_MANAGE),
        "prev_url": f"?week={monday - dt.timedelta(days=7):%Y-%m-%d}{query}",
        "next_url": f"?week={monday + dt.timedelta(days=7):%Y-%m-%d}{query}",
    })  # fmt: skip


def _hours(minutes: int) -> str:
    return f"{minutes // 60}h{minutes % 60:02d}" if minutes % 60 else f"{minutes // 60}h"


def _board_context(draft: ScheduleDraft) -> dict[str, Any]:
    instance, solution = draft.instance, draft.solution or {}
    org = draft.organization_id
    ids = [p["id"] for p in instance.get("patients", [])]
    patients = {
        str(p.public_id): p
        for p in Patient.objects.for_org(org).filter(public_id__in=[uuid.UUID(i) for i in ids])
    }
    clinicians = {
        str(u.public_id): u
        for u in User.objects.filter(
            organization_id=org,
            public_id__in=[uuid.UUID(c["id"]) for c in instance.get("clinicians", [])],
        )
    }
    rooms = {str(r.public_id): r for r in Room.objects.for_org(org).filter(site=draft.program.site)}
    by_block: dict[str, list[dict[str, Any]]] = defaultdict(list)
    held: dict[str, set[str]] = defaultdict(set)
    for g in solution.get("groups", []):
        people = sorted(
            (patients[p] for p in g["patients"] if p in patients),
            key=lambda p: (p.last_name, p.first_name),
        )
        by_block[g["block"]].append({
            "id": g["id"], "clinician": clinicians.get(g["clinician"]),
            "room": rooms.get(g.get("room") or ""), "patients": people,
        })  # fmt: skip
        for p in g["patients"]:
            held[p].add(g["block"])
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    blocks = [
        {
            "id": b["id"],
            "label": f"{days[b['day']]} {b['start']} ({_hours(b['minutes'])})",
            "date": draft.week_start + dt.timedelta(days=b["day"]),
            "groups": by_block.get(b["id"], []),
        }
        for b in instance.get("blocks", [])
    ]
    short = []
    rows = []
    for entry in solution.get("patients", []):
        patient = patients.get(entry["id"])
        if patient is None:
            continue
        if not entry.get("meets_minimum"):
            short.append({"patient": patient, "reason": entry.get("reason") or "", **entry})
    available = {p["id"]: set(p["available_blocks"]) for p in instance.get("patients", [])}
    for pid in ids:
        if pid in patients:
            rows.append({
                "patient": patients[pid], "held": held.get(pid, set()),
                "available": available.get(pid, set()), "pinned": pid in (draft.pins or {}),
            })  # fmt: skip
    rows.sort(key=lambda r: (r["patient"].last_name, r["patient"].first_name))
    kept_not = solution.get("metrics", {}).get("pins_not_kept", [])
    not_kept = [patients[pid] for pid in kept_not if pid in patients]
    return {
        "blocks": blocks, "short": short, "rows": rows, "shown": list(patients.values()),
        "metrics": solution.get("metrics", {}), "solver_status": solution.get("status"),
        "total": len(ids), "pins_not_kept": not_kept,
    }  # fmt: skip


@login_required
def board_draft(request: HttpRequest, public_id: Any) -> HttpResponse:
    draft = get_for_user_or_404(_drafts(), request.user, public_id, Perm.SESSION_VIEW)
    context = _board_context(draft)
    if draft.solution:
        audit_log_many(
            actor=request.user, action="openiop.scheduling.draft.read", category=CAT,
            patients=context["shown"], request=request, detail={"draft": str(draft.public_id)},
        )  # fmt: skip
    context.update({
        "draft": draft, "can_manage": user_has_perm(request.user, Perm.SESSION_MANAGE),
        "board_url": f"{reverse('scheduling:board')}?program={draft.program.public_id}"
                     f"&week={draft.week_start:%Y-%m-%d}",
    })  # fmt: skip
    return render(request, "scheduling/board_draft.html", context)


@login_required
def board_progress(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The polled partial. Once the solve is over, an htmx request gets ``HX-Refresh`` so the
    page reloads with the finished board."""
    draft = get_for_user_or_404(_drafts(), request.user, public_id, Perm.SESSION_VIEW)
    response = render(request, "scheduling/board_progress.html", {"draft": draft})
    if getattr(request, "htmx", False) and not draft.is_running:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def board_resolve(request: HttpRequest, public_id: Any) -> HttpResponse:
    draft = get_for_user_or_404(_drafts(), request.user, public_id, Perm.SESSION_MANAGE)
    try:
        week.draft_requeue(actor=request.user, draft=draft)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        week.start_background_solve(draft)
    return redirect("scheduling:board-draft", public_id=draft.public_id)


@login_required
@require_POST
def board_pin(request: HttpRequest, public_id: Any, patient_id: Any) -> HttpResponse:
    draft = get_for_user_or_404(_drafts(), request.user, public_id, Perm.SESSION_MANAGE)
    patient = get_for_user_or_404(
        Patient.objects.all(), request.user, patient_id, Perm.SESSION_MANAGE
    )
    blocks = request.POST.getlist("blocks")
    try:
        week.draft_pin(actor=request.user, draft=draft, patient=patient, blocks=blocks)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        week.start_background_solve(draft)
        messages.success(request, f"Pinned {patient.display_name}; solving again.")
    return redirect("scheduling:board-draft", public_id=draft.public_id)


@login_required
@require_POST
def board_publish(request: HttpRequest, public_id: Any) -> HttpResponse:
    draft = get_for_user_or_404(_drafts(), request.user, public_id, Perm.SESSION_MANAGE)
    try:
        count = week.draft_publish(actor=request.user, draft=draft, request=request)
    except ValidationError as exc:
        messages.error(request, f"Not published: {_error_text(exc)}")
        return redirect("scheduling:board-draft", public_id=draft.public_id)
    messages.success(request, f"Published {count} group sessions for {draft.program}.")
    url = reverse("scheduling:session-list")
    return redirect(f"{url}?week={draft.week_start:%Y-%m-%d}&program={draft.program.public_id}")
