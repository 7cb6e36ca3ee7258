"""Fixes from the design review: refused looks are audited, odd input never gives a 500, and
services refuse another organization's staff."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from conftest import login
from openiop.core.models import AuditEvent
from openiop.enrollment.services import episode_transfer
from openiop.organizations.models import Program
from openiop.scheduling.services import session_create


def test_a_refused_page_is_audited_as_denied(client, billing, patient):
    response = login(client, billing).get(f"/patients/{patient.public_id}/edit/")
    assert response.status_code == 403
    row = AuditEvent.objects.get(action="openiop.core.access.deny")
    assert row.actor_username == "billing" and row.outcome == "denied"
    assert row.detail["path"] == f"/patients/{patient.public_id}/edit/"


def test_an_outsider_probing_our_patient_is_audited(client, outsider, patient):
    response = login(client, outsider).get(f"/patients/{patient.public_id}/")
    assert response.status_code == 404
    row = AuditEvent.objects.get(action="openiop.core.access.not_found")
    assert row.actor_username == "outsider" and row.outcome == "failed"
    assert row.patient_id == ""  # the existence of our patient is not written to their trail


def test_anonymous_requests_write_no_audit_rows(client, patient):
    assert client.get(f"/patients/{patient.public_id}/").status_code == 302
    assert not AuditEvent.objects.filter(action__startswith="openiop.core.access").exists()


@pytest.mark.parametrize("week", ["9999-12-31", "0001-01-01", "2026-02-30", "x"])
def test_extreme_weeks_fall_back_to_this_week(client, supervisor, program, week):
    with time_machine.travel(dt.datetime(2026, 11, 18, 15, tzinfo=dt.UTC), tick=False):
        c = login(client, supervisor)
        assert c.get(f"/programs/{program.public_id}/?week={week}").status_code == 200
        assert c.get(f"/sessions/?week={week}").status_code == 200


def test_transfer_refuses_another_organizations_counselor(episode, site, outsider):
    day = Program.objects.create(organization=site.organization, site=site, name="Adult Day IOP")
    with time_machine.travel(dt.datetime(2026, 11, 18, 15, tzinfo=dt.UTC), tick=False):
        with pytest.raises(ValidationError) as err:
            episode_transfer(
                actor=None,
                episode=episode,
                to_program=day,
                effective_on=dt.date(2026, 11, 16),
                primary_counselor=outsider,
            )
    assert "primary_counselor" in err.value.message_dict
    episode.refresh_from_db()
    assert episode.status == "admitted"


def test_session_capacity_cannot_exceed_the_programs_group_cap(program):
    start = dt.datetime(2026, 11, 18, 23, tzinfo=dt.UTC)
    with pytest.raises(ValidationError) as err:
        session_create(
            actor=None,
            program=program,
            title="Big group",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=3),
            capacity=40,
        )
    assert "at most 10" in err.value.messages[0]
