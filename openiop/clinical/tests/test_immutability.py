"""Signed notes cannot change: Python guards plus database triggers (security.md §2.4, T9)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from openiop.clinical.models import Note, NoteSignedError
from openiop.clinical.services import note_create_draft, note_save_draft, note_sign

START = dt.datetime(2026, 11, 10, 20, 0, tzinfo=dt.UTC)
DAP = {"data": "Reports 10 days abstinent.", "assessment": "Engaged.", "plan": "Continue IOP."}


@pytest.fixture
def signed(counselor, episode) -> Note:
    note = note_create_draft(actor=counselor, episode=episode, kind="individual", format="DAP")
    note = note_save_draft(
        actor=counselor,
        note=note,
        sections=DAP,
        started_at=START,
        ended_at=START + dt.timedelta(minutes=50),
        expected_version=1,
    )
    return note_sign(actor=counselor, note=note, expected_version=note.version)


def stored(note: Note) -> dict:
    return Note.objects.filter(pk=note.pk).values().get()


def test_model_save_of_a_signed_note_is_refused(signed):
    before = stored(signed)
    note = Note.objects.get(pk=signed.pk)
    note.sections = {**DAP, "plan": "rewritten"}
    with pytest.raises(NoteSignedError):
        note.save()
    assert stored(signed) == before


def test_queryset_update_of_a_signed_note_is_refused_by_the_database(signed):
    before = stored(signed)
    with pytest.raises(DatabaseError), transaction.atomic():
        Note.objects.filter(pk=signed.pk).update(sections={"data": "rewritten"})
    assert stored(signed) == before


def test_raw_sql_update_of_a_signed_note_is_refused_by_the_database(signed):
    before = stored(signed)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE clinical_note SET status = 'draft' WHERE id = %s", [signed.pk])
    assert stored(signed) == before


def test_a_signed_note_cannot_be_deleted(signed):
    with pytest.raises(NoteSignedError):
        Note.objects.get(pk=signed.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Note.objects.filter(pk=signed.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM clinical_note WHERE id = %s", [signed.pk])
    assert Note.objects.filter(pk=signed.pk).exists()


def test_drafts_stay_writable_and_deletable(counselor, episode):
    note = note_create_draft(actor=counselor, episode=episode, kind="family", format="BIRP")
    Note.objects.filter(pk=note.pk).update(sections={"behavior": "calm"})
    assert Note.objects.get(pk=note.pk).sections == {"behavior": "calm"}
    Note.objects.filter(pk=note.pk).delete()
    assert not Note.objects.filter(pk=note.pk).exists()


def test_a_service_cannot_flag_a_signed_note_for_cosignature_afterwards(signed):
    # Why note_sign sets cosign_required in the signing UPDATE itself: later it is too late.
    before = stored(signed)
    with pytest.raises(DatabaseError), transaction.atomic():
        Note.objects.filter(pk=signed.pk).update(cosign_required=True)
    with pytest.raises(DatabaseError), transaction.atomic():
        row = Note.objects.get(pk=signed.pk)
        row.cosign_required = True
        Note.objects.bulk_update([row], ["cosign_required"])
    assert stored(signed) == before


def test_cosigning_and_amending_leave_the_signed_row_as_it_was(signed, supervisor, counselor):
    from openiop.clinical.services import cosign, note_amend

    counselor.cosigner = supervisor
    counselor.save()
    before = stored(signed)
    note_amend(actor=counselor, note=signed, sections={"plan": "added"}, reason="late entry")
    with pytest.raises(ValidationError):  # it was signed without needing a co-signature
        cosign(actor=supervisor, note=signed)
    assert stored(signed) == before
