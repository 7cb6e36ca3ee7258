"""Precomputed, organization-wide panels and reports (ADR 0016).

Some pages summarise the whole census: the dashboard's weekly-hours status of every program,
its at-risk list and authorization alerts, the outcome report. Their cost grows with the
organization, not with the page, so a 40-program organization would pay seconds on every load.
Instead the computation runs at most once per ``max_age`` seconds per organization and its
result is kept in :class:`~openiop.core.models.PanelSnapshot` as JSON. Dashboard snapshots
hold ids and numbers only (no names: a reader loads the few rows it shows, through its own
permission and caseload checks, and writes its own audit row); the outcome report's holds its
aggregate numbers and program and category labels, never a patient. Pages show when the
snapshot was computed and offer "Refresh".

``max_age`` 0 means "always compute" and nothing is stored; the caller's read path is the same
(it always works from the JSON data). Deleting snapshots loses nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.core.models import PanelSnapshot


@dataclass(frozen=True)
class Snapshot:
    data: Any
    computed_at: dt.datetime
    compute_ms: int
    computed_now: bool  # True when this call ran the computation

    def age_seconds(self, now: dt.datetime) -> int:
        return max(0, int((now - self.computed_at).total_seconds()))


def dashboard_max_age() -> int:
    return int(settings.OPENIOP_SNAPSHOT_MAX_AGE_SECONDS)


def report_max_age() -> int:
    return int(settings.OPENIOP_REPORT_SNAPSHOT_MAX_AGE_SECONDS)


def snapshot_get(
    *,
    organization_id: int,
    key: str,
    compute: Callable[[], Any],
    max_age: int,
    now: dt.datetime | None = None,
    refresh: bool = False,
    valid: Callable[[Any], bool] | None = None,
) -> Snapshot:
    """The organization's snapshot ``key``, recomputed (and stored) when it is missing, older
    than ``max_age`` seconds, computed "after" ``now`` (a caller asking about an earlier
    instant), rejected by ``valid``, or when ``refresh`` is asked for.

    ``compute`` must return JSON-serialisable data; it runs outside any lock, so two workers
    may compute at once and the later write wins (both results are correct)."""
    now = now or timezone.now()
    row = None
    if not refresh and max_age > 0:
        row = PanelSnapshot.objects.filter(organization_id=organization_id, key=key).first()
    if row is not None:
        age = (now - row.computed_at).total_seconds()
        if 0 <= age <= max_age and (valid is None or valid(row.data)):
            return Snapshot(row.data, row.computed_at, row.compute_ms, computed_now=False)
    started = time.perf_counter()
    data = compute()
    compute_ms = int((time.perf_counter() - started) * 1000)
    if max_age > 0:
        _store(organization_id, key, now, compute_ms, data)
    return Snapshot(data, now, compute_ms, computed_now=True)


def _store(organization_id: int, key: str, now: dt.datetime, compute_ms: int, data: Any) -> None:
    values = {"computed_at": now, "compute_ms": compute_ms, "data": data}
    try:
        with transaction.atomic():
            updated = PanelSnapshot.objects.filter(organization_id=organization_id, key=key).update(
                **values
            )
            if not updated:
                PanelSnapshot.objects.create(organization_id=organization_id, key=key, **values)
    except IntegrityError:  # another worker inserted it first: theirs is as good as ours
        pass


def snapshots_clear(*, organization_id: int | None = None, prefix: str = "") -> int:
    """Delete snapshots (of one organization, and/or whose key starts with ``prefix``)."""
    rows = PanelSnapshot.objects.all()
    if organization_id is not None:
        rows = rows.filter(organization_id=organization_id)
    if prefix:
        rows = rows.filter(key__startswith=prefix)
    deleted, _ = rows.delete()
    return deleted
