"""``openiop fhir <subcommand>``: the FHIR facade's command-line tools.

    openiop fhir client create|list|revoke ...   FHIR clients and their tokens
    openiop fhir import FILE [--org SLUG] [--dry-run]   import Patient ndjson
    openiop fhir export-run JOB     run one queued Bulk Data export (started by the kick-off)

A thin dispatcher: each subcommand is one :data:`SUBCOMMANDS` entry naming its help line, a
function that declares its arguments on the subparser, and its handler as ``"module:function"``.
The handler module is imported only when that subcommand runs, so ``openiop help`` stays fast.
A handler is called as ``handler(command, options)``: write to ``command.stdout`` /
``command.stderr``, raise ``CommandError`` to fail (exit status 1).

To add a subcommand, add an argument function and one entry, e.g.::

    def _import_args(p: CommandParser) -> None:
        p.add_argument("file", help="a Patient .ndjson file")

    SUBCOMMANDS["import"] = Subcommand(
        "import Patient resources from ndjson", _import_args, "openiop.fhir.importer:import_command"
    )
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


@dataclass(frozen=True)
class Subcommand:
    help: str
    arguments: Callable[[CommandParser], None]
    handler: str  # "package.module:function"


def _export_run_args(p: CommandParser) -> None:
    p.add_argument("job", help="the export job's id (the uuid in its status URL)")


def _import_args(p: CommandParser) -> None:
    p.add_argument("file", help="a Patient .ndjson file (as another EHR exports it)")
    p.add_argument("--org", help="the organization's slug (optional when there is only one)")
    p.add_argument("--dry-run", action="store_true", help="report what would happen, save nothing")


def _client_args(p: CommandParser) -> None:
    from openiop.fhir.clients_cli import client_args

    client_args(p)


SUBCOMMANDS: dict[str, Subcommand] = {
    "client": Subcommand(
        "create, list or revoke FHIR clients and their bearer tokens",
        _client_args,
        "openiop.fhir.clients_cli:client_command",
    ),
    "import": Subcommand(
        "import Patient ndjson from another EHR, matched by identifier (created/matched/refused)",
        _import_args,
        "openiop.fhir.importer:import_command",
    ),
    "export-run": Subcommand(
        "run one queued Bulk Data $export job (the kick-off starts this in the background)",
        _export_run_args,
        "openiop.fhir.bulk:export_run_command",
    ),
}


class Command(BaseCommand):
    help = "FHIR tools: " + "; ".join(f"{name}: {s.help}" for name, s in SUBCOMMANDS.items())

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        for name, spec in SUBCOMMANDS.items():
            spec.arguments(sub.add_parser(name, help=spec.help, description=spec.help))

    def handle(self, *args: Any, **options: Any) -> None:
        module, _, function = SUBCOMMANDS[options["subcommand"]].handler.partition(":")
        handler = getattr(importlib.import_module(module), function)
        handler(self, options)
