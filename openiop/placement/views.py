"""Intake pages: referrals, the phone screen, the six-dimension assessment with its
recommendation, admission with seat offers, the waitlist and the intake-times report.

Views are thin: fetch with permission first (outsiders 404, roles without the permission 403),
then form -> service -> redirect or render. Every page that shows a person writes one audit row.

Seat offers on the admission page use the patient's unavailable windows plus any work/school
hours typed on the page; a referral with no patient record yet has none on file, so every group
with a seat "fits" until hours are typed ("Check fit"). Typed hours are saved on the patient
(``unavailable_window_add``) when the person is admitted or waitlisted.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.http import require_POST

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, Role, roles_of, user_has_perm
from openiop.attendance.models import AttendanceRecord
from openiop.core.access import require_perm
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program, Site
from openiop.patients.services import unavailable_window_add
from openiop.placement import rules, selectors, services
from openiop.placement.charts import IntakeBar, intake_days_svg
from openiop.placement.forms import (
    FACT_LABELS,
    TEDS_FOR,
    AdmitForm,
    AssessmentForm,
    CloseForm,
    IntakeReportForm,
    ReferOutForm,
    ReferralFilterForm,
    ReferralForm,
    ScreeningForm,
    substances_initial,
)
from openiop.placement.models import Assessment, Referral, Screening
from openiop.scheduling.availability import Window, conflicts

CAT = AuditEvent.Category.EPISODE
PAGE_SIZE = 50
ADULT_AGE = 18
# Where a screen's urgent route sends the person (prefills the one-click "Record referral out").
REFER_OUT_TO = {
    Screening.Route.WITHDRAWAL: "Withdrawal management",
    Screening.Route.EMERGENCY: "Emergency department",
}


# --- helpers --------------------------------------------------------------------------------


def _org_tz(user: Any) -> Any:
    site = Site.objects.for_org(user.organization_id).order_by("id").only("timezone").first()
    return site.tz if site is not None else dt.UTC


def _today(tz: Any) -> dt.date:
    return timezone.now().astimezone(tz).date()


def _age_on(dob: dt.date | None, day: dt.date) -> int | None:
    if dob is None:
        return None
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def _dob(referral: Referral) -> dt.date | None:
    return referral.patient.date_of_birth if referral.patient else referral.date_of_birth


def _programs(organization_id: int) -> list[Program]:
    return list(
        Program.objects.for_org(organization_id)
        .filter(is_active=True)
        .select_related("site")
        .order_by("name")
    )


def _get(request: HttpRequest, public_id: Any, perm: Perm = Perm.REFERRAL_VIEW) -> Referral:
    return selectors.referral_get(user=request.user, public_id=public_id, perm=perm)


def _audit_read(request: HttpRequest, referral: Referral, view: str) -> None:
    audit_log(
        actor=request.user, action="openiop.placement.referral.read", category=CAT,
        obj=referral, patient=referral.patient, request=request,
        detail={"referral": str(referral.public_id), "view": view},
    )  # fmt: skip


def _driver_label(driver: str, edition: str) -> str:
    if len(driver) == 2 and driver[0] == "d" and driver[1].isdigit():
        n = int(driver[1])
        ed = "4th ed., " if edition == "4" else ""
        return f"Dimension {n} ({ed}{rules.DIMENSION_NAMES[edition][n]})"
    named = {
        **FACT_LABELS,
        "age": "Age",
        "substances": "Substances",
        "responsibilities": "Responsibilities",
        "all_dimensions": "All six dimensions",
    }
    return named.get(driver, driver)


def _panel(rec: Any) -> dict[str, Any]:
    """The recommendation as the template shows it."""
    return {
        "rec": rec,
        "reasons": [
            {"driver": r.driver, "text": r.text,
             "label": _driver_label(r.driver, rec.criteria_edition)}
            for r in rec.reasons
        ],
        "disclaimer": rules.DISCLAIMER,
    }  # fmt: skip


# --- referral list and create ---------------------------------------------------------------


@login_required
def referral_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.REFERRAL_VIEW)
    form = ReferralFilterForm(request.GET)
    status, search = form.values()
    referrals = selectors.referral_list(
        user=request.user, status="" if status == "all" else status, search=search
    )
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    today = _today(_org_tz(request.user))
    rows = [
        {
            "referral": r,
            "days": (
                (r.closed_on if not r.is_open and r.closed_on else today) - r.received_on
            ).days,
        }
        for r in page.object_list
    ]
    if rows:
        audit_log(
            actor=request.user, action="openiop.placement.referral.list", category=CAT,
            request=request,
            detail={
                "referrals": [str(r["referral"].public_id) for r in rows],
                "patients": sorted({str(r["referral"].patient.public_id) for r in rows
                                    if r["referral"].patient is not None}),
                "status": status, "search": search, "page": page.number,
            },
        )  # fmt: skip
    query = urlencode({"status": status, **({"q": search} if search else {})})
    return render(
        request,
        "placement/referral_list.html",
        {"form": form, "status": status, "search": search, "page": page, "rows": rows,
         "query": query},
    )  # fmt: skip


@login_required
def referral_create(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.REFERRAL_MANAGE)
    form = ReferralForm(
        request.POST or None,
        initial={"received_on": _today(_org_tz(request.user))},
        organization_id=request.user.organization_id,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                referral = services.referral_create(
                    actor=request.user, organization=request.user.organization, request=request,
                    **form.cleaned_data,
                )  # fmt: skip
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Referral for {referral.display_name} saved.")
                return redirect("placement:referral-detail", public_id=referral.public_id)
    return render(request, "placement/referral_create.html", {"form": form}, status=status)


# --- referral page and its actions ----------------------------------------------------------


def _timeline(
    referral: Referral, screenings: list[Screening], assessments: list[Assessment], tz: Any
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"on": referral.received_on, "what": "Referral received",
         "detail": f"{referral.get_source_display()}, {referral.get_urgency_display().lower()}"},
    ]  # fmt: skip
    for s in screenings:
        events.append(
            {
                "on": s.screened_at.astimezone(tz).date(),
                "what": "Phone screen",
                "detail": s.get_route_display(),
            }
        )
    for a in assessments:
        detail = f"recommended {a.recommended_level}, chosen {a.chosen_level}"
        events.append({"on": a.assessed_on, "what": "Assessment", "detail": detail})
    if referral.status == Referral.Status.WAITLISTED and referral.episode is not None:
        events.append(
            {"on": referral.episode.created_at.astimezone(tz).date(), "what": "Waitlisted",
             "detail": referral.episode.program.name}
        )  # fmt: skip
    if not referral.is_open:
        detail = referral.outcome_note
        if referral.status == Referral.Status.REFERRED_OUT:
            detail = f"to {referral.referred_out_to}" + (f": {detail}" if detail else "")
        elif referral.status == Referral.Status.ADMITTED and referral.episode is not None:
            detail = referral.episode.program.name
        events.append(
            {"on": referral.closed_on, "what": referral.get_status_display(), "detail": detail}
        )
    events.sort(key=lambda e: e["on"] or dt.date.min)
    return events


def _render_detail(
    request: HttpRequest, referral: Referral, status: int = 200, **bound: Any
) -> HttpResponse:
    screenings = list(referral.screenings.select_related("screened_by"))
    assessments = list(
        referral.assessments.select_related("assessed_by", "chosen_program").order_by(
            "assessed_on", "created_at"
        )
    )
    tz = _org_tz(request.user)
    today = _today(tz)
    latest_screen = screenings[0] if screenings else None
    can_manage = user_has_perm(request.user, Perm.REFERRAL_MANAGE) and referral.is_open
    alert_to = REFER_OUT_TO.get(latest_screen.route) if latest_screen else None
    context: dict[str, Any] = {
        "referral": referral,
        "age": _age_on(_dob(referral), today),
        "screenings": screenings,
        "latest_screen": latest_screen,
        "assessments": assessments,
        "latest_assessment": assessments[-1] if assessments else None,
        "timeline": _timeline(referral, screenings, assessments, tz),
        "tz": tz,
        "can_manage": can_manage,
        "can_assess": user_has_perm(request.user, Perm.ASSESSMENT_RECORD) and referral.is_open,
        "can_admit": user_has_perm(request.user, Perm.EPISODE_MANAGE)
        and referral.is_open
        and bool(assessments),
        "alert_to": alert_to,
    }
    if can_manage:
        context["screen_form"] = bound.get("screen_form") or ScreeningForm()
        context["refer_out_form"] = bound.get("refer_out_form") or ReferOutForm(auto_id="out_%s")
        context["close_form"] = bound.get("close_form") or CloseForm(auto_id="close_%s")
        if alert_to:
            context["alert_form"] = ReferOutForm(initial={"to": alert_to}, auto_id="alert_%s")
    _audit_read(request, referral, "detail")
    return render(request, "placement/referral_detail.html", context, status=status)


@login_required
def referral_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    referral = _get(request, public_id)
    return _render_detail(request, referral)


@login_required
@require_POST
def screening_create(request: HttpRequest, public_id: Any) -> HttpResponse:
    referral = _get(request, public_id, Perm.REFERRAL_MANAGE)
    form = ScreeningForm(request.POST)
    if form.is_valid():
        try:
            screen = services.screening_record(
                actor=request.user, referral=referral, request=request, **form.service_kwargs()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
            referral.refresh_from_db()
        else:
            messages.success(request, f"Phone screen saved: {screen.get_route_display()}.")
            url = reverse("placement:referral-detail", kwargs={"public_id": referral.public_id})
            return redirect(url + "#screen-result")
    return _render_detail(request, referral, status=400, screen_form=form)


@login_required
@require_POST
def referral_refer_out(request: HttpRequest, public_id: Any) -> HttpResponse:
    referral = _get(request, public_id, Perm.REFERRAL_MANAGE)
    form = ReferOutForm(request.POST, auto_id="out_%s")
    if form.is_valid():
        try:
            services.referral_refer_out(
                actor=request.user, referral=referral, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
            referral.refresh_from_db()
        else:
            messages.success(request, f"Referred out to {form.cleaned_data['to']}.")
            return redirect("placement:referral-detail", public_id=referral.public_id)
    return _render_detail(request, referral, status=400, refer_out_form=form)


@login_required
@require_POST
def referral_close(request: HttpRequest, public_id: Any) -> HttpResponse:
    referral = _get(request, public_id, Perm.REFERRAL_MANAGE)
    form = CloseForm(request.POST, auto_id="close_%s")
    if form.is_valid():
        try:
            services.referral_close(
                actor=request.user, referral=referral, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
            referral.refresh_from_db()
        else:
            messages.success(request, f"Referral closed: {referral.get_status_display().lower()}.")
            return redirect("placement:referral-detail", public_id=referral.public_id)
    return _render_detail(request, referral, status=400, close_form=form)


# --- assessment -----------------------------------------------------------------------------


def _assessment_initial(referral: Referral, today: dt.date) -> dict[str, Any]:
    previous = referral.assessments.order_by("-assessed_on", "-created_at").first()
    screen = referral.screenings.first()
    initial: dict[str, Any] = {
        "criteria_edition": previous.criteria_edition if previous else "3",
        "assessed_on": today,
        "age": _age_on(_dob(referral), today),
    }
    if previous is not None:
        initial.update(substances_initial(previous.substances))
        initial.update(
            responsibilities=previous.responsibilities,
            mat_interest=previous.mat_interest,
            mat_eligible=previous.mat_eligible,
        )
    elif screen is not None:
        initial.update(substances_initial(screen.substances))
    return initial


@login_required
def assessment_create(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Two steps on one page: "See recommendation" (action=preview) evaluates the rules and
    writes nothing; "Save assessment" (action=save) records it with the clinician's choice."""
    referral = _get(request, public_id, Perm.ASSESSMENT_RECORD)
    org_id = request.user.organization_id
    programs = _programs(org_id)
    today = _today(_org_tz(request.user))
    form = AssessmentForm(
        request.POST or None, initial=_assessment_initial(referral, today), programs=programs
    )
    panel = None
    status = 200
    if request.method == "POST" and form.is_valid():
        age = form.cleaned_data["age"]
        if age is None:
            age = _age_on(_dob(referral), form.cleaned_data["assessed_on"])
        try:
            _, rec = services.recommend(form.rules_data(age), org_id)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            panel = _panel(rec)
            first = [m.program.key for m in (*rec.matching_programs, *rec.variance_options)]
            if not form.cleaned_data["chosen_level"]:
                data = request.POST.copy()
                data["chosen_level"] = rec.level
                form = AssessmentForm(data, programs=programs)
                form.is_valid()
            form.set_programs(programs, first)
            if request.POST.get("action") == "save":
                try:
                    assessment = services.assessment_record(
                        actor=request.user, referral=referral, request=request,
                        **form.service_kwargs(),
                    )  # fmt: skip
                except ValidationError as exc:
                    form.add_service_errors(exc)
                else:
                    variance = " (variance)" if assessment.is_variance else ""
                    messages.success(
                        request,
                        f"Assessment saved: recommended {assessment.recommended_level}, "
                        f"chosen {assessment.chosen_level}{variance}.",
                    )
                    return redirect("placement:referral-detail", public_id=referral.public_id)
    if request.method == "POST" and form.errors:
        status = 400
    _audit_read(request, referral, "assess")
    return render(
        request,
        "placement/assessment_create.html",
        {"referral": referral, "form": form, "panel": panel,
         "previous": referral.assessments.count()},
        status=status,
    )  # fmt: skip


