"""A large, deterministic demo organization: ``openiop demo --scale large``.

Great Lakes Recovery Network: 10 sites, 40 programs (a day, an evening, an adolescent and a
virtual IOP at every site), 20,000 patients over five years by default, and everything their
treatment implies: episodes with their status changes, group sessions (about 2 million
attendance records), signed individual notes, PHQ-9 / GAD-7 responses scored by the instrument
registry, TPO consents, monthly per-diem claims for the last year, and one hash-chained audit row
per write the real services would have audited. Billing is set up as a clinic would have it (a
billing profile, every patient's coverage), and the months after the last billed one (last month
and this one) have signed group notes for every attended group, so charge capture finds clean
lines there and ``bench/claims_month.py`` can build and export a real month of 837 claims.

How it stays fast (under 15 minutes on 2 cores for the full size):

* ``plan_large`` draws the patients and episodes from one ``random.Random(seed)`` (pure data, no
  database) and assigns every episode to a group of its program that still has room, opening a
  new parallel group when all are full (so no roster exceeds the program's group cap).
* ``build_large`` writes patients, episodes and status changes with ``bulk_create``, then walks
  the history one week at a time: that week's sessions, attendance, notes, questionnaires,
  consents and claims are bulk-inserted, and that week's audit rows are sorted by time, chained
  in Python with :func:`openiop.core.audit.compute_hash` and bulk-inserted; the chain head
  (``AuditHead``) is advanced in the same transaction, so the chain verifies after every week,
  even if the run is interrupted.

Signed notes are inserted signed (the database triggers refuse UPDATE and DELETE of signed
rows, not INSERT). Public ids are drawn from the seed, so the same seed gives the same rows.
Everything is fiction (names from short lists, 555-01xx phone numbers, example.org e-mail).
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import time
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connections, router, transaction

from openiop.accounts.models import User
from openiop.accounts.permissions import Role
from openiop.attendance.models import AttendanceRecord
from openiop.billing.models import Authorization, BillingProfile, Claim, ClaimLine, Coverage, Payer
from openiop.billing.x12.validate import npi_check_digit
from openiop.clinical.demo_group_notes import part_text, shared_text
from openiop.clinical.demo_notes import ASSESSMENTS, EVENTS, MOODS, PLANS, SKILLS
from openiop.clinical.models import GroupNote, Note, NoteFormat, PlanProblem, TreatmentPlan
from openiop.clinical.services.group_notes import part_times
from openiop.consent import rules as consent_rules
from openiop.consent.models import Consent
from openiop.core.audit import GENESIS, compute_hash
from openiop.core.dbstats import analyze
from openiop.core.models import AuditEvent, AuditHead
from openiop.enrollment.models import Episode, EpisodeStatusChange, TedsDischargeReason
from openiop.organizations.demo import (
    ADULT_REFERRALS,
    ADULT_SUBSTANCES,
    DEMO_PASSWORD,
    NAME_GROUPS,
    STREETS,
    TEEN_REFERRALS,
    TEEN_SUBSTANCES,
    TOWNS,
    clinic_holidays,
)
from openiop.organizations.models import PROGRAM_DEFAULTS, Organization, Program, Room, Site
from openiop.patients.models import Patient
from openiop.patients.search import index_patients
from openiop.questionnaires.instruments import registry
from openiop.questionnaires.models import QuestionnaireResponse
from openiop.scheduling.models import Session, SessionKind, SessionSeries
from openiop.scheduling.services import local_datetime

ORG_NAME = "Great Lakes Recovery Network"
ORG_SLUG = "greatlakes"
USER_PREFIX = "gl."
DEFAULT_PATIENTS = 20_000
DEFAULT_YEARS = 5
BATCH = 5000
UTC = dt.UTC
DAY = dt.timedelta(days=1)
S = Episode.Status
A = AttendanceRecord.Status
CAT = AuditEvent.Category

# fmt: off
SITES: tuple[tuple[str, str, str], ...] = (
    ("Albany", "America/New_York", "DAP"), ("Buffalo", "America/New_York", "DAP"),
    ("Rochester", "America/New_York", "BIRP"), ("Erie", "America/New_York", "DAP"),
    ("Cleveland", "America/New_York", "SOAP"), ("Toledo", "America/New_York", "DAP"),
    ("Detroit", "America/Detroit", "DAP"), ("Chicago", "America/Chicago", "BIRP"),
    ("Milwaukee", "America/Chicago", "DAP"), ("Duluth", "America/Chicago", "SOAP"),
)
# key, name, defaults, population, modality, cohort, weekdays, start, minutes, cap, share
PROGRAMS: tuple[tuple[Any, ...], ...] = (
    ("day", "Adult Day IOP", "adult", Program.Population.ADULT, Program.Modality.IN_PERSON,
     Program.Cohort.DAY, (0, 1, 2, 3), dt.time(9, 0), 180, 12, 0.30),
    ("evening", "Adult Evening IOP", "adult", Program.Population.ADULT,
     Program.Modality.IN_PERSON, Program.Cohort.EVENING, (0, 1, 2, 3), dt.time(18, 0), 180, 12,
     0.30),
    ("teen", "Adolescent IOP", "adolescent", Program.Population.ADOLESCENT,
     Program.Modality.IN_PERSON, Program.Cohort.AFTER_SCHOOL, (0, 1, 2, 3), dt.time(15, 30),
     120, 10, 0.18),
    ("virtual", "Virtual IOP", "virtual", Program.Population.ADULT, Program.Modality.VIRTUAL,
     Program.Cohort.EVENING, (1, 2, 3, 4), dt.time(18, 30), 180, 12, 0.22),
)
PAYERS: tuple[dict[str, Any], ...] = (
    dict(name="Lakeshore Health Plan", kind="commercial", payer_id="LSHP1",
         claim_filing_indicator="CI", billing_model="per_diem", claim_type="professional",
         fee_schedule={"H0015": "185.00"}),
    dict(name="Great Lakes Medicaid", kind="medicaid", payer_id="GLMCD",
         claim_filing_indicator="MC", billing_model="per_diem", claim_type="professional",
         fee_schedule={"H0015": "160.00"}),
)
ICD10 = {1: "F10.20", 2: "F11.20", 3: "F11.20", 4: "F11.20", 5: "F14.20", 6: "F12.20",
         7: "F15.20", 8: "F15.20", 9: "F15.20", 10: "F13.20", 11: "F13.20", 12: "F16.20"}
ICD10_TEXT = {"F10.20": "Alcohol dependence, uncomplicated",
              "F11.20": "Opioid dependence, uncomplicated",
              "F12.20": "Cannabis dependence, uncomplicated",
              "F13.20": "Sedative, hypnotic or anxiolytic dependence, uncomplicated",
              "F14.20": "Cocaine dependence, uncomplicated",
              "F15.20": "Other stimulant dependence, uncomplicated",
              "F16.20": "Hallucinogen dependence, uncomplicated"}
# fmt: on
GLOBAL_STAFF: tuple[tuple[str, str, str, Role], ...] = (
    ("director", "Dana", "Whitfield", Role.PROGRAM_DIRECTOR),
    ("intake", "Marcus", "Bell", Role.INTAKE),
    ("billing", "Irene", "Kowalski", Role.BILLING),
    ("auditor", "Paul", "Lindqvist", Role.AUDITOR),
    ("prescriber", "Grace", "Okoye", Role.PRESCRIBER),
    ("admin", "Sam", "Becker", Role.ADMIN),
)
COUNSELORS_PER_SITE = 4
AUTH_BLOCK_DAYS = 28
PLAN_REVIEW_DAYS = 30
AREA_CODES = ("716", "585", "312", "414")
PHASES = (
    "setup", "plan", "patients", "episodes", "authorizations", "plans", "sessions",
    "attendance", "group_notes", "notes", "questionnaires", "consents", "claims", "audit",
    "analyze",
)  # fmt: skip


def logins() -> list[tuple[str, str, str]]:
    """(username, role, password) for the large organization's main log-ins."""
    rows = [(USER_PREFIX + u, r.value, DEMO_PASSWORD) for u, _, _, r in GLOBAL_STAFF]
    rows.append((f"{USER_PREFIX}counselor01", "counselor (Albany)", DEMO_PASSWORD))
    rows.append((f"{USER_PREFIX}frontdesk01", "front_desk (Albany)", DEMO_PASSWORD))
    return rows


