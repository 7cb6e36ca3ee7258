"""Seed data for the intake browser test, run in a subprocess against the test's own SQLite file.

A clinic with an adult evening IOP whose weekly group meets Mon/Wed/Thu 18:00-21:00 for the next
eight weeks, and a user who does intake and counselling. Writes the ids the test needs as JSON.

Usage: DATABASE_URL=sqlite:///... python tests/browser/seed_intake.py USERNAME PASSWORD
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from decimal import Decimal


def main(username: str, password: str) -> dict[str, object]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from openiop.accounts.models import User
    from openiop.accounts.permissions import Role
    from openiop.organizations.models import Organization, Program, Room, Site
    from openiop.scheduling.services import series_create

    org = Organization.objects.create(name="Riverbend Recovery", slug="riverbend")
    site = Site.objects.create(organization=org, name="Downtown", timezone="America/New_York")
    room = Room.objects.create(organization=org, site=site, name="Group A", capacity=12)
    program = Program.objects.create(
        organization=org, site=site, name="Adult Evening IOP", cohort=Program.Cohort.EVENING,
        level_of_care="2.1", weekly_min_hours=Decimal("9.0"), group_size_cap=10,
    )  # fmt: skip
    user = User.objects.create_user(
        username=username, password=password, organization=org, first_name="Casey",
        last_name="Intake",
    )  # fmt: skip
    for role in (Role.INTAKE, Role.COUNSELOR):
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    today = timezone.now().astimezone(site.tz).date()
    series = series_create(
        actor=None, program=program, title="Evening group", weekdays=[0, 2, 3],
        start_time=dt.time(18), duration_minutes=180, start_date=today,
        end_date=today + dt.timedelta(weeks=8), room=room,
    )  # fmt: skip
    return {"program": str(program.public_id), "series": str(series.public_id)}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1], sys.argv[2])) + "\n")
