"""Individual, family, medication and SUD counseling notes; the co-signature queue.

Every view fetches with permission first (``note.view`` to read, ``note.write`` to write,
``note.cosign`` to co-sign: a role without it gets 403; another organization's note, or someone
else's SUD counseling note, is a 404), then form -> service -> redirect or render.

Autosave: the edit form carries the note's ``version``. htmx posts the whole form to
``note-autosave`` after two seconds without typing and when a field loses focus; the answer
replaces the "Saved at 10:42" status and, out of band, the hidden version. If someone else saved
first (``NoteConflict``) nothing is written and the answer shows their text next to the user's,
which stays in the boxes. Without JavaScript the Save button posts the same form to
``note-edit`` and gets the same outcomes as a full page. A signed note is never edited: every
write path goes through a service that refuses it (and the database refuses it too).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from openiop.accounts.permissions import Perm, Role, roles_of, user_has_perm
from openiop.clinical.forms.notes import (
    CosignForm,
    NoteAmendForm,
    NoteCreateForm,
    NoteEditForm,
)
from openiop.clinical.models import GroupNote, Note
from openiop.clinical.selectors.notes import (
    cosign_queue,
    episode_for_notes,
    note_amendments,
    note_get,
    note_list_for_episode,
)
from openiop.clinical.services.cosign import cosign
from openiop.clinical.services.notes import (
    NoteConflict,
    note_amend,
    note_create_draft,
    note_save_draft,
    note_sign,
)
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent

CAT = AuditEvent.Category.CLINICAL

# --- helpers --------------------------------------------------------------------------------


def _tz(note_or_episode: Any) -> Any:
    episode = getattr(note_or_episode, "episode", note_or_episode)
    return episode.program.site.tz


def _can_cosign(user: Any, note: Note) -> bool:
    if not note.is_signed or not note.cosign_required or hasattr(note, "cosignature"):
        return False
    if note.kind == Note.Kind.SUD_COUNSELING or note.author_id == user.pk:
        return False
    if not user_has_perm(user, Perm.NOTE_COSIGN):
        return False
    return note.author.cosigner_id == user.pk or Role.PROGRAM_DIRECTOR in roles_of(user)


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _edit_context(note: Note, form: NoteEditForm, **extra: Any) -> dict[str, Any]:
    return {
        "note": note,
        "episode": note.episode,
        "patient": note.patient,
        "form": form,
        "tz": _tz(note),
        "band_applies": note.kind in (Note.Kind.INDIVIDUAL, Note.Kind.FAMILY),
        **extra,
    }


def _conflict(request: HttpRequest, note: Note, exc: NoteConflict) -> dict[str, Any]:
    """Their version (as saved now) for the conflict panel; the user's text stays in the form.
    Showing it is a read of the note, so it is audited."""
    current = Note.objects.filter(pk=note.pk).values("sections", "version", "updated_at").get()
    audit_log(
        actor=request.user, action="openiop.clinical.note.view", category=CAT, obj=note,
        patient=note.patient, request=request,
        detail={"conflict": True, "version": current["version"]},
    )  # fmt: skip
    return {
        "current_version": exc.current_version,
        "saved_at": current["updated_at"],
        "theirs": [(name, current["sections"].get(name, "")) for name in note.section_names],
    }


def _auto(note: Note) -> str:
    return reverse("clinical:note-autosave", args=[note.public_id])


def _same_content(note: Note, form: NoteEditForm) -> bool:
    """The form holds exactly what is saved (whatever version it carries). A blur-triggered
    autosave that lands just before the Save or Sign click makes the click's version stale
    although nothing differs: that is not a conflict."""
    data = form.cleaned_data
    return (
        form.sections() == {n: note.sections.get(n, "") for n in note.section_names}
        and data["started_at"] == note.started_at
        and data["ended_at"] == note.ended_at
        and data["modality"] == note.modality
    )


def _save(request: HttpRequest, note: Note, form: NoteEditForm, version: int) -> Note:
    data = form.cleaned_data
    return note_save_draft(
        actor=request.user,
        note=note,
        sections=form.sections(),
        started_at=data["started_at"],
        ended_at=data["ended_at"],
        modality=data["modality"],
        expected_version=version,
        request=request,
    )


def _editable_or_redirect(request: HttpRequest, note: Note) -> HttpResponse | None:
    if note.is_signed:
        messages.error(request, "This note is signed and cannot be edited; write an amendment.")
        return redirect("clinical:note-detail", note.public_id)
    if note.kind == Note.Kind.GROUP_INDIVIDUALIZED:
        messages.error(request, "This note is part of a group note; edit it on the group note.")
        return redirect("clinical:note-detail", note.public_id)
    return None


def _overwrite_version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("overwrite", ""))
    except ValueError:
        return None


# --- list, create -----------------------------------------------------------------------------


@login_required
@require_GET
def note_list(request: HttpRequest, episode_id: Any) -> HttpResponse:
    episode = episode_for_notes(user=request.user, public_id=episode_id)
    notes = note_list_for_episode(user=request.user, episode=episode, request=request)
    return render(
        request,
        "clinical/note_list.html",
        {
            "episode": episode,
            "patient": episode.patient,
            "notes": notes,
            "tz": _tz(episode),
            "can_write": user_has_perm(request.user, Perm.NOTE_WRITE),
        },
    )


@login_required
def note_create(request: HttpRequest, episode_id: Any) -> HttpResponse:
    user = request.user
    episode = episode_for_notes(user=user, public_id=episode_id, perm=Perm.NOTE_WRITE)
    tz = _tz(episode)
    form = NoteCreateForm(
        request.POST or None,
        tz=tz,
        allow_sud=user_has_perm(user, Perm.SUD_NOTE_WRITE),
        initial={"kind": Note.Kind.INDIVIDUAL, "format": episode.program.note_format},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                note = note_create_draft(
                    actor=user,
                    episode=episode,
                    kind=data["kind"],
                    format=data["format"],
                    modality=data["modality"],
                    started_at=data["started_at"],
                    ended_at=data["ended_at"],
                    request=request,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                return redirect("clinical:note-edit", note.public_id)
    return render(
        request,
        "clinical/note_create.html",
        {"episode": episode, "patient": episode.patient, "form": form},
        status=status,
    )


# --- view, edit, autosave, sign ---------------------------------------------------------------


@login_required
@require_GET
def note_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = request.user
    note = note_get(user=user, public_id=public_id, request=request)
    can_write = user_has_perm(user, Perm.NOTE_WRITE)
    return render(
        request,
        "clinical/note_detail.html",
        {
            "note": note,
            "episode": note.episode,
            "patient": note.patient,
            "tz": _tz(note),
            "amendments": note_amendments(user=user, note=note),
            "band_applies": note.kind in (Note.Kind.INDIVIDUAL, Note.Kind.FAMILY),
            "sections": [(name, note.sections.get(name, "")) for name in note.section_names],
            "can_edit": can_write and not note.is_signed
            and note.kind != Note.Kind.GROUP_INDIVIDUALIZED,
            "amend_form": NoteAmendForm(note=note) if can_write and note.is_signed else None,
            "cosign_form": CosignForm() if _can_cosign(user, note) else None,
        },
    )  # fmt: skip


@login_required
def note_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    note = note_get(user=request.user, public_id=public_id, perm=Perm.NOTE_WRITE, request=request)
    refused = _editable_or_redirect(request, note)
    if refused is not None:
        return refused
    tz = _tz(note)
    if request.method != "POST":
        form = NoteEditForm(
            initial=NoteEditForm.initial_for(note, tz), note=note, tz=tz, autosave_url=_auto(note)
        )
        return render(request, "clinical/note_edit.html", _edit_context(note, form))
    form = NoteEditForm(request.POST, note=note, tz=tz, autosave_url=_auto(note))
    if not form.is_valid():
        return render(request, "clinical/note_edit.html", _edit_context(note, form), status=400)
    version = _overwrite_version(request) or form.cleaned_data["version"]
    try:
        if not _same_content(note, form):
            note = _save(request, note, form, version)
    except NoteConflict as exc:
        context = _edit_context(note, form, conflict=_conflict(request, note, exc))
        return render(request, "clinical/note_edit.html", context, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return render(request, "clinical/note_edit.html", _edit_context(note, form), status=400)
    saved = timezone.localtime(note.updated_at, tz)
    messages.success(request, f"Saved at {saved:%H:%M}.")
    return redirect("clinical:note-edit", note.public_id)


@login_required
@require_POST
def note_autosave(request: HttpRequest, public_id: Any) -> HttpResponse:
    """htmx: save the draft and answer with the status line (always 200 so htmx swaps it)."""
    note = note_get(
        user=request.user, public_id=public_id, perm=Perm.NOTE_WRITE, request=request, audit=False
    )
    template = "clinical/note_edit.html#autosave-status"
    if not getattr(request, "htmx", False):
        return redirect("clinical:note-edit", note.public_id)
    if note.is_signed or note.kind == Note.Kind.GROUP_INDIVIDUALIZED:
        return render(request, template, {"note": note, "refused": True})
    tz = _tz(note)
    form = NoteEditForm(request.POST, note=note, tz=tz)
    context: dict[str, Any] = {"note": note, "form": form, "tz": tz, "oob": True}
    if not form.is_valid():
        return render(request, template, {**context, "invalid": True})
    if _same_content(note, form):  # nothing to write; bring the hidden version up to date
        return render(request, template, {**context, "saved_at": note.updated_at})
    try:
        note = _save(request, note, form, form.cleaned_data["version"])
    except NoteConflict as exc:
        return render(request, template, {**context, "conflict": _conflict(request, note, exc)})
    except ValidationError as exc:
        form.add_service_errors(exc)
        return render(request, template, {**context, "invalid": True})
    return render(request, template, {**context, "note": note, "saved_at": note.updated_at})


@login_required
@require_POST
def note_sign_view(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Save what is in the form (if it changed) and sign. Errors come back on the edit page
    with the text as typed."""
    user = request.user
    note = note_get(user=user, public_id=public_id, perm=Perm.NOTE_WRITE, request=request)
    refused = _editable_or_redirect(request, note)
    if refused is not None:
        return refused
    tz = _tz(note)
    form = NoteEditForm(request.POST, note=note, tz=tz, autosave_url=_auto(note))
    if not form.is_valid():
        return render(request, "clinical/note_edit.html", _edit_context(note, form), status=400)
    try:
        if not _same_content(note, form):
            note = _save(request, note, form, form.cleaned_data["version"])
        note = note_sign(actor=user, note=note, expected_version=note.version, request=request)
    except NoteConflict as exc:
        context = _edit_context(note, form, conflict=_conflict(request, note, exc))
        return render(request, "clinical/note_edit.html", context, status=409)
    except PermissionDenied as exc:
        form.add_error(None, f"Not signed: {exc}.")
        return render(request, "clinical/note_edit.html", _edit_context(note, form), status=403)
    except ValidationError as exc:
        note.refresh_from_db()
        form = NoteEditForm(request.POST, note=note, tz=tz, autosave_url=_auto(note))
        form.is_valid()
        form.data = form.data.copy()
        form.data["version"] = str(note.version)  # the text was saved; keep the form current
        form.add_error(None, "Not signed yet: fix the problems below.")
        form.add_service_errors(exc)
        return render(request, "clinical/note_edit.html", _edit_context(note, form), status=400)
    if note.cosign_required:
        messages.success(request, "Signed. The note now waits for a co-signature.")
    else:
        messages.success(request, "Signed. The note can no longer be changed.")
    return redirect("clinical:note-detail", note.public_id)


