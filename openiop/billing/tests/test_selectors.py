"""Units used are counted from attendance; alerts before an authorization runs out."""

import datetime as dt
from decimal import Decimal

import pytest

from openiop.billing.selectors import (
    authorization_alerts,
    authorization_list_for_episode,
)
from openiop.billing.services import authorization_create
from openiop.billing.tests.helpers import attend, second_episode
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_discharge

NOV2 = dt.date(2026, 11, 2)
TODAY = dt.date(2026, 11, 16)


def auth(episode, units=12, kind="days", start=NOV2, end=dt.date(2026, 11, 29), **kw):
    return authorization_create(
        actor=None, episode=episode, payer_name="Blue River Health", units_authorized=units,
        start_on=start, end_on=end, unit_kind=kind, auth_number="BR-7", **kw,
    )  # fmt: skip


def usage_of(user, episode, today=TODAY):
    return authorization_list_for_episode(user=user, episode=episode, today=today)


def test_days_sessions_and_hours_are_counted_from_attendance(billing, episode):
    attend(episode, dt.date(2026, 11, 2), minutes=180)
    attend(episode, dt.date(2026, 11, 2), at=dt.time(10), minutes=50, kind="individual")
    attend(episode, dt.date(2026, 11, 4), minutes=150, status="late")
    attend(episode, dt.date(2026, 11, 6), status="absent")
    attend(episode, dt.date(2026, 11, 9), cancelled=True)
    days = auth(episode, kind="days")
    sessions = auth(episode, kind="sessions")
    hours = auth(episode, kind="hours", units=30)
    used = {u.authorization.pk: u for u in usage_of(billing, episode)}
    assert used[days.pk].used == 2  # Nov 2 and Nov 4; absent and cancelled do not count
    assert used[sessions.pk].used == 3
    assert used[hours.pk].used == Decimal("6.3")  # 380 minutes
    assert used[hours.pk].remaining_display == "23.7"


def test_a_session_counts_on_its_local_date_of_service(billing, episode):
    # 23:30 in New York on Nov 29 is Nov 30 in UTC: still inside an authorization ending Nov 29.
    attend(episode, dt.date(2026, 11, 29), at=dt.time(23, 30), minutes=60)
    # 00:30 local on Nov 2 is Nov 2 (UTC 05:30): inside; 23:30 local on Nov 1 is outside.
    attend(episode, dt.date(2026, 11, 1), at=dt.time(23, 30), minutes=60)
    a = auth(episode)
    assert usage_of(billing, episode)[0].used == 1
    assert a.end_on == dt.date(2026, 11, 29)


def test_alerts_cover_low_ending_exhausted_expired_and_missing(org, program, billing, episode):
    # low: 12 days authorized, 10 attended -> 2 left (alert at <= 2)
    for d in range(2, 14):
        if dt.date(2026, 11, d).weekday() < 5:
            attend(episode, dt.date(2026, 11, d))
    auth(episode, units=12)
    # ending: plenty of units, ends in 3 days
    e2 = second_episode(org, program, first="Ana", last="Bell")
    auth(e2, units=30, end=TODAY + dt.timedelta(days=3))
    # exhausted: 2 sessions authorized, 3 attended
    e3 = second_episode(org, program, first="Cal", last="Cruz")
    for d in (3, 5, 10):
        attend(e3, dt.date(2026, 11, d))
    auth(e3, units=2, kind="sessions")
    # expired while the episode is still open
    e4 = second_episode(org, program, first="Dee", last="Diaz")
    auth(e4, end=dt.date(2026, 11, 13))
    # missing: no authorization at all
    e5 = second_episode(org, program, first="Eve", last="Ellis")
    # fine: plenty left, far from the end -> no alert
    e6 = second_episode(org, program, first="Fay", last="Ford")
    auth(e6, units=40)
    # discharged episodes never alert, even without an authorization
    e7 = second_episode(org, program, first="Gus", last="Gray")
    episode_discharge(actor=None, episode=e7, discharged_on=dt.date(2026, 11, 10), reason=1)

    alerts = authorization_alerts(billing, TODAY)
    by_patient = {a.patient.last_name: a for a in alerts}
    assert set(by_patient) == {"Whitfield", "Bell", "Cruz", "Diaz", "Ellis"}
    assert by_patient["Whitfield"].kind == "low"
    assert "2 of 12 days left" in by_patient["Whitfield"].reasons
    assert by_patient["Bell"].kind == "ending"
    assert by_patient["Bell"].reasons[0].startswith("ends in 3 days")
    assert by_patient["Cruz"].kind == "exhausted"
    assert by_patient["Diaz"].kind == "expired"
    assert by_patient["Ellis"].kind == "missing" and by_patient["Ellis"].usage is None
    assert by_patient["Ellis"].label == "No authorization"
    assert e5.pk and e6.pk
    # most urgent first
    assert [a.kind for a in alerts][:2] == ["expired", "exhausted"]
    event = AuditEvent.objects.filter(action="openiop.billing.authorization.alerts").last()
    assert len(event.detail["patients"]) == 5


def test_an_expired_authorization_followed_by_a_current_one_does_not_alert(billing, episode):
    auth(episode, end=dt.date(2026, 11, 8))
    auth(episode, units=40, start=dt.date(2026, 11, 9), end=dt.date(2026, 12, 31))
    assert authorization_alerts(billing, TODAY) == []


def test_a_gap_before_the_next_authorization_is_missing_and_names_it(billing, episode):
    auth(episode, units=40, start=dt.date(2026, 11, 20), end=dt.date(2026, 12, 31))
    [alert] = authorization_alerts(billing, TODAY)
    assert alert.kind == "missing"
    assert alert.reasons == ("next authorization starts Nov 20",)


def test_void_authorizations_are_ignored(billing, episode):
    from openiop.billing.services import authorization_void

    a = auth(episode, units=40)
    authorization_void(actor=None, authorization=a, reason="entered in error")
    [alert] = authorization_alerts(billing, TODAY)
    assert alert.kind == "missing"


def test_front_desk_gets_no_alerts_and_nothing_is_audited(front_desk, episode):
    assert authorization_alerts(front_desk, TODAY) == []
    assert not AuditEvent.objects.filter(action="openiop.billing.authorization.alerts").exists()


def test_other_organizations_episodes_never_appear(outsider, episode):
    assert authorization_alerts(outsider, TODAY) == []


@pytest.mark.parametrize("n", [1, 8])
def test_alerts_take_a_fixed_number_of_queries(
    org, program, billing, episode, n, django_assert_max_num_queries
):
    for i in range(n):
        e = second_episode(org, program, first=f"P{i}", last=f"Q{i}")
        auth(e, units=3)
        attend(e, dt.date(2026, 11, 3))
    billing._openiop_roles = None
    with django_assert_max_num_queries(10):  # 5 reads at most + the audit row
        alerts = authorization_alerts(billing, TODAY)
    assert len(alerts) == n + 1
