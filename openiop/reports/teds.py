"""TEDS-D coding: one discharge as a row coded like SAMHSA's TEDS discharge (TEDS-D) data set.

Pure: standard library only. The column names and code values are those of the TEDS-D public-use
codebook, as transcribed in ``reference/domain.md`` §8 (and cross-checked against a public
transcription of the 2020/2021 codebooks). ``-9`` means "missing / unknown / not collected /
invalid" in every column that allows it.

Columns (:data:`TEDS_COLUMNS`, the CSV header order)
====================================================

==========  ===============================================================================
CASEID      the discharge's key in OpenIOP: the episode's public id (a UUID, never a database
            integer). SAMHSA assigns its own CASEID in the public file; a state submission uses
            the provider's own episode key, so the exporter fills this column.
DISYR       year of discharge.
SERVICES    service setting at admission (§8.1). An IOP admission is 6 "Ambulatory, intensive
            outpatient" (:data:`SERVICES_IOP`), the default.
SERVICES_D  service setting at discharge (§8.1), default 6.
REASON      reason for discharge (§8.2): 1 completed, 2 dropped out, 3 terminated by facility,
            4 transferred, 5 incarcerated, 6 death, 7 other. Required (no -9).
LOS         length of stay, coded (§8.4): :func:`los_code`.
SUB1        primary substance at admission (§8.5): 1 none ... 19 other drugs, or -9.
FREQ1       frequency of use of SUB1 at admission (§8.3): :func:`freq_code`.
FREQ1_D     frequency of use of SUB1 at discharge.
EMPLOY      employment at admission: 1 full-time, 2 part-time, 3 unemployed, 4 not in labor
            force, -9. EMPLOY_D: the same at discharge.
LIVARAG     living arrangement: 1 homeless, 2 dependent living, 3 independent living, -9.
            LIVARAG_D: the same at discharge.
ARRESTS     arrests in the 30 days before admission: 0 none, 1 once, 2 two or more, -9
            (:func:`arrests_code` from a count). ARRESTS_D: in the 30 days before discharge.
==========  ===============================================================================

Length of stay
==============

``LOS`` counts **calendar days with both the admission day and the discharge day included**:
``(discharged_on − admitted_on).days + 1``, so a same-day admission and discharge is 1 day. This
follows SAMHSA's TEDS discharge reports ("both the day of admission and the day of discharge were
counted as full days for all outpatient service types"), which also end the stay at the **earlier
of the date of last contact and the discharge date**: pass ``last_contact_on`` to
:func:`teds_row` and the earlier date is used. The days are then coded: 1-30 as themselves,
31 = 31-45 days, 32 = 46-60, 33 = 61-90, 34 = 91-120, 35 = 121-180, 36 = 181-365, 37 = more than
a year (366 days or more).

Frequency of use
================

TEDS-D has three values: 1 no use in the past month, 2 some use, 3 daily use (-9 unknown).
OpenIOP records *days of use in the past 30 days* (0-30), and the codebook gives no cut-off for
"daily", so :func:`freq_code` uses: 0 days -> 1; 1-27 days -> 2; **28-30 days -> 3**. Why 28:
states submit a detailed scale that SAMHSA recodes to these three values, and its highest
"some use" category is "3-6 times in the past week", at most 6 days a week, about 26 days in 30.
28 days is four whole weeks of use every day, more than any 6-days-a-week pattern can reach,
while allowing a day or two the person cannot account for in a month's recall. The cut-off is
:data:`DAILY_USE_MIN_DAYS`.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from datetime import date, datetime
from typing import Final

#: "Missing/unknown/not collected/invalid" in every TEDS column that allows it.
MISSING: Final = -9

# SERVICES / SERVICES_D (domain.md §8.1)
SERVICES_DETOX_HOSPITAL: Final = 1
SERVICES_DETOX_RESIDENTIAL: Final = 2
SERVICES_REHAB_HOSPITAL: Final = 3
SERVICES_RESIDENTIAL_SHORT: Final = 4
SERVICES_RESIDENTIAL_LONG: Final = 5
SERVICES_IOP: Final = 6
SERVICES_OUTPATIENT: Final = 7
SERVICES_AMBULATORY_DETOX: Final = 8
SERVICES_LABELS: Final[dict[int, str]] = {
    1: "Detox, 24-hour, hospital inpatient",
    2: "Detox, 24-hour, free-standing residential",
    3: "Rehab/residential, hospital (non-detox)",
    4: "Rehab/residential, short term (30 days or fewer)",
    5: "Rehab/residential, long term (more than 30 days)",
    6: "Ambulatory, intensive outpatient",
    7: "Ambulatory, non-intensive outpatient",
    8: "Ambulatory, detoxification",
}

# REASON (domain.md §8.2)
REASON_COMPLETED: Final = 1
REASON_DROPPED_OUT: Final = 2
REASON_TERMINATED: Final = 3
REASON_TRANSFERRED: Final = 4
REASON_INCARCERATED: Final = 5
REASON_DEATH: Final = 6
REASON_OTHER: Final = 7
REASON_LABELS: Final[dict[int, str]] = {
    1: "Treatment completed",
    2: "Dropped out of treatment",
    3: "Terminated by facility",
    4: "Transferred to another treatment program or facility",
    5: "Incarcerated",
    6: "Death",
    7: "Other",
}

# SUB1 (domain.md §8.5)
SUB_LABELS: Final[dict[int, str]] = {
    1: "None",
    2: "Alcohol",
    3: "Cocaine/crack",
    4: "Marijuana/hashish",
    5: "Heroin",
    6: "Non-prescription methadone",
    7: "Other opiates and synthetics",
    8: "PCP",
    9: "Hallucinogens",
    10: "Methamphetamine/speed",
    11: "Other amphetamines",
    12: "Other stimulants",
    13: "Benzodiazepines",
    14: "Other tranquilizers",
    15: "Barbiturates",
    16: "Other sedatives or hypnotics",
    17: "Inhalants",
    18: "Over-the-counter medications",
    19: "Other drugs",
}

# FREQ1 / FREQ1_D (domain.md §8.3)
FREQ_NO_USE: Final = 1
FREQ_SOME_USE: Final = 2
FREQ_DAILY: Final = 3
FREQ_LABELS: Final[dict[int, str]] = {
    1: "No use in the past month",
    2: "Some use",
    3: "Daily use",
}
#: Days of use in the past 30 days from which use counts as "daily" (see the module docstring).
DAILY_USE_MIN_DAYS: Final = 28

EMPLOY_LABELS: Final[dict[int, str]] = {
    1: "Full-time",
    2: "Part-time",
    3: "Unemployed",
    4: "Not in labor force",
}
LIVARAG_LABELS: Final[dict[int, str]] = {
    1: "Homeless",
    2: "Dependent living",
    3: "Independent living",
}
ARRESTS_LABELS: Final[dict[int, str]] = {0: "None", 1: "Once", 2: "Two or more times"}

#: LOS bands above 30 days: (first day, last day or None, code).
LOS_BANDS: Final[tuple[tuple[int, int | None, int], ...]] = (
    (31, 45, 31),
    (46, 60, 32),
    (61, 90, 33),
    (91, 120, 34),
    (121, 180, 35),
    (181, 365, 36),
    (366, None, 37),
)


def _check_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value


def _check_date(name: str, value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date, got {type(value).__name__}")
    return value


def los_days(admitted_on: date, discharged_on: date, last_contact_on: date | None = None) -> int:
    """Length of stay in days, both ends included, ending at the earlier of discharge and last
    contact. Raises ``ValueError`` if discharge or last contact is before admission."""
    _check_date("admitted_on", admitted_on)
    end = _check_date("discharged_on", discharged_on)
    if discharged_on < admitted_on:
        raise ValueError(
            f"discharge date {discharged_on.isoformat()} is before admission "
            f"{admitted_on.isoformat()}"
        )
    if last_contact_on is not None:
        _check_date("last_contact_on", last_contact_on)
        if last_contact_on < admitted_on:
            raise ValueError(
                f"last contact {last_contact_on.isoformat()} is before admission "
                f"{admitted_on.isoformat()}"
            )
        end = min(end, last_contact_on)
    return (end - admitted_on).days + 1


def los_code(days: int) -> int:
    """The TEDS-D LOS code for a length of stay in days (>= 1); see the module docstring."""
    _check_int("days", days)
    if days < 1:
        raise ValueError(f"length of stay must be at least 1 day, got {days}")
    if days <= 30:
        return days
    for first, last, code in LOS_BANDS:
        if days >= first and (last is None or days <= last):
            return code
    raise AssertionError("unreachable: the LOS bands cover every day count above 30")


def freq_code(days_used_30: int | None) -> int:
    """FREQ code from days of use in the past 30 days: None -> -9, 0 -> 1, 1-27 -> 2, 28-30 -> 3."""
    if days_used_30 is None:
        return MISSING
    _check_int("days_used_30", days_used_30)
    if not 0 <= days_used_30 <= 30:
        raise ValueError(f"days of use in the past 30 days must be 0-30, got {days_used_30}")
    if days_used_30 == 0:
        return FREQ_NO_USE
    return FREQ_DAILY if days_used_30 >= DAILY_USE_MIN_DAYS else FREQ_SOME_USE


def arrests_code(arrests_30: int | None) -> int:
    """ARRESTS code from a count of arrests in the past 30 days: None -> -9, 0, 1, 2+ -> 2."""
    if arrests_30 is None:
        return MISSING
    _check_int("arrests_30", arrests_30)
    if arrests_30 < 0:
        raise ValueError(f"number of arrests must be >= 0, got {arrests_30}")
    return min(arrests_30, 2)


def _check_code(column: str, value: int, valid: dict[int, str], *, missing_ok: bool) -> None:
    _check_int(column, value)
    if value in valid or (missing_ok and value == MISSING):
        return
    allowed = ", ".join(str(k) for k in sorted(valid))
    extra = " or -9 (unknown)" if missing_ok else ""
    raise ValueError(f"{column}={value} is not a TEDS-D code; allowed: {allowed}{extra}")


_LOS_CODES: Final[dict[int, str]] = {
    **{d: f"{d} day{'s' if d > 1 else ''}" for d in range(1, 31)},
    **{code: f"{first}-{last}" if last else f"{first}+" for first, last, code in LOS_BANDS},
}


@dataclass(frozen=True)
class TedsDischargeRow:
    """One discharge, coded. Field names are the TEDS-D column names; construction validates.

    An impossible code raises ``ValueError`` naming the column and the allowed codes.
    """

    CASEID: str
    DISYR: int
    SERVICES: int
    SERVICES_D: int
    REASON: int
    LOS: int
    SUB1: int
    FREQ1: int
    FREQ1_D: int
    EMPLOY: int = MISSING
    EMPLOY_D: int = MISSING
    LIVARAG: int = MISSING
    LIVARAG_D: int = MISSING
    ARRESTS: int = MISSING
    ARRESTS_D: int = MISSING

    def __post_init__(self) -> None:
        if not isinstance(self.CASEID, str) or not self.CASEID.strip():
            raise ValueError("CASEID must be a non-empty string (the episode's public id)")
        _check_int("DISYR", self.DISYR)
        if not 1900 <= self.DISYR <= 9999:
            raise ValueError(f"DISYR={self.DISYR} is not a plausible year")
        _check_code("SERVICES", self.SERVICES, SERVICES_LABELS, missing_ok=False)
        _check_code("SERVICES_D", self.SERVICES_D, SERVICES_LABELS, missing_ok=False)
        _check_code("REASON", self.REASON, REASON_LABELS, missing_ok=False)
        _check_code("LOS", self.LOS, _LOS_CODES, missing_ok=False)
        _check_code("SUB1", self.SUB1, SUB_LABELS, missing_ok=True)
        _check_code("FREQ1", self.FREQ1, FREQ_LABELS, missing_ok=True)
        _check_code("FREQ1_D", self.FREQ1_D, FREQ_LABELS, missing_ok=True)
        _check_code("EMPLOY", self.EMPLOY, EMPLOY_LABELS, missing_ok=True)
        _check_code("EMPLOY_D", self.EMPLOY_D, EMPLOY_LABELS, missing_ok=True)
        _check_code("LIVARAG", self.LIVARAG, LIVARAG_LABELS, missing_ok=True)
        _check_code("LIVARAG_D", self.LIVARAG_D, LIVARAG_LABELS, missing_ok=True)
        _check_code("ARRESTS", self.ARRESTS, ARRESTS_LABELS, missing_ok=True)
        _check_code("ARRESTS_D", self.ARRESTS_D, ARRESTS_LABELS, missing_ok=True)
        if self.SUB1 == 1 and self.FREQ1 not in (FREQ_NO_USE, MISSING):
            raise ValueError(f"SUB1=1 (no substance) contradicts FREQ1={self.FREQ1}")

    def as_row(self) -> tuple[str | int, ...]:
        """The values in :data:`TEDS_COLUMNS` order (for ``csv.writer``)."""
        return astuple(self)

    def as_dict(self) -> dict[str, str | int]:
        """Column name -> value (for ``csv.DictWriter``)."""
        return dict(zip(TEDS_COLUMNS, astuple(self), strict=True))


#: The CSV header, in column order.
TEDS_COLUMNS: Final[tuple[str, ...]] = tuple(f.name for f in fields(TedsDischargeRow))


def teds_row(
    *,
    case_id: str,
    admitted_on: date,
    discharged_on: date,
    reason: int,
    sub1: int | None,
    freq1: int,
    freq1_d: int,
    services: int = SERVICES_IOP,
    services_d: int = SERVICES_IOP,
    last_contact_on: date | None = None,
    employ: int = MISSING,
    employ_d: int = MISSING,
    livarag: int = MISSING,
    livarag_d: int = MISSING,
    arrests: int = MISSING,
    arrests_d: int = MISSING,
) -> TedsDischargeRow:
    """Code one discharge. ``freq1``/``freq1_d`` are codes (see :func:`freq_code`); ``sub1=None``
    is coded -9. LOS and DISYR come from the dates (see the module docstring)."""
    days = los_days(admitted_on, discharged_on, last_contact_on)
    return TedsDischargeRow(
        CASEID=case_id,
        DISYR=discharged_on.year,
        SERVICES=services,
        SERVICES_D=services_d,
        REASON=reason,
        LOS=los_code(days),
        SUB1=MISSING if sub1 is None else sub1,
        FREQ1=freq1,
        FREQ1_D=freq1_d,
        EMPLOY=employ,
        EMPLOY_D=employ_d,
        LIVARAG=livarag,
        LIVARAG_D=livarag_d,
        ARRESTS=arrests,
        ARRESTS_D=arrests_d,
    )
