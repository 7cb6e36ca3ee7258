"""The group-note screen: one page per session where the counselor writes the shared narrative
and every attendee's individualized part beside the roster, checks them, and signs them.

- ``/clinical/sessions/<session>/group-note/``: the session's group note (start it from
  attendance, write it, or read it once signed);
- ``/clinical/group-notes/<group note>/``: one group note (the original or an amendment); POST
  saves with ``action`` = save, check (save, then show the quality warnings at each attendee)
  or sign;
- ``.../autosave/``: htmx autosave of the whole form with its version;
- ``.../amend/``: start an amendment of a signed group note (a reason is required).

Typed text is never lost: a conflict or a refused signature shows the page again with the text
as posted (or as just saved).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm
from openiop.attendance.models import AttendanceRecord
from openiop.clinical.forms.group_notes import AmendForm, GroupNoteForm, posted_patient_keys
from openiop.clinical.models import GroupNote
from openiop.clinical.quality import QualityWarning, warnings_by_patient
from openiop.clinical.selectors.group_notes import (
    GroupNoteScreen,
    group_note_for_session,
    group_note_quality,
    group_note_screen,
)
from openiop.clinical.services.group_notes import (
    SHARED_FIELDS,
    SHARED_LABELS,
    GroupNoteConflict,
    GroupNoteIncomplete,
    GroupNoteQualityWarnings,
    group_note_save,
    group_note_sign,
    group_note_start,
)
from openiop.clinical.services.group_notes import (
    group_note_amend as amend_service,
)
from openiop.core.access import get_for_user_or_404
from openiop.questionnaires.selectors import latest_scores_for_patients
from openiop.scheduling.models import Session

ATTENDED = AttendanceRecord.ATTENDED


def _sessions() -> QuerySet[Session]:
    return Session.objects.select_related("program", "program__site", "room")


def _notes() -> QuerySet[GroupNote]:
    return GroupNote.objects.select_related(
        "session", "session__program", "session__program__site", "author", "signed_by", "amends"
    )


def _url(group_note: GroupNote) -> str:
    if group_note.amends_id is None:
        session_id = group_note.session.public_id
        return reverse("clinical:group-note-session", kwargs={"public_id": session_id})
    return reverse("clinical:group-note-detail", kwargs={"public_id": group_note.public_id})


def _amend_choices(screen: GroupNoteScreen) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(patients who attended but have no signed part, patients with a signed part)."""
    documented: dict[str, str] = {}
    for note in [screen.original, *screen.amendments]:
        if note is None or not note.is_signed:
            continue
        for part in screen.parts_by_note.get(note.pk, []):
            documented[str(part.patient.public_id)] = part.patient.display_name
    can_add = sorted(
        {
            (str(r.patient.public_id), r.patient.display_name)
            for r in screen.records
            if r.status in ATTENDED and str(r.patient.public_id) not in documented
        },
        key=lambda kv: kv[1],
    )
    can_correct = sorted(documented.items(), key=lambda kv: kv[1])
    return can_add, can_correct


