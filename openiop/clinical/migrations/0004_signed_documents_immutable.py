"""Signed group notes and discharge summaries are immutable in the database too.

The same guard as migration 0002 gives notes: a row whose OLD status is 'signed' refuses UPDATE
and DELETE from any client (ORM ``update()``, raw SQL, a database console), while the
draft -> signed UPDATE passes.

On SQLite, adding columns to ``clinical_note`` in 0003 rebuilt the table (SQLite cannot alter a
table in place), which drops its triggers; they are created again here. Any later migration that
rebuilds one of these tables on SQLite must do the same (``test_immutability`` fails otherwise).
"""

from django.db import migrations

TABLES = ("clinical_groupnote", "clinical_dischargesummary")
NOTE_SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS clinical_note_signed_no_update BEFORE UPDATE ON clinical_note
    WHEN OLD.status = 'signed'
    BEGIN SELECT RAISE(ABORT, 'signed notes cannot be changed'); END;""",
    """CREATE TRIGGER IF NOT EXISTS clinical_note_signed_no_delete BEFORE DELETE ON clinical_note
    WHEN OLD.status = 'signed'
    BEGIN SELECT RAISE(ABORT, 'signed notes cannot be deleted'); END;""",
]


def _sqlite(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_signed_no_update BEFORE UPDATE ON {table}
        WHEN OLD.status = 'signed'
        BEGIN SELECT RAISE(ABORT, 'signed documents cannot be changed'); END;""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_signed_no_delete BEFORE DELETE ON {table}
        WHEN OLD.status = 'signed'
        BEGIN SELECT RAISE(ABORT, 'signed documents cannot be deleted'); END;""",
    ]


def _postgres(table: str) -> list[str]:
    # clinical_note_signed_immutable() from migration 0002 is generic over the row's status.
    return [
        f"""CREATE TRIGGER {table}_signed_no_change BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION clinical_note_signed_immutable();"""
    ]


def forwards(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    if not postgres:
        for sql in NOTE_SQLITE:
            schema_editor.execute(sql)
    for table in TABLES:
        for sql in _postgres(table) if postgres else _sqlite(table):
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for table in TABLES:
        if postgres:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_signed_no_change ON {table};")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_signed_no_update;")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_signed_no_delete;")


class Migration(migrations.Migration):
    dependencies = [("clinical", "0003_plans_group_notes_cosign_ur_discharge")]
    operations = [migrations.RunPython(forwards, backwards)]
