"""The demo seeding of individual notes."""

from __future__ import annotations

import datetime as dt
import random

from conftest import make_user
from openiop.accounts.permissions import Role
from openiop.clinical.demo_notes import seed_notes
from openiop.clinical.models import Cosignature, Note
from openiop.clinical.selectors import cosign_queue, note_list_for_episode
from openiop.enrollment.services import episode_create

TODAY = dt.date(2026, 12, 20)


def test_demo_notes_are_signed_vary_per_patient_and_fill_the_cosign_queue(
    org, program, counselor, supervisor, episode, patient
):
    from openiop.patients.services import patient_create

    trainee = make_user("trainee", org, Role.COUNSELOR)
    other = patient_create(
        actor=None, organization=org, first_name="Ravi", last_name="Patel",
        date_of_birth=dt.date(1979, 2, 3), sex="male",
    )  # fmt: skip
    second = episode_create(
        actor=None, patient=other, program=program, admitted_on=dt.date(2026, 11, 3),
        referral_source="self", primary_substance=5, primary_counselor=trainee,
    )  # fmt: skip
    counts = seed_notes(
        organization=org,
        episodes=[episode, second],
        counselors=[counselor, trainee],
        rng=random.Random(7),
        today=TODAY,
    )
    notes = list(Note.objects.all())
    assert counts["notes"] == len(notes) >= 8
    assert all(n.status == "signed" and n.psychotherapy_band for n in notes)
    originals = [n for n in notes if n.amends_id is None]
    texts = {n.sections["data"] for n in originals}
    assert len(texts) == len(originals)  # no two notes alike
    assert any("Dana" in t for t in texts) and any("Ravi" in t for t in texts)
    assert counts["amendments"] == 1
    amendment = Note.objects.get(amends__isnull=False)
    assert amendment.amendment_reason
    listed = note_list_for_episode(user=counselor, episode=amendment.episode)
    assert listed[listed.index(amendment.amends) + 1] == amendment
    trainee.refresh_from_db()
    assert trainee.cosigner == supervisor
    queue = cosign_queue(supervisor)
    assert len(queue) == counts["awaiting_cosign"] > 0
    assert {i.author for i in queue} == {trainee}
    assert Cosignature.objects.count() == counts["cosigned"]
