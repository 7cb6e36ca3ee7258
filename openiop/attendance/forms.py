"""HTML input parsing for the session roster: one row per booked patient, posted as one group.

Forms only parse (a check-in wall time becomes an aware datetime on the session's local date);
``attendance.services.attendance_record`` validates and saves the whole group or nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from openiop.attendance.models import AttendanceRecord
from openiop.attendance.services import AttendanceEntry, AttendanceError
from openiop.portal.video import PortalPrefill, portal_prefill
from openiop.scheduling.models import Session
from openiop.scheduling.services import local_datetime

ST = AttendanceRecord.Status
STATUS_CHOICES = [(s.value, s.label) for s in ST if s != ST.EXPECTED]
# Service error keys -> row field names.
FIELD_MAP = {"status": "status", "minutes_attended": "minutes", "checked_in_at": "checked_in",
             "note": "note"}  # fmt: skip


class AttendanceRowForm(forms.Form):
    patient = forms.UUIDField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False, widget=forms.RadioSelect)
    minutes = forms.IntegerField(min_value=0, max_value=24 * 60, required=False, label="Minutes")
    checked_in = forms.TimeField(
        required=False, label="Check-in",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )  # fmt: skip
    note = forms.CharField(max_length=300, required=False)


class BaseRosterFormSet(forms.BaseFormSet):
    """The roster as a formset; each row names its patient by public id."""

    session: Session
    records: dict[str, AttendanceRecord]

    @classmethod
    def for_roster(
        cls, session: Session, roster: list[AttendanceRecord], data: Any = None,
        initial: list[dict[str, Any]] | None = None,
    ) -> BaseRosterFormSet:  # fmt: skip
        portal = portal_prefill(session) if session.is_virtual else {}
        if initial is None:
            initial = [with_portal(row_initial(session, r), r, portal) for r in roster]
        formset = cls(data=data, initial=initial, prefix="roster")
        formset.session = session
        formset.records = {str(r.patient.public_id): r for r in roster}
        duration = session.duration_minutes
        for form in formset.forms:
            record = formset.records.get(str(form["patient"].value()))
            name = record.patient.display_name if record is not None else "patient"
            form.record = record
            form.portal = portal.get(record.patient_id) if record is not None else None
            form.fields["minutes"].widget.attrs.update({
                "placeholder": str(duration), "max": str(duration), "class": "minutes",
                "aria-label": f"Minutes attended by {name}",
            })  # fmt: skip
            form.fields["checked_in"].widget.attrs["aria-label"] = f"Check-in time for {name}"
            form.fields["note"].widget.attrs["aria-label"] = f"Note for {name}"
        return formset

    def rows(self) -> list[tuple[forms.Form, AttendanceRecord]]:
        """Each row form with its attendance record, in roster order."""
        return [(f, f.record) for f in self.forms if getattr(f, "record", None) is not None]

    def clean(self) -> None:
        super().clean()
        seen: set[str] = set()
        for form in self.forms:
            key = str(form.cleaned_data.get("patient", ""))
            if key not in self.records:
                raise ValidationError("The roster changed while you were editing; reload the page.")
            if key in seen:
                raise ValidationError("A patient is listed twice.")
            seen.add(key)

    def entries(self) -> list[tuple[forms.Form, AttendanceEntry]]:
        """Rows with a status chosen, as service entries (rows left blank are not recorded)."""
        session = self.session
        day = session.local_start.date()
        out = []
        for form in self.forms:
            data = form.cleaned_data
            if not data.get("status"):
                continue
            record = self.records[str(data["patient"])]
            checked_in = data.get("checked_in")
            entry = AttendanceEntry(
                patient=record.patient, status=data["status"], minutes_attended=data.get("minutes"),
                checked_in_at=local_datetime(day, checked_in, session.tz) if checked_in else None,
                note=data.get("note") or "",
            )  # fmt: skip
            out.append((form, entry))
        return out

    def with_rest_present(self) -> list[dict[str, Any]]:
        """Initial data for the same roster with every unmarked row set to present for the whole
        session (the "Mark all present" helper; nothing is saved)."""
        rows = []
        for form in self.forms:
            data = dict(form.cleaned_data)
            if not data.get("status"):
                data["status"] = ST.PRESENT
                if data.get("minutes") is None:
                    data["minutes"] = self.session.duration_minutes
            rows.append(data)
        return rows

    def add_service_errors(
        self, exc: ValidationError, entries: list[tuple[forms.Form, Any]]
    ) -> None:
        """Put each service message on the row (and field) it belongs to."""
        if not isinstance(exc, AttendanceError):
            self.non_form_errors().extend(exc.messages)
            return
        form = entries[exc.entry_index][0]
        for key, messages in exc.entry_errors.items():
            for message in messages:
                if key == "session":
                    self.non_form_errors().append(message)
                else:
                    form.add_error(FIELD_MAP.get(key), message)


def row_initial(session: Session, record: AttendanceRecord) -> dict[str, Any]:
    checked_in: dt.time | None = None
    if record.checked_in_at is not None:
        checked_in = (
            record.checked_in_at.astimezone(session.tz).time().replace(second=0, microsecond=0)
        )
    return {
        "patient": record.patient.public_id,
        "status": record.status if record.is_recorded else "",
        "minutes": record.minutes_attended if record.is_recorded else None,
        "checked_in": checked_in,
        "note": record.note,
    }


def with_portal(
    initial: dict[str, Any], record: AttendanceRecord, portal: dict[int, PortalPrefill]
) -> dict[str, Any]:
    """A virtual session's row with no status yet: suggest status and minutes from the patient's
    portal joins (the facilitator still confirms; nothing is saved)."""
    prefill = portal.get(record.patient_id)
    if prefill is not None and not record.is_recorded:
        initial["status"] = prefill.status
        initial["minutes"] = prefill.minutes
    return initial


RosterFormSet = forms.formset_factory(AttendanceRowForm, formset=BaseRosterFormSet, extra=0)
