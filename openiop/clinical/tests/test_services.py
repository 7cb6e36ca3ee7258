from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from openiop.clinical.models import Note, psychotherapy_band
from openiop.clinical.selectors import note_get, note_list_for_episode
from openiop.clinical.services import (
    NoteConflict,
    note_amend,
    note_create_draft,
    note_save_draft,
    note_sign,
)
from openiop.core.models import AuditEvent

NOW = dt.datetime(2026, 11, 10, 22, 0, tzinfo=dt.UTC)
START = dt.datetime(2026, 11, 10, 20, 0, tzinfo=dt.UTC)
DAP = {"data": "Reports 10 days abstinent.", "assessment": "Engaged.", "plan": "Continue IOP."}


@pytest.fixture
def draft(counselor, episode) -> Note:
    return note_create_draft(actor=counselor, episode=episode, kind="individual", format="DAP")


def fill(note: Note, actor, minutes: int = 45) -> Note:
    return note_save_draft(
        actor=actor,
        note=note,
        sections=DAP,
        started_at=START,
        ended_at=START + dt.timedelta(minutes=minutes),
        expected_version=note.version,
    )


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def test_draft_is_saved_with_increasing_versions_then_signed(counselor, episode, draft):
    assert (draft.status, draft.version, draft.patient_id) == ("draft", 1, episode.patient_id)
    note = fill(draft, counselor)
    assert note.version == 2
    note = note_save_draft(
        actor=counselor,
        note=note,
        sections={**DAP, "plan": "Add a family session."},
        started_at=START,
        ended_at=START + dt.timedelta(minutes=45),
        expected_version=2,
    )
    assert note.version == 3
    with time_machine.travel(NOW, tick=False):
        note = note_sign(actor=counselor, note=note, expected_version=3)
    stored = Note.objects.get(pk=draft.pk)
    assert stored.status == "signed"
    assert stored.signed_at == NOW
    assert stored.signed_by == counselor
    assert stored.version == 4
    assert stored.sections["plan"] == "Add a family session."


def test_signing_an_incomplete_note_names_the_empty_sections(counselor, draft):
    note = note_save_draft(
        actor=counselor,
        note=draft,
        sections={"data": "Reports cravings.", "assessment": "   "},
        started_at=START,
        ended_at=START + dt.timedelta(minutes=30),
        expected_version=1,
    )
    with pytest.raises(ValidationError) as err:
        note_sign(actor=counselor, note=note, expected_version=note.version)
    assert "empty: assessment, plan" in str(err.value.message_dict["sections"])
    assert Note.objects.get(pk=draft.pk).status == "draft"


def test_signing_needs_start_and_end_times(counselor, draft):
    note = note_save_draft(actor=counselor, note=draft, sections=DAP, expected_version=1)
    with pytest.raises(ValidationError) as err:
        note_sign(actor=counselor, note=note, expected_version=note.version)
    assert "started_at" in err.value.message_dict


def test_end_before_start_is_refused(counselor, draft):
    with pytest.raises(ValidationError) as err:
        note_save_draft(
            actor=counselor,
            note=draft,
            sections=DAP,
            started_at=START,
            ended_at=START - dt.timedelta(minutes=5),
            expected_version=1,
        )
    assert "ended_at" in err.value.message_dict


def test_unknown_section_for_the_format_is_refused(counselor, draft):
    with pytest.raises(ValidationError) as err:
        note_save_draft(
            actor=counselor,
            note=draft,
            sections={"data": "x", "subjective": "from SOAP"},
            expected_version=1,
        )
    assert "subjective" in str(err.value.message_dict["sections"])
    assert Note.objects.get(pk=draft.pk).version == 1


def test_second_save_with_a_stale_version_conflicts_and_keeps_the_first_text(
    counselor, supervisor, draft
):
    first = Note.objects.get(pk=draft.pk)
    second = Note.objects.get(pk=draft.pk)
    note_save_draft(actor=counselor, note=first, sections={"data": "first"}, expected_version=1)
    with pytest.raises(NoteConflict) as err:
        note_save_draft(
            actor=supervisor, note=second, sections={"data": "second"}, expected_version=1
        )
    assert err.value.current_version == 2
    assert err.value.sections == {"data": "second"}  # the loser's text comes back as a draft
    stored = Note.objects.get(pk=draft.pk)
    assert stored.sections == {"data": "first"}
    assert stored.version == 2
    assert actions().count("openiop.clinical.note.save") == 1


def test_sign_with_a_stale_version_conflicts(counselor, draft):
    note = fill(draft, counselor)
    with pytest.raises(NoteConflict):
        note_sign(actor=counselor, note=note, expected_version=1)
    assert Note.objects.get(pk=draft.pk).status == "draft"


def test_only_the_author_signs(counselor, supervisor, draft):
    note = fill(draft, counselor)
    with pytest.raises(PermissionDenied):
        note_sign(actor=supervisor, note=note, expected_version=note.version)
    assert Note.objects.get(pk=draft.pk).status == "draft"


