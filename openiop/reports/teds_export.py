"""The TEDS discharge (TEDS-D) file: one row per episode segment discharged in a period.

Coding is ``reports.teds`` (pure); this module reads the episodes and hands the rows back with the
patients they belong to (for the audit row) and any problem that stops a row from being coded.

Which discharges: the organization's episodes discharged in [from, to] that had been admitted
(a removal from the waiting list is no treatment discharge). Each segment is its own row: a
step up or step down inside OpenIOP closes a segment with REASON 4 and opens a new one, which is
how a state system receives it (a discharge record and an admission record), so a transfer's
first segment appears with REASON 4 and the continuation later with its own reason. Aftercare
groups (programs an aftercare plan component points to) are not IOP treatment and are left out.

Columns (``teds.TEDS_COLUMNS``): CASEID = the episode's public id; SERVICES = SERVICES_D = 6
(ambulatory, intensive outpatient); REASON = the discharge reason; LOS from the admission day to
the earlier of the discharge day and the last attended session (``teds.los_days``); SUB1 = the
primary substance; FREQ1 from the days of use in the 30 days before admission (for a continuation
segment without its own value: the previous segment's days of use before its discharge, i.e. the
30 days before this admission); FREQ1_D from the days of use in the 30 days before discharge.
EMPLOY, LIVARAG and ARRESTS are not recorded at admission or discharge yet: -9.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max, QuerySet

from openiop.aftercare.models import AftercareComponent
from openiop.attendance.models import AttendanceRecord
from openiop.enrollment.models import Episode
from openiop.reports import teds


@dataclass(frozen=True)
class TedsProblem:
    """A discharge that cannot be coded, and why (e.g. SUB1 "none" with use reported)."""

    episode: Any
    message: str


@dataclass
class TedsExport:
    start: dt.date
    end: dt.date
    rows: list[teds.TedsDischargeRow] = field(default_factory=list)
    patients: list[Any] = field(default_factory=list)  # one per row, for the audit trail
    problems: list[TedsProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _freq(days: int | None) -> int:
    return teds.freq_code(days)


def _teds_queryset(organization: Any, start: dt.date, end: dt.date) -> QuerySet[Episode]:
    org_id = organization.pk
    aftercare_programs = (
        AftercareComponent.objects.for_org(org_id)
        .filter(program__isnull=False)
        .values("program_id")
    )
    return (
        Episode.objects.for_org(org_id)
        .filter(
            status=Episode.Status.DISCHARGED,
            discharged_on__range=(start, end),
            admitted_on__isnull=False,
            discharge_reason__isnull=False,
        )
        .exclude(program_id__in=aftercare_programs)
    )


def teds_episodes(organization: Any, start: dt.date, end: dt.date) -> list[Episode]:
    """The discharged, once-admitted treatment segments of ``[start, end]``, oldest first."""
    return list(
        _teds_queryset(organization, start, end)
        .select_related("patient", "program__site", "transferred_from")
        .order_by("discharged_on", "admitted_on", "id")
    )


def _last_contacts(organization: Any, start: dt.date, end: dt.date) -> dict[int, dt.datetime]:
    """Episode id -> start of its last attended session, for the period's discharges (1 query)."""
    rows = (
        AttendanceRecord.objects.for_org(organization.pk)
        .filter(
            episode_id__in=_teds_queryset(organization, start, end).values("id"),
            status__in=AttendanceRecord.ATTENDED,
        )
        .values("episode_id")
        .annotate(last=Max("session__starts_at"))
    )
    return {r["episode_id"]: r["last"] for r in rows if r["last"] is not None}


def teds_export(
    *,
    organization: Any,
    start: dt.date,
    end: dt.date,
    progress: Callable[[int, int], Any] | None = None,
) -> TedsExport:
    """Code every discharge of the period (see the module docstring). Reads only; the caller
    audits the export (one row naming every patient in it). ``progress(done, total)`` is called
    after each row."""
    if end < start:
        raise ValueError("the period ends before it starts")
    episodes = teds_episodes(organization, start, end)
    last_contact = _last_contacts(organization, start, end) if episodes else {}
    export = TedsExport(start=start, end=end)
    for done, episode in enumerate(episodes, start=1):
        assert episode.admitted_on is not None and episode.discharged_on is not None
        last = last_contact.get(episode.pk)
        last_on = last.astimezone(episode.program.site.tz).date() if last else None
        if last_on is not None and last_on < episode.admitted_on:
            last_on = None  # a session dated before admission is no contact of this stay
        baseline = episode.baseline_days_used_30
        if baseline is None and episode.transferred_from is not None:
            baseline = episode.transferred_from.discharge_days_used_30
        try:
            row = teds.teds_row(
                case_id=str(episode.public_id),
                admitted_on=episode.admitted_on,
                discharged_on=episode.discharged_on,
                reason=int(episode.discharge_reason or 0),
                sub1=episode.primary_substance,
                freq1=_freq(baseline),
                freq1_d=_freq(episode.discharge_days_used_30),
                last_contact_on=last_on,
            )
        except (TypeError, ValueError) as exc:
            export.problems.append(TedsProblem(episode, str(exc)))
        else:
            export.rows.append(row)
            export.patients.append(episode.patient)
        if progress is not None:
            progress(done, len(episodes))
    return export


def teds_csv(rows: list[teds.TedsDischargeRow]) -> str:
    """The CSV text: the TEDS-D column names as the header, one coded row per discharge. Every
    value is a code or a UUID, so no cell can be read as a spreadsheet formula."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(teds.TEDS_COLUMNS)
    for row in rows:
        writer.writerow(row.as_row())
    return buf.getvalue()
