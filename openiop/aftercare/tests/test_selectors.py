"""Aftercare reads: the follow-up work list (contents, order, windows at frozen dates, caseload,
query count), the plan's monthly engagement (logged entries plus attendance at our own aftercare
groups), "gone quiet" at its boundary, and the dashboard panels."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from conftest import NY, make_user
from openiop.accounts.permissions import Role
from openiop.aftercare import selectors, services
from openiop.aftercare.models import ComponentKind
from openiop.aftercare.tests.test_services import (
    aftercare_program,
    answers,
    discharge,
    discharged_patient,
)
from openiop.attendance.models import AttendanceRecord
from openiop.core.models import AuditEvent
from openiop.scheduling.models import Session

NOW = dt.datetime(2027, 1, 10, 10, 0, tzinfo=NY)
TODAY = dt.date(2027, 1, 10)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def start(episode, actor=None, **kw):
    return services.aftercare_plan_create(actor=actor, episode=episode, **kw)


@pytest.fixture
def three_plans(org, program, counselor, episode):
    """At Jan 10: A's 30-day follow-up is due (Jan 3), B's overdue (Dec 10: the window closed
    Jan 9), C's upcoming (Jan 29: the window opens Jan 15)."""
    a = start(discharge(episode, on=dt.date(2026, 12, 4)))
    b = start(
        discharged_patient(org, program, counselor, "Bo", "Berg",
                           admitted=dt.date(2026, 10, 1), discharged=dt.date(2026, 11, 10))
    )  # fmt: skip
    c = start(
        discharged_patient(org, program, counselor, "Cy", "Cole",
                           admitted=dt.date(2026, 11, 2), discharged=dt.date(2026, 12, 30))
    )  # fmt: skip
    return a, b, c


def names(rows):
    return [(r.patient.last_name, r.follow_up.offset_days, r.status) for r in rows]


# --- the work list -------------------------------------------------------------------------------


def test_worklist_lists_due_and_overdue_oldest_first(counselor, three_plans):
    a, _, _ = three_plans
    f = a.follow_ups.get(offset_days=30)
    for hour, result in ((9, "no_answer"), (17, "left_message")):
        services.follow_up_attempt_record(
            actor=counselor, follow_up=f, result=result,
            attempted_at=dt.datetime(2027, 1, 8, hour, tzinfo=NY),
        )  # fmt: skip
    rows = selectors.follow_up_worklist(counselor, TODAY)
    assert names(rows) == [("Berg", 30, "overdue"), ("Whitfield", 30, "due")]
    b_row, a_row = rows
    assert (a_row.attempts, a_row.last_result_label) == (2, "Left a message")
    assert (b_row.attempts, b_row.last_result) == (0, "")
    assert a_row.time_point == "30-day" and a_row.program.name == "Adult Evening IOP"
    assert (a_row.opens_on, a_row.closes_on) == (dt.date(2026, 12, 20), dt.date(2027, 2, 2))
    event = AuditEvent.objects.filter(action="openiop.aftercare.follow_up.list").get()
    assert sorted(event.detail["patients"]) == sorted(
        str(p.public_id) for p in (a.patient, three_plans[1].patient)
    )


def test_worklist_filters(counselor, three_plans):
    assert names(selectors.follow_up_worklist(counselor, TODAY, status="due")) == [
        ("Whitfield", 30, "due")
    ]
    assert names(selectors.follow_up_worklist(counselor, TODAY, status="overdue")) == [
        ("Berg", 30, "overdue")
    ]
    every = selectors.follow_up_worklist(counselor, TODAY, status="all")
    assert len(every) == 12  # all four time points of the three plans
    assert ("Cole", 30, "upcoming") in names(every)


def test_worklist_filters_by_program(org, site, counselor, supervisor, three_plans):
    other = aftercare_program(site, "Women's IOP")
    start(
        discharged_patient(org, other, counselor, "Di", "Dunn",
                           admitted=dt.date(2026, 10, 1), discharged=dt.date(2026, 12, 1))
    )  # fmt: skip
    everyone = selectors.follow_up_worklist(supervisor, TODAY)
    assert [r.patient.last_name for r in everyone] == ["Berg", "Dunn", "Whitfield"]
    only = selectors.follow_up_worklist(supervisor, TODAY, program=other)
    assert [r.patient.last_name for r in only] == ["Dunn"]


