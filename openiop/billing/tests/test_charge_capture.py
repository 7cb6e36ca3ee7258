"""Charge capture from real rows: attendance, signed notes, drug screens -> lines and what
blocks each one, as the billing screen shows them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from openiop.billing.charge_capture import billing_compute, billing_day_list
from openiop.billing.models import Certification, Payer
from openiop.billing.services_setup import certification_create
from openiop.billing.tests.claims_fixtures import (
    FROZEN,
    WEEK1,
    WEEK2,
    authorize,
    cover,
    documented_day,
    drug_screen,
    make_payer,
    medicare,
)
from openiop.billing.tests.helpers import attend, second_episode
from openiop.clinical.models import Note, NoteFormat
from openiop.core.models import AuditEvent
from openiop.scheduling.models import Session, SessionKind

MON, SUN = dt.date(2026, 11, 2), dt.date(2026, 11, 8)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(FROZEN, tick=False):
        yield


def only(org, start=MON, end=SUN, **kw):
    rows = billing_compute(org.pk, start, end, **kw)
    assert len(rows) == 1
    return rows[0]


def problem_codes(row):
    return [p.code for v in row.line_views for p in v.report.problems]


def test_three_documented_three_hour_days_make_three_clean_h0015_units(org, clinic):
    row = only(org)
    lines = row.clean_lines
    assert [ln.code for ln in lines] == ["H0015"] * 3
    assert [ln.service_date for ln in lines] == WEEK1
    assert all(ln.charge == Decimal("185.00") and ln.place_of_service == "57" for ln in lines)
    assert row.clean_total == Decimal("555.00")
    assert row.counts == {"clean": 3, "blocked": 0, "claimed": 0}


def test_a_two_and_a_half_hour_day_gets_no_unit_and_says_why(org, clinic, counselor):
    documented_day(clinic["episode"], dt.date(2026, 11, 3), counselor, minutes=150, at=dt.time(9))
    row = only(org)
    tuesday = next(d for d in row.days if d.day == dt.date(2026, 11, 3))
    assert not tuesday.lines
    assert any("2.5 h of 3 h minimum" in s.message for s in tuesday.skipped)
    assert len(row.clean_lines) == 3


def test_an_unsigned_note_blocks_the_day_with_plain_words(org, patient, program, counselor):
    payer = make_payer(org)
    episode = second_episode(org, program)
    cover(episode.patient, payer)
    authorize(episode, payer)
    for day in WEEK1:
        documented_day(episode, day, counselor, signed=day != WEEK1[1])
    row = only(org)
    blocked = [v for v in row.line_views if v.blocked]
    assert [v.line.service_date for v in blocked] == [WEEK1[1]]
    message = blocked[0].report.problems[0].message
    assert message.startswith("Note not signed for group on 2026-11-04")
    assert len(row.clean_lines) == 2


def test_sud_counseling_note_never_documents_a_service(org, clinic, counselor):
    record = attend(clinic["episode"], dt.date(2026, 11, 3), at=dt.time(9))
    Note.objects.create(
        organization_id=org.pk, episode=clinic["episode"], patient=clinic["patient"],
        session=record.session, kind=Note.Kind.SUD_COUNSELING, format=NoteFormat.DAP,
        started_at=record.session.starts_at, ended_at=record.session.ends_at, author=counselor,
        status=Note.Status.SIGNED, signed_at=record.session.ends_at, signed_by=counselor,
    )  # fmt: skip
    row = only(org)
    assert "note_unsigned" in problem_codes(row)


def test_a_virtual_session_is_billed_as_telehealth_from_home(org, clinic, counselor):
    Session.objects.filter(starts_at__date__in=WEEK1).update(is_virtual=True, room=None)
    row = only(org)
    assert {(ln.place_of_service, ln.modifiers) for ln in row.clean_lines} == {("10", ("95",))}


def test_group_size_is_the_attendees_present_and_a_payer_cap_blocks(
    org, program, clinic, counselor
):
    Payer.objects.filter(pk=clinic["payer"].pk).update(group_size_cap=1)
    other = second_episode(org, program)
    session = Session.objects.get(starts_at__date=WEEK1[0])
    from openiop.attendance.models import AttendanceRecord

    AttendanceRecord.objects.create(
        organization_id=org.pk, session=session, patient_id=other.patient_id, episode=other,
        status="present", minutes_attended=180,
    )  # fmt: skip
    row = next(r for r in billing_compute(org.pk, MON, SUN) if r.episode == clinic["episode"])
    monday = next(v for v in row.line_views if v.line.service_date == WEEK1[0])
    assert monday.line.largest_group == 2
    assert [p.code for p in monday.report.problems] == ["group_over_cap"]


def test_missing_member_id_and_missing_coverage_are_blocks(org, program, clinic, counselor):
    from openiop.billing.models import Coverage

    Coverage.objects.filter(pk=clinic["coverage"].pk).update(member_id="")
    row = only(org)
    assert set(problem_codes(row)) == {"member_id_missing"}
    assert "Member id missing for the Blue River Health Plan coverage" in (
        row.line_views[0].report.problems[0].message
    )
    bare = second_episode(org, program)
    for day in WEEK1:
        documented_day(bare, day, counselor)
    rows = {r.episode.pk: r for r in billing_compute(org.pk, MON, SUN)}
    assert rows[bare.pk].payer is None
    assert "coverage_missing" in problem_codes(rows[bare.pk])
    assert rows[bare.pk].clean_lines == []


def test_authorization_units_used_before_the_period_count(org, clinic):
    from openiop.billing.models import Authorization

    Authorization.objects.update(units_authorized=4)  # 3 days used in week 1
    row = only(org, start=WEEK2[0], end=dt.date(2026, 11, 15))
    states = [(v.line.service_date, [p.code for p in v.report.problems]) for v in row.line_views]
    assert states == [
        (WEEK2[0], []),
        (WEEK2[1], ["auth_exhausted"]),
        (WEEK2[2], ["auth_exhausted"]),
    ]
    assert "Authorization used up" in row.line_views[1].report.problems[0].message


def test_per_service_payer_bills_screens_and_medication_notes(org, program, counselor, prescriber):
    payer = make_payer(
        org, name="Keystone Medicaid", kind="medicaid", payer_id="KSMCD",
        claim_filing_indicator="MC", billing_model="per_service",
        fee_schedule={"90853": "55", "99213": "85", "80305": "18"},
        rules_overrides={"authorization_required_for": []},
    )  # fmt: skip
    episode = second_episode(org, program)
    cover(episode.patient, payer)
    documented_day(episode, WEEK1[0], counselor)
    drug_screen(episode, WEEK1[0])
    drug_screen(episode, WEEK1[0])  # a second presumptive screen the same day is not paid
    drug_screen(episode, WEEK1[1], with_result=False)
    start = dt.datetime(2026, 11, 4, 14, 0, tzinfo=program.site.tz)
    Note.objects.create(
        organization_id=org.pk, episode=episode, patient=episode.patient, session=None,
        kind=Note.Kind.MEDICATION, format=NoteFormat.SOAP, started_at=start,
        ended_at=start + dt.timedelta(minutes=25), author=prescriber,
        status=Note.Status.SIGNED, signed_at=start + dt.timedelta(hours=1), signed_by=prescriber,
    )  # fmt: skip
    row = only(org)
    codes = sorted((v.line.service_date, v.line.code, v.blocked) for v in row.line_views)
    assert codes == [
        (WEEK1[0], "80305", False),
        (WEEK1[0], "90853", False),
        (WEEK1[1], "80305", True),  # no result entered yet
        (WEEK1[1], "99213", False),
    ]
    assert any(s.code == "drug_screen_duplicate" for s in row.result.skipped)


def test_medicare_day_with_four_services_is_the_higher_category_and_needs_certification(
    org, program, counselor
):
    payer = medicare(org)
    episode = second_episode(org, program)
    cover(episode.patient, payer, member_id="1EG4TE5MK73")
    day = WEEK1[0]
    for hour in (9, 11, 13):
        documented_day(episode, day, counselor, minutes=60, at=dt.time(hour))
    documented_day(episode, day, counselor, minutes=45, kind=SessionKind.INDIVIDUAL,
                   at=dt.time(15))  # fmt: skip
    row = only(org)
    assert {v.line.day_category for v in row.line_views} == {"4_plus_services"}
    assert {v.line.revenue_code for v in row.line_views} == {"0905"}
    assert set(problem_codes(row)) == {"certification_missing"}
    certification_create(
        actor=None, episode=episode, signed_on=dt.date(2026, 11, 2), signed_by_name="Dr. Zhou"
    )
    assert Certification.objects.count() == 1
    assert len(only(org).clean_lines) == 4


def test_billing_screen_is_audited_and_loads_in_fixed_queries(
    org, program, clinic, counselor, billing, django_assert_max_num_queries
):
    def run():
        return billing_day_list(user=billing, start=MON, end=SUN)

    with django_assert_max_num_queries(17):
        assert len(run()) == 1
    for i in range(3):
        e = second_episode(org, program, first=f"P{i}", last=f"Q{i}")
        cover(e.patient, clinic["payer"])
        authorize(e, clinic["payer"])
        for day in WEEK1:
            documented_day(e, day, counselor)
        drug_screen(e, WEEK1[0])
    with django_assert_max_num_queries(17):
        assert len(run()) == 4
    event = AuditEvent.objects.filter(action="openiop.billing.charges.list").last()
    assert event.category == "billing" and len(event.detail["patients"]) == 4
