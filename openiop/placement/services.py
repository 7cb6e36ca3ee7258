"""Intake writes: referral, screen, assessment, waitlist, admission, referral out.

Each is keyword-only, atomic and audited. Recommendations come from the pure ``rules`` module;
the clinician's choice is stored beside it, and a different choice needs a reason (variance).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.core.actors import user_or_none as _user
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.enrollment.services import episode_admit, episode_create
from openiop.organizations.models import Organization, Program
from openiop.patients.models import Patient
from openiop.patients.services import patient_create
from openiop.placement import rules
from openiop.placement.models import Assessment, ConsentToTreat, Referral, Screening
from openiop.placement.screening import ScreenAnswers, normalize_substances, route_screen
from openiop.scheduling.models import SessionSeries
from openiop.scheduling.services import series_enroll

CAT = AuditEvent.Category.EPISODE
R = Referral.Status


def _require_open(referral: Referral) -> None:
    if not referral.is_open:
        raise ValidationError(
            {"status": f"This referral is closed ({referral.get_status_display().lower()})."}
        )


def _audit(
    actor: Any, verb: str, obj: Any, referral: Referral, request: Any, **detail: Any
) -> None:
    audit_log(
        actor=actor,
        action=f"openiop.placement.{verb}",
        category=CAT,
        obj=obj,
        patient=referral.patient,
        request=request,
        detail={"referral": str(referral.public_id), **detail},
    )


@transaction.atomic
def referral_create(
    *,
    actor: Any,
    organization: Organization,
    first_name: str,
    last_name: str,
    received_on: dt.date,
    source: str = "self",
    urgency: str = "routine",
    date_of_birth: dt.date | None = None,
    phone: str = "",
    email: str = "",
    referrer_name: str = "",
    referrer_contact: str = "",
    reason: str = "",
    program_requested: Program | None = None,
    patient: Patient | None = None,
    request: HttpRequest | None = None,
) -> Referral:
    if program_requested is not None and program_requested.organization_id != organization.pk:
        raise ValidationError({"program_requested": "Unknown program."})
    if patient is not None and patient.organization_id != organization.pk:
        raise ValidationError({"patient": "Unknown patient."})
    if received_on > organization.today():
        raise ValidationError({"received_on": "A referral cannot be received in the future."})
    if not (phone or email or referrer_contact):
        raise ValidationError({"phone": "Give at least one way to reach the person or referrer."})
    referral = Referral(
        organization=organization,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        phone=phone,
        email=email,
        source=source,
        urgency=urgency,
        referrer_name=referrer_name,
        referrer_contact=referrer_contact,
        reason=reason,
        received_on=received_on,
        program_requested=program_requested,
        patient=patient,
        created_by=_user(actor),
        assigned_to=_user(actor),
    )
    referral.full_clean(exclude=["organization", "created_by", "updated_by", "assigned_to"])
    referral.save()
    _audit(actor, "referral.create", referral, referral, request)
    return referral


@transaction.atomic
def screening_record(
    *,
    actor: Any,
    referral: Referral,
    substances: Sequence[str],
    last_use_on: dt.date | None = None,
    withdrawal_symptoms: bool = False,
    withdrawal_severe: bool = False,
    suicidal_ideation: bool = False,
    suicide_plan_or_intent: bool = False,
    homicidal_ideation: bool = False,
    pregnant: str = "unknown",
    insurance: str = "",
    notes: str = "",
    request: HttpRequest | None = None,
) -> Screening:
    """Record the phone screen and its route. A route other than "assess" is shown to the
    coordinator at once; they then refer out (``referral_refer_out``) with one click."""
    _require_open(referral)
    now = timezone.now()
    today = referral.organization.today()
    if last_use_on is not None and last_use_on > today + dt.timedelta(days=1):
        raise ValidationError({"last_use_on": "Last use cannot be in the future."})
    if pregnant not in {"yes", "no", "unknown"}:
        raise ValidationError({"pregnant": "Answer yes, no or unknown."})
    answers = ScreenAnswers(
        substances=normalize_substances(substances),
        last_use_on=last_use_on,
        withdrawal_symptoms=withdrawal_symptoms or withdrawal_severe,
        withdrawal_severe=withdrawal_severe,
        suicidal_ideation=suicidal_ideation,
        suicide_plan_or_intent=suicide_plan_or_intent,
        homicidal_ideation=homicidal_ideation,
        pregnant=pregnant,
    )
    routed = route_screen(answers, today)
    screening = Screening.objects.create(
        organization_id=referral.organization_id,
        referral=referral,
        screened_at=now,
        screened_by=_user(actor),
        substances=sorted(answers.substances),
        last_use_on=last_use_on,
        withdrawal_symptoms=answers.withdrawal_symptoms,
        withdrawal_severe=withdrawal_severe,
        suicidal_ideation=suicidal_ideation,
        suicide_plan_or_intent=suicide_plan_or_intent,
        homicidal_ideation=homicidal_ideation,
        pregnant=pregnant,
        insurance=insurance,
        route=routed.route,
        route_reasons=list(routed.reasons),
        notes=notes,
        created_by=_user(actor),
    )
    if referral.status == R.NEW:
        referral.status = R.SCREENING
        referral.save(update_fields=["status", "updated_at"])
    _audit(actor, "screening.create", screening, referral, request, route=routed.route)
    return screening


def program_infos(organization_id: int, *, full: frozenset[int] = frozenset()) -> list[Any]:
    """The organization's active programs as the rules module sees them."""
    programs = Program.objects.for_org(organization_id).filter(is_active=True).order_by("name")
    return [
        rules.ProgramInfo(
            key=str(p.public_id),
            name=p.name,
            population=p.population,
            min_age=p.min_age,
            max_age=p.max_age,
            modality=p.modality,
            cohort=p.cohort,
            level_of_care=p.level_of_care,
            is_full=p.pk in full,
        )
        for p in programs
    ]


