"""Seed data for the patient-portal browser test, run in a subprocess against its own SQLite file.

A virtual site (America/Chicago) with a Virtual IOP program, a virtual group session that
started five minutes ago and lasts three hours, one adult patient admitted (counselor as
primary counselor) and booked on it, a PHQ-9 due at admission by the program's questionnaire
schedule, the patient's portal log-in made through the invitation services with the
password given, and a consent (to the family doctor) waiting for the patient's signature.
Writes the ids the test needs as JSON.

Usage: DATABASE_URL=sqlite:///... python tests/browser/seed_portal.py USERNAME PASSWORD
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
    from openiop.enrollment.services import episode_create
    from openiop.organizations.models import Organization, Program, Site
    from openiop.patients.services import patient_create
    from openiop.portal import services as portal_services
    from openiop.questionnaires.models import QuestionnaireSchedule
    from openiop.scheduling.services import session_book, session_create

    org = Organization.objects.create(name="Prairie Recovery", slug="prairie")
    site = Site.objects.create(
        organization=org, name="Online", kind=Site.Kind.VIRTUAL, timezone="America/Chicago"
    )
    program = Program.objects.create(
        organization=org, site=site, name="Virtual IOP", modality=Program.Modality.VIRTUAL,
        level_of_care="2.1", weekly_min_hours=Decimal("9.0"), group_size_cap=10,
    )  # fmt: skip
    counselor = User.objects.create_user(
        username="rowan", password="counselor-pw-2026-long", organization=org,
        first_name="Rowan", last_name="Counselor",
    )  # fmt: skip
    counselor.groups.add(Group.objects.get_or_create(name=Role.COUNSELOR.value)[0])
    QuestionnaireSchedule.objects.create(
        organization=org, program=program, instrument="phq9", at_admission=True
    )

    now = timezone.now().replace(microsecond=0)
    starts_at = now - dt.timedelta(minutes=5)
    session = session_create(
        actor=counselor, program=program, title="Online evening group", starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=3), is_virtual=True, facilitators=[counselor],
    )  # fmt: skip
    patient = patient_create(
        actor=counselor, organization=org, first_name="Jordan", last_name="Alvarez",
        date_of_birth=dt.date(1988, 4, 12),
    )  # fmt: skip
    episode = episode_create(
        actor=counselor, patient=patient, program=program,
        admitted_on=starts_at.astimezone(site.tz).date(), primary_counselor=counselor,
    )  # fmt: skip
    session_book(actor=counselor, session=session, episode=episode)

    _, token = portal_services.invitation_create(actor=counselor, patient=patient)
    invitation = portal_services.invitation_for_token(token)
    account = portal_services.invitation_accept(
        invitation=invitation, username=username, password=password
    )
    # A release to the family doctor, waiting for the patient's signature in the portal.
    portal_services.consent_request_create(
        actor=counselor, patient=patient,
        terms={
            "kind": "named", "disclosing_party": org.name, "recipient_name": "Dr. Priya Raman",
            "recipient_organization": "Lakeview Family Medicine", "purpose": "treatment",
            "categories": ["attendance", "medications"], "expiry_event": "end of treatment",
        },
    )  # fmt: skip
    local = starts_at.astimezone(site.tz)
    return {
        "username": account.user.username,
        "first_name": account.user.first_name,
        "patient": str(patient.public_id),
        "episode": str(episode.public_id),
        "session": str(session.public_id),
        "session_title": session.title,
        "starts_local": local.strftime("%-I:%M %p"),
        "starts_at_utc": starts_at.isoformat(),
        "tz": str(site.tz),
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1], sys.argv[2])) + "\n")
