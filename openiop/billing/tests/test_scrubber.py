"""Claim scrubber: pure, no database. One case per problem a billing clerk must fix."""

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from openiop.billing.charge_rules import (
    ChargeLine,
    ProgramKind,
    Service,
    ServiceKind,
    charge_lines,
    medicare_iop_rules,
    per_diem_rules,
    per_service_rules,
)
from openiop.billing.scrubber import (
    AuthorizationFacts,
    CertificationFacts,
    Coverage,
    PayerKind,
    UnitKind,
    add_months,
    reports_by_day,
    scrub,
)

MON = dt.date(2026, 11, 2)
TODAY = dt.date(2026, 12, 1)
FEES = {
    "H0015": Decimal("250"),
    "90834": Decimal("120"),
    "90853": Decimal("45"),
    "80305": Decimal("15"),
    "90837": Decimal("160"),
}
RULES = per_diem_rules(fees=FEES)
MEDICAID = Coverage("c1", PayerKind.MEDICAID, "State Medicaid", "M123456")
AUTH = AuthorizationFacts(
    "a1",
    "H0015",
    Decimal(12),
    UnitKind.DAYS,
    MON - dt.timedelta(days=7),
    MON + dt.timedelta(days=60),
    level_of_care="2.1",
    number="PA-77",
)


def day(n):
    return MON + dt.timedelta(days=n)


def line(n=0, code="H0015", **kw):
    base = dict(
        service_date=day(n),
        code=code,
        label="x",
        modifiers=(),
        units=1,
        place_of_service="57",
        revenue_code=None,
        charge=Decimal("250.00"),
        source_service_ids=(f"s{n}",),
        minutes=180,
    )
    base.update(kw)
    return ChargeLine(**base)


def run(
    lines, *, rules=RULES, coverages=(MEDICAID,), auths=(AUTH,), certs=(), today=TODAY, level=None
):
    return scrub(
        lines,
        rules=rules,
        coverages=coverages,
        authorizations=auths,
        certifications=certs,
        today=today,
        level_of_care=level,
    )


def codes_of(report):
    return [p.code for p in report.problems]


def test_a_clean_line_has_no_problems():
    [report] = run([line()])
    assert report.problems == () and not report.blocked


def test_unsigned_note_blocks():
    [report] = run([line(unsigned_service_ids=("s0",))])
    assert codes_of(report) == ["note_unsigned"]
    assert "sign it" in report.problems[0].message


def test_charge_capture_blocks_are_carried_with_their_own_wording():
    services = [
        Service("a", day(0), ServiceKind.GROUP, 180, note_signed=False),
        Service("b", day(1), ServiceKind.GROUP, 180, note_signed=True),
        Service("c", day(2), ServiceKind.GROUP, 180, note_signed=True),
    ]
    result = charge_lines(services, RULES, program_kind=ProgramKind.SUD_IOP)
    reports = run(list(result.lines))
    assert codes_of(reports[0]) == ["note_unsigned"]
    assert "group on 2026-11-02" in reports[0].problems[0].message
    assert [r.blocked for r in reports] == [True, False, False]


def test_missing_authorization_blocks():
    [report] = run([line()], auths=())
    assert codes_of(report) == ["auth_missing"]
    assert "No authorization on file for H0015" in report.problems[0].message


def test_an_authorization_that_ended_does_not_cover_the_date():
    ended = AuthorizationFacts(
        "a2", "H0015", Decimal(10), UnitKind.DAYS, day(-30), day(-1), number="PA-1"
    )
    [report] = run([line()], auths=(ended,))
    assert codes_of(report) == ["auth_missing"]
    assert "PA-1 2026-10-03 to 2026-11-01" in report.problems[0].message


def test_an_authorization_for_another_code_is_named():
    other = AuthorizationFacts("a3", "S9480", Decimal(10), UnitKind.DAYS, day(-1), day(30))
    [report] = run([line()], auths=(other,))
    assert codes_of(report) == ["auth_code_mismatch"]
    assert "is for S9480" in report.problems[0].message


def test_an_authorization_for_another_level_of_care_does_not_match():
    [report] = run([line()], level="2.5")
    assert codes_of(report) == ["auth_level_mismatch"]
    assert run([line()], level="2.1")[0].problems == ()


def test_units_are_consumed_in_date_order_until_the_authorization_is_used_up():
    auth = AuthorizationFacts(
        "a4",
        "H0015",
        Decimal(5),
        UnitKind.DAYS,
        day(-10),
        day(30),
        used_before=Decimal(3),
        number="PA-9",
    )
    reports = run([line(2), line(0), line(1)], auths=(auth,))
    # In date order: day 0 uses the 4th unit, day 1 the 5th, day 2 finds it used up.
    assert [r.blocked for r in reports] == [True, False, False]
    assert codes_of(reports[0]) == ["auth_exhausted"]
    assert "allows 5 days and 5 days are already used" in reports[0].problems[0].message