def recommend(data: dict[str, Any], organization_id: int | None = None) -> Any:
    """Parse and evaluate an assessment dict; raise ValidationError naming the field."""
    try:
        parsed = rules.parse_assessment(data)
    except rules.AssessmentError as exc:
        errors: dict[str, list[str]] = {}
        for name, message in exc.errors:
            errors.setdefault(name, []).append(message)
        raise ValidationError(errors) from None
    programs = program_infos(organization_id) if organization_id is not None else []
    return parsed, rules.evaluate(parsed, programs)


RULE_FIELDS = (
    "d1",
    "d2",
    "d3",
    "d4",
    "d5",
    "d6",
    "needs_detox_now",
    "needs_24h_supervision",
    "toxic_home",
    "harmful_environment",
    "serious_co_occurring",
    "medically_unstable",
)


@transaction.atomic
def assessment_record(
    *,
    actor: Any,
    referral: Referral,
    assessed_on: dt.date,
    ratings: dict[str, Any],
    notes: dict[int, str],
    chosen_level: str,
    chosen_program: Program | None = None,
    variance_reason: str = "",
    criteria_edition: str = "3",
    age: int | None = None,
    responsibilities: Sequence[str] = (),
    substances: Sequence[str] = (),
    mat_interest: bool = False,
    mat_eligible: bool = False,
    request: HttpRequest | None = None,
) -> Assessment:
    """Record an assessment (or a reassessment: the newest one is superseded, never edited).

    ``ratings`` holds d1..d6 and the six risk facts. Every dimension needs a justification. The
    recommendation is stored with the clinician's choice; a different level needs a reason.
    """
    _require_open(referral)
    errors: dict[str, str] = {}
    if age is None:
        dob = referral.patient.date_of_birth if referral.patient else referral.date_of_birth
        if dob is None:
            errors["age"] = "Give the person's age or date of birth."
        else:
            age = (
                assessed_on.year
                - dob.year
                - ((assessed_on.month, assessed_on.day) < (dob.month, dob.day))
            )
    for n in range(1, 7):
        if not (notes.get(n) or "").strip():
            errors[f"d{n}_note"] = f"Justify the dimension {n} rating."
    if errors:
        raise ValidationError(errors)
    data = {name: ratings.get(name) for name in RULE_FIELDS}
    data.update(
        age=age,
        responsibilities=list(responsibilities),
        substances=list(substances),
        criteria_edition=criteria_edition,
    )
    if assessed_on > referral.organization.today():
        raise ValidationError({"assessed_on": "An assessment cannot be dated in the future."})
    if assessed_on < referral.received_on:
        raise ValidationError({"assessed_on": "The assessment cannot be before the referral."})
    parsed, rec = recommend(data, referral.organization_id)
    chosen_level = rules.normalize_level((chosen_level or rec.level).strip())
    if chosen_level not in rules.LEVELS:
        raise ValidationError(
            {
                "chosen_level": f"Unknown level {chosen_level!r}; "
                f"use one of {', '.join(rules.LEVELS)}."
            }
        )
    if chosen_program is not None:
        if chosen_program.organization_id != referral.organization_id:
            raise ValidationError({"chosen_program": "Unknown program."})
        if chosen_program.level_of_care != chosen_level:
            raise ValidationError(
                {
                    "chosen_program": f"{chosen_program} is level {chosen_program.level_of_care}, "
                    f"not the chosen level {chosen_level}."
                }
            )
        if age is not None and (
            age < chosen_program.min_age
            or (chosen_program.max_age is not None and age > chosen_program.max_age)
        ):
            raise ValidationError({"chosen_program": f"{chosen_program} does not serve age {age}."})
    if chosen_level != rec.level and not variance_reason.strip():
        raise ValidationError(
            {
                "variance_reason": f"The recommendation is {rec.level}; say why you chose "
                f"{chosen_level} (variance)."
            }
        )
    # The newest record is the one in force; a reassessment always supersedes it.
    previous = referral.assessments.order_by("-created_at", "-id").first()
    assessment = Assessment(
        organization_id=referral.organization_id,
        referral=referral,
        patient=referral.patient,
        supersedes=previous,
        assessed_on=assessed_on,
        assessed_by=_user(actor),
        criteria_edition=criteria_edition,
        age=age,
        responsibilities=sorted(set(responsibilities)),
        substances=sorted(set(substances)),
        mat_interest=mat_interest,
        mat_eligible=mat_eligible,
        recommended_level=rec.level,
        recommended_category=rec.level_category,
        recommendation=rec.to_json(),
        chosen_level=chosen_level,
        chosen_program=chosen_program,
        variance_reason=variance_reason.strip() if chosen_level != rec.level else "",
        created_by=_user(actor),
        **{name: bool(data[name]) for name in RULE_FIELDS[6:]},
        **{f"d{n}": int(data[f"d{n}"]) for n in range(1, 7)},
        **{f"d{n}_note": notes[n].strip() for n in range(1, 7)},
    )
    assessment.save()
    if referral.status in (R.NEW, R.SCREENING):
        referral.status = R.ASSESSMENT
        referral.save(update_fields=["status", "updated_at"])
    _audit(
        actor,
        "assessment.create",
        assessment,
        referral,
        request,
        recommended=rec.level,
        chosen=chosen_level,
        variance=chosen_level != rec.level,
    )
    return assessment


