"""Refuse UPDATE and DELETE of signed clinical notes in the database itself.

``Note.save()`` and ``Note.delete()`` refuse in Python; these triggers also stop
``QuerySet.update()``, raw SQL and any tool that connects to the database directly
(security.md §2.4, T9). Drafts stay writable, and the draft -> signed UPDATE passes because
the trigger looks at the row's OLD status.
"""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS clinical_note_signed_no_update BEFORE UPDATE ON clinical_note
    WHEN OLD.status = 'signed'
    BEGIN SELECT RAISE(ABORT, 'signed notes cannot be changed'); END;""",
    """CREATE TRIGGER IF NOT EXISTS clinical_note_signed_no_delete BEFORE DELETE ON clinical_note
    WHEN OLD.status = 'signed'
    BEGIN SELECT RAISE(ABORT, 'signed notes cannot be deleted'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS clinical_note_signed_no_update;",
    "DROP TRIGGER IF EXISTS clinical_note_signed_no_delete;",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION clinical_note_signed_immutable() RETURNS trigger AS $$
    BEGIN
        IF OLD.status = 'signed' THEN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'signed notes cannot be deleted';
            END IF;
            RAISE EXCEPTION 'signed notes cannot be changed';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER clinical_note_signed_no_change BEFORE UPDATE OR DELETE ON clinical_note
    FOR EACH ROW EXECUTE FUNCTION clinical_note_signed_immutable();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS clinical_note_signed_no_change ON clinical_note;",
    "DROP FUNCTION IF EXISTS clinical_note_signed_immutable();",
]


def forwards(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = POSTGRES_REVERSE if vendor == "postgresql" else SQLITE_REVERSE
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("clinical", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
