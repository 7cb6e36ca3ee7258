"""Charge capture: a patient's attended, documented services -> claim lines. Pure, no Django.

Every threshold, code and price is data on :class:`PayerRules`; the defaults come from
``reference/domain.md`` §2-§3 and ``docs/billing-rules.md`` explains each one for billing staff.
No AMA CPT descriptor text appears here: labels are short neutral wording of our own.

The caller (a selector) turns attendance rows and notes into :class:`Service` facts for ONE
patient, one payer and one program, and calls :func:`charge_lines`. Three billing models:

* ``per_diem`` (Medicaid / commercial IOP, e.g. H0015 SUD, S9480 psychiatric): one unit per
  qualifying day. A day qualifies with at least ``per_diem_min_minutes`` (default 180) of
  counted services; a week (Monday to Sunday of the service date, the same week the attendance
  compliance uses) pays only when it has at least ``per_diem_min_days_per_week`` (default 3)
  qualifying days. Services in the day are bundled into the per diem unless their kind is in
  ``per_diem_unbundled_kinds`` (e.g. medication management by a prescriber), in which case they
  get their own per-service line and their minutes do not count toward the day.
* ``per_service``: one line per service, coded by duration band (psychotherapy 16-37 / 38-52 /
  53+ minutes, family 26+, E/M by 2024 minimum minutes 10 / 20 / 30 / 40, group per session,
  one presumptive drug screen per date of service).
* ``medicare_iop`` (institutional, condition code 92): one line per qualifying service with a
  revenue code and HCPCS; a day is an IOP day only with at least 3 such services, and each line
  carries the day's payment category (``3_services`` or ``4_plus_services``, the higher APC).

A week is judged from the services passed in, so pass every service of each week you bill (a
claim range that cuts a week in two would otherwise undercount it): :func:`week_start` helps.

Nothing is dropped silently: every service ends up either in exactly one line's
``source_service_ids`` or in a :class:`Skipped` entry that says, in plain words, why it is not
billed (day short, week short, below the shortest band, second drug screen that day...). A line
whose note is not signed is still produced, so the billing screen can show it, but it carries a
``note_unsigned`` block: no claim line leaves without a signed note.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

__all__ = [
    "Band",
    "BillingModel",
    "ChargeLine",
    "ChargeResult",
    "ClaimType",
    "Modality",
    "PayerRules",
    "Problem",
    "ProgramKind",
    "ScreenMethod",
    "Service",
    "ServiceKind",
    "Skipped",
    "charge_lines",
    "format_hours",
    "medicare_iop_rules",
    "per_diem_rules",
    "per_service_rules",
    "week_start",
]

CENT = Decimal("0.01")
# The X12 837 SV1/SV2 procedure composite carries at most four modifiers.
MAX_MODIFIERS = 4


class ProgramKind(StrEnum):
    SUD_IOP = "sud_iop"  # substance use IOP (H0015 / revenue code 0906 by default)
    PSYCH_IOP = "psych_iop"  # psychiatric IOP (S9480 / revenue code 0905 by default)


class BillingModel(StrEnum):
    PER_DIEM = "per_diem"
    PER_SERVICE = "per_service"
    MEDICARE_IOP = "medicare_iop"


class ClaimType(StrEnum):
    PROFESSIONAL = "professional"  # 837P / CMS-1500: CPT/HCPCS with place of service
    INSTITUTIONAL = "institutional"  # 837I / UB-04: revenue code + HCPCS


class ServiceKind(StrEnum):
    GROUP = "group"
    INDIVIDUAL = "individual"
    FAMILY_WITH_PATIENT = "family_with_patient"
    FAMILY_WITHOUT_PATIENT = "family_without_patient"
    MULTI_FAMILY_GROUP = "multi_family_group"
    MEDICATION_MANAGEMENT = "medication_management"
    DRUG_SCREEN_PRESUMPTIVE = "drug_screen_presumptive"
    ASSESSMENT = "assessment"
    PSYCHOEDUCATION = "psychoeducation"


class Modality(StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"
    AUDIO_ONLY = "audio_only"


class ScreenMethod(StrEnum):
    """How a presumptive drug screen was read (the code depends on it, domain.md §3.3)."""

    DIRECT_OPTICAL = "direct_optical"  # cups, dipsticks, cards read by eye
    INSTRUMENT_ASSISTED = "instrument_assisted"  # a reader instrument
    ANALYZER = "analyzer"  # instrumented chemistry analyzer (immunoassay...)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that blocks (or, with ``blocking=False``, only warns about) a claim line.

    ``code`` is stable (screens and tests match on it); ``message`` is a sentence for billing
    staff saying what is wrong and, where possible, what to do.
    """

    code: str
    message: str
    blocking: bool = True


