"""Charge capture rules: pure, no database. Worked days and weeks from issue #8."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiop.billing.charge_rules import (
    Band,
    ClaimType,
    Modality,
    PayerRules,
    ProgramKind,
    ScreenMethod,
    Service,
    ServiceKind,
    charge_lines,
    format_hours,
    medicare_iop_rules,
    per_diem_rules,
    per_service_rules,
    week_start,
)

MON = dt.date(2026, 11, 2)  # a Monday
FEES = {
    "H0015": Decimal("250.00"),
    "S9480": Decimal("300.00"),
    "90832": Decimal("90"),
    "90834": Decimal("120"),
    "90837": Decimal("160"),
    "90846": Decimal("110"),
    "90847": Decimal("115"),
    "90849": Decimal("60"),
    "90853": Decimal("45"),
    "90791": Decimal("200"),
    "99212": Decimal("60"),
    "99213": Decimal("85"),
    "99214": Decimal("120"),
    "99215": Decimal("160"),
    "80305": Decimal("15"),
    "80306": Decimal("20"),
    "80307": Decimal("65"),
}
SUD = ProgramKind.SUD_IOP
_ids = iter(range(10**9))


def svc(day=MON, kind=ServiceKind.GROUP, minutes=180, **kw):
    kw.setdefault("note_signed", True)
    kw.setdefault("service_id", f"s{next(_ids)}")
    return Service(service_date=day, kind=kind, minutes=minutes, **kw)


def day(n):
    return MON + dt.timedelta(days=n)


def codes(result):
    return [line.code for line in result.lines]


# --- per diem -------------------------------------------------------------------------------------


def test_a_two_and_a_half_hour_day_gets_no_h0015_unit_and_says_why():
    services = [svc(day(0), minutes=150), svc(day(1)), svc(day(2)), svc(day(3))]
    result = charge_lines(services, per_diem_rules(fees=FEES), program_kind=SUD)
    assert [ln.service_date for ln in result.lines] == [day(1), day(2), day(3)]
    [short] = result.skipped_on(day(0))
    assert short.code == "day_short"
    assert "Day short: 2.5 h of 3 h minimum" in short.message


def test_three_days_of_three_hours_in_one_week_give_three_units():
    services = [svc(day(0)), svc(day(2)), svc(day(4))]
    result = charge_lines(services, per_diem_rules(fees=FEES), program_kind=SUD)
    assert codes(result) == ["H0015"] * 3
    assert sum(ln.units for ln in result.lines) == 3
    assert all(ln.charge == Decimal("250.00") for ln in result.lines)
    assert all(ln.place_of_service == "57" and ln.modifiers == () for ln in result.lines)
    assert result.claim_type == ClaimType.PROFESSIONAL
    assert not any(ln.blocked for ln in result.lines)


def test_hours_on_a_day_add_up_across_sessions():
    services = [svc(day(0), minutes=90), svc(day(0), minutes=90), svc(day(1)), svc(day(2))]
    result = charge_lines(services, per_diem_rules(fees=FEES), program_kind=SUD)
    assert len(result.lines) == 3
    assert len(result.lines[0].source_service_ids) == 2
    assert result.lines[0].minutes == 180


def test_a_week_with_only_two_qualifying_days_gets_no_units_with_an_explanation():
    services = [svc(day(0)), svc(day(1)), svc(day(2), minutes=100)]
    result = charge_lines(services, per_diem_rules(fees=FEES), program_kind=SUD, today=day(14))
    assert result.lines == ()
    week = [s for s in result.skipped if s.code == "week_short"]
    assert [s.service_date for s in week] == [day(0), day(1)]
    assert "2 qualifying day(s) of the 3 required" in week[0].message
    assert "2026-11-02 to 2026-11-08" in week[0].message


def test_weeks_run_monday_to_sunday():
    # Thursday to Saturday of one week, then Sunday: Sunday belongs to the same week.
    services = [svc(day(3)), svc(day(4)), svc(day(6))]
    assert len(charge_lines(services, per_diem_rules(fees=FEES), program_kind=SUD).lines) == 3
    # Saturday, Sunday, next Monday: two weeks, neither has 3 days.
    services = [svc(day(5)), svc(day(6)), svc(day(7))]
    result = charge_lines(services, per_diem_rules(fees=FEES), program_kind=SUD)
    assert result.lines == ()
    assert week_start(day(6)) == MON and week_start(day(7)) == day(7)


def test_an_unfinished_week_reads_in_progress_not_short():
    services = [svc(day(0)), svc(day(1))]
    result = charge_lines(services, per_diem_rules(fees=FEES), program_kind=SUD, today=day(2))
    assert {s.code for s in result.skipped} == {"week_in_progress"}
    assert "not over" in result.skipped[0].message


def test_partial_weeks_can_be_prorated_for_admission():
    # Admitted Friday: 3 of 7 days enrolled -> ceil(3 * 3 / 7) = 2 days needed.
    services = [svc(day(4)), svc(day(5))]
    strict = charge_lines(services, per_diem_rules(fees=FEES), program_kind=SUD)
    assert strict.lines == ()
    prorated = charge_lines(
        services,
        per_diem_rules(fees=FEES, prorate_partial_weeks=True),
        program_kind=SUD,
        enrolled=(day(4), None),
    )
    assert len(prorated.lines) == 2


def test_minimums_are_configurable():
    rules = per_diem_rules(fees=FEES, per_diem_min_minutes=120, per_diem_min_days_per_week=2)
    services = [svc(day(0), minutes=150), svc(day(1), minutes=120)]
    assert len(charge_lines(services, rules, program_kind=SUD).lines) == 2


def test_psychiatric_iop_bills_s9480():
    services = [svc(day(0)), svc(day(1)), svc(day(2))]
    result = charge_lines(services, per_diem_rules(fees=FEES), program_kind="psych_iop")
    assert codes(result) == ["S9480"] * 3
    assert result.lines[0].place_of_service == "11"


def test_services_in_the_day_are_bundled_into_the_per_diem():
    med = svc(day(0), ServiceKind.MEDICATION_MANAGEMENT, 25)
    services = [svc(day(0)), med, svc(day(1)), svc(day(2))]
    result = charge_lines(services, per_diem_rules(fees=FEES), program_kind=SUD)
    assert codes(result) == ["H0015"] * 3
    assert med.service_id in result.lines[0].source_service_ids


def test_unbundled_medication_management_gets_its_own_line_and_does_not_count_hours():
    rules = per_diem_rules(
        fees=FEES, per_diem_unbundled_kinds=frozenset({ServiceKind.MEDICATION_MANAGEMENT})
    )
    med = svc(day(0), ServiceKind.MEDICATION_MANAGEMENT, 25)
    services = [svc(day(0), minutes=160), med, svc(day(1)), svc(day(2)), svc(day(3))]
    result = charge_lines(services, rules, program_kind=SUD)
    assert codes(result) == ["99213", "H0015", "H0015", "H0015"]
    assert result.lines[0].source_service_ids == (med.service_id,)
    # 160 group minutes + 25 medication minutes: the day is short, the visit does not count.
    assert result.skipped_on(day(0))[0].code == "day_short"


def test_an_unsigned_note_blocks_the_per_diem_line_but_the_line_is_shown():
    unsigned = svc(day(0), minutes=60, note_signed=False, starts_at=dt.time(13, 0))
    services = [svc(day(0), minutes=120), unsigned, svc(day(1)), svc(day(2))]
    result = charge_lines(services, per_diem_rules(fees=FEES), program_kind=SUD)
    first = result.lines[0]
    assert first.blocked
    assert first.blocks[0].code == "note_unsigned"
    assert "Note not signed for group on 2026-11-02 at 13:00" in first.blocks[0].message
    assert first.unsigned_service_ids == (unsigned.service_id,)
    assert not result.lines[1].blocked


def test_a_day_mostly_on_video_from_home_bills_telehealth_with_a_warning():
    services = [
        svc(day(0), minutes=120, modality=Modality.VIDEO, patient_at_home=True),
        svc(day(0), minutes=60),
        svc(day(1)),
        svc(day(2)),
    ]
    line = charge_lines(services, per_diem_rules(fees=FEES), program_kind=SUD).lines[0]
    assert (line.place_of_service, line.modifiers) == ("10", ("95",))
    assert [w.code for w in line.warnings] == ["mixed_modality"]
    assert not line.blocked


def test_payer_modifiers_come_before_the_telehealth_modifier():
    rules = per_diem_rules(fees=FEES, code_modifiers={"H0015": ("HF",)}, video_modifier="GT")
    services = [svc(day(i), modality=Modality.VIDEO) for i in range(3)]
    line = charge_lines(services, rules, program_kind=SUD).lines[0]
    assert line.modifiers == ("HF", "GT")
    assert line.place_of_service == "02"


def test_a_code_without_a_fee_is_blocked():
    services = [svc(day(i)) for i in range(3)]
    result = charge_lines(services, per_diem_rules(), program_kind=SUD)
    assert all(ln.blocks[0].code == "no_fee" for ln in result.lines)
    assert all(ln.charge == Decimal("0.00") for ln in result.lines)


def test_institutional_per_diem_carries_revenue_code_and_no_place_of_service():
    rules = per_diem_rules(fees=FEES, claim_type=ClaimType.INSTITUTIONAL)
    services = [svc(day(i)) for i in range(3)]
    line = charge_lines(services, rules, program_kind=SUD).lines[0]
    assert (line.revenue_code, line.code, line.place_of_service) == ("0906", "H0015", None)
    psych = charge_lines(services, rules, program_kind="psych_iop").lines[0]
    assert psych.revenue_code == "0905"


# --- per service ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "code"),
    [(16, "90832"), (36, "90832"), (37, "90832"), (38, "90834"), (52, "90834"), (53, "90837")],
)
def test_individual_psychotherapy_is_coded_by_duration_band(minutes, code):
    result = charge_lines(
        [svc(kind=ServiceKind.INDIVIDUAL, minutes=minutes)],
        per_service_rules(fees=FEES),
        program_kind=SUD,
    )
    assert codes(result) == [code]
    assert "Psychotherapy" in result.lines[0].label


def test_a_fifteen_minute_individual_session_is_not_billable():
    s = svc(kind=ServiceKind.INDIVIDUAL, minutes=15)
    result = charge_lines([s], per_service_rules(fees=FEES), program_kind=SUD)
    assert result.lines == ()
    [skip] = result.skipped
    assert skip.code == "below_minimum" and skip.service_ids == (s.service_id,)
    assert "15 min, below the 16 min" in skip.message


@pytest.mark.parametrize(
    ("kind", "minutes", "code"),
    [
        (ServiceKind.FAMILY_WITH_PATIENT, 26, "90847"),
        (ServiceKind.FAMILY_WITHOUT_PATIENT, 50, "90846"),
        (ServiceKind.GROUP, 90, "90853"),
        (ServiceKind.MULTI_FAMILY_GROUP, 90, "90849"),
        (ServiceKind.MEDICATION_MANAGEMENT, 10, "99212"),
        (ServiceKind.MEDICATION_MANAGEMENT, 29, "99213"),
        (ServiceKind.MEDICATION_MANAGEMENT, 30, "99214"),
        (ServiceKind.MEDICATION_MANAGEMENT, 40, "99215"),
        (ServiceKind.ASSESSMENT, 60, "90791"),
    ],
)
def test_per_service_codes(kind, minutes, code):
    result = charge_lines(
        [svc(kind=kind, minutes=minutes)], per_service_rules(fees=FEES), program_kind=SUD
    )
    assert codes(result) == [code]


def test_family_therapy_under_26_minutes_is_not_billable():
    result = charge_lines(
        [svc(kind=ServiceKind.FAMILY_WITH_PATIENT, minutes=25)],
        per_service_rules(fees=FEES),
        program_kind=SUD,
    )
    assert result.lines == () and result.skipped[0].code == "below_minimum"


def test_a_kind_without_a_code_is_reported_not_dropped():
    result = charge_lines(
        [svc(kind=ServiceKind.PSYCHOEDUCATION, minutes=60)],
        per_service_rules(fees=FEES),
        program_kind=SUD,
    )
    assert result.lines == () and result.skipped[0].code == "no_code"


def test_two_presumptive_screens_on_one_date_give_one_line():
    first = svc(
        kind=ServiceKind.DRUG_SCREEN_PRESUMPTIVE,
        minutes=0,
        screen_method=ScreenMethod.ANALYZER,
        starts_at=dt.time(9),
    )
    second = svc(kind=ServiceKind.DRUG_SCREEN_PRESUMPTIVE, minutes=0, starts_at=dt.time(15))
    next_day = svc(day(1), ServiceKind.DRUG_SCREEN_PRESUMPTIVE, 0)
    result = charge_lines([second, first, next_day], per_service_rules(fees=FEES), program_kind=SUD)
    assert [(ln.service_date, ln.code) for ln in result.lines] == [
        (day(0), "80307"),
        (day(1), "80305"),  # method not recorded: the rules' default (read by eye)
    ]
    [dup] = result.skipped
    assert dup.code == "drug_screen_duplicate" and dup.service_ids == (second.service_id,)


def test_screen_method_codes():
    rules = per_service_rules(fees=FEES, default_screen_method=None)
    screens = [
        svc(
            day(0),
            ServiceKind.DRUG_SCREEN_PRESUMPTIVE,
            0,
            screen_method=ScreenMethod.INSTRUMENT_ASSISTED,
        ),
        svc(day(1), ServiceKind.DRUG_SCREEN_PRESUMPTIVE, 0),
    ]
    result = charge_lines(screens, rules, program_kind=SUD)
    assert codes(result) == ["80306"]
    assert result.skipped[0].code == "screen_method_missing"


def test_telehealth_from_home_is_pos_10_with_modifier_95():
    s = svc(kind=ServiceKind.INDIVIDUAL, minutes=50, modality=Modality.VIDEO, patient_at_home=True)
    line = charge_lines([s], per_service_rules(fees=FEES), program_kind=SUD).lines[0]
    assert (line.place_of_service, line.modifiers) == ("10", ("95",))


def test_telehealth_at_a_clinic_is_pos_02():
    s = svc(kind=ServiceKind.INDIVIDUAL, minutes=50, modality=Modality.VIDEO)
    line = charge_lines([s], per_service_rules(fees=FEES), program_kind=SUD).lines[0]
    assert (line.place_of_service, line.modifiers) == ("02", ("95",))


def test_audio_only_carries_modifier_93():
    s = svc(
        kind=ServiceKind.INDIVIDUAL, minutes=50, modality=Modality.AUDIO_ONLY, patient_at_home=True
    )
    line = charge_lines([s], per_service_rules(fees=FEES), program_kind=SUD).lines[0]
    assert (line.place_of_service, line.modifiers) == ("10", ("93",))


def test_a_payer_that_does_not_cover_audio_only_skips_it():
    rules = per_service_rules(
        fees=FEES, allowed_modalities=frozenset({Modality.IN_PERSON, Modality.VIDEO})
    )
    s = svc(kind=ServiceKind.INDIVIDUAL, minutes=50, modality=Modality.AUDIO_ONLY)
    result = charge_lines([s], rules, program_kind=SUD)
    assert result.lines == () and result.skipped[0].code == "modality_not_covered"


def test_a_group_of_eleven_with_a_cap_of_eight_is_blocked():
    rules = per_service_rules(fees=FEES, max_group_size=8)
    line = charge_lines([svc(group_size=11, minutes=90)], rules, program_kind=SUD).lines[0]
    assert line.blocked
    assert line.blocks[0].code == "group_over_cap"
    assert "11 members" in line.blocks[0].message and "at most 8" in line.blocks[0].message
    assert line.largest_group == 11


def test_a_group_at_the_cap_is_fine_and_without_a_cap_a_large_group_only_warns():
    capped = per_service_rules(fees=FEES, max_group_size=8)
    assert not charge_lines([svc(group_size=8)], capped, program_kind=SUD).lines[0].blocked
    line = charge_lines([svc(group_size=14)], per_service_rules(fees=FEES), program_kind=SUD).lines[
        0
    ]
    assert not line.blocked
    assert [w.code for w in line.warnings] == ["group_large"]


def test_an_oversized_group_blocks_the_per_diem_day_it_belongs_to():
    rules = per_diem_rules(fees=FEES, max_group_size=8)
    services = [svc(day(0), group_size=11), svc(day(1), group_size=6), svc(day(2))]
    result = charge_lines(services, rules, program_kind=SUD)
    assert [ln.blocked for ln in result.lines] == [True, False, False]


def test_an_unsigned_note_blocks_a_per_service_line():
    s = svc(kind=ServiceKind.INDIVIDUAL, minutes=45, note_signed=False)
    line = charge_lines([s], per_service_rules(fees=FEES), program_kind=SUD).lines[0]
    assert line.code == "90834" and line.blocked
    assert line.blocks[0].code == "note_unsigned"
    assert "sign it" in line.blocks[0].message


def test_absences_are_reported_not_billed():
    s = svc(kind=ServiceKind.GROUP, minutes=0)
    result = charge_lines([s], per_service_rules(fees=FEES), program_kind=SUD)
    assert result.lines == () and result.skipped[0].code == "not_attended"


# --- Medicare IOP ---------------------------------------------------------------------------------


def medicare_day(n, count, **kw):
    kinds = [
        ServiceKind.GROUP,
        ServiceKind.INDIVIDUAL,
        ServiceKind.GROUP,
        ServiceKind.FAMILY_WITH_PATIENT,
        ServiceKind.GROUP,
    ]
    return [svc(day(n), kinds[i], 60, starts_at=dt.time(9 + i), **kw) for i in range(count)]


def test_a_medicare_day_with_four_services_gets_the_higher_category():
    result = charge_lines(medicare_day(0, 4), medicare_iop_rules(fees=FEES), program_kind=SUD)
    assert len(result.lines) == 4
    assert {ln.day_category for ln in result.lines} == {"4_plus_services"}
    assert result.claim_type == ClaimType.INSTITUTIONAL
    assert result.condition_codes == ("92",)
    assert {ln.revenue_code for ln in result.lines} == {"0905"}
    assert all(ln.place_of_service is None for ln in result.lines)
    assert codes(result) == ["90837", "90847", "90853", "90853"]


def test_a_medicare_day_with_three_services_is_the_three_service_category():
    result = charge_lines(medicare_day(0, 3), medicare_iop_rules(fees=FEES), program_kind=SUD)
    assert {ln.day_category for ln in result.lines} == {"3_services"}


def test_a_medicare_day_with_two_services_is_not_an_iop_day():
    services = medicare_day(0, 2)
    result = charge_lines(services, medicare_iop_rules(fees=FEES), program_kind=SUD)
    assert result.lines == ()
    [skip] = result.skipped
    assert skip.code == "not_iop_day"
    assert set(skip.service_ids) == {s.service_id for s in services}
    assert "at least 3" in skip.message


def test_medicare_does_not_count_virtual_services_toward_the_day():
    services = medicare_day(0, 2) + [svc(day(0), ServiceKind.GROUP, 60, modality=Modality.VIDEO)]
    result = charge_lines(services, medicare_iop_rules(fees=FEES), program_kind=SUD)
    assert result.lines == ()
    assert {s.code for s in result.skipped} == {"modality_not_covered", "not_iop_day"}


def test_medicare_drug_screens_are_not_iop_services_by_default():
    screen = svc(day(0), ServiceKind.DRUG_SCREEN_PRESUMPTIVE, 0)
    result = charge_lines(
        medicare_day(0, 2) + [screen], medicare_iop_rules(fees=FEES), program_kind=SUD
    )
    assert result.lines == ()
    assert "not_iop_service" in {s.code for s in result.skipped}


def test_hospital_revenue_codes_per_service_kind():
    rules = medicare_iop_rules(
        fees=FEES,
        revenue_codes_by_kind={ServiceKind.GROUP: "0915", ServiceKind.INDIVIDUAL: "0914"},
    )
    result = charge_lines(medicare_day(0, 4), rules, program_kind=SUD)
    assert [ln.revenue_code for ln in result.lines] == ["0914", "0905", "0915", "0915"]


# --- rules validation and helpers -----------------------------------------------------------------


def test_overlapping_bands_are_refused():
    with pytest.raises(ValueError, match="overlap"):
        PayerRules(bands={ServiceKind.INDIVIDUAL: (Band("A", 16, 40), Band("B", 38, None))})


def test_fees_must_be_decimals():
    with pytest.raises(ValueError, match="Decimal"):
        PayerRules(fees={"H0015": 250.0})


def test_a_service_id_may_appear_only_once():
    s = svc()
    with pytest.raises(ValueError, match="twice"):
        charge_lines([s, s], per_diem_rules(), program_kind=SUD)


def test_format_hours_never_rounds_a_short_day_up():
    assert [format_hours(m) for m in (150, 179, 180, 185, 0)] == [
        "2.5 h",
        "2.9 h",
        "3 h",
        "3 h",
        "0 h",
    ]


# --- invariants -----------------------------------------------------------------------------------

KINDS = list(ServiceKind)
services_strategy = st.lists(
    st.builds(
        lambda d, kind, minutes, mod, home, signed, size: svc(
            day(d),
            kind,
            minutes,
            modality=mod,
            patient_at_home=home,
            note_signed=signed,
            group_size=size,
        ),
        st.integers(0, 20),
        st.sampled_from(KINDS),
        st.integers(0, 300),
        st.sampled_from(list(Modality)),
        st.booleans(),
        st.booleans(),
        st.none() | st.integers(1, 16),
    ),
    max_size=40,
)
RULES = [
    per_diem_rules(fees=FEES, max_group_size=10),
    per_diem_rules(
        fees=FEES, per_diem_unbundled_kinds=frozenset({ServiceKind.MEDICATION_MANAGEMENT})
    ),
    per_service_rules(fees=FEES, max_group_size=8),
    medicare_iop_rules(fees=FEES),
    medicare_iop_rules(),  # no fees: every line blocked
]


@settings(max_examples=200, deadline=None)
@given(services_strategy, st.sampled_from(RULES), st.sampled_from(list(ProgramKind)))
def test_every_service_is_billed_once_or_explained(services, rules, program):
    result = charge_lines(services, rules, program_kind=program)
    billed = [i for ln in result.lines for i in ln.source_service_ids]
    explained = [i for sk in result.skipped for i in sk.service_ids]
    assert sorted(billed + explained) == sorted(s.service_id for s in services)
    for problem in [p for ln in result.lines for p in ln.blocks + ln.warnings]:
        assert problem.code and problem.message.strip()
    assert all(sk.code and sk.message.strip() for sk in result.skipped)


@settings(max_examples=200, deadline=None)
@given(services_strategy, st.sampled_from(list(ProgramKind)))
def test_per_diem_units_never_exceed_days_and_each_meets_the_minimum(services, program):
    rules = RULES[0]
    result = charge_lines(services, rules, program_kind=program)
    per_diem = [ln for ln in result.lines if ln.code in rules.all_per_diem_codes]
    days = [ln.service_date for ln in per_diem]
    assert len(days) == len(set(days))
    assert sum(ln.units for ln in per_diem) <= len({s.service_date for s in services})
    assert all(ln.minutes >= rules.per_diem_min_minutes for ln in per_diem)
    by_week = {}
    for d in days:
        by_week.setdefault(week_start(d), set()).add(d)
    assert all(len(v) >= rules.per_diem_min_days_per_week for v in by_week.values())


@settings(max_examples=200, deadline=None)
@given(services_strategy)
def test_unsigned_notes_always_block_and_lines_are_priced_from_the_fee_schedule(services):
    for rules in RULES[:4]:
        result = charge_lines(services, rules, program_kind=SUD)
        unsigned = {s.service_id for s in services if not s.note_signed}
        for ln in result.lines:
            has_unsigned = bool(unsigned & set(ln.source_service_ids))
            assert has_unsigned == any(p.code == "note_unsigned" for p in ln.blocks)
            assert ln.charge == FEES[ln.code] * ln.units


@settings(max_examples=100, deadline=None)
@given(services_strategy)
def test_medicare_categories_follow_the_count_of_lines_that_day(services):
    result = charge_lines(services, medicare_iop_rules(fees=FEES), program_kind=SUD)
    per_day = {}
    for ln in result.lines:
        per_day.setdefault(ln.service_date, []).append(ln)
    for lines in per_day.values():
        assert len(lines) >= 3
        expected = "4_plus_services" if len(lines) >= 4 else "3_services"
        assert {ln.day_category for ln in lines} == {expected}


def test_the_day_minimum_is_met_at_exactly_180_minutes():
    services = [svc(day(0), minutes=179), svc(day(1)), svc(day(2)), svc(day(3))]
    result = charge_lines(services, per_diem_rules(fees=FEES), program_kind=SUD)
    assert [ln.service_date for ln in result.lines] == [day(1), day(2), day(3)]
    assert "2.9 h of 3 h minimum (179 of 180 minutes)" in result.skipped[0].message


def test_services_accept_the_plain_strings_stored_on_rows():
    s = Service("r1", MON, "individual", 40, modality="video", note_signed=True)
    assert s.kind is ServiceKind.INDIVIDUAL and s.modality is Modality.VIDEO
    with pytest.raises(ValueError):
        Service("r2", MON, "yoga", 40)


def test_a_zero_minute_drug_screen_does_not_make_a_video_day_mixed():
    services = [svc(day(i), modality=Modality.VIDEO, patient_at_home=True) for i in range(3)]
    services.append(svc(day(0), ServiceKind.DRUG_SCREEN_PRESUMPTIVE, 0))
    line = charge_lines(services, per_diem_rules(fees=FEES), program_kind=SUD).lines[0]
    assert (line.place_of_service, line.modifiers, line.warnings) == ("10", ("95",), ())
