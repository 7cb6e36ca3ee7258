from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from openiop.core.models import BaseModel, TenantModel


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{value!r} is not an IANA time zone such as America/Chicago"
        ) from None


class Organization(BaseModel):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)

    def __str__(self) -> str:
        return self.name

    def tz(self) -> zoneinfo.ZoneInfo:
        """The organization's main time zone: its first site's (UTC without a site)."""
        site = self.sites.order_by("id").first()
        return site.tz if site is not None else zoneinfo.ZoneInfo("UTC")

    def today(self) -> dt.date:
        """Today where the organization's first site is (its main time zone)."""
        site = self.sites.order_by("id").first()
        return site.today() if site is not None else timezone.localdate()


class Site(TenantModel):
    class Kind(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIRTUAL = "virtual", "Virtual"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="sites")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.IN_PERSON)
    timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    address = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="site_name_unique_in_org")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def today(self) -> dt.date:
        """Today's date where the site is (not in UTC: at 8 pm in New York it is already
        tomorrow in UTC)."""
        return timezone.localdate(timezone=self.tz)


class Room(TenantModel):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=100)
    capacity = models.PositiveSmallIntegerField(default=12)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="room_name_unique_in_site"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="room_capacity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.site.name} · {self.name}"


class Program(TenantModel):
    """A track, e.g. "Adult evening IOP". Its intensity rules are data, not constants:
    hours and days differ by state and payer (domain.md §1.3)."""

    class Population(models.TextChoices):
        ADULT = "adult", "Adult"
        ADOLESCENT = "adolescent", "Adolescent"

    class Modality(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIRTUAL = "virtual", "Virtual"
        HYBRID = "hybrid", "Hybrid"

    class Cohort(models.TextChoices):
        DAY = "day", "Day"
        EVENING = "evening", "Evening"
        AFTER_SCHOOL = "after_school", "After school"

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="programs")
    name = models.CharField(max_length=200)
    level_of_care = models.CharField(max_length=8, default="2.1")
    population = models.CharField(
        max_length=12, choices=Population.choices, default=Population.ADULT
    )
    min_age = models.PositiveSmallIntegerField(default=18)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)
    modality = models.CharField(max_length=12, choices=Modality.choices, default=Modality.IN_PERSON)
    cohort = models.CharField(max_length=14, choices=Cohort.choices, default=Cohort.DAY)
    weekly_min_hours = models.DecimalField(max_digits=4, decimal_places=1, default=Decimal("9.0"))
    weekly_max_hours = models.DecimalField(max_digits=4, decimal_places=1, default=Decimal("19.0"))
    min_days_per_week = models.PositiveSmallIntegerField(default=3)
    typical_session_minutes = models.PositiveSmallIntegerField(default=180)
    typical_length_weeks = models.PositiveSmallIntegerField(default=6)
    group_size_cap = models.PositiveSmallIntegerField(default=12)
    is_active = models.BooleanField(default=True)
    # Documentation rules (domain.md §5): the note format counselors write in, how soon a new
    # patient needs a treatment plan, how often plans are reviewed (30 days by default; Medicare
    # IOP "no less than every other month" = 2 months), and how soon after discharge the summary
    # is due (7 days, the strictest rule in domain.md §5.4).
    note_format = models.CharField(
        max_length=4,
        choices=[("DAP", "DAP"), ("BIRP", "BIRP"), ("SOAP", "SOAP")],
        default="DAP",
    )
    plan_due_days = models.PositiveSmallIntegerField(default=7)
    plan_review_interval = models.PositiveSmallIntegerField(default=30)
    plan_review_unit = models.CharField(
        max_length=6, choices=[("days", "days"), ("months", "months")], default="days"
    )
    discharge_summary_days = models.PositiveSmallIntegerField(default=7)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="program_name_unique_in_org"
            ),
            models.CheckConstraint(
                condition=Q(weekly_max_hours__gte=models.F("weekly_min_hours")),
                name="program_max_hours_not_below_min",
            ),
            models.CheckConstraint(
                condition=Q(min_days_per_week__gte=1) & Q(min_days_per_week__lte=7),
                name="program_min_days_1_to_7",
            ),
            models.CheckConstraint(
                condition=Q(group_size_cap__gte=1), name="program_group_cap_positive"
            ),
            models.CheckConstraint(
                condition=Q(plan_review_interval__gte=1), name="program_plan_review_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def weekly_min_minutes(self) -> int:
        return int(self.weekly_min_hours * 60)

    @property
    def weekly_max_minutes(self) -> int:
        return int(self.weekly_max_hours * 60)

    def clean(self) -> None:
        if self.weekly_max_hours is not None and self.weekly_min_hours is not None:
            if self.weekly_max_hours < self.weekly_min_hours:
                raise ValidationError(
                    {"weekly_max_hours": "Maximum hours must not be below the minimum."}
                )
        if self.max_age is not None and self.max_age < self.min_age:
            raise ValidationError({"max_age": "Maximum age must not be below the minimum age."})


PROGRAM_DEFAULTS: dict[str, dict[str, object]] = {
    # Common IOP structure (domain.md §1.3, §9): adults 9-19 h over >= 3 days; adolescents >= 6 h;
    # virtual IOP 9 h a week for 8 weeks.
    "adult": {
        "weekly_min_hours": Decimal("9.0"),
        "weekly_max_hours": Decimal("19.0"),
        "min_days_per_week": 3,
        "typical_length_weeks": 6,
        "min_age": 18,
    },
    "adolescent": {
        "weekly_min_hours": Decimal("6.0"),
        "weekly_max_hours": Decimal("19.0"),
        "min_days_per_week": 3,
        "typical_length_weeks": 6,
        "min_age": 14,
        "max_age": 17,
        "typical_session_minutes": 120,
    },
    "virtual": {
        "weekly_min_hours": Decimal("9.0"),
        "weekly_max_hours": Decimal("19.0"),
        "min_days_per_week": 3,
        "typical_length_weeks": 8,
        "min_age": 18,
    },
}