@dataclass(frozen=True, slots=True)
class Band:
    """A code chosen by minutes: ``min_minutes <= minutes <= max_minutes`` (``None``: no top)."""

    code: str
    min_minutes: int
    max_minutes: int | None = None
    label: str = ""

    def contains(self, minutes: int) -> bool:
        return minutes >= self.min_minutes and (
            self.max_minutes is None or minutes <= self.max_minutes
        )


def _default_bands() -> dict[ServiceKind, tuple[Band, ...]]:
    # domain.md §3.2 (APA time bands [V]; E/M 2024 minimum minutes [S]). Group: per session.
    return {
        ServiceKind.INDIVIDUAL: (
            Band("90832", 16, 37, "Psychotherapy 30 min band"),
            Band("90834", 38, 52, "Psychotherapy 45 min band"),
            Band("90837", 53, None, "Psychotherapy 60 min band"),
        ),
        ServiceKind.FAMILY_WITH_PATIENT: (
            Band("90847", 26, None, "Family psychotherapy, patient present"),
        ),
        ServiceKind.FAMILY_WITHOUT_PATIENT: (
            Band("90846", 26, None, "Family psychotherapy, patient not present"),
        ),
        ServiceKind.GROUP: (Band("90853", 1, None, "Group psychotherapy session"),),
        ServiceKind.MULTI_FAMILY_GROUP: (Band("90849", 1, None, "Multiple-family group session"),),
        ServiceKind.MEDICATION_MANAGEMENT: (
            Band("99212", 10, 19, "Medication visit, 10+ min"),
            Band("99213", 20, 29, "Medication visit, 20+ min"),
            Band("99214", 30, 39, "Medication visit, 30+ min"),
            Band("99215", 40, None, "Medication visit, 40+ min"),
        ),
        ServiceKind.ASSESSMENT: (Band("90791", 1, None, "Diagnostic evaluation"),),
        # PSYCHOEDUCATION: no per-service code by default (counts toward IOP hours only).
    }


def _default_screen_codes() -> dict[ScreenMethod, str]:
    return {
        ScreenMethod.DIRECT_OPTICAL: "80305",
        ScreenMethod.INSTRUMENT_ASSISTED: "80306",
        ScreenMethod.ANALYZER: "80307",
    }


_SCREEN_LABELS = {
    ScreenMethod.DIRECT_OPTICAL: "Presumptive drug screen, read by eye",
    ScreenMethod.INSTRUMENT_ASSISTED: "Presumptive drug screen, instrument-assisted",
    ScreenMethod.ANALYZER: "Presumptive drug screen, analyzer",
}


