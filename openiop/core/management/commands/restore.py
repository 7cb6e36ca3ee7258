"""``openiop restore FILE [--yes]``: put a backup back and prove it arrived whole.

Refuses a database that holds data unless ``--yes`` (and says what would be replaced). After the
copy it checks the database (SQLite ``PRAGMA integrity_check``), compares every table's row count
and content hash with the backup's manifest, and verifies the audit trail's hash chain.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from openiop.core.audit import audit_verify
from openiop.core.backup import BackupError, NeedsConfirmation, restore
from openiop.core.dbstats import analyze


class Command(BaseCommand):
    help = (
        "Restore a backup made by 'openiop backup', then check counts, content hashes, "
        "database integrity and the audit chain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the backup file")
        parser.add_argument(
            "--yes", action="store_true", help="replace a database that already holds data"
        )
        parser.add_argument("--database", default="default", help="the Django database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        alias = options["database"]
        settings = connections[alias].settings_dict
        try:
            result = restore(
                settings,
                options["file"],
                replace=options["yes"],
                # our own connection must not hold the file or a lock while the copy goes in
                before_write=connections[alias].close,
            )
        except NeedsConfirmation as exc:
            self.stderr.write(f"Restoring would replace everything in {settings['NAME']}:")
            for table, rows in sorted(exc.existing.items(), key=lambda kv: (-kv[1], kv[0]))[:15]:
                self.stderr.write(f"  {table:<40} {rows:>10} rows")
            if len(exc.existing) > 15:
                self.stderr.write(f"  ... and {len(exc.existing) - 15} more tables")
            raise CommandError(f"{exc}; run again with --yes to replace it") from None
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        connections[alias].close()
        m = result.manifest
        if result.replaced:
            replaced = sum(result.replaced.values())
            self.stdout.write(f"replaced {replaced} rows in {len(result.replaced)} tables")
        self.stdout.write(f"backup of {m.created_at}: {len(m.tables)} tables, {m.total_rows} rows")
        self.stdout.write(f"integrity check: {result.integrity}")
        if not result.comparison.ok:
            raise CommandError(
                f"restored database does not match the backup: {result.comparison.describe()}"
            )
        self.stdout.write(
            f"restored {len(result.restored.tables)} tables, {result.restored.total_rows} rows: "
            "counts and hashes match the backup"
        )
        if not result.integrity.startswith("ok"):
            raise CommandError(f"integrity check failed: {result.integrity}")
        chain = audit_verify()
        if not chain.ok:
            raise CommandError(
                f"audit chain BROKEN at row {chain.first_bad_id}: {chain.problem} "
                f"({chain.checked} rows verified before it)"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {chain.checked} rows verified"))
        # pg_restore brings no planner statistics; refresh them before the first user arrives.
        self.stdout.write(f"planner statistics: {analyze(connections[alias])}")
