"""``openiop analyze``: refresh the database's query-planner statistics (see core/dbstats.py).

Run it after loading a lot of data and from the nightly cron (docs/operations.md). It only reads
and summarizes the tables; no row changes.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from openiop.core.dbstats import analyze


class Command(BaseCommand):
    help = "Refresh the database's query-planner statistics (run nightly and after bulk loads)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="the Django database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        what = analyze(connections[options["database"]])
        self.stdout.write(f"{what}: done in {time.monotonic() - started:.1f} s")