@dataclass(frozen=True)
class PayerRules:
    """Everything a payer decides, as data. The defaults are the per-diem Medicaid/commercial
    professional claim of domain.md §3.1; :func:`per_service_rules` and
    :func:`medicare_iop_rules` give the other two starting points. Money is ``Decimal``."""

    name: str = "Default per-diem payer"
    billing_model: BillingModel = BillingModel.PER_DIEM
    claim_type: ClaimType = ClaimType.PROFESSIONAL
    # Claim-level condition codes (837I HI*BG): Medicare IOP = 92 (domain.md §2.3).
    condition_codes: tuple[str, ...] = ()

    # --- per diem (domain.md §3.1: H0015 "at least 3 h/day and at least 3 days/week") --------
    per_diem_codes: Mapping[ProgramKind, str] = field(
        default_factory=lambda: {ProgramKind.SUD_IOP: "H0015", ProgramKind.PSYCH_IOP: "S9480"}
    )
    per_diem_min_minutes: int = 180
    per_diem_min_days_per_week: int = 3
    # Kinds billed on their own line beside the per diem (and not counted toward its hours).
    per_diem_unbundled_kinds: frozenset[ServiceKind] = frozenset()
    # Scale the weekly day minimum in admission/discharge weeks (ceil(3 * days enrolled / 7)).
    prorate_partial_weeks: bool = False

    # --- per service (domain.md §3.2, §3.3) -------------------------------------------------
    bands: Mapping[ServiceKind, tuple[Band, ...]] = field(default_factory=_default_bands)
    drug_screen_codes: Mapping[ScreenMethod, str] = field(default_factory=_default_screen_codes)
    # Used when a screen's method was not recorded (point-of-care cups are the usual IOP case).
    default_screen_method: ScreenMethod | None = ScreenMethod.DIRECT_OPTICAL

    # --- Medicare IOP (domain.md §2.3) --------------------------------------------------------
    medicare_min_services_per_day: int = 3
    medicare_higher_category_min: int = 4
    # Kinds that count as IOP services for the per-day category (and are billed on the IOP
    # claim); others are reported as skipped "bill separately".
    medicare_counted_kinds: frozenset[ServiceKind] = frozenset(
        {
            ServiceKind.GROUP,
            ServiceKind.INDIVIDUAL,
            ServiceKind.FAMILY_WITH_PATIENT,
            ServiceKind.FAMILY_WITHOUT_PATIENT,
            ServiceKind.MULTI_FAMILY_GROUP,
            ServiceKind.MEDICATION_MANAGEMENT,
            ServiceKind.ASSESSMENT,
        }
    )

    # --- institutional revenue codes (domain.md §3.5) -----------------------------------------
    program_revenue_codes: Mapping[ProgramKind, str] = field(
        default_factory=lambda: {ProgramKind.PSYCH_IOP: "0905", ProgramKind.SUD_IOP: "0906"}
    )
    # Per-kind revenue codes (e.g. 0914 individual, 0915 group, 0916 family for a hospital
    # outpatient department); a kind not listed gets the program revenue code.
    revenue_codes_by_kind: Mapping[ServiceKind, str] = field(default_factory=dict)

    # --- place of service and telehealth (domain.md §3.4, §4.2) -------------------------------
    in_person_pos: Mapping[ProgramKind, str] = field(
        default_factory=lambda: {ProgramKind.SUD_IOP: "57", ProgramKind.PSYCH_IOP: "11"}
    )
    telehealth_pos_home: str = "10"
    telehealth_pos_other: str = "02"
    video_modifier: str | None = "95"  # some payers: "GT"
    audio_only_modifier: str | None = "93"  # RHC/FQHC and some programmes: "FQ"
    allowed_modalities: frozenset[Modality] = frozenset(Modality)
    # Extra modifiers a payer wants on a code (e.g. Medicaid "HF" on H0015), before telehealth.
    code_modifiers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    # --- group size (domain.md §3.6) ----------------------------------------------------------
    max_group_size: int | None = None  # hard stop: lines from larger groups are blocked
    group_size_warning: int | None = 12  # a warning only, above this size

    # --- money ------------------------------------------------------------------------------
    # Charge per unit by code. A code without a price is blocked ("no fee"): a $0 line is never
    # what billing meant to send.
    fees: Mapping[str, Decimal] = field(default_factory=dict)

    # --- scrubber (see scrubber.py) -------------------------------------------------------------
    authorization_required_for: frozenset[str] = frozenset({"H0015", "S9480"})
    certification_required: bool = False
    recertification_interval: int = 2
    recertification_unit: str = "months"  # "months" or "days"

    def __post_init__(self) -> None:
        if self.per_diem_min_minutes < 1:
            raise ValueError("per_diem_min_minutes must be at least 1")
        if not 1 <= self.per_diem_min_days_per_week <= 7:
            raise ValueError("per_diem_min_days_per_week must be between 1 and 7")
        if self.medicare_min_services_per_day < 1:
            raise ValueError("medicare_min_services_per_day must be at least 1")
        if self.medicare_higher_category_min <= self.medicare_min_services_per_day:
            raise ValueError(
                "medicare_higher_category_min must be above medicare_min_services_per_day"
            )
        for kind, bands in self.bands.items():
            ordered = sorted(bands, key=lambda b: b.min_minutes)
            for band in ordered:
                if band.min_minutes < 0 or (
                    band.max_minutes is not None and band.max_minutes < band.min_minutes
                ):
                    raise ValueError(f"band {band.code} for {kind} has an empty minute range")
            for low, high in zip(ordered, ordered[1:], strict=False):
                if low.max_minutes is None or low.max_minutes >= high.min_minutes:
                    raise ValueError(f"bands {low.code} and {high.code} for {kind} overlap")
        for code, fee in self.fees.items():
            if not isinstance(fee, Decimal) or fee < 0:
                raise ValueError(f"the fee for {code} must be a Decimal of at least 0")
        for size in (self.max_group_size, self.group_size_warning):
            if size is not None and size < 1:
                raise ValueError("group sizes must be at least 1")
        if self.recertification_interval < 1:
            raise ValueError("recertification_interval must be at least 1")
        if self.recertification_unit not in ("months", "days"):
            raise ValueError("recertification_unit must be 'months' or 'days'")

    @property
    def all_per_diem_codes(self) -> frozenset[str]:
        return frozenset(self.per_diem_codes.values())


