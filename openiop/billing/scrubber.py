"""Claim scrubber: what blocks each charge line before a claim is built. Pure, no Django.

:func:`scrub` takes the lines from :func:`openiop.billing.charge_rules.charge_lines` plus the
patient's coverage, authorizations and (Medicare) certifications, and returns one
:class:`LineReport` per line, in the same order, with every problem found. The line's own
problems from charge capture (note not signed, group over the cap, no fee) are repeated so a
screen needs only the report; they are also re-checked from the line's facts, so a line built
elsewhere is held to the same rules.

Checks, each with a stable ``code``:

* ``note_unsigned``: a source service's note is not signed;
* ``hours_short``: a per-diem line stands for fewer minutes than the payer's day minimum;
* ``group_over_cap``: a source group was larger than the payer's ``max_group_size``;
* ``drug_screen_duplicate``: a second presumptive drug screen line on the same date;
* ``not_iop_day``: Medicare IOP, fewer lines on a date than the per-day minimum (3): scrub all
  of a day's lines together;
* ``coverage_missing`` / ``coverage_not_started`` / ``coverage_expired`` /
  ``coverage_inactive``: no coverage in force on the service date; ``member_id_missing``;
  ``self_pay``: the patient pays, no claim line;
* ``auth_missing`` / ``auth_code_mismatch`` / ``auth_level_mismatch`` / ``auth_exhausted``:
  for codes in ``rules.authorization_required_for``;
* ``certification_missing`` / ``recertification_overdue``: when
  ``rules.certification_required`` (Medicare IOP);
* ``future_date``: the service date is after ``today``.

Authorization units are consumed by the lines in date order, starting from
``AuthorizationFacts.used_before``: the units already used inside the authorization by
services that are NOT among the lines being scrubbed (for a claim week, the units used before
that week). Days count once per date, sessions once per source service, hours as minutes / 60.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from openiop.billing.charge_rules import (
    BillingModel,
    ChargeLine,
    PayerRules,
    Problem,
    format_hours,
)

__all__ = [
    "AuthorizationFacts",
    "CertificationFacts",
    "Coverage",
    "LineReport",
    "PayerKind",
    "Relationship",
    "UnitKind",
    "add_months",
    "reports_by_day",
    "scrub",
]


class PayerKind(StrEnum):
    COMMERCIAL = "commercial"
    MEDICAID = "medicaid"
    MEDICARE = "medicare"
    SELF_PAY = "self_pay"
    OTHER = "other"


class Relationship(StrEnum):
    """Patient's relationship to the subscriber."""

    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    OTHER = "other"


class UnitKind(StrEnum):
    DAYS = "days"
    SESSIONS = "sessions"
    HOURS = "hours"


@dataclass(frozen=True, slots=True)
class Coverage:
    """A patient's coverage by one payer. ``terminates_on`` is the last covered day
    (inclusive); ``None`` dates are open-ended. ``active=False`` means the payer reports it
    inactive (failed eligibility check, cancelled) even inside its dates. ``priority`` 1 is
    primary, 2 secondary..."""

    coverage_id: str
    payer_kind: PayerKind
    payer_name: str
    member_id: str
    group_number: str = ""
    subscriber_relationship: Relationship = Relationship.SELF
    priority: int = 1
    effective_on: dt.date | None = None
    terminates_on: dt.date | None = None
    active: bool = True
    copay: Decimal | None = None
    coinsurance_percent: Decimal | None = None
    deductible: Decimal | None = None

    def in_dates(self, day: dt.date) -> bool:
        return (self.effective_on is None or self.effective_on <= day) and (
            self.terminates_on is None or day <= self.terminates_on
        )


@dataclass(frozen=True, slots=True)
class AuthorizationFacts:
    """A payer authorization. ``used_before``: units already used inside it by services not
    among the lines being scrubbed (see the module docstring)."""

    authorization_id: str
    code: str
    units_authorized: Decimal
    unit_kind: UnitKind
    start_on: dt.date
    end_on: dt.date
    used_before: Decimal = Decimal(0)
    level_of_care: str = ""
    number: str = ""
    active: bool = True

    def covers(self, day: dt.date) -> bool:
        return self.active and self.start_on <= day <= self.end_on

    @property
    def name(self) -> str:
        return f"authorization {self.number}" if self.number else "the authorization"


@dataclass(frozen=True, slots=True)
class CertificationFacts:
    """A physician's (re)certification that the patient needs IOP, signed on ``signed_on``."""

    signed_on: dt.date
    recertification: bool = False
    certification_id: str = ""


@dataclass(frozen=True, slots=True)
class LineReport:
    line: ChargeLine
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]

    @property
    def blocked(self) -> bool:
        return bool(self.problems)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved ``months`` calendar months, clamped to the end of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def _units_text(value: Decimal, kind: UnitKind) -> str:
    return f"{format(value.quantize(Decimal('0.01')).normalize(), 'f')} {kind.value}"


# --- the checks --------------------------------------------------------------------------------


