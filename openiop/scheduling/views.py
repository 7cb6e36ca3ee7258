"""Session pages: the week list, creating one session or a weekly series, the session page with
its roster (attendance is saved by ``openiop.attendance.views``), booking and cancelling.

Views are thin: fetch with permission first, then form -> service -> redirect or render. Times are
shown in each session's site zone, never UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.attendance.compliance import week_start_for
from openiop.attendance.forms import RosterFormSet
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program, Site
from openiop.scheduling import selectors, services
from openiop.scheduling.forms import BookForm, CancelForm, SeriesForm, SessionForm, WeekForm
from openiop.scheduling.models import Session

CAT = AuditEvent.Category.SCHEDULE


def sessions_qs() -> QuerySet[Session]:
    return Session.objects.select_related("program", "program__site", "room")


def _org_zone(user: Any, program: Program | None) -> Any:
    if program is not None:
        return program.site.tz
    site = Site.objects.for_org(user.organization_id).order_by("id").only("timezone").first()
    return site.tz if site is not None else dt.UTC


@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.SESSION_VIEW)
    form = WeekForm(request.GET)
    programs = list(
        Program.objects.for_org(request.user.organization_id)
        .select_related("site")
        .order_by("name")
    )
    chosen = form.cleaned_data.get("program") if form.is_valid() else None
    program = next((p for p in programs if p.public_id == chosen), None)
    tz = _org_zone(request.user, program)
    today = timezone.now().astimezone(tz).date()
    week = form.week_start(today)
    by_day = selectors.session_list_for_week(
        organization_id=request.user.organization_id, week=week, program=program
    )
    days = [
        (week + dt.timedelta(days=i), by_day.get(week + dt.timedelta(days=i), [])) for i in range(7)
    ]
    query = f"&program={program.public_id}" if program else ""
    return render(request, "scheduling/session_list.html", {
        "days": days, "week": week, "week_end": week + dt.timedelta(days=6), "today": today,
        "programs": programs, "program": program,
        "prev_url": f"?week={week - dt.timedelta(days=7):%Y-%m-%d}{query}",
        "next_url": f"?week={week + dt.timedelta(days=7):%Y-%m-%d}{query}",
        "this_week_url": f"?week={week_start_for(today):%Y-%m-%d}{query}",
    })  # fmt: skip


@login_required
def session_create(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.SESSION_MANAGE)
    initial = {"date": request.GET.get("date")} if request.GET.get("date") else None
    form = SessionForm(
        request.POST or None, initial=initial, organization_id=request.user.organization_id
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                session = services.session_create(
                    actor=request.user, request=request, **form.service_kwargs()
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Created {session.title}.")
                return redirect("scheduling:session-detail", public_id=session.public_id)
    return render(request, "scheduling/session_create.html", {"form": form}, status=status)


@login_required
def series_create(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.SESSION_MANAGE)
    form = SeriesForm(request.POST or None, organization_id=request.user.organization_id)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                series = services.series_create(
                    actor=request.user, request=request, **form.service_kwargs()
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                count = series.sessions.count()
                messages.success(request, f"Created {series.title}: {count} sessions.")
                url = reverse("scheduling:session-list")
                return redirect(f"{url}?week={week_start_for(series.start_date):%Y-%m-%d}")
    return render(request, "scheduling/series_create.html", {"form": form}, status=status)


def render_detail(
    request: HttpRequest,
    session: Session,
    *,
    roster_formset: Any = None,
    book_form: BookForm | None = None,
    cancel_form: CancelForm | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    """The session page (or, for an htmx request, just its body partial), audited as one read
    naming every patient shown."""
    roster = list(
        session.attendance.select_related("patient", "episode")
        .order_by("patient__last_name", "patient__first_name")
    )  # fmt: skip
    can_manage = user_has_perm(request.user, Perm.SESSION_MANAGE)
    live = session.status != Session.Status.CANCELLED
    if roster_formset is None:
        roster_formset = RosterFormSet.for_roster(session, roster)
    candidates: list[Episode] = []
    if can_manage and live:
        if book_form is None:
            book_form = BookForm(
                candidates=selectors.booking_candidates(session=session, roster=roster)
            )
        candidates = list(book_form.fields["episode"].queryset)  # type: ignore[attr-defined]
    if can_manage and session.status == Session.Status.SCHEDULED and cancel_form is None:
        cancel_form = CancelForm()
    shown = {str(r.patient.public_id) for r in roster} | {
        str(e.patient.public_id) for e in candidates
    }
    audit_log(
        actor=request.user, action="openiop.scheduling.session.read", category=CAT, obj=session,
        request=request, detail={"patients": sorted(shown)},
    )  # fmt: skip
    context = {
        "session": session, "tz": session.tz, "roster": roster,
        "rows": roster_formset.rows(),
        "formset": roster_formset,
        "book_form": book_form if candidates or (book_form and book_form.errors) else None,
        "no_candidates": can_manage and live and not candidates,
        "cancel_form": cancel_form, "notice": notice,
        "can_record": user_has_perm(request.user, Perm.ATTENDANCE_RECORD) and live,
        "facilitators": list(session.facilitators.all()),
        "can_group_note": session.kind == "group" and user_has_perm(request.user, Perm.NOTE_VIEW),
    }  # fmt: skip
    template = "scheduling/session_detail.html"
    if getattr(request, "htmx", False):
        template += "#session-body"
    return render(request, template, context, status=status)


@login_required
def session_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    session = get_for_user_or_404(sessions_qs(), request.user, public_id, Perm.SESSION_VIEW)
    return render_detail(request, session)


@login_required
@require_POST
def session_cancel(request: HttpRequest, public_id: Any) -> HttpResponse:
    session = get_for_user_or_404(sessions_qs(), request.user, public_id, Perm.SESSION_MANAGE)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.session_cancel(
                actor=request.user, session=session, reason=form.cleaned_data["reason"],
                request=request,
            )  # fmt: skip
        except ValidationError as exc:
            session.refresh_from_db()
            form.add_service_errors(exc)
        else:
            messages.success(request, f"{session.title} is cancelled.")
            return redirect("scheduling:session-detail", public_id=session.public_id)
    return render_detail(request, session, cancel_form=form, status=400)


@login_required
@require_POST
def booking_create(request: HttpRequest, public_id: Any) -> HttpResponse:
    session = get_for_user_or_404(sessions_qs(), request.user, public_id, Perm.SESSION_MANAGE)
    roster = list(session.attendance.all())
    form = BookForm(
        request.POST, candidates=selectors.booking_candidates(session=session, roster=roster)
    )
    if form.is_valid():
        episode = form.cleaned_data["episode"]
        try:
            services.session_book(
                actor=request.user, session=session, episode=episode, request=request
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Added {episode.patient.display_name} to the roster.")
            return redirect("scheduling:session-detail", public_id=session.public_id)
    return render_detail(request, session, book_form=form, status=400)
