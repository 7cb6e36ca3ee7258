"""``openiop analyze`` leaves planner statistics the database will use."""

from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command
from django.db import connection

from openiop.patients.services import patient_create


def _has_statistics(table: str) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if not cursor.fetchone()[0]:
                return False
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = %s", [table])
        else:
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = %s", [table])
        return bool(cursor.fetchone()[0])


def test_analyze_collects_statistics_for_the_tables(org):
    for n in range(3):
        patient_create(actor=None, organization=org, first_name=f"Ann{n}", last_name="Lee",
                       date_of_birth=dt.date(1990, 1, 1 + n))  # fmt: skip
    if connection.vendor == "sqlite":  # PostgreSQL's autovacuum may have analyzed it already
        assert not _has_statistics("patients_patient")
    out = io.StringIO()
    call_command("analyze", stdout=out)
    assert "ANALYZE" in out.getvalue() and "done in" in out.getvalue()
    assert _has_statistics("patients_patient")
