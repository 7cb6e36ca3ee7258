"""``openiop report outcomes [--program P] --from D --to D --out FILE`` and
``openiop report teds --from D --to D --out FILE.csv``.

* ``outcomes`` writes the outcome report (the same numbers, definitions and charts as the page
  ``/reports/outcomes/``) as a standalone HTML file (styles inlined, prints like the page) or as
  CSV, chosen by ``--format html|csv`` or the file's extension. Every treatment program when
  ``--program`` (a public id or a program's name) is left out.
* ``teds`` writes the TEDS discharge file: one coded row per discharge of the period. A discharge
  that cannot be coded stops the export; the problems are listed and nothing is written.

``--organization SLUG`` chooses the organization (needed when there is more than one). Bad input
(a date that is not YYYY-MM-DD, a period that ends before it starts, an unknown organization or
program, an unknown format, a folder that does not exist) prints ``error: ...`` to stderr and
exits with status 2; nothing is written. The command acts for the installation (no logged-in
user): its audit rows carry no actor and ``{"via": "cli"}``. Progress goes to stderr.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any, NoReturn

from django.contrib.staticfiles import finders
from django.core.management.base import BaseCommand, CommandParser
from django.template.loader import render_to_string
from tqdm import tqdm

from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.organizations.models import Organization, Program
from openiop.reports import outcomes
from openiop.reports.teds_export import teds_csv, teds_export

EXIT_BAD_INPUT = 2
FORMATS = ("html", "csv")
EXTENSIONS = {".html": "html", ".htm": "html", ".csv": "csv"}
MAX_PERIOD_DAYS = 3700


class _BadInput(Exception):
    pass


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _BadInput(f"--{name} {value!r} is not a date; use YYYY-MM-DD") from None


def _period(options: dict[str, Any]) -> tuple[dt.date, dt.date]:
    start, end = _date(options["start"], "from"), _date(options["end"], "to")
    if end < start:
        raise _BadInput(f"--to {end} is before --from {start}")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise _BadInput("the period is longer than ten years; choose a shorter one")
    return start, end


def _out_path(value: str) -> Path:
    out = Path(value)
    if not out.parent.is_dir():
        raise _BadInput(f"cannot write {out}: the folder {out.parent} does not exist")
    return out


def _inline_css() -> str:
    parts = []
    for name in ("openiop/app.css", "openiop/outcomes_print.css"):
        path = finders.find(name)
        if path:
            parts.append(Path(str(path)).read_text(encoding="utf-8"))
    return "\n".join(parts).replace("</", "<\\/")


class Command(BaseCommand):
    help = (
        "Reports. 'outcomes' writes the program outcome report (HTML or CSV); 'teds' writes the "
        "TEDS discharge file (CSV)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        out = sub.add_parser("outcomes", help="write the outcome report as HTML or CSV")
        out.add_argument("--program", help="a program's public id or name (default: all)")
        out.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        out.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
        out.add_argument("--out", required=True, help="the file to write (.html or .csv)")
        out.add_argument("--format", help="html or csv (default: from the file's extension)")
        out.add_argument(
            "--suppress-small-cells", action="store_true",
            help="CSV: show counts of 1-10 as '<11' and leave their rates out",
        )  # fmt: skip
        out.add_argument(
            "--organization", help="organization slug (needed when there is more than one)"
        )
        ted = sub.add_parser("teds", help="write the TEDS discharge file (CSV)")
        ted.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        ted.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
        ted.add_argument("--out", required=True, help="the CSV file to write")
        ted.add_argument(
            "--organization", help="organization slug (needed when there is more than one)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbose = options.get("verbosity", 1) > 0
        try:
            if options["action"] == "outcomes":
                self._outcomes(options)
            else:
                self._teds(options)
        except _BadInput as exc:
            self._fail(str(exc))

    # ----------------------------------------------------------------------------------------

    def _organization(self, slug: str | None) -> Organization:
        if slug:
            org = Organization.objects.filter(slug=slug).first()
            if org is None:
                raise _BadInput(f"no organization {slug!r}")
            return org
        orgs = list(Organization.objects.order_by("slug")[:21])
        if len(orgs) != 1:
            names = ", ".join(o.slug for o in orgs) or "there is none"
            raise _BadInput(f"choose the organization with --organization ({names})")
        return orgs[0]

    def _program(self, org: Organization, key: str | None) -> Program | None:
        if not key:
            return None
        programs = Program.objects.for_org(org.pk)
        program = None
        try:
            program = programs.filter(public_id=uuid.UUID(key)).first()
        except ValueError:
            pass
        if program is None:
            program = programs.filter(name__iexact=key.strip()).first()
        if program is None:
            names = ", ".join(f"'{p.name}'" for p in programs.order_by("name")) or "none"
            raise _BadInput(f"no program {key!r} in {org.slug} (programs: {names})")
        return program

    def _say(self, message: str) -> None:
        if self.verbose:
            self.stderr.write(f"outcomes: {message}", style_func=lambda s: s)

    def _write(self, out: Path, text: str) -> None:
        try:
            out.write_text(text, encoding="utf-8", newline="")
        except OSError as exc:
            raise _BadInput(f"cannot write {out}: {exc.strerror or exc}") from None

    def _outcomes(self, options: dict[str, Any]) -> None:
        start, end = _period(options)
        out = _out_path(options["out"])
        fmt = (options.get("format") or EXTENSIONS.get(out.suffix.lower(), "")).lower()
        if fmt not in FORMATS:
            raise _BadInput(
                f"cannot tell the format of {out.name}: use --format html or --format csv "
                "(or a .html / .csv file name)"
            )
        org = self._organization(options.get("organization"))
        program = self._program(org, options.get("program"))
        report = outcomes.outcome_report(
            organization=org, program=program, start=start, end=end, progress=self._say
        )
        suppress = bool(options.get("suppress_small_cells"))
        if fmt == "csv":
            text = outcomes.csv_text(report, suppress_small_cells=suppress)
        else:
            from openiop.reports.views_outcomes import report_context

            self._say("drawing the charts")
            text = render_to_string(
                "reports/outcomes_standalone.html",
                {
                    **report_context(report),
                    "inline_css": _inline_css(),
                    "generated_on": report.as_of,
                },
            )
        self._write(out, text)
        audit_log(
            actor=None,
            action="openiop.reports.outcomes.read",
            category=AuditEvent.Category.COMPLIANCE,
            obj=program,
            organization=org,
            detail={
                "program": report.program_public_id or "all",
                "from": start.isoformat(),
                "to": end.isoformat(),
                "format": fmt,
                "suppress_small_cells": suppress,
                "patients_counted": report.patient_count,
                "via": "cli",
            },
        )
        self.stdout.write(
            f"wrote {out}: {report.program_name}, {start} to {end}: {report.admissions} "
            f"admission(s), {report.discharges} discharge(s), "
            f"{report.six_month.eligible} due for the six-month follow-up"
        )

    def _teds(self, options: dict[str, Any]) -> None:
        start, end = _period(options)
        out = _out_path(options["out"])
        if out.suffix.lower() not in ("", ".csv", ".txt"):
            raise _BadInput(f"the TEDS file is CSV: name it .csv (got {out.name})")
        org = self._organization(options.get("organization"))
        with tqdm(
            desc="Coding discharges", unit="discharge", file=self.stderr._out, leave=False,
            disable=not self.verbose,
        ) as bar:  # fmt: skip

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            export = teds_export(organization=org, start=start, end=end, progress=progress)
        if export.problems:
            lines = [
                f"episode {p.episode.public_id} ({p.episode.program.name}, discharged "
                f"{p.episode.discharged_on}): {p.message}"
                for p in export.problems
            ]
            raise _BadInput(
                f"nothing written: {len(lines)} discharge(s) cannot be coded; correct them "
                "first:\n  " + "\n  ".join(lines)
            )
        self._write(out, teds_csv(export.rows))
        audit_log(
            actor=None,
            action="openiop.reports.teds.export",
            category=AuditEvent.Category.COMPLIANCE,
            organization=org,
            detail={
                "from": start.isoformat(),
                "to": end.isoformat(),
                "rows": len(export.rows),
                "patients": sorted({str(p.public_id) for p in export.patients}),
                "via": "cli",
            },
        )
        self.stdout.write(f"wrote {out}: {len(export.rows)} discharge(s), {start} to {end}")

    def _fail(self, message: str) -> NoReturn:
        self.stderr.write(f"error: {message}", style_func=lambda s: s)
        raise SystemExit(EXIT_BAD_INPUT)
