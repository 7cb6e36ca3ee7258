"""``openiop schedule solve --instance FILE.json``: print a weekly schedule (format v1).

A thin shell around :func:`openiop.scheduling.solver.solve` (pure; see
``docs/scheduling/solver.md``). The solution JSON goes to stdout, progress lines to stderr. A bad
instance prints ``error: <json path>: <message>`` and exits with status 2; so does an unreadable
file or invalid JSON. ``--check`` runs the independent validator on the result and exits with 1
if it finds a broken rule (it never should). Nothing is stored and the database is not touched:
long solves belong in a background task or cron, never in a web request.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from openiop.scheduling.solver import InstanceError, check_solution, solve

EXIT_BAD_INPUT = 2
EXIT_INVALID_SOLUTION = 1


class DuplicateFieldError(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateFieldError(key)
        seen[key] = value
    return seen


class Command(BaseCommand):
    help = (
        "Weekly group schedule. 'solve --instance FILE.json' prints a solution in format v1 "
        "(docs/scheduling/instance-format.md). Use - for stdin."
    )
    # A pure computation: it needs neither the database nor a clean bill from the system checks.
    requires_system_checks: list[str] = []
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["solve"])
        parser.add_argument("--instance", required=True, help="instance JSON file, or - for stdin")
        parser.add_argument(
            "--time-limit", type=float, default=30.0, help="seconds for the whole solve (30)"
        )
        parser.add_argument(
            "--repair",
            action="store_true",
            help="keep patients in their current_groups as far as possible",
        )
        parser.add_argument("--workers", type=int, default=2, help="CP-SAT threads (2)")
        parser.add_argument(
            "--check", action="store_true", help="validate the solution against every hard rule"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: str = options["instance"]
        name = "stdin" if path == "-" else path
        if options["time_limit"] <= 0:
            self._fail([f"error: --time-limit: must be positive, got {options['time_limit']}"])
        if options["workers"] < 1:
            self._fail([f"error: --workers: must be at least 1, got {options['workers']}"])
        try:
            if path == "-":
                text = (options.get("stdin") or sys.stdin).read()
            else:
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            self._fail([f"error: cannot read {name}: {exc}"])
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicates)
        except DuplicateFieldError as exc:
            self._fail([f"error: {exc}: field given more than once"])
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            self._fail([f"error: {name}: not valid JSON ({where}: {exc.msg})"])

        def progress(message: str, elapsed: float) -> None:
            self.stderr.write(f"[{elapsed:6.2f}s] {message}", style_func=lambda s: s)

        try:
            solution = solve(
                data,
                time_limit=options["time_limit"],
                repair=options["repair"],
                workers=options["workers"],
                progress=progress,
            )
        except InstanceError as exc:
            self._fail([f"error: {exc.path}: {exc.message}"])
        self.stdout.write(json.dumps(solution, indent=2, ensure_ascii=False))
        if options["check"]:
            problems = check_solution(data, solution)
            for problem in problems:
                self.stderr.write(f"invalid: {problem}", style_func=lambda s: s)
            if problems:
                raise SystemExit(EXIT_INVALID_SOLUTION)
            self.stderr.write("check: the solution keeps every hard rule", style_func=lambda s: s)

    def _fail(self, lines: list[str]) -> NoReturn:
        for line in lines:
            self.stderr.write(line, style_func=lambda s: s)
        raise SystemExit(EXIT_BAD_INPUT)
