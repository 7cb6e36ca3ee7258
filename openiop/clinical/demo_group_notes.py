"""Group notes for the demo clinic: a signed group note for every past group session that has
attendance, with an individualized part per attendee written differently for each patient (so
the note-quality check stays quiet), and today's groups left without a note so the demo shows
the work still to do.

Like ``demo_plans.py``, rows are written directly (bulk, in dependency order) inside the demo
generator's transaction, without an audit row each: the generator writes one audit row for the
whole demo. Deterministic for a given ``rng`` state.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from typing import Any

from openiop.accounts.models import User
from openiop.attendance.models import AttendanceRecord
from openiop.clinical.models import GroupNote, Note, NoteFormat, PlanObjective, TreatmentPlan
from openiop.clinical.quality import COPIED_PART, COPIED_SECTION, check_parts
from openiop.clinical.services.group_notes import part_times
from openiop.organizations.models import Organization
from openiop.scheduling.models import Session, SessionKind

TOPICS: list[tuple[str, str, str]] = [
    ("Identifying high-risk situations", "Relapse prevention 1: triggers",
     "CBT trigger mapping; guided discussion"),
    ("Coping with cravings", "Relapse prevention 2: urges",
     "Urge surfing practice; CBT coping cards"),
    ("Refusal skills", "Relapse prevention 3: saying no",
     "Role-play of refusal scenarios; peer feedback"),
    ("Managing stress without substances", "Skills 4: stress",
     "Progressive muscle relaxation; problem-solving worksheet"),
    ("Family roles and recovery", "Family 2: roles", "Psychoeducation; genogram exercise"),
    ("Sleep and recovery", "Health 1: sleep", "Psychoeducation on sleep hygiene; goal setting"),
    ("Building a sober network", "Recovery capital 2", "Motivational interviewing; network map"),
    ("Emotional regulation", "DBT skills: distress tolerance", "DBT TIPP skills practice"),
    ("Shame and self-compassion", "Process group", "Process-oriented discussion; reflection"),
    ("Planning for weekends", "Relapse prevention 5: unstructured time",
     "Activity scheduling; relapse-prevention plan review"),
]  # fmt: skip
NARRATIVE = [
    "Members {opened} {topic_lc}. The facilitator {did} and the group {then}.",
    "The session focused on {topic_lc}. After check-in, members {opened2}; the facilitator "
    "{did}, and the group {then}.",
]
OPENED = ["opened by sharing recent wins and struggles with", "began with a check-in on",
          "reviewed last week's homework before turning to"]  # fmt: skip
OPENED2 = ["named one situation from the past week", "rated their cravings from 0 to 10",
           "shared one thing that went well"]  # fmt: skip
DID = ["modelled the skill with an example", "led a short psychoeducation segment",
       "used open questions to draw out quieter members"]  # fmt: skip
THEN = ["practised it in pairs", "built individual plans for the coming week",
        "closed with a round of commitments"]  # fmt: skip

SITUATIONS = ["a family dinner", "payday", "a fight with a partner", "driving past the old bar",
              "a coworker's party", "a sleepless night", "a call from an old using friend",
              "the weekend alone", "a court date", "a job interview", "a child's birthday",
              "back pain flaring up", "a text from a dealer",
              "watching a game at a friend's"]  # fmt: skip
PARTICIPATION = [
    "{name} spoke about {situation} and how {pron} handled it.",
    "{name} was quiet early on, then described {situation} in detail.",
    "{name} volunteered first for the role-play, using {situation} as the scenario.",
    "{name} listened closely and offered feedback to peers after describing {situation}.",
    "{name} arrived settled, shared about {situation}, and asked the group for ideas.",
]
RESPONSE = [
    "Receptive to feedback; {pron} wrote down {n} coping steps for {situation}.",
    "Guarded at first, then {name} agreed to try the skill before the next group.",
    "Engaged; related the topic to {situation} and named what {pron} would do differently.",
    "Reflective; {name} said the exercise made {situation} feel more manageable.",
    "Some resistance to the worksheet; {name} completed {n} of the items with support.",
]
PROGRESS = [
    "Objective {obj}: progressing; {name} reports {days} days without use.",
    "Objective {obj}: {name} practised the skill {n} times this week.",
    "Objective {obj}: early progress; {name} has identified {n} triggers so far.",
    "Objective {obj}: no change since {situation}; plan reviewed with {pron2}.",
]
RISK = ["Denies SI/HI. No signs of intoxication.", "Denies SI/HI; reports mild cravings (3/10).",
        "Denies SI/HI. Cravings 5/10 after {situation}; safety plan reviewed.",
        "No safety concerns observed."]  # fmt: skip


def shared_text(rng: random.Random) -> dict[str, str]:
    topic, module, interventions = rng.choice(TOPICS)
    narrative = rng.choice(NARRATIVE).format(
        opened=rng.choice(OPENED), opened2=rng.choice(OPENED2), topic_lc=topic.lower(),
        did=rng.choice(DID), then=rng.choice(THEN),
    )  # fmt: skip
    return {
        "topic": topic,
        "curriculum_module": module,
        "interventions": interventions,
        "narrative": narrative,
    }


def part_text(rng: random.Random, first_name: str, numbers: Sequence[str]) -> dict[str, str]:
    pron, pron2 = rng.choice([("they", "them"), ("she", "her"), ("he", "him")])
    words = {
        "name": first_name, "pron": pron, "pron2": pron2, "situation": rng.choice(SITUATIONS),
        "n": rng.randint(2, 5), "days": rng.randint(3, 60),
        "obj": numbers[0] if numbers else "1.1.1",
    }  # fmt: skip
    return {
        "participation": rng.choice(PARTICIPATION).format(**words),
        "response": rng.choice(RESPONSE).format(**words),
        "progress": rng.choice(PROGRESS).format(**words),
        "risk": rng.choice(RISK).format(**words),
    }


def _objectives(organization: Organization, episode_ids: set[int]) -> dict[int, list[tuple]]:
    """(public id, plan number) of each episode's active-plan objectives, in plan order."""
    rows = (
        PlanObjective.objects.for_org(organization)
        .filter(
            goal__problem__plan__episode_id__in=episode_ids,
            goal__problem__plan__status=TreatmentPlan.Status.ACTIVE,
        )
        .select_related("goal__problem__plan")
        .order_by(
            "goal__problem__plan_id", "goal__problem__position", "goal__problem_id",
            "goal__position", "goal_id", "position", "id",
        )
    )  # fmt: skip
    out: dict[int, list[tuple]] = {}
    seen: dict[int, list[Any]] = {}
    for o in rows:
        episode = o.goal.problem.plan.episode_id
        c = seen.setdefault(episode, [None, None, 0, 0, 0])
        if o.goal.problem_id != c[0]:
            c[0], c[1], c[2], c[3], c[4] = o.goal.problem_id, None, c[2] + 1, 0, 0
        if o.goal_id != c[1]:
            c[1], c[3], c[4] = o.goal_id, c[3] + 1, 0
        c[4] += 1
        out.setdefault(episode, []).append((str(o.public_id), f"{c[2]}.{c[3]}.{c[4]}"))
    return out


