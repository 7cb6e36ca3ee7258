"""``openiop demo``: build the Riverbend demo clinic in an empty database and print the log-ins."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from openiop.organizations import demo


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today must be a date like 2026-11-18, not {value!r}") from None


class Command(BaseCommand):
    help = (
        "Fill an empty database with a realistic demo clinic (Riverbend Recovery Center): sites, "
        "programs, staff log-ins, patients, episodes, sessions and attendance. Deterministic: the "
        "same --seed and --today give the same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument("--patients", type=int, default=60, help="patients (default 60)")
        parser.add_argument("--weeks", type=int, default=8, help="weeks of history (default 8)")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (but print the log-ins) when the database already has data",
        )
        parser.add_argument(
            "--today",
            type=str,
            default=None,
            help="build the demo as if today were YYYY-MM-DD (default: today, America/New_York)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        patients, weeks = options["patients"], options["weeks"]
        if patients < 1 or patients > 5000:
            raise CommandError("--patients must be between 1 and 5000")
        if weeks < 1 or weeks > 52:
            raise CommandError("--weeks must be between 1 and 52")
        today = (
            _date(options["today"])
            if options["today"]
            else timezone.localdate(timezone=demo.DEMO_TZ)
        )
        if demo.database_has_data():
            if options["if_empty"]:
                self.stdout.write("The database already has data; the demo was not built.")
                self._logins()
                return
            raise CommandError("the database already has data; use a fresh database")

        started = time.monotonic()
        with tqdm(
            total=demo.progress_total(patients),
            desc="Building demo clinic",
            unit="step",
            file=self.stderr._out,
            leave=False,
            disable=options.get("verbosity", 1) == 0,
        ) as bar:
            result = demo.build_demo(
                seed=options["seed"],
                patients=patients,
                weeks=weeks,
                today=today,
                progress=bar.update,
            )
        elapsed = time.monotonic() - started
        c = result.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"Built {demo.ORG_NAME} for {today:%A %Y-%m-%d} in {elapsed:.1f} s: "
                f"{c['patients']} patients, {c['episodes']} episodes, {c['sessions']} sessions, "
                f"{c['attendance']} attendance records."
            )
        )
        self._logins()

    def _logins(self) -> None:
        rows = [("Username", "Role", "Password"), *demo.logins()]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        self.stdout.write("")
        for n, row in enumerate(rows):
            line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
            self.stdout.write(line.rstrip())
            if n == 0:
                self.stdout.write("  ".join("-" * w for w in widths))
        self.stdout.write("")
        self.stdout.write(f"Open {demo.LOGIN_URL}")