def database_has_large() -> bool:
    return (
        Organization.objects.filter(slug=ORG_SLUG).exists()
        or User.objects.filter(username__startswith=USER_PREFIX).exists()
    )


def bulk_insert(model: Any, objs: list[Any]) -> int:
    """``bulk_create`` for rows nobody needs the primary key of, at a fraction of its cost.

    Each value goes through the field's own ``pre_save`` and ``get_db_prep_save`` (exactly what
    ``bulk_create`` does, so JSON, UUIDs, decimals and aware datetimes are stored identically),
    but the INSERT statement is built once and run with ``executemany`` in batches of 5,000,
    instead of being compiled again for every ~60 rows: measured on SQLite, Django's insert
    compiler costs about 200 microseconds a row, which alone would take 15 minutes for the
    attendance and audit rows of the large organization. No signals, as with bulk_create.
    """
    if not objs:
        return 0
    conn = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    qn = conn.ops.quote_name
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608 (names from the model, values are parameters)
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    with conn.cursor() as cursor:
        for i in range(0, len(objs), BATCH):
            cursor.executemany(
                sql,
                [
                    tuple(f.get_db_prep_save(f.pre_save(o, True), conn) for f in fields)
                    for o in objs[i : i + BATCH]
                ],
            )
    return len(objs)


# ---------------------------------------------------------------------------------------------
# The plan (no database)
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class PEpisode:
    idx: int
    patient: int
    program: int  # index into plan.programs
    start_week: int
    end_week: int  # inclusive; capped at the horizon
    referral_date: dt.date
    admitted_on: dt.date
    discharged_on: dt.date | None
    reason: int | None
    substance: int
    referral_source: str
    engagement: float  # chance of missing a session
    group: int = -1
    status: str = S.ACTIVE
    first_attended: dt.date | None = None


@dataclass(slots=True)
class PPatient:
    idx: int
    mrn: str
    first: str
    last: str
    sex: str
    dob: dt.date
    language: str
    phone: str
    address: str
    payer: int


@dataclass
class LargePlan:
    seed: int
    today: dt.date
    now: dt.datetime
    start: dt.date  # the Monday of week 0
    weeks: int  # weeks 0 .. weeks-1 (the last two are ahead of today)
    current_week: int
    programs: list[tuple[int, tuple[Any, ...]]]  # (site index, PROGRAMS row)
    patients: list[PPatient]
    episodes: list[PEpisode]
    groups: list[list[tuple[int, int]]]  # per program: (first week, last week) of each group
    members: dict[tuple[int, int, int], list[int]]  # (program, group, week) -> episodes


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _weighted(rng: random.Random, pairs: Any) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def plan_large(*, seed: int, patients: int, years: int, today: dt.date, now: dt.datetime) -> Any:
    rng = random.Random(seed)
    start = _monday(today) - dt.timedelta(weeks=52 * years)
    current = (_monday(today) - start).days // 7
    weeks = current + 3  # this week and two ahead
    programs = [(s, p) for s in range(len(SITES)) for p in PROGRAMS]
    shares = [p[10] for _, p in programs]

    people: list[PPatient] = []
    episodes: list[PEpisode] = []
    for i in range(patients):
        prog = rng.choices(range(len(programs)), weights=shares)[0]
        spec = programs[prog][1]
        teen = spec[3] == Program.Population.ADOLESCENT
        weight, females, males, lasts, language, share = rng.choices(
            NAME_GROUPS, weights=[g[0] for g in NAME_GROUPS]
        )[0]
        sex = rng.choice((Patient.Sex.FEMALE, Patient.Sex.MALE))
        first = rng.choice(females if sex == Patient.Sex.FEMALE else males)
        last = rng.choice(lasts)
        length = rng.randint(10, 30)
        start_week = rng.randint(0, current)
        admit_age = rng.randint(14, 17) if teen else rng.randint(19, 68)
        admit_day = start + dt.timedelta(weeks=start_week, days=spec[6][0])
        dob = admit_day - dt.timedelta(days=admit_age * 365 + rng.randint(30, 330))
        street, (town, zipcode) = rng.choice(STREETS), rng.choice(TOWNS)
        people.append(
            PPatient(
                idx=i, mrn=f"GL{i + 1:06d}", first=first, last=last, sex=sex, dob=dob,
                language=language if language and rng.random() < share else "English",
                phone=f"({rng.choice(AREA_CODES)}) 555-01{rng.randint(0, 99):02d}",
                address=f"{rng.randint(2, 998)} {street}, {town}, NY {zipcode}",
                payer=0 if rng.random() < 0.55 else 1,
            )
        )  # fmt: skip
        substances = TEEN_SUBSTANCES if teen else ADULT_SUBSTANCES
        referrals = TEEN_REFERRALS if teen else ADULT_REFERRALS
        spans = [(start_week, length)]
        if rng.random() < 0.3:  # a readmission after a gap
            again = start_week + length + rng.randint(4, 30)
            if again <= current:
                spans.append((again, rng.randint(8, 20)))
        substance = int(_weighted(rng, substances))
        for s_week, n_weeks in spans:
            end_week = min(s_week + n_weeks - 1, weeks - 1)
            admitted = start + dt.timedelta(weeks=s_week, days=spec[6][0])
            planned_end = start + dt.timedelta(weeks=s_week + n_weeks - 1, days=spec[6][-1])
            discharged = planned_end if planned_end < today else None
            reason = None
            if discharged is not None:
                reason = int(
                    _weighted(
                        rng,
                        ((TedsDischargeReason.COMPLETED, 62), (TedsDischargeReason.DROPPED_OUT, 24),
                         (TedsDischargeReason.TERMINATED, 5), (TedsDischargeReason.INCARCERATED, 3),
                         (TedsDischargeReason.OTHER, 6)),
                    )
                )  # fmt: skip
            episodes.append(
                PEpisode(
                    idx=len(episodes), patient=i, program=prog, start_week=s_week,
                    end_week=end_week, referral_date=admitted - dt.timedelta(rng.randint(3, 14)),
                    admitted_on=admitted, discharged_on=discharged, reason=reason,
                    substance=substance, referral_source=str(_weighted(rng, referrals)),
                    engagement=rng.uniform(0.03, 0.25),
                    status=S.DISCHARGED if discharged is not None else S.ACTIVE,
                )
            )  # fmt: skip

    # Groups: the first group of the program with room for the whole stay, else a new one.
    occupancy: list[list[list[int]]] = [[] for _ in programs]
    groups: list[list[tuple[int, int]]] = [[] for _ in programs]
    members: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for e in sorted(episodes, key=lambda e: (e.start_week, e.idx)):
        cap = programs[e.program][1][9]
        occ = occupancy[e.program]
        lo, hi = e.start_week, e.end_week + 1
        free = [g for g, row in enumerate(occ) if max(row[lo:hi]) < cap]
        if free:
            g = free[0]
        else:
            occ.append([0] * weeks)
            groups[e.program].append((lo, hi - 1))
            g = len(occ) - 1
        e.group = g
        first, last = groups[e.program][g]
        groups[e.program][g] = (min(first, lo), max(last, hi - 1))
        row = occ[g]
        for w in range(lo, hi):
            row[w] += 1
            members[(e.program, g, w)].append(e.idx)
    return LargePlan(
        seed=seed, today=today, now=now, start=start, weeks=weeks, current_week=current,
        programs=programs, patients=people, episodes=episodes, groups=groups, members=members,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


@dataclass
class LargeResult:
    organization: Organization
    counts: dict[str, int]
    seconds: dict[str, float]
    logins: list[tuple[str, str, str]] = field(default_factory=logins)


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        t = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] += time.monotonic() - t