def test_window_boundaries_at_frozen_dates(counselor, three_plans):
    # B's 30-day (due Dec 10) is still "due" on Jan 9, the window's last day.
    assert ("Berg", 30, "due") in names(
        selectors.follow_up_worklist(counselor, TODAY - dt.timedelta(days=1))
    )
    # C's 30-day (due Jan 29) joins the list on Jan 15, two weeks before, not on Jan 14.
    early = selectors.follow_up_worklist(counselor, dt.date(2027, 1, 14))
    assert "Cole" not in [r.patient.last_name for r in early]
    assert ("Cole", 30, "due") in names(
        selectors.follow_up_worklist(counselor, dt.date(2027, 1, 15))
    )


def test_worklist_window_comes_from_the_settings(settings, counselor, three_plans):
    settings.OPENIOP_FOLLOW_UP_GRACE_AFTER = 45
    assert ("Berg", 30, "due") in names(selectors.follow_up_worklist(counselor, TODAY))


def test_completed_and_closed_follow_ups_leave_the_list(counselor, three_plans):
    a, b, _ = three_plans
    services.follow_up_complete(
        actor=counselor, follow_up=a.follow_ups.get(offset_days=30), expected_version=1,
        **answers(),
    )  # fmt: skip
    services.follow_up_close(
        actor=counselor, follow_up=b.follow_ups.get(offset_days=30), reason="window_passed"
    )
    assert selectors.follow_up_worklist(counselor, TODAY) == []


def test_worklist_is_scoped_to_caseload_and_organization(org, counselor, outsider, three_plans):
    colleague = make_user("counselor_b", org, Role.COUNSELOR)
    assert selectors.follow_up_worklist(colleague, TODAY) == []
    assert selectors.follow_up_worklist(outsider, TODAY) == []
    assert len(selectors.follow_up_worklist(counselor, TODAY)) == 2


def test_roles_without_the_permission_get_nothing(front_desk, billing, three_plans):
    assert selectors.follow_up_worklist(front_desk, TODAY) == []
    assert selectors.follow_up_worklist(billing, TODAY) == []
    assert selectors.follow_ups_panel_context(front_desk, TODAY) == {"aftercare_follow_ups": None}
    assert selectors.gone_quiet_panel_context(billing, TODAY)["aftercare_gone_quiet"] is None


def test_worklist_query_count_does_not_grow_with_the_list(
    org, program, counselor, three_plans, django_assert_max_num_queries
):
    for i in range(8):
        p = start(
            discharged_patient(org, program, counselor, f"P{i}", f"Extra{i}",
                               admitted=dt.date(2026, 10, 1), discharged=dt.date(2026, 11, 20))
        )  # fmt: skip
        services.follow_up_attempt_record(
            actor=counselor, follow_up=p.follow_ups.get(offset_days=30), result="no_answer",
            attempted_at=dt.datetime(2027, 1, 5, 9, tzinfo=NY),
        )  # fmt: skip
    selectors.follow_up_worklist(counselor, TODAY)  # the audit chain head exists now
    # 1 work-list query (attempt counts and last result as subqueries, caseload inline), then
    # the audit row: savepoint, read the head, insert, move the head, release.
    with django_assert_max_num_queries(6):
        rows = selectors.follow_up_worklist(counselor, TODAY)
        assert all(r.patient.last_name and r.program.site.tz for r in rows)
    assert len(rows) == 10


def test_follow_ups_panel_counts_and_shows_the_first_few(counselor, three_plans):
    context = selectors.follow_ups_panel_context(counselor, TODAY)
    panel = context["aftercare_follow_ups"]
    assert (panel.due, panel.overdue, panel.total) == (1, 1, 2)
    assert [r.patient.last_name for r in panel.rows] == ["Berg", "Whitfield"]


# --- one plan: monthly engagement ----------------------------------------------------------------


def _session(program, day, hour=18, status=Session.Status.HELD):
    starts = dt.datetime.combine(day, dt.time(hour), tzinfo=NY)
    return Session.objects.create(
        organization=program.organization, program=program, title="Alumni group",
        starts_at=starts, ends_at=starts + dt.timedelta(minutes=90), status=status,
    )  # fmt: skip


def _attend(session, episode, status="present", minutes=90):
    return AttendanceRecord.objects.create(
        organization=session.organization, session=session, patient=episode.patient,
        episode=episode, status=status, minutes_attended=minutes,
    )  # fmt: skip


