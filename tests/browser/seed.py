"""Seed data for the browser test, run in a subprocess against the test's own SQLite file.

A small clinic with a front-desk user and three admitted patients booked into a group session
that started 30 minutes ago, or at local midnight if that is later (so check-in is open). Writes
the ids the test needs as JSON.

Usage: DATABASE_URL=sqlite:///... python tests/browser/seed.py USERNAME PASSWORD
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
    from openiop.enrollment.services import episode_create
    from openiop.organizations.models import Organization, Program, Room, Site
    from openiop.patients.services import patient_create
    from openiop.scheduling.services import session_book, session_create

    org = Organization.objects.create(name="Riverbend Recovery", slug="riverbend")
    site = Site.objects.create(organization=org, name="Downtown", timezone="America/New_York")
    room = Room.objects.create(organization=org, site=site, name="Group A", capacity=12)
    program = Program.objects.create(organization=org, site=site, name="Adult Evening IOP")
    user = User.objects.create_user(
        username=username, password=password, organization=org, first_name="Frankie",
        last_name="Desk",
    )  # fmt: skip
    user.groups.add(Group.objects.get_or_create(name=Role.FRONT_DESK.value)[0])

    now = timezone.now().replace(second=0, microsecond=0)
    # Thirty minutes ago, but never before the site's local midnight: the dashboard lists today's
    # sessions, and a run just after midnight must not put the group on yesterday's list.
    local_midnight = now.astimezone(site.tz).replace(hour=0, minute=0)
    starts_at = max(now - dt.timedelta(minutes=30), local_midnight)
    admitted = starts_at.astimezone(site.tz).date() - dt.timedelta(days=3)
    session = session_create(
        actor=None, program=program, title="Evening process group", starts_at=starts_at,
        ends_at=now + dt.timedelta(hours=2, minutes=30), room=room,
    )  # fmt: skip
    names = [("Avery", "Alder"), ("Blake", "Birch"), ("Casey", "Cedar")]
    patients = []
    for first, last in names:
        patient = patient_create(
            actor=None, organization=org, first_name=first, last_name=last,
            date_of_birth=dt.date(1985, 6, 1),
        )  # fmt: skip
        episode = episode_create(actor=None, patient=patient, program=program, admitted_on=admitted)
        session_book(actor=None, session=session, episode=episode)
        patients.append(f"{first} {last}")
    return {"session": str(session.public_id), "patients": patients}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1], sys.argv[2])) + "\n")