class _Chain:
    """Audit rows of one week: collected, sorted by time, chained, bulk-inserted."""

    def __init__(self, org: Organization) -> None:
        self.org_id = org.pk
        head = AuditHead.objects.filter(singleton=1).first()
        self.last = head.last_hash if head else GENESIS
        self.count = head.count if head else 0
        self.pending: list[AuditEvent] = []

    def add(
        self,
        at: dt.datetime,
        actor: User | None,
        action: str,
        category: str,
        obj_type: str,
        obj_id: Any,
        patient_id: Any,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.pending.append(
            AuditEvent(
                occurred_at=at.astimezone(UTC),
                actor_id=actor.pk if actor else None,
                actor_username=actor.username if actor else "",
                actor_roles=actor._gl_role if actor else "",  # type: ignore[attr-defined]
                organization_id=self.org_id,
                action=action,
                object_type=obj_type,
                object_id=str(obj_id) if obj_id else "",
                patient_id=str(patient_id) if patient_id else "",
                category=category,
                detail=detail or {},
            )
        )

    def flush(self, now: dt.datetime) -> int:
        """Chain and insert the pending rows (none later than ``now``); advance the head.
        Call inside the week's transaction."""
        rows = sorted(
            (e for e in self.pending if e.occurred_at <= now), key=lambda e: e.occurred_at
        )
        self.pending = []
        if not rows:
            return 0
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            singleton=1, defaults={"last_hash": GENESIS}
        )
        if head.last_hash != self.last:
            raise RuntimeError("the audit chain moved while the demo was being built")
        prev = self.last
        for event in rows:
            event.prev_hash = prev
            event.hash = prev = compute_hash(prev, event)
        bulk_insert(AuditEvent, rows)
        self.count += len(rows)
        self.last = prev
        AuditHead.objects.filter(singleton=1).update(last_hash=prev, count=self.count)
        return len(rows)


def build_large(
    *,
    seed: int = 42,
    patients: int = DEFAULT_PATIENTS,
    years: int = DEFAULT_YEARS,
    today: dt.date,
    now: dt.datetime | None = None,
    progress: Callable[[str, int, int, dict[str, int]], None] | None = None,
) -> LargeResult:
    """Plan and write the large organization. ``progress(phase, done, total, counts)`` is
    called as work finishes (the command draws it with tqdm)."""
    from openiop.organizations.demo import default_now

    report = progress or (lambda *a: None)
    now = now or default_now(today)
    timer = _Timer()
    with timer.phase("plan"):
        plan = plan_large(seed=seed, patients=patients, years=years, today=today, now=now)
    report("plan", 1, 1, {"patients": len(plan.patients), "episodes": len(plan.episodes)})
    writer = _Writer(plan, timer, report)
    writer.run()
    with timer.phase("analyze"):  # planner statistics for the tables just filled
        analyze(connections[router.db_for_write(AttendanceRecord)])
    counts = dict(timer.counts)
    return LargeResult(organization=writer.org, counts=counts, seconds=dict(timer.seconds))


