"""Treatment plans for the demo clinic: a signed plan behind every admitted episode, reviews
on the program's cadence, and some work for the dashboard (a few reviews overdue, one plan
missing, drafts for the newest admissions).

Like ``placement/demo.py``, rows are written directly (bulk, in dependency order) inside the demo
generator's transaction, without an audit row each: the generator writes one audit row for the
whole demo. Deterministic for a given ``rng`` state.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from openiop.accounts.models import User
from openiop.accounts.permissions import Role
from openiop.clinical import cadence
from openiop.clinical.models import (
    ObjectiveProgress,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanReview,
    TreatmentPlan,
)
from openiop.enrollment.models import Episode
from openiop.organizations.models import Organization

ADULT_AGE = 18
OVERDUE_PLANS = 3
OPEN = (Episode.Status.ADMITTED, Episode.Status.ACTIVE, Episode.Status.ON_HOLD)
M = PlanIntervention.Modality
R = ObjectiveProgress.Rating

# (code, diagnosis, problem text, goals in the patient's words, objectives (text, days to target))
SUD: dict[str, tuple[str, str, str, list[str], list[tuple[str, int]]]] = {
    "alcohol": (
        "F10.20",
        "Alcohol dependence, uncomplicated",
        "Daily drinking (a fifth of vodka most days); two missed shifts a week; a DUI in the "
        "spring. Drinks to sleep and when arguing at home.",
        [
            "I want to stop drinking and keep my job.",
            "I don't want my kids to see me drunk.",
            "I want to wake up without needing a drink.",
        ],
        [
            (
                "Abstain from alcohol, shown by negative breathalyzer at every group session "
                "for 30 days in a row",
                30,
            ),
            (
                "Name 3 personal triggers for drinking and a coping step for each, on a written "
                "relapse-prevention plan",
                21,
            ),
            (
                "Attend at least 2 mutual-support meetings (AA or SMART) a week and bring the "
                "attendance sheet",
                45,
            ),
        ],
    ),
    "opioid": (
        "F11.20",
        "Opioid dependence, uncomplicated",
        "Injecting heroin / fentanyl daily for 3 years; one overdose reversed with naloxone in "
        "August. No stable housing; stopped seeing family.",
        [
            "I want to stay alive and get off the streets.",
            "I want to be clean for my daughter.",
            "I don't want to be sick every morning anymore.",
        ],
        [
            (
                "Take buprenorphine as prescribed with no missed doses, confirmed at weekly "
                "medication visits",
                28,
            ),
            (
                "Provide urine drug screens negative for fentanyl and heroin for 4 consecutive "
                "weeks",
                42,
            ),
            ("Carry naloxone and show it at each individual session", 14),
        ],
    ),
    "stimulant": (
        "F15.20",
        "Other stimulant dependence, uncomplicated",
        "Methamphetamine use 4-5 days a week, up for days at a time; weight loss, paranoia "
        "when using; lost apartment.",
        ["I want my mind back.", "I want to keep a place to live."],
        [
            ("Provide urine drug screens negative for amphetamines for 4 consecutive weeks", 42),
            ("Keep a daily sleep log and sleep at least 6 hours on 5 nights a week", 30),
        ],
    ),
    "cocaine": (
        "F14.20",
        "Cocaine dependence, uncomplicated",
        "Crack cocaine on weekends, spending most of each paycheck; debts to family.",
        ["I want to stop wasting my money.", "I want my family to trust me again."],
        [
            ("Provide urine drug screens negative for cocaine for 4 consecutive weeks", 42),
            ("Make a weekly budget with the case manager and follow it for 4 weeks", 35),
        ],
    ),
    "cannabis": (
        "F12.20",
        "Cannabis dependence, uncomplicated",
        "Smoking cannabis from waking; failing classes; conflict with parents over use.",
        ["I want to pass my classes.", "I want my parents off my back."],
        [
            (
                "Reduce use to zero days a week, shown by self-report and screens, by the target "
                "date",
                45,
            ),
            ("Attend school at least 4 days a week, confirmed with the school", 30),
        ],
    ),
}
MOOD = (
    "F32.1",
    "Major depressive disorder, single episode, moderate",
    "Low mood most days, poor sleep, little interest in anything; PHQ-9 of 16 at intake.",
    ["I want to feel like myself again.", "I want to get out of bed in the morning."],
    [
        ("Lower the PHQ-9 score by at least 5 points from intake", 60),
        ("Do one planned pleasant activity 3 times a week and log it", 21),
    ],
)
ANXIETY = (
    "F41.1",
    "Generalized anxiety disorder",
    "Constant worry, racing heart, drinks or uses to calm down; GAD-7 of 14 at intake.",
    ["I want to calm down without using.", "I want to stop worrying all the time."],
    [
        ("Use a breathing or grounding skill when anxious and record it 5 times a week", 21),
        ("Lower the GAD-7 score by at least 4 points from intake", 60),
    ],
)
SUBSTANCE_KIND = {2: "alcohol", 3: "cocaine", 4: "cannabis", 5: "opioid", 6: "opioid",
                  7: "opioid", 10: "stimulant", 11: "stimulant", 12: "stimulant"}  # fmt: skip
STRENGTHS = [
    "Supportive sister who drives to groups; motivated by custody hearing.",
    "Steady job, wants to keep it; 6 months sober in 2022; funny and well liked in group.",
    "Attends church; good insight; has a sponsor from an earlier attempt.",
    "Close to grandmother; plays basketball; honest about use.",
]
BARRIERS = [
    "No car; bus takes an hour. Partner still drinks at home.",
    "Works evening shifts that change weekly; cravings after payday.",
    "Unstable housing; phone often cut off.",
    "Friends all use; school schedule conflicts with Wednesday group.",
]
SUMMARIES = {
    "early": "Attending groups; honest about two slips this month. Working on triggers.",
    "middle": "Steady attendance, screens mostly negative. Started a sober support network.",
    "late": "Consistent recovery behaviors; preparing step-down and aftercare.",
}


@dataclass
class _Plan:
    plan: TreatmentPlan
    parts: list[tuple[PlanProblem, list[tuple[PlanGoal, list[PlanObjective]]]]]
    interventions: list[PlanIntervention] = field(default_factory=list)
    reviews: list[tuple[PlanReview, list[ObjectiveProgress]]] = field(default_factory=list)


def _profiles(rng: random.Random, episode: Episode) -> list[tuple[Any, ...]]:
    kind = SUBSTANCE_KIND.get(episode.primary_substance or 2, "alcohol")
    profiles: list[tuple[Any, ...]] = [SUD[kind]]
    roll = rng.random()
    if roll < 0.25:
        profiles.append(MOOD)
    elif roll < 0.4:
        profiles.append(ANXIETY)
    return profiles


def _at(day: dt.date, hour: int, minute: int, tz: Any) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)


def _rating(rng: random.Random, index: int, total: int) -> str:
    stage = index / max(total, 1)
    if stage < 0.34:
        return rng.choice([R.PROGRESSING, R.PROGRESSING, R.NO_PROGRESS])
    if stage < 0.67:
        return rng.choice([R.PROGRESSING, R.ACHIEVED, R.PROGRESSING, R.REVISED])
    return rng.choice([R.ACHIEVED, R.ACHIEVED, R.PROGRESSING])


def _build(
    rng: random.Random, organization: Organization, episode: Episode, clinician: User | None,
    prescriber: User | None, signed_on: dt.date | None,
) -> _Plan:  # fmt: skip
    program, patient = episode.program, episode.patient
    tz = program.site.tz
    plan = TreatmentPlan(
        organization=organization, episode=episode, patient=patient, version=1,
        strengths=rng.choice(STRENGTHS), barriers=rng.choice(BARRIERS),
        review_interval=program.plan_review_interval, review_unit=program.plan_review_unit,
        created_by=clinician, updated_by=clinician,
    )  # fmt: skip
    if signed_on is not None:
        minor = patient.age_on(signed_on) < ADULT_AGE
        guardians = list(patient.guardians.all())
        plan.status = TreatmentPlan.Status.ACTIVE
        plan.clinician_signed_by = clinician
        plan.clinician_signed_at = _at(signed_on, 14, 10, tz)
        plan.patient_signature = f"{patient.first_name} {patient.last_name}"
        plan.patient_signed_at = _at(signed_on, 14, 12, tz)
        if minor:
            plan.guardian_signature = guardians[0].name if guardians else f"Parent of {patient}"
            plan.guardian_relationship = guardians[0].relationship if guardians else "Parent"
            plan.guardian_signed_at = _at(signed_on, 14, 13, tz)
        plan.effective_on = signed_on
        plan.next_review_on = cadence.next_review_due(
            signed_on, plan.review_interval, plan.review_unit
        )
    base = {"organization": organization, "created_by": clinician, "updated_by": clinician}
    admitted = episode.admitted_on
    assert admitted is not None  # only admitted episodes get plans
    built = _Plan(plan=plan, parts=[])
    for p_index, (code, text, description, goals, objectives) in enumerate(_profiles(rng, episode)):
        problem = PlanProblem(plan=plan, position=p_index, description=description,
                              icd10_code=code, icd10_text=text, **base)  # fmt: skip
        goal = PlanGoal(problem=problem, position=0, text=rng.choice(goals), **base)
        chosen = objectives if p_index == 0 else objectives[:1]
        objs = [
            PlanObjective(
                goal=goal,
                position=o_index,
                text=o_text,
                target_on=admitted + dt.timedelta(days=days),
                **base,
            )  # fmt: skip
            for o_index, (o_text, days) in enumerate(chosen)
        ]
        built.parts.append((problem, [(goal, objs)]))
        for o_index, objective in enumerate(objs):
            for i_index, (modality, frequency, who, what) in enumerate(
                _interventions(code, o_index, episode.mat, clinician, prescriber)
            ):
                built.interventions.append(
                    PlanIntervention(
                        objective=objective,
                        position=i_index,
                        modality=modality,
                        frequency=frequency,
                        responsible=who,
                        description=what,
                        **base,
                    )  # fmt: skip
                )
    return built


def _interventions(
    code: str, index: int, mat: bool, clinician: User | None, prescriber: User | None
) -> list[tuple[str, str, User | None, str]]:
    if code.startswith("F11") and index == 0 and mat:
        return [(M.MEDICATION, "weekly", prescriber, "Buprenorphine induction and maintenance")]
    if code in ("F32.1", "F41.1"):
        return [(M.INDIVIDUAL, "weekly", clinician, "CBT skills for mood and anxiety")]
    if index == 0:
        return [
            (M.GROUP, "3 groups a week", clinician, "Relapse-prevention and coping-skills group"),
            (M.DRUG_SCREENING, "weekly, random day", clinician, "Observed urine drug screen"),
        ]
    if index == 1:
        return [(M.INDIVIDUAL, "weekly", clinician, "Triggers and relapse-prevention plan")]
    return [(M.PEER_SUPPORT, "weekly", None, "Peer recovery coach links to meetings")]


def _reviews(rng: random.Random, built: _Plan, end: dt.date, reviewer: User | None) -> None:
    plan = built.plan
    assert plan.next_review_on is not None and reviewer is not None
    objectives = [o for _, goals in built.parts for _, objs in goals for o in objs]
    due, last = plan.next_review_on, plan.effective_on
    dates: list[tuple[dt.date, dt.date]] = []
    while due <= end:
        reviewed = min(due + dt.timedelta(days=rng.randint(-3, 1)), end)
        reviewed = max(reviewed, (last or reviewed) + dt.timedelta(days=1))
        if reviewed > end:
            break
        dates.append((due, reviewed))
        due = cadence.next_review_due(reviewed, plan.review_interval, plan.review_unit)
        last = reviewed
    for n, (due_on, reviewed_on) in enumerate(dates):
        following = cadence.next_review_due(reviewed_on, plan.review_interval, plan.review_unit)
        stage = "early" if n == 0 else ("late" if n == len(dates) - 1 and n > 1 else "middle")
        review = PlanReview(
            organization=plan.organization, plan=plan, reviewed_on=reviewed_on, reviewer=reviewer,
            summary=SUMMARIES[stage], due_on=due_on, next_review_on=following,
            created_by=reviewer, updated_by=reviewer,
        )  # fmt: skip
        progress = [
            ObjectiveProgress(
                organization=plan.organization,
                review=review,
                objective=o,
                rating=_rating(rng, n + 1, len(dates)),
                created_by=reviewer,
                updated_by=reviewer,
            )  # fmt: skip
            for o in objectives
        ]
        built.reviews.append((review, progress))
        plan.next_review_on = following


def seed_plans(
    *, organization: Organization, episodes: Iterable[Episode], rng: random.Random, today: dt.date
) -> dict[str, int]:
    """Write the demo's plans and reviews; returns counts by kind."""
    ids = [e.pk for e in episodes]
    rows = list(
        Episode.objects.for_org(organization)
        .filter(pk__in=ids, admitted_on__isnull=False)
        .select_related("patient", "program__site", "primary_counselor")
        .prefetch_related("patient__guardians")
        .order_by("admitted_on", "id")
    )
    staff = list(
        User.objects.filter(organization=organization, is_active=True)
        .filter(groups__name__in=[Role.COUNSELOR, Role.PRESCRIBER])
        .prefetch_related("groups")
        .order_by("username")
        .distinct()
    )
    counselors = [u for u in staff if any(g.name == Role.COUNSELOR for g in u.groups.all())]
    prescriber = next((u for u in staff if u not in counselors), None)
    open_rows = [e for e in rows if e.status in OPEN]
    # One admitted patient whose plan is late and not started: work for the dashboard.
    late = [
        e for e in open_rows
        if e.admitted_on and e.admitted_on + dt.timedelta(days=e.program.plan_due_days) < today
    ]  # fmt: skip
    missing = min(late, key=lambda e: abs((today - e.admitted_on).days - 14)) if late else None
    built: list[_Plan] = []
    drafts = 0
    for episode in rows:
        if episode is missing or episode.admitted_on is None:
            continue
        clinician = episode.primary_counselor or (rng.choice(counselors) if counselors else None)
        if clinician is None:
            continue
        end = min(episode.discharged_on or today, today)
        sign_after = rng.randint(1, max(1, min(5, episode.program.plan_due_days - 1)))
        signed_on = episode.admitted_on + dt.timedelta(days=sign_after)
        if signed_on > end:
            if episode.status not in OPEN:
                continue  # left before a plan was signed
            built.append(_build(rng, organization, episode, clinician, prescriber, None))
            drafts += 1
            continue
        item = _build(rng, organization, episode, clinician, prescriber, signed_on)
        _reviews(rng, item, end, clinician)
        built.append(item)
    # A few open plans whose latest review was skipped: overdue on the dashboard.
    candidates = [
        b for b in built
        if b.reviews and b.plan.episode.status in OPEN
        and (today - b.reviews[-1][0].due_on).days in range(1, 15)
    ]  # fmt: skip
    for item in rng.sample(candidates, min(OVERDUE_PLANS, len(candidates))):
        review, _ = item.reviews.pop()
        item.plan.next_review_on = review.due_on
    _write(built)
    return {
        "plans": len(built) - drafts,
        "drafts": drafts,
        "reviews": sum(len(b.reviews) for b in built),
        "missing": int(missing is not None),
    }


