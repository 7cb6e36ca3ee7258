"""Discharge summary reads: one summary (with its amendments), and the summaries due.

Reading a summary needs ``Perm.NOTE_VIEW`` (billing and front desk do not read the clinical
record); every read is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpRequest

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.clinical.models import DischargeSummary
from openiop.core.access import get_for_user_or_404
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.models import AuditEvent
from openiop.core.snapshots import dashboard_max_age, panel_snapshot
from openiop.enrollment.caseload import is_caseload_scoped, keep_visible, scope_to_caseload
from openiop.enrollment.models import Episode

CAT = AuditEvent.Category.CLINICAL


def discharge_summary_get(
    *, user: Any, public_id: Any, perm: Perm = Perm.NOTE_VIEW, request: HttpRequest | None = None
) -> DischargeSummary:
    """One summary, or 404 (unknown / another organization's) or 403 (role); audited."""
    qs = DischargeSummary.objects.select_related(
        "episode__program__site", "episode__patient", "patient", "author", "signed_by", "amends"
    )
    summary = get_for_user_or_404(qs, user, public_id, perm)
    audit_log(
        actor=user, action="openiop.clinical.discharge_summary.view", category=CAT, obj=summary,
        patient=summary.patient, request=request,
    )  # fmt: skip
    return summary


def discharge_summary_chain(summary: DischargeSummary) -> list[DischargeSummary]:
    """The original and its amendments, oldest first (read as part of the audited view)."""
    original = summary.amends or summary
    return [original] + list(
        DischargeSummary.objects.filter(amends=original)
        .select_related("author", "signed_by")
        .order_by("created_at", "id")
    )


def discharge_summary_for_episode(episode: Episode) -> DischargeSummary | None:
    return (
        DischargeSummary.objects.for_org(episode.organization_id)
        .filter(episode=episode, amends__isnull=True)
        .first()
    )


@dataclass(frozen=True)
class SummaryDue:
    episode: Episode
    due_on: dt.date
    today: dt.date
    draft: DischargeSummary | None

    @property
    def patient(self) -> Any:
        return self.episode.patient

    @property
    def overdue(self) -> bool:
        return self.today > self.due_on

    @property
    def days(self) -> int:
        """Days until due (negative: days overdue)."""
        return (self.due_on - self.today).days


def _due_in(episodes: Any) -> Any:
    signed = DischargeSummary.objects.filter(
        episode=OuterRef("pk"), amends__isnull=True, status=DischargeSummary.Status.SIGNED
    )
    return episodes.filter(status=Episode.Status.DISCHARGED, discharged_on__isnull=False).filter(
        ~Exists(signed), transferred_to__isnull=True
    )


def _due_queryset(user: Any) -> Any:
    return _due_in(scope_to_caseload(Episode.objects.for_org(user.organization_id), user))


def _load_due(qs: Any) -> list[Episode]:
    return list(
        qs.select_related("patient", "program", "primary_counselor").prefetch_related(
            Prefetch(
                "discharge_summaries",
                queryset=DischargeSummary.objects.filter(amends__isnull=True),
                to_attr="originals",
            )
        )
    )


def discharge_summaries_due(
    user: Any, today: dt.date, *, request: HttpRequest | None = None, limit: int | None = None
) -> list[SummaryDue]:
    """Discharged episodes without a signed summary, most overdue first. An episode that
    continued in another program (a transfer) is not a discharge from treatment and is left out.
    ``limit``: only the earliest discharges (the most overdue), for the dashboard panel.
    Roles without ``NOTE_VIEW`` get an empty list. Two queries plus one audit row."""
    if not user_has_perm(user, Perm.NOTE_VIEW):
        return []
    qs = _due_queryset(user).order_by("discharged_on", "pk")
    if limit is not None:
        qs = qs[:limit]
    rows = _rows(_load_due(qs), today)
    audit_log_many(
        actor=user, action="openiop.clinical.discharge_summary.due", category=CAT,
        patients=[r.patient for r in rows], request=request, detail={"due": len(rows)},
    )  # fmt: skip
    return rows


def _rows(episodes: list[Episode], today: dt.date) -> list[SummaryDue]:
    rows = [
        SummaryDue(
            episode=e,
            due_on=e.discharged_on + dt.timedelta(days=e.program.discharge_summary_days),
            today=today,
            draft=e.originals[0] if e.originals else None,
        )
        for e in episodes
        if e.discharged_on is not None
    ]
    rows.sort(key=lambda r: (r.due_on, r.patient.last_name, r.patient.first_name))
    return rows


def discharge_due_context(
    user: Any, today: dt.date, *, request: HttpRequest | None = None, snapshot: bool = False
) -> dict[str, Any]:
    """Context for ``clinical/_discharge_due.html``; None hides the panel for other roles. With
    ``snapshot`` (the dashboard) the due episodes come from the organization's snapshot, at most
    ``OPENIOP_SNAPSHOT_MAX_AGE_SECONDS`` old; the shown rows are re-read, so a summary signed
    since then is not listed."""
    if not user_has_perm(user, Perm.NOTE_VIEW):
        return {"discharge_summaries_due": None}
    if not snapshot:
        rows = discharge_summaries_due(user, today, request=request, limit=PANEL_ROWS)
        total = len(rows) if len(rows) < PANEL_ROWS else _due_queryset(user).count()
        return {"discharge_summaries_due": rows, "discharge_summaries_due_total": total}
    # The dashboard: finding the summaries still missing reads every discharged episode of the
    # organization's history, so the list of them comes from a snapshot (ADR 0016).
    org_id = user.organization_id
    refresh = request is not None and request.GET.get("refresh") == "1"
    scoped = is_caseload_scoped(user)
    snap, rows, total = panel_snapshot(
        scoped=scoped,
        field="due",
        limit=PANEL_ROWS,
        organization_id=org_id,
        key="dashboard:discharge_summaries_due",
        compute=lambda: {
            "due": list(
                _due_in(Episode.objects.for_org(org_id))
                .order_by("discharged_on", "pk")
                .values_list("pk", "patient_id")
            )
        },
        max_age=dashboard_max_age(),
        refresh=refresh,
        valid=lambda data: isinstance(data, dict) and "due" in data,
    )
    due = [tuple(row) for row in rows]
    if scoped:
        due = keep_visible(user, due, 1)
        total = len(due)
    # Load the first rows again: one signed since the snapshot drops out (and is not shown).
    shown = _load_due(
        _due_in(Episode.objects.for_org(org_id))
        .filter(pk__in=[e for e, _p in due[:PANEL_ROWS]])
        .order_by("discharged_on", "pk")
    )
    shown_rows = _rows(shown, today)
    audit_log_many(
        actor=user, action="openiop.clinical.discharge_summary.due", category=CAT,
        patients=[r.patient for r in shown_rows], request=request, detail={"due": total},
    )  # fmt: skip
    return {
        "discharge_summaries_due": shown_rows,
        "discharge_summaries_due_total": total - (min(len(due), PANEL_ROWS) - len(shown_rows)),
        "discharge_summaries_due_computed_at": snap.computed_at,
    }


# The dashboard panel lists this many (the most overdue) and gives the total.
PANEL_ROWS = 25
