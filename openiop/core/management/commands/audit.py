"""``openiop audit verify``: recompute the audit hash chain and report the first broken row."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiop.core.audit import audit_verify


class Command(BaseCommand):
    help = "Audit trail tools. 'verify' checks that no audit row was changed, removed or reordered."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify()
        if not report.ok:
            where = f" at row {report.first_bad_id}" if report.first_bad_id else ""
            raise CommandError(
                f"audit chain BROKEN{where}: {report.problem} "
                f"({report.checked} rows verified before it)"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {report.checked} rows verified"))