class _Writer:
    def __init__(self, plan: LargePlan, timer: _Timer, report: Callable[..., None]) -> None:
        self.plan = plan
        self.t = timer
        self.report = report
        self.uid = random.Random(plan.seed * 7 + 1)  # public ids
        self.rng = random.Random(plan.seed * 13 + 5)  # week-by-week draws
        self.cover_rng = random.Random(plan.seed * 17 + 3)  # insurance cards
        self.tz_cache: dict[tuple[int, dt.date, dt.time], dt.datetime] = {}

    # -- fixed parts --------------------------------------------------------------------------

    def setup(self) -> None:
        plan = self.plan
        self.org = org = Organization.objects.create(
            name=ORG_NAME, slug=ORG_SLUG, public_id=_uuid(self.uid)
        )
        groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}
        password = make_password(DEMO_PASSWORD)
        specs: list[tuple[str, str, str, Role, int | None]] = [
            (u, f, last, r, None) for u, f, last, r in GLOBAL_STAFF
        ]
        rng = random.Random(plan.seed + 3)
        firsts = [n for g in NAME_GROUPS for n in (*g[1], *g[2])]
        lasts = [n for g in NAME_GROUPS for n in g[3]]
        for s in range(len(SITES)):
            for c in range(COUNSELORS_PER_SITE):
                n = s * COUNSELORS_PER_SITE + c + 1
                specs.append(
                    (f"counselor{n:02d}", rng.choice(firsts), rng.choice(lasts), Role.COUNSELOR, s)
                )
            specs.append((f"frontdesk{s + 1:02d}", rng.choice(firsts), rng.choice(lasts),
                          Role.FRONT_DESK, s))  # fmt: skip
        users = User.objects.bulk_create(
            [
                User(
                    username=USER_PREFIX + u, first_name=f, last_name=last,
                    email=f"{u}@{ORG_SLUG}.example.org", password=password, organization=org,
                    credential=User.Credential.LADC if r == Role.COUNSELOR else "",
                    is_staff=r == Role.ADMIN, is_superuser=r == Role.ADMIN,
                )
                for u, f, last, r, _ in specs
            ]
        )  # fmt: skip
        User.groups.through.objects.bulk_create(
            [
                User.groups.through(user_id=user.pk, group_id=groups[spec[3]].pk)
                for user, spec in zip(users, specs, strict=True)
            ]
        )
        self.staff: dict[str, User] = {}
        self.counselors: dict[int, list[User]] = defaultdict(list)
        self.front_desk: dict[int, User] = {}
        for user, (u, _, _, role, site) in zip(users, specs, strict=True):
            user._gl_role = role.value  # type: ignore[attr-defined]
            self.staff[u] = user
            if role == Role.COUNSELOR and site is not None:
                self.counselors[site].append(user)
            elif role == Role.FRONT_DESK and site is not None:
                self.front_desk[site] = user

        self.sites = [
            Site.objects.create(
                organization=org, name=f"Great Lakes {name}", timezone=tz,
                address=f"{100 + i * 7} Harbor Street, {name}", public_id=_uuid(self.uid),
            )
            for i, (name, tz, _) in enumerate(SITES)
        ]  # fmt: skip
        self.tzs = [zoneinfo.ZoneInfo(tz) for _, tz, _ in SITES]
        # Rooms: the in-person programs meet at different times of day, so they share rooms.
        rooms: list[Room] = []
        self.rooms: dict[tuple[int, int], Room] = {}
        for s, site in enumerate(self.sites):
            need = max(
                [len(plan.groups[p]) for p, (ps, spec) in enumerate(plan.programs)
                 if ps == s and spec[4] == Program.Modality.IN_PERSON] or [1]
            )  # fmt: skip
            for g in range(max(need, 1)):
                rooms.append(Room(organization=org, site=site, name=f"Group Room {g + 1}",
                                  capacity=14, public_id=_uuid(self.uid)))  # fmt: skip
            for o in range(3):
                rooms.append(Room(organization=org, site=site, name=f"Office {o + 1}",
                                  capacity=3, public_id=_uuid(self.uid)))  # fmt: skip
        for room in Room.objects.bulk_create(rooms):
            if room.name.startswith("Group Room"):
                self.rooms[(self.sites.index(room.site), int(room.name.split()[-1]) - 1)] = room
        self.programs: list[Program] = []
        for s, spec in plan.programs:
            key, name, defaults, population, modality, cohort, _, _, minutes, cap, _ = spec
            self.programs.append(
                Program.objects.create(
                    organization=org, site=self.sites[s],
                    name=f"{name} ({SITES[s][0]})", level_of_care="2.1",
                    population=population, modality=modality, cohort=cohort,
                    group_size_cap=cap, note_format=SITES[s][2], public_id=_uuid(self.uid),
                    **{**PROGRAM_DEFAULTS[defaults], "typical_session_minutes": minutes},
                )
            )  # fmt: skip
        self.payers = [
            Payer.objects.create(organization=org, public_id=_uuid(self.uid), **p) for p in PAYERS
        ]
        BillingProfile.objects.create(
            organization=org, billing_name=ORG_NAME[:60],
            npi="198765432" + npi_check_digit("198765432"), tax_id="38-4410275",
            address_line1="100 Harbor Street", city="Buffalo", state="NY", zip_code="14202-2201",
            submitter_id="GREATLAKES01", contact_name="Billing Office", contact_phone="7165550140",
            contact_email=f"billing@{ORG_SLUG}.example.org", receiver_name="Example Clearinghouse",
            receiver_id="CLEARHOUSE01", claim_prefix="GLB",
        )  # fmt: skip
        self.t.counts.update(
            {"sites": len(self.sites), "programs": len(self.programs), "staff": len(users),
             "rooms": len(rooms)}
        )  # fmt: skip

    def counselor_for(self, program: int, group: int) -> User:
        site = self.plan.programs[program][0]
        pool = self.counselors[site]
        return pool[(program + group) % len(pool)]

    def local(self, site: int, day: dt.date, at: dt.time) -> dt.datetime:
        key = (site, day, at)
        value = self.tz_cache.get(key)
        if value is None:
            value = local_datetime(day, at, self.tzs[site]).astimezone(UTC)
            self.tz_cache[key] = value
        return value

    # -- patients and episodes ----------------------------------------------------------------

    def people(self) -> None:
        plan, org = self.plan, self.org
        self.patient_rows: list[Patient] = []
        for chunk in range(0, len(plan.patients), BATCH):
            with transaction.atomic():
                rows = [
                    Patient(
                        organization=org, public_id=_uuid(self.uid), mrn=p.mrn,
                        first_name=p.first, last_name=p.last, date_of_birth=p.dob, sex=p.sex,
                        phone=p.phone, address=p.address, preferred_language=p.language,
                        email=f"{p.mrn.lower()}@example.org",
                    )
                    for p in plan.patients[chunk : chunk + BATCH]
                ]  # fmt: skip
                self.patient_rows.extend(Patient.objects.bulk_create(rows, batch_size=BATCH))
                index_patients(rows, new=True)
                self._coverages(rows, plan.patients[chunk : chunk + BATCH])
            self.report("patients", len(self.patient_rows), len(plan.patients), {})
        self.t.counts["patients"] = len(self.patient_rows)

    def _coverages(self, rows: list[Patient], people: list[PPatient]) -> None:
        """Each patient's insurance card: the payer their claims go to, a member id, and a
        parent as the subscriber for a minor."""
        rng, today = self.cover_rng, self.plan.today
        covers = []
        for row, p in zip(rows, people, strict=True):
            payer = self.payers[p.payer]
            minor = row.age_on(today) < 18
            covers.append(
                Coverage(
                    organization=self.org, public_id=_uuid(rng), patient=row, payer=payer,
                    member_id=f"{payer.payer_id[:2]}{rng.randint(10_000_000, 99_999_999)}",
                    group_number=f"G{rng.randint(1000, 9999)}" if payer.kind == "commercial"
                    else "",
                    subscriber_relationship="child" if minor else "self",
                    subscriber_first_name=rng.choice(("Maria", "James", "Linda", "Robert"))
                    if minor else "",
                    subscriber_last_name=p.last if minor else "",
                    subscriber_date_of_birth=dt.date(p.dob.year - 30, 6, 1) if minor else None,
                    effective_on=self.plan.start,
                )
            )  # fmt: skip
        bulk_insert(Coverage, covers)
        self.t.counts["coverages"] += len(covers)

    def episodes(self) -> None:
        plan, org = self.plan, self.org
        # The status an episode has today: admitted until its first attended group.
        for e in plan.episodes:
            if e.status != S.DISCHARGED:
                spec = plan.programs[e.program][1]
                first_end = self.local(plan.programs[e.program][0], e.admitted_on, spec[7]) + (
                    dt.timedelta(minutes=spec[8])
                )
                e.status = S.ACTIVE if first_end <= plan.now else S.ADMITTED
        intake = self.staff["intake"]
        self.episode_rows: list[Episode] = []
        changes = 0
        for chunk in range(0, len(plan.episodes), BATCH):
            part = plan.episodes[chunk : chunk + BATCH]
            with transaction.atomic():
                rows = Episode.objects.bulk_create(
                    [
                        Episode(
                            organization=org, public_id=_uuid(self.uid),
                            patient=self.patient_rows[e.patient],
                            program=self.programs[e.program], status=e.status,
                            referral_date=e.referral_date, referral_source=e.referral_source,
                            admitted_on=e.admitted_on, discharged_on=e.discharged_on,
                            primary_substance=e.substance, discharge_reason=e.reason,
                            primary_counselor=self.counselor_for(e.program, e.group),
                            created_by=intake, updated_by=intake,
                        )
                        for e in part
                    ],
                    batch_size=BATCH,
                )  # fmt: skip
                self.episode_rows.extend(rows)
                status_rows: list[EpisodeStatusChange] = []
                for e, row in zip(part, rows, strict=True):
                    steps = [("", S.WAITLISTED, e.referral_date), (S.WAITLISTED, S.ADMITTED,
                             e.admitted_on)]  # fmt: skip
                    if e.status in (S.ACTIVE, S.DISCHARGED):
                        steps.append((S.ADMITTED, S.ACTIVE, e.admitted_on))
                    if e.status == S.DISCHARGED:
                        steps.append((S.ACTIVE, S.DISCHARGED, e.discharged_on))
                    status_rows.extend(
                        EpisodeStatusChange(
                            organization=org, episode=row, from_status=f, to_status=t,
                            effective_on=d, changed_by=row.primary_counselor if t != S.WAITLISTED
                            else intake,
                        )
                        for f, t, d in steps
                    )  # fmt: skip
                bulk_insert(EpisodeStatusChange, status_rows)
                changes += len(status_rows)
            self.report("episodes", len(self.episode_rows), len(plan.episodes), {})
        self.t.counts["episodes"] = len(self.episode_rows)
        self.t.counts["status_changes"] = changes

    def episode_audit(self) -> dict[int, list[tuple[Any, ...]]]:
        """Audit rows of patients and episodes, bucketed by week (written with that week)."""
        plan = self.plan
        intake = self.staff["intake"]
        buckets: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        seen: set[int] = set()
        for e, row in zip(plan.episodes, self.episode_rows, strict=True):
            site, spec = plan.programs[e.program]
            patient = self.patient_rows[e.patient]
            counselor = row.primary_counselor
            ref_at = self.local(site, e.referral_date, dt.time(10, 15))
            events = []
            if e.patient not in seen:
                seen.add(e.patient)
                events.append((ref_at, intake, "openiop.patients.patient.create", CAT.DEMOGRAPHICS,
                               "Patient", patient.public_id, patient.public_id))  # fmt: skip
            events.append((ref_at + dt.timedelta(minutes=5), intake,
                           "openiop.enrollment.episode.create", CAT.EPISODE, "Episode",
                           row.public_id, patient.public_id))  # fmt: skip
            admit_at = self.local(site, e.admitted_on, dt.time(8, 30))
            events.append((admit_at, counselor, "openiop.enrollment.episode.admit", CAT.EPISODE,
                           "Episode", row.public_id, patient.public_id))  # fmt: skip
            if e.status in (S.ACTIVE, S.DISCHARGED):
                act_at = self.local(site, e.admitted_on, spec[7]) + dt.timedelta(minutes=spec[8])
                events.append((act_at, counselor, "openiop.enrollment.episode.activate",
                               CAT.EPISODE, "Episode", row.public_id,
                               patient.public_id))  # fmt: skip
            if e.discharged_on is not None:
                dis_at = self.local(site, e.discharged_on, dt.time(21, 30))
                events.append((dis_at, counselor, "openiop.enrollment.episode.discharge",
                               CAT.EPISODE, "Episode", row.public_id,
                               patient.public_id))  # fmt: skip
            for ev in events:
                week = (ev[0].date() - plan.start).days // 7
                buckets[max(0, week)].append(ev)
        return buckets

    def authorizations(self, buckets: dict[int, list[tuple[Any, ...]]]) -> None:
        """The payer's authorization for each stay in 28-day blocks (four weeks of the program's
        days), entered by the biller on the first day of each block; its audit row goes into
        that week's bucket."""
        plan, rng = self.plan, self.cover_rng
        biller = self.staff["billing"]
        rows: list[Authorization] = []
        for e, row in zip(plan.episodes, self.episode_rows, strict=True):
            site, spec = plan.programs[e.program]
            payer = self.payers[plan.patients[e.patient].payer]
            patient = self.patient_rows[e.patient]
            start, last = e.admitted_on, min(e.discharged_on or plan.today, plan.today)
            block = 0
            while start <= last:
                end = start + dt.timedelta(days=AUTH_BLOCK_DAYS - 1)
                auth = Authorization(
                    organization=self.org, public_id=_uuid(rng), episode=row, patient=patient,
                    payer_name=payer.name, payer=payer,
                    auth_number=f"{payer.payer_id[:2]}-{rng.randint(100000, 999999)}",
                    level_of_care="2.1", service_code="H0015",
                    unit_kind=Authorization.UnitKind.DAYS,
                    units_authorized=len(spec[6]) * AUTH_BLOCK_DAYS // 7, start_on=start,
                    end_on=end, notes="Initial authorization" if block == 0
                    else "Concurrent review", recorded_by=biller, created_by=biller,
                    updated_by=biller,
                )  # fmt: skip
                rows.append(auth)
                at = self.local(site, start, dt.time(9, 0))
                buckets[max(0, (start - plan.start).days // 7)].append(
                    (at, biller, "openiop.billing.authorization.create", CAT.BILLING,
                     "Authorization", auth.public_id, patient.public_id)
                )  # fmt: skip
                start, block = end + DAY, block + 1
        for chunk in range(0, len(rows), BATCH):
            with transaction.atomic():
                bulk_insert(Authorization, rows[chunk : chunk + BATCH])
        self.t.counts["authorizations"] = len(rows)

    def plans(self, buckets: dict[int, list[tuple[Any, ...]]]) -> None:
        """One signed treatment plan per episode, effective a week after admission, with its
        diagnosis as the first problem (the diagnosis claims carry). Reviews are not written;
        the next review date is the first one on or after a few days before today, as if the
        earlier reviews had been done."""
        plan, rng = self.plan, self.cover_rng
        rows: list[TreatmentPlan] = []
        problems: list[PlanProblem] = []
        for e, row in zip(plan.episodes, self.episode_rows, strict=True):
            site, _ = plan.programs[e.program]
            effective = e.admitted_on + dt.timedelta(days=rng.randint(2, 7))
            if effective > (e.discharged_on or plan.today) or effective > plan.today:
                continue
            patient = self.patient_rows[e.patient]
            counselor = row.primary_counselor
            signed_at = self.local(site, effective, dt.time(15, 30))
            if signed_at > plan.now:
                continue
            horizon = (e.discharged_on or plan.today) - dt.timedelta(days=rng.randint(0, 6))
            reviews = max(1, -(-(horizon - effective).days // PLAN_REVIEW_DAYS))
            minor = patient.age_on(effective) < 18
            tp = TreatmentPlan(
                organization=self.org, public_id=_uuid(rng), episode=row, patient=patient,
                status=TreatmentPlan.Status.ACTIVE, review_interval=PLAN_REVIEW_DAYS,
                strengths="Motivated by family; steady work history.",
                barriers="Transportation on weekends.",
                clinician_signed_by=counselor, clinician_signed_at=signed_at,
                patient_signature=f"{patient.first_name} {patient.last_name}",
                patient_signed_at=signed_at,
                guardian_signature="Parent" if minor else "",
                guardian_relationship="parent" if minor else "",
                guardian_signed_at=signed_at if minor else None,
                effective_on=effective,
                next_review_on=effective + dt.timedelta(days=reviews * PLAN_REVIEW_DAYS),
                created_by=counselor, updated_by=counselor,
            )  # fmt: skip
            rows.append(tp)
            code = ICD10.get(e.substance, "F19.20")
            problems.append(
                PlanProblem(
                    organization=self.org, public_id=_uuid(rng), plan=tp, position=1,
                    description="Substance use is harming health, work and family.",
                    icd10_code=code, icd10_text=ICD10_TEXT.get(code, "Substance use disorder"),
                    created_by=counselor, updated_by=counselor,
                )
            )  # fmt: skip
            buckets[max(0, (effective - plan.start).days // 7)].append(
                (signed_at, counselor, "openiop.clinical.plan.sign_clinician", CAT.CLINICAL,
                 "TreatmentPlan", tp.public_id, patient.public_id)
            )  # fmt: skip
        for chunk in range(0, len(rows), BATCH):
            with transaction.atomic():
                TreatmentPlan.objects.bulk_create(rows[chunk : chunk + BATCH], batch_size=BATCH)
                for p in problems[chunk : chunk + BATCH]:
                    p.plan_id = p.plan.pk  # known now that the plan is saved
                bulk_insert(PlanProblem, problems[chunk : chunk + BATCH])
        self.t.counts["plans"] = len(rows)

    # -- the week-by-week history -------------------------------------------------------------

    def run(self) -> None:
        plan = self.plan
        with self.t.phase("setup"), transaction.atomic():
            self.setup()
        self.report("setup", 1, 1, dict(self.t.counts))
        with self.t.phase("patients"):
            self.people()
        with self.t.phase("episodes"):
            self.episodes()
            pending = self.episode_audit()
        with self.t.phase("authorizations"):
            self.authorizations(pending)
        with self.t.phase("plans"):
            self.plans(pending)
        self.chain = _Chain(self.org)
        self.holidays: dict[dt.date, str] = {}
        for year in range(plan.start.year, plan.today.year + 2):
            self.holidays.update(clinic_holidays(year))
        self.billable = self._billable_months()
        # Group notes are written for the months nobody has billed yet (the billing benchmark
        # builds claims from them); older months were billed without passing through them.
        y, m = self.billable[-1] if self.billable else (plan.start.year, plan.start.month)
        self.noted_from = dt.date(y + (m == 12), m % 12 + 1, 1)
        self.note_rng = random.Random(plan.seed + 11)
        self.billed: dict[tuple[int, int], dict[int, list[tuple[dt.date, Any, int]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.claim_seq = 0
        self.consented: set[int] = set()
        self.phq9, self.gad7 = registry.get("phq9"), registry.get("gad7")
        self.series = self._series()
        for week in range(plan.weeks):
            with transaction.atomic():
                for ev in pending.pop(week, ()):
                    self.chain.add(*ev)
                self.week(week)
                with self.t.phase("audit"):
                    self.t.counts["audit_events"] += self.chain.flush(plan.now)
            self.report("history", week + 1, plan.weeks, dict(self.t.counts))

    def _series(self) -> dict[tuple[int, int], SessionSeries]:
        plan, org = self.plan, self.org
        keys: list[tuple[int, int]] = []
        rows: list[SessionSeries] = []
        with self.t.phase("sessions"), transaction.atomic():
            for p, (site, spec) in enumerate(plan.programs):
                for g, (first, last) in enumerate(plan.groups[p]):
                    virtual = spec[4] == Program.Modality.VIRTUAL
                    keys.append((p, g))
                    rows.append(
                        SessionSeries(
                            organization=org, public_id=_uuid(self.uid),
                            program=self.programs[p], kind=SessionKind.GROUP,
                            title=f"{spec[1]} group {chr(65 + g) if g < 26 else g + 1}",
                            weekdays=",".join(map(str, spec[6])), start_time=spec[7],
                            duration_minutes=spec[8],
                            room=None if virtual else self.rooms[(site, g)],
                            is_virtual=virtual, capacity=spec[9],
                            start_date=plan.start + dt.timedelta(weeks=first),
                            end_date=plan.start + dt.timedelta(weeks=last, days=6),
                        )
                    )  # fmt: skip
            created = SessionSeries.objects.bulk_create(rows, batch_size=BATCH)
            series = dict(zip(keys, created, strict=True))
            SessionSeries.facilitators.through.objects.bulk_create(
                [
                    SessionSeries.facilitators.through(
                        sessionseries_id=s.pk, user_id=self.counselor_for(p, g).pk
                    )
                    for (p, g), s in series.items()
                ],
                batch_size=BATCH,
            )
        self.t.counts["series"] = len(created)
        return series

    def _billable_months(self) -> list[tuple[int, int]]:
        """The complete months of the last year, up to the month before last (last month and
        this one stay unbilled, for the billing benchmarks to build)."""
        today = self.plan.today
        months = []
        y, m = today.year, today.month
        for _ in range(14):
            m -= 1
            if m == 0:
                y, m = y - 1, 12
            months.append((y, m))
        return sorted(months[1:13])

    def week(self, week: int) -> None:
        plan, org = self.plan, self.org
        monday = plan.start + dt.timedelta(weeks=week)
        now = plan.now
        sessions: list[Session] = []
        session_keys: list[tuple[int, int, dt.date]] = []
        with self.t.phase("sessions"):
            for p, (site, spec) in enumerate(plan.programs):
                virtual = spec[4] == Program.Modality.VIRTUAL
                for g, (first, last) in enumerate(plan.groups[p]):
                    if not first <= week <= last:
                        continue
                    series = self.series[(p, g)]
                    for wd in spec[6]:
                        day = monday + dt.timedelta(days=wd)
                        starts = self.local(site, day, spec[7])
                        ends = starts + dt.timedelta(minutes=spec[8])
                        holiday = self.holidays.get(day)
                        status = (
                            Session.Status.CANCELLED if holiday
                            else Session.Status.HELD if ends <= now else Session.Status.SCHEDULED
                        )  # fmt: skip
                        sessions.append(
                            Session(
                                organization=org, public_id=_uuid(self.uid),
                                program=self.programs[p], series=series,
                                kind=SessionKind.GROUP, title=series.title, starts_at=starts,
                                ends_at=ends, room=series.room, is_virtual=virtual,
                                capacity=spec[9], status=status,
                                cancel_reason=f"Clinic closed: {holiday}" if holiday else "",
                            )
                        )  # fmt: skip
                        session_keys.append((p, g, day))
            Session.objects.bulk_create(sessions, batch_size=BATCH)
            bulk_insert(
                Session.facilitators.through,
                [
                    Session.facilitators.through(
                        session_id=s.pk, user_id=self.counselor_for(p, g).pk
                    )
                    for s, (p, g, _) in zip(sessions, session_keys, strict=True)
                ],
            )
            self.t.counts["sessions"] += len(sessions)

        # Attendance: every member of the group whose stay covers the day.
        records: list[AttendanceRecord] = []
        first_days: dict[int, dt.date] = {}
        attended: dict[int, list[AttendanceRecord]] = defaultdict(list)
        with self.t.phase("attendance"):
            for si, (session, (p, g, day)) in enumerate(zip(sessions, session_keys, strict=True)):
                if session.status == Session.Status.CANCELLED:
                    continue
                site = plan.programs[p][0]
                desk = self.front_desk[site]
                held = session.status == Session.Status.HELD
                total = plan.programs[p][1][8]
                for idx in plan.members.get((p, g, week), ()):
                    e = plan.episodes[idx]
                    if day < e.admitted_on or (e.discharged_on and day > e.discharged_on):
                        continue
                    patient = self.patient_rows[e.patient]
                    rec = AttendanceRecord(
                        organization=org, public_id=_uuid(self.uid), session=session,
                        patient=patient, episode=self.episode_rows[idx],
                    )  # fmt: skip
                    if held:
                        self._record(rec, e, session, total, desk)
                        if rec.status in AttendanceRecord.ATTENDED:
                            first_days.setdefault(idx, day)
                            if day >= self.noted_from:
                                attended[si].append(rec)
                            ym = (day.year, day.month)
                            if ym in self.billable_set:
                                self.billed[ym][idx].append(
                                    (day, rec.public_id, rec.minutes_attended or 0)
                                )
                        self.chain.add(
                            rec.recorded_at, desk, "openiop.attendance.record.create",
                            CAT.ATTENDANCE, "AttendanceRecord", rec.public_id, patient.public_id,
                            {"session": str(session.public_id), "from": None, "to": rec.status,
                             "minutes": rec.minutes_attended},
                        )  # fmt: skip
                    records.append(rec)
            bulk_insert(AttendanceRecord, records)
            self.t.counts["attendance"] += len(records)

        if attended:
            with self.t.phase("group_notes"):
                self._group_notes(sessions, session_keys, attended)
        with self.t.phase("notes"):
            self._notes(week, monday)
        with self.t.phase("questionnaires"):
            self._questionnaires(week, monday)
        with self.t.phase("consents"):
            self._consents(week, monday)
        with self.t.phase("claims"):
            self._claims(monday)

    def _group_notes(
        self,
        sessions: list[Session],
        keys: list[tuple[int, int, dt.date]],
        attended: dict[int, list[AttendanceRecord]],
    ) -> None:
        """A signed group note for each held group with attendees, with one individualized part
        per attendee, signed by the group's counselor that evening or the next day (groups whose
        note would be signed after ``now`` are left unwritten, as a clinic would have them)."""
        rng, now = self.note_rng, self.plan.now
        notes: list[GroupNote] = []
        parts: list[tuple[GroupNote, Note]] = []
        for si, recs in sorted(attended.items()):
            session, (p, g, _) = sessions[si], keys[si]
            signed_at = session.ends_at + dt.timedelta(minutes=rng.randint(20, 900))
            if signed_at > now:
                continue
            author = self.counselor_for(p, g)
            gn = GroupNote(
                organization=self.org, public_id=_uuid(rng), session=session, author=author,
                started_at=session.starts_at, ended_at=session.ends_at,
                status=GroupNote.Status.SIGNED, signed_at=signed_at, signed_by=author, version=2,
                created_by=author, updated_by=author, **shared_text(rng),
            )  # fmt: skip
            notes.append(gn)
            for rec in recs:
                start, end = part_times(session, rec)
                patient = rec.patient
                part = Note(
                    organization=self.org, public_id=_uuid(rng), episode=rec.episode,
                    patient=patient, session=session, kind=Note.Kind.GROUP_INDIVIDUALIZED,
                    format=NoteFormat.GROUP, sections=part_text(rng, patient.first_name, []),
                    started_at=start, ended_at=end, author=author, status=Note.Status.SIGNED,
                    signed_at=signed_at, signed_by=author, version=2, created_by=author,
                    updated_by=author,
                )  # fmt: skip
                parts.append((gn, part))
            self.chain.add(signed_at, author, "openiop.clinical.group_note.sign", CAT.CLINICAL,
                           "GroupNote", gn.public_id, None,
                           {"version": 2, "parts": len(recs), "cosign_required": False,
                            "amends": ""})  # fmt: skip
        GroupNote.objects.bulk_create(notes, batch_size=BATCH)
        for gn, part in parts:
            part.group_note = gn
        bulk_insert(Note, [part for _, part in parts])
        self.t.counts["group_notes"] += len(notes)
        self.t.counts["notes"] += len(parts)

    @property
    def billable_set(self) -> set[tuple[int, int]]:
        cached = getattr(self, "_billable_set", None)
        if cached is None:
            cached = self._billable_set = set(self.billable)
        return cached

    def _record(
        self, rec: AttendanceRecord, e: PEpisode, session: Session, total: int, desk: User
    ) -> None:
        r = self.rng.random()
        starts, ends = session.starts_at, session.ends_at
        if r < e.engagement:
            rec.status = A.EXCUSED if r < e.engagement / 3 else A.ABSENT
            rec.minutes_attended = 0
            rec.recorded_at = starts + dt.timedelta(minutes=20)
            rec.note = "Called ahead" if rec.status == A.EXCUSED else ""
        elif r < e.engagement + 0.07:
            late = self.rng.randint(10, 45)
            rec.status, rec.minutes_attended = A.LATE, total - late
            rec.checked_in_at = starts + dt.timedelta(minutes=late)
            rec.checked_out_at = ends
            rec.recorded_at = rec.checked_in_at
        elif r < e.engagement + 0.11:
            early = self.rng.randint(20, 90)
            rec.status, rec.minutes_attended = A.LEFT_EARLY, total - early
            rec.checked_in_at = starts - dt.timedelta(minutes=5)
            rec.checked_out_at = ends - dt.timedelta(minutes=early)
            rec.recorded_at = rec.checked_out_at
        else:
            rec.status, rec.minutes_attended = A.PRESENT, total
            rec.checked_in_at = starts - dt.timedelta(minutes=self.rng.randint(0, 12))
            rec.checked_out_at = ends
            rec.recorded_at = rec.checked_in_at
        rec.recorded_by = desk

    def _active_this_week(self, week: int) -> Iterator[tuple[int, PEpisode]]:
        plan = self.plan
        for p in range(len(plan.programs)):
            for g in range(len(plan.groups[p])):
                for idx in plan.members.get((p, g, week), ()):
                    yield idx, plan.episodes[idx]

    def _notes(self, week: int, monday: dt.date) -> None:
        plan, rng = self.plan, self.rng
        notes: list[Note] = []
        last_day = plan.today - DAY
        for idx, e in self._active_this_week(week):
            if rng.random() >= 0.8:
                continue
            site, spec = plan.programs[e.program]
            lo = max(monday, e.admitted_on)
            hi = min(monday + dt.timedelta(days=4), e.discharged_on or last_day, last_day)
            if lo > hi:
                continue
            day = lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))
            if day.weekday() >= 5:
                continue
            started = self.local(site, day, dt.time(rng.choice((10, 11, 13, 14))))
            ended = started + dt.timedelta(minutes=rng.choice((30, 45, 50, 60)))
            signed = ended + dt.timedelta(minutes=rng.randint(10, 240))
            if signed > plan.now:
                continue
            row = self.episode_rows[idx]
            author = row.primary_counselor
            patient = self.patient_rows[e.patient]
            fmt = SITES[site][2]
            note = Note(
                organization=self.org, public_id=_uuid(self.uid), episode=row, patient=patient,
                kind=Note.Kind.INDIVIDUAL, format=fmt,
                sections=self._sections(fmt, patient.first_name, week - e.start_week),
                started_at=started, ended_at=ended,
                modality=Note.Modality.VIDEO if spec[4] == Program.Modality.VIRTUAL
                else Note.Modality.IN_PERSON,
                author=author, created_by=author, updated_by=author, status=Note.Status.SIGNED,
                signed_at=signed, signed_by=author, version=2,
            )  # fmt: skip
            notes.append(note)
            self.chain.add(signed, author, "openiop.clinical.note.sign", CAT.CLINICAL, "Note",
                           note.public_id, patient.public_id,
                           {"version": 2, "amends": "", "cosign_required": False})  # fmt: skip
        bulk_insert(Note, notes)
        self.t.counts["notes"] += len(notes)

    def _sections(self, fmt: str, first: str, week: int) -> dict[str, str]:
        rng = self.rng
        days = max(3, week * 7 + rng.randint(-2, 4))
        skill = rng.choice(SKILLS)
        data = (
            f"{first} arrived {rng.choice(MOODS)}. Reports {days} days without use and "
            f"{rng.randint(0, 4)} cravings this week, after {rng.choice(EVENTS)}. "
            f"Practiced {skill}."
        )
        assessment = rng.choice(ASSESSMENTS).format(days=days + 14)
        plan = rng.choice(PLANS).format(skill=skill)
        if fmt == "BIRP":
            return {"behavior": data, "intervention": "Motivational interviewing; reviewed the "
                    "craving log.", "response": assessment, "plan": plan}  # fmt: skip
        if fmt == "SOAP":
            return {"subjective": data, "objective": "Alert and oriented; no signs of "
                    "intoxication.", "assessment": assessment, "plan": plan}  # fmt: skip
        return {"data": data, "assessment": assessment, "plan": plan}

    def _codes(self, total: int, items: int) -> list[int]:
        codes = [0] * items
        total = min(total, 3 * items)
        while total > 0:
            i = self.rng.randrange(items)
            if codes[i] < 3:
                codes[i] += 1
                total -= 1
        return codes

    def _questionnaires(self, week: int, monday: dt.date) -> None:
        """PHQ-9 at admission and every fourth week, GAD-7 at admission and discharge. Item 9
        stays 0 here, so no response raises a suicide-risk alert that nobody followed up."""
        plan, rng = self.plan, self.rng
        rows: list[QuestionnaireResponse] = []
        for idx, e in self._active_this_week(week):
            n = week - e.start_week
            given: list[tuple[Any, dt.date]] = []
            if n % 4 == 0:
                given.append((self.phq9, max(monday, e.admitted_on)))
            if n == 0:
                given.append((self.gad7, e.admitted_on))
            if e.discharged_on is not None and week == e.end_week:
                given.append((self.gad7, e.discharged_on))
            if not given:
                continue
            site, spec = plan.programs[e.program]
            row = self.episode_rows[idx]
            patient = self.patient_rows[e.patient]
            baseline = 10 + (e.idx % 9)
            for k, (instrument, day) in enumerate(given):
                at = self.local(site, day, spec[7]) + dt.timedelta(minutes=5 * k)
                if at > plan.now:
                    continue
                items = 8 if instrument is self.phq9 else 7
                total = max(0, baseline - n // 2 + rng.randint(-3, 3))
                codes = self._codes(total, items) + ([0] if instrument is self.phq9 else [])
                score = instrument.score(codes)
                response = QuestionnaireResponse(
                    organization=self.org, public_id=_uuid(self.uid), patient=patient,
                    episode=row, instrument=instrument.key,
                    instrument_version=instrument.version,
                    answers=instrument.answers_by_link_id(codes), total=score.total,
                    severity=score.severity or "", flags=list(score.flags),
                    positive=score.positive, subscales=dict(score.subscales),
                    administered_at=at, administered_by=row.primary_counselor,
                )  # fmt: skip
                rows.append(response)
                self.chain.add(at, row.primary_counselor,
                               "openiop.questionnaires.response.create", CAT.CLINICAL,
                               "QuestionnaireResponse", response.public_id, patient.public_id,
                               {"instrument": instrument.key, "total": score.total})  # fmt: skip
        bulk_insert(QuestionnaireResponse, rows)
        self.t.counts["questionnaires"] += len(rows)

    def _consents(self, week: int, monday: dt.date) -> None:
        """A TPO consent signed at admission for most patients (once per patient)."""
        plan, rng = self.plan, self.rng
        rows: list[Consent] = []
        intake = self.staff["intake"]
        for _, e in self._active_this_week(week):
            if e.start_week != week or e.patient in self.consented:
                continue
            self.consented.add(e.patient)
            if rng.random() >= 0.8:
                continue
            site = plan.programs[e.program][0]
            at = self.local(site, e.admitted_on, dt.time(8, 45))
            if at > plan.now:
                continue
            patient = self.patient_rows[e.patient]
            minor = patient.age_on(e.admitted_on) < consent_rules.ADULT_AGE
            consent = Consent(
                organization=self.org, public_id=_uuid(self.uid), patient=patient,
                kind=Consent.Kind.TPO, disclosing_party=ORG_NAME,
                purpose=Consent.Purpose.TREATMENT,
                recipient_description=consent_rules.TPO_RECIPIENT_CLASS,
                categories=["demographics", "attendance", "diagnoses", "treatment_plan",
                            "questionnaire_scores"],
                expiry_event=consent_rules.NO_EXPIRY_EVENT,
                signed_by_name=f"{patient.first_name} {patient.last_name}",
                signer_role=Consent.SignerRole.PATIENT,
                guardian_signed_by_name="Parent" if minor else "", signed_at=at,
                created_by=intake,
            )  # fmt: skip
            rows.append(consent)
            self.chain.add(at, intake, "openiop.consent.consent.record", CAT.CLINICAL, "Consent",
                           consent.public_id, patient.public_id)  # fmt: skip
        bulk_insert(Consent, rows)
        self.t.counts["consents"] += len(rows)

    def _claims(self, monday: dt.date) -> None:
        """Monthly per-diem claims (one line per attended day), built on the 5th of the next
        month for the months of the last year; most are paid."""
        plan, rng = self.plan, self.rng
        biller = self.staff["billing"]
        for ym in self.billable:
            y, m = ym
            build_day = dt.date(y + (m == 12), m % 12 + 1, 5)
            if not monday <= build_day < monday + dt.timedelta(days=7):
                continue
            built_at = dt.datetime.combine(build_day, dt.time(14, 0), tzinfo=UTC)
            claims: list[Claim] = []
            lines: list[list[ClaimLine]] = []
            for idx, days in sorted(self.billed.pop(ym, {}).items()):
                e = plan.episodes[idx]
                row = self.episode_rows[idx]
                payer = self.payers[plan.patients[e.patient].payer]
                fee = Decimal(payer.fee_schedule["H0015"])
                virtual = plan.programs[e.program][1][4] == Program.Modality.VIRTUAL
                pos = "10" if virtual else "57"
                r = rng.random()
                status = "paid" if r < 0.9 else "denied" if r < 0.95 else "submitted"
                self.claim_seq += 1
                claim = Claim(
                    organization=self.org, public_id=_uuid(self.uid),
                    patient=self.patient_rows[e.patient], episode=row, payer=payer,
                    claim_type=payer.claim_type, status=status,
                    claim_number=f"GL{self.claim_seq:09d}",
                    period_start=dt.date(y, m, 1),
                    period_end=dt.date(y, m, calendar.monthrange(y, m)[1]),
                    total_charge=fee * len(days),
                    paid_amount=fee * len(days) if status == "paid" else None,
                    diagnosis_codes=[ICD10.get(e.substance, "F19.20")], place_of_service=pos,
                    status_changed_at=built_at + dt.timedelta(days=21),
                    submitted_at=built_at + dt.timedelta(hours=2), submitted_by=biller,
                    created_by=biller, updated_by=biller,
                )  # fmt: skip
                claims.append(claim)
                line_status = {"paid": "paid", "denied": "denied"}.get(status, "open")
                lines.append(
                    [
                        ClaimLine(
                            organization=self.org, claim=claim, position=n, service_date=day,
                            code="H0015", modifiers=["95"] if virtual else [], units=1,
                            place_of_service=pos, charge=fee, minutes=minutes,
                            source_ids=[f"att:{att}"], source_key=f"att:{att}",
                            status=line_status,
                        )
                        for n, (day, att, minutes) in enumerate(days, start=1)
                    ]
                )  # fmt: skip
                self.chain.add(built_at, biller, "openiop.billing.claim.create", CAT.BILLING,
                               "Claim", claim.public_id, self.patient_rows[e.patient].public_id,
                               {"lines": len(days)})  # fmt: skip
            Claim.objects.bulk_create(claims, batch_size=BATCH)
            flat = [line for group in lines for line in group]
            for claim, group in zip(claims, lines, strict=True):
                for line in group:
                    line.claim = claim
            bulk_insert(ClaimLine, flat)
            self.t.counts["claims"] += len(claims)
            self.t.counts["claim_lines"] += len(flat)