def _close(referral: Referral, status: str, note: str, actor: Any) -> None:
    referral.status = status
    referral.outcome_note = note
    referral.closed_on = referral.organization.today()
    referral.updated_by = _user(actor)


@transaction.atomic
def referral_refer_out(
    *, actor: Any, referral: Referral, to: str, note: str = "", request: HttpRequest | None = None
) -> Referral:
    """Close the referral by sending the person elsewhere; ``to`` records where."""
    _require_open(referral)
    if not to.strip():
        raise ValidationError({"to": "Say where the person was referred."})
    referral.referred_out_to = to.strip()
    _close(referral, R.REFERRED_OUT, note, actor)
    referral.save()
    _audit(actor, "referral.refer_out", referral, referral, request, to=to.strip())
    return referral


@transaction.atomic
def referral_close(
    *, actor: Any, referral: Referral, status: str, note: str, request: HttpRequest | None = None
) -> Referral:
    """Declined (the person or the program said no) or lost to contact."""
    _require_open(referral)
    if status not in (R.DECLINED, R.LOST):
        raise ValidationError({"status": "Close as declined or lost to contact."})
    if not note.strip():
        raise ValidationError({"note": "Add a short note."})
    _close(referral, status, note.strip(), actor)
    referral.save()
    _audit(actor, "referral.close", referral, referral, request, status=status)
    return referral


