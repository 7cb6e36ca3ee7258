"""The weekly scheduler in the product: build a format-v1 instance from the database, solve it into
a draft, pin patients, publish the draft as sessions with rosters (issue #4).

The solver (``openiop.scheduling.solver``) is pure and knows nothing of the database; this module
is the bridge. Ids in an instance are public ids (UUIDs), never integer keys, so an exported
instance can be shared for debugging without leaking row numbers (it names no patient either).

Background work: a solve takes seconds to a minute, so it never runs inside a web request.
Until django-tasks is adopted, :func:`start_background_solve` starts ``openiop schedule
run-draft <id>`` as a detached process; swap that one function for a task when the backend lands.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiop.attendance.models import AttendanceRecord
from openiop.core.actors import user_or_none as _user
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program, Room
from openiop.patients.models import Patient, UnavailableWindow
from openiop.scheduling import services
from openiop.scheduling.availability import Window, conflicts
from openiop.scheduling.models import (
    ClinicianProgram,
    ClinicianSlot,
    ScheduleBlock,
    ScheduleDraft,
    Session,
    SessionKind,
)
from openiop.scheduling.solver import parse_instance, solve

CAT = AuditEvent.Category.SCHEDULE
FORMAT = "openiop-schedule-instance/1"

#: The smallest group the scheduler forms. Not on Program yet: a group of fewer than three is
#: hardly group therapy, and payers we know of accept three. Move to Program when one differs.
GROUP_MIN = 3

#: How often (seconds) the solver's progress is written to the draft for the board to poll.
PROGRESS_EVERY = 1.0


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def program_blocks(program: Program) -> list[ScheduleBlock]:
    """The blocks the program's groups may meet in: its site's (for a virtual program, the
    virtual site's)."""
    return list(
        ScheduleBlock.objects.for_org(program.organization_id)
        .filter(site_id=program.site_id)
        .order_by("day", "start", "minutes")
    )


def _modality(program: Program) -> str:
    # Hybrid programs are scheduled as in-person groups (the online seats join the room).
    return "virtual" if program.modality == Program.Modality.VIRTUAL else "in_person"


def _block_json(block: ScheduleBlock) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": block.solver_id,
        "day": block.day,
        "start": f"{block.start:%H:%M}",
        "minutes": block.minutes,
    }
    if block.part_of_day in ("day", "evening"):  # format v1 knows only these two
        data["part_of_day"] = block.part_of_day
    return data


def schedulable_episodes(program: Program, week_start: dt.date) -> list[Episode]:
    """Admitted or active (not on hold, not waitlisted) episodes of the program admitted by the
    end of the week."""
    week_end = week_start + dt.timedelta(days=6)
    return list(
        Episode.objects.for_org(program.organization_id)
        .filter(program=program, status__in=[Episode.Status.ADMITTED, Episode.Status.ACTIVE])
        .exclude(admitted_on__gt=week_end)
        .select_related("patient")
        .order_by("patient__last_name", "patient__first_name", "id")
    )


def _previous_placements(program: Program, week_start: dt.date) -> dict[str, list[str]]:
    last = (
        ScheduleDraft.objects.for_org(program.organization_id)
        .filter(
            program=program,
            week_start=week_start - dt.timedelta(days=7),
            status=ScheduleDraft.Status.PUBLISHED,
        )
        .order_by("-published_at")
        .first()
    )
    return placements(last.solution) if last is not None and last.solution else {}


def placements(solution: dict[str, Any]) -> dict[str, list[str]]:
    """patient id -> the group ids they hold in a solution."""
    held: dict[str, list[str]] = defaultdict(list)
    for group in solution.get("groups", []):
        for pid in group["patients"]:
            held[pid].append(group["id"])
    return dict(held)


def _local_midnight(program: Program, week_start: dt.date, days: int) -> dt.datetime:
    day = week_start + dt.timedelta(days=days)
    return services.local_datetime(day, dt.time(0), program.site.tz)


