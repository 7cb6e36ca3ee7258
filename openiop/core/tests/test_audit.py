from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from openiop.core.audit import GENESIS, audit_log, audit_verify
from openiop.core.models import AuditEvent


def _log(n: int, org=None) -> list[AuditEvent]:
    return [
        audit_log(
            actor=None,
            action="openiop.test.thing.read",
            category="administrative",
            organization=org,
            detail={"n": i},
        )
        for i in range(n)
    ]


@pytest.mark.django_db
def test_each_row_chains_to_the_previous_one():
    events = _log(3)
    assert events[0].prev_hash == GENESIS
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    assert audit_verify().ok
    assert audit_verify().checked == 3


@pytest.mark.django_db
def test_actions_must_be_namespaced():
    with pytest.raises(ValueError, match="namespaced"):
        audit_log(actor=None, action="read", category="administrative")
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_orm_cannot_update_or_delete_audit_rows():
    event = _log(1)[0]
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="openiop.x.y.z")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "openiop.test.thing.read"


@pytest.mark.django_db
def test_raw_sql_cannot_change_audit_rows():
    event = _log(1)[0]
    table = AuditEvent._meta.db_table
    for sql in (
        f"UPDATE {table} SET action = 'x' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "openiop.test.thing.read"


@pytest.mark.django_db
def test_verify_command_reports_an_intact_chain(capsys):
    _log(5)
    call_command("audit", "verify")
    assert "5 rows verified" in capsys.readouterr().out


def _disable_audit_triggers(cursor) -> None:
    """What an attacker with database access would do first (the test transaction undoes it)."""
    if connection.vendor == "postgresql":
        # Deferred foreign-key checks from the rows just inserted must run before ALTER TABLE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
    else:
        cursor.execute("DROP TRIGGER core_auditevent_no_update")
        cursor.execute("DROP TRIGGER core_auditevent_no_delete")


@pytest.mark.django_db
def test_verify_names_a_row_rewritten_behind_the_triggers_back():
    events = _log(4)
    with connection.cursor() as cursor:
        _disable_audit_triggers(cursor)
        cursor.execute(
            "UPDATE core_auditevent SET actor_username = 'nobody' WHERE id = %s", [events[2].pk]
        )
    report = audit_verify()
    assert not report.ok
    assert report.first_bad_id == events[2].pk
    assert report.checked == 2
    with pytest.raises(CommandError, match=f"row {events[2].pk}"):
        call_command("audit", "verify")


@pytest.mark.django_db
def test_verify_notices_a_deleted_row():
    events = _log(3)
    with connection.cursor() as cursor:
        _disable_audit_triggers(cursor)
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [events[1].pk])
    report = audit_verify()
    assert not report.ok
    assert report.first_bad_id == events[2].pk


@pytest.mark.django_db
def test_verify_command_fails_loudly_on_a_missing_tail():
    _log(2)
    from openiop.core.models import AuditHead

    AuditHead.objects.filter(singleton=1).update(last_hash="f" * 64)
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("audit", "verify")
