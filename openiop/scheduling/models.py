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
    # The video room name of a virtual session, given on first join (openiop.portal.video).
    video_room = models.CharField(max_length=200, blank=True)

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


# --- Weekly scheduler in the product (issue #4) ------------------------------------------------


class ScheduleBlock(TenantModel):
    """A weekly time block a program's groups may meet in at one site (site-local wall time).

    Blocks are the solver's ``blocks`` (format v1); a group is one program in one block."""

    class PartOfDay(models.TextChoices):
        DAY = "day", "Day"
        EVENING = "evening", "Evening"
        AFTER_SCHOOL = "after_school", "After school"

    site = models.ForeignKey(
        "organizations.Site", on_delete=models.CASCADE, related_name="schedule_blocks"
    )
    day = models.PositiveSmallIntegerField(help_text="0 = Monday ... 6 = Sunday")
    start = models.TimeField()
    minutes = models.PositiveSmallIntegerField()
    part_of_day = models.CharField(max_length=12, choices=PartOfDay.choices, default=PartOfDay.DAY)
    label = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["day", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(day__gte=0) & Q(day__lte=6), name="schedule_block_day_0_6"
            ),
            models.CheckConstraint(
                condition=Q(minutes__gte=1) & Q(minutes__lte=480),
                name="schedule_block_minutes_1_480",
            ),
            models.UniqueConstraint(
                fields=["site", "day", "start", "minutes"], name="schedule_block_unique_in_site"
            ),
        ]

    DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

    def __str__(self) -> str:
        return self.label or f"{self.DAY_NAMES[self.day]} {self.start:%H:%M}"

    @property
    def solver_id(self) -> str:
        """The block's id in a solver instance: stable, readable and unique in one site."""
        return f"b-{self.day}-{self.start:%H%M}-{self.minutes}"

    @property
    def day_name(self) -> str:
        return self.DAY_NAMES[self.day]

    @property
    def end(self) -> dt.time:
        total = (self.start.hour * 60 + self.start.minute + self.minutes) % 1440
        return dt.time(total // 60, total % 60)


class ClinicianSlot(TenantModel):
    """A block in which a clinician can lead a group, and how (in person or online)."""

    class Modality(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIRTUAL = "virtual", "Virtual"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinician_slots"
    )
    block = models.ForeignKey(ScheduleBlock, on_delete=models.CASCADE, related_name="slots")
    modality = models.CharField(max_length=10, choices=Modality.choices, default=Modality.IN_PERSON)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "block", "modality"], name="clinician_slot_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.block} ({self.modality})"


class ClinicianProgram(TenantModel):
    """A program whose groups a clinician leads, and how many groups a week at most."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinician_programs"
    )
    program = models.ForeignKey(
        "organizations.Program", on_delete=models.CASCADE, related_name="clinicians"
    )
    max_groups_per_week = models.PositiveSmallIntegerField(default=5)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "program"], name="clinician_program_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} leads {self.program}"


class ScheduleDraft(TenantModel):
    """One program's proposed week: the solver instance built from the database, its solution,
    the director's pins, and where the background solve is. Published drafts are history (they
    created the sessions) and are never solved again."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SOLVING = "solving", "Solving"
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        FAILED = "failed", "Failed"

    program = models.ForeignKey(
        "organizations.Program", on_delete=models.CASCADE, related_name="schedule_drafts"
    )
    week_start = models.DateField(help_text="The Monday of the week")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.CharField(max_length=300, blank=True)
    instance = models.JSONField(default=dict)
    solution = models.JSONField(null=True, blank=True)
    pins = models.JSONField(default=dict, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "program", "week_start"])]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "week_start"],
                condition=Q(status="published"),
                name="schedule_draft_one_published_per_week",
            )
        ]

    def __str__(self) -> str:
        return f"{self.program} week of {self.week_start:%Y-%m-%d} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.SOLVING)
