"""Note fixtures and helpers shared by the note tests (imported by them; no tests here)."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import make_user
from openiop.accounts.permissions import Role
from openiop.clinical.models import Note
from openiop.clinical.services import note_create_draft, note_save_draft, note_sign

START = dt.datetime(2026, 11, 10, 20, 0, tzinfo=dt.UTC)  # 15:00 in New York
DAP = {"data": "Reports 10 days abstinent.", "assessment": "Engaged.", "plan": "Continue IOP."}


def write_note(
    author,
    episode,
    *,
    kind: str = "individual",
    sections: dict | None = None,
    minutes: int = 50,
    start: dt.datetime = START,
    sign: bool = True,
) -> Note:
    note = note_create_draft(actor=author, episode=episode, kind=kind, format="DAP")
    note = note_save_draft(
        actor=author,
        note=note,
        sections=sections or DAP,
        started_at=start,
        ended_at=start + dt.timedelta(minutes=minutes),
        expected_version=note.version,
    )
    if sign:
        note = note_sign(actor=author, note=note, expected_version=note.version)
    return note


@pytest.fixture
def supervisee(org, supervisor, program):
    """A pre-licensed counselor whose notes need the program director's co-signature. Leads the
    program's groups, so the program's patients are in the trainee's caseload."""
    from openiop.scheduling.models import ClinicianProgram

    user = make_user("trainee", org, Role.COUNSELOR)
    user.cosigner = supervisor
    user.save()
    ClinicianProgram.objects.create(organization=org, user=user, program=program)
    return user
