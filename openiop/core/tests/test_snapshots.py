"""The snapshot store behind the dashboard's organization-wide panels and the outcome report
(ADR 0016)."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.core.models import PanelSnapshot
from openiop.core.snapshots import snapshot_get, snapshots_clear

T0 = dt.datetime(2026, 11, 4, 23, 0, tzinfo=dt.UTC)


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, int]:
        self.calls += 1
        return {"value": self.calls}


def _get(org, compute, now, **kw):
    kw.setdefault("max_age", 60)
    return snapshot_get(organization_id=org.pk, key="k", compute=compute, now=now, **kw)


@pytest.mark.django_db
def test_a_snapshot_is_served_until_it_is_older_than_its_age(org):
    compute = Counter()
    first = _get(org, compute, T0)
    assert first.computed_now and first.data == {"value": 1} and first.computed_at == T0
    again = _get(org, compute, T0 + dt.timedelta(seconds=60))
    assert not again.computed_now and again.data == {"value": 1}
    assert again.age_seconds(T0 + dt.timedelta(seconds=60)) == 60
    later = _get(org, compute, T0 + dt.timedelta(seconds=61))
    assert later.computed_now and later.data == {"value": 2}
    assert PanelSnapshot.objects.get().data == {"value": 2}


@pytest.mark.django_db
def test_refresh_a_failed_validity_check_or_an_earlier_now_recompute(org):
    compute = Counter()
    _get(org, compute, T0)
    assert _get(org, compute, T0, refresh=True).data == {"value": 2}
    assert _get(org, compute, T0, valid=lambda data: data["value"] > 5).data == {"value": 3}
    assert _get(org, compute, T0 - dt.timedelta(seconds=1)).data == {"value": 4}
    assert PanelSnapshot.objects.count() == 1


@pytest.mark.django_db
def test_organizations_never_share_a_snapshot(org, other_org):
    _get(org, lambda: {"who": "mine"}, T0)
    theirs = _get(other_org, lambda: {"who": "theirs"}, T0)
    assert theirs.computed_now and theirs.data == {"who": "theirs"}
    assert _get(org, lambda: {"who": "never"}, T0).data == {"who": "mine"}


@pytest.mark.django_db
def test_age_zero_computes_every_time_and_stores_nothing(org):
    compute = Counter()
    assert _get(org, compute, T0, max_age=0).data == {"value": 1}
    assert _get(org, compute, T0, max_age=0).data == {"value": 2}
    assert not PanelSnapshot.objects.exists()


@pytest.mark.django_db
def test_clearing_snapshots_loses_nothing_but_time(org):
    compute = Counter()
    _get(org, compute, T0)
    assert snapshots_clear(organization_id=org.pk, prefix="k") == 1
    assert _get(org, compute, T0).computed_now


@pytest.mark.django_db
def test_a_part_with_the_first_rows_is_read_without_the_whole(org):
    from openiop.core.snapshots import first_rows, snapshot_part

    calls = []

    def compute():
        calls.append(1)
        return {"rows": list(range(100)), "week": "2026-11-02"}

    def part(now, **kw):
        return snapshot_part(
            organization_id=org.pk, key="big", part="first3", compute=compute,
            derive=first_rows("rows", 3), max_age=60, now=now, **kw,
        )  # fmt: skip

    first = part(T0)
    assert first.data == {"rows": [0, 1, 2], "rows_total": 100, "week": "2026-11-02"}
    PanelSnapshot.objects.filter(key="big").delete()  # the part alone answers while it is fresh
    assert part(T0 + dt.timedelta(seconds=30)).data["rows_total"] == 100 and len(calls) == 1
    assert part(T0 + dt.timedelta(seconds=30), refresh=True).computed_now and len(calls) == 2
    assert part(T0 + dt.timedelta(seconds=91)).computed_now and len(calls) == 3
    keys = set(PanelSnapshot.objects.values_list("key", flat=True))
    assert keys == {"big", "big#first3"}