@pytest.fixture
def engaged_plan(counselor, episode, site, program):
    """Plan from Dec 5: a mutual-help component (logged Dec 10 and Jan 6) and our alumni group
    (attended Dec 15; absent Jan 7; present at a cancelled session Jan 8; attended the IOP
    program, which is not aftercare, Jan 9)."""
    ended = discharge(episode, on=dt.date(2026, 12, 4))
    group = aftercare_program(site)
    plan = start(ended, counselor)
    mutual = services.component_add(actor=counselor, plan=plan, kind=ComponentKind.MUTUAL_HELP)
    alumni = services.component_add(
        actor=counselor, plan=plan, kind=ComponentKind.ALUMNI_GROUP, program=group
    )
    for day in (dt.date(2026, 12, 10), dt.date(2027, 1, 6)):
        services.engagement_log(actor=counselor, component=mutual, occurred_on=day)
    _attend(_session(group, dt.date(2026, 12, 15)), ended)
    # 21:30 in New York on Dec 29 is already Dec 30 in UTC: the local date counts.
    _attend(_session(group, dt.date(2026, 12, 29), hour=21), ended)
    _attend(_session(group, dt.date(2027, 1, 7)), ended, status="absent", minutes=0)
    _attend(_session(group, dt.date(2027, 1, 8), status=Session.Status.CANCELLED), ended)
    _attend(_session(program, dt.date(2027, 1, 9)), ended)
    return plan, mutual, alumni


def test_monthly_engagement_counts_entries_and_aftercare_group_attendance(counselor, engaged_plan):
    plan, mutual, alumni = engaged_plan
    detail = selectors.plan_detail(counselor, plan.public_id, today=TODAY)
    months = [(m.month.month_index, m.month.components, m.month.band, m.month.partial)
              for m in detail.months]  # fmt: skip
    # Month 1 (Dec 5 - Jan 4): mutual help and the alumni group; month 2 (Jan 5 - Jan 10, so
    # far): mutual help only (absent, cancelled and non-aftercare sessions do not count).
    assert months == [(1, 2, "2+", False), (2, 1, "1", True)]
    assert detail.months[0].components == ["Alumni group", "Mutual-help meetings"]
    rows = {r.component.pk: r for r in detail.components}
    assert rows[alumni.pk].attended == [dt.date(2026, 12, 15), dt.date(2026, 12, 29)]
    assert [e.occurred_on for e in rows[mutual.pk].entries] == [
        dt.date(2027, 1, 6),
        dt.date(2026, 12, 10),
    ]
    assert detail.last_engagement == dt.date(2027, 1, 6) and not detail.gone_quiet
    assert [f.time_point for f in detail.follow_ups] == ["30-day", "90-day", "180-day", "365-day"]
    assert detail.follow_ups[0].status == "due"
    event = AuditEvent.objects.get(action="openiop.aftercare.plan.view")
    assert event.object_id == str(plan.public_id)


def test_attendance_before_the_component_started_does_not_count(counselor, engaged_plan, site):
    plan, _, alumni = engaged_plan
    later = services.component_add(
        actor=counselor, plan=plan, kind=ComponentKind.VIRTUAL_AFTERCARE,
        program=alumni.program, starts_on=dt.date(2026, 12, 20),
    )  # fmt: skip
    detail = selectors.plan_detail(counselor, plan.public_id, today=TODAY)
    rows = {r.component.pk: r for r in detail.components}
    assert rows[later.pk].attended == [dt.date(2026, 12, 29)]


def test_plan_detail_before_aftercare_starts_has_no_months(counselor, engaged_plan):
    plan, _, _ = engaged_plan
    detail = selectors.plan_detail(counselor, plan.public_id, today=dt.date(2026, 12, 4))
    assert detail.months == [] and not detail.gone_quiet and not detail.active


# --- gone quiet ----------------------------------------------------------------------------------


@pytest.fixture
def quiet_plan(counselor, episode):
    plan = start(discharge(episode, on=dt.date(2026, 12, 4)), counselor)
    meetings = services.component_add(actor=counselor, plan=plan, kind=ComponentKind.MUTUAL_HELP)
    services.engagement_log(actor=counselor, component=meetings, occurred_on=dt.date(2026, 12, 20))
    return plan


