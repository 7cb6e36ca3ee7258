"""Shared personas (DESIGN.md §6): counselor, supervisor, front_desk, billing, auditor, intake,
prescriber, outsider (another organization), plus a small clinic they work in."""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from openiop.accounts.models import User
from openiop.accounts.permissions import Role
from openiop.accounts.tokens import token_create
from openiop.organizations.models import Organization, Program, Room, Site

NY = zoneinfo.ZoneInfo("America/New_York")

# Precomputed panels (ADR 0016) are computed on every request in tests, so a test that records
# attendance and reloads a page sees the change; the snapshot tests turn the maximum age back on.
# The environment reaches the servers that browser and crash tests start.
for _name in ("OPENIOP_SNAPSHOT_MAX_AGE_SECONDS", "OPENIOP_REPORT_SNAPSHOT_MAX_AGE_SECONDS"):
    os.environ.setdefault(_name, "0")


@pytest.fixture(autouse=True)
def _snapshots_always_computed(settings) -> None:  # type: ignore[no-untyped-def]
    settings.OPENIOP_SNAPSHOT_MAX_AGE_SECONDS = 0
    settings.OPENIOP_REPORT_SNAPSHOT_MAX_AGE_SECONDS = 0


def make_user(username: str, organization: Organization | None, *roles: Role) -> User:
    user = User.objects.create_user(
        username=username,
        password="pw-" + username + "-2026",
        organization=organization,
        first_name=username.title(),
        last_name="Tester",
    )
    for role in roles:
        group, _ = Group.objects.get_or_create(name=role.value)
        user.groups.add(group)
    return user


@pytest.fixture
def org(db) -> Organization:
    return Organization.objects.create(name="Riverbend Recovery", slug="riverbend")


@pytest.fixture
def other_org(db) -> Organization:
    return Organization.objects.create(name="Lakeside Behavioral", slug="lakeside")


@pytest.fixture
def site(org) -> Site:
    return Site.objects.create(organization=org, name="Downtown", timezone="America/New_York")


@pytest.fixture
def room(site) -> Room:
    return Room.objects.create(
        organization=site.organization, site=site, name="Group A", capacity=12
    )


@pytest.fixture
def program(site) -> Program:
    return Program.objects.create(
        organization=site.organization,
        site=site,
        name="Adult Evening IOP",
        cohort=Program.Cohort.EVENING,
        weekly_min_hours=Decimal("9.0"),
        weekly_max_hours=Decimal("19.0"),
        min_days_per_week=3,
        group_size_cap=10,
    )


@pytest.fixture
def counselor(org) -> User:
    return make_user("counselor", org, Role.COUNSELOR)


@pytest.fixture
def supervisor(org) -> User:
    return make_user("director", org, Role.PROGRAM_DIRECTOR)


@pytest.fixture
def intake(org) -> User:
    return make_user("intake", org, Role.INTAKE)


@pytest.fixture
def front_desk(org) -> User:
    return make_user("front_desk", org, Role.FRONT_DESK)


@pytest.fixture
def billing(org) -> User:
    return make_user("billing", org, Role.BILLING)


@pytest.fixture
def auditor(org) -> User:
    return make_user("auditor", org, Role.AUDITOR)


@pytest.fixture
def prescriber(org) -> User:
    return make_user("prescriber", org, Role.PRESCRIBER)


@pytest.fixture
def outsider(other_org) -> User:
    Site.objects.create(organization=other_org, name="Lakeside Main", timezone="America/Chicago")
    return make_user("outsider", other_org, Role.PROGRAM_DIRECTOR, Role.COUNSELOR)


@pytest.fixture
def patient(org):
    from openiop.patients.services import patient_create

    return patient_create(
        actor=None,
        organization=org,
        first_name="Dana",
        last_name="Whitfield",
        date_of_birth=dt.date(1988, 4, 12),
        sex="female",
        phone="555-0100",
    )


@pytest.fixture
def episode(patient, program, counselor):
    from openiop.enrollment.services import episode_create

    return episode_create(
        actor=None,
        patient=patient,
        program=program,
        admitted_on=dt.date(2026, 11, 2),
        referral_source="self",
        primary_substance=2,
        primary_counselor=counselor,
    )


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def api_client(user: User) -> Client:
    _, raw = token_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
