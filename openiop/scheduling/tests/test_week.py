"""The weekly scheduler in the product: instance from the database, draft solve, pin, publish,
the board and the ``schedule week`` command (issue #4)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from conftest import login, make_user
from openiop.accounts.permissions import Role
from openiop.attendance.models import AttendanceRecord
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.enrollment.services import episode_create
from openiop.patients.models import UnavailableWindow
from openiop.patients.services import patient_create
from openiop.scheduling import services, week
from openiop.scheduling.models import (
    ClinicianProgram,
    ClinicianSlot,
    ScheduleBlock,
    ScheduleDraft,
    Session,
    SessionKind,
)
from openiop.scheduling.solver import check_solution, parse_instance

NY = zoneinfo.ZoneInfo("America/New_York")
WEEK = dt.date(2026, 11, 9)  # a Monday, standard time in New York
NAMES = ["Avery", "Blake", "Casey", "Drew", "Emery", "Finley", "Gray", "Jules", "Kit", "Harper"]
SCHEDULED = len(NAMES) - 1  # Harper is on hold

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def clinic(org, site, program, room, counselor, supervisor):
    """Evening blocks Mon-Fri 18:00 (3 h) and day blocks Mon-Fri 09:00, two counselors who can
    lead every block, eight admitted patients: Avery works evenings, Blake, Casey and Drew work
    days (so two groups are needed), Emery to Kit are free, Harper is on hold."""
    # Nine hours is both the minimum and the maximum: everyone gets exactly three blocks.
    program.weekly_max_hours = program.weekly_min_hours
    program.save()
    blocks = []
    for day in range(5):
        for start, part in ((dt.time(9), "day"), (dt.time(18), "evening")):
            blocks.append(
                ScheduleBlock.objects.create(
                    organization=org, site=site, day=day, start=start, minutes=180,
                    part_of_day=part,
                )
            )  # fmt: skip
    lead2 = make_user("lead2", org, Role.COUNSELOR)
    for user in (counselor, lead2):
        ClinicianProgram.objects.create(organization=org, user=user, program=program)
        for b in blocks:
            ClinicianSlot.objects.create(organization=org, user=user, block=b)
    episodes = []
    for i, name in enumerate(NAMES):
        p = patient_create(actor=None, organization=org, first_name=name, last_name="Tester",
                           date_of_birth=dt.date(1990, 1, 1 + i))  # fmt: skip
        episodes.append(
            episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 10, 1))
        )
    for day in range(5):
        UnavailableWindow.objects.create(
            organization=org, patient=episodes[0].patient, weekday=day,
            start_time=dt.time(16), end_time=dt.time(23), kind="work",
        )  # fmt: skip
        for e in episodes[1:4]:
            UnavailableWindow.objects.create(
                organization=org, patient=e.patient, weekday=day,
                start_time=dt.time(8), end_time=dt.time(17), kind="work",
            )  # fmt: skip
    Episode.objects.filter(pk=episodes[-1].pk).update(status=Episode.Status.ON_HOLD)
    return {"blocks": blocks, "episodes": episodes, "program": program}


def _solved(program, monday=WEEK, actor=None):
    draft = week.draft_create(actor=actor, program=program, week_start=monday)
    return week.draft_solve(actor=actor, draft=draft, time_limit=10)


def test_instance_is_valid_and_respects_work_windows(clinic):
    instance = week.build_instance(program=clinic["program"], week_start=WEEK)
    parse_instance(instance)
    patients = {p["id"]: p for p in instance["patients"]}
    avery, harper = clinic["episodes"][0].patient, clinic["episodes"][-1].patient
    assert str(harper.public_id) not in patients  # on hold: not scheduled
    assert len(patients) == SCHEDULED
    evening = {b["id"] for b in instance["blocks"] if b["start"] == "18:00"}
    avery_blocks = set(patients[str(avery.public_id)]["available_blocks"])
    assert avery_blocks and not avery_blocks & evening
    assert instance["programs"][0]["min_minutes"] == 540
    assert instance["programs"][0]["group_max"] == 10
    assert len(instance["clinicians"]) == 2
    assert all(len(c["available"]) == 10 for c in instance["clinicians"])


def test_build_refuses_a_week_not_starting_monday(clinic):
    with pytest.raises(ValidationError):
        week.build_instance(program=clinic["program"], week_start=WEEK + dt.timedelta(days=1))


def test_solved_draft_passes_the_validator(clinic):
    draft = _solved(clinic["program"])
    assert draft.status == ScheduleDraft.Status.DRAFT
    assert check_solution(draft.instance, draft.solution) == []
    assert draft.solution["metrics"]["patients_meeting_minimum"] == SCHEDULED
    assert "Done" in draft.progress


def test_pin_moves_only_that_patient(clinic):
    draft = _solved(clinic["program"])
    before = week.placements(draft.solution)

    def blocks_of(groups):
        return {g.split("/")[0] for g in groups}

    sizes = {g["id"]: len(g["patients"]) for g in draft.solution["groups"]}
    free = [str(e.patient.public_id) for e in clinic["episodes"][4:-1]]
    # A free patient whose groups keep at least 3 without them, moved to the other group's blocks.
    tid = next(p for p in free if min(sizes[g] for g in before[p]) >= 4)
    other = next(p for p in before if blocks_of(before[p]) != blocks_of(before[tid]))
    pinned = sorted(blocks_of(before[other]))
    target = next(e.patient for e in clinic["episodes"] if str(e.patient.public_id) == tid)
    week.draft_pin(actor=None, draft=draft, patient=target, blocks=pinned)
    draft.refresh_from_db()
    assert draft.status == ScheduleDraft.Status.QUEUED and draft.pins == {tid: pinned}
    draft = week.draft_solve(actor=None, draft=draft, time_limit=10)
    after = week.placements(draft.solution)
    assert check_solution(draft.instance, draft.solution) == []
    assert blocks_of(after[tid]) == set(pinned)
    others = [pid for pid in before if pid != tid]
    assert [pid for pid in others if blocks_of(before[pid]) != blocks_of(after.get(pid, []))] == []
    assert draft.solution["metrics"]["churn"] == 0


def test_pin_rejects_unknown_blocks(clinic):
    draft = _solved(clinic["program"])
    with pytest.raises(ValidationError):
        week.draft_pin(actor=None, draft=draft, patient=clinic["episodes"][1].patient,
                       blocks=["nope"])  # fmt: skip


@pytest.mark.parametrize(
    ("monday", "utc_hour"),
    [(dt.date(2026, 10, 26), 22), (WEEK, 23)],  # EDT until Nov 1, then EST
)
def test_publish_creates_sessions_at_local_times_with_rosters(clinic, monday, utc_hour):
    draft = _solved(clinic["program"], monday=monday)
    created = week.draft_publish(actor=None, draft=draft)
    groups = draft.solution["groups"]
    assert created == len(groups) > 0
    sessions = list(Session.objects.filter(program=clinic["program"]))
    assert len(sessions) == created
    for s in sessions:
        local = s.starts_at.astimezone(NY)
        assert monday <= local.date() < monday + dt.timedelta(days=7)
        assert local.time() in (dt.time(9), dt.time(18))
        if local.time() == dt.time(18):
            assert s.starts_at.astimezone(dt.UTC).hour == utc_hour
    seats = sum(len(g["patients"]) for g in groups)
    assert AttendanceRecord.objects.filter(session__in=sessions).count() == seats
    draft.refresh_from_db()
    assert draft.status == ScheduleDraft.Status.PUBLISHED
    with pytest.raises(ValidationError):
        week.draft_publish(actor=None, draft=draft)
    assert Session.objects.filter(program=clinic["program"]).count() == created


def test_next_week_starts_from_published_placements(clinic):
    draft = _solved(clinic["program"])
    week.draft_publish(actor=None, draft=draft)
    nxt = week.build_instance(program=clinic["program"], week_start=WEEK + dt.timedelta(days=7))
    held = week.placements(draft.solution)
    assert {p["id"]: p["current_groups"] for p in nxt["patients"] if p["current_groups"]} == held


def test_cli_week_exports_a_valid_instance_and_saves_a_draft(clinic, tmp_path, capsys):
    out = tmp_path / "week.json"
    call_command("schedule", "week", "--program", clinic["program"].name, "--week",
                 "2026-11-11", "--export", str(out), "--time-limit", "10")  # fmt: skip
    parse_instance(json.loads(out.read_text()))
    text = capsys.readouterr().out
    assert f"patients meeting the minimum: {SCHEDULED} / {SCHEDULED}" in text
    draft = ScheduleDraft.objects.get()
    assert draft.week_start == WEEK and draft.status == ScheduleDraft.Status.DRAFT
    assert str(draft.public_id) in text


def test_cli_run_draft_solves_a_queued_draft(clinic):
    draft = week.draft_create(actor=None, program=clinic["program"], week_start=WEEK)
    call_command("schedule", "run-draft", str(draft.public_id), "--time-limit", "10")
    draft.refresh_from_db()
    assert draft.status == ScheduleDraft.Status.DRAFT and draft.solution


# --- the board ---------------------------------------------------------------------------------


def _board_url(program):
    return f"{reverse('scheduling:board')}?program={program.public_id}&week={WEEK:%Y-%m-%d}"


def test_board_requires_login(client, clinic):
    response = client.get(_board_url(clinic["program"]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_outsider_gets_404_on_our_draft(client, clinic, outsider):
    draft = _solved(clinic["program"])
    login(client, outsider)
    url = reverse("scheduling:board-draft", args=[draft.public_id])
    assert client.get(url).status_code == 404
    assert (
        client.post(reverse("scheduling:board-publish", args=[draft.public_id])).status_code == 404
    )


def test_role_without_session_manage_cannot_post(client, clinic, counselor):
    draft = _solved(clinic["program"])
    login(client, counselor)
    assert client.get(reverse("scheduling:board-draft", args=[draft.public_id])).status_code == 200
    for name in ("board-publish", "board-resolve"):
        assert client.post(reverse(f"scheduling:{name}", args=[draft.public_id])).status_code == 403
    assert client.post(_board_url(clinic["program"])).status_code == 403
    assert not Session.objects.exists()


def test_board_shows_groups_and_shortfall_reasons(client, clinic, supervisor, org, program):
    # A ninth patient available only on Monday evening cannot reach 9 hours on 3 days.
    p = patient_create(actor=None, organization=org, first_name="Indigo", last_name="Short",
                       date_of_birth=dt.date(1985, 5, 5))  # fmt: skip
    episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 10, 1))
    for day in range(1, 7):
        UnavailableWindow.objects.create(
            organization=org, patient=p, weekday=day, start_time=dt.time(0),
            end_time=dt.time(23, 59),
        )  # fmt: skip
    draft = _solved(program)
    login(client, supervisor)
    response = client.get(reverse("scheduling:board-draft", args=[draft.public_id]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Falls short" in body and "Indigo Short" in body
    reason = next(x["reason"] for x in draft.solution["patients"] if x["id"] == str(p.public_id))
    assert reason and reason in body
    assert "Blake Tester" in body  # placed patients are listed in their groups
    event = AuditEvent.objects.filter(action="openiop.scheduling.draft.read").last()
    assert event is not None and str(p.public_id) in json.dumps(event.detail)


def test_build_and_solve_starts_the_background_runner(client, clinic, supervisor, monkeypatch):
    started = []
    monkeypatch.setattr(week, "start_background_solve", lambda draft: started.append(draft))
    login(client, supervisor)
    response = client.post(_board_url(clinic["program"]))
    draft = ScheduleDraft.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:board-draft", args=[draft.public_id])
    assert [d.pk for d in started] == [draft.pk] and draft.status == ScheduleDraft.Status.QUEUED
    progress = client.get(reverse("scheduling:board-progress", args=[draft.public_id]))
    assert b'hx-trigger="every 2s"' in progress.content


def test_publish_from_the_board_redirects_to_the_week(client, clinic, supervisor):
    draft = _solved(clinic["program"])
    login(client, supervisor)
    response = client.post(reverse("scheduling:board-publish", args=[draft.public_id]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("scheduling:session-list"))
    assert Session.objects.count() == len(draft.solution["groups"])


def test_pin_from_the_board_queues_a_resolve(client, clinic, supervisor, monkeypatch):
    monkeypatch.setattr(week, "start_background_solve", lambda draft: None)
    draft = _solved(clinic["program"])
    target = clinic["episodes"][2].patient
    blocks = [b["id"] for b in draft.instance["blocks"] if b["start"] == "18:00"][:3]
    login(client, supervisor)
    url = reverse("scheduling:board-pin", args=[draft.public_id, target.public_id])
    response = client.post(url, {"blocks": blocks})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.pins == {str(target.public_id): blocks}
    assert draft.status == ScheduleDraft.Status.QUEUED


def test_a_failed_solve_marks_the_draft_failed(clinic, monkeypatch):
    draft = week.draft_create(actor=None, program=clinic["program"], week_start=WEEK)

    def boom(*args, **kwargs):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(week, "solve", boom)
    with pytest.raises(RuntimeError):
        week.draft_solve(actor=None, draft=draft)
    draft.refresh_from_db()
    assert draft.status == ScheduleDraft.Status.FAILED and "solver crashed" in draft.error


#: Queries to render a solved board (session, user, draft, patients, clinicians, rooms, the audit
#: rows, messages...). The point is that it does not grow with the number of patients.
BOARD_QUERY_CEILING = 15  # 13 today


def test_board_query_count_does_not_grow_with_patients(
    client, clinic, supervisor, org, program, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, supervisor)
    counts = []
    for monday, extra in ((WEEK, 0), (WEEK + dt.timedelta(days=7), 12)):
        for i in range(extra):
            p = patient_create(
                actor=None, organization=org, first_name=f"More{i}", last_name="Tester",
                date_of_birth=dt.date(1970, 1, 1 + i),
            )  # fmt: skip
            episode_create(actor=None, patient=p, program=program, admitted_on=dt.date(2026, 10, 1))
        draft = _solved(program, monday=monday)
        url = reverse("scheduling:board-draft", args=[draft.public_id])
        client.get(url)  # warm the session and permission caches
        with django_assert_max_num_queries(BOARD_QUERY_CEILING):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
        assert response.status_code == 200
        assert len(response.context["shown"]) == len(draft.instance["patients"])
        counts.append((len(draft.instance["patients"]), len(ctx.captured_queries)))
    (few, few_queries), (many, many_queries) = counts
    assert many > few and many_queries == few_queries, counts


# -- sessions already on the calendar --------------------------------------------------------


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=NY)


@pytest.fixture
def busy_week(clinic, org, site, room, counselor):
    """The week already holds: this program's own evening series (Mon/Wed/Fri 18:00 in the room,
    led by the counselor, Emery and Finley booked; it also runs the next week); another
    program's group on Tuesday 18:00 in the same room led by the counselor; and Emery's
    individual session on Thursday 9:00-10:00 with the counselor."""
    from openiop.organizations.models import Program

    program = clinic["program"]
    episodes = clinic["episodes"]
    series = services.series_create(
        actor=None, program=program, title="Old evening group", weekdays=[0, 2, 4],
        start_time=dt.time(18), duration_minutes=180, start_date=WEEK,
        end_date=WEEK + dt.timedelta(days=13), room=room, facilitators=[counselor], capacity=10,
    )  # fmt: skip
    for e in episodes[4:6]:
        services.series_enroll(actor=None, series=series, episode=e, from_date=WEEK)
    other = Program.objects.create(
        organization=org, site=site, name="Adult Day IOP", cohort=Program.Cohort.EVENING,
        weekly_min_hours=program.weekly_min_hours, weekly_max_hours=program.weekly_max_hours,
    )  # fmt: skip
    teen = patient_create(actor=None, organization=org, first_name="Teen", last_name="Tester",
                          date_of_birth=dt.date(1980, 1, 1))  # fmt: skip
    teen_episode = episode_create(
        actor=None, patient=teen, program=other, admitted_on=dt.date(2026, 10, 1)
    )
    foreign = services.session_create(
        actor=None, program=other, title="Teen group", starts_at=_at(WEEK + dt.timedelta(1), 18),
        ends_at=_at(WEEK + dt.timedelta(1), 21), room=room, facilitators=[counselor],
        capacity=10,
    )  # fmt: skip
    services.session_book(actor=None, session=foreign, episode=teen_episode)
    individual = services.session_create(
        actor=None, program=program, title="Check-in", kind=SessionKind.INDIVIDUAL,
        starts_at=_at(WEEK + dt.timedelta(3), 9), ends_at=_at(WEEK + dt.timedelta(3), 10),
        facilitators=[counselor], capacity=1,
    )  # fmt: skip
    services.session_book(actor=None, session=individual, episode=episodes[4])
    return {**clinic, "series": series, "foreign": foreign, "individual": individual}


def _block_id(instance, day: int, start: str) -> str:
    return next(b["id"] for b in instance["blocks"] if b["day"] == day and b["start"] == start)


def test_instance_treats_other_sessions_as_busy_but_not_the_ones_publishing_replaces(
    busy_week, room, counselor
):
    instance = week.build_instance(program=busy_week["program"], week_start=WEEK)
    tue_eve, thu_am = _block_id(instance, 1, "18:00"), _block_id(instance, 3, "09:00")
    mon_eve = _block_id(instance, 0, "18:00")
    rooms = {r["id"]: r for r in instance["rooms"]}
    # The other program's group holds the room on Tuesday evening; this program's own series
    # (Monday, Wednesday, Friday) will be replaced, so it does not.
    assert rooms[str(room.public_id)]["unavailable_blocks"] == [tue_eve]
    lead = next(c for c in instance["clinicians"] if c["id"] == str(counselor.public_id))
    lead_blocks = {a["block"] for a in lead["available"]}
    assert tue_eve not in lead_blocks and thu_am not in lead_blocks and mon_eve in lead_blocks
    assert lead["max_groups"] == 5 - 1  # already leads the teen group that week
    emery = next(
        p for p in instance["patients"]
        if p["id"] == str(busy_week["episodes"][4].patient.public_id)
    )  # fmt: skip
    assert thu_am not in emery["available_blocks"]  # her individual session
    assert mon_eve in emery["available_blocks"]


def _clashes(sessions: list[Session]) -> list[str]:
    """Pairs of overlapping sessions sharing a room, a facilitator or a booked patient."""
    found = []
    for a, b in itertools.combinations(sessions, 2):
        if not (a.starts_at < b.ends_at and b.starts_at < a.ends_at):
            continue
        if a.room_id is not None and a.room_id == b.room_id:
            found.append(f"room: {a.title} / {b.title} at {a.starts_at}")
        if {u.pk for u in a.facilitators.all()} & {u.pk for u in b.facilitators.all()}:
            found.append(f"clinician: {a.title} / {b.title} at {a.starts_at}")
        pa = set(a.attendance.values_list("patient_id", flat=True))
        pb = set(b.attendance.values_list("patient_id", flat=True))
        if pa & pb:
            found.append(f"{len(pa & pb)} patient(s): {a.title} / {b.title} at {a.starts_at}")
    return found


def test_publish_replaces_the_programs_series_without_double_booking(busy_week):
    program, series = busy_week["program"], busy_week["series"]
    foreign, individual = busy_week["foreign"], busy_week["individual"]
    draft = _solved(program)
    assert draft.solution["metrics"]["patients_meeting_minimum"] == SCHEDULED
    created = week.draft_publish(actor=None, draft=draft)
    assert created == len(draft.solution["groups"]) > 0
    start, end = _at(WEEK, 0), _at(WEEK + dt.timedelta(days=7), 0)
    live = list(Session.objects.not_cancelled().filter(starts_at__gte=start, starts_at__lt=end))
    assert _clashes(live) == []
    # The old series' sessions that week are cancelled with a reason; the next week's stay.
    old = Session.objects.filter(series=series)
    this_week = [s for s in old if s.starts_at < end]
    assert len(this_week) == 3
    assert all(s.status == Session.Status.CANCELLED for s in this_week)
    assert all("Replaced by the published schedule" in s.cancel_reason for s in this_week)
    assert all(s.status != Session.Status.CANCELLED for s in old if s.starts_at >= end)
    # The other program's group and the individual session are untouched, rosters and all.
    for kept in (foreign, individual):
        fresh = Session.objects.get(pk=kept.pk)
        assert fresh.status == Session.Status.SCHEDULED
        assert (fresh.starts_at, fresh.room_id) == (kept.starts_at, kept.room_id)
        assert fresh.attendance.count() == 1
    # Every schedulable patient has the program's weekly minimum on the calendar.
    for e in busy_week["episodes"][:SCHEDULED]:
        held = AttendanceRecord.objects.filter(
            patient=e.patient, session__in=[s for s in live if s.kind == SessionKind.GROUP]
        ).count()
        assert held == 3


def test_publish_refuses_to_replace_a_session_with_attendance(busy_week):
    program, series = busy_week["program"], busy_week["series"]
    draft = _solved(program)
    first = Session.objects.filter(series=series).order_by("starts_at").first()
    AttendanceRecord.objects.filter(session=first).update(
        status=AttendanceRecord.Status.PRESENT, minutes_attended=180
    )
    with pytest.raises(ValidationError) as err:
        week.draft_publish(actor=None, draft=draft)
    assert "already took place or have attendance" in str(err.value)
    assert Session.objects.filter(series=series).not_cancelled().count() == 6
    assert not Session.objects.filter(program=program, series__isnull=True,
                                      kind=SessionKind.GROUP).exists()  # fmt: skip
    draft.refresh_from_db()
    assert draft.status == ScheduleDraft.Status.DRAFT


def test_publish_refuses_when_the_calendar_changed_since_the_solve(busy_week, counselor):
    program = busy_week["program"]
    draft = _solved(program)
    # After the solve, someone books every patient of the first group elsewhere at that time.
    group = draft.solution["groups"][0]
    block = next(b for b in draft.instance["blocks"] if b["id"] == group["block"])
    day = WEEK + dt.timedelta(days=block["day"])
    hour = int(block["start"][:2])
    clash = services.session_create(
        actor=None, program=program, title="Family session", kind=SessionKind.FAMILY,
        starts_at=_at(day, hour), ends_at=_at(day, hour + 1), capacity=10,
    )  # fmt: skip
    ep = next(e for e in busy_week["episodes"] if str(e.patient.public_id) == group["patients"][0])
    services.session_book(actor=None, session=clash, episode=ep)
    with pytest.raises(ValidationError) as err:
        week.draft_publish(actor=None, draft=draft)
    assert "calendar changed" in str(err.value)
    assert Session.objects.filter(series=busy_week["series"]).not_cancelled().count() == 6


def test_publish_uses_the_room_capacity_when_the_room_is_smaller_than_the_group_cap(clinic, room):
    room.capacity = 5  # the program allows groups of 10; the only room seats 5
    room.save()
    draft = _solved(clinic["program"])
    assert check_solution(draft.instance, draft.solution) == []
    created = week.draft_publish(actor=None, draft=draft)
    sessions = list(Session.objects.filter(program=clinic["program"]))
    assert created == len(sessions) > 0
    assert {s.capacity for s in sessions} == {5}
    assert all(s.attendance.count() <= 5 for s in sessions)


def test_an_empty_draft_is_not_published_over_the_weeks_sessions(busy_week):
    program = busy_week["program"]
    draft = _solved(program)
    ScheduleDraft.objects.filter(pk=draft.pk).update(solution={**draft.solution, "groups": []})
    draft.refresh_from_db()
    with pytest.raises(ValidationError) as err:
        week.draft_publish(actor=None, draft=draft)
    assert "nothing to publish" in str(err.value)
    assert Session.objects.filter(series=busy_week["series"]).not_cancelled().count() == 6


def test_board_says_in_words_when_a_pin_cannot_be_kept(client, clinic, supervisor):
    draft = _solved(clinic["program"])
    emery = clinic["episodes"][4].patient
    four = [b.solver_id for b in clinic["blocks"] if b.start == dt.time(18)][:4]
    week.draft_pin(actor=None, draft=draft, patient=emery, blocks=four)  # 12 h, over the 9 h max
    draft = week.draft_solve(actor=None, draft=ScheduleDraft.objects.get(pk=draft.pk))
    assert draft.solution["metrics"]["pins_not_kept"] == [str(emery.public_id)]
    login(client, supervisor)
    page = client.get(reverse("scheduling:board-draft", args=[draft.public_id])).content.decode()
    assert "Pins not kept" in page
    assert f"{emery.display_name}:" in page and "cannot all be kept" in page


def test_a_kept_pin_is_not_reported(client, clinic, supervisor):
    draft = _solved(clinic["program"])
    emery = clinic["episodes"][4].patient
    three = [b.solver_id for b in clinic["blocks"] if b.start == dt.time(18)][:3]
    week.draft_pin(actor=None, draft=draft, patient=emery, blocks=three)
    draft = week.draft_solve(actor=None, draft=ScheduleDraft.objects.get(pk=draft.pk))
    assert draft.solution["metrics"]["pins_not_kept"] == []
    held = {g.split("/")[0] for g in week.placements(draft.solution)[str(emery.public_id)]}
    assert held == set(three)
    login(client, supervisor)
    page = client.get(reverse("scheduling:board-draft", args=[draft.public_id])).content.decode()
    assert "Pins not kept" not in page


def test_publish_refuses_a_room_booked_since_the_solve_and_changes_nothing(busy_week, room):
    program = busy_week["program"]
    draft = _solved(program)
    group = next(g for g in draft.solution["groups"] if g["room"] == str(room.public_id))
    block = next(b for b in draft.instance["blocks"] if b["id"] == group["block"])
    day = WEEK + dt.timedelta(days=block["day"])
    hour = int(block["start"][:2])
    other = Session.objects.get(pk=busy_week["foreign"].pk).program
    services.session_create(
        actor=None, program=other, title="Workshop", starts_at=_at(day, hour),
        ends_at=_at(day, hour + 1), room=room, capacity=10,
    )  # fmt: skip
    with pytest.raises(ValidationError) as err:
        week.draft_publish(actor=None, draft=draft)
    assert "is booked for Workshop" in str(err.value) and "build and solve" in str(err.value)
    assert Session.objects.filter(series=busy_week["series"]).not_cancelled().count() == 6
    assert not Session.objects.filter(program=program, title=f"{program.name} group").exists()
