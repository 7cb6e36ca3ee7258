"""Builders for the UR and discharge tests: an assessment, a signed plan with a review, signed
notes (including an SUD counseling note that must never appear), attendance."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from openiop.billing.tests.helpers import NY, attend
from openiop.clinical.models import (
    Note,
    ObjectiveProgress,
    PlanGoal,
    PlanObjective,
    PlanProblem,
    PlanReview,
    TreatmentPlan,
)
from openiop.placement.models import Assessment, Referral


def assessment(episode, on=dt.date(2026, 10, 28), **kw):
    patient = episode.patient
    referral = Referral.objects.create(
        organization_id=episode.organization_id, patient=patient, first_name=patient.first_name,
        last_name=patient.last_name, received_on=on, status="admitted",
    )  # fmt: skip
    data = {f"d{n}": r for n, r in zip(range(1, 7), (1, 0, 2, 3, 2, 1), strict=True)}
    data |= {f"d{n}_note": f"Justification for dimension {n}" for n in range(1, 7)}
    data |= kw
    return Assessment.objects.create(
        organization_id=episode.organization_id, referral=referral, patient=patient,
        assessed_on=on, age=38, recommended_level="2.1", recommended_category="iop",
        recommendation={}, chosen_level="2.1", **data,
    )  # fmt: skip


def plan_with_review(episode, author, reviewed_on=dt.date(2026, 11, 12)):
    now = timezone.now()
    plan = TreatmentPlan.objects.create(
        organization_id=episode.organization_id, episode=episode, patient_id=episode.patient_id,
        status="active", clinician_signed_by=author, clinician_signed_at=now,
        patient_signature="Dana Whitfield", patient_signed_at=now,
        effective_on=dt.date(2026, 11, 3), next_review_on=dt.date(2026, 12, 3),
    )  # fmt: skip
    org = episode.organization_id
    problem = PlanProblem.objects.create(
        organization_id=org, plan=plan, description="Alcohol use disorder, moderate",
        icd10_code="F10.20", icd10_text="Alcohol dependence, uncomplicated",
    )  # fmt: skip
    goal = PlanGoal.objects.create(
        organization_id=org, problem=problem, text="I want to stay sober for my kids"
    )
    o1 = PlanObjective.objects.create(
        organization_id=org, goal=goal, position=0, text="Attend 3 groups a week for 6 weeks"
    )
    o2 = PlanObjective.objects.create(
        organization_id=org,
        goal=goal,
        position=1,
        text="Name 3 relapse triggers and a plan for each",
    )
    o3 = PlanObjective.objects.create(
        organization_id=org, goal=goal, position=2, text="Attend 2 mutual-help meetings a week"
    )
    early = PlanReview.objects.create(
        organization_id=org, plan=plan, reviewed_on=dt.date(2026, 11, 5), reviewer=author,
        summary="Early check", due_on=dt.date(2026, 11, 5), next_review_on=dt.date(2026, 11, 12),
    )  # fmt: skip
    ObjectiveProgress.objects.create(
        organization_id=org, review=early, objective=o1, rating="no_progress"
    )
    review = PlanReview.objects.create(
        organization_id=org, plan=plan, reviewed_on=reviewed_on, reviewer=author,
        summary="Progressing", due_on=reviewed_on, next_review_on=reviewed_on + dt.timedelta(30),
    )  # fmt: skip
    ObjectiveProgress.objects.create(
        organization_id=org,
        review=review,
        objective=o1,
        rating="achieved",
        comment="Perfect attendance",
    )
    ObjectiveProgress.objects.create(
        organization_id=org, review=review, objective=o2, rating="progressing"
    )
    return plan, (o1, o2, o3)


def signed_note(episode, author, day, kind="individual", minutes=50, secret="", signed=True):
    starts = dt.datetime.combine(day, dt.time(10), tzinfo=NY)
    fmt = "GRP" if kind == "group_individualized" else "DAP"
    sections = (
        {"data": secret or "Talked about work stress", "assessment": "Engaged", "plan": "Continue"}
        if fmt == "DAP"
        else {"participation": "Active", "response": "Good", "progress": "Yes", "risk": "None"}
    )
    return Note.objects.create(
        organization_id=episode.organization_id, episode=episode, patient_id=episode.patient_id,
        kind=kind, format=fmt, sections=sections, started_at=starts,
        ended_at=starts + dt.timedelta(minutes=minutes), author=author,
        status="signed" if signed else "draft",
        signed_at=starts + dt.timedelta(hours=2) if signed else None,
        signed_by=author if signed else None,
    )  # fmt: skip


def full_record(episode, counselor):
    """Three weeks of treatment from Mon Nov 2, 2026."""
    assessment(episode)
    plan_with_review(episode, counselor)
    for day in (2, 4, 6, 9, 11, 13, 16, 18):
        attend(episode, dt.date(2026, 11, day))
    attend(episode, dt.date(2026, 11, 20), status="absent")
    signed_note(episode, counselor, dt.date(2026, 11, 3))
    signed_note(episode, counselor, dt.date(2026, 11, 10), kind="family", minutes=60)
    signed_note(
        episode,
        counselor,
        dt.date(2026, 11, 12),
        kind="sud_counseling",
        minutes=45,
        secret="SECRET-SUD-COUNSELING-TEXT",
    )