# --- admission ------------------------------------------------------------------------------


def _default_program(referral: Referral, programs: list[Program]) -> Program | None:
    latest = referral.assessments.select_related("chosen_program").first()
    by_pk = {p.pk: p for p in programs}
    if referral.episode and referral.episode.program_id in by_pk:
        return by_pk[referral.episode.program_id]

    def at_chosen_level(program: Program) -> bool:
        # Admission refuses a program at another level than the latest assessment chose.
        return latest is None or rules.normalize_level(
            program.level_of_care or ""
        ) == rules.normalize_level(latest.chosen_level)

    for candidate in (latest.chosen_program_id if latest else None, referral.program_requested_id):
        if candidate in by_pk and at_chosen_level(by_pk[candidate]):
            return by_pk[candidate]
    fitting = [p for p in programs if at_chosen_level(p)]
    return (fitting or programs or [None])[0]


def _admit_initial(
    request: HttpRequest, referral: Referral, program: Program | None, today: dt.date
) -> dict[str, Any]:
    latest = referral.assessments.first()
    initial: dict[str, Any] = {
        "program": str(program.public_id) if program else "",
        "admitted_on": today,
    }
    if Role.COUNSELOR in roles_of(request.user):
        initial["primary_counselor"] = request.user
    if latest is not None:
        initial["mat"] = latest.mat_interest and latest.mat_eligible
        codes = [TEDS_FOR[s] for s in latest.substances if s in TEDS_FOR]
        if codes:
            initial["primary_substance"] = codes[0]
    return initial


