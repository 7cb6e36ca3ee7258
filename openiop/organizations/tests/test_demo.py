"""The demo clinic: what a person trying OpenIOP sees after ``openiop demo``."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from openiop.accounts.models import User
from openiop.accounts.permissions import roles_of
from openiop.attendance.models import AttendanceRecord
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.organizations import demo
from openiop.organizations.models import Organization, Program
from openiop.patients.models import Patient
from openiop.scheduling.models import Session

NY = zoneinfo.ZoneInfo("America/New_York")
TODAY = dt.date(2026, 11, 18)  # a Wednesday
NOW = dt.datetime(2026, 11, 18, 12, 30, tzinfo=NY)


@pytest.fixture
def built(db, settings) -> demo.DemoResult:
    # PBKDF2 (a million iterations) in production; a fast hasher here keeps the log-in test quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    steps: list[int] = []
    result = demo.build_demo(
        seed=7, patients=12, weeks=2, today=TODAY, progress=steps.append, now=NOW
    )
    assert sum(steps) == demo.progress_total(12)
    return result


def test_demo_has_the_four_programs_with_their_hours(built) -> None:
    programs = {p.name: p for p in Program.objects.for_org(built.organization)}
    assert set(programs) == {"Adult Day IOP", "Adult Evening IOP", "Virtual IOP", "Adolescent IOP"}
    day, teen, virtual = (
        programs["Adult Day IOP"],
        programs["Adolescent IOP"],
        programs["Virtual IOP"],
    )
    assert (day.weekly_min_hours, day.weekly_max_hours, day.min_days_per_week) == (9, 19, 3)
    assert (teen.min_age, teen.max_age, teen.weekly_min_hours) == (14, 17, 6)
    assert teen.cohort == Program.Cohort.AFTER_SCHOOL
    assert virtual.modality == Program.Modality.VIRTUAL and virtual.site.kind == "virtual"
    assert virtual.typical_length_weeks == 8
    first_day_group = Session.objects.for_org(built.organization).filter(program=day).first()
    assert first_day_group.local_start.time() == dt.time(9, 0)
    assert first_day_group.duration_minutes == 180


def test_every_demo_user_can_log_in_with_their_role(built) -> None:
    for username, _, password in demo.logins():
        user = authenticate(username=username, password=password)
        assert user is not None, username
        if username in ("patient", "guardian"):
            account = user.portal_account
            assert user.is_portal and not roles_of(user) and account.kind == username
            if username == "patient":
                assert account.patient.episodes.filter(
                    program__name="Virtual IOP", status__in=["active", "admitted", "on_hold"]
                ).exists()
                # A consent waits for the demo patient's signature in the portal.
                assert account.patient.consent_requests.filter(status="pending").count() == 1
            else:
                assert account.guardian.patient == account.patient
                assert account.patient.episodes.filter(program__name="Adolescent IOP").exists()
            continue
        spec = next(s for s in (*demo.STAFF, demo.OUTSIDER) if s.username == username)
        assert spec.role in roles_of(user)
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert User.objects.get(username="prescriber").credential == "MD"


def test_outsider_works_for_another_organization_with_its_own_patients(built) -> None:
    outsider = User.objects.get(username="outsider")
    assert outsider.organization == built.other_organization != built.organization
    assert Patient.objects.for_org(built.other_organization).exists()
    assert User.objects.get(username="counselor").organization == built.organization


def test_adolescents_are_14_to_17_and_have_a_guardian(built) -> None:
    teens = Episode.objects.for_org(built.organization).filter(program__name="Adolescent IOP")
    assert teens.exists()
    for episode in teens.select_related("patient"):
        patient = episode.patient
        assert 14 <= patient.age_on(TODAY) <= 17
        if episode.admitted_on:
            assert 14 <= patient.age_on(episode.admitted_on) <= 17
        assert patient.guardians.filter(is_legal_guardian=True).exists()
    adults = Episode.objects.for_org(built.organization).exclude(program__name="Adolescent IOP")
    assert all(19 <= e.patient.age_on(TODAY) <= 65 for e in adults.select_related("patient"))


def test_attendance_is_for_the_patients_program_within_the_episode(built) -> None:
    records = AttendanceRecord.objects.for_org(built.organization).select_related(
        "session__program__site", "episode"
    )
    assert records.count() > 50
    for record in records:
        episode = record.episode
        assert record.patient_id == episode.patient_id
        assert record.session.program_id == episode.program_id
        day = record.session.local_start.date()
        assert episode.admitted_on is not None and episode.admitted_on <= day
        assert episode.discharged_on is None or day <= episode.discharged_on
        if record.session.status == Session.Status.CANCELLED:
            assert record.status == "expected"  # booked, then the program cancelled


def test_no_attendance_is_recorded_for_sessions_not_yet_held(built) -> None:
    records = AttendanceRecord.objects.for_org(built.organization).select_related("session")
    future = [r for r in records if r.session.ends_at > NOW]
    assert future, "the demo books patients into upcoming sessions"
    assert all(r.status == "expected" and r.minutes_attended is None for r in future)
    past = [r for r in records if r.session.ends_at <= NOW]
    assert all(r.status != "expected" for r in past if r.session.status != "cancelled")
    assert {r.status for r in past} >= {"present", "absent"}


def test_demo_has_sessions_today_and_a_realistic_mix_of_episodes(built) -> None:
    today_sessions = Session.objects.for_org(built.organization).between(
        dt.datetime.combine(TODAY, dt.time(0), tzinfo=NY),
        dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(0), tzinfo=NY),
    )
    assert today_sessions.filter(kind="group").count() >= 3
    statuses = set(Episode.objects.for_org(built.organization).values_list("status", flat=True))
    assert {"active", "waitlisted", "discharged", "on_hold"} <= statuses
    for episode in Episode.objects.for_org(built.organization).prefetch_related("status_changes"):
        changes = list(episode.status_changes.all())
        assert changes[0].to_status == "waitlisted" and changes[-1].to_status == episode.status
    assert AuditEvent.objects.filter(action="openiop.organizations.demo.create").count() == 1


def test_same_seed_plans_the_same_clinic() -> None:
    def plan(seed: int) -> demo.DemoPlan:
        return demo.plan_demo(seed=seed, patients=30, weeks=3, today=TODAY, now=NOW)

    first, again = plan(42), plan(42)
    assert first == again
    people = [
        (p.mrn, p.first_name, p.last_name, p.date_of_birth, p.program) for p in first.patients
    ]
    other = [
        (p.mrn, p.first_name, p.last_name, p.date_of_birth, p.program) for p in plan(43).patients
    ]
    assert people != other


def test_if_empty_on_a_populated_database_changes_nothing(built) -> None:
    counts = (Patient.objects.count(), Session.objects.count(), Organization.objects.count())
    out = io.StringIO()
    call_command("demo", "--if-empty", stdout=out, stderr=io.StringIO())
    assert (
        Patient.objects.count(),
        Session.objects.count(),
        Organization.objects.count(),
    ) == counts
    assert "demo-password-2026" in out.getvalue() and demo.LOGIN_URL in out.getvalue()


def test_demo_refuses_to_run_twice(built) -> None:
    with pytest.raises(CommandError, match="already has data"):
        call_command("demo", stdout=io.StringIO(), stderr=io.StringIO())
    assert Organization.objects.count() == 2


@pytest.mark.django_db
def test_demo_command_builds_an_empty_database_and_prints_the_log_ins() -> None:
    out = io.StringIO()
    call_command(
        "demo", "--patients", "6", "--weeks", "1", "--today", "2026-11-18", "--seed", "3",
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    assert Patient.objects.filter(mrn__startswith="RB-").count() == 6
    text = out.getvalue()
    users = {line.split()[0] for line in text.splitlines() if line.strip()}
    for name in ("director", "intake", "counselor", "prescriber", "front_desk", "billing",
                 "auditor", "outsider"):  # fmt: skip
        assert name in users, f"the log-in {name!r} is not printed"
    assert demo.LOGIN_URL in text


@pytest.mark.django_db
def test_demo_prints_the_address_it_is_told_to() -> None:
    out = io.StringIO()
    call_command(
        "demo", "--patients", "4", "--weeks", "1", "--today", "2026-11-18", "--seed", "3",
        "--url", "http://0.0.0.0:9000/accounts/login/", stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    assert "Open http://0.0.0.0:9000/accounts/login/" in out.getvalue()


def test_every_demo_patient_can_be_found_by_name(built) -> None:
    assert Patient.objects.exists()
    assert not Patient.objects.filter(search_terms__isnull=True).exists()
    for someone in Patient.objects.order_by("pk")[::40]:
        found = Patient.objects.for_org(someone.organization).search(someone.last_name[:4])
        assert someone in found
