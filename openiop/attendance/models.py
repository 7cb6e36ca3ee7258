from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiop.core.models import TenantModel


class AttendanceRecord(TenantModel):
    """One per (session, patient). Booking a patient creates it as EXPECTED; check-in sets the rest.

    Re-submitting the same check-in is idempotent (service ``attendance_record``), so a retried
    request after a lost response never makes a second row (security.md §2.2).
    """

    class Status(models.TextChoices):
        EXPECTED = "expected", "Expected"
        PRESENT = "present", "Present"
        LATE = "late", "Late"
        LEFT_EARLY = "left_early", "Left early"
        ABSENT = "absent", "Absent"
        EXCUSED = "excused", "Excused"

    ATTENDED = (Status.PRESENT, Status.LATE, Status.LEFT_EARLY)

    session = models.ForeignKey(
        "scheduling.Session", on_delete=models.CASCADE, related_name="attendance"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="attendance"
    )
    episode = models.ForeignKey(
        "enrollment.Episode", on_delete=models.PROTECT, related_name="attendance"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.EXPECTED)
    minutes_attended = models.PositiveSmallIntegerField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "patient"], name="attendance_one_per_session_patient"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["absent", "excused"]) | Q(minutes_attended=0),
                name="attendance_absent_has_zero_minutes",
            ),
            models.CheckConstraint(
                condition=Q(status="expected") | Q(minutes_attended__isnull=False),
                name="attendance_recorded_has_minutes",
            ),
        ]
        indexes = [models.Index(fields=["organization", "episode"])]

    def __str__(self) -> str:
        return f"{self.patient} @ {self.session}: {self.status}"

    @property
    def is_recorded(self) -> bool:
        return self.status != self.Status.EXPECTED