def _parse_date(form: AdmitForm, default: dt.date) -> dt.date:
    try:
        return form.fields["admitted_on"].clean(form["admitted_on"].value()) or default
    except ValidationError:
        return default


def window_text(w: Window) -> str:
    """'Mon 08:00-17:00 (Work)'."""
    label = f" ({w.label})" if w.label else ""
    return f"{calendar.day_abbr[w.weekday]} {w.start:%H:%M}–{w.end:%H:%M}{label}"


def _offer_rows(offers: list[Any], extra: list[Window], checked: set[str]) -> list[dict[str, Any]]:
    rows = []
    for o in offers:
        group = o.series
        clashes = [
            *o.clashes,
            *conflicts(group.weekday_list, group.start_time, group.duration_minutes, extra),
        ]
        key = str(group.public_id)
        bookable = o.next_session is not None and o.free_seats > 0
        rows.append(
            {
                "key": key,
                "series": group,
                "days": ", ".join(
                    dt.date(2024, 1, 1 + d).strftime("%a") for d in group.weekday_list
                ),
                "end": (
                    dt.datetime.combine(dt.date(2024, 1, 1), group.start_time)
                    + dt.timedelta(minutes=group.duration_minutes)
                ).time(),
                "next": o.next_session,
                "free": o.free_seats,
                "bookable": bookable,
                "fits": bookable and not clashes,
                "clashes": [window_text(w) for w in clashes],
                "checked": key in checked and bookable,
            }
        )
    rows.sort(key=lambda r: (not r["fits"], r["series"].start_time))
    return rows


