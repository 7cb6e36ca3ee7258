"""Seed data for the live FHIR client test, run in a subprocess against its own SQLite file.

One organization with an evening IOP program, seven admitted patients with a PHQ-9 each, a TPO
consent for one of them (Dana Whitfield) that covers demographics and attendance, a staff FHIR
client (a program director, ``user/*.cruds``) and an outside client (County Hospital, purpose
treatment, ``system/*.rs``). Writes the ids and the two tokens as JSON.

Usage: DATABASE_URL=sqlite:///... python tests/seed_fhir.py USERNAME PASSWORD
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
    from openiop.consent.services import consent_record
    from openiop.enrollment.services import episode_create
    from openiop.fhir.services import fhir_client_create
    from openiop.organizations.models import Organization, Program, Site
    from openiop.patients.services import patient_create
    from openiop.questionnaires.instruments import registry
    from openiop.questionnaires.services import response_record

    org = Organization.objects.create(name="Riverbend Recovery", slug="riverbend")
    site = Site.objects.create(organization=org, name="Downtown", timezone="America/New_York")
    program = Program.objects.create(
        organization=org, site=site, name="Adult Evening IOP", weekly_min_hours=Decimal("9.0"),
        group_size_cap=10,
    )  # fmt: skip
    director = User.objects.create_user(
        username=username, password=password, organization=org, first_name="Morgan",
        last_name="Director",
    )  # fmt: skip
    director.groups.add(Group.objects.get_or_create(name=Role.PROGRAM_DIRECTOR.value)[0])
    today = timezone.now().astimezone(site.tz).date()
    items = [item.link_id for item in registry.get("phq9").items]
    names = ["Whitfield", "Alvarez", "Brooks", "Chen", "Dubois", "Evans", "Fischer"]
    patients = []
    for n, last in enumerate(names):
        p = patient_create(
            actor=None, organization=org, first_name="Dana" if n == 0 else f"Pat{n}",
            last_name=last, date_of_birth=dt.date(1980 + n, 3, 1), sex="female",
        )  # fmt: skip
        episode = episode_create(
            actor=None, patient=p, program=program, admitted_on=today - dt.timedelta(days=14),
            primary_counselor=director,
        )  # fmt: skip
        answers = {link_id: "1" for link_id in items}
        answers[items[8]] = "0"
        response_record(
            actor=director, patient=p, episode=episode, instrument="phq9", answers=answers,
            administered_at=timezone.now() - dt.timedelta(days=7),
        )  # fmt: skip
        patients.append(p)
    consent_record(
        actor=director, patient=patients[0], kind="tpo", disclosing_party=org.name,
        purpose="treatment", categories=["demographics", "attendance"],
        signed_by_name="Dana Whitfield", signed_at=timezone.now() - dt.timedelta(days=3),
        expiry_event="end of treatment",
    )  # fmt: skip
    _, staff_token = fhir_client_create(
        actor=None, organization=org, name="Director's app", kind="user", user=director,
        scopes="user/*.cruds",
    )  # fmt: skip
    _, hospital_token = fhir_client_create(
        actor=None, organization=org, name="County Hospital", kind="system",
        scopes="system/*.rs", recipient_organization="County Hospital", purpose="treatment",
    )  # fmt: skip
    return {
        "patients": [str(p.public_id) for p in patients],
        "dana": str(patients[0].public_id),
        "program": str(program.public_id),
        "staff_token": staff_token,
        "hospital_token": hospital_token,
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1], sys.argv[2])) + "\n")
