"""Caseload scoping: which patients a counselor may see (issue 7, docs/security.md).

Program directors, prescribers, intake, front desk, billing and auditors work across the whole
organization, each limited by their role's permissions. A user whose only role is ``counselor``
sees, in addition, only the patients of their caseload:

- patients with an episode whose primary counselor they are;
- patients with an episode in a program whose groups they lead (``ClinicianProgram``);
- patients booked into a session they facilitate;
- patients no counselor has been assigned to yet (new referrals, the waitlist, an admission
  whose primary counselor is still to be named), so intake work is never blocked;
- a patient they opened emergency (break-glass) access to, while the grant lasts.

Outside the caseload a patient's record answers 404, exactly as another organization's does, so
a counselor learns nothing about who else is in treatment. ``OPENIOP_CASELOAD_SCOPING=0`` turns
scoping off for a small clinic where every counselor covers every patient.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from openiop.accounts.permissions import Role, roles_of

M = TypeVar("M", bound=Model)

SCOPED_ROLES = frozenset({Role.COUNSELOR})


def is_caseload_scoped(user: Any) -> bool:
    """True when every role the user holds is a caseload-scoped one."""
    if not getattr(settings, "OPENIOP_CASELOAD_SCOPING", True):
        return False
    roles = roles_of(user)
    return bool(roles) and roles <= SCOPED_ROLES


def _caseload_q(user: Any, *, with_break_glass: bool = True) -> Q:
    from openiop.attendance.models import AttendanceRecord
    from openiop.consent.models import BreakGlassAccess
    from openiop.enrollment.models import Episode
    from openiop.scheduling.models import ClinicianProgram

    org = user.organization_id
    episodes = Episode.objects.for_org(org)
    programs = ClinicianProgram.objects.for_org(org).filter(user=user).values("program_id")
    q = (
        Q(pk__in=episodes.filter(primary_counselor=user).values("patient_id"))
        | Q(pk__in=episodes.filter(program_id__in=programs).values("patient_id"))
        | Q(
            pk__in=AttendanceRecord.objects.for_org(org)
            .filter(session__facilitators=user)
            .values("patient_id")
        )
        | ~Q(pk__in=episodes.filter(primary_counselor__isnull=False).values("patient_id"))
    )
    if with_break_glass:
        active = BreakGlassAccess.objects.for_org(org).filter(user=user).active_at(timezone.now())
        q |= Q(pk__in=active.values("patient_id"))
    return q


def visible_patients(user: Any) -> QuerySet[Any]:
    """The organization's patients this user may see (all of them for unscoped roles)."""
    from openiop.patients.models import Patient

    patients = Patient.objects.for_org(user.organization_id)
    if not is_caseload_scoped(user):
        return patients
    return patients.filter(_caseload_q(user))


def keep_visible(user: Any, rows: list[Any], patient_at: int) -> list[Any]:
    """The rows (sequences holding a patient's primary key at ``patient_at``, e.g. a snapshot's
    rows, ADR 0016) whose patient this user may see, in their order; one query when scoped."""
    if not is_caseload_scoped(user):
        return rows
    seen = set(
        visible_patients(user)
        .filter(pk__in={row[patient_at] for row in rows})
        .values_list("pk", flat=True)
    )
    return [row for row in rows if row[patient_at] in seen]


def scope_to_caseload(
    queryset: QuerySet[M], user: Any, patient_field: str = "patient"
) -> QuerySet[M]:
    """Narrow a queryset of patient-linked rows to the user's caseload (no-op when unscoped).

    ``patient_field`` is the lookup path from the row to its patient (``"pk"`` for patients
    themselves, ``"episode__patient"`` for rows hanging off an episode)."""
    if not is_caseload_scoped(user):
        return queryset
    lookup = "pk__in" if patient_field == "pk" else f"{patient_field}__in"
    return queryset.filter(**{lookup: visible_patients(user).values("pk")})


def patient_in_caseload(user: Any, patient_id: int, *, with_break_glass: bool = True) -> bool:
    """May ``user`` see the patient with primary key ``patient_id``?"""
    from openiop.patients.models import Patient

    if not is_caseload_scoped(user):
        return True
    return (
        Patient.objects.for_org(user.organization_id)
        .filter(pk=patient_id)
        .filter(_caseload_q(user, with_break_glass=with_break_glass))
        .exists()
    )


def seen_through_break_glass(user: Any, patient_id: int) -> bool:
    """Is this look at the patient possible only because of an emergency-access grant?"""
    if not is_caseload_scoped(user):
        return False
    return not patient_in_caseload(user, patient_id, with_break_glass=False)


def session_in_caseload(user: Any, session: Any) -> bool:
    """A session's group record is the counselor's if they facilitate it, lead its program, or
    one of its attendees is in their caseload."""
    from openiop.scheduling.models import ClinicianProgram

    if not is_caseload_scoped(user):
        return True
    if session.facilitators.filter(pk=user.pk).exists():
        return True
    if ClinicianProgram.objects.filter(user=user, program_id=session.program_id).exists():
        return True
    attendees = session.attendance.values("patient_id")
    return visible_patients(user).filter(pk__in=attendees).exists()
