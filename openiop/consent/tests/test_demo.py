"""The demo's consents: every status shows, the accounting has rows, one access awaits review."""

from __future__ import annotations

import datetime as dt
import random

import time_machine

from conftest import make_user
from openiop.accounts.permissions import Role
from openiop.consent import selectors
from openiop.consent.demo import seed_consents
from openiop.consent.models import BreakGlassAccess, Consent, Disclosure
from openiop.enrollment.services import episode_create
from openiop.patients.services import patient_create

TODAY = dt.date(2026, 12, 14)


def test_seed_consents_shows_every_status(org, program, counselor, supervisor, billing):
    counselor2 = make_user("counselor2", org, Role.COUNSELOR)
    episodes = []
    for i in range(8):
        patient = patient_create(
            actor=None, organization=org, first_name=f"P{i}", last_name="Demo",
            date_of_birth=dt.date(1980 + i, 1, 1), sex="female",
        )  # fmt: skip
        episodes.append(episode_create(
            actor=None, patient=patient, program=program, admitted_on=dt.date(2026, 9, 1 + i),
            referral_source="self", primary_substance=2,
            primary_counselor=counselor if i % 2 else counselor2,
        ))  # fmt: skip
    staff = {u.username: u for u in (counselor, counselor2, supervisor, billing)}
    with time_machine.travel(dt.datetime(2026, 12, 14, 20, tzinfo=dt.UTC), tick=False):
        counts = seed_consents(
            organization=org, episodes=episodes, staff=staff, rng=random.Random(3), today=TODAY
        )
        statuses = {c.status_on(TODAY) for c in Consent.objects.all()}
        assert {"active", "expired", "revoked"} <= statuses
        assert counts["disclosures"] >= 4 and Disclosure.objects.made().count() >= 4
        revoked = Consent.objects.get(revoked_at__isnull=False)
        earlier = Disclosure.objects.made().filter(consent=revoked)
        assert earlier.exists() and all(d.disclosed_at < revoked.revoked_at for d in earlier)
        assert Disclosure.objects.filter(status="refused").count() == 1
        assert len(selectors.break_glass_unreviewed(supervisor)) == 1
        access = BreakGlassAccess.objects.get()
        assert not selectors.break_glass_active(access.user, access.patient)