def test_saving_a_signed_note_is_refused(counselor, draft):
    note = fill(draft, counselor)
    note = note_sign(actor=counselor, note=note, expected_version=note.version)
    with pytest.raises(ValidationError) as err:
        note_save_draft(actor=counselor, note=note, sections=DAP, expected_version=note.version)
    assert "status" in err.value.message_dict
    stale = Note.objects.get(pk=draft.pk)
    stale.status = "draft"  # a stale in-memory copy still cannot write
    with pytest.raises(ValidationError):
        note_save_draft(actor=counselor, note=stale, sections=DAP, expected_version=stale.version)


def test_amendment_is_a_new_linked_note_and_the_original_is_unchanged(counselor, supervisor, draft):
    note = fill(draft, counselor)
    with time_machine.travel(NOW, tick=False):
        note = note_sign(actor=counselor, note=note, expected_version=note.version)
    before = Note.objects.filter(pk=note.pk).values().get()

    amendment = note_amend(
        actor=supervisor,
        note=note,
        sections={"plan": "Refer to psychiatry."},
        reason="Plan omitted the referral.",
    )
    assert amendment.pk != note.pk
    assert (amendment.amends, amendment.status, amendment.author) == (note, "draft", supervisor)
    assert (amendment.kind, amendment.format) == (note.kind, note.format)
    amendment = note_sign(actor=supervisor, note=amendment, expected_version=amendment.version)
    assert amendment.status == "signed"

    after = Note.objects.filter(pk=note.pk).values().get()
    assert after == before
    assert after["sections"] == DAP
    assert after["signed_at"] == NOW
    assert list(note.amendments.all()) == [amendment]


def test_amending_needs_a_signed_note_and_a_reason(counselor, draft):
    with pytest.raises(ValidationError):
        note_amend(actor=counselor, note=draft, sections={"plan": "x"}, reason="typo")
    note = fill(draft, counselor)
    note = note_sign(actor=counselor, note=note, expected_version=note.version)
    with pytest.raises(ValidationError) as err:
        note_amend(actor=counselor, note=note, sections={"plan": "x"}, reason="  ")
    assert "reason" in err.value.message_dict
    assert not Note.objects.filter(amends=note).exists()


def test_an_empty_amendment_cannot_be_signed(counselor, draft):
    note = fill(draft, counselor)
    note = note_sign(actor=counselor, note=note, expected_version=note.version)
    amendment = note_amend(actor=counselor, note=note, sections={}, reason="late entry")
    with pytest.raises(ValidationError):
        note_sign(actor=counselor, note=amendment, expected_version=amendment.version)


@pytest.mark.parametrize(
    ("minutes", "band"),
    [(15, None), (16, "16-37"), (37, "16-37"), (38, "38-52"), (52, "38-52"), (53, "53+")],
)
def test_psychotherapy_duration_bands(counselor, draft, minutes, band):
    note = fill(draft, counselor, minutes=minutes)
    assert note.duration_minutes == minutes
    assert note.psychotherapy_band == band
    assert psychotherapy_band(minutes) == band


def test_a_draft_without_times_has_no_duration(draft):
    assert draft.duration_minutes is None
    assert draft.psychotherapy_band is None


def test_every_write_is_audited(counselor, draft):
    note = fill(draft, counselor)
    note = note_sign(actor=counselor, note=note, expected_version=note.version)
    amendment = note_amend(actor=counselor, note=note, sections={"plan": "x"}, reason="typo")
    events = AuditEvent.objects.filter(action__startswith="openiop.clinical.").order_by("id")
    assert [e.action.rsplit(".", 1)[1] for e in events] == ["create", "save", "sign", "amend"]
    assert {e.patient_id for e in events} == {str(note.patient.public_id)}
    assert {e.category for e in events} == {"clinical"}
    assert events.last().object_id == str(amendment.public_id)
    assert "Reports 10 days" not in str([e.detail for e in events])  # no note text in the trail


def test_an_outsider_cannot_write_a_note(outsider, episode):
    with pytest.raises(PermissionDenied):
        note_create_draft(actor=outsider, episode=episode, kind="individual", format="DAP")
    assert not Note.objects.exists()


def test_unknown_format_is_refused(counselor, episode):
    with pytest.raises(ValidationError):
        note_create_draft(actor=counselor, episode=episode, kind="individual", format="XYZ")


def test_note_get_is_audited_and_hides_other_organizations(counselor, outsider, draft):
    assert note_get(user=counselor, public_id=draft.public_id) == draft
    assert actions()[-1] == "openiop.clinical.note.view"
    with pytest.raises(Http404):
        note_get(user=outsider, public_id=draft.public_id)


def test_front_desk_cannot_read_notes(front_desk, draft):
    with pytest.raises(PermissionDenied):
        note_get(user=front_desk, public_id=draft.public_id)


def test_note_list_is_newest_first_with_amendments_under_their_note(counselor, episode, draft):
    note = fill(draft, counselor)
    note = note_sign(actor=counselor, note=note, expected_version=note.version)
    later = note_create_draft(actor=counselor, episode=episode, kind="family", format="SOAP")
    amendment = note_amend(actor=counselor, note=note, sections={"plan": "x"}, reason="typo")
    listed = note_list_for_episode(user=counselor, episode=episode)
    assert listed == [later, note, amendment]
    assert [n.depth for n in listed] == [0, 0, 1]