def per_diem_rules(**changes: Any) -> PayerRules:
    """Medicaid / commercial per-diem IOP on a professional claim (the plain defaults)."""
    return replace(PayerRules(), **changes)


def per_service_rules(**changes: Any) -> PayerRules:
    """A payer that pays each psychotherapy, family, group, medication and screen service."""
    base = replace(
        PayerRules(),
        name="Default per-service payer",
        billing_model=BillingModel.PER_SERVICE,
        authorization_required_for=frozenset(
            {"90832", "90834", "90837", "90846", "90847", "90849", "90853"}
        ),
    )
    return replace(base, **changes)


def medicare_iop_rules(**changes: Any) -> PayerRules:
    """Medicare IOP (from 1 Jan 2024) on an institutional claim, domain.md §2: condition code 92,
    revenue code 0905 on IOP lines, 3 vs 4+ services a day, in person only (virtual IOP is not
    covered), no prior authorization, physician certification with recertification at least
    every other month."""
    base = replace(
        PayerRules(),
        name="Medicare IOP",
        billing_model=BillingModel.MEDICARE_IOP,
        claim_type=ClaimType.INSTITUTIONAL,
        condition_codes=("92",),
        program_revenue_codes={ProgramKind.PSYCH_IOP: "0905", ProgramKind.SUD_IOP: "0905"},
        allowed_modalities=frozenset({Modality.IN_PERSON}),
        authorization_required_for=frozenset(),
        certification_required=True,
    )
    return replace(base, **changes)