def _line_checks(line: ChargeLine, rules: PayerRules, today: dt.date) -> list[Problem]:
    out: list[Problem] = []
    if line.unsigned_service_ids:
        out.append(
            Problem(
                "note_unsigned",
                f"Note not signed ({len(line.unsigned_service_ids)} service(s)); sign it "
                "before this line can be claimed.",
            )
        )
    if (
        rules.billing_model == BillingModel.PER_DIEM
        and line.code in rules.all_per_diem_codes
        and line.minutes < rules.per_diem_min_minutes
    ):
        out.append(
            Problem(
                "hours_short",
                f"Day short: {format_hours(line.minutes)} of "
                f"{format_hours(rules.per_diem_min_minutes)} minimum for {line.code}.",
            )
        )
    if (
        rules.max_group_size is not None
        and line.largest_group is not None
        and line.largest_group > rules.max_group_size
    ):
        out.append(
            Problem(
                "group_over_cap",
                f"Group had {line.largest_group} members; {rules.name} allows at most "
                f"{rules.max_group_size}.",
            )
        )
    if line.service_date > today:
        out.append(
            Problem("future_date", f"Service date {line.service_date} is after today ({today}).")
        )
    return out


def _coverage_check(
    day: dt.date, coverages: Sequence[Coverage]
) -> tuple[Coverage | None, Problem | None]:
    """The coverage that pays on ``day`` (lowest priority number in force), or the problem."""
    if not coverages:
        return None, Problem(
            "coverage_missing", "No coverage on file: add the patient's insurance or self-pay."
        )
    in_force = sorted(
        (c for c in coverages if c.active and c.in_dates(day)), key=lambda c: c.priority
    )
    if in_force:
        chosen = in_force[0]
        if chosen.payer_kind == PayerKind.SELF_PAY:
            return chosen, Problem(
                "self_pay", f"The patient is self-pay on {day}: no claim line to send."
            )
        if not chosen.member_id.strip():
            return chosen, Problem(
                "member_id_missing",
                f"Member id missing for the {chosen.payer_name} coverage: add it before "
                "the claim is built.",
            )
        return chosen, None
    inactive = [c for c in coverages if not c.active and c.in_dates(day)]
    if inactive:
        return None, Problem(
            "coverage_inactive",
            f"The {inactive[0].payer_name} coverage is marked inactive; verify eligibility "
            f"for {day}.",
        )
    ended = [c for c in coverages if c.terminates_on is not None and c.terminates_on < day]
    if ended:
        last = max(ended, key=lambda c: c.terminates_on or day)
        return None, Problem(
            "coverage_expired",
            f"Coverage expired: {last.payer_name} ended {last.terminates_on}; service on {day}.",
        )
    later = [c for c in coverages if c.effective_on is not None and c.effective_on > day]
    first = min(later or list(coverages), key=lambda c: c.effective_on or day)
    return None, Problem(
        "coverage_not_started",
        f"Coverage not yet in force: {first.payer_name} starts {first.effective_on}; "
        f"service on {day}.",
    )


def _certification_check(
    day: dt.date, certifications: Sequence[CertificationFacts], rules: PayerRules
) -> Problem | None:
    before = [c for c in certifications if c.signed_on <= day]
    if not before:
        return Problem(
            "certification_missing",
            f"No physician certification signed on or before {day}: Medicare IOP needs one.",
        )
    last = max(before, key=lambda c: c.signed_on)
    if rules.recertification_unit == "months":
        due = add_months(last.signed_on, rules.recertification_interval)
    else:
        due = last.signed_on + dt.timedelta(days=rules.recertification_interval)
    if day > due:
        return Problem(
            "recertification_overdue",
            f"Recertification overdue: last certified {last.signed_on}, recertification was "
            f"due by {due}; service on {day}.",
        )
    return None


def _line_units(line: ChargeLine, kind: UnitKind) -> Decimal:
    if kind == UnitKind.SESSIONS:
        return Decimal(max(1, len(line.source_service_ids)))
    if kind == UnitKind.HOURS:
        return Decimal(line.minutes) / Decimal(60)
    return Decimal(1)  # days: callers make a second line on the same date free


