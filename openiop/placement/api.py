"""Intake and placement API: level-of-care evaluation, referrals, phone screens, assessments,
seat offers, the waitlist, admission, referral out and closing.

Writes go through ``openiop.placement.services`` (which audit them); reads are audited here. A
referral is patient data even before a patient record exists, so every response that shows one
writes an audit row naming the referral (and the patient, once there is one).

``POST /placement/evaluate`` is the one exception: a pure computation on the body it is given
(the same ``rules.evaluate_json`` as ``openiop placement evaluate``), touching no record, so it
writes no audit row. It needs ``assessment.record``: it is the clinician's level-of-care tool.

Objects named in a body or a query (program, patient, group, counselor) are looked up in the
user's organization only; an unknown or foreign one is a 400 naming the field, with the same
message either way. A referral id in the path that is not ours is a 404.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from openiop.accounts.permissions import Perm
from openiop.attendance.models import AttendanceRecord
from openiop.core.access import require_perm
from openiop.core.api_auth import Day, paginate, ref, responses
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.models import AuditEvent
from openiop.enrollment.api import resolve, resolve_staff
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program
from openiop.patients.models import Patient
from openiop.placement import rules, selectors, services
from openiop.placement.models import Assessment, Referral, Screening
from openiop.placement.schemas import (
    AdmitOut,
    AssessmentIn,
    AssessmentOut,
    CloseIn,
    EvaluateIn,
    ProgramIn,
    RecommendationOut,
    ReferOutIn,
    ReferralAdmitIn,
    ReferralDetailOut,
    ReferralIn,
    ReferralPage,
    ReferralStatus,
    ScreeningIn,
    ScreeningOut,
    SeatOffersOut,
    WaitlistOut,
)
from openiop.scheduling.availability import Window, conflicts
from openiop.scheduling.models import Session, SessionSeries

router = Router()
CAT = AuditEvent.Category.EPISODE


# --- output -------------------------------------------------------------------------------------


def patient_ref(patient: Patient | None) -> dict[str, str] | None:
    if patient is None:
        return None
    return {"id": str(patient.public_id), "name": patient.display_name, "mrn": patient.mrn}


def referral_out(referral: Referral) -> dict[str, Any]:
    return {
        "id": str(referral.public_id),
        "first_name": referral.first_name,
        "last_name": referral.last_name,
        "display_name": referral.display_name,
        "date_of_birth": referral.date_of_birth,
        "phone": referral.phone,
        "email": referral.email,
        "source": referral.source,
        "referrer_name": referral.referrer_name,
        "referrer_contact": referral.referrer_contact,
        "reason": referral.reason,
        "urgency": referral.urgency,
        "received_on": referral.received_on,
        "status": referral.status,
        "program_requested": ref(referral.program_requested),
        "patient": patient_ref(referral.patient),
        "episode": str(referral.episode.public_id) if referral.episode_id else None,
        "assigned_to": ref(referral.assigned_to),
        "referred_out_to": referral.referred_out_to,
        "outcome_note": referral.outcome_note,
        "closed_on": referral.closed_on,
    }


def screening_out(screening: Screening) -> dict[str, Any]:
    return {
        "id": str(screening.public_id),
        "screened_at": screening.screened_at,
        "screened_by": ref(screening.screened_by),
        "substances": list(screening.substances),
        "last_use_on": screening.last_use_on,
        "withdrawal_symptoms": screening.withdrawal_symptoms,
        "withdrawal_severe": screening.withdrawal_severe,
        "suicidal_ideation": screening.suicidal_ideation,
        "suicide_plan_or_intent": screening.suicide_plan_or_intent,
        "homicidal_ideation": screening.homicidal_ideation,
        "pregnant": screening.pregnant,
        "insurance": screening.insurance,
        "route": screening.route,
        "route_label": screening.get_route_display(),
        "reasons": list(screening.route_reasons),
        "notes": screening.notes,
    }


def assessment_out(a: Assessment) -> dict[str, Any]:
    return {
        "id": str(a.public_id),
        "assessed_on": a.assessed_on,
        "assessed_by": ref(a.assessed_by),
        "criteria_edition": a.criteria_edition,
        "age": a.age,
        **{f"d{n}": rating for n, rating, _ in a.ratings},
        **{f"d{n}_note": note for n, _, note in a.ratings},
        **{name: getattr(a, name) for name in rules.RISK_FACTS},
        "responsibilities": list(a.responsibilities),
        "substances": list(a.substances),
        "mat_interest": a.mat_interest,
        "mat_eligible": a.mat_eligible,
        "recommended_level": a.recommended_level,
        "recommended_category": a.recommended_category,
        "recommendation": a.recommendation,
        "chosen_level": a.chosen_level,
        "chosen_program": ref(a.chosen_program),
        "variance": a.is_variance,
        "variance_reason": a.variance_reason,
        "supersedes": str(a.supersedes.public_id) if a.supersedes_id else None,
    }


def _assessments(referral: Referral) -> list[Assessment]:
    # "-id" breaks ties between two assessments saved in the same instant (newest first).
    return list(
        referral.assessments.select_related("assessed_by", "chosen_program", "supersedes").order_by(
            "-assessed_on", "-created_at", "-id"
        )
    )


def referral_detail(referral: Referral) -> dict[str, Any]:
    screenings = referral.screenings.select_related("screened_by").order_by("-screened_at", "-id")
    return {
        **referral_out(referral),
        "screenings": [screening_out(s) for s in screenings],
        "assessments": [assessment_out(a) for a in _assessments(referral)],
    }


def _next_session(session: Session | None, tz: Any) -> dict[str, Any] | None:
    if session is None:
        return None
    return {"id": str(session.public_id), "starts_at": session.starts_at.astimezone(tz)}


def _group(series: SessionSeries, next_session: Session | None, free: int, tz: Any) -> dict:
    return {
        "id": str(series.public_id),
        "title": series.title,
        "weekdays": series.weekday_list,
        "start_time": series.start_time,
        "duration_minutes": series.duration_minutes,
        "next_session": _next_session(next_session, tz),
        "free_seats": free,
    }


# --- helpers ------------------------------------------------------------------------------------


def _referral(request: HttpRequest, referral_id: uuid.UUID, perm: Perm) -> Referral:
    return selectors.referral_get(user=request.user, public_id=referral_id, perm=perm)


def _reload(referral: Referral) -> Referral:
    return Referral.objects.select_related(
        "patient", "program_requested", "episode", "assigned_to"
    ).get(pk=referral.pk)


def _program(user: Any, public_id: Any, field: str = "program") -> Program:
    return resolve(Program.objects.select_related("site"), user, public_id, field, "program")


def _audit_read(request: HttpRequest, referral: Referral, verb: str, **detail: Any) -> None:
    audit_log(
        actor=request.user,
        action=f"openiop.placement.{verb}",
        category=CAT,
        obj=referral,
        patient=referral.patient,
        request=request,
        detail={"referral": str(referral.public_id), **detail},
    )


class _DuplicateField(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateField(key)
        seen[key] = value
    return seen


def _unprocessable(errors: list[tuple[str | None, str]]) -> Status[dict[str, Any]]:
    detail = [
        {
            "field": field,
            "message": message,
            "loc": ["body", field] if field else ["body"],
            "type": "assessment",
        }
        for field, message in errors
    ]
    return Status(422, {"detail": detail})


# --- evaluate -----------------------------------------------------------------------------------


@router.post(
    "placement/evaluate",
    response=responses(RecommendationOut),
    summary="Recommend a level of care for an assessment (decision support; nothing is stored)",
    description=(
        "The same rules as `openiop placement evaluate` (docs/placement.md), with the "
        "organization's active programs matched. " + rules.DISCLAIMER + " A bad body is a 422 "
        "listing every bad field (missing, unknown, wrong type, out of range)."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": EvaluateIn.model_json_schema()}},
        }
    },
)
def evaluate(request: HttpRequest) -> Any:
    user = request.user
    require_perm(user, Perm.ASSESSMENT_RECORD)
    try:
        data = json.loads(request.body, object_pairs_hook=_no_duplicates)
    except _DuplicateField as exc:
        return _unprocessable([(str(exc), "field given more than once")])
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, nesting
        where = ""
        if isinstance(exc, json.JSONDecodeError):
            where = f" (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        return _unprocessable([(None, f"The body is not valid JSON{where}.")])
    try:
        return rules.evaluate_json(data, services.program_infos(user.organization_id))
    except rules.AssessmentError as exc:
        return _unprocessable(list(exc.errors))


# --- referrals ----------------------------------------------------------------------------------


@router.get("referrals", response=responses(ReferralPage), summary="List referrals")
def list_referrals(
    request: HttpRequest,
    status: Annotated[
        ReferralStatus | None, Query(description="A status, or 'open' for every open one")
    ] = None,
    q: Annotated[str, Query(max_length=200, description="Words matched against names")] = "",
    limit: Annotated[int | None, Query(ge=1, description="Page size (capped)")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    if "\x00" in q:
        raise ValidationError({"q": "The search must not contain NUL characters."})
    qs = selectors.referral_list(user=request.user, status=status or "", search=q)
    count, referrals, size = paginate(qs, limit, offset)
    if referrals:
        # One row naming every referral shown (and every patient, once there is one).
        audit_log(
            actor=request.user,
            action="openiop.placement.referral.list",
            category=CAT,
            request=request,
            detail={
                "q": q[:100],
                "status": status or "",
                "referrals": [str(r.public_id) for r in referrals],
                "patients": sorted({str(r.patient.public_id) for r in referrals if r.patient}),
            },
        )
    items = [referral_out(r) for r in referrals]
    return {"count": count, "limit": size, "offset": offset, "items": items}


@router.post("referrals", response=responses(ReferralDetailOut, 201), summary="Take a referral")
def create_referral(request: HttpRequest, payload: ReferralIn) -> Status[dict[str, Any]]:
    user = request.user
    require_perm(user, Perm.REFERRAL_MANAGE)
    program = _program(user, payload.program_requested, "program_requested")
    patient = resolve(Patient.objects.all(), user, payload.patient, "patient", "patient")
    referral = services.referral_create(
        actor=user,
        organization=user.organization,
        program_requested=program,
        patient=patient,
        request=request,
        **payload.model_dump(exclude={"program_requested", "patient"}),
    )
    return Status(201, referral_detail(_reload(referral)))


@router.get(
    "referrals/{referral_id}",
    response=responses(ReferralDetailOut),
    summary="Read a referral with its screens and assessments",
)
def get_referral(request: HttpRequest, referral_id: uuid.UUID) -> dict[str, Any]:
    referral = _referral(request, referral_id, Perm.REFERRAL_VIEW)
    _audit_read(request, referral, "referral.read")
    return referral_detail(referral)


@router.post(
    "referrals/{referral_id}/screenings",
    response=responses(ScreeningOut, 201),
    summary="Record the phone screen; the route says whether to assess or send elsewhere now",
)
def create_screening(
    request: HttpRequest, referral_id: uuid.UUID, payload: ScreeningIn
) -> Status[dict[str, Any]]:
    referral = _referral(request, referral_id, Perm.REFERRAL_MANAGE)
    screening = services.screening_record(
        actor=request.user, referral=referral, request=request, **payload.model_dump()
    )
    screening = Screening.objects.select_related("screened_by").get(pk=screening.pk)
    return Status(201, screening_out(screening))


@router.post(
    "referrals/{referral_id}/assessments",
    response=responses(AssessmentOut, 201),
    summary="Record a six-dimension assessment (or a reassessment) and the level chosen",
    description=(
        "The recommendation is computed by the same rules as `POST /placement/evaluate` and "
        "stored beside the clinician's `chosen_level`; a different level needs a "
        "`variance_reason`. " + rules.DISCLAIMER
    ),
)
def create_assessment(
    request: HttpRequest, referral_id: uuid.UUID, payload: AssessmentIn
) -> Status[dict[str, Any]]:
    user = request.user
    referral = _referral(request, referral_id, Perm.ASSESSMENT_RECORD)
    data = payload.model_dump()
    chosen_program = _program(user, data.pop("chosen_program"), "chosen_program")
    if data["assessed_on"] > timezone.localdate() + dt.timedelta(days=1):
        # assessment_record does not check this itself.
        raise ValidationError({"assessed_on": "An assessment cannot be dated in the future."})
    ratings = {name: data.pop(name) for name in services.RULE_FIELDS}
    notes = {n: data.pop(f"d{n}_note") for n in range(1, 7)}
    assessment = services.assessment_record(
        actor=user,
        referral=referral,
        ratings=ratings,
        notes=notes,
        chosen_program=chosen_program,
        request=request,
        **data,
    )
    saved = Assessment.objects.select_related("assessed_by", "chosen_program", "supersedes")
    return Status(201, assessment_out(saved.get(pk=assessment.pk)))


def _default_program(referral: Referral) -> Program | None:
    """Where the person is headed: the episode's program, else the program chosen at the latest
    assessment, else the program the referral asked for."""
    if referral.episode_id:
        return referral.episode.program
    for assessment in _assessments(referral):
        if assessment.chosen_program_id:
            return assessment.chosen_program
    return referral.program_requested


@router.get(
    "referrals/{referral_id}/seat-offers",
    response=responses(SeatOffersOut),
    summary="Groups of a program with a free seat, and whether each fits the person's week",
)
def seat_offers(
    request: HttpRequest,
    referral_id: uuid.UUID,
    program: Annotated[
        uuid.UUID | None,
        Query(description="Default: the episode's, the chosen or the requested program"),
    ] = None,
    from_date: Annotated[
        Day | None, Query(alias="from", description="YYYY-MM-DD; default today (site-local)")
    ] = None,
) -> dict[str, Any]:
    user = request.user
    referral = _referral(request, referral_id, Perm.REFERRAL_VIEW)
    if program is not None:
        chosen = _program(user, program)
    else:
        default = _default_program(referral)
        if default is None:
            raise ValidationError({"program": "Name the program to offer seats in."})
        chosen = Program.objects.select_related("site").get(pk=default.pk)
    tz = chosen.site.tz
    start = from_date or timezone.now().astimezone(tz).date()
    patient = referral.patient
    if patient is not None:
        patient = Patient.objects.prefetch_related("unavailable_windows").get(pk=patient.pk)
    offers = selectors.seat_offers(
        program=chosen, windows=selectors.patient_windows(patient), from_date=start
    )
    _audit_read(request, referral, "seat_offer.list", program=str(chosen.public_id))
    return {
        "referral": str(referral.public_id),
        "program": ref(chosen),
        "from_date": start,
        "offers": [
            {
                **_group(o.series, o.next_session, o.free_seats, tz),
                "fits": o.fits,
                "clashes": [_clash(w) for w in o.clashes],
            }
            for o in offers
        ],
    }


def _clash(window: Window) -> dict[str, Any]:
    return {"weekday": window.weekday, "start": window.start, "end": window.end,
            "label": window.label}  # fmt: skip


@router.post(
    "referrals/{referral_id}/admit",
    response=responses(AdmitOut),
    summary="Admit: episode, consent to treat, and the chosen groups booked",
    description="Admits the waitlisted episode if there is one. A minor needs "
    "`guardian_signed_by`. `series` are group ids from the seat offers.",
)
def admit_referral(request: HttpRequest, referral_id: uuid.UUID, payload: ReferralAdmitIn) -> dict:
    user = request.user
    referral = _referral(request, referral_id, Perm.EPISODE_MANAGE)
    program = _program(user, payload.program)
    wanted = list(dict.fromkeys(payload.series))
    groups = {
        s.public_id: s
        for s in SessionSeries.objects.filter(
            organization_id=user.organization_id, public_id__in=wanted
        ).select_related("program__site")
    }
    if len(groups) != len(wanted):
        raise ValidationError({"series": "Unknown group."})
    counselor = resolve_staff(user, payload.primary_counselor, "primary_counselor")
    # referral_admit does not return the count, so count this episode's bookings around it.
    waiting = referral.episode_id
    before = AttendanceRecord.objects.filter(episode_id=waiting).count() if waiting else 0
    episode = services.referral_admit(
        actor=user,
        referral=referral,
        program=program,
        admitted_on=payload.admitted_on,
        consent_signed_by=payload.consent_signed_by,
        guardian_signed_by=payload.guardian_signed_by,
        series=[groups[key] for key in wanted],
        primary_counselor=counselor,
        primary_substance=payload.primary_substance,
        mat=payload.mat,
        request=request,
    )
    booked = AttendanceRecord.objects.filter(episode=episode).count() - before
    episode = Episode.objects.select_related("patient", "program").get(pk=episode.pk)
    referral.refresh_from_db(fields=["status"])
    return {
        "referral": str(referral.public_id),
        "status": referral.status,
        "episode": str(episode.public_id),
        "patient": patient_ref(episode.patient),
        "program": ref(episode.program),
        "booked": booked,
    }


@router.post(
    "referrals/{referral_id}/waitlist",
    response=responses(ReferralDetailOut),
    summary="Put the person on a program's waitlist",
)
def waitlist_referral(request: HttpRequest, referral_id: uuid.UUID, payload: ProgramIn) -> dict:
    referral = _referral(request, referral_id, Perm.REFERRAL_MANAGE)
    program = _program(request.user, payload.program)
    services.referral_waitlist(
        actor=request.user, referral=referral, program=program, request=request
    )
    return referral_detail(_reload(referral))


@router.post(
    "referrals/{referral_id}/refer-out",
    response=responses(ReferralDetailOut),
    summary="Close the referral by sending the person elsewhere",
)
def refer_out(request: HttpRequest, referral_id: uuid.UUID, payload: ReferOutIn) -> dict:
    referral = _referral(request, referral_id, Perm.REFERRAL_MANAGE)
    services.referral_refer_out(
        actor=request.user, referral=referral, to=payload.to, note=payload.note, request=request
    )
    return referral_detail(_reload(referral))


@router.post(
    "referrals/{referral_id}/close",
    response=responses(ReferralDetailOut),
    summary="Close as declined or lost to contact",
)
def close_referral(request: HttpRequest, referral_id: uuid.UUID, payload: CloseIn) -> dict:
    referral = _referral(request, referral_id, Perm.REFERRAL_MANAGE)
    services.referral_close(
        actor=request.user,
        referral=referral,
        status=payload.status,
        note=payload.note,
        request=request,
    )
    return referral_detail(_reload(referral))


# --- waitlist -----------------------------------------------------------------------------------


def _waiting_out(position: int, episode: Episode) -> dict[str, Any]:
    referral = getattr(episode, "referral", None)  # an episode made via /episodes has none
    return {
        "position": position,
        "episode": str(episode.public_id),
        "referral": str(referral.public_id) if referral is not None else None,
        "patient": patient_ref(episode.patient),
        "urgency": referral.urgency if referral is not None else None,
        "waiting_since": episode.referral_date or episode.created_at.date(),
    }


@router.get(
    "waitlist",
    response=responses(WaitlistOut),
    summary="A program's waitlist in offer order, and who each free seat fits first",
)
def program_waitlist(
    request: HttpRequest,
    program: Annotated[uuid.UUID, Query(description="Program id")],
) -> dict[str, Any]:
    user = request.user
    require_perm(user, Perm.REFERRAL_VIEW)
    chosen = _program(user, program)
    tz = chosen.site.tz
    waiting = list(selectors.waitlist_for_program(program=chosen))
    rows = [_waiting_out(i, e) for i, e in enumerate(waiting, start=1)]
    windows = [selectors.patient_windows(e.patient) for e in waiting]  # prefetched
    today = timezone.now().astimezone(tz).date()
    groups = []
    for offer in selectors.seat_offers(program=chosen, windows=[], from_date=today):
        if not offer.fits:  # with no windows: a next meeting with a free seat
            continue
        g = offer.series
        # The same test as selectors.waitlist_first_fit, on the list already loaded.
        first = next(
            (
                row
                for row, mine in zip(rows, windows, strict=True)
                if not conflicts(g.weekday_list, g.start_time, g.duration_minutes, mine)
            ),
            None,
        )
        groups.append({**_group(g, offer.next_session, offer.free_seats, tz), "first_fit": first})
    audit_log_many(
        actor=user,
        action="openiop.placement.waitlist.read",
        category=CAT,
        patients=[e.patient for e in waiting],
        request=request,
        detail={"program": str(chosen.public_id)},
    )
    return {"program": ref(chosen), "waiting": rows, "open_groups": groups}
