"""``openiop backup --out FILE``: a consistent copy of the database plus a manifest of row counts
and content hashes, taken while the server keeps running (see ``openiop.core.backup``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from openiop.core.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the database to one file (SQLite online backup or pg_dump) with a manifest of "
        "row counts and content hashes that 'openiop restore' checks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="the backup file to write")
        parser.add_argument("--database", default="default", help="the Django database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        settings = connections[options["database"]].settings_dict
        try:
            result = backup(settings, options["out"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        m = result.manifest
        self.stdout.write(
            self.style.SUCCESS(
                f"backup written to {result.path} ({result.size / 1e6:.1f} MB): "
                f"{len(m.tables)} tables, {m.total_rows} rows, {m.engine}"
            )
        )