def test_gone_quiet_from_three_weeks_after_the_last_engagement(counselor, quiet_plan):
    # Last engagement Dec 20; three weeks: quiet from Jan 10, not on Jan 9.
    assert selectors.gone_quiet_list(counselor, dt.date(2027, 1, 9)) == []
    rows = selectors.gone_quiet_list(counselor, dt.date(2027, 1, 10))
    assert [(r.patient.last_name, r.last_engagement, r.days_quiet) for r in rows] == [
        ("Whitfield", dt.date(2026, 12, 20), 21)
    ]
    event = AuditEvent.objects.filter(action="openiop.aftercare.gone_quiet.list").last()
    assert event.detail["patients"] == [str(quiet_plan.patient.public_id)]
    assert selectors.plan_detail(counselor, quiet_plan.public_id, today=TODAY).gone_quiet


def test_gone_quiet_weeks_come_from_the_settings(settings, counselor, quiet_plan):
    settings.OPENIOP_GONE_QUIET_WEEKS = 4
    assert selectors.gone_quiet_list(counselor, dt.date(2027, 1, 16)) == []
    assert len(selectors.gone_quiet_list(counselor, dt.date(2027, 1, 17))) == 1


def test_never_engaged_counts_from_the_aftercare_start(org, program, counselor):
    plan = start(
        discharged_patient(org, program, counselor, "Ed", "Ames",
                           admitted=dt.date(2026, 10, 1), discharged=dt.date(2026, 12, 4))
    )  # fmt: skip
    # Aftercare started Dec 5: quiet from Dec 26.
    assert selectors.gone_quiet_list(counselor, dt.date(2026, 12, 25)) == []
    rows = selectors.gone_quiet_list(counselor, dt.date(2026, 12, 26))
    assert [r.plan for r in rows] == [plan] and rows[0].last_engagement is None


def test_aftercare_group_attendance_keeps_a_patient_from_going_quiet(counselor, quiet_plan, site):
    group = aftercare_program(site)
    services.component_add(
        actor=counselor, plan=quiet_plan, kind=ComponentKind.ALUMNI_GROUP, program=group
    )
    _attend(_session(group, dt.date(2027, 1, 5)), quiet_plan.episode)
    assert selectors.gone_quiet_list(counselor, TODAY) == []
    assert len(selectors.gone_quiet_list(counselor, dt.date(2027, 1, 26))) == 1


def test_plans_that_ended_are_not_watched(counselor, quiet_plan):
    assert selectors.gone_quiet_list(counselor, dt.date(2027, 10, 4))  # the last day
    assert selectors.gone_quiet_list(counselor, dt.date(2027, 10, 5)) == []


def test_gone_quiet_is_scoped_to_the_caseload(org, counselor, quiet_plan):
    colleague = make_user("counselor_b", org, Role.COUNSELOR)
    assert selectors.gone_quiet_list(colleague, TODAY) == []
    panel = selectors.gone_quiet_panel_context(counselor, TODAY)
    assert panel["aftercare_gone_quiet_total"] == 1
    assert [r.plan for r in panel["aftercare_gone_quiet"]] == [quiet_plan]


def test_gone_quiet_query_count_does_not_grow(
    org, program, site, counselor, quiet_plan, django_assert_max_num_queries
):
    group = aftercare_program(site)
    for i in range(6):
        plan = start(
            discharged_patient(org, program, counselor, f"Q{i}", f"Quiet{i}",
                               admitted=dt.date(2026, 10, 1), discharged=dt.date(2026, 11, 2))
        )  # fmt: skip
        services.component_add(actor=None, plan=plan, kind="alumni_group", program=group)
    selectors.gone_quiet_list(counselor, TODAY)
    # The plans (last logged entry as a subquery), their groups, the attendance, the audit (5).
    with django_assert_max_num_queries(8):
        rows = selectors.gone_quiet_list(counselor, TODAY)
        assert all(r.program.name and r.patient.last_name for r in rows)
    assert len(rows) == 7


# --- the patient's record ------------------------------------------------------------------------


def test_plans_for_patient(counselor, front_desk, quiet_plan):
    rows = selectors.plans_for_patient(counselor, quiet_plan.patient, today=TODAY)
    assert [r.plan for r in rows] == [quiet_plan]
    assert rows[0].next_follow_up.time_point == "30-day"
    assert rows[0].next_follow_up.status == "due"
    assert AuditEvent.objects.filter(action="openiop.aftercare.plan.list").count() == 1
    assert selectors.plans_for_patient(front_desk, quiet_plan.patient) == []
    assert selectors.plans_for_patient_context(front_desk, quiet_plan.patient) == {
        "aftercare_plans": None
    }
