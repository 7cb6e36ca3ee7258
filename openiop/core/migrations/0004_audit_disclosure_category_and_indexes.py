"""The "disclosure" audit category, an index for the audit report (organization, time, id), and on
PostgreSQL a GIN index on ``detail`` (jsonb) for "which rows name this patient" (``detail @>
{"patients": [...]}``, selectors_audit.patient_access). SQLite stores JSON as text and has no GIN:
nothing to do there.

The GIN index uses ``jsonb_path_ops``: smaller and faster than the default operator class for the
one operator the app uses on ``detail`` (containment, ``@>``). Both indexes are built in the
migration's transaction; on a very large audit table, build them beforehand with
``CREATE INDEX CONCURRENTLY`` under the same names (the statements below then do nothing).
"""

from django.db import migrations, models

GIN_INDEX = "audit_detail_gin_idx"


def create_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {GIN_INDEX} ON core_auditevent "
        "USING GIN (detail jsonb_path_ops)"
    )


def drop_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_clinical_billing_categories")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="category",
            field=models.CharField(
                choices=[
                    ("demographics", "Demographics"),
                    ("episode", "Episode of care"),
                    ("schedule", "Schedule"),
                    ("attendance", "Attendance"),
                    ("compliance", "Weekly hours"),
                    ("clinical", "Clinical record"),
                    ("billing", "Billing and authorizations"),
                    ("administrative", "Administrative"),
                    ("disclosure", "Disclosures (42 CFR Part 2)"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                fields=["organization_id", "occurred_at", "id"], name="audit_org_time_idx"
            ),
        ),
        migrations.RunPython(create_gin_index, drop_gin_index, elidable=False),
    ]