def seed_group_notes(
    *,
    organization: Organization,
    sessions: Iterable[Session],
    counselors: Sequence[User],
    rng: random.Random,
    today: dt.date,
) -> dict[str, int]:
    """Signed group notes for the past group sessions with attendance; returns counts.

    The author is a counselor facilitating the session (else one of ``counselors``). Sessions
    on ``today`` or later are left without a note."""
    ids = [s.pk for s in sessions]
    group_sessions = list(
        Session.objects.for_org(organization)
        .filter(pk__in=ids, kind=SessionKind.GROUP)
        .exclude(status=Session.Status.CANCELLED)
        .exclude(group_notes__isnull=False)
        .select_related("program__site")
        .prefetch_related("facilitators")
        .order_by("starts_at", "id")
    )
    past = [s for s in group_sessions if s.local_start.date() < today]
    records: dict[int, list[AttendanceRecord]] = {}
    rows = (
        AttendanceRecord.objects.for_org(organization)
        .filter(session__in=[s.pk for s in past], status__in=AttendanceRecord.ATTENDED)
        .select_related("patient")
        .order_by("patient__last_name", "patient__first_name", "id")
    )
    for record in rows:
        records.setdefault(record.session_id, []).append(record)
    objectives = _objectives(organization, {r.episode_id for rs in records.values() for r in rs})
    pool = {u.pk: u for u in counselors}
    notes: list[GroupNote] = []
    parts: list[tuple[GroupNote, Note]] = []
    for session in past:
        attended = records.get(session.pk, [])
        if not attended or not pool:
            continue
        leads = [u for u in session.facilitators.all() if u.pk in pool]
        author = pool[leads[0].pk] if leads else rng.choice(list(pool.values()))
        # Signed the same evening or the next day, but before the demo's today began.
        midnight = dt.datetime.combine(today, dt.time(0), tzinfo=session.tz)
        signed_at = min(session.ends_at + dt.timedelta(minutes=rng.randint(20, 900)), midnight)
        if signed_at <= session.ends_at:
            continue  # ran past midnight into today: left for the demo to show
        texts: dict[str, dict[str, str]] = {}
        picks: dict[str, list[str]] = {}
        for record in attended:
            key = str(record.patient.public_id)
            options = objectives.get(record.episode_id, [])
            chosen = rng.sample(options, min(len(options), rng.randint(1, 2))) if options else []
            picks[key] = [public_id for public_id, _ in chosen]
            numbers = [number for _, number in chosen]
            texts[key] = part_text(rng, record.patient.first_name, numbers)
        for _ in range(5):  # rewrite any part the quality check calls a copy
            copies = {
                w.patient for w in check_parts(texts) if w.code in (COPIED_PART, COPIED_SECTION)
            }
            if not copies:
                break
            for record in attended:
                key = str(record.patient.public_id)
                if key in copies:
                    texts[key] = part_text(rng, record.patient.first_name, [])
        cosign = author.cosigner_id is not None
        note = GroupNote(
            organization=organization, session=session, author=author,
            started_at=session.starts_at, ended_at=session.ends_at, status=GroupNote.Status.SIGNED,
            signed_at=signed_at, signed_by=author, version=2, cosign_required=cosign,
            created_by=author, updated_by=author, **shared_text(rng),
        )  # fmt: skip
        notes.append(note)
        for record in attended:
            key = str(record.patient.public_id)
            start, end = part_times(session, record)
            parts.append((
                note,
                Note(
                    organization=organization, episode_id=record.episode_id,
                    patient_id=record.patient_id, session=session,
                    kind=Note.Kind.GROUP_INDIVIDUALIZED, format=NoteFormat.GROUP,
                    sections=texts[key], objectives=picks[key], started_at=start, ended_at=end,
                    author=author, status=Note.Status.SIGNED, signed_at=signed_at,
                    signed_by=author, version=2, created_by=author, updated_by=author,
                ),
            ))  # fmt: skip
    GroupNote.objects.bulk_create(notes, batch_size=500)
    for note, part in parts:
        part.group_note_id = note.pk
    Note.objects.bulk_create([p for _, p in parts], batch_size=500)
    today_groups = sum(1 for s in group_sessions if s.local_start.date() == today)
    return {"group_notes": len(notes), "parts": len(parts), "today_without_note": today_groups}