@login_required
@require_POST
def note_amend_view(request: HttpRequest, public_id: Any) -> HttpResponse:
    user = request.user
    note = note_get(user=user, public_id=public_id, perm=Perm.NOTE_WRITE, request=request)
    form = NoteAmendForm(request.POST, note=note)
    if form.is_valid():
        try:
            amendment = note_amend(
                actor=user,
                note=note,
                sections=form.sections(),
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Amendment started as a draft; sign it when it is done.")
            return redirect("clinical:note-edit", amendment.public_id)
    return render(
        request,
        "clinical/note_detail.html",
        {
            "note": note,
            "episode": note.episode,
            "patient": note.patient,
            "tz": _tz(note),
            "amendments": note_amendments(user=user, note=note),
            "band_applies": note.kind in (Note.Kind.INDIVIDUAL, Note.Kind.FAMILY),
            "sections": [(name, note.sections.get(name, "")) for name in note.section_names],
            "amend_form": form,
            "cosign_form": CosignForm() if _can_cosign(user, note) else None,
        },
        status=400,
    )


# --- co-signature -------------------------------------------------------------------------------


def _group_note_url(group_note: GroupNote) -> str | None:
    try:
        return reverse("clinical:group-note-detail", args=[group_note.public_id])
    except NoReverseMatch:
        return None


@login_required
@require_GET
def cosign_queue_view(request: HttpRequest) -> HttpResponse:
    items = cosign_queue(request.user, request=request)
    rows = [
        {
            "item": item,
            "url": (
                reverse("clinical:note-detail", args=[item.public_id])
                if item.kind == "note"
                else _group_note_url(item.document)  # type: ignore[arg-type]
            ),
            "action": (
                reverse("clinical:note-cosign", args=[item.public_id])
                if item.kind == "note"
                else reverse("clinical:cosign-group-note", args=[item.public_id])
            ),
        }
        for item in items
    ]
    return render(request, "clinical/cosign_queue.html", {"rows": rows, "form": CosignForm()})


def _do_cosign(request: HttpRequest, default: str, **document: Any) -> HttpResponse:
    form = CosignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not co-signed: " + " ".join(form.errors.get("comment", [])))
        return redirect(_next_url(request, default))
    try:
        cosign(
            actor=request.user, comment=form.cleaned_data["comment"], request=request, **document
        )
    except (ValidationError, PermissionDenied) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, f"Not co-signed: {text}")
    else:
        messages.success(request, "Co-signed.")
    return redirect(_next_url(request, default))


