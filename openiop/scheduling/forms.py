"""HTML input parsing for session pages. Forms only parse (local wall times -> aware datetimes in
the program's site zone); the scheduling services validate and write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet

from openiop.accounts.models import User
from openiop.core.forms import ServiceErrorsMixin
from openiop.enrollment.models import Episode
from openiop.organizations.models import Program, Room
from openiop.scheduling.models import SessionKind
from openiop.scheduling.services import local_datetime

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
WEEKDAYS = [
    (0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"),
    (4, "Friday"), (5, "Saturday"), (6, "Sunday"),
]  # fmt: skip


def staff_choices(organization_id: int) -> QuerySet[User]:
    return User.objects.filter(organization_id=organization_id, is_active=True).order_by(
        "last_name", "first_name"
    )


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class _SessionFields(ServiceErrorsMixin, forms.Form):
    """Fields shared by a single session and a weekly series, scoped to one organization."""

    program = forms.ModelChoiceField(queryset=Program.objects.none(), to_field_name="public_id")
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=SessionKind.choices, initial=SessionKind.GROUP)
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(), to_field_name="public_id", required=False,
        empty_label="No room",
    )  # fmt: skip
    is_virtual = forms.BooleanField(required=False, label="Virtual (telehealth)")
    facilitators = StaffChoiceField(
        queryset=User.objects.none(), to_field_name="public_id", required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    capacity = forms.IntegerField(
        min_value=1, max_value=200, required=False, help_text="Blank: the program's group cap."
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = (  # type: ignore[attr-defined]
            Program.objects.for_org(organization_id).filter(is_active=True)
            .select_related("site").order_by("name")
        )  # fmt: skip
        self.fields["room"].queryset = (  # type: ignore[attr-defined]
            Room.objects.for_org(organization_id)
            .select_related("site")
            .order_by("site__name", "name")
        )
        self.fields["facilitators"].queryset = staff_choices(organization_id)  # type: ignore[attr-defined]

    def common(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "program": data["program"], "title": data["title"], "kind": data["kind"],
            "room": data["room"], "is_virtual": data["is_virtual"],
            "facilitators": list(data["facilitators"]), "capacity": data["capacity"],
        }  # fmt: skip


class SessionForm(_SessionFields):
    """One session on one local date, from a start to an end wall time at the program's site."""

    service_field_map = {"starts_at": "start_time", "ends_at": "end_time"}
    field_order = ["program", "title", "kind", "date", "start_time", "end_time"]

    date = forms.DateField(widget=DATE)
    start_time = forms.TimeField(widget=TIME)
    end_time = forms.TimeField(widget=TIME)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        tz = data["program"].site.tz
        return {
            **self.common(),
            "starts_at": local_datetime(data["date"], data["start_time"], tz),
            "ends_at": local_datetime(data["date"], data["end_time"], tz),
        }


class SeriesForm(_SessionFields):
    """A weekly pattern over a date range (weekdays, a start wall time and a duration)."""

    field_order = [
        "program", "title", "kind", "weekdays", "start_time", "duration_minutes",
        "start_date", "end_date",
    ]  # fmt: skip

    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    start_time = forms.TimeField(widget=TIME)
    duration_minutes = forms.IntegerField(min_value=1, max_value=8 * 60, initial=180)
    start_date = forms.DateField(widget=DATE, label="First day")
    end_date = forms.DateField(widget=DATE, label="Last day")

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        keys = ("weekdays", "start_time", "duration_minutes", "start_date", "end_date")
        return {**self.common(), **{k: data[k] for k in keys}}


class CancelForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(max_length=200, label="Reason for cancelling")


class BookForm(ServiceErrorsMixin, forms.Form):
    """Add a patient to a session's roster: one of the program's admitted episodes not on it yet."""

    service_field_map = {"session": "episode"}

    episode = forms.ModelChoiceField(
        queryset=Episode.objects.none(), to_field_name="public_id", label="Patient",
        empty_label="Choose a patient",
    )  # fmt: skip

    def __init__(self, *args: Any, candidates: QuerySet[Episode], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["episode"]
        field.queryset = candidates  # type: ignore[attr-defined]
        field.label_from_instance = lambda e: (
            f"{e.patient.last_name}, {e.patient.first_name} ({e.patient.mrn})"
        )  # type: ignore[attr-defined]


class WeekForm(forms.Form):
    """``?week=YYYY-MM-DD&program=<uuid>`` on the sessions list; bad values mean the defaults."""

    week = forms.DateField(required=False)
    program = forms.UUIDField(required=False)

    def week_start(self, today: dt.date) -> dt.date:
        day = (self.cleaned_data.get("week") if self.is_valid() else None) or today
        if not 1900 <= day.year <= 2200:
            day = today
        return day - dt.timedelta(days=day.weekday())
