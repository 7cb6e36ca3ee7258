"""Individual notes for the demo clinic: signed weekly DAP notes per admitted episode, written
by the episode's counselor with text that varies per patient; one supervisee counselor (the
last of ``counselors``) whose notes wait in the program director's co-signature queue (the
older ones already co-signed); and one amendment.

Rows are bulk-inserted already signed (INSERT is allowed; the triggers refuse only UPDATE and
DELETE of signed rows), so signature times sit right after each session rather than at the
moment the demo is built. Deterministic for a given ``rng``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from openiop.accounts.models import User
from openiop.accounts.permissions import Role
from openiop.clinical.models import Cosignature, Note
from openiop.enrollment.models import Episode
from openiop.organizations.models import Organization
from openiop.scheduling.services import local_datetime

NOTES_PER_EPISODE = 4
MOODS = ["calm", "tired but engaged", "anxious", "upbeat", "guarded at first, then open", "flat"]
EVENTS = [
    "a difficult conversation with a family member",
    "a stressful week at work",
    "a friend's birthday party where others were using",
    "trouble sleeping most nights",
    "a court date coming up",
    "a good week with the kids",
    "starting a new job search",
    "a payday weekend, historically a high-risk time",
]
SKILLS = [
    "urge surfing",
    "calling a sober support before acting on a craving",
    "HALT check-ins (hungry, angry, lonely, tired)",
    "a written relapse-prevention plan",
    "playing the tape forward",
    "scheduling the high-risk evening hours",
]
ASSESSMENTS = [
    "Progressing toward the objective of {days} days abstinent; insight is improving.",
    "Ambivalence about change persists; motivation fluctuates with stress.",
    "Coping skills are emerging but not yet automatic under stress.",
    "Engaged and making steady progress; no acute risk identified.",
    "Early recovery; cravings are frequent but managed without use.",
]
PLANS = [
    "Continue IOP groups three times a week; practice {skill} daily and log cravings.",
    "Review the craving log next session; attend two mutual-help meetings this week.",
    "Family session to be scheduled; continue current plan of care.",
    "Coordinate with the prescriber about MAT questions; continue groups.",
]


def _dap(rng: random.Random, episode: Episode, week: int) -> dict[str, str]:
    patient = episode.patient
    substance = (episode.get_primary_substance_display() or "alcohol").lower()
    days = max(3, week * 7 + rng.randint(-2, 4))
    skill = rng.choice(SKILLS)
    return {
        "data": (
            f"{patient.first_name} arrived on time, {rng.choice(MOODS)}. Reports {days} days "
            f"without {substance} use and {rng.randint(0, 4)} cravings rated "
            f"{rng.randint(2, 7)}/10 this week, after {rng.choice(EVENTS)}. Practiced {skill}."
        ),
        "assessment": rng.choice(ASSESSMENTS).format(days=days + 14),
        "plan": rng.choice(PLANS).format(skill=skill),
    }


def _sections(fmt: str, rng: random.Random, episode: Episode, week: int) -> dict[str, str]:
    """DAP text, re-cut into the program's format (BIRP and SOAP programs exist in the demo)."""
    dap = _dap(rng, episode, week)
    if fmt == "BIRP":
        return {
            "behavior": dap["data"],
            "intervention": "Motivational interviewing; reviewed the craving log and rehearsed "
            "a coping plan for the coming week.",
            "response": dap["assessment"],
            "plan": dap["plan"],
        }
    if fmt == "SOAP":
        return {
            "subjective": dap["data"],
            "objective": f"Alert and oriented, appropriately groomed, mood {rng.choice(MOODS)}; "
            "no signs of intoxication or withdrawal.",
            "assessment": dap["assessment"],
            "plan": dap["plan"],
        }
    return dap


def _session_days(episode: Episode, today: dt.date) -> list[dt.date]:
    if episode.admitted_on is None or episode.admitted_on >= today:
        return []
    last = min(today - dt.timedelta(days=1), episode.discharged_on or today)
    days: list[dt.date] = []
    day = episode.admitted_on + dt.timedelta(days=2)
    while day <= last:
        while day.weekday() >= 5:  # individual sessions on weekdays
            day += dt.timedelta(days=1)
        if day <= last:
            days.append(day)
        day += dt.timedelta(days=7)
    return days[-NOTES_PER_EPISODE:]


