"""``openiop demo``: build the Riverbend demo clinic in an empty database and print the log-ins."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone
from tqdm import tqdm

from openiop.core.dbstats import analyze
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
        parser.add_argument(
            "--scale",
            choices=("small", "large"),
            default="small",
            help="small: the Riverbend demo clinic (default); large: a 10-site organization "
            "with five years of history, for benchmarks (see openiop/organizations/demo_large.py)",
        )
        parser.add_argument(
            "--patients",
            type=int,
            default=None,
            help="patients (default 60; 20000 with --scale large)",
        )
        parser.add_argument(
            "--years", type=int, default=5, help="years of history with --scale large (default 5)"
        )
        parser.add_argument("--weeks", type=int, default=8, help="weeks of history (default 8)")
        parser.add_argument(
            "--url", default=demo.LOGIN_URL,
            help=f"the log-in address printed at the end (default {demo.LOGIN_URL})",
        )  # fmt: skip
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
        if options["scale"] == "large":
            self._large(options)
            return
        patients = 60 if options["patients"] is None else options["patients"]
        weeks = options["weeks"]
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
                self._logins(options["url"])
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
        analyze(connection)  # planner statistics for the tables just filled
        elapsed = time.monotonic() - started
        c = result.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"Built {demo.ORG_NAME} for {today:%A %Y-%m-%d} in {elapsed:.1f} s: "
                f"{c['patients']} patients, {c['episodes']} episodes, {c['sessions']} sessions, "
                f"{c['attendance']} attendance records."
            )
        )
        self._logins(options["url"])

    def _large(self, options: dict[str, Any]) -> None:
        from openiop.organizations import demo_large

        patients = options["patients"] or demo_large.DEFAULT_PATIENTS
        years = options["years"]
        if patients < 10 or patients > 200_000:
            raise CommandError("--patients must be between 10 and 200000 with --scale large")
        if years < 1 or years > 10:
            raise CommandError("--years must be between 1 and 10")
        today = (
            _date(options["today"])
            if options["today"]
            else timezone.localdate(timezone=demo.DEMO_TZ)
        )
        if demo_large.database_has_large():
            if options["if_empty"]:
                self.stdout.write("The large organization already exists; nothing was built.")
                return
            raise CommandError(f"{demo_large.ORG_NAME} already exists in this database")
        quiet = options.get("verbosity", 1) == 0
        bars: dict[str, tqdm] = {}

        def progress(phase: str, done: int, total: int, counts: dict[str, int]) -> None:
            bar = bars.get(phase)
            if bar is None:
                bar = bars[phase] = tqdm(
                    total=total, desc=phase, unit="wk" if phase == "history" else "row",
                    file=self.stderr._out, disable=quiet, dynamic_ncols=True,
                )  # fmt: skip
            bar.update(done - bar.n)
            if counts:
                keys = ("sessions", "attendance", "notes", "questionnaires", "claims",
                        "audit_events", "patients", "episodes")  # fmt: skip
                bar.set_postfix({k: counts[k] for k in keys if k in counts}, refresh=False)
            if done >= total:
                bar.close()

        started = time.monotonic()
        result = demo_large.build_large(
            seed=options["seed"], patients=patients, years=years, today=today, progress=progress
        )
        for bar in bars.values():
            bar.close()
        elapsed = time.monotonic() - started
        self.stdout.write(self._table(result.counts, result.seconds, elapsed))
        self.stdout.write(
            self.style.SUCCESS(
                f"Built {demo_large.ORG_NAME} for {today:%A %Y-%m-%d} in {elapsed:.1f} s."
            )
        )
        rows = [("Username", "Role", "Password"), *result.logins]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for row in rows:
            self.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))

    @staticmethod
    def _table(counts: dict[str, int], seconds: dict[str, float], elapsed: float) -> str:
        from openiop.organizations import demo_large

        lines = ["", f"{'phase':<16}{'seconds':>10}", "-" * 26]
        lines += [f"{p:<16}{seconds.get(p, 0.0):>10.1f}" for p in demo_large.PHASES]
        lines += ["-" * 26, f"{'total':<16}{elapsed:>10.1f}", ""]
        lines += [f"{'rows':<16}{'count':>12}", "-" * 28]
        lines += [f"{k:<16}{v:>12,}" for k, v in counts.items()]
        return "\n".join(lines) + "\n"

    def _logins(self, url: str) -> None:
        rows = [("Username", "Role", "Password"), *demo.logins()]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        self.stdout.write("")
        for n, row in enumerate(rows):
            line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
            self.stdout.write(line.rstrip())
            if n == 0:
                self.stdout.write("  ".join("-" * w for w in widths))
        self.stdout.write("")
        self.stdout.write(f"Open {url}")
