"""``openiop placement evaluate FILE.json``: print the level-of-care recommendation for one
assessment (``-`` reads standard input).

A thin shell around :mod:`openiop.placement.rules` (the same logic as the web form and
``POST /api/v1/placement/evaluate``). Input and output are JSON; see ``docs/placement.md``. A bad
or incomplete assessment prints ``error: <field>: <message>`` (one line per problem) to stderr and
exits with status 2; so does an unreadable file or invalid JSON. Nothing is stored or audited:
the command touches no patient record.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from openiop.placement.rules import AssessmentError, evaluate_json

EXIT_BAD_INPUT = 2


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
        "Level-of-care decision support. 'evaluate FILE.json' prints the recommendation for an "
        "assessment (a local heuristic, not the ASAM Criteria software). Use - for stdin."
    )
    # A pure computation: it needs neither the database nor a clean bill from the system checks.
    requires_system_checks: list[str] = []
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["evaluate"])
        parser.add_argument("file", help="assessment JSON file, or - for standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        path: str = options["file"]
        name = "stdin" if path == "-" else path
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
        try:
            result = evaluate_json(data)
        except AssessmentError as exc:
            self._fail([f"error: {field}: {message}" for field, message in exc.errors])
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))

    def _fail(self, lines: list[str]) -> NoReturn:
        for line in lines:
            self.stderr.write(line, style_func=lambda s: s)
        raise SystemExit(EXIT_BAD_INPUT)
