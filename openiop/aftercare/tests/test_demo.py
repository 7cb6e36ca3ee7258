"""Demo aftercare: what a program director sees in the outcome report and on the work list of
the demo clinic. ``seed_aftercare`` runs on a small clinic made here (the demo generator calls
it the same way from ``_add_clinical_record``)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from conftest import make_user
from openiop.accounts.permissions import Role
from openiop.aftercare import rules
from openiop.aftercare.demo import seed_aftercare
from openiop.aftercare.models import (
    AftercareComponent,
    AftercarePlan,
    EngagementEntry,
    FollowUp,
    FollowUpAttempt,
)
from openiop.clinical.models import DischargeSummary
from openiop.enrollment.models import Episode, TedsDischargeReason
from openiop.organizations.models import Organization, Program, Site
from openiop.patients.models import Patient

TODAY = dt.date(2026, 11, 18)
R = TedsDischargeReason

# The demo's own recent history: (days ago admitted, days ago discharged or None, reason).
CURRENT = (
    (20, None, None),
    (33, None, None),
    (80, 38, R.COMPLETED),
    (95, 50, R.COMPLETED),
    (70, 45, R.DROPPED_OUT),
    (60, 30, R.COMPLETED),
    (40, 12, R.DROPPED_OUT),
    (62, 21, R.COMPLETED),
    (50, 26, R.TRANSFERRED),
)


def make_clinic(slug: str = "riverbend") -> tuple[Organization, list[Episode], dict]:
    """A clinic like the demo's: two adult programs, an adolescent one, counselors, a
    prescriber, and a few patients in treatment or recently discharged."""
    org = Organization.objects.create(name="Riverbend Recovery Center", slug=slug)
    site = Site.objects.create(organization=org, name="Downtown", timezone="America/New_York")
    common = dict(organization=org, site=site, weekly_min_hours=Decimal("9.0"))
    day = Program.objects.create(name="Adult Day IOP", cohort=Program.Cohort.DAY, **common)
    evening = Program.objects.create(
        name="Adult Evening IOP", cohort=Program.Cohort.EVENING, **common
    )
    teen = Program.objects.create(
        name="Adolescent IOP",
        cohort=Program.Cohort.AFTER_SCHOOL,
        population=Program.Population.ADOLESCENT,
        **common,
    )
    staff = {
        name: make_user(f"{name}-{slug}", org, role)
        for name, role in (
            ("counselor", Role.COUNSELOR),
            ("counselor2", Role.COUNSELOR),
            ("prescriber", Role.PRESCRIBER),
            ("intake", Role.INTAKE),
        )
    }
    episodes = []
    for i, (admitted, discharged, reason) in enumerate(CURRENT):
        patient = Patient.objects.create(
            organization=org,
            mrn=f"RB-{1001 + i:06d}",
            first_name=f"Current{i}",
            last_name="Patient",
            date_of_birth=dt.date(1990, 1, 1),
        )
        episodes.append(
            Episode.objects.create(
                organization=org,
                patient=patient,
                program=(day, evening)[i % 2],
                status=Episode.Status.DISCHARGED if discharged else Episode.Status.ACTIVE,
                referral_source="self",
                admitted_on=TODAY - dt.timedelta(days=admitted),
                discharged_on=TODAY - dt.timedelta(days=discharged) if discharged else None,
                discharge_reason=reason,
                primary_substance=(2, 7, 10)[i % 3],
                mat=i % 3 == 1,
                primary_counselor=staff["counselor"],
            )
        )
    teen_patient = Patient.objects.create(
        organization=org, mrn="RB-002001", first_name="Teen", last_name="Patient",
        date_of_birth=dt.date(2011, 3, 3),
    )  # fmt: skip
    episodes.append(
        Episode.objects.create(
            organization=org,
            patient=teen_patient,
            program=teen,
            status=Episode.Status.ACTIVE,
            admitted_on=TODAY - dt.timedelta(days=15),
            primary_substance=4,
        )  # fmt: skip
    )
    return org, episodes, staff


def seed(org: Organization, episodes: list[Episode], staff: dict, seed: int = 2026) -> dict:
    return seed_aftercare(
        organization=org, episodes=episodes, rng=random.Random(seed), today=TODAY, staff=staff
    )


@pytest.fixture
def fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clinic(db, fast_passwords):
    org, episodes, staff = make_clinic()
    counts = seed(org, episodes, staff)
    return org, episodes, counts


def outcome_rows(org: Organization) -> list[tuple[str, bool, bool]]:
    """(engagement band, responded, success) per 180-day follow-up whose window has closed,
    computed the way the outcome report does, with the pure rules."""
    events: dict[int, list] = defaultdict(list)
    for plan_id, day, component in EngagementEntry.objects.for_org(org).values_list(
        "component__plan_id", "occurred_on", "component_id"
    ):
        events[plan_id].append((day, component))
    rows = []
    follow_ups = (
        FollowUp.objects.for_org(org).filter(offset_days=180).select_related("plan__episode")
    )
    for f in follow_ups:
        if rules.follow_up_status(f.due_on, TODAY, False) != "overdue":
            continue  # the window is still open: not yet counted
        episode = f.plan.episode
        band = rules.outcome_engagement_band(episode.discharged_on, events[f.plan_id])
        schedule = rules.FollowUpSchedule()
        responded = (
            f.status == FollowUp.Status.COMPLETED
            and schedule.time_point_for(episode.discharged_on, f.contacted_on) == 180
        )
        outcome = (
            rules.use_outcome(episode.baseline_days_used_30, f.any_use_since_last, f.days_used_30)
            if responded
            else rules.Outcome.UNKNOWN
        )
        rows.append((band, responded, outcome.is_success))
    return rows


def test_alumni_reach_the_six_month_follow_up_and_about_two_thirds_answer(clinic) -> None:
    org, _, counts = clinic
    assert 120 <= counts["alumni"] <= 180
    rows = outcome_rows(org)
    assert len(rows) >= 90  # nearly every alumnus is past the six-month window
    responded = sum(1 for _, r, _ in rows if r)
    assert responded >= 50
    assert 0.5 <= responded / len(rows) <= 0.9
    # Non-responders are never successes.
    assert not any(success for _, r, success in rows if not r)


def test_more_engagement_more_success_at_six_months(clinic) -> None:
    org, _, _ = clinic
    by_band: dict[str, Counter] = defaultdict(Counter)
    for band, responded, success in outcome_rows(org):
        if responded:
            by_band[band]["n"] += 1
            by_band[band]["success"] += success
    assert all(by_band[b]["n"] >= 8 for b in ("0", "1", "2+")), by_band
    rate = {b: c["success"] / c["n"] for b, c in by_band.items()}
    assert rate["2+"] > rate["0"] + 0.1, rate
    assert (
        0.2
        <= sum(c["success"] for c in by_band.values()) / sum(c["n"] for c in by_band.values())
        <= 0.8
    )


def test_the_work_list_has_calls_today_some_after_failed_attempts(clinic) -> None:
    org, _, _ = clinic
    pending = FollowUp.objects.for_org(org).filter(status=FollowUp.Status.PENDING)
    on_list = [
        f for f in pending if rules.follow_up_status(f.due_on, TODAY, False) in ("due", "overdue")
    ]
    assert len(on_list) >= 3
    tried = FollowUpAttempt.objects.for_org(org).filter(follow_up__in=on_list)
    assert tried.exists()
    assert not tried.filter(result=FollowUpAttempt.Result.REACHED).exists()
    assert all(a.attempted_at.date() < TODAY for a in tried)


def test_completed_follow_ups_were_reached_and_answered_sensibly(clinic) -> None:
    org, _, counts = clinic
    completed = FollowUp.objects.for_org(org).filter(status=FollowUp.Status.COMPLETED)
    assert completed.count() == counts["follow_ups_completed"] > 0
    assert not completed.filter(days_used_30__gt=30).exists()
    assert not FollowUp.objects.for_org(org).filter(days_used_30__gt=30).exists()
    for f in completed.prefetch_related("attempts"):
        results = [a.result for a in sorted(f.attempts.all(), key=lambda a: a.attempted_at)]
        assert results and results[-1] == FollowUpAttempt.Result.REACHED
        assert f.contacted_on is not None and f.contacted_on < TODAY
        assert f.days_used_30 is not None and f.any_use_since_last is not None
        assert sum(f.substance_days.values()) >= f.days_used_30
        assert f.employment in (1, 2, 3, 4) and f.living in (1, 2, 3)
    # Pending follow-ups carry no answers and no successful contact.
    pending = FollowUp.objects.for_org(org).filter(status=FollowUp.Status.PENDING)
    assert not pending.filter(contacted_on__isnull=False).exists()
    assert not pending.filter(attempts__result=FollowUpAttempt.Result.REACHED).exists()


def test_some_patients_in_aftercare_have_gone_quiet(clinic) -> None:
    org, episodes, _ = clinic
    last: dict[int, dt.date] = {}
    for plan_id, day in EngagementEntry.objects.for_org(org).values_list(
        "component__plan_id", "occurred_on"
    ):
        last[plan_id] = max(day, last.get(plan_id, day))
    assert max(last.values()) <= TODAY  # nothing logged in the future
    current = {e.pk for e in episodes}
    quiet = [
        p
        for p in AftercarePlan.objects.for_org(org)
        if p.starts_on <= TODAY <= p.ends_on
        and rules.gone_quiet(last.get(p.pk), p.starts_on, TODAY, 3)
    ]
    assert any(p.episode_id in current for p in quiet)  # a recent discharge, not only alumni
    active = [p for p in AftercarePlan.objects.for_org(org) if p.starts_on <= TODAY <= p.ends_on]
    assert len(quiet) < len(active)  # and most are still engaged


def test_plans_follow_every_discharge_except_transfers(clinic) -> None:
    org, episodes, counts = clinic
    discharged = Episode.objects.for_org(org).filter(status=Episode.Status.DISCHARGED)
    with_plan = discharged.filter(aftercare_plan__isnull=False)
    assert not with_plan.filter(discharge_reason=R.TRANSFERRED).exists()
    assert with_plan.count() == discharged.exclude(discharge_reason=R.TRANSFERRED).count()
    assert with_plan.count() == counts["plans"]
    for plan in AftercarePlan.objects.for_org(org).select_related("episode")[:40]:
        assert plan.starts_on == plan.episode.discharged_on + dt.timedelta(days=1)
        assert plan.ends_on == rules.aftercare_plan_ends_on(plan.starts_on, 10)
        assert plan.follow_ups.count() == 4
        assert 1 <= plan.components.count() <= 4
    assert AftercareComponent.objects.for_org(org).filter(provider__contains="alumni").exists()
    # Every discharge has a signed summary, so the dashboard's "summaries due" stays short.
    alumni = discharged.exclude(pk__in=[e.pk for e in episodes])
    signed = DischargeSummary.objects.filter(episode__in=alumni, status="signed")
    assert signed.count() == alumni.count() == counts["alumni"]


def test_alumni_look_like_real_patients_of_the_adult_programs(clinic) -> None:
    org, episodes, _ = clinic
    alumni = (
        Episode.objects.for_org(org)
        .exclude(pk__in=[e.pk for e in episodes])
        .select_related("patient", "program")
    )
    assert {e.program.population for e in alumni} == {Program.Population.ADULT}
    reasons = Counter(e.discharge_reason for e in alumni)
    assert 0.4 <= reasons[R.COMPLETED] / len(alumni) <= 0.6
    assert 0.15 <= reasons[R.DROPPED_OUT] / len(alumni) <= 0.35
    completers = [(e.discharged_on - e.admitted_on).days for e in alumni
                  if e.discharge_reason == R.COMPLETED]  # fmt: skip
    drop_outs = [(e.discharged_on - e.admitted_on).days for e in alumni
                 if e.discharge_reason == R.DROPPED_OUT]  # fmt: skip
    assert 40 <= sorted(completers)[len(completers) // 2] <= 60
    assert 15 <= sorted(drop_outs)[len(drop_outs) // 2] <= 35
    for e in alumni:
        assert 200 <= (TODAY - e.discharged_on).days <= 500
        assert e.baseline_days_used_30 is not None and 0 <= e.baseline_days_used_30 <= 30
        assert e.primary_substance and e.primary_counselor_id
        assert e.status_changes.count() == 4
        assert e.patient.age_on(TODAY) >= 18
    names = [(e.patient.first_name, e.patient.last_name) for e in alumni]
    assert len(set(names)) == len(names)
    mrns = Patient.objects.for_org(org).values_list("mrn", flat=True)
    assert len(set(mrns)) == len(mrns)


def test_baseline_and_discharge_use_on_the_demo_episodes(clinic) -> None:
    org, episodes, _ = clinic
    for e in Episode.objects.for_org(org).filter(pk__in=[e.pk for e in episodes]):
        assert e.baseline_days_used_30 is not None and 0 <= e.baseline_days_used_30 <= 30
        if e.status != Episode.Status.DISCHARGED:
            assert e.discharge_days_used_30 is None
    everyone = Episode.objects.for_org(org).exclude(baseline_days_used_30=None)
    baselines = list(everyone.values_list("baseline_days_used_30", flat=True))
    assert sum(1 for b in baselines if b >= 8) / len(baselines) >= 0.6
    assert 30 in baselines  # some used daily
    completers = everyone.filter(discharge_reason=R.COMPLETED).exclude(discharge_days_used_30=None)
    low = completers.filter(discharge_days_used_30__lte=2).count()
    assert low / completers.count() >= 0.75


def test_same_seed_same_data_other_seed_other_data(db, fast_passwords) -> None:
    orgs = {}
    counts = {}
    for slug, number in (("a", 2026), ("b", 2026), ("c", 7)):
        org, episodes, staff = make_clinic(slug)
        orgs[slug], counts[slug] = org, seed(org, episodes, staff, seed=number)

    def fingerprint(org: Organization) -> list[tuple]:
        patients = Patient.objects.for_org(org).order_by("mrn")
        names = list(patients.values_list("mrn", "first_name", "last_name"))
        follow_ups = list(
            FollowUp.objects.for_org(org)
            .order_by("plan__episode__patient__mrn", "offset_days")
            .values_list("due_on", "status", "contacted_on", "days_used_30", "phq9")
        )
        return names + follow_ups

    assert counts["a"] == counts["b"]
    assert fingerprint(orgs["a"]) == fingerprint(orgs["b"])
    assert counts["a"] != counts["c"]
    assert fingerprint(orgs["a"]) != fingerprint(orgs["c"])
