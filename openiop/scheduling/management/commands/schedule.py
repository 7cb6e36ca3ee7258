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
        parser.add_argument("action", choices=["solve", "week", "run-draft"])
        parser.add_argument("draft", nargs="?", help="run-draft: the draft's id")
        parser.add_argument("--instance", help="solve: instance JSON file, or - for stdin")
        parser.add_argument("--program", help="week: the program's id or exact name")
        parser.add_argument("--week", help="week: any day of the week (YYYY-MM-DD)")
        parser.add_argument("--export", help="week: also write the instance to this file")
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
        if options["action"] == "week":
            return week_command(self, options)
        if options["action"] == "run-draft":
            return run_draft_command(self, options)
        if not options["instance"]:
            self._fail(["error: solve needs --instance FILE.json (or - for stdin)"])
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


def _find_program(cmd: Command, ref: str) -> Any:
    import uuid

    from openiop.organizations.models import Program

    programs = Program.unscoped.select_related("site")
    try:
        found = list(programs.filter(public_id=uuid.UUID(ref)))
    except ValueError:
        found = list(programs.filter(name=ref))
    if len(found) != 1:
        what = "no program" if not found else f"{len(found)} programs (give the id)"
        cmd._fail([f"error: --program: {what} matches {ref!r}"])
    return found[0]


def week_command(cmd: Command, options: dict[str, Any]) -> None:
    """``schedule week --program P --week YYYY-MM-DD [--export FILE]``: build the week's instance
    from the database, solve it into a draft, print a summary. Runs in this process (it is the
    command line; the web board uses the background runner)."""
    import datetime as dt

    from django.core.exceptions import ValidationError

    from openiop.scheduling import week

    if not options["program"] or not options["week"]:
        cmd._fail(["error: week needs --program and --week"])
    try:
        day = dt.date.fromisoformat(options["week"])
    except ValueError:
        cmd._fail([f"error: --week: {options['week']!r} is not a date (YYYY-MM-DD)"])
    if options["time_limit"] <= 0:
        cmd._fail([f"error: --time-limit: must be positive, got {options['time_limit']}"])
    program = _find_program(cmd, options["program"])
    monday = week.monday_of(day)
    try:
        instance = week.build_instance(program=program, week_start=monday)
    except (ValidationError, InstanceError) as exc:
        cmd._fail([f"error: cannot build the week: {exc}"])
    if options["export"]:
        with open(options["export"], "w", encoding="utf-8") as fh:
            json.dump(instance, fh, indent=2, ensure_ascii=False)
        cmd.stderr.write(f"wrote {options['export']}", style_func=lambda s: s)
    draft = week.draft_create(actor=None, program=program, week_start=monday)

    def progress(message: str, elapsed: float) -> None:
        cmd.stderr.write(f"[{elapsed:6.2f}s] {message}", style_func=lambda s: s)

    draft = week.draft_solve(
        actor=None, draft=draft, time_limit=options["time_limit"], on_progress=progress
    )
    solution = draft.solution or {}
    meeting = sum(1 for p in solution.get("patients", []) if p.get("meets_minimum"))
    cmd.stdout.write(f"{program.name}, week of {monday:%Y-%m-%d}")
    cmd.stdout.write(
        f"patients meeting the minimum: {meeting} / {len(solution.get('patients', []))}"
    )
    cmd.stdout.write(f"groups: {len(solution.get('groups', []))}")
    cmd.stdout.write(f"solver status: {solution.get('status')}")
    cmd.stdout.write(f"draft: {draft.public_id} ({draft.status})")


def run_draft_command(cmd: Command, options: dict[str, Any]) -> None:
    """``schedule run-draft <id>``: the background runner started by the board."""
    import uuid

    from openiop.scheduling import week
    from openiop.scheduling.models import ScheduleDraft

    try:
        key = uuid.UUID(str(options["draft"]))
        draft = ScheduleDraft.unscoped.get(public_id=key)
    except (ValueError, ScheduleDraft.DoesNotExist):
        cmd._fail([f"error: no draft {options['draft']!r}"])
    limit = options["time_limit"] if options["time_limit"] > 0 else 20.0
    draft = week.run_draft(draft=draft, time_limit=min(limit, 30.0))
    cmd.stdout.write(f"draft {draft.public_id}: {draft.status}")