def seed_notes(
    *,
    organization: Organization,
    episodes: Sequence[Episode],
    counselors: Sequence[User],
    rng: random.Random,
    today: dt.date,
) -> dict[str, int]:
    """Write the demo notes; returns counts (notes, awaiting_cosign, cosigned, amendments)."""
    director = (
        User.objects.filter(organization=organization, groups__name=Role.PROGRAM_DIRECTOR.value)
        .order_by("id")
        .first()
    )
    supervisee = counselors[-1] if counselors and director is not None else None
    if supervisee is not None:
        User.objects.filter(pk=supervisee.pk).update(cosigner=director)
        supervisee.cosigner = director
    rows = list(
        Episode.objects.for_org(organization)
        .filter(pk__in=[e.pk for e in episodes], admitted_on__isnull=False)
        .select_related("patient", "program__site", "primary_counselor")
        .order_by("id")
    )
    notes: list[Note] = []
    for episode in rows:
        author = episode.primary_counselor or (rng.choice(counselors) if counselors else None)
        if author is None:
            continue
        tz = episode.program.site.tz
        for week, day in enumerate(_session_days(episode, today), start=1):
            start = local_datetime(day, dt.time(rng.choice([10, 11, 13, 14, 15])), tz)
            minutes = rng.choice([30, 45, 50, 55, 60])
            end = start + dt.timedelta(minutes=minutes)
            signed_at = end + dt.timedelta(minutes=rng.randint(10, 240))
            notes.append(
                Note(
                    organization=organization,
                    episode=episode,
                    patient=episode.patient,
                    kind=Note.Kind.INDIVIDUAL,
                    format=episode.program.note_format or "DAP",
                    sections=_sections(episode.program.note_format or "DAP", rng, episode, week),
                    started_at=start,
                    ended_at=end,
                    modality=rng.choice(["in_person"] * 4 + ["video"]),
                    author=author,
                    created_by=author,
                    updated_by=author,
                    status=Note.Status.SIGNED,
                    signed_at=signed_at,
                    signed_by=author,
                    version=2,
                    cosign_required=supervisee is not None and author.pk == supervisee.pk,
                )
            )
    created = Note.objects.bulk_create(notes, batch_size=500)
    pending = [n for n in created if n.cosign_required]
    pending.sort(key=lambda n: n.signed_at)  # type: ignore[arg-type, return-value]
    # The supervisee's older notes are co-signed; the last few wait in the queue.
    to_cosign = pending[: max(0, len(pending) - 5)]
    Cosignature.objects.bulk_create(
        [
            Cosignature(
                organization=organization,
                note=n,
                cosigner=director,
                cosigned_at=n.signed_at + dt.timedelta(days=1),  # type: ignore[operator]
                comment=rng.choice(["", "Reviewed; agree with plan.", "Reviewed."]),
                created_by=director,
                updated_by=director,
            )
            for n in to_cosign
        ]
    )
    amendments = _amend_one(organization, created, supervisee, rng)
    return {
        "notes": len(created) + amendments,
        "awaiting_cosign": len(pending) - len(to_cosign),
        "cosigned": len(to_cosign),
        "amendments": amendments,
    }


def _amend_one(
    organization: Organization, notes: list[Note], supervisee: Any, rng: random.Random
) -> int:
    """One signed amendment (a late entry) to a counselor's note, not the supervisee's."""
    candidates = [n for n in notes if supervisee is None or n.author_id != supervisee.pk]
    if not candidates:
        return 0
    original = rng.choice(candidates)
    author = original.author
    Note.objects.create(
        organization=organization,
        episode=original.episode,
        patient=original.patient,
        kind=original.kind,
        format=original.format,
        sections={
            original.section_names[-1]: (
                "Late entry: patient also reported a lapse on the weekend (one drink, stopped "
                "on their own and called their sponsor). Safety plan reviewed; no acute risk."
            )
        },
        started_at=original.started_at,
        ended_at=original.ended_at,
        modality=original.modality,
        author=author,
        created_by=author,
        updated_by=author,
        status=Note.Status.SIGNED,
        signed_at=original.signed_at + dt.timedelta(days=1),  # type: ignore[operator]
        signed_by=author,
        version=2,
        amends=original,
        amendment_reason="Late entry: lapse reported at the end of the session was omitted.",
    )
    return 1
