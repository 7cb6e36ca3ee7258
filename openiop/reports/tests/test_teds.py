"""TEDS-D coding (openiop/reports/teds.py): LOS bands, frequency of use, the discharge row.

Pure: no database. Codes are those of reference/domain.md §8.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.reports.teds import (
    DAILY_USE_MIN_DAYS,
    MISSING,
    REASON_COMPLETED,
    REASON_DROPPED_OUT,
    SERVICES_IOP,
    TEDS_COLUMNS,
    TedsDischargeRow,
    arrests_code,
    freq_code,
    los_code,
    los_days,
    teds_row,
)


@pytest.mark.parametrize(
    ("days", "code"),
    [
        (1, 1), (2, 2), (29, 29), (30, 30),
        (31, 31), (45, 31),
        (46, 32), (60, 32),
        (61, 33), (90, 33),
        (91, 34), (120, 34),
        (121, 35), (180, 35),
        (181, 36), (365, 36),
        (366, 37), (5000, 37),
    ],
)  # fmt: skip
def test_los_code_at_every_band_boundary(days: int, code: int) -> None:
    assert los_code(days) == code


@pytest.mark.parametrize("days", [0, -1])
def test_los_code_rejects_a_stay_shorter_than_a_day(days: int) -> None:
    with pytest.raises(ValueError, match="at least 1 day"):
        los_code(days)


def test_los_code_rejects_a_non_integer() -> None:
    with pytest.raises(TypeError):
        los_code(3.5)  # type: ignore[arg-type]


@given(st.integers(min_value=1, max_value=3000), st.integers(min_value=1, max_value=3000))
def test_los_code_is_monotone_and_in_range(a: int, b: int) -> None:
    low, high = min(a, b), max(a, b)
    assert 1 <= los_code(low) <= los_code(high) <= 37
    if high <= 30:
        assert los_code(high) == high


def test_los_days_counts_both_the_admission_and_the_discharge_day() -> None:
    assert los_days(date(2026, 11, 2), date(2026, 11, 2)) == 1  # same-day discharge
    assert los_days(date(2026, 11, 2), date(2026, 11, 3)) == 2
    # 2 Nov -> 1 Dec: 29 days later, 30 days counted -> LOS code 30; one more day -> band 31.
    assert los_days(date(2026, 11, 2), date(2026, 12, 1)) == 30
    assert los_days(date(2026, 11, 2), date(2026, 12, 2)) == 31


def test_los_days_ends_at_the_last_contact_when_that_is_earlier() -> None:
    admitted, discharged = date(2026, 11, 2), date(2027, 1, 15)
    assert los_days(admitted, discharged) == 75
    # Last seen 20 Nov, administratively discharged 15 Jan: the stay is 19 days.
    assert los_days(admitted, discharged, last_contact_on=date(2026, 11, 20)) == 19
    # A last contact after the discharge date changes nothing.
    assert los_days(admitted, discharged, last_contact_on=date(2027, 2, 1)) == 75


def test_los_days_rejects_dates_in_the_wrong_order() -> None:
    with pytest.raises(ValueError, match="before admission"):
        los_days(date(2026, 11, 2), date(2026, 11, 1))
    with pytest.raises(ValueError, match="last contact"):
        los_days(date(2026, 11, 2), date(2026, 11, 9), last_contact_on=date(2026, 10, 1))
    with pytest.raises(TypeError, match="date"):
        los_days(datetime(2026, 11, 2, 9), date(2026, 11, 9))


@pytest.mark.parametrize(
    ("days_used", "code"),
    [(None, -9), (0, 1), (1, 2), (15, 2), (27, 2), (28, 3), (29, 3), (30, 3)],
)
def test_freq_code_boundaries(days_used: int | None, code: int) -> None:
    assert freq_code(days_used) == code


def test_daily_use_starts_at_four_whole_weeks() -> None:
    assert DAILY_USE_MIN_DAYS == 28
    assert freq_code(DAILY_USE_MIN_DAYS - 1) == 2
    assert freq_code(DAILY_USE_MIN_DAYS) == 3


@pytest.mark.parametrize("days_used", [-1, 31])
def test_freq_code_rejects_impossible_day_counts(days_used: int) -> None:
    with pytest.raises(ValueError, match="0-30"):
        freq_code(days_used)


@pytest.mark.parametrize(("arrests", "code"), [(None, -9), (0, 0), (1, 1), (2, 2), (7, 2)])
def test_arrests_code(arrests: int | None, code: int) -> None:
    assert arrests_code(arrests) == code


def test_arrests_code_rejects_a_negative_count() -> None:
    with pytest.raises(ValueError):
        arrests_code(-1)


def test_teds_columns_are_the_codebook_names_in_order() -> None:
    assert TEDS_COLUMNS == (
        "CASEID", "DISYR", "SERVICES", "SERVICES_D", "REASON", "LOS", "SUB1", "FREQ1", "FREQ1_D",
        "EMPLOY", "EMPLOY_D", "LIVARAG", "LIVARAG_D", "ARRESTS", "ARRESTS_D",
    )  # fmt: skip


def completed_alcohol_discharge(**overrides: object) -> TedsDischargeRow:
    kwargs: dict[str, object] = dict(
        case_id="5f0c8a4e-0000-4000-8000-000000000001",
        admitted_on=date(2026, 11, 2),
        discharged_on=date(2027, 1, 15),
        reason=REASON_COMPLETED,
        sub1=2,  # alcohol
        freq1=freq_code(22),  # drinking 22 of the 30 days before admission: some use
        freq1_d=freq_code(0),  # none in the last 30 days of the program
    )
    kwargs.update(overrides)
    return teds_row(**kwargs)  # type: ignore[arg-type]


def test_teds_row_codes_a_completed_iop_discharge() -> None:
    row = completed_alcohol_discharge()
    assert row.SERVICES == row.SERVICES_D == SERVICES_IOP == 6
    assert row.DISYR == 2027
    assert row.REASON == 1
    assert row.LOS == 33  # 2 Nov -> 15 Jan is 75 days: 61-90
    assert (row.SUB1, row.FREQ1, row.FREQ1_D) == (2, 2, 1)
    assert (row.EMPLOY_D, row.LIVARAG_D, row.ARRESTS_D) == (MISSING, MISSING, MISSING)


def test_teds_row_writes_a_csv_with_the_codebook_header() -> None:
    rows = [
        completed_alcohol_discharge(),
        completed_alcohol_discharge(
            case_id="5f0c8a4e-0000-4000-8000-000000000002",
            reason=REASON_DROPPED_OUT,
            discharged_on=date(2026, 11, 20),
            sub1=None,
            freq1=freq_code(None),
            freq1_d=freq_code(None),
            employ_d=1,
            livarag_d=3,
            arrests_d=arrests_code(0),
        ),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TEDS_COLUMNS)
    writer.writerows(row.as_row() for row in rows)
    assert out.getvalue().splitlines() == [
        "CASEID,DISYR,SERVICES,SERVICES_D,REASON,LOS,SUB1,FREQ1,FREQ1_D,EMPLOY,EMPLOY_D,LIVARAG,"
        "LIVARAG_D,ARRESTS,ARRESTS_D",
        "5f0c8a4e-0000-4000-8000-000000000001,2027,6,6,1,33,2,2,1,-9,-9,-9,-9,-9,-9",
        "5f0c8a4e-0000-4000-8000-000000000002,2026,6,6,2,19,-9,-9,-9,-9,1,-9,3,-9,0",
    ]
    assert rows[1].as_dict()["LOS"] == 19
    assert list(rows[1].as_dict()) == list(TEDS_COLUMNS)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("SERVICES", 9), ("SERVICES", -9), ("SERVICES_D", 0), ("REASON", 8), ("REASON", -9),
        ("LOS", 0), ("LOS", 38), ("SUB1", 20), ("SUB1", 0), ("FREQ1", 4), ("FREQ1_D", 0),
        ("EMPLOY", 5), ("EMPLOY_D", 0), ("LIVARAG", 4), ("LIVARAG_D", 0), ("ARRESTS", 3),
        ("ARRESTS_D", -1),
    ],
)  # fmt: skip
def test_an_impossible_code_is_refused_naming_the_column(column: str, value: int) -> None:
    with pytest.raises(ValueError, match=rf"{column}={value} is not a TEDS-D code; allowed"):
        replace(completed_alcohol_discharge(), **{column: value})  # type: ignore[arg-type]


def test_teds_row_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="REASON=0"):
        completed_alcohol_discharge(reason=0)
    with pytest.raises(ValueError, match="CASEID"):
        completed_alcohol_discharge(case_id=" ")
    with pytest.raises(TypeError, match="REASON must be an int"):
        completed_alcohol_discharge(reason="1")
    with pytest.raises(ValueError, match="before admission"):
        completed_alcohol_discharge(discharged_on=date(2026, 10, 1))


def test_no_substance_with_use_is_a_contradiction() -> None:
    with pytest.raises(ValueError, match="SUB1=1"):
        completed_alcohol_discharge(sub1=1, freq1=3)
    assert completed_alcohol_discharge(sub1=1, freq1=1).SUB1 == 1
