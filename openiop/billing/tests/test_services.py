import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from openiop.billing.models import Authorization
from openiop.billing.services import (
    authorization_create,
    authorization_update,
    authorization_void,
)
from openiop.core.models import AuditEvent

NOV = dt.date(2026, 11, 2)


def make(actor, episode, **kw):
    data = {
        "payer_name": "Blue River Health", "auth_number": "BR-1", "units_authorized": 12,
        "start_on": NOV, "end_on": NOV + dt.timedelta(days=27), "unit_kind": "days",
    }  # fmt: skip
    data.update(kw)
    return authorization_create(actor=actor, episode=episode, **data)


def test_create_records_the_authorization_with_the_programs_level_and_audits(billing, episode):
    auth = make(billing, episode)
    assert auth.level_of_care == episode.program.level_of_care
    assert auth.status == "active" and auth.recorded_by == billing
    event = AuditEvent.objects.get(action="openiop.billing.authorization.create")
    assert event.category == "billing" and event.patient_id == str(episode.patient.public_id)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"end_on": NOV - dt.timedelta(days=1)}, "end_on"),
        ({"units_authorized": 0}, "units_authorized"),
        ({"payer_name": "  "}, "payer_name"),
        ({"unit_kind": "visits"}, "unit_kind"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(billing, episode, kw, field):
    with pytest.raises(ValidationError) as exc:
        make(billing, episode, **kw)
    assert field in exc.value.message_dict
    assert not Authorization.objects.exists()


def test_another_organizations_staff_cannot_record(outsider, episode):
    with pytest.raises(PermissionDenied):
        make(outsider, episode)


def test_update_changes_fields_and_audits_what_changed(billing, episode):
    auth = make(billing, episode)
    authorization_update(
        actor=billing, authorization=auth, payer_name="Blue River Health", units_authorized=18,
        start_on=auth.start_on, end_on=auth.end_on, unit_kind="days", auth_number="BR-1",
    )  # fmt: skip
    auth.refresh_from_db()
    assert auth.units_authorized == 18
    event = AuditEvent.objects.get(action="openiop.billing.authorization.update")
    assert event.detail["changed"]["units_authorized"] == ["12", "18"]


def test_void_keeps_the_row_and_refuses_later_edits(billing, episode):
    auth = make(billing, episode)
    authorization_void(actor=billing, authorization=auth, reason="entered twice")
    auth.refresh_from_db()
    assert auth.status == "void" and "entered twice" in auth.notes
    with pytest.raises(ValidationError):
        authorization_update(
            actor=billing, authorization=auth, payer_name="X", units_authorized=1,
            start_on=NOV, end_on=NOV, unit_kind="days",
        )  # fmt: skip
    with pytest.raises(ValidationError):
        authorization_void(actor=billing, authorization=auth, reason="again")


def test_void_needs_a_reason(billing, episode):
    auth = make(billing, episode)
    with pytest.raises(ValidationError):
        authorization_void(actor=billing, authorization=auth, reason=" ")
    auth.refresh_from_db()
    assert auth.status == "active"
