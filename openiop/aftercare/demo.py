"""Aftercare and outcomes for the demo clinic (called by ``openiop demo`` at the end of the
clinical record): baseline use, an alumni cohort, aftercare plans, engagement and follow-ups.

The demo's own history is only a few weeks long, so nobody in it has reached the six-month
follow-up. ``seed_aftercare`` therefore also writes an **alumni cohort**: about 120-180 adults
discharged 7 to 16 months before ``today`` from the adult programs, with the national mix of
discharge reasons (TEDS-D IOP: about half completed, a quarter dropped out, a tenth each
terminated and transferred; domain.md section 10) and lengths of stay (completers about 6-8
weeks, drop-outs 2-5 weeks). Alumni have a patient record (names from the demo's lists, none
equal to a current patient's; MRNs in the clinic's legacy series, ``RBL-``), an episode with its
status history and a signed discharge summary, so the "summaries due" list stays short. They
have no sessions, attendance, questionnaires or notes: report figures built from those (weekly
hours delivered, questionnaire change) cover only the patients of the demo's own history.

For every discharged episode except a transfer (TEDS reason 4): an aftercare plan from the day
after discharge for ``OPENIOP_AFTERCARE_MONTHS`` months with 1-4 components, engagement
entries that fade for some patients (at least two recent discharges have "gone quiet" when that
many plans are old enough), and one follow-up per ``OPENIOP_FOLLOW_UP_DAYS`` offset. A
follow-up's story (calls that went unanswered, the contact, or closing it after the window) is
drawn in full and cut at ``today``: what happened before today is written, the rest is still to
do, so the work list has due and overdue calls, some after failed attempts. Three alumni are
discharged so that their last follow-up is due around today and still open.

The numbers behave like a real program's, not like a brochure: about two thirds of the people
are reached at six months; among them, those engaged in two or more aftercare components are
abstinent or reduced their use by 95% or more (``rules.use_outcome``) about 65% of the time,
those engaged in one about 45%, those in none about 25% (averages over seeds; one demo has
30-55 responders per band, so its own figures scatter around these). Non-responders are never
successes.

Written directly with ``bulk_create`` (no audit rows): generating fictitious data is not a read
or write of anyone's record. Deterministic for a given ``rng`` state; call once per organization.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from openiop.accounts.models import User
from openiop.accounts.permissions import Role
from openiop.aftercare.models import (
    AftercareComponent,
    AftercarePlan,
    ComponentKind,
    EngagementEntry,
    FollowUp,
    FollowUpAttempt,
)
from openiop.aftercare.rules import (
    add_months,
    aftercare_plan_ends_on,
    follow_ups_due,
    gone_quiet,
)
from openiop.clinical.models import DischargeSummary
from openiop.enrollment.models import (
    Episode,
    EpisodeStatusChange,
    ReferralSource,
    TedsDischargeReason,
    TedsSubstance,
)
from openiop.organizations.demo import (
    ADULT_REFERRALS,
    ADULT_SUBSTANCES,
    NAME_GROUPS,
    NICKNAMES,
    OPIOIDS,
    PROGRAMS,
    STREETS,
    TOWNS,
    _email_local,
    _next_weekday,
    _phone,
    _random_day,
    _snap_back,
    _weighted,
    _years_before,
)
from openiop.organizations.models import Program
from openiop.patients.models import Patient
from openiop.patients.search import index_patients

R = TedsDischargeReason
K = ComponentKind
Result = FollowUpAttempt.Result
Channel = FollowUpAttempt.Channel
DAY = dt.timedelta(days=1)
BATCH = 500

# How the alumni left (TEDS-D IOP discharges, domain.md section 10, rounded).
ALUMNI_REASONS: tuple[tuple[int, float], ...] = (
    (R.COMPLETED, 50), (R.DROPPED_OUT, 25), (R.TERMINATED, 10), (R.TRANSFERRED, 10),
    (R.INCARCERATED, 2), (R.OTHER, 3),
)  # fmt: skip
DISCHARGE_NOTES = {
    R.COMPLETED: "Completed the program; aftercare plan in place.",
    R.DROPPED_OUT: "No contact after repeated outreach (calls, letter).",
    R.TERMINATED: "Discharged after repeated violations of the behavior agreement.",
    R.TRANSFERRED: "Stepped up to residential treatment (ASAM 3.5).",
    R.INCARCERATED: "Incarcerated; outreach letter sent to the facility.",
    R.OTHER: "Moved out of the area; referred to a program near the new home.",
}
NARRATIVES = {
    R.COMPLETED: "Completed the program. Attended consistently and reached the plan's main "
    "objectives.",
    R.DROPPED_OUT: "Stopped attending after repeated outreach; progress was partial.",
    R.TERMINATED: "Discharged by the program after the behavior agreement was broken.",
    R.TRANSFERRED: "Transferred to residential treatment for a higher level of care.",
    R.INCARCERATED: "Left treatment when incarcerated.",
    R.OTHER: "Left the program after moving out of the area.",
}

# Share of the components in a plan that a patient actually takes up, by discharge reason, and
# the chance of taking up none at all (no answer to the first calls, moved away, ...).
TAKE_UP = {R.COMPLETED: 0.7, R.DROPPED_OUT: 0.36, R.TERMINATED: 0.3, R.INCARCERATED: 0.05}
NONE_TAKEN_UP = {R.COMPLETED: 0.08, R.DROPPED_OUT: 0.25, R.TERMINATED: 0.25}
# Chance of no use at all in the 180 days after discharge, by engagement band, and a factor
# by discharge reason. Tuned so that, with lapses that settle, the six-month success rate is
# about 25% / 45% / 65% for 0 / 1 / 2+ components (averaged over seeds).
NO_USE_180 = {"0": 0.18, "1": 0.34, "2+": 0.48}
REASON_FACTOR = {R.COMPLETED: 1.08, R.DROPPED_OUT: 0.85, R.TERMINATED: 0.8, R.INCARCERATED: 0.7}
LAPSE = {"0": 0.15, "1": 0.25, "2+": 0.35}  # first use is a brief lapse, not a relapse
# Chance of being reached at a follow-up, by band; reason and time point shift it.
REACHED = {"0": 0.66, "1": 0.78, "2+": 0.85}
REACHED_REASON = {R.DROPPED_OUT: -0.08, R.TERMINATED: -0.1, R.INCARCERATED: -0.3}
REACHED_OFFSET = {30: 0.05, 90: 0.0, 180: -0.03, 365: -0.08}

COMPONENT_COUNT = ((1, 20), (2, 40), (3, 30), (4, 10))
# kind -> (weight when drawing components, days between entries, weekday or None, staff-logged)
CADENCE: dict[str, tuple[float, int, int | None, bool]] = {
    K.ALUMNI_GROUP: (55, 7, 3, True),  # Thursdays
    K.VIRTUAL_AFTERCARE: (20, 7, 1, True),  # Tuesdays
    K.MUTUAL_HELP: (65, 7, 6, False),  # a weekly count, reported on Sundays
    K.OUTPATIENT_THERAPY: (45, 14, None, True),
    K.PEER_RECOVERY: (30, 7, None, True),
    K.SOBER_LIVING: (14, 7, 6, False),
    K.MAT_CONTINUATION: (0, 28, None, True),  # only for patients on medication
}
ENGAGEMENT_NOTES = {
    K.ALUMNI_GROUP: ("Attended alumni group", "Attended alumni group; shared a milestone"),
    K.VIRTUAL_AFTERCARE: ("Joined the virtual group", "Joined the virtual group (video)"),
    K.MUTUAL_HELP: ("2 meetings this week", "3 meetings this week", "4 meetings this week"),
    K.OUTPATIENT_THERAPY: ("Session kept (confirmed by the provider)", "Therapy session kept"),
    K.PEER_RECOVERY: ("Check-in call with recovery coach", "Met recovery coach"),
    K.SOBER_LIVING: ("House meeting attended", "House meeting attended; rent current"),
    K.MAT_CONTINUATION: ("Prescriber visit kept; refill sent", "Dose given; visit kept"),
}
THERAPISTS = (
    ("Dr. Anne Lindqvist, Cedar Falls Counseling", "Every 2 weeks"),
    ("Marcus Feld, LCSW (Riverbend Family Services)", "Every 2 weeks, Tuesdays"),
    ("Dr. Olivia Grant, Millbrook Psychology", "Every 2 weeks"),
    ("Teresa Alvarez, LMHC (East Hollow Wellness)", "Every 2 weeks, evenings"),
    ("North Country Behavioral Health, outpatient clinic", "Every 2 weeks"),
)
MEETINGS_ALCOHOL = (
    ("Alcoholics Anonymous, St. Mark's home group", "3 or more meetings a week"),
    ("SMART Recovery, Riverbend Library", "Mon/Wed 19:00"),
    ("Alcoholics Anonymous, Cedar Falls 'Early Risers'", "Daily 07:00, 3 or more a week"),
)
MEETINGS_DRUGS = (
    ("Narcotics Anonymous, 'Clean Start' group", "Tue/Thu/Sat 19:30"),
    ("SMART Recovery, Riverbend Library", "Mon/Wed 19:00"),
    ("Celebrate Recovery, Grace Community Church", "Fridays 18:30"),
    ("Refuge Recovery (online)", "Sundays 10:00"),
)
PEERS = (
    ("Recovery coach Darnell Brooks, Riverbend Peer Network", "Weekly phone check-in"),
    ("Recovery coach Alicia Moreno, Cedar Falls Recovery Community Center", "Weekly, Wednesdays"),
    ("Recovery coach Tom Kowalski, Millbrook Recovery Hub", "Weekly phone check-in"),
)
SOBER_HOMES = (
    ("Oxford House Maple", "Weekly house meeting, Sundays 19:00"),
    ("Oxford House Riverview", "Weekly house meeting, Sundays 20:00"),
    ("Hope Street Recovery Residence", "Weekly house meeting, Sundays 18:00"),
)
BUPRENORPHINE = ("Buprenorphine/naloxone", "Buprenorphine/naloxone", "Injectable buprenorphine")
FAILED = ((Result.NO_ANSWER, 58), (Result.LEFT_MESSAGE, 38), (Result.WRONG_NUMBER, 4))
OUTSIDE_PRESCRIBER = "Dr. Samuel Ortega (Riverbend Primary Care)"
CLOSED_NOTE = "Closed: not reached within the follow-up window ({n} attempts)."
DECLINED_NOTE = "Reached; declined to answer the follow-up questions."


# ---------------------------------------------------------------------------------------------
# Use after discharge
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UseCourse:
    """When use resumed after discharge (day 1 = the day after), and how."""

    first_use: int | None  # None: no use in the year after discharge
    lapse_days: int  # > 0: a lapse of that many days, then no more use; 0: ongoing use
    level: int  # days of use per 30 days once use is ongoing

    def used_between(self, after: int, until: int) -> bool:
        """Any use on days ``after + 1`` to ``until``."""
        if self.first_use is None or self.first_use > until:
            return False
        return self.lapse_days == 0 or self.first_use + self.lapse_days - 1 > after

    def days_in_30(self, rng: random.Random, day: int) -> int:
        """Days of use in the 30 days up to ``day``."""
        if self.first_use is None or self.first_use > day:
            return 0
        lo = day - 29
        if self.lapse_days:
            last = self.first_use + self.lapse_days - 1
            return max(0, min(day, last) - max(lo, self.first_use) + 1)
        since = day - self.first_use + 1
        return max(1, min(30, since, self.level + rng.randint(-2, 2)))


def baseline_days(rng: random.Random, substance: int | None, source: str) -> int:
    """Days of use in the 30 days before admission: mostly 8-30, opioids often daily; people
    stepping down from residential care (or out of jail) often none."""
    if source == ReferralSource.RESIDENTIAL and rng.random() < 0.7:
        return 0 if rng.random() < 0.75 else rng.randint(1, 4)
    if source == ReferralSource.COURT and rng.random() < 0.2:
        return 0
    if rng.random() < (0.45 if substance in OPIOIDS else 0.2):
        return 30
    u = rng.random()
    if u < 0.45:
        return rng.randint(18, 29)
    if u < 0.87:
        return rng.randint(8, 17)
    return rng.randint(1, 7)


def discharge_days(rng: random.Random, reason: int | None, baseline: int | None) -> int | None:
    """Days of use in the 30 days before discharge (None: not asked): completers mostly 0-2."""
    u = rng.random()
    if reason == R.COMPLETED:
        if u < 0.03:
            return None
        return 0 if u < 0.72 else rng.randint(1, 2) if u < 0.92 else rng.randint(3, 6)
    if reason == R.DROPPED_OUT:
        if u < 0.2:
            return None
        return 0 if u < 0.36 else rng.randint(2, max(3, min(30, baseline or 15)))
    if reason == R.TERMINATED:
        return None if u < 0.1 else rng.randint(3, 20)
    if reason == R.TRANSFERRED:
        return None if u < 0.1 else rng.randint(0, 12)
    return None if u < 0.3 else rng.randint(0, 15)


def use_course(
    rng: random.Random,
    band: str,
    reason: int | None,
    baseline: int | None,
    at_discharge: int | None,
) -> UseCourse:
    """Draw when (and how) use resumes; more aftercare engagement, later and milder."""
    no_use = NO_USE_180[band] * REASON_FACTOR.get(reason or 0, 0.9)
    if at_discharge is not None and at_discharge > 2:
        no_use *= 0.8
    no_use = min(0.9, max(0.03, no_use))
    first: int | None = int(rng.expovariate(-math.log(no_use) / 180)) + 1
    if first is not None and first > 420:
        first = None
    lapse = rng.randint(1, 4) if rng.random() < LAPSE[band] else 0
    if baseline:
        level = round(baseline * rng.uniform(0.25, 1.0))
    else:
        level = rng.randint(2, 12)
    return UseCourse(first, lapse, min(30, max(2, level)))


# ---------------------------------------------------------------------------------------------
# Plans, components, engagement
# ---------------------------------------------------------------------------------------------


@dataclass
class _Component:
    kind: str
    provider: str
    schedule: str
    starts_on: dt.date
    engaged: bool = False
    first_on: dt.date | None = None  # first engagement
    stop_on: dt.date | None = None  # last day the patient still engages
    entries: list[tuple[dt.date, str, str]] = field(default_factory=list)  # day, source, note


@dataclass
class _Plan:
    episode: Episode
    starts_on: dt.date
    ends_on: dt.date
    components: list[_Component]
    band: str = "0"
    current: bool = False  # one of the demo's own discharges (not an alumnus)


def _draw_components(
    rng: random.Random, episode: Episode, *, virtual: bool, org_name: str, prescriber: str
) -> list[tuple[str, str, str]]:
    """1-4 components (kind, provider, schedule) that fit the patient."""
    wanted = _weighted(rng, COMPONENT_COUNT)
    chosen: list[str] = []
    if episode.mat:
        chosen.append(K.MAT_CONTINUATION)
    pool = {k: w for k, (w, *_) in CADENCE.items() if w > 0}
    pool.pop(K.VIRTUAL_AFTERCARE if not virtual else K.ALUMNI_GROUP)
    if virtual:
        pool[K.VIRTUAL_AFTERCARE] = 55
    while len(chosen) < wanted and pool:
        kinds = sorted(pool)
        kind = rng.choices(kinds, weights=[pool[k] for k in kinds])[0]
        del pool[kind]
        chosen.append(kind)
    alcohol = episode.primary_substance == TedsSubstance.ALCOHOL
    out = []
    for kind in chosen:
        if kind == K.ALUMNI_GROUP:
            out.append((kind, f"{org_name} alumni group", "Thursdays 18:00-19:30"))
        elif kind == K.VIRTUAL_AFTERCARE:
            out.append((kind, f"{org_name} virtual alumni group", "Tuesdays 19:00 (video)"))
        elif kind == K.MUTUAL_HELP:
            out.append((kind, *rng.choice(MEETINGS_ALCOHOL if alcohol else MEETINGS_DRUGS)))
        elif kind == K.OUTPATIENT_THERAPY:
            out.append((kind, *rng.choice(THERAPISTS)))
        elif kind == K.PEER_RECOVERY:
            out.append((kind, *rng.choice(PEERS)))
        elif kind == K.SOBER_LIVING:
            out.append((kind, *rng.choice(SOBER_HOMES)))
        elif alcohol:
            medication = rng.choice(("Naltrexone", "Acamprosate", "Extended-release naltrexone"))
            visits = "Monthly injection" if medication.startswith("Extended") else "Monthly visit"
            out.append((kind, f"{medication} continuation with {prescriber}", visits))
        else:
            medication = rng.choice(BUPRENORPHINE)
            visits = "Monthly injection" if medication.startswith("Inj") else "Monthly visit"
            out.append((kind, f"{medication} continuation with {prescriber}", visits))
    return out


def _engage(rng: random.Random, plan: _Plan, take_up: float) -> None:
    """Decide which components the patient takes up and for how long, and log the contacts."""
    reason = plan.episode.discharge_reason or 0
    nothing = rng.random() < NONE_TAKEN_UP.get(reason, 0.2)
    for c in plan.components:
        chance = 0.85 if c.kind == K.MAT_CONTINUATION else take_up
        c.engaged = rng.random() < chance and not nothing
        if not c.engaged:
            continue
        _, every, weekday, staff_logged = CADENCE[c.kind]
        start = c.starts_on + dt.timedelta(days=rng.randint(0, 10))
        if weekday is not None:
            start = _next_weekday(start, (weekday,))
        if rng.random() < 0.45:
            stop = plan.ends_on  # kept it up to the end of the plan
        else:
            stop = start + dt.timedelta(days=rng.randint(21, 270))
        c.first_on, c.stop_on = start, min(stop, plan.ends_on)
        reliability = rng.uniform(0.7, 0.95)
        day = start
        while day <= c.stop_on:
            if day == start or rng.random() < reliability:
                source = (
                    EngagementEntry.Source.STAFF
                    if staff_logged or rng.random() < 0.2
                    else EngagementEntry.Source.PATIENT
                )
                c.entries.append((day, source, rng.choice(ENGAGEMENT_NOTES[c.kind])))
            jitter = rng.randint(-2, 2) if weekday is None and every > 7 else 0
            day += dt.timedelta(days=every + jitter)
    _set_band(plan)


def _set_band(plan: _Plan) -> None:
    engaged = sum(1 for c in plan.components if c.engaged)
    plan.band = "0" if engaged == 0 else "1" if engaged == 1 else "2+"


def _last_contact(plan: _Plan, today: dt.date) -> dt.date | None:
    return max((d for c in plan.components for d, _, _ in c.entries if d <= today), default=None)


def _go_quiet(rng: random.Random, plan: _Plan, before: dt.date) -> None:
    """Make the patient stop engaging some days before ``before``."""
    cut = before - dt.timedelta(days=rng.randint(1, 10))
    for c in plan.components:
        c.entries = [x for x in c.entries if x[0] <= cut]
        if c.stop_on is not None:
            c.stop_on = min(c.stop_on, cut)
        if not c.entries:
            c.engaged, c.first_on, c.stop_on = False, None, None
    _set_band(plan)


# ---------------------------------------------------------------------------------------------
# Follow-ups
# ---------------------------------------------------------------------------------------------


@dataclass
class _Story:
    """One follow-up as it went (or will go), cut at ``today``."""

    status: str
    contacted_on: dt.date | None
    attempts: list[tuple[dt.datetime, str, str]]  # when, channel, result
    closed_on: dt.date | None = None
    declined: bool = False


def _attempt_time(rng: random.Random, day: dt.date, tz: Any) -> dt.datetime:
    return dt.datetime.combine(
        day, dt.time(rng.randint(9, 18), rng.choice((0, 10, 20, 30, 40, 50))), tzinfo=tz
    )


def _failed(rng: random.Random, unreachable: bool) -> str:
    if unreachable:
        return Result.WRONG_NUMBER if rng.random() < 0.5 else Result.NO_ANSWER
    return _weighted(rng, FAILED)


def _channel(rng: random.Random) -> str:
    return _weighted(rng, ((Channel.PHONE, 75), (Channel.TEXT, 20), (Channel.EMAIL, 5)))


def _story(
    rng: random.Random,
    due: dt.date,
    *,
    reached: bool,
    unreachable: bool,
    today: dt.date,
    before: int,
    grace: int,
    tz: Any,
    hold_open: bool = False,
) -> _Story:
    """Draw the calls for one follow-up and keep what happened before ``today``."""
    opens = due - dt.timedelta(days=before)
    attempts: list[tuple[dt.date, str, str]] = []
    contact: dt.date | None = None
    closed: dt.date | None = None
    declined = False
    if reached:
        contact = due + dt.timedelta(days=min(grace, max(-before, round(rng.gauss(3, 8)))))
        day = contact
        failures = []
        for _ in range(_weighted(rng, ((0, 40), (1, 30), (2, 20), (3, 10)))):
            day -= dt.timedelta(days=rng.randint(2, 6))
            if day < opens:
                break
            failures.append((day, _channel(rng), _failed(rng, False)))
        attempts = [*reversed(failures), (contact, Channel.PHONE, Result.REACHED)]
    else:
        day = max(opens, due + dt.timedelta(days=rng.randint(-10, 3)))
        for i in range(rng.randint(2, 4)):
            if i:
                day += dt.timedelta(days=rng.randint(3, 10))
            if day > due + dt.timedelta(days=grace):
                break
            attempts.append((day, _channel(rng), _failed(rng, unreachable)))
        if not unreachable and rng.random() < 0.06:
            declined = True
            attempts[-1] = (attempts[-1][0], Channel.PHONE, Result.DECLINED)
            closed = attempts[-1][0]
        else:
            closed = due + dt.timedelta(days=grace + rng.randint(3, 30))
    if hold_open:  # still to be done today, whatever the draw said
        contact = None if contact is not None and contact < today else contact
        closed = None
    kept = [(_attempt_time(rng, d, tz), ch, res) for d, ch, res in attempts if d < today]
    if contact is not None and contact < today:
        return _Story(FollowUp.Status.COMPLETED, contact, kept)
    if closed is not None and closed < today:
        return _Story(FollowUp.Status.CLOSED, None, kept, closed_on=closed, declined=declined)
    return _Story(FollowUp.Status.PENDING, None, [a for a in kept if a[2] != Result.REACHED])


@dataclass
class _Answers:
    employment: int
    living: int


def _answers(
    rng: random.Random,
    plan: _Plan,
    course: UseCourse,
    state: _Answers,
    *,
    on: dt.date,
    after: int,
    primary: int | None,
    secondary: int | None,
) -> dict[str, Any]:
    """What the patient reports on ``on`` (days since discharge; last contact ``after``)."""
    discharged = plan.episode.discharged_on
    assert discharged is not None
    day = (on - discharged).days
    used = course.days_in_30(rng, day)
    any_use = course.used_between(after, day)
    per_substance: dict[str, int] = {}
    if primary is not None:
        per_substance[str(primary)] = used
        if secondary is not None and used and rng.random() < 0.4:
            per_substance[str(secondary)] = rng.randint(1, used)
    heavy = used >= 8
    if heavy and state.employment in (1, 2) and rng.random() < 0.25:
        state.employment = 3
    elif not used and state.employment == 3 and rng.random() < 0.3:
        state.employment = rng.choice((1, 1, 2))
    sober_home = any(
        c.kind == K.SOBER_LIVING and c.engaged and c.stop_on and c.stop_on >= on
        for c in plan.components
    )
    if sober_home:
        state.living = 2
    elif heavy and rng.random() < 0.12:
        state.living = 1
    elif state.living == 1 and not used and rng.random() < 0.4:
        state.living = 2
    in_treatment = any(
        c.engaged
        and c.first_on is not None
        and c.first_on <= on
        and c.stop_on is not None
        and c.stop_on >= on - dt.timedelta(days=30)
        and c.kind
        in (K.OUTPATIENT_THERAPY, K.MAT_CONTINUATION, K.ALUMNI_GROUP, K.VIRTUAL_AFTERCARE)
        for c in plan.components
    )
    phq9 = None if rng.random() < 0.08 else _score(rng, 11 if heavy else 8 if used else 5, 27)
    gad7 = None if rng.random() < 0.08 else _score(rng, 9 if heavy else 7 if used else 4, 21)
    if not used and not any_use:
        note = rng.choice(("Doing well; no use since the last call.", "", "Going to meetings."))
    elif not used:
        note = rng.choice(("Brief lapse, back on track.", "Slipped once; called sponsor.", ""))
    else:
        note = rng.choice(("Using again; re-entry to IOP offered.", "Offered a re-assessment.", ""))
    return {
        "any_use_since_last": any_use,
        "days_used_30": used,
        "substance_days": per_substance,
        "employment": state.employment,
        "living": state.living,
        "arrests_30": 1 if rng.random() < (0.06 if heavy else 0.005) else 0,
        "in_treatment": in_treatment,
        "phq9": phq9,
        "gad7": gad7,
        "notes": note,
    }


def _score(rng: random.Random, mean: float, top: int) -> int:
    return min(top, max(0, round(rng.gauss(mean, 3.5))))


# ---------------------------------------------------------------------------------------------
# The alumni cohort
# ---------------------------------------------------------------------------------------------


def _mrn_prefix(existing: Iterable[str]) -> str:
    """The clinic's legacy MRN series: ``RB-001234`` -> ``RBL-`` (records carried over from
    the system the clinic used before, so they never collide with the current series)."""
    for mrn in existing:
        match = re.fullmatch(r"([A-Z]+)-\d+", mrn)
        if match:
            return f"{match.group(1)}L-"
    return "L-"


def _los(rng: random.Random, reason: int, length: int) -> int:
    """Days from admission to discharge (TEDS 2004: completers ~50, drop-outs ~26)."""
    if reason == R.COMPLETED:
        return length + (rng.randint(2, 16) if length < 49 else rng.randint(-4, 6))
    if reason == R.DROPPED_OUT:
        return int(rng.triangular(12, 38, 24))
    if reason == R.TERMINATED:
        return rng.randint(18, 45)
    if reason == R.TRANSFERRED:
        return rng.randint(14, 42)
    return rng.randint(8, 40)


def _alumni(
    rng: random.Random,
    organization: Any,
    *,
    count: int,
    today: dt.date,
    programs: Sequence[Program],
    counselors: Sequence[User],
    staff: dict[str, User],
    pinned_offset: int,
) -> tuple[list[Episode], set[int]]:
    """Write ``count`` alumni (patients, discharged episodes, status history, summaries).

    Returns the episodes and the pks of those pinned so a follow-up is due today."""
    existing = Patient.objects.for_org(organization.pk).values_list(
        "mrn", "first_name", "last_name"
    )
    mrns = {m for m, _, _ in existing}
    names = {(f, la) for _, f, la in existing}
    prefix = _mrn_prefix(sorted(mrns))
    specs = {p.name: p for p in PROGRAMS}
    by_name = {u.username: u for u in counselors}
    weights = [specs[p.name].weight if p.name in specs else 1.0 for p in programs]
    lo, hi = _months_before(today, 16), _months_before(today, 7)
    mrn = 200
    patients: list[Patient] = []
    episodes: list[Episode] = []
    pinned: list[int] = []
    for i in range(count):
        mrn += rng.randint(1, 4)
        while f"{prefix}{mrn:06d}" in mrns:
            mrn += 1
        group = _weighted(rng, [(g, g[0]) for g in NAME_GROUPS])
        _, females, males, lasts, language, share = group
        for _ in range(50):
            sex = rng.choice((Patient.Sex.FEMALE, Patient.Sex.MALE))
            first = rng.choice(females if sex == Patient.Sex.FEMALE else males)
            last = rng.choice(lasts)
            if (first, last) not in names:
                break
        names.add((first, last))
        age = min(65, max(20, int(rng.triangular(20, 65, 33))))
        town, zipcode = rng.choice(TOWNS)
        rel = rng.choice(("Spouse", "Partner", "Mother", "Father", "Sister", "Brother", "Friend"))
        contact_last = last if rel not in {"Partner", "Friend"} else rng.choice(lasts)
        patients.append(
            Patient(
                organization=organization,
                mrn=f"{prefix}{mrn:06d}",
                first_name=first,
                last_name=last,
                preferred_name=NICKNAMES.get(first, "") if rng.random() < 0.5 else "",
                date_of_birth=_random_day(
                    rng, _years_before(today, age + 1) + DAY, _years_before(today, age)
                ),
                sex=sex,
                phone=_phone(rng),
                email=f"{_email_local(first, last)}{rng.randint(1, 99)}@example.org",
                address=f"{rng.randint(3, 980)} {rng.choice(STREETS)}, {town}, NY {zipcode}",
                preferred_language=language if language and rng.random() < share else "English",
                emergency_contact_name=f"{rng.choice(females + males)} {contact_last}",
                emergency_contact_phone=_phone(rng),
                emergency_contact_relationship=rel,
            )
        )
        program = rng.choices(programs, weights=weights)[0]
        spec = specs.get(program.name)
        weekdays = spec.weekdays if spec else (0, 2, 4)
        reason = _weighted(rng, ALUMNI_REASONS)
        if i < 3:  # a follow-up due around today: the work list always has calls
            reason = R.COMPLETED
            discharged = today - dt.timedelta(days=pinned_offset + (18, 4, -8)[i])
            pinned.append(i)
        else:
            discharged = _random_day(rng, lo, hi)
        discharged = _snap_back(discharged, weekdays)
        length = program.typical_length_weeks * 7
        admitted = _snap_back(discharged - dt.timedelta(days=_los(rng, reason, length)), weekdays)
        substance = _weighted(rng, ADULT_SUBSTANCES)
        others = [s for s, _ in ADULT_SUBSTANCES if s != substance]
        secondary = rng.choice(others) if rng.random() < 0.5 else None
        mat = (
            rng.random() < 0.8
            if substance in OPIOIDS
            else substance == TedsSubstance.ALCOHOL and rng.random() < 0.2
        )
        source = _weighted(rng, ADULT_REFERRALS)
        pool = [by_name[u] for u in spec.pool if u in by_name] if spec else []
        counselor = rng.choice(pool or list(counselors)) if counselors else None
        baseline = baseline_days(rng, substance, source)
        episodes.append(
            Episode(
                organization=organization,
                program=program,
                status=Episode.Status.DISCHARGED,
                referral_date=admitted - dt.timedelta(days=rng.randint(2, 16)),
                referral_source=source,
                admitted_on=admitted,
                discharged_on=discharged,
                primary_substance=substance,
                secondary_substance=secondary,
                mat=mat,
                baseline_days_used_30=baseline,
                discharge_days_used_30=discharge_days(rng, reason, baseline),
                discharge_reason=reason,
                discharge_note=DISCHARGE_NOTES[reason],
                primary_counselor=counselor,
            )
        )
    Patient.objects.bulk_create(patients, batch_size=BATCH)
    index_patients(patients, new=True)
    for patient, episode in zip(patients, episodes, strict=True):
        episode.patient = patient
    Episode.objects.bulk_create(episodes, batch_size=BATCH)
    intake = staff.get("intake")
    changes = []
    for e in episodes:
        assert e.admitted_on is not None and e.discharged_on is not None
        counselor_id = e.primary_counselor_id
        first_group = min(
            e.discharged_on,
            _next_weekday(e.admitted_on, specs[e.program.name].weekdays)
            if e.program.name in specs
            else e.admitted_on,
        )
        steps = (
            ("", Episode.Status.WAITLISTED, e.referral_date, "", intake and intake.pk),
            (Episode.Status.WAITLISTED, Episode.Status.ADMITTED, e.admitted_on, "",
             intake and intake.pk),
            (Episode.Status.ADMITTED, Episode.Status.ACTIVE, first_group,
             "first session attended", counselor_id),
            (Episode.Status.ACTIVE, Episode.Status.DISCHARGED, e.discharged_on,
             R(e.discharge_reason).label, counselor_id),
        )  # fmt: skip
        changes += [
            EpisodeStatusChange(
                organization=organization, episode=e, from_status=f, to_status=t,
                effective_on=d, reason=why, changed_by_id=by,
            )
            for f, t, d, why, by in steps
        ]  # fmt: skip
    EpisodeStatusChange.objects.bulk_create(changes, batch_size=BATCH)
    return episodes, {episodes[i].pk for i in pinned}


def _months_before(day: dt.date, months: int) -> dt.date:
    return add_months(day, -months)


def _summaries(
    rng: random.Random, organization: Any, episodes: Sequence[Episode], plans: dict[int, _Plan]
) -> int:
    """Signed discharge summaries for the alumni (their services predate the demo's record)."""
    rows = []
    for e in episodes:
        author = e.primary_counselor
        if author is None or e.discharged_on is None:
            continue
        reason = R(e.discharge_reason)
        plan = plans.get(e.pk)
        if plan is not None:
            aftercare = "; ".join(
                f"{K(c.kind).label}: {c.provider} ({c.schedule})" for c in plan.components
            )
        else:
            aftercare = "Continuing care arranged by the receiving program."
        last = e.discharged_on - dt.timedelta(
            days=rng.randint(3, 14) if reason == R.DROPPED_OUT else 0
        )
        signed_on = e.discharged_on + dt.timedelta(days=rng.randint(1, 5))
        rows.append(
            DischargeSummary(
                organization=organization,
                episode=e,
                patient_id=e.patient_id,
                author=author,
                due_on=e.discharged_on + dt.timedelta(days=e.program.discharge_summary_days),
                reason_code=e.discharge_reason,
                level_at_admission=e.program.level_of_care,
                level_at_discharge=e.program.level_of_care,
                last_service_on=max(e.admitted_on or last, last),
                progress_narrative=NARRATIVES[reason],
                aftercare_plan=aftercare,
                referrals="Mutual-help meeting list and the alumni group schedule given.",
                risk_at_discharge="Screened at discharge: no current suicidal ideation; "
                "overdose risk and naloxone discussed.",
                recommendations="Continue recovery supports; return to IOP if use resumes.",
                status=DischargeSummary.Status.SIGNED,
                signed_at=_attempt_time(rng, signed_on, e.program.site.tz),
                signed_by=author,
            )
        )
    DischargeSummary.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


# ---------------------------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------------------------


def _counselors(organization: Any, staff: dict[str, User]) -> list[User]:
    from openiop.organizations.demo import COUNSELORS

    named = [staff[u] for u in COUNSELORS if u in staff]
    if named:
        return named
    return list(
        User.objects.filter(organization=organization, groups__name=Role.COUNSELOR.value)
        .distinct()
        .order_by("id")
    )


def _prescriber_name(organization: Any, staff: dict[str, User]) -> str:
    user = staff.get("prescriber") or (
        User.objects.filter(organization=organization, groups__name=Role.PRESCRIBER.value)
        .order_by("id")
        .first()
    )
    if user is None or not user.last_name:
        return OUTSIDE_PRESCRIBER
    return f"Dr. {user.first_name} {user.last_name}".replace("  ", " ")


def seed_aftercare(
    *,
    organization: Any,
    episodes: Iterable[Episode],
    rng: random.Random,
    today: dt.date,
    staff: dict[str, User] | None = None,
    alumni: int | None = None,
) -> dict[str, int]:
    """Baseline use, an alumni cohort, and aftercare with follow-ups; returns counts.

    ``episodes``: the demo's own episodes (other organizations' are ignored). ``alumni``: how
    many alumni to add (default: 130-170, drawn). Call once per organization."""
    staff = staff or {}
    months = settings.OPENIOP_AFTERCARE_MONTHS
    offsets = tuple(settings.OPENIOP_FOLLOW_UP_DAYS)
    before = settings.OPENIOP_FOLLOW_UP_WINDOW_BEFORE
    grace = settings.OPENIOP_FOLLOW_UP_GRACE_AFTER
    quiet_weeks = settings.OPENIOP_GONE_QUIET_WEEKS
    quiet_days = quiet_weeks * 7
    own = sorted((e for e in episodes if e.organization_id == organization.pk), key=lambda e: e.pk)
    programs = {p.pk: p for p in Program.objects.for_org(organization.pk).select_related("site")}
    for e in own:  # the same objects, without a query each
        e.program = programs[e.program_id]

    # 1. Days of use before admission (all admitted) and before discharge (discharged); a
    # transfer continues the same course, so its baseline is the first segment's.
    admitted = [e for e in own if e.admitted_on is not None]
    for e in admitted:
        e.baseline_days_used_30 = baseline_days(rng, e.primary_substance, e.referral_source)
        if e.status == Episode.Status.DISCHARGED:
            e.discharge_days_used_30 = discharge_days(
                rng, e.discharge_reason, e.baseline_days_used_30
            )
    by_pk = {e.pk: e for e in own}
    for e in admitted:
        if e.transferred_from_id in by_pk:
            e.baseline_days_used_30 = by_pk[e.transferred_from_id].baseline_days_used_30
    Episode.objects.bulk_update(
        admitted, ["baseline_days_used_30", "discharge_days_used_30"], batch_size=BATCH
    )

    # 2. The alumni.
    adult = [
        p for p in sorted(programs.values(), key=lambda p: p.pk)
        if p.population == Program.Population.ADULT
    ] or sorted(programs.values(), key=lambda p: p.pk)  # fmt: skip
    counselors = _counselors(organization, staff)
    count = rng.randint(130, 170) if alumni is None else alumni
    alumni_rows, pinned = (
        _alumni(
            rng, organization, count=count, today=today, programs=adult,
            counselors=counselors, staff=staff, pinned_offset=max(offsets) if offsets else 365,
        )
        if adult and count
        else ([], set())
    )  # fmt: skip

    # 3. Aftercare for every discharge that is not a transfer.
    continued = {e.transferred_from_id for e in own if e.transferred_from_id}
    discharged = [
        e
        for e in [*own, *alumni_rows]
        if e.status == Episode.Status.DISCHARGED
        and e.discharged_on is not None
        and e.discharged_on <= today
        and e.discharge_reason != R.TRANSFERRED
        and e.pk not in continued
    ]
    own_pks = {e.pk for e in own}
    org_name = organization.name.split(" Recovery")[0] if organization.name else "Clinic"
    prescriber = _prescriber_name(organization, staff)
    plans: dict[int, _Plan] = {}
    for e in discharged:
        assert e.discharged_on is not None
        starts = e.discharged_on + DAY
        plan = _Plan(e, starts, aftercare_plan_ends_on(starts, months), [], current=e.pk in own_pks)
        virtual = e.program.modality == Program.Modality.VIRTUAL
        for kind, provider, schedule in _draw_components(
            rng, e, virtual=virtual, org_name=org_name, prescriber=prescriber
        ):
            later = 0 if kind in (K.ALUMNI_GROUP, K.VIRTUAL_AFTERCARE) else rng.randint(0, 7)
            plan.components.append(
                _Component(kind, provider, schedule, starts + dt.timedelta(days=later))
            )
        plans[e.pk] = plan
    for plan in plans.values():
        _engage(rng, plan, TAKE_UP.get(plan.episode.discharge_reason or 0, 0.45))
    # Make sure a few of the demo's own recent discharges have gone quiet (two, when that many
    # plans have run long enough); usually some already have.
    old_enough = [
        p for p in plans.values()
        if p.current and p.starts_on <= today - dt.timedelta(days=quiet_days + 7)
    ]  # fmt: skip
    engaged = [
        p for p in old_enough
        if not gone_quiet(_last_contact(p, today), p.starts_on, today, quiet_weeks)
    ]  # fmt: skip
    missing = min(2, len(old_enough)) - (len(old_enough) - len(engaged))
    for plan in rng.sample(engaged, max(0, missing)):
        _go_quiet(rng, plan, today - dt.timedelta(days=quiet_days))

    # 4. Write plans, components, engagement (cut at today).
    plan_rows = AftercarePlan.objects.bulk_create(
        [
            AftercarePlan(
                organization=organization, patient_id=p.episode.patient_id, episode=p.episode,
                starts_on=p.starts_on, ends_on=p.ends_on,
                notes="Plan agreed at discharge." if p.episode.discharge_reason == R.COMPLETED
                else "Plan sent with the discharge letter.",
            )
            for p in plans.values()
        ],
        batch_size=BATCH,
    )  # fmt: skip
    row_of = {p.episode.pk: row for p, row in zip(plans.values(), plan_rows, strict=True)}
    component_rows: list[AftercareComponent] = []
    entries: list[tuple[int, tuple[dt.date, str, str]]] = []
    for p in plans.values():
        for c in p.components:
            component_rows.append(
                AftercareComponent(
                    organization=organization, plan=row_of[p.episode.pk], kind=c.kind,
                    provider=c.provider, schedule=c.schedule, starts_on=c.starts_on,
                )
            )  # fmt: skip
            entries += [(len(component_rows) - 1, x) for x in c.entries if x[0] <= today]
    AftercareComponent.objects.bulk_create(component_rows, batch_size=BATCH)
    EngagementEntry.objects.bulk_create(
        [
            EngagementEntry(
                organization=organization, component=component_rows[i], occurred_on=day,
                source=source, note=note,
            )
            for i, (day, source, note) in entries
        ],
        batch_size=2000,
    )  # fmt: skip

    # 5. Follow-ups with their calls and answers.
    counselor_pks = [u.pk for u in counselors]
    follow_ups: list[FollowUp] = []
    attempts: list[tuple[int, tuple[dt.datetime, str, str]]] = []
    for p in plans.values():
        e = p.episode
        assert e.discharged_on is not None
        course = use_course(
            rng, p.band, e.discharge_reason, e.baseline_days_used_30, e.discharge_days_used_30
        )
        state = _Answers(
            employment=_weighted(rng, ((1, 40), (2, 15), (3, 30), (4, 15))),
            living=_weighted(rng, ((3, 68), (2, 24), (1, 8))),
        )
        lost_after = (
            rng.choice(offsets) if offsets and rng.random() < 0.1 else None
        )  # phone number gone from then on
        caller = e.primary_counselor_id or (rng.choice(counselor_pks) if counselor_pks else None)
        after = 0
        tz = e.program.site.tz
        for offset, due in follow_ups_due(e.discharged_on, offsets):
            unreachable = lost_after is not None and offset >= lost_after
            chance = (
                REACHED[p.band]
                + REACHED_REASON.get(e.discharge_reason or 0, 0.0)
                + REACHED_OFFSET.get(offset, -0.05)
            )
            reached = not unreachable and rng.random() < chance
            story = _story(
                rng, due, reached=reached, unreachable=unreachable, today=today,
                before=before, grace=grace, tz=tz,
                hold_open=e.pk in pinned and offset == max(offsets),
            )  # fmt: skip
            row = FollowUp(
                organization=organization, plan=row_of[e.pk], patient_id=e.patient_id,
                offset_days=offset, due_on=due, status=story.status,
            )  # fmt: skip
            if story.status == FollowUp.Status.COMPLETED:
                assert story.contacted_on is not None
                row.contacted_on = story.contacted_on
                row.contacted_by_id = caller
                for name, value in _answers(
                    rng, p, course, state, on=story.contacted_on, after=after,
                    primary=e.primary_substance, secondary=e.secondary_substance,
                ).items():  # fmt: skip
                    setattr(row, name, value)
                after = (story.contacted_on - e.discharged_on).days
            elif story.status == FollowUp.Status.CLOSED:
                row.notes = (
                    DECLINED_NOTE if story.declined else CLOSED_NOTE.format(n=len(story.attempts))
                )
            follow_ups.append(row)
            attempts += [(len(follow_ups) - 1, a) for a in story.attempts]
    FollowUp.objects.bulk_create(follow_ups, batch_size=BATCH)
    FollowUpAttempt.objects.bulk_create(
        [
            FollowUpAttempt(
                organization=organization, follow_up=follow_ups[i], attempted_at=when,
                channel=channel, result=result,
            )
            for i, (when, channel, result) in attempts
        ],
        batch_size=BATCH,
    )  # fmt: skip

    summaries = _summaries(rng, organization, alumni_rows, plans)
    return {
        "episodes_with_baseline": sum(1 for e in own if e.admitted_on is not None),
        "alumni": len(alumni_rows),
        "plans": len(plan_rows),
        "components": len(component_rows),
        "engagement": len(entries),
        "follow_ups": len(follow_ups),
        "follow_ups_completed": sum(1 for f in follow_ups if f.status == FollowUp.Status.COMPLETED),
        "attempts": len(attempts),
        "discharge_summaries": summaries,
    }
