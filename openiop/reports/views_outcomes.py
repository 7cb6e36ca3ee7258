"""The outcome report page (HTML, printable, CSV) and the TEDS discharge file.

``/reports/outcomes/?program=<public id>&from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv][&refresh=1]``:
aggregate numbers only (no patient is named), one audit row per read. Defaults: every treatment
program, the last 12 months. The report is served from a snapshot (ADR 0016) at most
``OPENIOP_REPORT_SNAPSHOT_MAX_AGE_SECONDS`` old, one per organization, program, period and day;
the page says when it was computed and ``refresh=1`` recomputes it.

``/reports/teds.csv?from=&to=``: one coded row per discharge; the export is audited with one row
naming every patient in the file.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import dateformat, timezone
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from openiop.accounts.permissions import Perm
from openiop.core.access import require_perm
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.jsondc import from_json, schema_fingerprint, to_json
from openiop.core.models import AuditEvent
from openiop.core.snapshots import Snapshot, report_max_age, snapshot_get
from openiop.organizations.models import Program
from openiop.reports import charts_outcomes, outcomes, teds
from openiop.reports.outcomes import OutcomeReport, pct
from openiop.reports.stats import Proportion
from openiop.reports.teds_export import teds_csv, teds_export

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
#: The longest period one report covers (a bigger one is a form error, not a slow page).
MAX_PERIOD_DAYS = 3700
BAND_LABELS = {"all": "All", "0": "0 components", "1": "1 component", "2+": "2+ components"}
#: Stored with each snapshot: one of an older shape of :class:`OutcomeReport` is recomputed.
REPORT_SCHEMA = schema_fingerprint(OutcomeReport)


class PeriodForm(forms.Form):
    """``from`` and ``to`` (both included); blank ones default to the last 12 months."""

    def __init__(self, data: Any, *, today: dt.date, **kwargs: Any) -> None:
        start, end = outcomes.default_period(today)
        merged = {"from": start.isoformat(), "to": end.isoformat()}
        merged.update({k: v for k, v in data.items() if v not in (None, "")})
        super().__init__(merged, **kwargs)
        self.fields["from"] = forms.DateField(label="From", widget=DATE)
        self.fields["to"] = forms.DateField(label="To", widget=DATE)
        self.order_fields(["program", "from", "to"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("from"), data.get("to")
        if start and end:
            if end < start:
                self.add_error("to", "The period ends before it starts.")
            elif (end - start).days > MAX_PERIOD_DAYS:
                self.add_error("to", "Choose a period of at most ten years.")
        return data


class OutcomeFilterForm(PeriodForm):
    program = forms.ChoiceField(label="Program", required=False)
    format = forms.ChoiceField(
        required=False, choices=[("", "HTML"), ("html", "HTML"), ("csv", "CSV")]
    )
    suppress = forms.BooleanField(required=False, label="Hide counts below 11 (CSV)")

    def __init__(self, data: Any, *, organization: Any, today: dt.date) -> None:
        super().__init__(data, today=today)
        self.programs = {
            str(p.public_id): p
            for p in Program.objects.for_org(organization).order_by("-is_active", "name")
        }
        program_field = self.fields["program"]
        assert isinstance(program_field, forms.ChoiceField)
        program_field.choices = [("", "All programs")] + [
            (key, p.name + ("" if p.is_active else " (inactive)"))
            for key, p in self.programs.items()
        ]

    def selected_program(self) -> Program | None:
        key = self.cleaned_data.get("program") or ""
        return self.programs.get(key)


def _organization(request: HttpRequest) -> Any:
    org = getattr(request.user, "organization", None)
    if org is None:
        raise Http404("no organization")
    return org


# --------------------------------------------------------------------------------------------
# Presentation: the same context for the page and for `openiop report outcomes --out x.html`
# --------------------------------------------------------------------------------------------


def _rate(p: Proportion) -> dict[str, Any]:
    return {
        "k": p.successes,
        "n": p.n,
        "pct": pct(p.estimate),
        "ci": f"{pct(p.low)}–{pct(p.high)}" if p.n else "—",
        "has_data": p.n > 0,
    }


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    text = f"{value:.{digits}f}"
    return "0" if text.strip("-0.") == "" else text


def _signed(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    text = _num(value, digits)
    return text if text.startswith("-") or text == "0" else f"+{text}"


def report_context(report: OutcomeReport) -> dict[str, Any]:
    """Everything the ``reports/outcomes_*.html`` partials show, formatted."""
    six = report.six_month
    groups = [("all", "All eligible", six.overall)] + [
        (b.band, b.label, b.summary) for b in six.by_band
    ]
    bands_chart = charts_outcomes.outcome_bands_svg(
        [
            charts_outcomes.BandPoint(
                label=BAND_LABELS.get(key, key),
                responders=(s.success.estimate, s.success.low, s.success.high),
                conservative=(s.success_floor.estimate, s.success_floor.low, s.success_floor.high),
                responded=s.responded,
                eligible=s.eligible,
            )
            for key, _, s in groups
        ]
    )
    hours = report.hours
    q = hours.quartiles
    return {
        "report": report,
        "reasons": [{"code": r.code, "label": r.label, **_rate(r.rate)} for r in report.reasons],
        "completion": _rate(report.completion),
        "dropout": _rate(report.dropout),
        "los": [
            {
                "group": row.group,
                "n": row.n,
                "median": _num(row.median, 0 if row.median is None or row.median % 1 == 0 else 1),
                "iqr": (
                    f"{_num(row.quartiles[0])}–{_num(row.quartiles[1])}" if row.quartiles else "—"
                ),
                "range": f"{row.minimum}–{row.maximum}" if row.n else "—",
            }
            for row in report.los
        ],
        "median_los": report.los[0].median if report.los and report.los[0].n else None,
        "retention": report.retention,
        "retention_points": report.retention.points,
        "retention_90": report.retention_90,
        "hours": {
            "n": hours.n,
            "cohort": hours.cohort,
            "mean": _num(hours.mean),
            "median": _num(hours.median),
            "iqr": f"{_num(q[0])}–{_num(q[1])}" if q else "—",
            "meets": _rate(hours.meets_minimum),
        },
        "questionnaires": [
            {
                "label": c.label,
                "metric": "total score" if c.metric == "total" else f"{c.metric} composite",
                "n": c.n,
                "eligible": c.eligible,
                "first": _num(c.mean_first),
                "last": _num(c.mean_last),
                "change": _signed(c.mean_change),
                "sd": _num(c.sd_change),
                "improved": c.improved,
                "worse": c.worse,
            }
            for c in report.questionnaires
        ],
        "six": six,
        "outcome_groups": [
            {
                "key": key,
                "label": label,
                "eligible": s.eligible,
                "responded": s.responded,
                "abstinent": s.abstinent,
                "reduced": s.reduced,
                "not_met": s.not_met,
                "non_responders": s.non_responders,
                "response": _rate(s.response),
                "success": _rate(s.success),
                "floor": _rate(s.success_floor),
            }
            for key, label, s in groups
        ],
        "reason_labels": teds.REASON_LABELS,
        "retention_chart": charts_outcomes.retention_svg(report.retention.steps),
        "reasons_chart": charts_outcomes.reasons_svg(
            [(r.code, r.label, r.count) for r in report.reasons]
        ),
        "bands_chart": bands_chart,
        "hours_chart": (
            charts_outcomes.hours_svg(hours.values, minimum=hours.minimum) if hours.values else ""
        ),
        "early_reasons": ", ".join(str(c) for c in sorted(outcomes.EARLY_EXIT_REASONS)),
        "admission_score_days": outcomes.ADMISSION_SCORE_DAYS,
    }


def snapshot_key(program: Program | None, start: dt.date, end: dt.date, as_of: dt.date) -> str:
    return f"outcomes:{program.public_id if program else 'all'}:{start}:{end}:{as_of}"


def _snapshot_current(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and data.get("schema") == REPORT_SCHEMA
        and "report" in data
        and isinstance(data.get("body_html"), str)
    )


def report_snapshot(
    *,
    organization: Any,
    program: Program | None,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    refresh: bool = False,
) -> Snapshot:
    """The snapshot of this program, period and day: the report as JSON (for the CSV) and its
    body already rendered (the page: the charts are drawn once per computation, not per look)."""

    def compute() -> dict[str, Any]:
        report = outcomes.outcome_report(
            organization=organization, program=program, start=start, end=end, as_of=as_of
        )
        body = render_to_string("reports/outcomes_body.html", report_context(report))
        return {"schema": REPORT_SCHEMA, "report": to_json(report), "body_html": body}

    return snapshot_get(
        organization_id=organization.pk,
        key=snapshot_key(program, start, end, as_of),
        compute=compute,
        max_age=report_max_age(),
        refresh=refresh,
        valid=_snapshot_current,
    )


def report_from_snapshot(
    *,
    organization: Any,
    program: Program | None,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    refresh: bool = False,
) -> tuple[OutcomeReport, Snapshot]:
    """The outcome report from the organization's snapshot of this program, period and day,
    computed (and stored) when missing, older than ``report_max_age()`` or on ``refresh``."""

    where = {"organization": organization, "program": program, "start": start, "end": end}
    snap = report_snapshot(**where, as_of=as_of, refresh=refresh)
    try:
        return from_json(OutcomeReport, snap.data["report"]), snap
    except (TypeError, ValueError):
        if snap.computed_now:
            raise  # our own data does not read back: a bug, not a stale row
        # A stored row that no longer reads back: recompute it.
        snap = report_snapshot(**where, as_of=as_of, refresh=True)
        return from_json(OutcomeReport, snap.data["report"]), snap


def _computed_line(snap: Snapshot, tz: Any, query: Any) -> dict[str, Any]:
    """When the shown snapshot was computed, in the organization's time zone, and the
    "Recompute" link (the same query with ``refresh=1``)."""
    now = timezone.now()
    local = timezone.localtime(snap.computed_at, tz)
    age = snap.age_seconds(now)
    params = query.copy()
    params["refresh"] = "1"
    return {
        "at": snap.computed_at,
        "time": dateformat.format(local, "H:i"),  # the key holds the day: always today's
        "ago": "just now" if age < 60 else f"{timesince(snap.computed_at, now)} ago",
        "refresh_query": params.urlencode(),
    }


def _bad_request(form: forms.Form) -> HttpResponse:
    """A download link with bad parameters: the errors as plain text, status 400."""
    errors = "; ".join(
        f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in form.errors.items()
    )
    return HttpResponse(f"error: {errors}\n", status=400, content_type="text/plain; charset=utf-8")


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def outcome_report(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.OUTCOME_REPORT)
    org = _organization(request)
    tz = org.tz()
    today = timezone.localdate(timezone=tz)  # org.today() without a second look-up of the site
    form = OutcomeFilterForm(request.GET, organization=org, today=today)
    wants_csv = request.GET.get("format") == "csv"
    if not form.is_valid():
        if wants_csv:
            return _bad_request(form)
        return render(request, "reports/outcomes.html", {"form": form, "report": None})
    program = form.selected_program()
    start, end = form.cleaned_data["from"], form.cleaned_data["to"]
    refresh = request.GET.get("refresh") == "1"
    where = {"organization": org, "program": program, "start": start, "end": end, "as_of": today}
    report: OutcomeReport | None = None
    if wants_csv:
        report, snap = report_from_snapshot(**where, refresh=refresh)
        program_public_id, patient_count = report.program_public_id, report.patient_count
    else:  # the page shows the body rendered with the snapshot: nothing to decode or draw
        snap = report_snapshot(**where, refresh=refresh)
        header = snap.data["report"]
        program_public_id, patient_count = header["program_public_id"], header["patient_count"]
    suppress = bool(form.cleaned_data.get("suppress"))
    audit_log(
        actor=request.user,
        action="openiop.reports.outcomes.read",
        category=AuditEvent.Category.COMPLIANCE,
        obj=program,
        request=request,
        detail={
            "program": program_public_id or "all",
            "from": start.isoformat(),
            "to": end.isoformat(),
            "format": "csv" if wants_csv else "html",
            "suppress_small_cells": suppress,
            "patients_counted": patient_count,
            "snapshot_computed_at": snap.computed_at.isoformat(),
        },
    )
    if report is not None:
        return _csv_response(
            outcomes.csv_text(report, suppress_small_cells=suppress, computed_at=snap.computed_at),
            f"outcomes_{start.isoformat()}_{end.isoformat()}.csv",
        )
    period = {"from": start.isoformat(), "to": end.isoformat()}
    csv_params = {**period, **({"program": program_public_id} if program else {})}
    csv_params.update({"format": "csv", **({"suppress": "on"} if suppress else {})})
    return render(
        request,
        "reports/outcomes.html",
        {
            "form": form,
            "csv_query": urlencode(csv_params),
            "teds_query": urlencode(period),
            "computed": _computed_line(snap, tz, request.GET),
            "report": True,
            "report_body_html": mark_safe(snap.data["body_html"]),  # noqa: S308 (our own render)
        },
    )


@login_required
def teds_export_csv(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.TEDS_EXPORT)
    org = _organization(request)
    form = PeriodForm(request.GET, today=org.today())
    if not form.is_valid():
        return _bad_request(form)
    start, end = form.cleaned_data["from"], form.cleaned_data["to"]
    export = teds_export(organization=org, start=start, end=end)
    detail = {"from": start.isoformat(), "to": end.isoformat()}
    if export.problems:
        audit_log_many(
            actor=request.user,
            action="openiop.reports.teds.problems",
            category=AuditEvent.Category.COMPLIANCE,
            patients=[p.episode.patient for p in export.problems],
            request=request,
            detail=detail,
        )
        return render(
            request,
            "reports/outcomes_teds_problems.html",
            {"export": export, "start": start, "end": end},
            status=422,
        )
    detail["rows"] = len(export.rows)
    if export.patients:
        audit_log_many(
            actor=request.user,
            action="openiop.reports.teds.export",
            category=AuditEvent.Category.COMPLIANCE,
            patients=export.patients,
            request=request,
            detail=detail,
        )
    else:
        audit_log(
            actor=request.user,
            action="openiop.reports.teds.export",
            category=AuditEvent.Category.COMPLIANCE,
            request=request,
            detail=detail,
        )
    return _csv_response(teds_csv(export.rows), f"teds-d_{start.isoformat()}_{end.isoformat()}.csv")
