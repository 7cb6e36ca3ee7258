"""Discharge summaries for the demo clinic (called by ``openiop demo`` after attendance, notes
and plans exist).

Most discharged episodes get a signed summary, signed a few days after discharge and pre-filled
from the record exactly as ``discharge_summary_start`` would; one episode whose summary is
already past due is left without one (the dashboard's "overdue"), and one recent discharge has
a draft. Written directly (no audit rows): generating fictitious data is not a read or write of
anyone's record. Deterministic for a given ``rng`` state.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from typing import Any

from openiop.accounts.models import User
from openiop.accounts.permissions import Role
from openiop.clinical.models import DischargeSummary
from openiop.clinical.services.discharge import (
    due_on,
    goal_progress,
    medications_at_discharge,
    services_received,
)
from openiop.enrollment.models import Episode, TedsDischargeReason

NARRATIVES = {
    TedsDischargeReason.COMPLETED: "Completed the program. Attended consistently, met the "
    "weekly hours in most weeks, and reached the plan's main objectives.",
    TedsDischargeReason.DROPPED_OUT: "Stopped attending after repeated outreach; progress was "
    "partial. Outreach letter sent with re-entry information.",
    TedsDischargeReason.TERMINATED: "Discharged by the program after the behavior agreement "
    "was broken; progress was limited.",
    TedsDischargeReason.TRANSFERRED: "Transferred to another level of care.",
}
AFTERCARE = (
    "Weekly outpatient counseling (ASAM 1.0) at the clinic; first visit within 7 days.",
    "Continuing care group twice a week; recovery coach check-ins by phone.",
    "Outpatient therapy with a community provider; mutual-help meetings three times a week.",
)
REFERRALS = (
    "SMART Recovery (local meeting list given); peer recovery support.",
    "Community mental health center for medication management; sober living referral.",
    "Alcoholics Anonymous home group; employee assistance program.",
)


def _author(episode: Episode, fallback: User | None) -> User | None:
    return episode.primary_counselor or fallback


def seed_discharge_summaries(
    *, organization: Any, episodes: Iterable[Episode], rng: random.Random, today: dt.date
) -> int:
    """Write discharge summaries for the discharged ``episodes``; returns how many."""
    discharged = sorted(
        (
            e for e in episodes
            if e.organization_id == organization.pk and e.status == Episode.Status.DISCHARGED
            and e.discharged_on is not None and not hasattr(e, "transferred_to")
        ),
        key=lambda e: (e.discharged_on, e.pk),
    )  # fmt: skip
    fallback = (
        User.objects.filter(organization=organization, groups__name=Role.COUNSELOR.value)
        .order_by("id")
        .first()
    )
    past_due = [e for e in discharged if due_on(e) < today]
    overdue = past_due[-1] if past_due else None  # the most recent one past its due date
    not_yet_due = [e for e in discharged if due_on(e) >= today]
    draft = not_yet_due[0] if not_yet_due else None
    written = 0
    for episode in discharged:
        author = _author(episode, fallback)
        if episode is overdue or author is None:
            continue
        if episode in not_yet_due and episode is not draft and rng.random() < 0.5:
            continue  # recently discharged, not yet written: still within the due window
        assert episode.discharged_on is not None
        services, last = services_received(episode)
        reason = episode.discharge_reason or TedsDischargeReason.OTHER
        signed = episode is not draft
        signed_at = dt.datetime.combine(
            min(today, episode.discharged_on + dt.timedelta(days=rng.randint(1, 5))),
            dt.time(rng.randint(14, 18), rng.choice((0, 15, 30, 45))),
            tzinfo=episode.program.site.tz,
        )
        DischargeSummary.objects.create(
            organization=organization,
            episode=episode,
            patient_id=episode.patient_id,
            author=author,
            due_on=due_on(episode),
            reason_code=episode.discharge_reason,
            level_at_admission=episode.program.level_of_care,
            level_at_discharge=episode.program.level_of_care,
            last_service_on=last,
            services=services,
            goal_progress=goal_progress(episode, episode.discharged_on),
            medications=medications_at_discharge(episode, episode.discharged_on),
            progress_narrative=NARRATIVES.get(reason, "Discharged; see the episode record."),
            aftercare_plan=rng.choice(AFTERCARE),
            referrals=rng.choice(REFERRALS),
            risk_at_discharge="Screened at discharge: no current suicidal ideation; overdose "
            "risk and naloxone discussed.",
            recommendations="Continue recovery supports; return to IOP if use resumes.",
            status=DischargeSummary.Status.SIGNED if signed else DischargeSummary.Status.DRAFT,
            signed_at=signed_at if signed else None,
            signed_by=author if signed else None,
            created_by=author,
            updated_by=author,
        )
        written += 1
    return written
