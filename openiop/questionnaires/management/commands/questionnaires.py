"""``openiop questionnaires score INSTRUMENT --answers A,B,C,... [--sex male|female]``.

Prints the score as one line of JSON, e.g.
``{"instrument": "phq9", "total": 12, "severity": "moderate", "flags": [], "positive": null,
"subscales": {}}``. Each answer is the chosen option's code in the instrument's published coding
(see ``docs/questionnaires.md``). Wrong count, out-of-range or non-integer answers print
``error: <message naming the item>`` to stderr and exit with status 2. A thin shell around the
pure :mod:`openiop.questionnaires.instruments`; nothing is stored or audited.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from openiop.questionnaires.instruments import registry
from openiop.questionnaires.instruments.base import AnswerError

EXIT_BAD_INPUT = 2


class Command(BaseCommand):
    help = (
        "Standard questionnaires. 'score INSTRUMENT --answers 0,1,2,...' prints the score as "
        f"JSON. INSTRUMENT is one of: {', '.join(registry.KEYS)}."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["score"])
        parser.add_argument("instrument", help=", ".join(registry.KEYS))
        parser.add_argument(
            "--answers",
            required=True,
            help="comma-separated answer codes in item order, e.g. 1,2,0,3,...",
        )
        parser.add_argument("--sex", choices=["male", "female"], default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        key: str = options["instrument"]
        if key not in registry.INSTRUMENTS:
            known = ", ".join(registry.KEYS)
            self._fail(f"error: unknown instrument {key!r}; choose one of {known}")
        raw: str = options["answers"]
        answers = [part.strip() for part in raw.split(",")] if raw.strip() else []
        try:
            result = registry.score(key, answers, sex=options.get("sex"))
        except AnswerError as exc:
            self._fail(f"error: {exc}")
        self.stdout.write(json.dumps(result.as_dict()))

    def _fail(self, line: str) -> NoReturn:
        self.stderr.write(line, style_func=lambda s: s)
        raise SystemExit(EXIT_BAD_INPUT)