def test_two_lines_on_one_date_use_one_authorized_day():
    auth = AuthorizationFacts("a5", "90834", Decimal(1), UnitKind.DAYS, day(-1), day(30))
    rules = per_service_rules(fees=FEES, authorization_required_for=frozenset({"90834"}))
    reports = run(
        [line(code="90834"), line(code="90834", source_service_ids=("x",))],
        rules=rules,
        auths=(auth,),
    )
    assert not any(r.blocked for r in reports)


def test_session_and_hour_authorizations_count_sessions_and_hours():
    sessions = AuthorizationFacts("a6", "H0015", Decimal(3), UnitKind.SESSIONS, day(-1), day(30))
    two_sessions = line(0, source_service_ids=("a", "b"))
    reports = run([two_sessions, line(1, source_service_ids=("c", "d"))], auths=(sessions,))
    assert [r.blocked for r in reports] == [False, True]
    hours = AuthorizationFacts("a7", "H0015", Decimal("6.5"), UnitKind.HOURS, day(-1), day(30))
    reports = run([line(0, minutes=200), line(1, minutes=200)], auths=(hours,))
    assert [r.blocked for r in reports] == [False, True]


def test_a_second_authorization_takes_over_when_the_first_is_used_up():
    first = AuthorizationFacts("a8", "H0015", Decimal(1), UnitKind.DAYS, day(-5), day(30))
    second = AuthorizationFacts("a9", "H0015", Decimal(1), UnitKind.DAYS, day(1), day(30))
    reports = run([line(0), line(1), line(2)], auths=(first, second))
    assert [r.blocked for r in reports] == [False, False, True]


def test_codes_that_need_no_authorization_are_not_checked():
    [report] = run([line(code="80305")], auths=())
    assert report.problems == ()


def test_missing_coverage_blocks():
    [report] = run([line()], coverages=())
    assert codes_of(report) == ["coverage_missing"]


def test_expired_coverage_blocks():
    ended = Coverage("c2", PayerKind.COMMERCIAL, "Acme Health", "Z1", terminates_on=day(-1))
    [report] = run([line()], coverages=(ended,))
    assert codes_of(report) == ["coverage_expired"]
    assert "Acme Health ended 2026-11-01; service on 2026-11-02" in report.problems[0].message


def test_coverage_not_yet_in_force_blocks():
    later = Coverage("c3", PayerKind.COMMERCIAL, "Acme Health", "Z1", effective_on=day(5))
    [report] = run([line()], coverages=(later,))
    assert codes_of(report) == ["coverage_not_started"]


def test_inactive_coverage_blocks():
    inactive = Coverage("c4", PayerKind.MEDICAID, "State Medicaid", "M1", active=False)
    [report] = run([line()], coverages=(inactive,))
    assert codes_of(report) == ["coverage_inactive"]


def test_missing_member_id_is_reported():
    no_id = Coverage("c5", PayerKind.MEDICAID, "State Medicaid", "  ")
    [report] = run([line()], coverages=(no_id,))
    assert codes_of(report) == ["member_id_missing"]
    assert "Member id missing for the State Medicaid coverage" in report.problems[0].message


def test_the_primary_coverage_in_force_is_used():
    secondary = Coverage("c6", PayerKind.COMMERCIAL, "Acme", "", priority=2)
    [report] = run([line()], coverages=(secondary, MEDICAID))
    assert report.problems == ()


def test_self_pay_lines_are_not_claimed_and_need_no_authorization():
    self_pay = Coverage("c7", PayerKind.SELF_PAY, "Self-pay", "")
    [report] = run([line()], coverages=(self_pay,), auths=())
    assert codes_of(report) == ["self_pay"]


def test_hours_short_on_a_per_diem_line():
    [report] = run([line(minutes=150)])
    assert codes_of(report) == ["hours_short"]
    assert "2.5 h of 3 h minimum" in report.problems[0].message


def test_group_over_the_payer_cap():
    rules = per_diem_rules(fees=FEES, max_group_size=8)
    [report] = run([line(largest_group=11)], rules=rules)
    assert codes_of(report) == ["group_over_cap"]
    assert run([line(largest_group=8)], rules=rules)[0].problems == ()


def test_duplicate_drug_screen_on_one_date():
    rules = per_service_rules(fees=FEES)
    reports = run(
        [line(code="80305"), line(code="80305", source_service_ids=("b",)), line(1, code="80305")],
        rules=rules,
    )
    assert [codes_of(r) for r in reports] == [[], ["drug_screen_duplicate"], []]


def test_a_service_date_after_today_blocks():
    [report] = run([line()], today=day(-1), auths=(AUTH,))
    assert "future_date" in codes_of(report)


# --- Medicare certification --------------------------------------------------------------------

MEDICARE = medicare_iop_rules(fees=FEES)
MEDICARE_COVERAGE = Coverage("m", PayerKind.MEDICARE, "Medicare Part B", "1EG4TE5MK73")


def mday(n):
    """A Medicare IOP day: three service lines on day ``n``."""
    return [
        line(
            n,
            code=code,
            revenue_code="0905",
            place_of_service=None,
            day_category="3_services",
            source_service_ids=(f"m{n}{i}",),
        )
        for i, code in enumerate(["90853", "90853", "90834"])
    ]


