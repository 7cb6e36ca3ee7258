"""Individual therapy and medication visits scheduled around a published week of groups (issue #4).

The group solver (format v1) knows only groups. Once a program's week is published, this service
books, for every admitted or active episode of the program, one individual session with the
patient's counselor and (for MAT episodes) one medication visit with a prescriber, at times that
overlap nothing the patient, the clinician or the room already has that week.

The search is deliberately simple and documented in ``docs/guide/scheduling-a-week.md``:

* candidate starts Monday to Friday, every 30 minutes from 08:00 to 20:30, site-local wall time,
  ending by 21:30, not in the past and not before the patient's admission;
* a candidate must not overlap the patient's booked sessions (any program), the patient's weekly
  unavailable windows (work, school, childcare), or the clinician's facilitated sessions; an
  in-person program also needs a room of the site free then (the smallest free room);
* among the candidates that fit, one adjacent to the patient's group (ending at most 30 minutes
  before it starts, or starting at most 30 minutes after it ends) wins, since it saves the patient a
  trip; then any slot on a group day; then the earliest.

Idempotent: a patient who already has a (not cancelled) individual session, or medication visit,
in the week gets no second one. Titles are neutral ("Individual session", "Medication visit")
because calendar feeds show them (42 CFR Part 2).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Role
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program, Room
from openiop.patients.models import Patient, UnavailableWindow
from openiop.scheduling import services
from openiop.scheduling.availability import Window, conflicts
from openiop.scheduling.models import (
    ClinicianProgram,
    ScheduleDraft,
    Session,
    SessionKind,
)
from openiop.scheduling.week import schedulable_episodes

CAT = AuditEvent.Category.SCHEDULE

#: The search grid (site-local wall time, Monday=0 .. Friday=4).
WEEKDAYS = range(5)
FIRST_START = dt.time(8, 0)
LAST_START = dt.time(20, 30)
DAY_END = dt.time(21, 30)
STEP_MINUTES = 30
#: A slot this close to a group (before or after) counts as "adjacent": one trip, not two.
ADJACENT_MINUTES = 30

INDIVIDUAL_TITLE = "Individual session"
MEDICATION_TITLE = "Medication visit"

Interval = tuple[dt.datetime, dt.datetime]


class Unplaced(NamedTuple):
    patient: Patient
    kind: str
    reason: str


@dataclass
class AppointmentResult:
    individual: int = 0
    medication: int = 0
    unplaced: list[Unplaced] = field(default_factory=list)


def _overlaps(busy: list[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    return any(s < end and start < e for s, e in busy)


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _grid() -> list[dt.time]:
    times = []
    at = _minutes(FIRST_START)
    while at <= _minutes(LAST_START):
        times.append(dt.time(at // 60, at % 60))
        at += STEP_MINUTES
    return times


class _Week:
    """Everything already booked in the week, in memory, updated as appointments are added."""

    def __init__(self, program: Program, week_start: dt.date, patient_ids: list[int]) -> None:
        self.program = program
        self.org = program.organization_id
        self.tz = program.site.tz
        self.week_start = week_start
        self.start = services.local_datetime(week_start, dt.time(0), self.tz)
        self.end = services.local_datetime(week_start + dt.timedelta(days=7), dt.time(0), self.tz)
        self.patient_busy: dict[int, list[Interval]] = defaultdict(list)
        self.patient_groups: dict[int, list[Interval]] = defaultdict(list)
        self.patient_has: set[tuple[int, str]] = set()
        self.clinician_busy: dict[int, list[Interval]] = defaultdict(list)
        self.room_busy: dict[int, list[Interval]] = defaultdict(list)
        sessions = (
            Session.objects.for_org(self.org)
            .not_cancelled()
            .filter(starts_at__lt=self.end, ends_at__gt=self.start)
            .prefetch_related("facilitators", "attendance")
        )
        for s in sessions:
            span = (s.starts_at, s.ends_at)
            if s.room_id:
                self.room_busy[s.room_id].append(span)
            for user in s.facilitators.all():
                self.clinician_busy[user.pk].append(span)
            for record in s.attendance.all():
                self.patient_busy[record.patient_id].append(span)
                self.patient_has.add((record.patient_id, s.kind))
                if s.kind == SessionKind.GROUP:
                    self.patient_groups[record.patient_id].append(span)
        self.windows: dict[int, list[Window]] = defaultdict(list)
        for w in UnavailableWindow.objects.for_org(self.org).filter(patient_id__in=patient_ids):
            self.windows[w.patient_id].append(
                Window(w.weekday, w.start_time, w.end_time, w.get_kind_display().lower())
            )
        self.virtual = program.modality == Program.Modality.VIRTUAL
        self.rooms: list[Room] = []
        if not self.virtual:
            self.rooms = list(
                Room.objects.for_org(self.org)
                .filter(site_id=program.site_id)
                .order_by("capacity", "name")
            )
        self.now = timezone.now()

    def add(self, session: Session, patient_id: int, clinician: User) -> None:
        span = (session.starts_at, session.ends_at)
        self.patient_busy[patient_id].append(span)
        self.patient_has.add((patient_id, session.kind))
        self.clinician_busy[clinician.pk].append(span)
        if session.room_id:
            self.room_busy[session.room_id].append(span)

    def free_room(self, start: dt.datetime, end: dt.datetime) -> tuple[bool, Room | None]:
        """(ok, room): a site without rooms on record needs none (an office)."""
        if self.virtual or not self.rooms:
            return True, None
        for room in self.rooms:
            if not _overlaps(self.room_busy[room.pk], start, end):
                return True, room
        return False, None

    def _preference(self, patient_id: int, start: dt.datetime, end: dt.datetime) -> int:
        groups = self.patient_groups[patient_id]
        gap = dt.timedelta(minutes=ADJACENT_MINUTES)
        if any(dt.timedelta(0) <= gs - end <= gap or dt.timedelta(0) <= start - ge <= gap
               for gs, ge in groups):  # fmt: skip
            return 0
        local_day = start.astimezone(self.tz).date()
        if any(gs.astimezone(self.tz).date() == local_day for gs, _ in groups):
            return 1
        return 2

    def find(
        self, episode: Episode, clinician: User, minutes: int
    ) -> tuple[dt.datetime, Room | None] | Counter[str]:
        """The best slot, or (no slot) a count of what blocked the candidates."""
        pid = episode.patient_id
        blocked: Counter[str] = Counter()
        best: tuple[tuple[int, dt.datetime], dt.datetime, Room | None] | None = None
        for weekday in WEEKDAYS:
            day = self.week_start + dt.timedelta(days=weekday)
            if episode.admitted_on and day < episode.admitted_on:
                blocked["before admission"] += 1
                continue
            for at in _grid():
                if _minutes(at) + minutes > _minutes(DAY_END):
                    continue
                start = services.local_datetime(day, at, self.tz)
                end = start + dt.timedelta(minutes=minutes)
                if start <= self.now:
                    blocked["already past"] += 1
                    continue
                hits = conflicts([weekday], at, minutes, self.windows[pid])
                if hits:
                    blocked[f"the patient's {hits[0].label or 'unavailable'} hours"] += 1
                    continue
                if _overlaps(self.patient_busy[pid], start, end):
                    blocked["the patient's groups and sessions"] += 1
                    continue
                if _overlaps(self.clinician_busy[clinician.pk], start, end):
                    blocked["the clinician's other sessions"] += 1
                    continue
                ok, room = self.free_room(start, end)
                if not ok:
                    blocked["no free room"] += 1
                    continue
                key = (self._preference(pid, start, end), start)
                if best is None or key < best[0]:
                    best = (key, start, room)
        if best is None:
            return blocked
        return best[1], best[2]


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def _reason(clinicians: list[User], blocked: Counter[str]) -> str:
    who = ", ".join(_name(c) for c in clinicians)
    causes = ", ".join(cause for cause, _ in blocked.most_common()) or "no candidate time"
    return (
        f"no free slot Mon-Fri {FIRST_START:%H:%M}-{DAY_END:%H:%M} with {who} (blocked by {causes})"
    )


def _prescribers(org: int) -> list[User]:
    return list(
        User.objects.filter(organization_id=org, is_active=True, groups__name=Role.PRESCRIBER.value)
        .distinct()
        .order_by("username")
    )


def _counselors(episode: Episode, fallback: list[User]) -> list[User]:
    counselor = episode.primary_counselor
    if counselor is not None and counselor.is_active:
        return [counselor]
    return fallback


def _book_one(
    *,
    actor: Any,
    week: _Week,
    episode: Episode,
    clinicians: list[User],
    kind: str,
    title: str,
    minutes: int,
    request: HttpRequest | None,
) -> str | None:
    """Book the first clinician (in order) who has a slot; the reason when nobody has one."""
    blocked: Counter[str] = Counter()
    for clinician in clinicians:
        found = week.find(episode, clinician, minutes)
        if isinstance(found, Counter):
            blocked.update(found)
            continue
        start, room = found
        try:
            with transaction.atomic():
                session = services.session_create(
                    actor=actor,
                    program=week.program,
                    title=title,
                    starts_at=start,
                    ends_at=start + dt.timedelta(minutes=minutes),
                    kind=kind,
                    room=room,
                    is_virtual=week.virtual,
                    facilitators=[clinician],
                    capacity=1,
                    request=request,
                )
                services.session_book(
                    actor=actor, session=session, episode=episode, request=request
                )
        except ValidationError as exc:  # e.g. a room clash made since the week was read
            blocked.update({" ".join(exc.messages): 1})
            continue
        week.add(session, episode.patient_id, clinician)
        return None
    return _reason(clinicians, blocked)


@transaction.atomic
def appointments_schedule_week(
    *,
    actor: Any,
    program: Program,
    week_start: dt.date,
    individual_minutes: int = 50,
    medication_minutes: int = 30,
    request: HttpRequest | None = None,
) -> AppointmentResult:
    """Book the week's individual sessions and MAT medication visits around its published groups.

    Refuses a week whose groups are not published: the group solver does not know about
    individual sessions, so booking them first could make the published groups clash."""
    if week_start.weekday() != 0:
        raise ValidationError({"week": "A week starts on a Monday."})
    for name, value in (("individual_minutes", individual_minutes),
                        ("medication_minutes", medication_minutes)):  # fmt: skip
        if not 1 <= value <= 8 * 60:
            raise ValidationError({name: "Minutes must be between 1 and 480."})
    published = (
        ScheduleDraft.objects.for_org(program.organization_id)
        .filter(program=program, week_start=week_start, status=ScheduleDraft.Status.PUBLISHED)
        .exists()
    )
    if not published:
        raise ValidationError({"week": "Publish the week's groups first."})
    program = Program.objects.select_related("site").get(pk=program.pk)
    scheduled = [e.pk for e in schedulable_episodes(program, week_start)]
    episodes = list(
        Episode.objects.filter(pk__in=scheduled)
        .select_related("patient", "primary_counselor")
        .order_by("patient__last_name", "patient__first_name", "id")
    )
    week = _Week(program, week_start, [e.patient_id for e in episodes])
    leads = [
        link.user
        for link in ClinicianProgram.objects.for_org(program.organization_id)
        .filter(program=program, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    ]
    prescribers: list[User] | None = None
    result = AppointmentResult()
    for episode in episodes:
        patient = episode.patient
        if (episode.patient_id, SessionKind.INDIVIDUAL) not in week.patient_has:
            clinicians = _counselors(episode, leads)
            if not clinicians:
                reason: str | None = "no primary counselor and nobody leads this program"
            else:
                reason = _book_one(
                    actor=actor, week=week, episode=episode, clinicians=clinicians,
                    kind=SessionKind.INDIVIDUAL, title=INDIVIDUAL_TITLE,
                    minutes=individual_minutes, request=request,
                )  # fmt: skip
            if reason is None:
                result.individual += 1
            else:
                result.unplaced.append(Unplaced(patient, SessionKind.INDIVIDUAL, reason))
        if episode.mat and (episode.patient_id, SessionKind.MEDICATION) not in week.patient_has:
            if prescribers is None:
                prescribers = _prescribers(program.organization_id)
            if not prescribers:
                reason = "nobody in the organization has the prescriber role"
            else:
                reason = _book_one(
                    actor=actor, week=week, episode=episode, clinicians=prescribers,
                    kind=SessionKind.MEDICATION, title=MEDICATION_TITLE,
                    minutes=medication_minutes, request=request,
                )  # fmt: skip
            if reason is None:
                result.medication += 1
            else:
                result.unplaced.append(Unplaced(patient, SessionKind.MEDICATION, reason))
    audit_log(
        actor=actor,
        action="openiop.scheduling.appointments.schedule",
        category=CAT,
        obj=program,
        request=request,
        detail={
            "week": week_start.isoformat(),
            "individual": result.individual,
            "medication": result.medication,
            "unplaced": [
                {"patient": str(u.patient.public_id), "kind": u.kind} for u in result.unplaced
            ],
        },
    )
    return result