def _first_booking(episode: Episode) -> str:
    record = (
        AttendanceRecord.objects.filter(episode=episode)
        .select_related("session")
        .order_by("session__starts_at")
        .first()
    )
    if record is None:
        return "No group booked yet."
    local = record.session.starts_at.astimezone(episode.program.site.tz)
    when = dateformat.format(local, "l, F j, Y \\a\\t H:i")
    return f"First group: {record.session.title} on {when}."


@login_required
def referral_admit(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Admit and book the chosen groups (action=admit), put on the waitlist (action=waitlist), or
    re-check which groups fit for another program, date or typed hours (action=offers)."""
    referral = _get(request, public_id, Perm.EPISODE_MANAGE)
    if not referral.is_open:
        messages.error(request, f"This referral is closed ({referral.get_status_display()}).")
        return redirect("placement:referral-detail", public_id=referral.public_id)
    org_id = request.user.organization_id
    programs = _programs(org_id)
    staff = User.objects.filter(organization_id=org_id, is_active=True).order_by(
        "last_name", "first_name"
    )
    default = _default_program(referral, programs)
    today = _today(default.site.tz if default else _org_tz(request.user))
    action = request.POST.get("action", "admit")
    form = AdmitForm(
        request.POST or None,
        initial=_admit_initial(request, referral, default, today),
        programs=programs,
        staff=staff,
    )
    program = form.programs.get(str(form["program"].value() or "")) or default
    admitted_on = _parse_date(form, today)
    patient_windows = selectors.patient_windows(referral.patient)
    offers = (
        selectors.seat_offers(program=program, windows=patient_windows, from_date=admitted_on)
        if program
        else []
    )
    form.set_offers(offers)
    status = 200
    typed: list[Window] = []
    if request.method == "POST":
        if form.is_valid():
            typed = [
                Window(w["weekday"], w["start_time"], w["end_time"], "typed here")
                for w in form.windows()
            ]
            if action in ("admit", "waitlist"):
                response = _admit_or_waitlist(request, referral, form, action)
                if response is not None:
                    return response
                referral.refresh_from_db()
        if form.errors:
            status = 400
    rows = _offer_rows(offers, typed, set())
    if request.method == "GET" or action == "offers":
        checked = {r["key"] for r in rows if r["fits"]}
    else:
        checked = set(request.POST.getlist("series"))
    for row in rows:
        row["checked"] = row["key"] in checked and row["bookable"]
    dob = _dob(referral)
    age = _age_on(dob, admitted_on)
    _audit_read(request, referral, "admit")
    return render(
        request,
        "placement/referral_admit.html",
        {
            "referral": referral, "form": form, "program": program, "offers": rows,
            "windows": [window_text(w) for w in patient_windows],
            "no_windows": not patient_windows and not typed,
            "show_guardian": age is None or age < ADULT_AGE, "age": age,
            "latest": referral.assessments.select_related("chosen_program").first(),
            "site_tz": program.site.timezone if program else "UTC",
        },
        status=status,
    )  # fmt: skip


def _admit_or_waitlist(
    request: HttpRequest, referral: Referral, form: AdmitForm, action: str
) -> HttpResponse | None:
    """Run the service (and save typed hours on the patient) in one transaction; a rejected
    input puts the error on the form and returns None."""
    try:
        with transaction.atomic():
            if action == "waitlist":
                episode = services.referral_waitlist(
                    actor=request.user,
                    referral=referral,
                    program=form.selected_program,
                    request=request,
                )
            else:
                episode = services.referral_admit(
                    actor=request.user, referral=referral, request=request,
                    **form.service_kwargs(),
                )  # fmt: skip
            for window in form.windows():
                unavailable_window_add(
                    actor=request.user, patient=episode.patient, request=request, **window
                )
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None
    if action == "waitlist":
        messages.success(
            request, f"{referral.display_name} is on the waitlist for {episode.program.name}."
        )
        return redirect(f"{reverse('placement:waitlist')}?program={episode.program.public_id}")
    messages.success(request, f"Admitted to {episode.program.name}. {_first_booking(episode)}")
    return redirect("enrollment:episode-detail", public_id=episode.public_id)


# --- waitlist -------------------------------------------------------------------------------


@login_required
def waitlist(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.REFERRAL_VIEW)
    org_id = request.user.organization_id
    programs = _programs(org_id)
    waiting = dict(
        Episode.objects.for_org(org_id)
        .filter(status=Episode.Status.WAITLISTED)
        .values_list("program_id")
        .annotate(n=Count("id"))
        .values_list("program_id", "n")
    )
    chosen = request.GET.get("program", "")
    program = next((p for p in programs if str(p.public_id) == chosen), None)
    if program is None:
        program = next(
            (p for p in programs if waiting.get(p.pk)), programs[0] if programs else None
        )
    rows: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    if program is not None:
        today = _today(program.site.tz)
        episodes = list(selectors.waitlist_for_program(program=program))
        for position, episode in enumerate(episodes, start=1):
            referral = getattr(episode, "referral", None)
            since = referral.received_on if referral else episode.referral_date
            rows.append(
                {
                    "position": position,
                    "episode": episode,
                    "referral": referral,
                    "since": since,
                    "days": (today - since).days if since else None,
                }
            )
        for offer in selectors.seat_offers(program=program, windows=[], from_date=today):
            if offer.next_session is None or offer.free_seats <= 0:
                continue
            offer.series.program = program  # already loaded; spares a query per group
            first = (
                selectors.waitlist_first_fit(series=offer.series, waiting=episodes)
                if episodes
                else None
            )
            groups.append(
                {"offer": offer, "first": first,
                 "first_referral": getattr(first, "referral", None) if first else None}
            )  # fmt: skip
        audit_log_many(
            actor=request.user, action="openiop.placement.waitlist.list", category=CAT,
            patients=[e.patient for e in episodes], request=request,
            detail={"program": str(program.public_id)},
        )  # fmt: skip
    return render(
        request,
        "placement/waitlist_list.html",
        {
            "programs": [{"program": p, "waiting": waiting.get(p.pk, 0)} for p in programs],
            "program": program, "rows": rows, "groups": groups,
            "site_tz": program.site.timezone if program else "UTC",
        },
    )  # fmt: skip


# --- intake report --------------------------------------------------------------------------


@login_required
def intake_report(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.REFERRAL_VIEW)
    form = IntakeReportForm(request.GET)
    start, end = form.period(_today(_org_tz(request.user)))
    rows = selectors.intake_times(user=request.user, start=start, end=end)
    variances = list(
        selectors.assessment_variances(
            organization_id=request.user.organization_id, start=start, end=end
        )
    )
    shown = [r for r in rows if r.referrals]
    chart = intake_days_svg(
        [
            IntakeBar(r.program.name, r.median_days_to_assessment, r.median_days_to_first_session)
            for r in shown
        ],
        title=f"Median days from referral, {dateformat.format(start, 'M j, Y')} – "
        f"{dateformat.format(end, 'M j, Y')}",
    )
    if variances:
        audit_log(
            actor=request.user, action="openiop.placement.assessment.list", category=CAT,
            request=request,
            detail={
                "report": "intake-times", "start": start.isoformat(), "end": end.isoformat(),
                "referrals": sorted({str(a.referral.public_id) for a in variances}),
                "patients": sorted({str(a.patient.public_id) for a in variances if a.patient}),
            },
        )  # fmt: skip
    return render(
        request,
        "placement/intake_report.html",
        {"form": form, "start": start, "end": end, "rows": rows, "variances": variances,
         "chart_svg": chart if shown else ""},
        status=200 if form.is_valid() else 400,
    )  # fmt: skip
