"""The query planner's statistics: ``openiop analyze``.

SQLite keeps no statistics until ``ANALYZE`` runs, and without them it can choose a poor index:
measured on the 20,000-patient demo organization, "today's attendance" (``organization_id = ?
AND session_id IN (...)``) scanned the whole organization's 1.8 million rows through the
organization index (0.36 s a query) instead of looking up the sessions (under 1 ms). PostgreSQL's
autovacuum analyzes tables by itself, but not right after a bulk load or a ``pg_restore``; there
``analyze`` runs ``VACUUM (ANALYZE)`` (plain ``ANALYZE`` inside a transaction).

So ``analyze`` runs after the demo generators and a restore, and the operations guide puts it
in the nightly cron. It reads every index whole (about 4 s for the 3 GB large demo): SQLite's
``analysis_limit`` sampling was tried and is wrong for the columns that matter most here. With
1,000 rows sampled per index it estimated about 1,000 rows per organization, so the planner
went back to scanning the organization index.
"""

from __future__ import annotations

from typing import Any

SQLITE_ANALYSIS_LIMIT = 0  # no sampling: see above


def analyze(connection: Any) -> str:
    """Refresh the planner's statistics for every table; returns what was run."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
            cursor.execute("ANALYZE")
            return "ANALYZE (SQLite)"
        if connection.in_atomic_block:  # VACUUM cannot run in a transaction
            cursor.execute("ANALYZE")
            return f"ANALYZE ({connection.vendor})"
        # After a bulk load or a restore, VACUUM also sets the visibility map, so index-only
        # scans stop visiting the table and autovacuum does not do it later under load.
        cursor.execute("VACUUM (ANALYZE)")
        return f"VACUUM (ANALYZE) ({connection.vendor})"
