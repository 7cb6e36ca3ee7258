"""``openiop clinical ur-packet --episode UUID --out FILE.html [--start DATE --end DATE]``:
write an episode's utilization-review packet as one standalone HTML file.

The same packet and the same template as the web page (``clinical/ur_packet.html``), with the
clinician's summary of the episode's latest utilization review, if any. Without dates the packet
covers that review's period, or else the last 30 days of treatment. Bad input (an unknown
episode, a date that is not YYYY-MM-DD, an end before the start, a file that cannot be written)
prints ``error: ...`` to stderr and exits with status 2; nothing is written.

The read is audited with no actor (the command line has no logged-in user) and
``{"via": "cli"}`` in the detail. Sections that need clinical-record access of a named user
(drug screens, questionnaires) are marked as not included.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from openiop.clinical.selectors.ur import (
    check_period,
    default_period,
    latest_review,
    packet_html,
    ur_packet,
)
from openiop.enrollment.models import Episode

EXIT_BAD_INPUT = 2


def _date(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _BadInput(f"--{name} {value!r} is not a date; use YYYY-MM-DD") from None


class _BadInput(Exception):
    pass


class Command(BaseCommand):
    help = "Clinical record tools. 'ur-packet' writes an episode's UR packet as an HTML file."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ur = sub.add_parser("ur-packet", help="write a utilization-review packet (HTML)")
        ur.add_argument("--episode", required=True, help="the episode's public id (UUID)")
        ur.add_argument("--out", required=True, help="the HTML file to write")
        ur.add_argument("--start", help="first day of the period, YYYY-MM-DD")
        ur.add_argument("--end", help="last day of the period, YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._ur_packet(options)
        except _BadInput as exc:
            self._fail(str(exc))

    def _ur_packet(self, options: dict[str, Any]) -> None:
        try:
            key = uuid.UUID(str(options["episode"]))
        except ValueError:
            raise _BadInput(f"--episode {options['episode']!r} is not an episode id") from None
        # The command line acts for the installation, across organizations: an explicit
        # unscoped read (DESIGN.md §4).
        episode = (
            Episode.unscoped.select_related("patient", "program__site", "primary_counselor")
            .filter(public_id=key)
            .first()
        )
        if episode is None:
            raise _BadInput(f"no episode {key}")
        if episode.admitted_on is None:
            raise _BadInput("the episode has not been admitted; there is nothing to review")
        start, end = _date(options.get("start"), "start"), _date(options.get("end"), "end")
        review = latest_review(episode)
        if start is None or end is None:
            if review is not None:
                d_start, d_end = review.period_start, review.period_end
            else:
                d_start, d_end = default_period(episode, episode.program.site.today())
            start, end = start or d_start, end or d_end
        problem = check_period(start, end)
        if problem:
            raise _BadInput(problem)
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise _BadInput(f"cannot write {out}: the folder {out.parent} does not exist")
        packet = ur_packet(
            None, episode, start, end, review=review, verb="export",
            audit_detail={"via": "cli", "file": out.name},
        )  # fmt: skip
        try:
            out.write_text(packet_html(packet), encoding="utf-8")
        except OSError as exc:
            raise _BadInput(f"cannot write {out}: {exc.strerror or exc}") from None
        self.stdout.write(f"wrote {out} ({start.isoformat()} to {end.isoformat()})")

    def _fail(self, message: str) -> NoReturn:
        self.stderr.write(f"error: {message}", style_func=lambda s: s)
        raise SystemExit(EXIT_BAD_INPUT)