def _write(built: list[_Plan]) -> None:
    """Bulk-insert in dependency order; each bulk_create sets the primary keys the next uses."""
    TreatmentPlan.objects.bulk_create([b.plan for b in built])
    problems = [p for b in built for p, _ in b.parts]
    PlanProblem.objects.bulk_create(_relink(problems, "plan"))
    goals = [g for b in built for _, gs in b.parts for g, _ in gs]
    PlanGoal.objects.bulk_create(_relink(goals, "problem"))
    objectives = [o for b in built for _, gs in b.parts for _, os in gs for o in os]
    PlanObjective.objects.bulk_create(_relink(objectives, "goal"))
    interventions = [i for b in built for i in b.interventions]
    PlanIntervention.objects.bulk_create(_relink(interventions, "objective"))
    reviews = [r for b in built for r, _ in b.reviews]
    PlanReview.objects.bulk_create(_relink(reviews, "plan"))
    progress = [p for b in built for _, ps in b.reviews for p in ps]
    ObjectiveProgress.objects.bulk_create(_relink(_relink(progress, "review"), "objective"))


def _relink(rows: list[Any], name: str) -> list[Any]:
    """Copy the (now saved) parent's primary key onto each child's foreign key column."""
    for row in rows:
        setattr(row, f"{name}_id", getattr(row, name).pk)
    return rows