def mrun(lines, certs=(), rules=MEDICARE):
    return run(lines, rules=rules, coverages=(MEDICARE_COVERAGE,), auths=(), certs=certs)


def day_codes(reports, n):
    """The problem codes of day ``n``'s lines (all lines of a day share them here)."""
    found = {tuple(codes_of(r)) for r in reports if r.line.service_date == day(n)}
    assert len(found) == 1
    return list(found.pop())


def test_medicare_lines_without_certification_are_blocked():
    reports = mrun(mday(0))
    assert day_codes(reports, 0) == ["certification_missing"]
    assert "Medicare IOP needs one" in reports[0].problems[0].message


def test_a_certification_signed_after_the_service_does_not_cover_it():
    reports = mrun(mday(0) + mday(1), certs=(CertificationFacts(day(1)),))
    assert day_codes(reports, 0) == ["certification_missing"]
    assert day_codes(reports, 1) == []


def test_recertification_is_due_every_other_month_by_default():
    cert = CertificationFacts(dt.date(2026, 9, 2))
    # Due by 2026-11-02: a service that day is covered, the next day is not.
    reports = mrun(mday(0) + mday(1), certs=(cert,))
    assert day_codes(reports, 0) == []
    assert day_codes(reports, 1) == ["recertification_overdue"]
    assert "due by 2026-11-02" in reports[-1].problems[0].message
    recert = CertificationFacts(day(1), recertification=True)
    assert day_codes(mrun(mday(1), certs=(cert, recert)), 1) == []


def test_the_recertification_interval_is_configurable_in_days():
    rules = medicare_iop_rules(fees=FEES, recertification_interval=60, recertification_unit="days")
    reports = mrun(mday(0), certs=(CertificationFacts(day(-61)),), rules=rules)
    assert day_codes(reports, 0) == ["recertification_overdue"]
    reports = mrun(mday(0), certs=(CertificationFacts(day(-60)),), rules=rules)
    assert day_codes(reports, 0) == []


def test_a_medicare_date_with_fewer_than_three_lines_is_not_an_iop_day():
    reports = mrun(mday(0)[:2], certs=(CertificationFacts(day(-1)),))
    assert day_codes(reports, 0) == ["not_iop_day"]
    assert "Only 2 IOP service line(s)" in reports[0].problems[0].message


def test_non_medicare_rules_do_not_ask_for_certification():
    [report] = run([line()])
    assert "certification_missing" not in codes_of(report)


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(dt.date(2026, 12, 31), 2) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 12, 31), 2) == dt.date(2028, 2, 29)


def test_reports_group_by_day_for_the_billing_screen():
    reports = run([line(2), line(0), line(0, code="80305")])
    grouped = reports_by_day(reports)
    assert list(grouped) == [day(0), day(2)]
    assert len(grouped[day(0)]) == 2


def test_medicare_charge_lines_scrub_clean_with_coverage_and_certification():
    services = [
        Service(f"v{i}", day(0), kind, 60, note_signed=True)
        for i, kind in enumerate([ServiceKind.GROUP, ServiceKind.GROUP, ServiceKind.INDIVIDUAL])
    ]
    result = charge_lines(services, MEDICARE, program_kind=ProgramKind.PSYCH_IOP)
    reports = mrun(list(result.lines), certs=(CertificationFacts(day(-3)),))
    assert len(reports) == 3 and not any(r.blocked for r in reports)
    assert {r.line.day_category for r in reports} == {"3_services"}


# --- invariants ----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 40),
            st.sampled_from(["H0015", "80305", "90853"]),
            st.integers(0, 300),
            st.booleans(),
            st.none() | st.integers(1, 15),
        ),
        max_size=30,
    ),
    st.integers(0, 20),
    st.booleans(),
)
def test_every_report_matches_its_line_and_every_problem_has_a_message(rows, units, covered):
    lines = [
        line(
            d,
            code=code,
            minutes=m,
            unsigned_service_ids=("u",) if unsigned else (),
            largest_group=size,
            source_service_ids=(f"s{i}",),
        )
        for i, (d, code, m, unsigned, size) in enumerate(rows)
    ]
    auth = AuthorizationFacts("a", "H0015", Decimal(units), UnitKind.DAYS, day(0), day(40))
    reports = run(
        lines,
        rules=per_diem_rules(fees=FEES, max_group_size=8),
        coverages=(MEDICAID,) if covered else (),
        auths=(auth,),
    )
    assert [r.line for r in reports] == lines
    for r in reports:
        assert all(p.code and p.message.strip() for p in r.problems)
        assert len({p.code for p in r.problems}) == len(r.problems)
        assert r.blocked == bool(r.problems)
    # Never more authorized days pass than were authorized.
    passed_days = {
        r.line.service_date
        for r in reports
        if r.line.code == "H0015" and not any(p.code.startswith("auth") for p in r.problems)
    }
    assert len(passed_days) <= units