def _week_span(program: Program, week_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    # one extra day: a Sunday-night block may run past midnight
    return _local_midnight(program, week_start, 0), _local_midnight(program, week_start, 8)


def block_span(
    block: ScheduleBlock, week_start: dt.date, tz: Any
) -> tuple[dt.datetime, dt.datetime]:
    """When the block meets in this week (aware datetimes)."""
    starts = services.local_datetime(week_start + dt.timedelta(days=block.day), block.start, tz)
    return starts, starts + dt.timedelta(minutes=block.minutes)


def replaceable_sessions(program: Program, week_start: dt.date) -> list[Session]:
    """This program's group sessions of the week that publishing replaces (not cancelled)."""
    start, end = _local_midnight(program, week_start, 0), _local_midnight(program, week_start, 7)
    return list(
        Session.objects.for_org(program.organization_id)
        .not_cancelled()
        .filter(program=program, kind=SessionKind.GROUP, starts_at__gte=start, starts_at__lt=end)
        .order_by("starts_at", "id")
    )


@dataclass
class Busy:
    """Time already taken on the calendar in one week, per block (ScheduleBlock pk): by the
    patients booked on existing sessions, their facilitators and their rooms."""

    patients: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    clinicians: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    rooms: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    groups_led: Counter[int] = field(default_factory=Counter)  # user pk -> groups that week


def calendar_busy(
    program: Program,
    week_start: dt.date,
    blocks: Iterable[ScheduleBlock],
    *,
    ignore: Iterable[int] = (),
) -> Busy:
    """What the week's existing, non-cancelled sessions occupy, except sessions ``ignore`` (pks;
    by default this program's group sessions, which publishing replaces)."""
    start, end = _week_span(program, week_start)
    ignored = set(ignore)
    sessions = [
        s
        for s in Session.objects.for_org(program.organization_id)
        .not_cancelled()
        .filter(starts_at__lt=end, ends_at__gt=start)
        .prefetch_related("facilitators")
        if s.pk not in ignored
    ]
    booked: dict[int, set[int]] = defaultdict(set)
    for session_id, patient_id in AttendanceRecord.objects.filter(
        session_id__in=[s.pk for s in sessions]
    ).values_list("session_id", "patient_id"):
        booked[session_id].add(patient_id)
    tz = program.site.tz
    spans = [(b.pk, *block_span(b, week_start, tz)) for b in blocks]
    busy = Busy()
    week_end = _local_midnight(program, week_start, 7)
    for session in sessions:
        facilitators = [u.pk for u in session.facilitators.all()]
        if session.kind == SessionKind.GROUP and session.starts_at < week_end:
            for user_id in facilitators:
                busy.groups_led[user_id] += 1
        for pk, b_start, b_end in spans:
            if session.starts_at < b_end and session.ends_at > b_start:
                for patient_id in booked[session.pk]:
                    busy.patients[patient_id].add(pk)
                for user_id in facilitators:
                    busy.clinicians[user_id].add(pk)
                if session.room_id is not None:
                    busy.rooms[session.room_id].add(pk)
    return busy


def build_instance(*, program: Program, week_start: dt.date) -> dict[str, Any]:
    """A format-v1 instance for one program's week, from the database (see the guide
    ``docs/guide/scheduling-a-week.md`` for where each field comes from)."""
    if week_start.weekday() != 0:
        raise ValidationError({"week": "A week starts on a Monday."})
    site = program.site
    pid = str(program.public_id)
    site_id = str(site.public_id)
    blocks = program_blocks(program)
    by_id = {b.pk: b for b in blocks}
    modality = _modality(program)
    # Sessions already on the calendar (other programs', and this program's individual ones)
    # keep their patients, facilitators and rooms; this program's group sessions do not, since
    # publishing replaces them.
    busy = calendar_busy(
        program,
        week_start,
        blocks,
        ignore=[s.pk for s in replaceable_sessions(program, week_start)],
    )
    rooms: list[dict[str, Any]] = []
    if modality == "in_person":
        for r in Room.objects.for_org(program.organization_id).filter(site=site).order_by("name"):
            room: dict[str, Any] = {"id": str(r.public_id), "site": site_id, "capacity": r.capacity}
            taken = busy.rooms.get(r.pk)
            if taken:
                room["unavailable_blocks"] = [b.solver_id for b in blocks if b.pk in taken]
            rooms.append(room)
    program_json: dict[str, Any] = {
        "id": pid,
        "population": program.population,
        "modality": modality,
        "min_minutes": program.weekly_min_minutes,
        "max_minutes": program.weekly_max_minutes,
        "min_days": program.min_days_per_week,
        "group_min": min(GROUP_MIN, program.group_size_cap),
        "group_max": program.group_size_cap,
        "required_credentials": [],
    }
    if modality == "in_person":
        program_json["site"] = site_id
    clinicians = []
    links = (
        ClinicianProgram.objects.for_org(program.organization_id)
        .filter(program=program, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    slots: dict[int, list[ClinicianSlot]] = defaultdict(list)
    for slot in ClinicianSlot.objects.for_org(program.organization_id).filter(
        block_id__in=list(by_id), user_id__in=[link.user_id for link in links]
    ):
        slots[slot.user_id].append(slot)
    for link in links:
        user = link.user
        taken = busy.clinicians.get(user.pk, set())
        available = sorted(
            {
                (by_id[s.block_id].solver_id, s.modality)
                for s in slots[user.pk]
                if s.block_id not in taken
            },
        )
        clinicians.append({
            "id": str(user.public_id),
            "credentials": [user.credential] if user.credential else [],
            "programs": [pid],
            "max_groups": max(0, link.max_groups_per_week - busy.groups_led[user.pk]),
            "available": [{"block": b, "modality": m} for b, m in available],
        })  # fmt: skip
    episodes = schedulable_episodes(program, week_start)
    windows: dict[int, list[Window]] = defaultdict(list)
    for w in UnavailableWindow.objects.for_org(program.organization_id).filter(
        patient_id__in=[e.patient_id for e in episodes]
    ):
        windows[w.patient_id].append(Window(w.weekday, w.start_time, w.end_time, w.kind))
    previous = _previous_placements(program, week_start)
    patients = []
    for episode in episodes:
        ppid = str(episode.patient.public_id)
        admitted = episode.admitted_on
        booked = busy.patients.get(episode.patient_id, set())
        available_blocks = [
            b.solver_id
            for b in blocks
            if b.pk not in booked
            and not conflicts([b.day], b.start, b.minutes, windows[episode.patient_id])
            and (admitted is None or week_start + dt.timedelta(days=b.day) >= admitted)
        ]
        patients.append({
            "id": ppid,
            "program": pid,
            "available_blocks": available_blocks,
            "preferred_blocks": [],
            "current_groups": previous.get(ppid, []),
        })  # fmt: skip
    instance = {
        "format": FORMAT,
        "week_start": week_start.isoformat(),
        "timezone": site.timezone,
        "blocks": [_block_json(b) for b in blocks],
        "rooms": rooms,
        "programs": [program_json],
        "clinicians": clinicians,
        "patients": patients,
    }
    parse_instance(instance)  # fail here, loudly, rather than in the background solve
    return instance


@transaction.atomic
def draft_create(*, actor: Any, program: Program, week_start: dt.date) -> ScheduleDraft:
    """A queued draft holding the week's instance; :func:`draft_solve` (or the background
    runner) fills in the solution."""
    instance = build_instance(program=program, week_start=week_start)
    draft = ScheduleDraft.objects.create(
        organization_id=program.organization_id,
        program=program,
        week_start=week_start,
        status=ScheduleDraft.Status.QUEUED,
        progress="Waiting to start",
        instance=instance,
        created_by=_user(actor),
    )
    audit_log(
        actor=actor,
        action="openiop.scheduling.draft.create",
        category=CAT,
        obj=draft,
        detail={"patients": len(instance["patients"]), "week": week_start.isoformat()},
    )
    return draft


def _set(draft: ScheduleDraft, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(draft, name, value)
    draft.save(update_fields=[*fields, "updated_at"])


def draft_solve(
    *,
    actor: Any,
    draft: ScheduleDraft,
    time_limit: float = 20.0,
    on_progress: Callable[[str, float], None] | None = None,
) -> ScheduleDraft:
    """Solve the draft's instance and store the solution (status ``draft``).

    Not one transaction on purpose: progress is committed as the solver reports it, so the board
    (another process) can show it. If any patient has current placements (last week's groups, or
    the draft's own before a pin) the solve runs in repair mode, keeping everyone it can where
    they are."""
    if draft.status == ScheduleDraft.Status.PUBLISHED:
        raise ValidationError({"status": "This week is published; build a new draft."})
    repair = any(p.get("current_groups") for p in draft.instance.get("patients", []))
    started = time.monotonic()
    last = [0.0]
    _set(draft, status=ScheduleDraft.Status.SOLVING, progress="Starting the solver", error="")

    def progress(message: str, elapsed: float) -> None:
        if on_progress is not None:
            on_progress(message, elapsed)
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY or not last[0]:
            last[0] = now
            _set(draft, progress=f"{message} ({elapsed:.0f} s)"[:300])

    try:
        solution = solve(
            draft.instance,
            time_limit=time_limit,
            repair=repair,
            progress=progress,
            pins=draft.pins or None,
        )
    except Exception as exc:  # the draft must not stay "solving" forever
        _set(draft, status=ScheduleDraft.Status.FAILED, progress="", error=str(exc)[:2000])
        audit_log(
            actor=actor,
            action="openiop.scheduling.draft.solve",
            category=CAT,
            obj=draft,
            outcome=AuditEvent.Outcome.FAILED,
            detail={"error": str(exc)[:300]},
        )
        raise
    metrics = solution.get("metrics", {})
    done = (
        f"Done in {time.monotonic() - started:.1f} s: {metrics.get('patients_meeting_minimum', 0)}"
        f" of {len(solution.get('patients', []))} patients meet the minimum"
    )
    _set(draft, status=ScheduleDraft.Status.DRAFT, solution=solution, progress=done)
    audit_log(
        actor=actor,
        action="openiop.scheduling.draft.solve",
        category=CAT,
        obj=draft,
        detail={"status": solution.get("status"), "repair": repair},
    )
    return draft


@transaction.atomic
def draft_pin(
    *, actor: Any, draft: ScheduleDraft, patient: Patient, blocks: list[str]
) -> ScheduleDraft:
    """Pin a patient to exactly these blocks (solver block ids) and queue a re-solve.

    The pin restricts the patient's available blocks to the pinned ones (and prefers them), and
    everyone's current placements become ``current_groups``, so the repair solve keeps the others
    where they are. An empty list removes the pin only from ``pins``; the patient's availability
    stays as last restricted until the draft is rebuilt (documented limitation)."""
    draft = ScheduleDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.status == ScheduleDraft.Status.PUBLISHED:
        raise ValidationError({"status": "This week is published; it cannot change."})
    if draft.is_running:
        raise ValidationError({"status": "The draft is being solved; wait for it to finish."})
    ppid = str(patient.public_id)
    instance = draft.instance
    known = {b["id"] for b in instance["blocks"]}
    unknown = sorted(set(blocks) - known)
    if unknown:
        raise ValidationError({"blocks": f"Unknown block {unknown[0]!r}."})
    entry = next((p for p in instance["patients"] if p["id"] == ppid), None)
    if entry is None:
        raise ValidationError({"patient": "The patient is not in this week's schedule."})
    held = placements(draft.solution or {})
    for p in instance["patients"]:
        p["current_groups"] = held.get(p["id"], [])
    order = [b["id"] for b in instance["blocks"]]
    chosen = sorted(set(blocks), key=order.index)
    pins = dict(draft.pins or {})
    if chosen:
        entry["available_blocks"] = chosen
        entry["preferred_blocks"] = chosen
        pins[ppid] = chosen
    else:
        pins.pop(ppid, None)
        entry["preferred_blocks"] = []
    parse_instance(instance)
    draft.instance = instance
    draft.pins = pins
    draft.status = ScheduleDraft.Status.QUEUED
    draft.progress = "Waiting to start"
    draft.updated_by = _user(actor)
    draft.save(update_fields=["instance", "pins", "status", "progress", "updated_by", "updated_at"])
    audit_log(
        actor=actor,
        action="openiop.scheduling.draft.pin",
        category=CAT,
        obj=draft,
        patient=patient,
        detail={"blocks": chosen},
    )
    return draft


def draft_requeue(*, actor: Any, draft: ScheduleDraft) -> ScheduleDraft:
    """Queue a re-solve of the same instance (e.g. after a failure or a longer time limit)."""
    if draft.status == ScheduleDraft.Status.PUBLISHED:
        raise ValidationError({"status": "This week is published; it cannot change."})
    if draft.is_running:
        raise ValidationError({"status": "The draft is being solved; wait for it to finish."})
    _set(draft, status=ScheduleDraft.Status.QUEUED, progress="Waiting to start", error="")
    audit_log(actor=actor, action="openiop.scheduling.draft.requeue", category=CAT, obj=draft)
    return draft


@transaction.atomic
def draft_publish(*, actor: Any, draft: ScheduleDraft, request: Any = None) -> int:
    """Create one Session per group of the solution, in the site's local time on the block's
    day, and book its patients. All or nothing; a week is published once.

    Publishing REPLACES the program's group sessions already on the calendar that week (say, a
    recurring series): they are cancelled with the reason "Replaced by the published schedule"
    (kept, not deleted, so calendars and the audit trail show what happened). It refuses if any
    of them has started, has attendance taken or a group note, and if the calendar changed
    since the solve so that a patient or clinician of the draft is now booked elsewhere. Other
    programs' sessions and this program's individual sessions are never touched; the instance
    already treated them as busy time (:func:`calendar_busy`)."""
    draft = ScheduleDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.status == ScheduleDraft.Status.PUBLISHED:
        raise ValidationError({"status": "This draft is already published."})
    if draft.status != ScheduleDraft.Status.DRAFT or not draft.solution:
        raise ValidationError({"status": "Only a solved draft can be published."})
    if not draft.solution.get("groups"):
        raise ValidationError({"status": "The draft has no groups; there is nothing to publish."})
    program = Program.objects.select_related("site").get(pk=draft.program_id)
    already = ScheduleDraft.objects.filter(
        program=program, week_start=draft.week_start, status=ScheduleDraft.Status.PUBLISHED
    ).exists()
    if already:
        raise ValidationError({"status": "This week was already published from another draft."})
    org = program.organization_id
    tz = program.site.tz
    week_label = f"{draft.week_start:%B} {draft.week_start.day}, {draft.week_start:%Y}"
    replaced = replaceable_sessions(program, draft.week_start)
    _check_replaceable(replaced)
    for old in replaced:
        services.session_cancel(
            actor=actor,
            session=old,
            reason=f"Replaced by the published schedule for the week of {week_label}",
            request=request,
        )
    blocks = {b.solver_id: b for b in program_blocks(program)}
    _check_still_free(program, draft, blocks)
    rooms = {str(r.public_id): r for r in Room.objects.for_org(org).filter(site=program.site)}
    from openiop.accounts.models import User

    users = {str(u.public_id): u for u in User.objects.filter(organization_id=org)}
    episodes = {
        str(e.patient.public_id): e for e in schedulable_episodes(program, draft.week_start)
    }
    count = 0
    for group in draft.solution.get("groups", []):
        block = blocks.get(group["block"])
        if block is None:
            raise ValidationError({"blocks": f"Block {group['block']} no longer exists; re-build."})
        day = draft.week_start + dt.timedelta(days=block.day)
        starts_at = services.local_datetime(day, block.start, tz)
        clinician = users.get(group["clinician"])
        room = rooms.get(group["room"]) if group.get("room") else None
        capacity = program.group_size_cap
        if room is not None:  # the solver may pick a room smaller than the group cap
            capacity = min(capacity, room.capacity)
        try:
            session = services.session_create(
                actor=actor,
                program=program,
                title=f"{program.name} group",
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(minutes=block.minutes),
                kind=SessionKind.GROUP,
                room=room,
                is_virtual=group.get("room") is None,
                facilitators=[clinician] if clinician is not None else [],
                capacity=capacity,
                request=request,
            )
        except ValidationError as exc:  # e.g. a room booked since the draft was built
            raise ValidationError({
                "status": f"{' '.join(exc.messages)} The calendar changed since this draft was "
                "built: build and solve the week again."
            }) from exc  # fmt: skip
        for ppid in group["patients"]:
            episode = episodes.get(ppid)
            if episode is None:  # discharged or put on hold since the solve
                continue
            services.session_book(actor=actor, session=session, episode=episode, request=request)
        count += 1
    draft.status = ScheduleDraft.Status.PUBLISHED
    draft.published_at = timezone.now()
    draft.updated_by = _user(actor)
    draft.save(update_fields=["status", "published_at", "updated_by", "updated_at"])
    audit_log(
        actor=actor,
        action="openiop.scheduling.draft.publish",
        category=CAT,
        obj=draft,
        request=request,
        detail={"sessions": count, "replaced": len(replaced)},
    )
    return count


def _check_replaceable(sessions: list[Session]) -> None:
    """Publishing replaces the program's group sessions of the week only while none was held:
    refuse if any has started, has attendance taken or a group note."""
    now = timezone.now()
    held = [
        s
        for s in sessions
        if s.starts_at <= now
        or s.attendance.exclude(status=AttendanceRecord.Status.EXPECTED).exists()
        or s.group_notes.exists()
    ]
    if held:
        first = held[0]
        when = f"{first.local_start:%a %b} {first.local_start.day} at {first.local_start:%H:%M}"
        raise ValidationError({
            "status": f"{len(held)} of this program's group sessions that week already took "
            f"place or have attendance (first: {first.title}, {when}); publishing would replace "
            "them. Change that week's sessions on the calendar instead."
        })  # fmt: skip


def _check_still_free(program: Program, draft: ScheduleDraft, blocks: dict[str, Any]) -> None:
    """Refuse to publish over time taken since the draft was built: a patient or clinician of a
    group booked elsewhere in that block (rooms are checked by ``session_create``)."""
    from openiop.accounts.models import User

    busy = calendar_busy(program, draft.week_start, blocks.values())
    by_solver = {b.solver_id: b.pk for b in blocks.values()}
    patients = dict(
        Patient.objects.for_org(program.organization_id)
        .filter(public_id__in={p for g in draft.solution["groups"] for p in g["patients"]})
        .values_list("public_id", "pk")
    )
    users = dict(
        User.objects.filter(
            organization_id=program.organization_id,
            public_id__in={g["clinician"] for g in draft.solution["groups"]},
        ).values_list("public_id", "pk")
    )
    clashes = 0
    for group in draft.solution["groups"]:
        block = by_solver.get(group["block"])
        if block is None:
            continue
        user = users.get(_uuid(group["clinician"]))
        if user is not None and block in busy.clinicians.get(user, set()):
            clashes += 1
        for ppid in group["patients"]:
            patient = patients.get(_uuid(ppid))
            if patient is not None and block in busy.patients.get(patient, set()):
                clashes += 1
    if clashes:
        raise ValidationError({
            "status": f"The calendar changed since this draft was built: {clashes} booking(s) "
            "of the draft now clash with other sessions. Build and solve the week again."
        })  # fmt: skip


def _uuid(text: str) -> Any:
    import uuid

    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def start_background_solve(draft: ScheduleDraft) -> None:
    """Run ``openiop schedule run-draft <id>`` detached from this process (the interim background
    runner until django-tasks is adopted; swap this one function for ``task.enqueue``).

    Its output goes to ``var/logs/schedule-<draft>.log``, so a runner that cannot start leaves a
    trace instead of a draft silently stuck in "Queued"."""
    from django.conf import settings

    logs = settings.VAR_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"schedule-{draft.public_id}.log", "ab") as log:
        subprocess.Popen(  # noqa: S603 (fixed argv, our own interpreter)
            [sys.executable, "-m", "openiop.cli", "schedule", "run-draft", str(draft.public_id)],
            start_new_session=True,
            env=os.environ.copy(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def run_draft(*, draft: ScheduleDraft, time_limit: float = 20.0) -> ScheduleDraft:
    """The background runner's body: solve a queued draft (a draft already taken is left alone)."""
    taken = ScheduleDraft.objects.filter(pk=draft.pk, status=ScheduleDraft.Status.QUEUED).update(
        status=ScheduleDraft.Status.SOLVING, progress="Starting the solver"
    )
    if not taken:
        return draft
    draft.refresh_from_db()
    return draft_solve(actor=None, draft=draft, time_limit=time_limit)