class _AuthLedger:
    """Consumes authorization units line by line, in date order."""

    def __init__(self, auths: Sequence[AuthorizationFacts]) -> None:
        self.auths = sorted(auths, key=lambda a: (a.start_on, a.authorization_id))
        self.used = {a.authorization_id: a.used_before for a in self.auths}
        self.days: dict[str, set[dt.date]] = defaultdict(set)

    def check(self, line: ChargeLine, level_of_care: str | None) -> Problem | None:
        day = line.service_date
        for_code = [a for a in self.auths if a.code == line.code]
        covering = [a for a in for_code if a.covers(day)]
        if not covering:
            other = [a for a in self.auths if a.covers(day)]
            if other:
                return Problem(
                    "auth_code_mismatch",
                    f"No authorization for {line.code} on {day}: {other[0].name} is for "
                    f"{other[0].code}.",
                )
            if for_code:
                spans = "; ".join(
                    f"{a.name} {a.start_on} to {a.end_on}" + ("" if a.active else " (not active)")
                    for a in for_code
                )
                return Problem(
                    "auth_missing",
                    f"No authorization for {line.code} covers {day} ({spans}).",
                )
            return Problem(
                "auth_missing",
                f"No authorization on file for {line.code}; request one from the payer.",
            )
        if level_of_care:
            matching = [
                a for a in covering if not a.level_of_care or a.level_of_care == level_of_care
            ]
            if not matching:
                return Problem(
                    "auth_level_mismatch",
                    f"{covering[0].name.capitalize()} is for level of care "
                    f"{covering[0].level_of_care}, the patient is at {level_of_care}.",
                )
            covering = matching
        for auth in covering:
            if auth.unit_kind == UnitKind.DAYS and day in self.days[auth.authorization_id]:
                return None  # this date is already counted against it
            need = _line_units(line, auth.unit_kind)
            if self.used[auth.authorization_id] + need <= auth.units_authorized:
                self.used[auth.authorization_id] += need
                self.days[auth.authorization_id].add(day)
                return None
        last_full = covering[-1]
        return Problem(
            "auth_exhausted",
            f"Authorization used up: {last_full.name} allows "
            f"{_units_text(last_full.units_authorized, last_full.unit_kind)} and "
            f"{_units_text(self.used[last_full.authorization_id], last_full.unit_kind)} are "
            f"already used before {day}; request more units.",
        )


def _merge(own: Iterable[Problem], found: Iterable[Problem]) -> tuple[Problem, ...]:
    """The line's own problems, then the scrubber's for codes the line does not already carry
    (charge capture words them more precisely, e.g. naming the unsigned session)."""
    out = list(own)
    seen = {p.code for p in out}
    for p in found:
        if p.code not in seen:
            seen.add(p.code)
            out.append(p)
    return tuple(out)


def scrub(
    lines: Sequence[ChargeLine],
    *,
    rules: PayerRules,
    coverages: Sequence[Coverage],
    authorizations: Sequence[AuthorizationFacts],
    certifications: Sequence[CertificationFacts],
    today: dt.date,
    level_of_care: str | None = None,
) -> list[LineReport]:
    """Every problem of every line, as :class:`LineReport` in the order of ``lines``.

    ``coverages`` are the patient's coverages for the payer being billed (or all of them: the
    lowest ``priority`` in force on each date is used). ``level_of_care`` (e.g. "2.1"), when
    given, must match an authorization's level (an authorization without a level matches any).
    """
    order = sorted(range(len(lines)), key=lambda i: (lines[i].service_date, i))
    ledger = _AuthLedger(authorizations)
    screen_codes = frozenset(rules.drug_screen_codes.values())
    screen_days: set[dt.date] = set()
    lines_per_day: dict[dt.date, int] = defaultdict(int)
    for ln in lines:
        lines_per_day[ln.service_date] += 1
    found: dict[int, list[Problem]] = {}
    for i in order:
        line = lines[i]
        problems = _line_checks(line, rules, today)
        if line.code in screen_codes:
            if line.service_date in screen_days:
                problems.append(
                    Problem(
                        "drug_screen_duplicate",
                        f"Another presumptive drug screen is billed on {line.service_date}; "
                        "only one is paid per date of service.",
                    )
                )
            screen_days.add(line.service_date)
        if (
            rules.billing_model == BillingModel.MEDICARE_IOP
            and lines_per_day[line.service_date] < rules.medicare_min_services_per_day
        ):
            problems.append(
                Problem(
                    "not_iop_day",
                    f"Only {lines_per_day[line.service_date]} IOP service line(s) on "
                    f"{line.service_date}; {rules.name} pays a day with at least "
                    f"{rules.medicare_min_services_per_day}.",
                )
            )
        coverage, coverage_problem = _coverage_check(line.service_date, coverages)
        if coverage_problem is not None:
            problems.append(coverage_problem)
        self_pay = coverage is not None and coverage.payer_kind == PayerKind.SELF_PAY
        if line.code in rules.authorization_required_for and not self_pay:
            auth_problem = ledger.check(line, level_of_care)
            if auth_problem is not None:
                problems.append(auth_problem)
        if rules.certification_required:
            cert_problem = _certification_check(line.service_date, certifications, rules)
            if cert_problem is not None:
                problems.append(cert_problem)
        found[i] = problems
    return [
        LineReport(
            line=lines[i],
            problems=_merge(lines[i].blocks, found[i]),
            warnings=lines[i].warnings,
        )
        for i in range(len(lines))
    ]


def reports_by_day(reports: Iterable[LineReport]) -> dict[dt.date, list[LineReport]]:
    """Reports grouped by service date, dates ascending: the billing screen's per-day view."""
    out: dict[dt.date, list[LineReport]] = defaultdict(list)
    for r in reports:
        out[r.line.service_date].append(r)
    return dict(sorted(out.items()))
