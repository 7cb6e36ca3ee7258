"""Payer authorizations for the demo clinic (called by ``openiop demo`` after attendance exists).

Most episodes in treatment get authorizations in four-week blocks from admission, as a payer's
concurrent review would grant them (earlier blocks ended, the current one in force); one is
about to run out (one unit left) and one has none, so the dashboard's alerts have something to
show. Deterministic for a given ``rng`` state. Written directly (no audit rows): generating
fictitious data is not a read or write of anyone's record.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from typing import Any

from openiop.billing.models import Authorization
from openiop.billing.selectors import usages_for
from openiop.enrollment.models import Episode

PAYERS = (
    ("Blue River Health Plan", "BRH"),
    ("Keystone Medicaid", "KMC"),
    ("Summit Commercial", "SUM"),
    ("Evergreen Behavioral (managed care)", "EVB"),
)
BLOCK_DAYS = 28


def seed_authorizations(
    *, organization: Any, episodes: Iterable[Episode], rng: random.Random, today: dt.date
) -> int:
    """Write authorizations for the open, admitted ``episodes``; returns how many were written."""
    active = sorted(
        (
            e for e in episodes
            if e.organization_id == organization.pk and e.status != Episode.Status.DISCHARGED
            and e.admitted_on is not None and e.admitted_on <= today
        ),
        key=lambda e: e.pk,
    )  # fmt: skip
    if not active:
        return 0
    missing = active[-1] if len(active) > 2 else None
    running_out = active[0]
    written: list[Authorization] = []
    for episode in active:
        if episode is missing:
            continue
        payer, prefix = rng.choice(PAYERS)
        kind = (
            Authorization.UnitKind.SESSIONS if rng.random() < 0.2 else Authorization.UnitKind.DAYS
        )
        code = "S9480" if payer.startswith("Summit") else "H0015"
        start = episode.admitted_on
        assert start is not None
        block = 0
        while start <= today:
            end = start + dt.timedelta(days=BLOCK_DAYS - 1)
            per_week = rng.choice((4, 4, 5)) if kind == Authorization.UnitKind.DAYS else 5
            written.append(
                Authorization.objects.create(
                    organization=organization,
                    episode=episode,
                    patient_id=episode.patient_id,
                    payer_name=payer,
                    auth_number=f"{prefix}-{rng.randint(100000, 999999)}",
                    level_of_care=episode.program.level_of_care,
                    service_code=code,
                    unit_kind=kind,
                    units_authorized=per_week * 4,
                    start_on=start,
                    end_on=end,
                    notes="Initial authorization" if block == 0 else "Concurrent review",
                )
            )
            start = end + dt.timedelta(days=1)
            block += 1
    # One authorization in force with a single unit left: the "running low" alert.
    current = [
        a for a in written
        if a.episode_id == running_out.pk and a.start_on <= today <= a.end_on
    ]  # fmt: skip
    if current:
        auth = current[-1]
        auth.episode = running_out
        used = usages_for([auth], today)[0].used
        auth.units_authorized = max(1, int(used) + 1)
        auth.notes = "Concurrent review; payer granted a short extension"
        auth.save(update_fields=["units_authorized", "notes", "updated_at"])
    return len(written)
