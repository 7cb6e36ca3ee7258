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
    if not refresh:
        kept = _fresh(organization_id, key, now, max_age, valid)
        if kept is not None:
            return kept
    started = time.perf_counter()
    data = compute()
    compute_ms = int((time.perf_counter() - started) * 1000)
    if max_age > 0:
        _store(organization_id, key, now, compute_ms, data)
    return Snapshot(data, now, compute_ms, computed_now=True)


def _fresh(
    organization_id: int,
    key: str,
    now: dt.datetime,
    max_age: int,
    valid: Callable[[Any], bool] | None,
) -> Snapshot | None:
    """The stored row if it is at most ``max_age`` seconds old at ``now`` and ``valid``."""
    if max_age <= 0:
        return None
    row = PanelSnapshot.objects.filter(organization_id=organization_id, key=key).first()
    if row is None:
        return None
    age = (now - row.computed_at).total_seconds()
    if 0 <= age <= max_age and (valid is None or valid(row.data)):
        return Snapshot(row.data, row.computed_at, row.compute_ms, computed_now=False)
    return None


def snapshot_part(
    *,
    organization_id: int,
    key: str,
    part: str,
    compute: Callable[[], Any],
    derive: Callable[[Any], Any],
    max_age: int,
    now: dt.datetime | None = None,
    refresh: bool = False,
    valid: Callable[[Any], bool] | None = None,
) -> Snapshot:
    """A small part derived from the snapshot ``key`` (``derive(data)``, e.g. the first rows
    and the totals, which is all a reader without a caseload filter needs), stored beside it as
    ``key#part``: reading it does not parse the whole organization's rows. ``valid`` applies to
    both, so the part must carry what it checks."""
    now = now or timezone.now()
    part_key = f"{key}#{part}"
    if not refresh:
        kept = _fresh(organization_id, part_key, now, max_age, valid)
        if kept is not None:
            return kept
    whole = snapshot_get(
        organization_id=organization_id, key=key, compute=compute, max_age=max_age, now=now,
        refresh=refresh, valid=valid,
    )  # fmt: skip
    small = derive(whole.data)
    if max_age > 0:
        _store(organization_id, part_key, whole.computed_at, whole.compute_ms, small)
    return Snapshot(small, whole.computed_at, whole.compute_ms, whole.computed_now)


def first_rows(field: str, limit: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A ``derive`` for :func:`snapshot_part`: the data with only the first ``limit`` rows of
    ``field`` and their whole count as ``<field>_total``."""

    def derive(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, field: data[field][:limit], f"{field}_total": len(data[field])}

    return derive


def panel_snapshot(
    *, scoped: bool, field: str, limit: int | None, **kwargs: Any
) -> tuple[Snapshot, list[Any], int]:
    """A dashboard panel's snapshot as (snapshot, rows, total). A reader with a caseload filter
    reads every row (the filter decides which come first); anyone else reads the small part
    with the first ``limit`` rows. The caller filters ``rows`` further if ``scoped``."""
    if scoped or limit is None:
        snap = snapshot_get(**kwargs)
        return snap, snap.data[field], len(snap.data[field])
    snap = snapshot_part(part=f"first{limit}", derive=first_rows(field, limit), **kwargs)
    return snap, snap.data[field], snap.data[f"{field}_total"]


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
