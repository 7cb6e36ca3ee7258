"""Seed data for the group-note browser test, run in a subprocess against the test's own SQLite.

A counselor, three admitted patients with active treatment plans, and a group session that
started two hours ago with attendance taken: Avery and Blake present, Casey absent. Writes the
ids the test needs as JSON.

Usage: DATABASE_URL=sqlite:///... python tests/browser/seed_group_note.py USERNAME PASSWORD
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys


def main(username: str, password: str) -> dict[str, object]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from openiop.accounts.models import User
    from openiop.accounts.permissions import Role
    from openiop.attendance.services import AttendanceEntry, attendance_record
    from openiop.clinical.models import PlanGoal, PlanObjective, PlanProblem, TreatmentPlan
    from openiop.enrollment.services import episode_create
    from openiop.organizations.models import Organization, Program, Room, Site
    from openiop.patients.services import patient_create
    from openiop.scheduling.services import session_book, session_create

    org = Organization.objects.create(name="Riverbend Recovery", slug="riverbend")
    site = Site.objects.create(organization=org, name="Downtown", timezone="America/New_York")
    room = Room.objects.create(organization=org, site=site, name="Group A", capacity=12)
    program = Program.objects.create(organization=org, site=site, name="Adult Evening IOP")
    user = User.objects.create_user(
        username=username, password=password, organization=org, first_name="Morgan",
        last_name="Counselor",
    )  # fmt: skip
    user.groups.add(Group.objects.get_or_create(name=Role.COUNSELOR.value)[0])

    now = timezone.now().replace(second=0, microsecond=0)
    starts_at = now - dt.timedelta(hours=2)
    admitted = starts_at.astimezone(site.tz).date() - dt.timedelta(days=7)
    session = session_create(
        actor=None, program=program, title="Evening process group", starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=3), room=room,
    )  # fmt: skip
    names = [("Avery", "Alder"), ("Blake", "Birch"), ("Casey", "Cedar")]
    patients, entries = [], []
    for (first, last), status in zip(names, ["present", "present", "absent"], strict=True):
        patient = patient_create(
            actor=None, organization=org, first_name=first, last_name=last,
            date_of_birth=dt.date(1985, 6, 1),
        )  # fmt: skip
        episode = episode_create(actor=None, patient=patient, program=program, admitted_on=admitted)
        session_book(actor=None, session=session, episode=episode)
        plan = TreatmentPlan.objects.create(
            organization=org, episode=episode, patient=patient, status="active",
            clinician_signed_by=user, clinician_signed_at=now, patient_signature=first,
            patient_signed_at=now, effective_on=admitted,
            next_review_on=admitted + dt.timedelta(days=30),
        )  # fmt: skip
        problem = PlanProblem.objects.create(organization=org, plan=plan, description="Alcohol use")
        goal = PlanGoal.objects.create(organization=org, problem=problem, text="Stay sober")
        PlanObjective.objects.create(
            organization=org, goal=goal, text=f"{first} names two coping skills for cravings"
        )
        patients.append(patient)
        entries.append(AttendanceEntry(patient=patient, status=status))
    attendance_record(actor=user, session=session, entries=entries)
    return {
        "session": str(session.public_id),
        "patients": [p.display_name for p in patients],
        "patient_ids": [str(p.public_id) for p in patients],
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1], sys.argv[2])) + "\n")
