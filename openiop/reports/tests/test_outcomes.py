"""The outcome report selector against a small cohort whose every number is worked out by hand.

``build_cohort`` (also used by the view, command and TEDS tests) makes, in program P, for the
first quarter of 2027 (report as of 2027-12-31, so every six-month follow-up is due):

====  ==========  ====  ======  ========  ==========================================
name  admitted    LOS   reason  baseline  six-month follow-up / aftercare
====  ==========  ====  ======  ========  ==========================================
A1    2027-01-04  42    1       20        abstinent at 30, 90, 180; group + meetings (2+)
A2    2027-01-05  50    1       20        used, 1 day of 30 -> reduced 95%; meetings (1)
A3    2027-01-10  60    1       19        used, 1 day of 30 -> 94.7%, not met; 1 (+1 too late)
A4    2027-01-11  45    1       10        used by day 30, 0 days at 180 -> reduced; 2+
A5    2027-01-12  10    2       15        180-day follow-up never completed (0)
A6    2027-01-15  20    2       12        no aftercare plan at all (0)
A7    2027-01-20  30    2       30        completed 45 days after the due date (late) (0)
A8    2027-02-01  25    3       8         used, days of use not answered: unknown (0)
A9    2027-02-03  -     active  5         still in treatment on 2027-12-31
A10   2027-03-01  61    1       6         P 03-01..03-20 (reason 4) -> Q 03-20..04-30
B1    2026-12-01  46    4       4         transferred out 2027-01-15: abstinent (0)
====  ==========  ====  ======  ========  ==========================================

plus an admission in program R (counted only with "all programs"), an aftercare group program AG
whose episode is left out of "all programs", and an episode of another organization.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from conftest import NY
from openiop.aftercare.models import (
    AftercareComponent,
    AftercarePlan,
    ComponentKind,
    EngagementEntry,
    FollowUp,
)
from openiop.attendance.models import AttendanceRecord
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program, Site
from openiop.patients.models import Patient
from openiop.questionnaires.models import QuestionnaireResponse
from openiop.reports import outcomes, stats
from openiop.scheduling.models import Session

pytestmark = pytest.mark.django_db

START, END = dt.date(2027, 1, 1), dt.date(2027, 3, 31)
AS_OF = dt.date(2027, 12, 31)
D = dt.timedelta
_seq = itertools.count(1)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def make_patient(org: Any, name: str) -> Patient:
    return Patient.objects.create(
        organization=org, mrn=f"T{next(_seq):05d}", first_name=name, last_name="Cohort",
        date_of_birth=dt.date(1985, 1, 1),
    )  # fmt: skip


def make_episode(
    org: Any, patient: Patient, program: Program, admitted: dt.date, *, los: int | None = None,
    reason: int | None = None, baseline: int | None = None, discharge_days: int | None = None,
    transferred_from: Episode | None = None, substance: int | None = 2,
) -> Episode:  # fmt: skip
    """An episode admitted on ``admitted``; with ``los`` it is discharged ``los`` days later
    (both days counted, as TEDS counts them)."""
    discharged = admitted + D(days=los - 1) if los is not None else None
    return Episode.objects.create(
        organization=org, patient=patient, program=program,
        status="discharged" if discharged else "active",
        referral_date=admitted, admitted_on=admitted, discharged_on=discharged,
        discharge_reason=reason if discharged else None, baseline_days_used_30=baseline,
        discharge_days_used_30=discharge_days, transferred_from=transferred_from,
        primary_substance=substance,
    )  # fmt: skip


def make_session(program: Program, on: dt.date) -> Session:
    """A group at 19:30 New York time: 00:30 UTC the next day (the local date must be used)."""
    start = dt.datetime.combine(on, dt.time(19, 30), tzinfo=NY)
    return Session.objects.create(
        organization=program.organization, program=program, title="Group", starts_at=start,
        ends_at=start + D(hours=3),
    )  # fmt: skip


def attend(episode: Episode, on: dt.date, minutes: int = 180, status: str = "present") -> None:
    AttendanceRecord.objects.create(
        organization=episode.organization, session=make_session(episode.program, on),
        patient=episode.patient, episode=episode, status=status,
        minutes_attended=minutes if status in ("present", "late", "left_early") else 0,
    )  # fmt: skip


def plan_for(episode: Episode) -> AftercarePlan:
    assert episode.discharged_on is not None
    return AftercarePlan.objects.create(
        organization=episode.organization, patient=episode.patient, episode=episode,
        starts_on=episode.discharged_on, ends_on=episode.discharged_on + D(days=300),
    )  # fmt: skip


def component(plan: AftercarePlan, kind: str, program: Program | None = None) -> AftercareComponent:
    return AftercareComponent.objects.create(
        organization=plan.organization, plan=plan, kind=kind, starts_on=plan.starts_on,
        program=program,
    )  # fmt: skip


def engaged(comp: AftercareComponent, on: dt.date) -> None:
    EngagementEntry.objects.create(organization=comp.organization, component=comp, occurred_on=on)


def follow_up(
    plan: AftercarePlan, offset: int, *, completed: bool = True, any_use: bool | None = False,
    days_used: int | None = 0, late_by: int = 0,
) -> FollowUp:  # fmt: skip
    due = plan.episode.discharged_on + D(days=offset)
    return FollowUp.objects.create(
        organization=plan.organization, plan=plan, patient=plan.patient, offset_days=offset,
        due_on=due, status="completed" if completed else "pending",
        contacted_on=due + D(days=late_by) if completed else None,
        any_use_since_last=any_use if completed else None,
        days_used_30=days_used if completed else None,
    )  # fmt: skip


def score(
    episode: Episode, instrument: str, days_after_admission: int, value: int
) -> QuestionnaireResponse:
    assert episode.admitted_on is not None
    at = dt.datetime.combine(
        episode.admitted_on + D(days=days_after_admission), dt.time(10), tzinfo=NY
    )
    total, subscales = (None, {"use": value}) if instrument == "bam" else (value, {})
    return QuestionnaireResponse.objects.create(
        organization=episode.organization, patient=episode.patient, episode=episode,
        instrument=instrument, instrument_version="1", answers={}, total=total,
        subscales=subscales, administered_at=at,
    )  # fmt: skip


@dataclass
class Cohort:
    org: Any
    p: Program
    q: Program
    r: Program
    ag: Program
    e: dict[str, Episode] = field(default_factory=dict)


def extra_program(site: Site, name: str) -> Program:
    return Program.objects.create(
        organization=site.organization, site=site, name=name, weekly_min_hours=Decimal("9.0"),
        weekly_max_hours=Decimal("19.0"),
    )  # fmt: skip


def build_cohort(org: Any, site: Site, program: Program, other_org: Any = None) -> Cohort:
    c = Cohort(
        org=org, p=program, q=extra_program(site, "Step-down IOP"),
        r=extra_program(site, "Adolescent IOP"), ag=extra_program(site, "Alumni group"),
    )  # fmt: skip
    rows = [
        # name, admitted, los, reason, baseline, discharge days
        ("A1", "2027-01-04", 42, 1, 20, 0),
        ("A2", "2027-01-05", 50, 1, 20, 2),
        ("A3", "2027-01-10", 60, 1, 19, 1),
        ("A4", "2027-01-11", 45, 1, 10, 0),
        ("A5", "2027-01-12", 10, 2, 15, None),
        ("A6", "2027-01-15", 20, 2, 12, None),
        ("A7", "2027-01-20", 30, 2, 30, 30),
        ("A8", "2027-02-01", 25, 3, 8, None),
        ("A9", "2027-02-03", None, None, 5, None),
        ("B1", "2026-12-01", 46, 4, 4, 0),
    ]
    for name, admitted, los, reason, baseline, ddays in rows:
        c.e[name] = make_episode(
            org, make_patient(org, name), program, day(admitted), los=los, reason=reason,
            baseline=baseline, discharge_days=ddays,
        )  # fmt: skip
    # A10: P from 03-01 to 03-20 (transfer), then Q to 04-30 (completed): one treatment episode.
    a10 = make_patient(org, "A10")
    c.e["A10"] = make_episode(org, a10, program, day("2027-03-01"), los=20, reason=4, baseline=6,
                              discharge_days=3)  # fmt: skip
    c.e["A10b"] = make_episode(org, a10, c.q, day("2027-03-20"), los=42, reason=1,
                               transferred_from=c.e["A10"])  # fmt: skip
    c.e["R1"] = make_episode(org, make_patient(org, "R1"), c.r, day("2027-02-10"), baseline=3)

    e = c.e
    # A group attended on A1's and A3's discharge days (their length of stay is unchanged).
    attend(e["A1"], e["A1"].discharged_on)
    attend(e["A3"], e["A3"].discharged_on, minutes=120)
    # Aftercare. A1: the alumni group (attended twice after discharge) + mutual-help meetings.
    p1 = plan_for(e["A1"])
    component(p1, ComponentKind.ALUMNI_GROUP, c.ag)
    meetings = component(p1, ComponentKind.MUTUAL_HELP)
    alumni = make_episode(org, e["A1"].patient, c.ag, e["A1"].discharged_on + D(days=1))
    e["A1-alumni"] = alumni
    attend(alumni, e["A1"].discharged_on + D(days=7))
    attend(alumni, e["A1"].discharged_on + D(days=14))
    engaged(meetings, e["A1"].discharged_on + D(days=20))
    for offset in (30, 90, 180):
        follow_up(p1, offset, any_use=False, days_used=0)
    # A2: meetings only (one entry before discharge does not count); 1 day of use from 20.
    p2 = plan_for(e["A2"])
    m2 = component(p2, ComponentKind.MUTUAL_HELP)
    engaged(m2, e["A2"].discharged_on - D(days=3))
    engaged(m2, e["A2"].discharged_on + D(days=40))
    follow_up(p2, 180, any_use=True, days_used=1)
    # A3: therapy within the window, sober living only after the 180-day due date; 1 day from 19.
    p3 = plan_for(e["A3"])
    engaged(component(p3, ComponentKind.OUTPATIENT_THERAPY), e["A3"].discharged_on + D(days=30))
    engaged(component(p3, ComponentKind.SOBER_LIVING), e["A3"].discharged_on + D(days=200))
    follow_up(p3, 180, any_use=True, days_used=1)
    # A4: used before day 30, none in the 30 days before day 180: reduced, not abstinent.
    p4 = plan_for(e["A4"])
    engaged(component(p4, ComponentKind.PEER_RECOVERY), e["A4"].discharged_on + D(days=10))
    engaged(component(p4, ComponentKind.MAT_CONTINUATION), e["A4"].discharged_on + D(days=100))
    follow_up(p4, 30, any_use=True, days_used=4)
    follow_up(p4, 180, any_use=False, days_used=0)
    # A5: the 180-day follow-up is still pending (nobody reached): a non-responder.
    follow_up(plan_for(e["A5"]), 180, completed=False)
    # A6: no plan. A7: reached 45 days after the due date, outside the 30-day grace.
    follow_up(plan_for(e["A7"]), 180, any_use=False, days_used=0, late_by=45)
    # A8: reached, reported use, but not how many days: cannot be decided.
    follow_up(plan_for(e["A8"]), 180, any_use=True, days_used=None)
    # B1: transferred to another facility; abstinent at 180; a plan without components.
    follow_up(plan_for(e["B1"]), 180, any_use=False, days_used=0)

    # Questionnaires: PHQ-9 pairs for A1 (15 -> 8) and A3 (20 -> 10); A2's first score is on day
    # 21 (too late for an admission score); A5 has one score only; A1's score after discharge and
    # R1's scores are not counted. GAD-7 for A1 (10 -> 4). BAM use composite for A3 (8 -> 2).
    score(e["A1"], "phq9", 2, 15)
    score(e["A1"], "phq9", 20, 12)
    score(e["A1"], "phq9", 40, 8)
    score(e["A1"], "phq9", 50, 25)  # after discharge (day 42)
    score(e["A1"], "gad7", 3, 10)
    score(e["A1"], "gad7", 41, 4)
    score(e["A2"], "phq9", 20, 14)
    score(e["A2"], "phq9", 45, 5)
    score(e["A3"], "phq9", 1, 20)
    score(e["A3"], "phq9", 30, 10)
    score(e["A3"], "bam", 1, 8)
    score(e["A3"], "bam", 55, 2)
    score(e["A5"], "phq9", 1, 22)
    score(e["R1"], "phq9", 1, 5)
    score(e["R1"], "phq9", 30, 1)

    if other_org is not None:
        other_site = Site.objects.create(organization=other_org, name="Lake", timezone="UTC")
        other_program = extra_program(other_site, "Lakeside IOP")
        for i in range(3):
            make_episode(other_org, make_patient(other_org, f"O{i}"), other_program,
                         day("2027-01-06"), los=12, reason=2, baseline=9)  # fmt: skip
    return c


@pytest.fixture
def cohort(org, site, program, other_org) -> Cohort:
    return build_cohort(org, site, program, other_org)


def report_for(
    c: Cohort, program: Program | None = None, as_of: dt.date = AS_OF
) -> outcomes.OutcomeReport:
    return outcomes.outcome_report(
        organization=c.org, program=c.p if program is None else program, start=START, end=END,
        as_of=as_of,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------


def test_admissions_and_discharges_by_reason(cohort):
    report = report_for(cohort)
    # A1-A10 (A10's Q segment is not a new admission; B1 was admitted in 2026).
    assert report.admissions == 10
    assert report.admissions_transferred == 1
    # Ended in Q1: A1-A8 and B1; A10's treatment episode ended on 04-30 (outside).
    assert report.discharges == 9
    counts = {r.code: r.count for r in report.reasons}
    assert counts == {1: 4, 2: 3, 3: 1, 4: 1, 5: 0, 6: 0, 7: 0}
    assert (report.completion.successes, report.completion.n) == (4, 9)
    assert (report.dropout.successes, report.dropout.n) == (3, 9)
    assert (report.completion.low, report.completion.high) == stats.wilson_interval(4, 9)
    assert report.completion.low == pytest.approx(0.1888, abs=1e-4)
    assert report.completion.high == pytest.approx(0.7333, abs=1e-4)


def test_length_of_stay_median_and_by_reason(cohort):
    los = {row.group: row for row in report_for(cohort).los}
    everyone = los["All discharges"]
    assert everyone.days == (10, 20, 25, 30, 42, 45, 46, 50, 60)
    assert everyone.median == 42
    completed = los["Treatment completed"]
    assert completed.days == (42, 45, 50, 60) and completed.median == 47.5
    assert completed.quartiles == (44.25, 52.5)
    assert los["Dropped out of treatment"].days == (10, 20, 30)
    assert (
        los["Terminated by facility"].days == (25,)
        and los["Terminated by facility"].quartiles is None
    )
    assert "Death" not in los  # no row for a reason nobody had


def test_retention_is_kaplan_meier_with_completion_and_active_censored(cohort):
    ret = report_for(cohort).retention
    assert ret.n == 10
    assert ret.events == 4  # A5, A6, A7 dropped out; A8 terminated
    assert ret.censored_completed == 5  # A1-A4 and A10 (its chain completed in program Q)
    assert ret.censored_active == 1  # A9, still in treatment: censored on 2027-12-31
    by_time = {s.time: s for s in ret.steps}
    assert by_time[10].survival == pytest.approx(0.9)  # 1 - 1/10
    assert by_time[20].survival == pytest.approx(0.8)  # 0.9 * 8/9
    assert by_time[25].survival == pytest.approx(0.7)
    assert by_time[30].survival == pytest.approx(0.6)  # 0.7 * 6/7
    assert by_time[61].events == 0 and by_time[61].censored == 1  # A10: whole chain, 61 days
    assert by_time[332].censored == 1  # A9: 2027-02-03 .. 2027-12-31, both days counted
    points = {p.day: p for p in ret.points}
    assert points[30].survival == pytest.approx(0.6) and points[30].at_risk == 7
    assert points[90].survival == pytest.approx(0.6) and points[90].at_risk == 1
    assert (points[30].low, points[30].high) == (by_time[30].ci_low, by_time[30].ci_high)
    assert 0 < points[30].low < 0.6 < points[30].high < 1
    assert ret.median_days is None  # never at or below one half


def test_retention_not_estimable_past_the_last_follow_up(cohort):
    # As of 2027-03-05 A9 has 31 days and A10 5; nobody has been followed 60 days.
    report = report_for(cohort, as_of=dt.date(2027, 3, 5))
    points = {p.day: p for p in report.retention.points}
    assert points[30].survival is not None
    assert points[60].survival is None and "not estimable" in points[60].text


def test_questionnaire_change_pairs_first_14_days_with_last_before_discharge(cohort):
    rows = {q.instrument: q for q in report_for(cohort).questionnaires}
    phq = rows["phq9"]
    assert phq.pairs == ((15, 8), (20, 10))
    assert phq.n == 2 and phq.eligible == 9
    assert phq.mean_first == 17.5 and phq.mean_last == 9 and phq.mean_change == -8.5
    assert phq.improved == 2 and phq.worse == 0
    assert rows["gad7"].pairs == ((10, 4),) and rows["gad7"].mean_change == -6
    assert rows["bam"].pairs == ((8, 2),) and rows["bam"].metric == "use"


def test_six_month_outcome_non_responders_are_never_successes(cohort):
    six = report_for(cohort).six_month
    assert six.discharged == 9 and six.not_yet_due == 0 and six.deaths == 0
    overall = six.overall
    assert overall.eligible == 9
    # Responded: A1 (abstinent), A2 (reduced), A3 (not met), A4 (reduced), B1 (abstinent).
    assert overall.responded == 5
    assert (overall.abstinent, overall.reduced, overall.not_met) == (2, 2, 1)
    assert (overall.response.successes, overall.response.n) == (5, 9)
    assert (overall.success.successes, overall.success.n) == (4, 5)
    assert (overall.success_floor.successes, overall.success_floor.n) == (4, 9)
    assert six.completed_late == 1  # A7
    assert six.still_in_window == 0


def test_six_month_outcome_by_aftercare_engagement_band(cohort):
    bands = {b.band: b.summary for b in report_for(cohort).six_month.by_band}
    # 2+: A1 (alumni group attendance + meetings), A4 (peer support + MAT).
    assert (bands["2+"].eligible, bands["2+"].responded, bands["2+"].successes) == (2, 2, 2)
    # 1: A2 (meetings after discharge), A3 (therapy; sober living only after day 180).
    assert (bands["1"].eligible, bands["1"].responded, bands["1"].successes) == (2, 2, 1)
    # 0: A5, A6, A7, A8 and B1; only B1 responded.
    assert (bands["0"].eligible, bands["0"].responded, bands["0"].successes) == (5, 1, 1)
    assert (bands["0"].success_floor.successes, bands["0"].success_floor.n) == (1, 5)


def test_follow_up_not_yet_due_and_deaths_are_left_out(cohort, org):
    # As of 2027-08-01 only discharges up to 2027-02-02 have a due 180-day follow-up: A5
    # (2027-01-21) and B1 (2027-01-15); A6 (2027-02-03) is due a day later.
    six = report_for(cohort, as_of=dt.date(2027, 8, 1)).six_month
    assert cohort.e["A6"].discharged_on == dt.date(2027, 2, 3)
    assert six.eligible == 2 and six.not_yet_due == 7
    assert (six.overall.responded, six.overall.successes) == (1, 1)  # B1
    death = make_episode(org, make_patient(org, "D1"), cohort.p, day("2027-01-02"), los=5,
                         reason=6, baseline=9)  # fmt: skip
    assert death.discharged_on is not None
    six = report_for(cohort).six_month
    assert six.discharged == 10 and six.deaths == 1 and six.eligible == 9


def test_in_window_non_responder_is_counted_and_flagged(cohort):
    # On 2027-07-25 A5's follow-up (due 2027-07-20) is still inside its window: a non-responder
    # for now, flagged as still reachable.
    six = report_for(cohort, as_of=dt.date(2027, 7, 25)).six_month
    assert six.eligible == 2 and six.overall.responded == 1
    assert six.still_in_window == 1


def test_all_programs_counts_other_treatment_programs_but_not_aftercare_groups(cohort):
    report = outcomes.outcome_report(organization=cohort.org, start=START, end=END, as_of=AS_OF)
    assert report.program_name == "All programs"
    assert report.admissions == 11  # + R1; the alumni-group episode is not a treatment admission
    assert report.excluded_programs == ("Alumni group",)
    assert report.discharges == 9
    # R1's questionnaire pair counts nowhere: R1 is still in treatment.
    assert {q.instrument: q.n for q in report.questionnaires}["phq9"] == 2


def test_a_program_sees_only_its_own_admissions(cohort):
    report = report_for(cohort, program=cohort.r)
    assert report.admissions == 1 and report.discharges == 0
    assert report.completion.estimate is None and report.completion.text() == "no data (0 of 0)"


def test_weekly_hours_from_attendance_with_last_contact_ending_the_stay(org, site, program):
    c = Cohort(org=org, p=program, q=program, r=program, ag=program)
    # X: 2027-01-04 .. 01-17 (14 days) but last attended on 01-12: LOS 9 days -> 9/7 weeks;
    # 3 x 180 min present + 1 absent = 9 h -> 7.0 h a week.
    x = make_episode(org, make_patient(org, "X"), program, day("2027-01-04"), los=14, reason=2)
    for on in ("2027-01-05", "2027-01-07", "2027-01-12"):
        attend(x, day(on))
    attend(x, day("2027-01-14"), status="absent")
    # Y: 3 days (counted as one week), 180 min -> 3.0 h a week. Z: no attendance recorded.
    y = make_episode(org, make_patient(org, "Y"), program, day("2027-01-04"), los=3, reason=2)
    attend(y, day("2027-01-06"))
    make_episode(org, make_patient(org, "Z"), program, day("2027-01-04"), los=5, reason=2)
    # W: 10 h a week over 2 weeks, still active on 2027-01-17 (14 days).
    w = make_episode(org, make_patient(org, "W"), program, day("2027-01-04"))
    for i in range(5):
        attend(w, day("2027-01-05") + D(days=2 * i), minutes=240)
    report = report_for(c, as_of=day("2027-01-17"))
    hours = report.hours
    assert hours.cohort == 4 and hours.n == 3
    assert sorted(hours.values) == [3.0, 7.0, pytest.approx(20 / 2)]  # W: 1200 min / 2 weeks
    assert hours.mean == pytest.approx((3 + 7 + 10) / 3)
    assert (hours.meets_minimum.successes, hours.meets_minimum.n) == (1, 3)  # W meets 9 h
    assert hours.minimum == 9.0
    assert {row.group: row.days for row in report.los}["All discharges"] == (3, 5, 9)


def test_report_queries_do_not_grow_with_patients(cohort, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        report_for(cohort)
    for i in range(12):  # 12 more admissions with attendance, questionnaires and plans
        e = make_episode(cohort.org, make_patient(cohort.org, f"N{i}"), cohort.p,
                         day("2027-01-03") + D(days=i), los=20 + i, reason=1 + i % 3,
                         baseline=10)  # fmt: skip
        attend(e, e.admitted_on + D(days=1))
        score(e, "phq9", 1, 12)
        score(e, "phq9", 15, 6)
        follow_up(plan_for(e), 180)
    with django_assert_max_num_queries(12):
        report = report_for(cohort)
    assert report.admissions == 22
    with CaptureQueriesContext(connection) as big:
        report_for(cohort)
    assert len(big) == len(small)


def csv_table(text: str) -> dict[tuple[str, str], list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["metric", "group", "n", "value", "ci_low", "ci_high"]
    return {(r[0], r[1]): r[2:] for r in rows[1:]}


def test_csv_rows_carry_the_same_numbers(cohort):
    table = csv_table(outcomes.csv_text(report_for(cohort)))
    n, value, low, high = table[("completion_rate", "all")]
    assert (n, value) == ("9", "0.4444")
    wilson = stats.wilson_interval(4, 9)
    assert float(low) == pytest.approx(wilson[0], abs=1e-4)
    assert float(high) == pytest.approx(wilson[1], abs=1e-4)
    assert table[("admissions", "all")] == ["10", "10", "", ""]
    assert table[("discharge_reason", "2 Dropped out of treatment")][:2] == ["9", "0.3333"]
    assert table[("los_median_days", "All discharges")] == ["9", "42", "25", "46"]
    assert table[("retention_30d", "admissions")][:2] == ["10", "0.6"]
    assert table[("outcome_response_rate", "all")][:2] == ["9", "0.5556"]
    assert table[("outcome_success_responders", "all")][:2] == ["5", "0.8"]
    assert table[("outcome_success_conservative", "engagement 0")][:2] == ["5", "0.2"]
    assert table[("outcome_success_responders", "engagement 2+")][:2] == ["2", "1"]
    assert table[("phq9_change_mean", "total")] == ["2", "-8.5", "", ""]
    assert table[("program", "Adult Evening IOP")] == ["", "", "", ""]
    assert table[("period_from", "2027-01-01")] == ["", "", "", ""]


def test_csv_small_cells_suppressed_on_request(cohort):
    lines = outcomes.csv_text(report_for(cohort), suppress_small_cells=True).splitlines()
    assert "completion_rate,all,<11,,," in lines  # n = 9
    assert "admissions,all,<11,,," in lines
    assert "period_from,2027-01-01,,,," in lines  # labels are not counts


def test_csv_neutralises_a_formula_in_a_program_name(cohort):
    cohort.p.name = "=HYPERLINK(1)"
    cohort.p.save()
    assert "program,'=HYPERLINK(1),,,," in outcomes.csv_text(report_for(cohort)).splitlines()


def test_settings_change_the_follow_up_and_threshold(cohort, settings):
    settings.OPENIOP_REDUCTION_THRESHOLD_PERCENT = 90  # A3: 1 day from 19 is now enough
    assert report_for(cohort).six_month.overall.successes == 5
    settings.OPENIOP_OUTCOME_FOLLOW_UP_DAYS = 90  # only A1 has a 90-day follow-up
    six = report_for(cohort).six_month
    assert six.follow_up_days == 90 and six.overall.responded == 1


def test_period_must_not_end_before_it_starts(org):
    with pytest.raises(ValueError):
        outcomes.outcome_report(organization=org, start=END, end=START, as_of=AS_OF)


def test_empty_organization_gives_an_empty_report(org, site):
    report = outcomes.outcome_report(organization=org, start=START, end=END, as_of=AS_OF)
    assert report.admissions == report.discharges == 0
    assert report.retention.steps == () and all(p.survival is None for p in report.retention.points)
    assert report.six_month.overall.response.estimate is None
    assert outcomes.csv_text(report).count("\r\n") > 10


def test_default_period_is_the_last_twelve_months():
    assert outcomes.default_period(dt.date(2027, 3, 31)) == (dt.date(2026, 4, 1), END)
    assert settings.OPENIOP_OUTCOME_FOLLOW_UP_DAYS == 180


# --- charts (pure) ----------------------------------------------------------------------------


def test_retention_chart_describes_the_curve_and_is_deterministic():
    from openiop.reports import charts_outcomes

    steps = stats.kaplan_meier([(10, True), (20, False), (30, True), (45, True), (60, False)])
    svg = charts_outcomes.retention_svg(steps)
    assert svg.startswith('<svg role="img"') and "<style" not in svg and " style=" not in svg
    # S(30) = 4/5 * 2/3 = 53%; at 60 (the last time, curve not at 0) 27%; at 90 not estimable.
    assert "day 30: 53%; day 60: 27%; day 90: not estimable." in svg
    assert svg == charts_outcomes.retention_svg(list(steps))
    assert "No admissions in the period" in charts_outcomes.retention_svg([])


def test_outcome_and_reason_charts_say_what_they_show():
    from openiop.reports import charts_outcomes

    point = charts_outcomes.BandPoint("All", (0.8, 0.38, 0.96), (0.44, 0.19, 0.73), 5, 9)
    svg = charts_outcomes.outcome_bands_svg([point])
    assert "All: 80% of 5 responders (44% of 9 counting non-responders as not successful)" in svg
    empty = charts_outcomes.BandPoint("All", (None, 0.0, 1.0), (None, 0.0, 1.0), 0, 0)
    assert "Nobody was due" in charts_outcomes.outcome_bands_svg([empty])
    reasons = charts_outcomes.reasons_svg([(1, "Treatment completed", 3), (2, "Dropped out", 1)])
    assert "4 discharges. Treatment completed: 3 (75%); Dropped out: 1 (25%)." in reasons
    hours = charts_outcomes.hours_svg([2.0, 7.5, 10.0], minimum=9.0)
    assert "0–3 h: 1; 6–9 h: 1; 9–12 h: 1. Program minimum 9 h a week." in hours


def test_group_sessions_count_only_while_the_component_runs(cohort):
    # A1's alumni group component now starts 30 days after discharge: the two sessions on days
    # 7 and 14 no longer count (as on the plan page), only the meetings do: A1 moves to band 1.
    group = AftercareComponent.objects.get(plan__episode=cohort.e["A1"], program=cohort.ag)
    group.starts_on = cohort.e["A1"].discharged_on + D(days=30)
    group.save()
    bands = {b.band: b.summary for b in report_for(cohort).six_month.by_band}
    assert (bands["2+"].eligible, bands["1"].eligible) == (1, 3)
