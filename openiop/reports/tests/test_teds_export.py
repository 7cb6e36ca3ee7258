"""The TEDS discharge file from the database: which discharges, how each column is filled."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from openiop.enrollment.models import Episode
from openiop.reports import teds
from openiop.reports.teds_export import teds_csv, teds_export
from openiop.reports.tests.test_outcomes import (
    attend,
    build_cohort,
    day,
    make_episode,
    make_patient,
)

pytestmark = pytest.mark.django_db

Q1 = (dt.date(2027, 1, 1), dt.date(2027, 3, 31))
Q2 = (dt.date(2027, 4, 1), dt.date(2027, 6, 30))


@pytest.fixture
def cohort(org, site, program, other_org):
    return build_cohort(org, site, program, other_org)


def rows_by_case(org, period) -> dict[str, teds.TedsDischargeRow]:
    export = teds_export(organization=org, start=period[0], end=period[1])
    assert export.ok
    return {row.CASEID: row for row in export.rows}


def test_one_row_per_discharged_segment_of_the_organization(cohort, org):
    export = teds_export(organization=org, start=Q1[0], end=Q1[1])
    names = {str(e.public_id): name for name, e in cohort.e.items()}
    assert sorted(names[r.CASEID] for r in export.rows) == sorted(
        ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "B1", "A10"]
    )
    # Oldest discharge first; one patient per row for the audit trail.
    assert [r.CASEID for r in export.rows][0] == str(cohort.e["B1"].public_id)
    assert [p.pk for p in export.patients] == [
        Episode.objects.get(public_id=r.CASEID).patient_id for r in export.rows
    ]


def test_columns_are_coded_like_teds_d(cohort, org):
    rows = rows_by_case(org, Q1)
    a7 = rows[str(cohort.e["A7"].public_id)]
    # A7: 2027-01-20 .. 02-18 (30 days), dropped out, alcohol, 30 days of use before admission
    # (daily) and 30 in the 30 days before discharge.
    assert a7.as_dict() == {
        "CASEID": str(cohort.e["A7"].public_id), "DISYR": 2027, "SERVICES": 6,
        "SERVICES_D": 6, "REASON": 2, "LOS": 30, "SUB1": 2, "FREQ1": 3, "FREQ1_D": 3,
        "EMPLOY": -9, "EMPLOY_D": -9, "LIVARAG": -9, "LIVARAG_D": -9, "ARRESTS": -9,
        "ARRESTS_D": -9,
    }  # fmt: skip
    a5 = rows[str(cohort.e["A5"].public_id)]
    assert (a5.LOS, a5.FREQ1, a5.FREQ1_D) == (10, 2, teds.MISSING)  # not asked at discharge
    a3 = rows[str(cohort.e["A3"].public_id)]
    assert (a3.LOS, a3.FREQ1_D) == (32, 2)  # 60 days -> 46-60 band; 1 day of use -> some use
    b1 = rows[str(cohort.e["B1"].public_id)]
    assert (b1.REASON, b1.LOS, b1.FREQ1_D) == (4, 32, 1)  # 46 days -> 46-60 band


def test_transfer_segments_each_have_a_row(cohort, org):
    first = rows_by_case(org, Q1)[str(cohort.e["A10"].public_id)]
    assert (first.REASON, first.LOS, first.FREQ1, first.FREQ1_D) == (4, 20, 2, 2)
    second = rows_by_case(org, Q2)[str(cohort.e["A10b"].public_id)]
    # The continuation has no baseline of its own: use in the 30 days before the transfer
    # (3 days, recorded when the first segment closed) is its admission frequency.
    assert (second.REASON, second.LOS, second.FREQ1, second.SUB1) == (1, 31, 2, 2)


def test_last_attended_session_ends_the_stay(org, program):
    e = make_episode(org, make_patient(org, "L"), program, day("2027-01-04"), los=40, reason=2)
    attend(e, day("2027-01-06"))
    attend(e, day("2027-01-20"))  # 19:30 New York = 00:30 UTC on the 21st: local date counts
    attend(e, day("2027-01-27"), status="absent")  # not a contact
    row = teds_export(organization=org, start=Q1[0], end=Q1[1]).rows[0]
    assert row.LOS == 17  # 2027-01-04 .. 01-20, not 40 days to the discharge


def test_never_admitted_other_organizations_and_aftercare_groups_are_left_out(cohort, org, program):
    Episode.objects.create(
        organization=org, patient=make_patient(org, "W"), program=program,
        status="discharged", referral_date=day("2027-01-02"), discharged_on=day("2027-01-09"),
        discharge_reason=7,
    )  # fmt: skip
    alumni = cohort.e["A1-alumni"]
    alumni.status, alumni.discharged_on, alumni.discharge_reason = (
        "discharged",
        day("2027-03-30"),
        1,
    )
    alumni.save()
    assert len(teds_export(organization=org, start=Q1[0], end=Q1[1]).rows) == 10


def test_missing_values_are_minus_nine(org, program):
    make_episode(org, make_patient(org, "M"), program, day("2027-02-01"), los=5, reason=7,
                 substance=None)  # fmt: skip
    row = teds_export(organization=org, start=Q1[0], end=Q1[1]).rows[0]
    assert (row.SUB1, row.FREQ1, row.FREQ1_D, row.REASON, row.LOS) == (-9, -9, -9, 7, 5)


def test_an_impossible_combination_is_a_problem_not_a_row(cohort, org):
    bad = make_episode(org, make_patient(org, "N"), cohort.p, day("2027-02-01"), los=10,
                       reason=2, baseline=5, substance=1)  # fmt: skip
    export = teds_export(organization=org, start=Q1[0], end=Q1[1])
    assert not export.ok and len(export.rows) == 10
    assert [(p.episode.pk, p.message) for p in export.problems] == [
        (bad.pk, "SUB1=1 (no substance) contradicts FREQ1=2")
    ]


def test_csv_header_and_values(cohort, org):
    export = teds_export(organization=org, start=Q1[0], end=Q1[1])
    lines = list(csv.reader(io.StringIO(teds_csv(export.rows))))
    assert tuple(lines[0]) == teds.TEDS_COLUMNS
    assert len(lines) == 11
    assert all(len(line) == len(teds.TEDS_COLUMNS) for line in lines)
    assert teds_csv([]).strip() == ",".join(teds.TEDS_COLUMNS)


def test_export_queries_do_not_grow_with_discharges(cohort, org, django_assert_max_num_queries):
    for i in range(15):
        e = make_episode(org, make_patient(org, f"Q{i}"), cohort.p, day("2027-01-02"),
                         los=20 + i, reason=1)  # fmt: skip
        attend(e, day("2027-01-05"))
    with django_assert_max_num_queries(2):
        export = teds_export(organization=org, start=Q1[0], end=Q1[1])
    assert len(export.rows) == 25


def test_period_must_not_end_before_it_starts(org):
    with pytest.raises(ValueError):
        teds_export(organization=org, start=Q1[1], end=Q1[0])
