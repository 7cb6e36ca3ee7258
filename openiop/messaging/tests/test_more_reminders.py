"""Follow-up and questionnaire reminders: queued once, neutral, only where allowed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from openiop.aftercare.services import aftercare_plan_create
from openiop.enrollment.services import episode_discharge
from openiop.messaging import wording
from openiop.messaging.models import OutboxMessage
from openiop.messaging.services import (
    contact_preference_opt_out,
    follow_up_messages_queue,
    questionnaire_messages_queue,
)
from openiop.portal import services as portal_services
from openiop.questionnaires.models import QuestionnaireSchedule

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


@pytest.fixture
def reachable(patient):
    patient.email = "dana@example.org"
    patient.save(update_fields=["email"])
    return patient


def test_a_follow_up_due_today_queues_one_neutral_message_per_channel(
    reachable, episode, counselor
):
    episode_discharge(
        actor=counselor, episode=episode, discharged_on=dt.date(2026, 11, 13), reason=1,
        days_used_30=0,
    )  # fmt: skip
    plan = aftercare_plan_create(actor=counselor, episode=episode)
    first = plan.follow_ups.order_by("due_on").first()
    assert follow_up_messages_queue(now=NOW) == 0  # not due yet
    due = dt.datetime.combine(first.due_on, dt.time(15), tzinfo=dt.UTC)
    assert follow_up_messages_queue(now=due) == 2  # e-mail and SMS (the patient has a phone)
    assert follow_up_messages_queue(now=due + dt.timedelta(days=1)) == 0  # never twice
    messages = OutboxMessage.objects.filter(kind="follow_up")
    assert {m.channel for m in messages} == {"email", "sms"}
    for m in messages:
        assert not wording.banned_in(m.subject + " " + m.body)
        assert "check in" in m.body


def test_no_follow_up_message_after_opt_out(reachable, episode, counselor):
    episode_discharge(
        actor=counselor, episode=episode, discharged_on=dt.date(2026, 11, 13), reason=1,
        days_used_30=0,
    )  # fmt: skip
    plan = aftercare_plan_create(actor=counselor, episode=episode)
    contact_preference_opt_out(actor=None, patient=reachable, now=NOW)
    first = plan.follow_ups.order_by("due_on").first()
    due = dt.datetime.combine(first.due_on, dt.time(15), tzinfo=dt.UTC)
    assert follow_up_messages_queue(now=due) == 0


def test_a_due_questionnaire_reminds_portal_patients_only(reachable, episode, intake):
    QuestionnaireSchedule.objects.create(
        organization=episode.organization, program=episode.program, instrument="phq9"
    )
    assert questionnaire_messages_queue(now=NOW) == 0  # no portal log-in: nowhere to answer
    _, token = portal_services.invitation_create(actor=intake, patient=reachable)
    portal_services.invitation_accept(
        invitation=portal_services.invitation_for_token(token), username="dana-w",
        password="a-long-portal-passphrase-2026",
    )  # fmt: skip
    assert questionnaire_messages_queue(now=NOW) == 2
    assert questionnaire_messages_queue(now=NOW) == 0
    body = OutboxMessage.objects.get(kind="questionnaire", channel="sms").body
    assert "online account" in body and not wording.banned_in(body)
    assert "PHQ" not in body  # no instrument name either