def _render(
    request: HttpRequest,
    screen: GroupNoteScreen,
    *,
    form: GroupNoteForm | None = None,
    amend_form: AmendForm | None = None,
    warnings: list[QualityWarning] | None = None,
    part_errors: dict[str, list[str]] | None = None,
    checked: bool = False,
    conflict: list[tuple[str, str]] | None = None,
    start_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    group_note = screen.group_note
    context: dict[str, Any] = {
        "screen": screen,
        "session": screen.session,
        "tz": screen.session.tz,
        "group_note": group_note,
    }
    context["scores_by_patient"] = latest_scores_for_patients(
        user=request.user, patients=[card.patient for card in screen.cards], request=request
    )
    if group_note is None:
        context["start_errors"] = start_errors or []
        return render(request, "clinical/group_note_start.html", context, status=status)
    by_patient = warnings_by_patient(warnings or [])
    for card in screen.cards:
        card.warnings = by_patient.get(card.key, [])
        card.errors = (part_errors or {}).get(card.key, [])
    if group_note.is_signed or not screen.can_write:
        can_add, can_correct = _amend_choices(screen)
        if amend_form is None:
            amend_form = AmendForm(can_add=can_add, can_correct=can_correct)
        amendments = [
            (a, screen.parts_by_note.get(a.pk, []))
            for a in screen.amendments
            if a.amends_id == group_note.pk
        ]
        context.update(
            amend_form=amend_form if group_note.is_signed and screen.can_write else None,
            amendments=amendments,
            pending_amendment=next((a for a, _ in amendments if not a.is_signed), None),
            cosignature=getattr(group_note, "cosignature", None),
        )
        return render(request, "clinical/group_note_detail.html", context, status=status)
    if form is None:
        form = GroupNoteForm(
            initial=GroupNoteForm.initial_for(group_note, screen.cards), cards=screen.cards
        )
    form.attach()
    context.update(
        form=form,
        warnings=warnings or [],
        checked=checked,
        conflict=conflict,
        can_sign=request.user.pk == group_note.author_id,
        unplaced_errors=[
            m for key, ms in (part_errors or {}).items() if screen.card(key) is None for m in ms
        ],
    )
    return render(request, "clinical/group_note_edit.html", context, status=status)


@login_required
def group_note_session(request: HttpRequest, public_id: Any) -> HttpResponse:
    """GET: the session's group note (or the page to start it). POST: start it."""
    if request.method == "POST":
        session = get_for_user_or_404(_sessions(), request.user, public_id, Perm.NOTE_WRITE)
        try:
            group_note_start(actor=request.user, session=session, request=request)
        except ValidationError as exc:
            screen = group_note_for_session(user=request.user, session=session, request=request)
            return _render(request, screen, start_errors=exc.messages, status=400)
        messages.success(request, "Group note started from today's attendance.")
        return redirect("clinical:group-note-session", public_id=session.public_id)
    session = get_for_user_or_404(_sessions(), request.user, public_id, Perm.NOTE_VIEW)
    screen = group_note_for_session(user=request.user, session=session, request=request)
    return _render(request, screen)


def _conflict_diffs(
    group_note: GroupNote, form: GroupNoteForm, screen: GroupNoteScreen
) -> list[tuple[str, str]]:
    """What the other person saved, where it differs from the submitted text."""
    group_note.refresh_from_db()
    diffs: list[tuple[str, str]] = []
    shared = form.shared()
    for name in SHARED_FIELDS:
        saved = getattr(group_note, name)
        if saved != shared.get(name, ""):
            diffs.append((SHARED_LABELS[name], saved))
    saved_parts = {str(p.patient.public_id): p for p in group_note.parts.select_related("patient")}
    for key, part in form.parts().items():
        saved = saved_parts.get(key)
        if saved is None:
            continue
        for section, text in part.get("sections", {}).items():
            saved_text = saved.sections.get(section, "")
            if saved_text != text:
                diffs.append((f"{saved.patient.display_name}: {section}", saved_text))
        if sorted(saved.objectives) != sorted(part.get("objectives", [])):
            diffs.append((f"{saved.patient.display_name}: objectives", "(different picks)"))
    return diffs


@login_required
def group_note_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    if request.method != "POST":
        group_note = get_for_user_or_404(_notes(), request.user, public_id, Perm.NOTE_VIEW)
        screen = group_note_screen(user=request.user, group_note=group_note, request=request)
        return _render(request, screen)
    group_note = get_for_user_or_404(_notes(), request.user, public_id, Perm.NOTE_WRITE)
    include = posted_patient_keys(request.POST)
    screen = group_note_screen(
        user=request.user, group_note=group_note, include=include, request=request
    )
    if group_note.is_signed:
        messages.error(request, "This group note was signed meanwhile; nothing was changed. "
                                "Write an amendment to add or correct.")  # fmt: skip
        return _render(request, screen, status=409)
    form = GroupNoteForm(request.POST, cards=screen.cards)
    if not form.is_valid():
        return _render(request, screen, form=form, part_errors=form.part_errors(), status=400)
    action = request.POST.get("action", "save")
    try:
        group_note = group_note_save(
            actor=request.user, group_note=group_note, parts=form.parts(),
            expected_version=form.cleaned_data["version"], request=request, **form.shared(),
        )  # fmt: skip
    except GroupNoteConflict as exc:
        if not _conflict_diffs(group_note, form, screen):
            # What was saved meanwhile is exactly this text (typically this page's own
            # autosave, still in flight when the button was pressed): nothing to lose.
            group_note = group_note_save(
                actor=request.user, group_note=group_note, parts=form.parts(),
                expected_version=exc.current_version, request=request, **form.shared(),
            )  # fmt: skip
            return _after_save(request, group_note, form, action)
        data = request.POST.copy()
        data["version"] = str(exc.current_version)
        diffs = _conflict_diffs(group_note, form, screen)
        kept = GroupNoteForm(data, cards=screen.cards)
        kept.is_valid()
        return _render(request, screen, form=kept, conflict=diffs, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _render(request, screen, form=form, status=400)
    return _after_save(request, group_note, form, action)


def _after_save(
    request: HttpRequest, group_note: GroupNote, form: GroupNoteForm, action: str
) -> HttpResponse:
    if action == "check":
        fresh = group_note_screen(user=request.user, group_note=group_note, request=request)
        return _render(request, fresh, warnings=group_note_quality(group_note), checked=True)
    if action == "sign":
        return _sign(request, group_note, form.cleaned_data["acknowledge_warnings"])
    messages.success(request, f"Saved (version {group_note.version}).")
    return redirect(_url(group_note))


def _saved_form(group_note: GroupNote, screen: GroupNoteScreen) -> GroupNoteForm:
    """The form bound to what is saved, so errors can be put on its fields."""
    form = GroupNoteForm(GroupNoteForm.initial_for(group_note, screen.cards), cards=screen.cards)
    form.is_valid()
    return form


def _sign(request: HttpRequest, group_note: GroupNote, acknowledged: bool) -> HttpResponse:
    try:
        group_note_sign(
            actor=request.user, group_note=group_note, expected_version=group_note.version,
            acknowledge_warnings=acknowledged, request=request,
        )  # fmt: skip
    except GroupNoteQualityWarnings as exc:
        fresh = group_note_screen(user=request.user, group_note=group_note, request=request)
        return _render(request, fresh, warnings=exc.warnings, checked=True, status=400)
    except GroupNoteIncomplete as exc:
        fresh = group_note_screen(user=request.user, group_note=group_note, request=request)
        form = _saved_form(group_note, fresh)
        for name, message in exc.shared.items():
            form.add_error(name if name in form.fields else None, message)
        return _render(request, fresh, form=form, part_errors=exc.parts, status=400)
    except (ValidationError, PermissionDenied) as exc:
        fresh = group_note_screen(user=request.user, group_note=group_note, request=request)
        form = _saved_form(group_note, fresh)
        if isinstance(exc, PermissionDenied):
            form.add_error(None, f"Saved. Only the author, {group_note.author}, can sign it.")
        else:
            form.add_service_errors(exc)
        return _render(request, fresh, form=form, status=400)
    messages.success(request, "Group note signed.")
    return redirect(_url(group_note))


@login_required
@require_POST
def group_note_autosave(request: HttpRequest, public_id: Any) -> HttpResponse:
    group_note = get_for_user_or_404(_notes(), request.user, public_id, Perm.NOTE_WRITE)
    template = "clinical/group_note_edit.html#autosave-status"
    if group_note.is_signed:
        text = "Not saved: the group note was signed meanwhile."
        return render(request, template, {"autosave_text": text, "autosave_ok": False})
    screen = group_note_screen(
        user=request.user,
        group_note=group_note,
        include=posted_patient_keys(request.POST),
        request=request,
    )
    form = GroupNoteForm(request.POST, cards=screen.cards)
    if not form.is_valid():
        text = "Not saved: " + "; ".join(m for ms in form.errors.values() for m in ms)
        return render(request, template, {"autosave_text": text, "autosave_ok": False})
    try:
        group_note = group_note_save(
            actor=request.user, group_note=group_note, parts=form.parts(),
            expected_version=form.cleaned_data["version"], request=request, **form.shared(),
        )  # fmt: skip
    except GroupNoteConflict:
        text = ("Not saved: someone else saved this note. Your text is still here; "
                "press Save draft to compare and keep it.")  # fmt: skip
        return render(request, template, {"autosave_text": text, "autosave_ok": False})
    except ValidationError as exc:
        text = "Not saved: " + "; ".join(exc.messages)
        return render(request, template, {"autosave_text": text, "autosave_ok": False})
    local = timezone.localtime(group_note.updated_at, screen.session.tz)
    return render(request, template, {
        "autosave_text": f"Draft saved at {local:%H:%M}.", "autosave_ok": True,
        "version": group_note.version,
    })  # fmt: skip


@login_required
@require_POST
def group_note_amend(request: HttpRequest, public_id: Any) -> HttpResponse:
    group_note = get_for_user_or_404(_notes(), request.user, public_id, Perm.NOTE_WRITE)
    screen = group_note_screen(user=request.user, group_note=group_note, request=request)
    can_add, can_correct = _amend_choices(screen)
    form = AmendForm(request.POST, can_add=can_add, can_correct=can_correct)
    if form.is_valid():
        try:
            amendment = amend_service(
                actor=request.user, group_note=group_note, reason=form.cleaned_data["reason"],
                add_patients=form.cleaned_data["add_patients"],
                correct_patients=form.cleaned_data["correct_patients"], request=request,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Amendment started: edit it below, then sign it.")
            return redirect("clinical:group-note-detail", public_id=amendment.public_id)
    return _render(request, screen, amend_form=form, status=400)


urlpatterns = [
    path("sessions/<uuid:public_id>/group-note/", group_note_session, name="group-note-session"),
    path("group-notes/<uuid:public_id>/", group_note_detail, name="group-note-detail"),
    path(
        "group-notes/<uuid:public_id>/autosave/",
        group_note_autosave,
        name="group-note-autosave",
    ),
    path("group-notes/<uuid:public_id>/amend/", group_note_amend, name="group-note-amend"),
]
