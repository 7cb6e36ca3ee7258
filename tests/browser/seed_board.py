"""Seed data for the weekly-board browser test, run in a subprocess against the test's own SQLite.

A clinic (America/New_York) with two rooms, an adult evening program meeting Monday to Thursday
at 18:00 (3 h), two counselors who can lead every block, eight admitted patients and a program
director. Dana Dogwood works Monday to Wednesday evenings (only Thursday is left, so she falls
short of the program's three days); Eli Elm works Monday evenings (three evenings are left).
Writes what the test needs as JSON on the last line.

Usage: DATABASE_URL=sqlite:///... python tests/browser/seed_board.py USERNAME PASSWORD
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from decimal import Decimal

NAMES = [
    ("Avery", "Alder"), ("Blake", "Birch"), ("Casey", "Cedar"), ("Dana", "Dogwood"),
    ("Eli", "Elm"), ("Frankie", "Fir"), ("Gale", "Ginkgo"), ("Harley", "Hazel"),
]  # fmt: skip
SHORT = "Dana Dogwood"


def main(username: str, password: str) -> dict[str, object]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Group

    from openiop.accounts.models import User
    from openiop.accounts.permissions import Role
    from openiop.enrollment.services import episode_create
    from openiop.organizations.models import Organization, Program, Room, Site
    from openiop.patients.models import UnavailableWindow
    from openiop.patients.services import patient_create
    from openiop.scheduling.models import ClinicianProgram, ClinicianSlot, ScheduleBlock

    def user(name: str, first: str, last: str, role: Role, pw: str | None = None) -> User:
        u = User.objects.create_user(
            username=name, password=pw, organization=org, first_name=first, last_name=last
        )
        u.groups.add(Group.objects.get_or_create(name=role.value)[0])
        return u

    org = Organization.objects.create(name="Riverbend Recovery", slug="riverbend")
    site = Site.objects.create(organization=org, name="Downtown", timezone="America/New_York")
    for name in ("Group A", "Group B"):
        Room.objects.create(organization=org, site=site, name=name, capacity=12)
    program = Program.objects.create(
        organization=org, site=site, name="Adult Evening IOP", cohort=Program.Cohort.EVENING,
        weekly_min_hours=Decimal("9.0"), weekly_max_hours=Decimal("9.0"), min_days_per_week=3,
        group_size_cap=10,
    )  # fmt: skip
    user(username, "Pat", "Director", Role.PROGRAM_DIRECTOR, password)
    blocks = [
        ScheduleBlock.objects.create(
            organization=org, site=site, day=day, start=dt.time(18), minutes=180,
            part_of_day="evening",
        )
        for day in range(4)
    ]  # fmt: skip
    counselors = [
        user("rowan", "Rowan", "Reed", Role.COUNSELOR),
        user("sage", "Sage", "Sorrel", Role.COUNSELOR),
    ]
    for c in counselors:
        ClinicianProgram.objects.create(organization=org, user=c, program=program)
        for b in blocks:
            ClinicianSlot.objects.create(organization=org, user=c, block=b)
    admitted = site.today() - dt.timedelta(days=30)
    patients = {}
    for i, (first, last) in enumerate(NAMES):
        patient = patient_create(
            actor=None, organization=org, first_name=first, last_name=last,
            date_of_birth=dt.date(1980 + i, 3, 1 + i),
        )  # fmt: skip
        episode_create(actor=None, patient=patient, program=program, admitted_on=admitted)
        patients[f"{first} {last}"] = patient
    for name, days in ((SHORT, range(3)), ("Eli Elm", range(1))):
        for day in days:
            UnavailableWindow.objects.create(
                organization=org, patient=patients[name], weekday=day,
                start_time=dt.time(16), end_time=dt.time(23), kind="work",
            )  # fmt: skip
    return {
        "program": program.name, "patients": list(patients), "short": SHORT,
        "next_monday": str(site.today() + dt.timedelta(days=7 - site.today().weekday())),
    }  # fmt: skip


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1], sys.argv[2])) + "\n")