@login_required
@require_POST
def note_cosign(request: HttpRequest, public_id: Any) -> HttpResponse:
    note = note_get(user=request.user, public_id=public_id, perm=Perm.NOTE_COSIGN, audit=False)
    return _do_cosign(request, reverse("clinical:note-detail", args=[note.public_id]), note=note)


@login_required
@require_POST
def group_note_cosign(request: HttpRequest, public_id: Any) -> HttpResponse:
    require_perm(request.user, Perm.NOTE_COSIGN)
    group_note = get_for_user_or_404(
        GroupNote.objects.select_related("author"), request.user, public_id, Perm.NOTE_COSIGN
    )
    return _do_cosign(request, reverse("clinical:cosign-queue"), group_note=group_note)


urlpatterns = [
    path("episodes/<uuid:episode_id>/notes/", note_list, name="note-list"),
    path("episodes/<uuid:episode_id>/notes/new/", note_create, name="note-create"),
    path("notes/<uuid:public_id>/", note_detail, name="note-detail"),
    path("notes/<uuid:public_id>/edit/", note_edit, name="note-edit"),
    path("notes/<uuid:public_id>/autosave/", note_autosave, name="note-autosave"),
    path("notes/<uuid:public_id>/sign/", note_sign_view, name="note-sign"),
    path("notes/<uuid:public_id>/amend/", note_amend_view, name="note-amend"),
    path("notes/<uuid:public_id>/cosign/", note_cosign, name="note-cosign"),
    path("cosign/", cosign_queue_view, name="cosign-queue"),
    path("cosign/group-notes/<uuid:public_id>/", group_note_cosign, name="cosign-group-note"),
]
