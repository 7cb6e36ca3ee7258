"""SUD counseling notes (42 CFR 2.11, 2.31 as amended in 2024): only their author reads them;
everyone else, program directors and auditors included, gets 404 and never sees them listed.
Plus the note-kind rules of note_create_draft."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from conftest import login, make_user
from openiop.accounts.permissions import Role
from openiop.clinical.models import Note
from openiop.clinical.selectors import cosign_queue, note_get, note_list_for_episode
from openiop.clinical.services import note_amend, note_create_draft, note_save_draft
from openiop.clinical.tests.test_notes_fixtures import DAP, supervisee, write_note

__all__ = ["supervisee"]


@pytest.fixture
def sud(counselor, episode) -> Note:
    return write_note(counselor, episode, kind="sud_counseling")


@pytest.fixture
def colleague(org):
    return make_user("colleague", org, Role.COUNSELOR)


def test_the_author_reads_their_sud_note(counselor, episode, sud):
    assert note_get(user=counselor, public_id=sud.public_id) == sud
    assert sud in note_list_for_episode(user=counselor, episode=episode)


@pytest.mark.parametrize("who", ["colleague", "supervisor", "auditor", "prescriber", "intake"])
def test_nobody_else_reads_or_lists_it(request, who, episode, sud):
    user = request.getfixturevalue(who)
    with pytest.raises(Http404):
        note_get(user=user, public_id=sud.public_id)
    assert sud not in note_list_for_episode(user=user, episode=episode)


def test_pages_hide_it_from_a_program_director(client, supervisor, episode, sud):
    login(client, supervisor)
    listing = client.get(reverse("clinical:note-list", args=[episode.public_id]))
    assert str(sud.public_id) not in listing.content.decode()
    for name in ("note-detail", "note-edit"):
        assert client.get(reverse(f"clinical:{name}", args=[sud.public_id])).status_code == 404
    assert client.post(reverse("clinical:note-amend", args=[sud.public_id])).status_code == 404


def test_nobody_else_can_write_to_it(supervisor, counselor, episode):
    draft = note_create_draft(actor=counselor, episode=episode, kind="sud_counseling")
    with pytest.raises(PermissionDenied):
        note_save_draft(actor=supervisor, note=draft, sections=DAP, expected_version=1)
    signed = write_note(counselor, episode, kind="sud_counseling")
    with pytest.raises(PermissionDenied):
        note_amend(actor=supervisor, note=signed, sections={"plan": "x"}, reason="r")
    assert Note.objects.get(pk=draft.pk).version == 1


def test_writing_one_needs_the_sud_permission(intake, episode):
    with pytest.raises(PermissionDenied):
        note_create_draft(actor=intake, episode=episode, kind="sud_counseling")
    assert not Note.objects.exists()


def test_the_new_note_page_offers_the_kind_only_with_the_permission(
    client, counselor, supervisor, episode
):
    admin = make_user("admin", counselor.organization, Role.ADMIN)
    url = reverse("clinical:note-create", args=[episode.public_id])
    assert 'value="sud_counseling"' in login(client, counselor).get(url).content.decode()
    assert 'value="sud_counseling"' not in login(client, admin).get(url).content.decode()


def test_a_supervisees_sud_note_does_not_enter_the_cosign_queue(supervisor, supervisee, episode):
    note = write_note(supervisee, episode, kind="sud_counseling")
    assert note.cosign_required is False
    assert cosign_queue(supervisor) == []


# --- kinds and formats --------------------------------------------------------------------------


def test_the_format_defaults_to_the_programs(counselor, episode, program):
    program.note_format = "SOAP"
    program.save()
    episode.refresh_from_db()
    note = note_create_draft(actor=counselor, episode=episode, kind="medication")
    assert note.format == "SOAP"


def test_group_format_is_only_for_group_parts(counselor, episode):
    with pytest.raises(ValidationError):
        note_create_draft(actor=counselor, episode=episode, kind="individual", format="GRP")
    part = note_create_draft(actor=counselor, episode=episode, kind="group_individualized")
    assert part.format == "GRP"


def test_front_desk_cannot_start_a_note(front_desk, episode):
    with pytest.raises(PermissionDenied):
        note_create_draft(actor=front_desk, episode=episode, kind="individual")