def _patient_for(actor: Any, referral: Referral, request: HttpRequest | None) -> Patient:
    if referral.patient is not None:
        return referral.patient
    if referral.date_of_birth is None:
        raise ValidationError({"date_of_birth": "Record the date of birth before admission."})
    # A returning person: reuse their chart rather than opening a duplicate record.
    same = list(
        Patient.objects.for_org(referral.organization_id).filter(
            first_name__iexact=referral.first_name,
            last_name__iexact=referral.last_name,
            date_of_birth=referral.date_of_birth,
        )[:2]
    )
    if len(same) == 1:
        referral.patient = same[0]
        referral.save(update_fields=["patient", "updated_at"])
        Assessment.objects.filter(referral=referral, patient__isnull=True).update(patient=same[0])
        return same[0]
    patient = patient_create(
        actor=actor,
        organization=referral.organization,
        first_name=referral.first_name,
        last_name=referral.last_name,
        date_of_birth=referral.date_of_birth,
        phone=referral.phone,
        email=referral.email,
        request=request,
    )
    referral.patient = patient
    referral.save(update_fields=["patient", "updated_at"])
    Assessment.objects.filter(referral=referral, patient__isnull=True).update(patient=patient)
    return patient


def _latest_assessment(referral: Referral) -> Assessment:
    assessment = referral.assessments.order_by("-created_at", "-id").first()
    if assessment is None:
        raise ValidationError({"referral": "Record an assessment before admission."})
    return assessment


def _require_chosen_level(assessment: Assessment, program: Program) -> None:
    """The program must deliver the level the latest assessment chose (admission and waitlist)."""
    chosen = rules.normalize_level(assessment.chosen_level)
    offered = rules.normalize_level(program.level_of_care or "")
    if offered == chosen:
        return
    if offered == rules.normalize_level(assessment.recommended_level):
        how = f"choose level {offered} (the recommended level)"
    else:
        how = f"record the choice of level {offered} with a variance reason"
    raise ValidationError(
        {
            "program": f"{program.name} is level {offered}, but the latest assessment "
            f"({assessment.assessed_on:%Y-%m-%d}) chose level {chosen}. Pick a level {chosen} "
            f"program, or reassess and {how}."
        }
    )


@transaction.atomic
def referral_waitlist(
    *, actor: Any, referral: Referral, program: Program, request: HttpRequest | None = None
) -> Episode:
    """Put the person on the program's waitlist (an Episode in status waitlisted)."""
    _require_open(referral)
    if program.organization_id != referral.organization_id:
        raise ValidationError({"program": "Unknown program."})
    _require_chosen_level(_latest_assessment(referral), program)
    patient = _patient_for(actor, referral, request)
    if referral.episode is not None:
        raise ValidationError({"referral": "This referral already has an episode."})
    episode = episode_create(
        actor=actor,
        patient=patient,
        program=program,
        referral_date=referral.received_on,
        referral_source=referral.source,
        request=request,
    )
    referral.episode = episode
    referral.status = R.WAITLISTED
    referral.save(update_fields=["episode", "status", "updated_at"])
    _audit(actor, "referral.waitlist", referral, referral, request, program=str(program.public_id))
    return episode


