"""A realistic, deterministic demo clinic: ``openiop demo`` (and tests) build it from a seed.

Two steps, so the randomness can be checked without a database:

* ``plan_demo`` draws everything from one ``random.Random(seed)`` in a fixed order and returns
  plain frozen dataclasses (names, dates, sessions, attendance). Same arguments, same plan.
* ``build_demo`` writes a plan with ``bulk_create`` inside one transaction, and writes a single
  audit row: generating fictitious data is not a read of anyone's record.

Dates are relative to ``today`` and ``now`` so freshly generated data always looks current:
``weeks`` of history before this week, this week (with sessions today), and two weeks ahead.
Sessions that have ended are held and have attendance; sessions not yet started keep their
bookings as EXPECTED, exactly as the check-in service would leave them.

Everything here is fiction: names come from short lists, phone numbers are in the reserved
555-01xx range and e-mail addresses are at example.org.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Role
from openiop.attendance.models import AttendanceRecord
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import (
    Episode,
    EpisodeStatusChange,
    ReferralSource,
    TedsDischargeReason,
    TedsSubstance,
)
from openiop.organizations.models import PROGRAM_DEFAULTS, Organization, Program, Room, Site
from openiop.patients.models import Guardian, Patient, UnavailableWindow
from openiop.patients.search import index_patients
from openiop.scheduling.models import Session, SessionKind, SessionSeries
from openiop.scheduling.services import local_datetime

DEMO_PASSWORD = "demo-password-2026"
ORG_NAME = "Riverbend Recovery Center"
ORG_SLUG = "riverbend"
OTHER_ORG_NAME = "Lakeside Behavioral Health"
OTHER_ORG_SLUG = "lakeside"
DEMO_TZ = zoneinfo.ZoneInfo("America/New_York")
LOGIN_URL = "http://127.0.0.1:8000/accounts/login/"

S = Episode.Status
A = AttendanceRecord.Status
DAY = dt.timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# Fixed parts of the clinic: sites, rooms, programs, staff
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteSpec:
    key: str
    name: str
    kind: str
    address: str
    rooms: tuple[tuple[str, int], ...]


# fmt: off
SITES: tuple[SiteSpec, ...] = (
    SiteSpec("downtown", "Riverbend Downtown", Site.Kind.IN_PERSON,
             "410 Water Street, Riverbend, NY 12901",
             (("Group Room A", 14), ("Group Room B", 12), ("Office 1", 3), ("Office 2", 3),
              ("Office 3", 3), ("Office 4", 3), ("Exam Room", 3))),
    SiteSpec("northside", "Riverbend Northside", Site.Kind.IN_PERSON,
             "88 Orchard Avenue, Riverbend, NY 12903",
             (("Group Room 1", 14), ("Group Room 2", 12), ("Teen Room", 12), ("Office 1", 3),
              ("Office 2", 3), ("Office 3", 3), ("Office 4", 3), ("Exam Room", 3))),
    SiteSpec("virtual", "Riverbend Virtual", Site.Kind.VIRTUAL, "", ()),
)
# fmt: on


@dataclass(frozen=True)
class ProgramSpec:
    key: str
    name: str
    site: str
    defaults: str  # key of PROGRAM_DEFAULTS
    population: str
    modality: str
    cohort: str
    weekdays: tuple[int, ...]
    start: dt.time
    minutes: int
    group_cap: int
    rooms: tuple[str, ...]  # group rooms in order of use; empty for virtual groups
    pool: tuple[str, ...]  # counselors who run this program's groups
    weight: float  # share of the patients

    @property
    def is_virtual(self) -> bool:
        return self.modality == Program.Modality.VIRTUAL


# fmt: off
PROGRAMS: tuple[ProgramSpec, ...] = (
    ProgramSpec("day", "Adult Day IOP", "downtown", "adult", Program.Population.ADULT,
                Program.Modality.IN_PERSON, Program.Cohort.DAY, (0, 2, 4), dt.time(9, 0), 180, 12,
                ("Group Room A", "Group Room B"), ("counselor", "counselor2"), 0.30),
    ProgramSpec("evening", "Adult Evening IOP", "northside", "adult", Program.Population.ADULT,
                Program.Modality.IN_PERSON, Program.Cohort.EVENING, (0, 1, 3), dt.time(18, 0), 180,
                12, ("Group Room 1", "Group Room 2"), ("counselor3", "counselor"), 0.32),
    ProgramSpec("virtual", "Virtual IOP", "virtual", "virtual", Program.Population.ADULT,
                Program.Modality.VIRTUAL, Program.Cohort.EVENING, (1, 2, 3), dt.time(18, 30), 180,
                12, (), ("counselor2", "counselor4"), 0.20),
    ProgramSpec("teen", "Adolescent IOP", "northside", "adolescent",
                Program.Population.ADOLESCENT, Program.Modality.IN_PERSON,
                Program.Cohort.AFTER_SCHOOL, (0, 2, 3), dt.time(15, 30), 120, 10, ("Teen Room",),
                ("counselor4", "counselor3"), 0.18),
)
# fmt: on
PROGRAM_BY_KEY = {p.key: p for p in PROGRAMS}


@dataclass(frozen=True)
class StaffSpec:
    username: str
    first_name: str
    last_name: str
    role: Role
    credential: str = ""
    licensed: bool = False  # has an individual NPI
    superuser: bool = False


STAFF: tuple[StaffSpec, ...] = (
    StaffSpec("director", "Renée", "Dubois", Role.PROGRAM_DIRECTOR, User.Credential.LCSW, True),
    StaffSpec("intake", "Jordan", "Ellis", Role.INTAKE, User.Credential.CADC, True),
    StaffSpec("counselor", "Samuel", "Okafor", Role.COUNSELOR, User.Credential.LADC, True),
    StaffSpec("counselor2", "Priya", "Raman", Role.COUNSELOR, User.Credential.LPC, True),
    StaffSpec("counselor3", "Megan", "O'Neill", Role.COUNSELOR, User.Credential.LCSW, True),
    StaffSpec("counselor4", "Luis", "Castillo", Role.COUNSELOR, User.Credential.CADC, True),
    StaffSpec("prescriber", "Helen", "Zhou", Role.PRESCRIBER, User.Credential.MD, True),
    StaffSpec("front_desk", "Tasha", "Greene", Role.FRONT_DESK),
    StaffSpec("billing", "Kevin", "Marsh", Role.BILLING),
    StaffSpec("auditor", "Linda", "Morales", Role.AUDITOR),
    StaffSpec("admin", "Alex", "Rivera", Role.ADMIN, superuser=True),
)
OUTSIDER = StaffSpec("outsider", "Chris", "Walker", Role.COUNSELOR, User.Credential.LADC, True)
COUNSELORS = tuple(s.username for s in STAFF if s.role == Role.COUNSELOR)


def logins() -> list[tuple[str, str, str]]:
    """(username, role, password) for every demo log-in, Riverbend staff first."""
    rows = [(s.username, s.role.value, DEMO_PASSWORD) for s in STAFF]
    rows.append((OUTSIDER.username, f"{OUTSIDER.role.value} ({OTHER_ORG_NAME})", DEMO_PASSWORD))
    rows.append(("patient", "patient portal (adult, Virtual IOP)", DEMO_PASSWORD))
    rows.append(("guardian", "patient portal (parent of a teen)", DEMO_PASSWORD))
    return rows


def progress_total(patients: int) -> int:
    """Steps ``build_demo`` reports: one for the set-up, one per patient, one for the sessions,
    one for the clinical record."""
    return patients + 3


# ---------------------------------------------------------------------------------------------
# Names and other people-data (fiction, drawn from short lists)
# ---------------------------------------------------------------------------------------------

# fmt: off
NameGroup = tuple[float, tuple[str, ...], tuple[str, ...], tuple[str, ...], str, float]
# (weight, female first names, male first names, last names, other language, its share)
NAME_GROUPS: tuple[NameGroup, ...] = (
    (0.40,
     ("Jessica", "Ashley", "Emily", "Sarah", "Amanda", "Megan", "Rachel", "Lauren", "Kayla",
      "Heather", "Brittany", "Amber", "Hannah", "Courtney", "Molly"),
     ("Michael", "Christopher", "Matthew", "Joshua", "Andrew", "Ryan", "Tyler", "Brandon", "Kyle",
      "Justin", "Cody", "Dustin", "Ethan", "Connor", "Travis"),
     ("Smith", "Johnson", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas", "Moore",
      "Martin", "Thompson", "Clark", "Lewis", "Hall", "Allen", "Young", "Wright", "Baker",
      "Murphy", "Sullivan", "O'Connor", "Kowalski", "Novak", "Schmidt", "Russo", "Bianchi"),
     "", 0.0),
    (0.25,
     ("María", "Guadalupe", "Alejandra", "Lucía", "Valeria", "Rosa", "Carmen", "Daniela",
      "Gabriela", "Yesenia"),
     ("José", "Luis", "Carlos", "Miguel", "Javier", "Alejandro", "Diego", "Mateo", "Jorge",
      "Ricardo"),
     ("García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez",
      "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Reyes", "Cruz", "Ortiz",
      "Vargas"),
     "Spanish", 0.45),
    (0.18,
     ("Aaliyah", "Imani", "Keisha", "Tamika", "Jasmine", "Ebony", "Nia", "Destiny", "Tiana"),
     ("DeShawn", "Jamal", "Malik", "Terrence", "Darnell", "Andre", "Marcus", "Isaiah", "Xavier"),
     ("Washington", "Jackson", "Harris", "Robinson", "Brooks", "Coleman", "Jenkins", "Bell",
      "Freeman", "Banks", "Mensah", "Okonkwo"),
     "", 0.0),
    (0.10,
     ("Mei", "Linh", "Soo-jin", "Hana", "Priya", "Ananya", "Mai", "Thu"),
     ("Wei", "Minh", "Hiroshi", "Jin", "Arjun", "Rahul", "Tuan", "Bao"),
     ("Nguyen", "Tran", "Kim", "Park", "Chen", "Wang", "Patel", "Shah", "Singh", "Tanaka", "Pham"),
     "Vietnamese", 0.08),
    (0.04,
     ("Fatima", "Layla", "Yasmin", "Noor"),
     ("Omar", "Ahmed", "Karim", "Yusuf"),
     ("Haddad", "Khalil", "Mansour", "Nasser", "Saleh"),
     "Arabic", 0.25),
    (0.03,
     ("Nadège", "Widline", "Fabienne"),
     ("Jean-Pierre", "Wesley", "Ricot"),
     ("Pierre", "Joseph", "Jean-Baptiste", "Louis"),
     "Haitian Creole", 0.4),
)

NICKNAMES = {
    "Michael": "Mike", "Christopher": "Chris", "Matthew": "Matt", "Joshua": "Josh",
    "Andrew": "Drew", "Alejandro": "Alex", "Guadalupe": "Lupe", "Jessica": "Jess",
    "Daniela": "Dani", "Jean-Pierre": "JP", "Gabriela": "Gabi", "Jorge": "George",
}

STREETS = ("Maple Street", "River Road", "Elm Avenue", "Church Street", "Prospect Hill Road",
           "Mill Lane", "Union Street", "Spring Street", "Lakeview Drive", "Franklin Avenue")
TOWNS = (("Riverbend", "12901"), ("Riverbend", "12903"), ("Cedar Falls", "12910"),
         ("East Hollow", "12918"), ("Millbrook Junction", "12921"))

ADULT_SUBSTANCES: tuple[tuple[int, float], ...] = (
    (TedsSubstance.ALCOHOL, 34), (TedsSubstance.OTHER_OPIATES, 20), (TedsSubstance.HEROIN, 9),
    (TedsSubstance.METHAMPHETAMINE, 13), (TedsSubstance.COCAINE, 11),
    (TedsSubstance.MARIJUANA, 6), (TedsSubstance.BENZODIAZEPINES, 4),
    (TedsSubstance.OTHER_STIMULANTS, 3),
)
TEEN_SUBSTANCES: tuple[tuple[int, float], ...] = (
    (TedsSubstance.MARIJUANA, 60), (TedsSubstance.ALCOHOL, 18), (TedsSubstance.OTHER_OPIATES, 6),
    (TedsSubstance.BENZODIAZEPINES, 6), (TedsSubstance.OTHER_AMPHETAMINES, 5),
    (TedsSubstance.HALLUCINOGENS, 5),
)
OPIOIDS = {TedsSubstance.HEROIN, TedsSubstance.OTHER_OPIATES, TedsSubstance.METHADONE}

ADULT_REFERRALS: tuple[tuple[str, float], ...] = (
    (ReferralSource.SELF, 20), (ReferralSource.FAMILY, 9), (ReferralSource.EMPLOYER, 8),
    (ReferralSource.COURT, 15), (ReferralSource.HOSPITAL, 10), (ReferralSource.DETOX, 13),
    (ReferralSource.RESIDENTIAL, 15), (ReferralSource.PROVIDER, 10),
)
TEEN_REFERRALS: tuple[tuple[str, float], ...] = (
    (ReferralSource.SCHOOL, 35), (ReferralSource.FAMILY, 35), (ReferralSource.COURT, 15),
    (ReferralSource.PROVIDER, 15),
)

EXCUSES = ("Medical appointment", "Court date", "Sick child at home", "Ill (called ahead)",
           "Work schedule change", "Family funeral", "Car trouble (called ahead)")
HOLD_REASONS = ("Inpatient medical admission", "Family emergency out of state",
                "Short-term residential stabilization")
# fmt: on


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _phone(rng: random.Random) -> str:
    """A fictional number: 555-0100 to 555-0199 are reserved for fiction."""
    return f"({rng.choice(('518', '845', '607'))}) 555-01{rng.randint(0, 99):02d}"


def _email_local(*parts: str) -> str:
    table = str.maketrans("áéíóúñèçÁÉÍÓÚÑ", "aeiounecAEIOUN", "' ")
    return ".".join(p.translate(table).lower() for p in parts)


def _npi(rng: random.Random) -> str:
    """A 10-digit NPI that passes the Luhn check (with the 80840 prefix), as real ones do."""
    body = [rng.randint(1, 2)] + [rng.randint(0, 9) for _ in range(8)]
    digits = [int(c) for c in "80840"] + body
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    check = (10 - total % 10) % 10
    return "".join(map(str, body)) + str(check)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _random_day(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=rng.randint(0, max(0, (hi - lo).days)))


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _snap_back(day: dt.date, weekdays: Sequence[int]) -> dt.date:
    while day.weekday() not in weekdays:
        day -= DAY
    return day


def _minutes(at: dt.time) -> int:
    return at.hour * 60 + at.minute


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th ``weekday`` of a month; n=-1 is the last."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - DAY
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def clinic_holidays(year: int) -> dict[dt.date, str]:
    """The days Riverbend closes (US federal holidays the clinic observes)."""
    return {
        dt.date(year, 1, 1): "New Year's Day",
        _nth_weekday(year, 1, 0, 3): "Martin Luther King Jr. Day",
        _nth_weekday(year, 5, 0, -1): "Memorial Day",
        dt.date(year, 7, 4): "Independence Day",
        _nth_weekday(year, 9, 0, 1): "Labor Day",
        _nth_weekday(year, 11, 3, 4): "Thanksgiving Day",
        dt.date(year, 12, 25): "Christmas Day",
    }


# ---------------------------------------------------------------------------------------------
# The plan: plain data, no database
# ---------------------------------------------------------------------------------------------

Window = tuple[int, dt.time, dt.time, str, str]  # weekday, start, end, kind, note


@dataclass(frozen=True)
class PlannedPatient:
    key: int
    org: str  # "riverbend" or "lakeside"
    program: str  # program key of the current (last) episode
    mrn: str
    first_name: str
    last_name: str
    preferred_name: str
    date_of_birth: dt.date
    sex: str
    phone: str
    email: str
    address: str
    preferred_language: str
    emergency_contact: tuple[str, str, str]  # name, phone, relationship
    guardian: tuple[str, str, str, str] | None  # name, relationship, phone, email
    windows: tuple[Window, ...]


@dataclass(frozen=True)
class PlannedChange:
    from_status: str
    to_status: str
    effective_on: dt.date
    reason: str
    by: str  # username


@dataclass(frozen=True)
class PlannedEpisode:
    key: int
    patient: int
    program: str
    status: str
    referral_date: dt.date
    referral_source: str
    admitted_on: dt.date | None
    discharged_on: dt.date | None
    primary_substance: int
    secondary_substance: int | None
    mat: bool
    discharge_reason: int | None
    discharge_note: str
    counselor: str
    transferred_from: int | None
    changes: tuple[PlannedChange, ...]


@dataclass(frozen=True)
class PlannedSeries:
    key: int
    program: str
    title: str
    weekdays: tuple[int, ...]
    start_time: dt.time
    minutes: int
    room: tuple[str, str] | None  # (site key, room name)
    facilitators: tuple[str, ...]
    capacity: int
    start_date: dt.date
    end_date: dt.date


@dataclass(frozen=True)
class PlannedSession:
    key: int
    program: str
    series: int | None
    kind: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    room: tuple[str, str] | None
    is_virtual: bool
    facilitators: tuple[str, ...]
    capacity: int
    status: str
    cancel_reason: str


@dataclass(frozen=True)
class PlannedAttendance:
    session: int
    patient: int
    episode: int
    status: str
    minutes: int | None
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    recorded_at: dt.datetime | None
    recorded_by: str | None
    note: str


@dataclass(frozen=True)
class DemoPlan:
    seed: int
    today: dt.date
    now: dt.datetime
    history_start: dt.date
    horizon_end: dt.date
    rooms: tuple[tuple[str, str, int], ...]  # site key, name, capacity
    npis: tuple[tuple[str, str], ...]  # username, NPI
    patients: tuple[PlannedPatient, ...]
    episodes: tuple[PlannedEpisode, ...]
    series: tuple[PlannedSeries, ...]
    sessions: tuple[PlannedSession, ...]
    attendance: tuple[PlannedAttendance, ...]


@dataclass
class _Course:
    """Working notes for one episode while planning (mutable; frozen into PlannedEpisode)."""

    key: int
    patient: int
    program: ProgramSpec
    outcome: str
    referral_date: dt.date
    admitted_on: dt.date | None = None
    discharged_on: dt.date | None = None
    discharge_reason: int | None = None
    discharge_note: str = ""
    hold: tuple[dt.date, dt.date | None, str] | None = None  # from, until (exclusive), reason
    transferred_from: int | None = None
    reliability: float = 0.9
    group: int = 0
    counselor: str = ""
    at_risk: bool = False
    substance: int = TedsSubstance.ALCOHOL
    secondary: int | None = None
    mat: bool = False
    source: str = ReferralSource.SELF

    def holds(self, day: dt.date) -> bool:
        if self.hold is None:
            return False
        start, until, _ = self.hold
        return day >= start and (until is None or day < until)

    def enrolled(self, day: dt.date) -> bool:
        if self.admitted_on is None or day < self.admitted_on:
            return False
        if self.discharged_on is not None and day > self.discharged_on:
            return False
        return not self.holds(day)


class _Busy:
    """Who (staff, patient) is booked when, in site-local minutes of a day."""

    def __init__(self) -> None:
        self._slots: dict[tuple[str, dt.date], list[tuple[int, int]]] = defaultdict(list)

    def free(self, who: str, day: dt.date, start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in self._slots[(who, day)])

    def take(self, who: str, day: dt.date, start: int, end: int) -> None:
        self._slots[(who, day)].append((start, end))


def _slots(days: Sequence[int], first: str, last: str, step: int) -> list[tuple[int, dt.time]]:
    lo, hi = _minutes(dt.time.fromisoformat(first)), _minutes(dt.time.fromisoformat(last))
    return [(d, dt.time(m // 60, m % 60)) for d in days for m in range(lo, hi + 1, step)]


# Candidate (weekday, start) slots for individual therapy (50 min) and medication visits (30 min),
# chosen around each track's groups and its patients' usual work or school hours.
INDIVIDUAL_SLOTS: dict[str, list[tuple[int, dt.time]]] = {
    "day": _slots((1, 3), "09:00", "14:00", 60) + _slots((0, 2, 4), "12:30", "14:30", 60),
    "evening": _slots((2,), "17:15", "19:15", 60)
    + _slots((0, 1, 3), "17:00", "17:00", 60)
    + _slots((5,), "09:00", "11:00", 60),
    "virtual": _slots((0, 4), "17:30", "19:30", 60) + _slots((1, 2, 3), "17:30", "17:30", 60),
    "teen": _slots((1, 4), "15:30", "16:30", 60) + _slots((0, 2, 3), "17:45", "17:45", 60),
}
MEDICATION_SLOTS: dict[str, list[tuple[int, dt.time]]] = {
    "day": _slots((1, 3), "12:30", "15:30", 30) + _slots((0, 2, 4), "12:15", "14:15", 30),
    "evening": _slots((0, 1, 3), "17:00", "17:30", 30) + _slots((2,), "17:00", "19:00", 30),
    "virtual": _slots((0, 4), "17:00", "19:30", 30) + _slots((1, 2, 3), "17:00", "17:30", 30),
    "teen": _slots((1, 4), "15:30", "17:00", 30),
}


def _windows_for(rng: random.Random, program: ProgramSpec) -> list[Window]:
    weekdays = range(5)
    windows: list[Window] = []
    if program.key == "teen":
        windows += [
            (d, dt.time(8), dt.time(15), UnavailableWindow.Kind.SCHOOL, "School") for d in weekdays
        ]
        if rng.random() < 0.3:
            windows.append(
                (5, dt.time(10), dt.time(16), UnavailableWindow.Kind.WORK, "Part-time job")
            )
        return windows
    r = rng.random()
    if program.key == "day":
        if r < 0.45:
            days = sorted(rng.sample((1, 3, 4, 5, 6), 4))
            note = rng.choice(("Line cook, evening shift", "Bartender", "Retail closing shift"))
            windows += [
                (d, dt.time(16), dt.time(23), UnavailableWindow.Kind.WORK, note) for d in days
            ]
        elif r < 0.7:
            windows += [
                (
                    d,
                    dt.time(7),
                    dt.time(15, 30),
                    UnavailableWindow.Kind.WORK,
                    "Weekend warehouse shift",
                )
                for d in (5, 6)
            ]
        # otherwise: not working at present
        if rng.random() < 0.25:
            windows += [
                (
                    d,
                    dt.time(15),
                    dt.time(18),
                    UnavailableWindow.Kind.CHILDCARE,
                    "Children home from school",
                )
                for d in weekdays
            ]
    elif program.key == "evening":
        start, end = (dt.time(8), dt.time(17)) if r < 0.85 else (dt.time(7), dt.time(15, 30))
        note = rng.choice(
            (
                "Office job",
                "Construction crew",
                "Hospital aide",
                "Warehouse, day shift",
                "School bus driver",
                "Auto repair shop",
            )
        )
        windows += [(d, start, end, UnavailableWindow.Kind.WORK, note) for d in weekdays]
        if rng.random() < 0.2:
            windows.append(
                (
                    5,
                    dt.time(8),
                    dt.time(13),
                    UnavailableWindow.Kind.CHILDCARE,
                    "Custody weekend mornings",
                )
            )
    else:  # virtual: often rural, working days
        if r < 0.7:
            windows += [
                (d, dt.time(9), dt.time(17, 30), UnavailableWindow.Kind.WORK, "Remote job")
                for d in weekdays
            ]
        elif r < 0.85:
            windows += [
                (d, dt.time(7), dt.time(16), UnavailableWindow.Kind.WORK, "Farm work")
                for d in weekdays
            ]
        if rng.random() < 0.25:
            windows += [
                (d, dt.time(7), dt.time(8, 30), UnavailableWindow.Kind.CHILDCARE, "School drop-off")
                for d in weekdays
            ]
    return windows


def _outcomes(n: int) -> list[str]:
    """How the ``n`` episodes turn out; the rest are simply active."""
    plan = (
        ["completed"] * max(1, round(n * 0.10))
        + ["dropped"] * max(1, round(n * 0.07))
        + ["waitlisted"] * min(5, max(1, round(n * 0.06)))
        + ["on_hold"] * (1 if n < 40 else 2)
        + ["transferred"] * (1 if n < 40 else 2)
        + ["new"] * (1 if n < 40 else 2)
    )
    plan = plan[: max(0, n - 1)] if n < 12 else plan
    return plan + ["active"] * (n - len(plan))


def _program_mix(n: int) -> list[str]:
    """Largest-remainder split of ``n`` patients over the tracks, every track getting one."""
    total = sum(p.weight for p in PROGRAMS)
    raw = [(p.key, n * p.weight / total) for p in PROGRAMS]
    counts = {k: int(x) for k, x in raw}
    for k, _ in sorted(raw, key=lambda kx: kx[1] - int(kx[1]), reverse=True):
        if sum(counts.values()) >= n:
            break
        counts[k] += 1
    if n >= len(PROGRAMS):
        for k in counts:
            if counts[k] == 0:
                donor = max(counts, key=lambda c: counts[c])
                counts[donor] -= 1
                counts[k] += 1
    return [k for k, _ in raw for _ in range(counts[k])]


def plan_demo(
    *, seed: int, patients: int, weeks: int, today: dt.date, now: dt.datetime
) -> DemoPlan:
    """Everything the demo will contain, drawn from ``random.Random(seed)`` in a fixed order."""
    if patients < 1 or weeks < 1:
        raise ValueError("patients and weeks must be at least 1")
    rng = random.Random(seed)
    history_start = _week_start(today) - dt.timedelta(weeks=weeks)
    horizon_end = today + dt.timedelta(days=14)
    holidays: dict[dt.date, str] = {}
    for year in range(history_start.year, horizon_end.year + 1):
        holidays.update(clinic_holidays(year))
    # Today stays open so the demo always has sessions today, even on a holiday.
    closed = {
        d: name for d, name in holidays.items() if history_start <= d <= horizon_end and d != today
    }

    # 1. Who goes where and how their episode turns out.
    mix = _program_mix(patients)
    rng.shuffle(mix)
    outcomes = _outcomes(patients)
    rng.shuffle(outcomes)
    if "transferred" in outcomes and "day" in mix:
        # Make sure one transfer is a step-down from the day to the evening track.
        t, d = outcomes.index("transferred"), mix.index("day")
        outcomes[t], outcomes[d] = outcomes[d], outcomes[t]
    courses: list[_Course] = []
    step_down_done = False
    for i, (pkey, outcome) in enumerate(zip(mix, outcomes, strict=True)):
        program = PROGRAM_BY_KEY[pkey]
        course = _plan_dates(rng, i, program, outcome, today, weeks)
        courses.append(course)
        if outcome == "transferred" and pkey == "day" and not step_down_done:
            # Step-down: back at work, the patient continues in the evening track.
            step_down_done = True
            assert course.discharged_on is not None
            course.discharge_note = "Stepped down to Adult Evening IOP after returning to work."
            follow = _Course(
                key=-1,
                patient=i,
                program=PROGRAM_BY_KEY["evening"],
                outcome="active",
                referral_date=course.discharged_on,
                admitted_on=course.discharged_on,
                transferred_from=i,
                reliability=0.93,
                substance=course.substance,
                secondary=course.secondary,
                mat=course.mat,
                source=ReferralSource.PROVIDER,
            )
            courses.append(follow)
    for k, course in enumerate(courses):
        course.key = k
        if course.transferred_from is not None:
            course.transferred_from = next(
                c.key for c in courses if c.patient == course.transferred_from and c is not course
            )
    # One active patient had a short hold that has ended (shows hold-exempt weeks).
    for course in courses:
        if course.outcome == "active" and course.admitted_on and patients >= 20:
            if (today - course.admitted_on).days >= 24:
                start = course.admitted_on + dt.timedelta(days=rng.randint(8, 11))
                course.hold = (
                    start,
                    start + dt.timedelta(days=rng.randint(5, 8)),
                    "Inpatient medical admission",
                )
                break
    # A few active patients missed sessions early this week: the "at risk" list.
    active = [
        c
        for c in courses
        if c.outcome == "active"
        and c.admitted_on
        and c.admitted_on < _week_start(today)
        and c.hold is None
    ]
    for course in rng.sample(active, min(len(active), 3 if patients >= 30 else 1)):
        course.at_risk = True

    # 2. The people.
    planned_patients = _plan_people(rng, courses, today)

    # 3. Groups: as many parallel groups per track as its cap requires.
    session_days = {
        p.key: [
            history_start + dt.timedelta(days=i)
            for i in range((horizon_end - history_start).days + 1)
            if (history_start + dt.timedelta(days=i)).weekday() in p.weekdays
        ]
        for p in PROGRAMS
    }
    occupancy: dict[str, list[Counter[dt.date]]] = {p.key: [] for p in PROGRAMS}
    for course in sorted(courses, key=lambda c: (c.admitted_on or dt.date.max, c.key)):
        if course.admitted_on is None:
            continue
        days = [d for d in session_days[course.program.key] if course.enrolled(d)]
        groups = occupancy[course.program.key]
        cap = course.program.group_cap
        g = next((i for i, occ in enumerate(groups) if all(occ[d] < cap for d in days)), -1)
        if g < 0:
            groups.append(Counter())
            g = len(groups) - 1
        groups[g].update(days)
        course.group = g
        pool = course.program.pool
        course.counselor = pool[g % len(pool)] if len(groups) > 1 or g else rng.choice(pool)

    # 4. Rooms, series and group sessions.
    rooms = [(s.key, name, cap) for s in SITES for name, cap in s.rooms]
    series: list[PlannedSeries] = []
    sessions: list[PlannedSession] = []
    busy = _Busy()
    group_sessions: dict[tuple[str, int], list[PlannedSession]] = {}
    for program in PROGRAMS:
        tz = zoneinfo.ZoneInfo(_site_tz(program.site))
        n_groups = max(1, len(occupancy[program.key]))
        for g in range(n_groups):
            room: tuple[str, str] | None = None
            if not program.is_virtual:
                name = (
                    program.rooms[g]
                    if g < len(program.rooms)
                    else f"{program.rooms[0]} ({chr(ord('A') + g)})"
                )
                if (program.site, name) not in {(r[0], r[1]) for r in rooms}:
                    rooms.append((program.site, name, program.group_cap))
                room = (program.site, name)
            facilitators = program.pool if n_groups == 1 else (program.pool[g % len(program.pool)],)
            label = program.name if n_groups == 1 else f"{program.name} · Group {chr(ord('A') + g)}"
            s = PlannedSeries(
                key=len(series),
                program=program.key,
                title=f"{label} group",
                weekdays=program.weekdays,
                start_time=program.start,
                minutes=program.minutes,
                room=room,
                facilitators=facilitators,
                capacity=program.group_cap,
                start_date=history_start,
                end_date=horizon_end,
            )
            series.append(s)
            bucket = group_sessions[(program.key, g)] = []
            for day in session_days[program.key]:
                starts = local_datetime(day, program.start, tz)
                ends = starts + dt.timedelta(minutes=program.minutes)
                cancel = f"Holiday ({closed[day]})" if day in closed else ""
                session = PlannedSession(
                    key=len(sessions),
                    program=program.key,
                    series=s.key,
                    kind=SessionKind.GROUP,
                    title=s.title,
                    starts_at=starts,
                    ends_at=ends,
                    room=room,
                    is_virtual=program.is_virtual,
                    facilitators=facilitators,
                    capacity=program.group_cap,
                    status=_session_status(starts, ends, now, cancel),
                    cancel_reason=cancel,
                )
                sessions.append(session)
                bucket.append(session)
                lo = _minutes(program.start)
                for who in facilitators:
                    busy.take(who, day, lo, lo + program.minutes)
    if not any(s.cancel_reason and s.starts_at < now for s in sessions):
        # No holiday in the history: a facilitator was out sick once, early in the history.
        past = [s for s in group_sessions[("evening", 0)] if s.ends_at < now - dt.timedelta(days=8)]
        if past:
            victim = past[min(1, len(past) - 1)]
            sessions[victim.key] = _replace_session(victim, "Facilitator out sick")
            group_sessions[("evening", 0)] = [
                sessions[s.key] if s.key == victim.key else s
                for s in group_sessions[("evening", 0)]
            ]

    # 5. Bookings and attendance, one patient at a time.
    attendance: list[PlannedAttendance] = []
    windows = {p.key: p.windows for p in planned_patients}
    for course in courses:
        if course.admitted_on is None:
            continue
        tz = zoneinfo.ZoneInfo(_site_tz(course.program.site))
        for session in group_sessions[(course.program.key, course.group)]:
            day = session.starts_at.astimezone(tz).date()
            if not course.enrolled(day):
                continue
            if course.outcome == "new" and session.starts_at <= now:
                continue
            if session.status == Session.Status.CANCELLED:
                # The patient was booked, then the program cancelled: the roster row stays
                # "expected" and the weekly minimum is credited for the lost session.
                attendance.append(
                    PlannedAttendance(
                        session=session.key,
                        patient=course.patient,
                        episode=course.key,
                        status=A.EXPECTED,
                        minutes=None,
                        checked_in_at=None,
                        checked_out_at=None,
                        recorded_at=None,
                        recorded_by=None,
                        note="",
                    )
                )
                continue
            lo = _minutes(course.program.start)
            busy.take(f"p{course.patient}", day, lo, lo + course.program.minutes)
            attendance.append(_attend(rng, course, session, now, today))
        _plan_individual(
            rng,
            course,
            sessions,
            attendance,
            busy,
            windows[course.patient],
            closed,
            history_start,
            horizon_end,
            now,
        )

    episodes = _freeze_episodes(courses, attendance, sessions, history_start)
    npis = tuple((s.username, _npi(rng)) for s in (*STAFF, OUTSIDER) if s.licensed)
    return DemoPlan(
        seed=seed,
        today=today,
        now=now,
        history_start=history_start,
        horizon_end=horizon_end,
        rooms=tuple(rooms),
        npis=npis,
        patients=tuple(planned_patients),
        episodes=tuple(episodes),
        series=tuple(series),
        sessions=tuple(sessions),
        attendance=tuple(attendance),
    )


def _site_tz(site_key: str) -> str:  # noqa: ARG001
    return "America/New_York"  # all three Riverbend sites are on Eastern time


def _session_status(starts: dt.datetime, ends: dt.datetime, now: dt.datetime, cancel: str) -> str:
    if cancel:
        return Session.Status.CANCELLED
    return Session.Status.HELD if ends <= now else Session.Status.SCHEDULED


def _replace_session(s: PlannedSession, reason: str) -> PlannedSession:
    from dataclasses import replace

    return replace(s, status=Session.Status.CANCELLED, cancel_reason=reason)


def _plan_dates(
    rng: random.Random, i: int, program: ProgramSpec, outcome: str, today: dt.date, weeks: int
) -> _Course:
    length = int(PROGRAM_DEFAULTS[program.defaults]["typical_length_weeks"]) * 7  # type: ignore[call-overload]
    wd = program.weekdays
    span = max(2, weeks * 7 - 1)
    c = _Course(
        key=i,
        patient=i,
        program=program,
        outcome=outcome,
        referral_date=today,
        reliability=rng.uniform(0.87, 0.99),
    )
    if outcome == "waitlisted":
        c.referral_date = today - dt.timedelta(days=rng.randint(1, 12))
        return c
    if outcome == "new":
        c.admitted_on = today
    elif outcome == "active":
        c.admitted_on = _snap_back(today - dt.timedelta(days=rng.randint(3, length - 5)), wd)
    elif outcome == "completed":
        c.discharged_on = _snap_back(today - dt.timedelta(days=rng.randint(1, span)), wd)
        c.admitted_on = _snap_back(
            c.discharged_on - dt.timedelta(days=length - rng.randint(0, 4)), wd
        )
        c.discharge_reason = TedsDischargeReason.COMPLETED
        c.discharge_note = "Completed the program; aftercare plan in place."
        c.reliability = rng.uniform(0.9, 0.99)
    elif outcome == "dropped":
        c.discharged_on = today - dt.timedelta(days=rng.randint(2, span))
        c.admitted_on = _snap_back(c.discharged_on - dt.timedelta(days=rng.randint(18, 32)), wd)
        c.discharge_reason = TedsDischargeReason.DROPPED_OUT
        c.discharge_note = "No contact after repeated outreach (calls, letter)."
        c.reliability = rng.uniform(0.7, 0.85)
    elif outcome == "transferred":
        c.discharged_on = _snap_back(today - dt.timedelta(days=rng.randint(3, span)), wd)
        c.admitted_on = _snap_back(c.discharged_on - dt.timedelta(days=rng.randint(14, 28)), wd)
        c.discharge_reason = TedsDischargeReason.TRANSFERRED
        c.discharge_note = "Stepped up to residential treatment (ASAM 3.5)."
    elif outcome == "on_hold":
        c.admitted_on = _snap_back(today - dt.timedelta(days=rng.randint(14, 32)), wd)
        c.hold = (today - dt.timedelta(days=rng.randint(1, 5)), None, rng.choice(HOLD_REASONS))
    c.referral_date = (c.admitted_on or today) - dt.timedelta(days=rng.randint(2, 16))
    teen = program.population == Program.Population.ADOLESCENT
    c.substance = _weighted(rng, TEEN_SUBSTANCES if teen else ADULT_SUBSTANCES)
    if rng.random() < 0.5:
        others = [s for s, _ in (TEEN_SUBSTANCES if teen else ADULT_SUBSTANCES) if s != c.substance]
        c.secondary = rng.choice(others)
    if c.substance in OPIOIDS:
        c.mat = rng.random() < (0.5 if teen else 0.8)
    elif c.substance == TedsSubstance.ALCOHOL and not teen:
        c.mat = rng.random() < 0.2  # naltrexone or acamprosate
    c.source = _weighted(rng, TEEN_REFERRALS if teen else ADULT_REFERRALS)
    return c


def _plan_people(
    rng: random.Random, courses: list[_Course], today: dt.date
) -> list[PlannedPatient]:
    people: list[PlannedPatient] = []
    mrn = rng.randint(1000, 1400)
    first_course = {c.patient: c for c in reversed(courses)}  # earliest segment wins
    last_course = {c.patient: c for c in courses}
    for key in sorted(first_course):
        course, current = first_course[key], last_course[key]
        mrn += rng.randint(1, 9)
        group = _weighted(rng, [(g, g[0]) for g in NAME_GROUPS])
        _, females, males, lasts, language, share = group
        sex = rng.choice((Patient.Sex.FEMALE, Patient.Sex.MALE))
        first = rng.choice(females if sex == Patient.Sex.FEMALE else males)
        last = rng.choice(lasts)
        teen = course.program.population == Program.Population.ADOLESCENT
        preferred = NICKNAMES.get(first, "") if rng.random() < 0.5 else ""
        lang = language if language and rng.random() < (share / 3 if teen else share) else "English"
        if teen:
            ref = course.admitted_on or today
            dob = _random_day(rng, _years_before(today, 18) + DAY, _years_before(ref, 14))
        else:
            age = min(65, max(20, int(rng.triangular(20, 65, 33))))
            dob = _random_day(rng, _years_before(today, age + 1) + DAY, _years_before(today, age))
        town, zipcode = rng.choice(TOWNS)
        address = f"{rng.randint(3, 980)} {rng.choice(STREETS)}, {town}, NY {zipcode}"
        guardian = None
        if teen:
            parent_first = rng.choice(females + males)
            relationship = rng.choices(
                ("Mother", "Father", "Grandmother", "Aunt", "Legal guardian"),
                weights=(50, 25, 12, 6, 7),
            )[0]
            parent_last = last if rng.random() < 0.8 else rng.choice(lasts)
            guardian = (
                f"{parent_first} {parent_last}",
                relationship,
                _phone(rng),
                f"{_email_local(parent_first, parent_last)}@example.org",
            )
            contact = (guardian[0], guardian[2], relationship)
        else:
            rel = rng.choice(
                ("Spouse", "Partner", "Mother", "Father", "Sister", "Brother", "Friend", "Sponsor")
            )
            contact_last = (
                last
                if rel in {"Spouse", "Mother", "Father", "Sister", "Brother"}
                else (rng.choice(lasts))
            )
            contact = (f"{rng.choice(females + males)} {contact_last}", _phone(rng), rel)
        people.append(
            PlannedPatient(
                key=key,
                org=ORG_SLUG,
                program=current.program.key,
                mrn=f"RB-{mrn:06d}",
                first_name=first,
                last_name=last,
                preferred_name=preferred,
                date_of_birth=dob,
                sex=sex,
                phone=_phone(rng),
                email=f"{_email_local(first, last)}{rng.randint(1, 99)}@example.org",
                address=address,
                preferred_language=lang,
                emergency_contact=contact,
                guardian=guardian,
                windows=tuple(_windows_for(rng, current.program)),
            )
        )
    return people


def _attend(
    rng: random.Random, course: _Course, session: PlannedSession, now: dt.datetime, today: dt.date
) -> PlannedAttendance:
    base = dict(session=session.key, patient=course.patient, episode=course.key)
    if session.ends_at > now:
        return PlannedAttendance(
            **base,
            status=A.EXPECTED,
            minutes=None,
            checked_in_at=None,
            checked_out_at=None,
            recorded_at=None,
            recorded_by=None,
            note="",
        )  # type: ignore[arg-type]
    duration = int((session.ends_at - session.starts_at).total_seconds() // 60)
    day = session.starts_at.astimezone(DEMO_TZ).date()
    p_miss = 1 - course.reliability
    if course.outcome == "dropped" and course.discharged_on is not None:
        left = (course.discharged_on - day).days
        p_miss = 0.95 if left <= 10 else 0.5 if left <= 17 else p_miss
    if course.at_risk and day >= _week_start(today):
        p_miss = 1.0
    recorded_at = session.ends_at + dt.timedelta(minutes=rng.randint(3, 60))
    by = session.facilitators[0]
    u = rng.random()
    status, minutes, note = A.PRESENT, duration, ""
    checked_in: dt.datetime | None = session.starts_at - dt.timedelta(minutes=rng.randint(0, 12))
    checked_out: dt.datetime | None = session.ends_at
    if u < p_miss:
        excused = rng.random() < (0.15 if course.outcome == "dropped" else 0.4)
        status = A.EXCUSED if excused else A.ABSENT
        note = rng.choice(EXCUSES) if excused else rng.choice(("", "", "No call, no show"))
        minutes, checked_in, checked_out = 0, None, None
    elif u < p_miss + 0.05:
        late = rng.randint(5, 30) if duration > 60 else rng.randint(5, 12)
        status, minutes = A.LATE, duration - late
        checked_in = session.starts_at + dt.timedelta(minutes=late)
        note = rng.choice(("Bus was late", "Traffic", "", ""))
    elif u < p_miss + 0.08 and duration > 60:
        early = rng.randint(20, 60)
        status, minutes = A.LEFT_EARLY, duration - early
        checked_out = session.ends_at - dt.timedelta(minutes=early)
        note = rng.choice(("Childcare pickup", "Felt unwell", "Work call-in", ""))
    return PlannedAttendance(
        **base,
        status=status,
        minutes=minutes,
        checked_in_at=checked_in,  # type: ignore[arg-type]
        checked_out_at=checked_out,
        recorded_at=recorded_at,
        recorded_by=by,
        note=note,
    )


def _plan_individual(
    rng: random.Random,
    course: _Course,
    sessions: list[PlannedSession],
    attendance: list[PlannedAttendance],
    busy: _Busy,
    windows: Sequence[Window],
    closed: dict[dt.date, str],
    history_start: dt.date,
    horizon_end: dt.date,
    now: dt.datetime,
) -> None:
    """Individual therapy with the primary counselor (mostly weekly) and, for
    patients on MAT, a medication visit every other week."""
    program = course.program
    tz = zoneinfo.ZoneInfo(_site_tz(program.site))
    assert course.admitted_on is not None
    weekly = rng.random() < 0.85
    mat = course.mat
    first_week = _week_start(max(course.admitted_on, history_start))
    last_day = min(course.discharged_on or horizon_end, horizon_end)
    week, n = first_week, 0
    patient = f"p{course.patient}"
    counselor_office = f"Office {COUNSELORS.index(course.counselor) + 1}"
    while week <= last_day:
        wanted = []
        if weekly or n % 2 == 0:
            wanted.append(
                (
                    SessionKind.INDIVIDUAL,
                    50,
                    course.counselor,
                    INDIVIDUAL_SLOTS,
                    "Individual therapy",
                    counselor_office,
                )
            )
        if mat and n % 2 == 1:
            wanted.append(
                (
                    SessionKind.MEDICATION,
                    30,
                    "prescriber",
                    MEDICATION_SLOTS,
                    "Medication management",
                    "Exam Room",
                )
            )
        for kind, length, clinician, table, title, office in wanted:
            slots = list(table[program.key])
            rng.shuffle(slots)
            for weekday, at in slots:
                day = week + dt.timedelta(days=weekday)
                start = _minutes(at)
                if day > last_day or day in closed or not course.enrolled(day):
                    continue
                starts = local_datetime(day, at, tz)
                if course.outcome == "new" and starts <= now:
                    continue
                if not (
                    busy.free(clinician, day, start, start + length)
                    and busy.free(patient, day, start - 15, start + length + 15)
                ):
                    continue
                if any(
                    w[0] == weekday and start < _minutes(w[2]) and _minutes(w[1]) < start + length
                    for w in windows
                ):
                    continue
                busy.take(clinician, day, start, start + length)
                busy.take(patient, day, start, start + length)
                ends = starts + dt.timedelta(minutes=length)
                session = PlannedSession(
                    key=len(sessions),
                    program=program.key,
                    series=None,
                    kind=kind,
                    title=title,
                    starts_at=starts,
                    ends_at=ends,
                    room=None if program.is_virtual else (program.site, office),
                    is_virtual=program.is_virtual,
                    facilitators=(clinician,),
                    capacity=1,
                    status=_session_status(starts, ends, now, ""),
                    cancel_reason="",
                )
                sessions.append(session)
                attendance.append(_attend(rng, course, session, now, now.astimezone(tz).date()))
                break
        week += dt.timedelta(days=7)
        n += 1


def _freeze_episodes(
    courses: list[_Course],
    attendance: list[PlannedAttendance],
    sessions: list[PlannedSession],
    history_start: dt.date,
) -> list[PlannedEpisode]:
    first_seen: dict[int, dt.date] = {}
    for record in attendance:
        if record.status in AttendanceRecord.ATTENDED:
            day = sessions[record.session].starts_at.astimezone(DEMO_TZ).date()
            if record.episode not in first_seen or day < first_seen[record.episode]:
                first_seen[record.episode] = day
    out: list[PlannedEpisode] = []
    for c in courses:
        changes: list[PlannedChange] = []
        how = "transfer from Adult Day IOP" if c.transferred_from is not None else ""
        changes.append(PlannedChange("", S.WAITLISTED, c.referral_date, how, "intake"))
        status = S.WAITLISTED
        if c.admitted_on is not None:
            changes.append(PlannedChange(S.WAITLISTED, S.ADMITTED, c.admitted_on, "", "intake"))
            status = S.ADMITTED
            first = first_seen.get(c.key)
            if c.admitted_on < history_start:  # attended before the window: first group day
                first = _next_weekday(c.admitted_on, c.program.weekdays)
            if c.hold is not None and first is not None and first >= c.hold[0]:
                first = None
            if first is not None:
                changes.append(
                    PlannedChange(
                        S.ADMITTED, S.ACTIVE, first, "first session attended", c.counselor
                    )
                )
                status = S.ACTIVE
            if c.hold is not None:
                start, until, why = c.hold
                changes.append(PlannedChange(status, S.ON_HOLD, start, why, c.counselor))
                status = S.ON_HOLD
                if until is not None:
                    changes.append(
                        PlannedChange(S.ON_HOLD, S.ACTIVE, until, "returned", c.counselor)
                    )
                    status = S.ACTIVE
            if c.discharged_on is not None:
                assert c.discharge_reason is not None
                changes.append(
                    PlannedChange(
                        status,
                        S.DISCHARGED,
                        c.discharged_on,
                        TedsDischargeReason(c.discharge_reason).label,
                        c.counselor,
                    )
                )
                status = S.DISCHARGED
        out.append(
            PlannedEpisode(
                key=c.key,
                patient=c.patient,
                program=c.program.key,
                status=status,
                referral_date=c.referral_date,
                referral_source=c.source,
                admitted_on=c.admitted_on,
                discharged_on=c.discharged_on,
                primary_substance=c.substance,
                secondary_substance=c.secondary,
                mat=c.mat,
                discharge_reason=c.discharge_reason,
                discharge_note=c.discharge_note,
                counselor=c.counselor or c.program.pool[0],
                transferred_from=c.transferred_from,
                changes=tuple(changes),
            )
        )
    return out


def _next_weekday(day: dt.date, weekdays: Sequence[int]) -> dt.date:
    while day.weekday() not in weekdays:
        day += DAY
    return day


# ---------------------------------------------------------------------------------------------
# Writing a plan
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoResult:
    organization: Organization
    other_organization: Organization
    today: dt.date
    now: dt.datetime
    counts: dict[str, int]
    logins: list[tuple[str, str, str]]


def default_now(today: dt.date) -> dt.datetime:
    """The real time when ``today`` is today; otherwise half past noon that day (Eastern), so a
    demo built for another day has its morning groups recorded and its evening ones ahead."""
    if today == timezone.localdate(timezone=DEMO_TZ):
        return timezone.now()
    return local_datetime(today, dt.time(12, 30), DEMO_TZ)


def database_has_data() -> bool:
    """True when the demo must not run: any organization, or a user with a demo user name."""
    names = [s.username for s in (*STAFF, OUTSIDER)]
    return Organization.objects.exists() or User.objects.filter(username__in=names).exists()


def build_demo(
    *,
    seed: int,
    patients: int,
    weeks: int,
    today: dt.date,
    progress: Callable[[int], None] | None = None,
    now: dt.datetime | None = None,
) -> DemoResult:
    """Plan and write the demo clinic in one transaction; ``progress(n)`` is called as steps
    finish (``progress_total(patients)`` steps in all)."""
    step = progress or (lambda n: None)
    now = now or default_now(today)
    plan = plan_demo(seed=seed, patients=patients, weeks=weeks, today=today, now=now)
    with transaction.atomic():
        return _write(plan, step)


def _write(plan: DemoPlan, step: Callable[[int], None]) -> DemoResult:
    org = Organization.objects.create(name=ORG_NAME, slug=ORG_SLUG)
    other = Organization.objects.create(name=OTHER_ORG_NAME, slug=OTHER_ORG_SLUG)

    # Staff, with one password hash reused (argon2 is deliberately slow).
    groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}
    password = make_password(DEMO_PASSWORD)
    npis = dict(plan.npis)
    specs = (*STAFF, OUTSIDER)
    users = User.objects.bulk_create(
        [
            User(
                username=s.username,
                first_name=s.first_name,
                last_name=s.last_name,
                email=f"{s.username}@{OTHER_ORG_SLUG if s is OUTSIDER else ORG_SLUG}.example.org",
                password=password,
                organization=other if s is OUTSIDER else org,
                credential=s.credential,
                npi=npis.get(s.username, ""),
                is_staff=s.superuser,
                is_superuser=s.superuser,
            )
            for s in specs
        ]
    )
    staff = {u.username: u for u in users}
    User.groups.through.objects.bulk_create(
        [
            User.groups.through(user_id=staff[s.username].pk, group_id=groups[s.role].pk)
            for s in specs
        ]
    )

    # Sites, rooms, programs.
    sites = {
        s.key: Site.objects.create(
            organization=org, name=s.name, kind=s.kind, timezone=_site_tz(s.key), address=s.address
        )
        for s in SITES
    }
    rooms = {
        (site_key, name): room
        for (site_key, name, _), room in zip(
            plan.rooms,
            Room.objects.bulk_create(
                [
                    Room(organization=org, site=sites[k], name=n, capacity=c)
                    for k, n, c in plan.rooms
                ]
            ),
            strict=True,
        )
    }
    programs: dict[str, Program] = {}
    for spec in PROGRAMS:
        fields = {**PROGRAM_DEFAULTS[spec.defaults], "typical_session_minutes": spec.minutes}
        programs[spec.key] = Program.objects.create(
            organization=org,
            site=sites[spec.site],
            name=spec.name,
            level_of_care="2.1",
            population=spec.population,
            modality=spec.modality,
            cohort=spec.cohort,
            group_size_cap=spec.group_cap,
            **fields,
        )
    _write_other_org(other, plan, staff[OUTSIDER.username])
    step(1)

    # Sessions.
    series = dict(
        zip(
            [s.key for s in plan.series],
            SessionSeries.objects.bulk_create(
                [
                    SessionSeries(
                        organization=org,
                        program=programs[s.program],
                        kind=SessionKind.GROUP,
                        title=s.title,
                        weekdays=",".join(map(str, s.weekdays)),
                        start_time=s.start_time,
                        duration_minutes=s.minutes,
                        room=rooms[s.room] if s.room else None,
                        is_virtual=s.room is None,
                        capacity=s.capacity,
                        start_date=s.start_date,
                        end_date=s.end_date,
                    )
                    for s in plan.series
                ]
            ),
            strict=True,
        )
    )
    SessionSeries.facilitators.through.objects.bulk_create(
        [
            SessionSeries.facilitators.through(
                sessionseries_id=series[s.key].pk, user_id=staff[u].pk
            )
            for s in plan.series
            for u in s.facilitators
        ]
    )
    sessions = Session.objects.bulk_create(
        [
            Session(
                organization=org,
                program=programs[s.program],
                series=series[s.series] if s.series is not None else None,
                kind=s.kind,
                title=s.title,
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                room=rooms[s.room] if s.room else None,
                is_virtual=s.is_virtual,
                capacity=s.capacity,
                status=s.status,
                cancel_reason=s.cancel_reason,
            )
            for s in plan.sessions
        ],
        batch_size=500,
    )
    Session.facilitators.through.objects.bulk_create(
        [
            Session.facilitators.through(session_id=sessions[s.key].pk, user_id=staff[u].pk)
            for s in plan.sessions
            for u in s.facilitators
        ],
        batch_size=1000,
    )

    # Patients and their episodes, then one patient at a time: everything else of theirs.
    patient_rows = Patient.objects.bulk_create([_patient(org, p) for p in plan.patients])
    index_patients(patient_rows, new=True)
    patients = {p.key: row for p, row in zip(plan.patients, patient_rows, strict=True)}
    episodes: dict[int, Episode] = {}
    for first_pass in (True, False):
        todo = [e for e in plan.episodes if (e.transferred_from is None) == first_pass]
        rows = Episode.objects.bulk_create(
            [
                Episode(
                    organization=org,
                    patient=patients[e.patient],
                    program=programs[e.program],
                    status=e.status,
                    referral_date=e.referral_date,
                    referral_source=e.referral_source,
                    admitted_on=e.admitted_on,
                    discharged_on=e.discharged_on,
                    primary_substance=e.primary_substance,
                    secondary_substance=e.secondary_substance,
                    mat=e.mat,
                    discharge_reason=e.discharge_reason,
                    discharge_note=e.discharge_note,
                    primary_counselor=staff[e.counselor],
                    transferred_from=episodes[e.transferred_from]
                    if e.transferred_from is not None
                    else None,
                )
                for e in todo
            ]
        )
        episodes.update({e.key: row for e, row in zip(todo, rows, strict=True)})
    step(1)

    by_patient: dict[int, list[PlannedAttendance]] = defaultdict(list)
    for a in plan.attendance:
        by_patient[a.patient].append(a)
    episodes_of: dict[int, list[PlannedEpisode]] = defaultdict(list)
    for e in plan.episodes:
        episodes_of[e.patient].append(e)
    for p in plan.patients:
        row = patients[p.key]
        if p.guardian is not None:
            name, relationship, phone, email = p.guardian
            Guardian.objects.create(
                organization=org,
                patient=row,
                name=name,
                relationship=relationship,
                phone=phone,
                email=email,
            )
        UnavailableWindow.objects.bulk_create(
            [
                UnavailableWindow(
                    organization=org,
                    patient=row,
                    weekday=w[0],
                    start_time=w[1],
                    end_time=w[2],
                    kind=w[3],
                    note=w[4],
                )
                for w in p.windows
            ]
        )
        EpisodeStatusChange.objects.bulk_create(
            [
                EpisodeStatusChange(
                    organization=org,
                    episode=episodes[e.key],
                    from_status=c.from_status,
                    to_status=c.to_status,
                    effective_on=c.effective_on,
                    changed_by=staff[c.by],
                    reason=c.reason,
                )
                for e in episodes_of[p.key]
                for c in e.changes
            ]
        )
        AttendanceRecord.objects.bulk_create(
            [
                AttendanceRecord(
                    organization=org,
                    session=sessions[a.session],
                    patient=row,
                    episode=episodes[a.episode],
                    status=a.status,
                    minutes_attended=a.minutes,
                    checked_in_at=a.checked_in_at,
                    checked_out_at=a.checked_out_at,
                    recorded_at=a.recorded_at,
                    recorded_by=staff[a.recorded_by] if a.recorded_by else None,
                    note=a.note,
                )
                for a in by_patient[p.key]
            ]
        )
        step(1)

    from openiop.placement.demo import add_intake_history
    from openiop.scheduling.demo_setup import add_schedule_setup

    add_schedule_setup(organization=org, staff=staff)

    referrals = add_intake_history(organization=org, seed=plan.seed, now=plan.now, staff=staff)
    _add_clinical_record(org, plan, staff)
    _add_portal_logins(org, staff)
    step(1)
    audit_log(
        actor=None,
        action="openiop.organizations.demo.create",
        category=AuditEvent.Category.ADMINISTRATIVE,
        organization=org,
        detail={
            "seed": plan.seed,
            "patients": len(plan.patients),
            "weeks": _weeks(plan),
            "today": plan.today.isoformat(),
        },
    )
    counts = {
        "patients": len(plan.patients),
        "episodes": len(plan.episodes),
        "sessions": len(plan.sessions),
        "attendance": len(plan.attendance),
        "referrals": referrals,
        "staff": len(STAFF),
    }
    return DemoResult(
        organization=org,
        other_organization=other,
        today=plan.today,
        now=plan.now,
        counts=counts,
        logins=logins(),
    )


def _add_portal_logins(org: Organization, staff: dict[str, User]) -> None:
    """Portal log-ins `patient` (an adult active in the Virtual IOP) and `guardian` (the parent
    of an active adolescent), made through the same invitation path staff use."""
    from openiop.portal import services as portal_services

    episodes = Episode.objects.for_org(org.pk)
    active = episodes.exclude(status__in=[Episode.Status.DISCHARGED, Episode.Status.WAITLISTED])
    adult = (
        active.filter(program__modality=Program.Modality.VIRTUAL)
        .select_related("patient").order_by("patient__last_name").first()
    )  # fmt: skip
    teens = episodes.filter(
        program__population=Program.Population.ADOLESCENT, patient__guardians__isnull=False
    ).select_related("patient")
    teen = (
        teens.filter(pk__in=active.values("pk")).order_by("patient__last_name").first()
        or teens.order_by("-admitted_on").first()
    )
    inviter = staff["intake"]
    for username, episode in (("patient", adult), ("guardian", teen)):
        if episode is None:
            continue
        guardian = (
            episode.patient.guardians.order_by("id").first() if username == "guardian" else None
        )
        _, token = portal_services.invitation_create(
            actor=inviter, patient=episode.patient, guardian=guardian
        )
        invitation = portal_services.invitation_for_token(token)
        assert invitation is not None
        portal_services.invitation_accept(
            invitation=invitation, username=username, password=DEMO_PASSWORD
        )
        if username == "patient":
            # A release to the patient's primary care doctor, waiting for their signature.
            portal_services.consent_request_create(
                actor=inviter, patient=episode.patient,
                terms={
                    "kind": "named", "disclosing_party": org.name,
                    "recipient_name": "Dr. Priya Raman",
                    "recipient_organization": "Lakeview Family Medicine",
                    "purpose": "treatment",
                    "categories": ["attendance", "medications", "treatment_plan"],
                    "expiry_event": "end of treatment",
                },
            )  # fmt: skip


def _add_clinical_record(org: Organization, plan: DemoPlan, staff: dict[str, User]) -> None:
    """Plans and reviews, questionnaires, notes and group notes, medications and screens,
    authorizations and discharge summaries: each app seeds its own part from the episodes
    and sessions written above, with its own seeded random stream."""
    from openiop.billing.demo import seed_authorizations
    from openiop.clinical.demo_discharge import seed_discharge_summaries
    from openiop.clinical.demo_group_notes import seed_group_notes
    from openiop.clinical.demo_notes import seed_notes
    from openiop.clinical.demo_plans import seed_plans
    from openiop.consent.demo import seed_consents
    from openiop.medications.demo import seed_medication_history
    from openiop.questionnaires.demo import seed_questionnaire_history

    episodes = list(
        Episode.objects.for_org(org.pk).select_related(
            "patient", "program__site", "primary_counselor"
        )
    )
    seed_plans(
        organization=org, episodes=episodes, rng=random.Random(plan.seed * 7919 + 11),
        today=plan.today,
    )  # fmt: skip
    seed_questionnaire_history(
        organization=org, episodes=episodes, rng=random.Random(plan.seed + 6), today=plan.today
    )
    counselors = [staff[s.username] for s in STAFF if s.role == Role.COUNSELOR]
    seed_group_notes(
        organization=org, sessions=Session.objects.for_org(org.pk), counselors=counselors,
        rng=random.Random(plan.seed + 505), today=plan.today,
    )  # fmt: skip
    seed_notes(
        organization=org, episodes=episodes, counselors=[staff[name] for name in COUNSELORS],
        rng=random.Random(plan.seed * 7919 + 5), today=plan.today,
    )  # fmt: skip
    seed_medication_history(
        organization=org, episodes=episodes, prescriber=staff["prescriber"],
        rng=random.Random(plan.seed * 1000 + 6), today=plan.today,
    )  # fmt: skip
    seed_authorizations(
        organization=org, episodes=episodes, rng=random.Random(plan.seed * 31 + 5),
        today=plan.today,
    )  # fmt: skip
    seed_discharge_summaries(
        organization=org, episodes=episodes, rng=random.Random(plan.seed * 37 + 11),
        today=plan.today,
    )  # fmt: skip
    seed_consents(
        organization=org, episodes=episodes, staff=staff, rng=random.Random(plan.seed * 41 + 3),
        today=plan.today,
    )  # fmt: skip
    from openiop.billing.demo import seed_billing

    seed_billing(
        organization=org, episodes=episodes, staff=staff, rng=random.Random(plan.seed * 43 + 7),
        today=plan.today,
    )  # fmt: skip
    # Last: aftercare plans and follow-ups for every discharge, and an alumni cohort discharged
    # 7-16 months ago whose 6-month outcomes the outcome report shows (no other seeder sees it).
    from openiop.aftercare.demo import seed_aftercare

    seed_aftercare(
        organization=org, episodes=episodes, staff=staff,
        rng=random.Random(plan.seed * 47 + 13), today=plan.today,
    )  # fmt: skip


def _weeks(plan: DemoPlan) -> int:
    return (_week_start(plan.today) - plan.history_start).days // 7


def _patient(org: Organization, p: PlannedPatient) -> Patient:
    contact_name, contact_phone, contact_rel = p.emergency_contact
    return Patient(
        organization=org,
        mrn=p.mrn,
        first_name=p.first_name,
        last_name=p.last_name,
        preferred_name=p.preferred_name,
        date_of_birth=p.date_of_birth,
        sex=p.sex,
        phone=p.phone,
        email=p.email,
        address=p.address,
        preferred_language=p.preferred_language,
        emergency_contact_name=contact_name,
        emergency_contact_phone=contact_phone,
        emergency_contact_relationship=contact_rel,
    )


LAKESIDE_PATIENTS = (
    ("LB-004417", "Brianna", "Kowalczyk", dt.date(1991, 3, 14), Patient.Sex.FEMALE, 2, 30),
    ("LB-004431", "Terrell", "Hughes", dt.date(1984, 9, 2), Patient.Sex.MALE, 7, 12),
    ("LB-004452", "Ana", "Benítez", dt.date(1997, 6, 21), Patient.Sex.FEMALE, 10, 5),
)  # mrn, first, last, dob, sex, TEDS substance, admitted days ago


def _write_other_org(other: Organization, plan: DemoPlan, outsider: User) -> None:
    """Lakeside: another tenant, so every page can be checked for leaks across organizations."""
    site = Site.objects.create(
        organization=other,
        name="Lakeside Main",
        timezone="America/Chicago",
        address="1200 Shore Drive, Lakeside, WI 53001",
    )
    program = Program.objects.create(
        organization=other,
        site=site,
        name="Adult IOP",
        cohort=Program.Cohort.EVENING,
        **PROGRAM_DEFAULTS["adult"],
    )
    for mrn, first, last, dob, sex, substance, ago in LAKESIDE_PATIENTS:
        patient = Patient.objects.create(
            organization=other,
            mrn=mrn,
            first_name=first,
            last_name=last,
            date_of_birth=dob,
            sex=sex,
            phone="(414) 555-0142",
            preferred_language="English",
        )
        admitted = plan.today - dt.timedelta(days=ago)
        episode = Episode.objects.create(
            organization=other,
            patient=patient,
            program=program,
            status=S.ACTIVE,
            referral_date=admitted - dt.timedelta(days=4),
            admitted_on=admitted,
            primary_substance=substance,
            primary_counselor=outsider,
        )
        EpisodeStatusChange.objects.bulk_create(
            [
                EpisodeStatusChange(
                    organization=other,
                    episode=episode,
                    from_status=f,
                    to_status=t,
                    effective_on=d,
                    changed_by=outsider,
                )
                for f, t, d in (
                    ("", S.WAITLISTED, admitted - dt.timedelta(days=4)),
                    (S.WAITLISTED, S.ADMITTED, admitted),
                    (S.ADMITTED, S.ACTIVE, admitted + dt.timedelta(days=1)),
                )
            ]
        )