@dataclass(frozen=True, slots=True)
class Service:
    """One attended service for the patient, as the billing rules need it.

    ``service_date`` is the LOCAL date of service at the site. ``minutes`` is what the patient
    attended (for family therapy without the patient, the session's minutes). A drug screen has
    no note: pass ``note_signed=True`` once its result is documented. ``service_id`` is opaque
    (e.g. the attendance record's public id) and must be unique in one call.
    """

    service_id: str
    service_date: dt.date
    kind: ServiceKind
    minutes: int
    modality: Modality = Modality.IN_PERSON
    patient_at_home: bool = False
    note_signed: bool = False
    group_size: int | None = None
    clinician_id: str = ""
    session_id: str = ""
    screen_method: ScreenMethod | None = None
    starts_at: dt.time | None = None  # orders services within a day

    def __post_init__(self) -> None:
        # Accept the plain strings stored on model rows ("group", "video"...); refuse others.
        object.__setattr__(self, "kind", ServiceKind(self.kind))
        object.__setattr__(self, "modality", Modality(self.modality))
        if self.screen_method is not None:
            object.__setattr__(self, "screen_method", ScreenMethod(self.screen_method))
        if isinstance(self.service_date, dt.datetime) or not isinstance(self.service_date, dt.date):
            raise TypeError("service_date must be a date (the local date of service)")
        if self.minutes < 0:
            raise ValueError(f"service {self.service_id}: minutes must be >= 0")
        if self.group_size is not None and self.group_size < 1:
            raise ValueError(f"service {self.service_id}: group_size must be >= 1")
        if not self.service_id:
            raise ValueError("service_id must not be empty")


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One claim line. ``place_of_service`` is set on professional claims; ``revenue_code`` on
    institutional ones. ``minutes`` is what the line stands for (the counted minutes of a
    per-diem day). ``blocks`` must be empty before the line goes on a claim."""

    service_date: dt.date
    code: str
    label: str
    modifiers: tuple[str, ...]
    units: int
    place_of_service: str | None
    revenue_code: str | None
    charge: Decimal
    source_service_ids: tuple[str, ...]
    minutes: int
    clinician_ids: tuple[str, ...] = ()
    day_category: str | None = None  # Medicare IOP: "3_services" or "4_plus_services"
    unsigned_service_ids: tuple[str, ...] = ()
    largest_group: int | None = None
    blocks: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()

    @property
    def blocked(self) -> bool:
        return bool(self.blocks)


@dataclass(frozen=True, slots=True)
class Skipped:
    """Services that produce no line, with the reason in plain words."""

    service_date: dt.date
    service_ids: tuple[str, ...]
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ChargeResult:
    claim_type: ClaimType
    condition_codes: tuple[str, ...]
    lines: tuple[ChargeLine, ...]
    skipped: tuple[Skipped, ...]

    def skipped_on(self, day: dt.date) -> list[Skipped]:
        return [s for s in self.skipped if s.service_date == day]


# --- small helpers -----------------------------------------------------------------------------


def week_start(day: dt.date) -> dt.date:
    """Monday of the Monday-to-Sunday week containing ``day``."""
    return day - dt.timedelta(days=day.weekday())


def format_hours(minutes: int) -> str:
    """Minutes as hours for sentences, rounded DOWN to a tenth so a short day never reads as
    meeting the minimum: 150 -> "2.5 h", 179 -> "2.9 h", 180 -> "3 h"."""
    tenths = minutes * 10 // 60
    whole, frac = divmod(tenths, 10)
    return f"{whole} h" if frac == 0 else f"{whole}.{frac} h"


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT)


def _order(s: Service) -> tuple[dt.date, dt.time, str]:
    return (s.service_date, s.starts_at or dt.time(0), s.service_id)


def _modality_words(m: Modality) -> str:
    return {Modality.IN_PERSON: "in person", Modality.VIDEO: "video", Modality.AUDIO_ONLY: "audio"}[
        m
    ]


_MODALITY_RANK = {Modality.IN_PERSON: 0, Modality.VIDEO: 1, Modality.AUDIO_ONLY: 2}


def _dominant(services: Sequence[Service]) -> tuple[Modality, bool, Problem | None]:
    """The modality with the most minutes (ties: in person, then video), whether the patient
    was at home for most of those minutes, and a warning when the day mixed modalities."""
    by_mod: dict[Modality, int] = defaultdict(int)
    for s in services:
        if s.minutes > 0:  # a drug screen's 0 minutes does not make a day "mixed"
            by_mod[s.modality] += s.minutes
    if not by_mod:
        return Modality.IN_PERSON, False, None
    modality = min(by_mod, key=lambda m: (-by_mod[m], _MODALITY_RANK[m]))
    same = [s for s in services if s.modality == modality]
    home = sum(s.minutes for s in same if s.patient_at_home)
    at_home = home * 2 > sum(s.minutes for s in same)
    warning = None
    if len(by_mod) > 1:
        parts = ", ".join(
            f"{_modality_words(m)} {by_mod[m]} min"
            for m in sorted(by_mod, key=lambda m: _MODALITY_RANK[m])
        )
        warning = Problem(
            "mixed_modality",
            f"The day mixed {parts}; billed as {_modality_words(modality)}, "
            "the modality with the most minutes.",
            blocking=False,
        )
    return modality, at_home, warning


def _pos_and_modifiers(
    rules: PayerRules,
    program: ProgramKind,
    code: str,
    modality: Modality,
    at_home: bool,
) -> tuple[str | None, tuple[str, ...]]:
    modifiers = list(rules.code_modifiers.get(code, ()))
    if modality == Modality.VIDEO and rules.video_modifier:
        modifiers.append(rules.video_modifier)
    if modality == Modality.AUDIO_ONLY and rules.audio_only_modifier:
        modifiers.append(rules.audio_only_modifier)
    if rules.claim_type == ClaimType.INSTITUTIONAL:
        return None, tuple(modifiers)
    if modality == Modality.IN_PERSON:
        pos = rules.in_person_pos.get(program)
    else:
        pos = rules.telehealth_pos_home if at_home else rules.telehealth_pos_other
    return pos, tuple(modifiers)


def _revenue_code(rules: PayerRules, program: ProgramKind, kind: ServiceKind | None) -> str | None:
    if rules.claim_type != ClaimType.INSTITUTIONAL:
        return None
    if kind is not None and kind in rules.revenue_codes_by_kind:
        return rules.revenue_codes_by_kind[kind]
    return rules.program_revenue_codes.get(program)


def _group_problems(
    rules: PayerRules, services: Sequence[Service]
) -> tuple[list[Problem], list[Problem]]:
    blocks: list[Problem] = []
    warnings: list[Problem] = []
    for s in services:
        if s.group_size is None:
            continue
        if rules.max_group_size is not None and s.group_size > rules.max_group_size:
            blocks.append(
                Problem(
                    "group_over_cap",
                    f"Group on {s.service_date} had {s.group_size} members; "
                    f"{rules.name} allows at most {rules.max_group_size}.",
                )
            )
        elif rules.group_size_warning is not None and s.group_size > rules.group_size_warning:
            warnings.append(
                Problem(
                    "group_large",
                    f"Group on {s.service_date} had {s.group_size} members, above "
                    f"{rules.group_size_warning}; check the payer's group limit.",
                    blocking=False,
                )
            )
    return blocks, warnings


def _build_line(
    rules: PayerRules,
    program: ProgramKind,
    *,
    day: dt.date,
    code: str,
    label: str,
    kind: ServiceKind | None,
    services: Sequence[Service],
    modality: Modality,
    at_home: bool,
    minutes: int,
    day_category: str | None = None,
    extra_warnings: Iterable[Problem] = (),
) -> ChargeLine:
    pos, modifiers = _pos_and_modifiers(rules, program, code, modality, at_home)
    blocks, warnings = _group_problems(rules, services)
    warnings.extend(extra_warnings)
    unsigned = tuple(s.service_id for s in services if not s.note_signed)
    if unsigned:
        blocks.insert(
            0,
            Problem(
                "note_unsigned",
                "Note not signed for "
                + ", ".join(_describe(s) for s in services if not s.note_signed)
                + "; sign it before this line can be claimed.",
            ),
        )
    fee = rules.fees.get(code)
    if fee is None:
        blocks.append(
            Problem("no_fee", f"No charge amount for {code} in {rules.name}'s fee schedule.")
        )
        fee = Decimal(0)
    if len(modifiers) > MAX_MODIFIERS:
        blocks.append(
            Problem(
                "too_many_modifiers",
                f"{code} would carry {len(modifiers)} modifiers ({', '.join(modifiers)}); "
                f"a claim line takes at most {MAX_MODIFIERS}.",
            )
        )
    sizes = [s.group_size for s in services if s.group_size is not None]
    return ChargeLine(
        service_date=day,
        code=code,
        label=label,
        modifiers=modifiers,
        units=1,
        place_of_service=pos,
        revenue_code=_revenue_code(rules, program, kind),
        charge=_money(fee),
        source_service_ids=tuple(s.service_id for s in services),
        minutes=minutes,
        clinician_ids=tuple(dict.fromkeys(s.clinician_id for s in services if s.clinician_id)),
        day_category=day_category,
        unsigned_service_ids=unsigned,
        largest_group=max(sizes) if sizes else None,
        blocks=tuple(blocks),
        warnings=tuple(warnings),
    )


def _describe(s: Service) -> str:
    when = f" at {s.starts_at:%H:%M}" if s.starts_at else ""
    return f"{s.kind.value.replace('_', ' ')} on {s.service_date}{when}"


# --- coding one service ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Coded:
    service: Service
    code: str
    label: str


def _code_service(rules: PayerRules, s: Service) -> _Coded | Skipped:
    """The per-service code for one service, or why it has none."""
    if s.kind == ServiceKind.DRUG_SCREEN_PRESUMPTIVE:
        method = s.screen_method or rules.default_screen_method
        if method is None:
            return Skipped(
                s.service_date,
                (s.service_id,),
                "screen_method_missing",
                f"Drug screen on {s.service_date}: how it was read is not recorded, so the "
                "code cannot be chosen.",
            )
        code = rules.drug_screen_codes.get(method)
        if code is None:
            return Skipped(
                s.service_date,
                (s.service_id,),
                "no_code",
                f"No code is configured for {method.value.replace('_', ' ')} drug screens.",
            )
        return _Coded(s, code, _SCREEN_LABELS[method])
    bands = rules.bands.get(s.kind, ())
    if not bands:
        return Skipped(
            s.service_date,
            (s.service_id,),
            "no_code",
            f"{_describe(s).capitalize()}: {rules.name} has no separate code for "
            f"{s.kind.value.replace('_', ' ')}.",
        )
    for band in bands:
        if band.contains(s.minutes):
            return _Coded(s, band.code, band.label or band.code)
    lowest = min(b.min_minutes for b in bands)
    if s.minutes < lowest:
        message = (
            f"{_describe(s).capitalize()} lasted {s.minutes} min, below the {lowest} min "
            "needed for the shortest code: not billable."
        )
    else:
        message = f"{_describe(s).capitalize()} lasted {s.minutes} min: no band fits that time."
    return Skipped(s.service_date, (s.service_id,), "below_minimum", message)


def _one_screen_per_day(
    services: Iterable[Service],
) -> tuple[list[Service], list[Skipped]]:
    """Presumptive drug screens: one per date of service (domain.md §3.3). The earliest screen
    of the day is billed, as in ``medications.screening.one_presumptive_per_day``."""
    kept: list[Service] = []
    skipped: list[Skipped] = []
    billed_on: dict[dt.date, Service] = {}
    for s in sorted(services, key=_order):
        if s.kind != ServiceKind.DRUG_SCREEN_PRESUMPTIVE:
            kept.append(s)
        elif s.service_date in billed_on:
            skipped.append(
                Skipped(
                    s.service_date,
                    (s.service_id,),
                    "drug_screen_duplicate",
                    f"A presumptive drug screen is already billed on {s.service_date}; "
                    "only one is paid per date of service.",
                )
            )
        else:
            billed_on[s.service_date] = s
            kept.append(s)
    return kept, skipped


def _per_service_lines(
    rules: PayerRules, program: ProgramKind, services: Iterable[Service]
) -> tuple[list[ChargeLine], list[Skipped]]:
    kept, skipped = _one_screen_per_day(services)
    lines: list[ChargeLine] = []
    for s in kept:
        coded = _code_service(rules, s)
        if isinstance(coded, Skipped):
            skipped.append(coded)
            continue
        lines.append(
            _build_line(
                rules,
                program,
                day=s.service_date,
                code=coded.code,
                label=coded.label,
                kind=s.kind,
                services=[s],
                modality=s.modality,
                at_home=s.patient_at_home,
                minutes=s.minutes,
            )
        )
    return lines, skipped


# --- the three billing models ------------------------------------------------------------------


def _enrolled_days(week: dt.date, enrolled: tuple[dt.date, dt.date | None] | None) -> int:
    if enrolled is None:
        return 7
    first, last = enrolled
    days = [week + dt.timedelta(days=i) for i in range(7)]
    return sum(1 for d in days if d >= first and (last is None or d <= last))


def _per_diem(
    rules: PayerRules,
    program: ProgramKind,
    services: Sequence[Service],
    *,
    today: dt.date | None,
    enrolled: tuple[dt.date, dt.date | None] | None,
) -> tuple[list[ChargeLine], list[Skipped]]:
    code = rules.per_diem_codes.get(program)
    if code is None:
        raise ValueError(f"{rules.name} has no per-diem code for {program.value}")
    unbundled = [s for s in services if s.kind in rules.per_diem_unbundled_kinds]
    lines, skipped = _per_service_lines(rules, program, unbundled)
    minimum = rules.per_diem_min_minutes
    label = "IOP day, substance use" if program == ProgramKind.SUD_IOP else "IOP day, psychiatric"

    by_day: dict[dt.date, list[Service]] = defaultdict(list)
    for s in services:
        if s.kind not in rules.per_diem_unbundled_kinds:
            by_day[s.service_date].append(s)

    qualifying: dict[dt.date, list[Service]] = {}
    for day, day_services in sorted(by_day.items()):
        counted = sum(s.minutes for s in day_services)
        if counted >= minimum:
            qualifying[day] = day_services
        else:
            skipped.append(
                Skipped(
                    day,
                    tuple(s.service_id for s in sorted(day_services, key=_order)),
                    "day_short",
                    f"Day short: {format_hours(counted)} of {format_hours(minimum)} minimum "
                    f"({counted} of {minimum} minutes); no {code} unit for {day}.",
                )
            )

    weeks: dict[dt.date, list[dt.date]] = defaultdict(list)
    for day in qualifying:
        weeks[week_start(day)].append(day)
    for monday, days in sorted(weeks.items()):
        need = rules.per_diem_min_days_per_week
        if rules.prorate_partial_weeks:
            enrolled_days = _enrolled_days(monday, enrolled)
            if enrolled_days < 7:
                need = max(1, min(enrolled_days, -(-need * enrolled_days // 7)))
        sunday = monday + dt.timedelta(days=6)
        if len(days) < need:
            in_progress = today is not None and today <= sunday
            for day in days:
                ids = tuple(s.service_id for s in sorted(qualifying[day], key=_order))
                if in_progress:
                    skipped.append(
                        Skipped(
                            day,
                            ids,
                            "week_in_progress",
                            f"Week of {monday} is not over: {len(days)} qualifying day(s) so "
                            f"far of the {need} needed for {code}.",
                        )
                    )
                else:
                    skipped.append(
                        Skipped(
                            day,
                            ids,
                            "week_short",
                            f"Week short: the week of {monday} to {sunday} had {len(days)} "
                            f"qualifying day(s) of the {need} required; no {code} units "
                            "that week.",
                        )
                    )
            continue
        for day in sorted(days):
            day_services = sorted(qualifying[day], key=_order)
            modality, at_home, mixed = _dominant(day_services)
            lines.append(
                _build_line(
                    rules,
                    program,
                    day=day,
                    code=code,
                    label=label,
                    kind=None,
                    services=day_services,
                    modality=modality,
                    at_home=at_home,
                    minutes=sum(s.minutes for s in day_services),
                    extra_warnings=[mixed] if mixed else [],
                )
            )
    return lines, skipped


def _medicare(
    rules: PayerRules, program: ProgramKind, services: Sequence[Service]
) -> tuple[list[ChargeLine], list[Skipped]]:
    skipped: list[Skipped] = []
    counted: list[Service] = []
    for s in services:
        if s.kind in rules.medicare_counted_kinds:
            counted.append(s)
        else:
            skipped.append(
                Skipped(
                    s.service_date,
                    (s.service_id,),
                    "not_iop_service",
                    f"{_describe(s).capitalize()} is not billed on the {rules.name} claim "
                    "(not counted as an IOP service); bill it separately if payable.",
                )
            )
    by_day: dict[dt.date, list[_Coded]] = defaultdict(list)
    for s in counted:
        coded = _code_service(rules, s)
        if isinstance(coded, Skipped):
            skipped.append(coded)
        else:
            by_day[s.service_date].append(coded)
    lines: list[ChargeLine] = []
    for day, coded_list in sorted(by_day.items()):
        coded_list.sort(key=lambda c: _order(c.service))
        n = len(coded_list)
        if n < rules.medicare_min_services_per_day:
            skipped.append(
                Skipped(
                    day,
                    tuple(c.service.service_id for c in coded_list),
                    "not_iop_day",
                    f"{n} IOP service(s) on {day}; {rules.name} pays a day with at least "
                    f"{rules.medicare_min_services_per_day}: not an IOP day.",
                )
            )
            continue
        category = "4_plus_services" if n >= rules.medicare_higher_category_min else "3_services"
        for c in coded_list:
            s = c.service
            lines.append(
                _build_line(
                    rules,
                    program,
                    day=day,
                    code=c.code,
                    label=c.label,
                    kind=s.kind,
                    services=[s],
                    modality=s.modality,
                    at_home=s.patient_at_home,
                    minutes=s.minutes,
                    day_category=category,
                )
            )
    return lines, skipped


def charge_lines(
    services: Iterable[Service],
    rules: PayerRules,
    *,
    program_kind: ProgramKind,
    today: dt.date | None = None,
    enrolled: tuple[dt.date, dt.date | None] | None = None,
) -> ChargeResult:
    """Turn one patient's services (for one payer and program) into charge lines.

    ``today`` (the site's local date) lets a week that is not over yet read "in progress"
    rather than "short". ``enrolled`` = (admitted on, discharged on or None) is used only when
    ``rules.prorate_partial_weeks`` is on. Services with 0 minutes (absences) other than drug
    screens are reported as skipped, as are services in a modality the payer does not cover;
    neither counts toward hours or services per day.
    """
    program = ProgramKind(program_kind)
    items = sorted(services, key=_order)
    seen: set[str] = set()
    for s in items:
        if s.service_id in seen:
            raise ValueError(f"service id {s.service_id!r} appears twice")
        seen.add(s.service_id)

    skipped: list[Skipped] = []
    usable: list[Service] = []
    for s in items:
        if s.minutes == 0 and s.kind != ServiceKind.DRUG_SCREEN_PRESUMPTIVE:
            skipped.append(
                Skipped(
                    s.service_date,
                    (s.service_id,),
                    "not_attended",
                    f"{_describe(s).capitalize()}: 0 minutes attended.",
                )
            )
        elif s.modality not in rules.allowed_modalities:
            skipped.append(
                Skipped(
                    s.service_date,
                    (s.service_id,),
                    "modality_not_covered",
                    f"{_describe(s).capitalize()} was delivered by "
                    f"{_modality_words(s.modality)}, which {rules.name} does not cover; it "
                    "does not count toward the day.",
                )
            )
        else:
            usable.append(s)

    if rules.billing_model == BillingModel.PER_DIEM:
        lines, more = _per_diem(rules, program, usable, today=today, enrolled=enrolled)
    elif rules.billing_model == BillingModel.MEDICARE_IOP:
        lines, more = _medicare(rules, program, usable)
    else:
        lines, more = _per_service_lines(rules, program, usable)
    skipped.extend(more)
    lines.sort(key=lambda ln: (ln.service_date, ln.code, ln.source_service_ids))
    skipped.sort(key=lambda sk: (sk.service_date, sk.service_ids))
    return ChargeResult(
        claim_type=rules.claim_type,
        condition_codes=rules.condition_codes,
        lines=tuple(lines),
        skipped=tuple(skipped),
    )