@transaction.atomic
def referral_admit(
    *,
    actor: Any,
    referral: Referral,
    program: Program,
    admitted_on: dt.date,
    consent_signed_by: str,
    guardian_signed_by: str = "",
    series: Sequence[SessionSeries] = (),
    primary_counselor: Any = None,
    primary_substance: int | None = None,
    mat: bool = False,
    baseline_days_used_30: int | None = None,
    request: HttpRequest | None = None,
) -> Episode:
    """Admit: create (or admit the waitlisted) Episode, record the consent to treat, and book the
    chosen groups from the admission date. Minors need a guardian's signature."""
    if referral.status not in (*Referral.OPEN_STATUSES,):
        raise ValidationError({"status": "This referral is closed."})
    latest = _latest_assessment(referral)
    if program.organization_id != referral.organization_id:
        raise ValidationError({"program": "Unknown program."})
    _require_chosen_level(latest, program)
    if not consent_signed_by.strip():
        raise ValidationError({"consent_signed_by": "The patient signs the consent to treat."})
    patient = _patient_for(actor, referral, request)
    if patient.age_on(admitted_on) < 18 and not guardian_signed_by.strip():
        raise ValidationError(
            {"guardian_signed_by": "A parent or guardian signs the consent for a minor."}
        )
    if (
        primary_counselor is not None
        and primary_counselor.organization_id != referral.organization_id
    ):
        raise ValidationError({"primary_counselor": "Unknown staff member."})
    for group in series:
        if group.program_id != program.pk:
            raise ValidationError({"series": f"{group} is not a group of {program}."})
    if referral.episode is not None and referral.episode.status == Episode.Status.WAITLISTED:
        episode = referral.episode
        if episode.program_id != program.pk:
            raise ValidationError({"program": f"The waitlist entry is for {episode.program}."})
        # Details decided at admission go in with the admission itself (one versioned change).
        if primary_counselor is not None:
            episode.primary_counselor = primary_counselor
        if primary_substance is not None:
            episode.primary_substance = primary_substance
        episode.mat = mat
        if baseline_days_used_30 is not None:
            if not 0 <= baseline_days_used_30 <= 30:
                raise ValidationError(
                    {"baseline_days_used_30": "Days of use in 30 days must be between 0 and 30."}
                )
            episode.baseline_days_used_30 = baseline_days_used_30
        episode_admit(actor=actor, episode=episode, admitted_on=admitted_on, request=request)
    elif referral.episode is not None:
        raise ValidationError({"referral": "This referral already has an episode."})
    else:
        episode = episode_create(
            actor=actor,
            patient=patient,
            program=program,
            admitted_on=admitted_on,
            referral_date=referral.received_on,
            referral_source=referral.source,
            primary_substance=primary_substance,
            mat=mat,
            primary_counselor=primary_counselor,
            baseline_days_used_30=baseline_days_used_30,
            request=request,
        )
    ConsentToTreat.objects.create(
        organization_id=referral.organization_id,
        episode=episode,
        signed_by_patient=consent_signed_by.strip(),
        signed_by_guardian=guardian_signed_by.strip(),
        signed_at=timezone.now(),
        witnessed_by=_user(actor),
        created_by=_user(actor),
    )
    booked = 0
    for group in series:
        booked += series_enroll(
            actor=actor, series=group, episode=episode, from_date=admitted_on, request=request
        )
    referral.episode = episode
    referral.status = R.ADMITTED
    referral.closed_on = admitted_on
    referral.save(update_fields=["episode", "status", "closed_on", "updated_at"])
    _audit(
        actor,
        "referral.admit",
        referral,
        referral,
        request,
        program=str(program.public_id),
        booked=booked,
    )
    episode.refresh_from_db()
    return episode
