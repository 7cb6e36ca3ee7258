from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from openiop.core.models import TenantModel, TenantQuerySet


class SessionKind(models.TextChoices):
    GROUP = "group", "Group therapy"
    INDIVIDUAL = "individual", "Individual therapy"
    FAMILY = "family", "Family therapy"
    MEDICATION = "medication", "Medication management"
    ASSESSMENT = "assessment", "Assessment"


class SessionSeries(TenantModel):
    """A recurring group, e.g. "Mon/Wed/Thu 18:00-21:00", that creates sessions for a date range."""

    program = models.ForeignKey(
        "organizations.Program", on_delete=models.PROTECT, related_name="series"
    )
    kind = models.CharField(max_length=12, choices=SessionKind.choices, default=SessionKind.GROUP)
    title = models.CharField(max_length=200)
    weekdays = models.CharField(max_length=20, help_text="Comma-separated weekdays, 0=Monday")
    start_time = models.TimeField()
    duration_minutes = models.PositiveSmallIntegerField()
    room = models.ForeignKey("organizations.Room", null=True, blank=True, on_delete=models.PROTECT)
    is_virtual = models.BooleanField(default=False)
    facilitators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    capacity = models.PositiveSmallIntegerField(default=12)
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        verbose_name_plural = "session series"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="series_end_not_before_start"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1), name="series_duration_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def weekday_list(self) -> list[int]:
        return [int(d) for d in self.weekdays.split(",") if d.strip()]


class SessionQuerySet(TenantQuerySet):
    def between(self, start: dt.datetime, end: dt.datetime) -> SessionQuerySet:
        return self.filter(starts_at__gte=start, starts_at__lt=end)

    def not_cancelled(self) -> SessionQuerySet:
        return self.exclude(status=Session.Status.CANCELLED)


class Session(TenantModel):
    """One scheduled service occurrence. Times are stored in UTC and shown in the site's zone."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        HELD = "held", "Held"
        CANCELLED = "cancelled", "Cancelled"

    program = models.ForeignKey(
        "organizations.Program", on_delete=models.PROTECT, related_name="sessions"
    )
    series = models.ForeignKey(
        SessionSeries, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    kind = models.CharField(max_length=12, choices=SessionKind.choices, default=SessionKind.GROUP)
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    room = models.ForeignKey("organizations.Room", null=True, blank=True, on_delete=models.PROTECT)
    is_virtual = models.BooleanField(default=False)
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="facilitated_sessions"
    )
    capacity = models.PositiveSmallIntegerField(default=12)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    cancel_reason = models.CharField(max_length=200, blank=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_end_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="session_capacity_positive"),
            models.CheckConstraint(
                condition=Q(room__isnull=True) | Q(is_virtual=False),
                name="session_virtual_has_no_room",
            ),
        ]
        indexes = [models.Index(fields=["organization", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.title} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def tz(self):  # type: ignore[no-untyped-def]
        return self.program.site.tz

    @property
    def local_start(self) -> dt.datetime:
        return self.starts_at.astimezone(self.tz)

    @property
    def local_end(self) -> dt.datetime:
        return self.ends_at.astimezone(self.tz)


class CalendarFeedQuerySet(TenantQuerySet):
    def active(self) -> CalendarFeedQuerySet:
        return self.filter(revoked_at__isnull=True)


class CalendarFeed(TenantModel):
    """A subscribable iCalendar link for one clinician or one patient (issue #4).

    Calendar apps cannot log in, so the link's token is the credential. Only a SHA-256 digest of
    the token is stored (like ``accounts.ApiToken``): a database leak yields no working link, and
    staff can never look a link up again, only rotate it. At most one active feed per clinician
    and per patient (partial unique constraints), so rotating revokes the old link for good.
    """

    class Kind(models.TextChoices):
        CLINICIAN = "clinician", "Clinician"
        PATIENT = "patient", "Patient"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
    )
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = CalendarFeedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="clinician", user__isnull=False, patient__isnull=True)
                    | Q(kind="patient", patient__isnull=False, user__isnull=True)
                ),
                name="calendar_feed_subject_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(revoked_at__isnull=True, user__isnull=False),
                name="calendar_feed_one_active_per_user",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(revoked_at__isnull=True, patient__isnull=False),
                name="calendar_feed_one_active_per_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} calendar feed {self.prefix}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
