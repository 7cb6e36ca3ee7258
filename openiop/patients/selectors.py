from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from openiop.accounts.permissions import Perm
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.enrollment.caseload import scope_to_caseload
from openiop.enrollment.models import Episode
from openiop.patients.models import Patient, PatientQuerySet


def patient_list(*, user: Any, search: str = "") -> PatientQuerySet:
    require_perm(user, Perm.PATIENT_VIEW)
    open_episodes = Episode.objects.open().select_related("program", "primary_counselor")
    return (
        scope_to_caseload(Patient.objects.for_org(user.organization), user, "pk")
        .search(search)
        .prefetch_related(Prefetch("episodes", queryset=open_episodes, to_attr="open_episodes"))
    )


def patient_get(*, user: Any, public_id: Any) -> Patient:
    return get_for_user_or_404(Patient.objects.all(), user, public_id, Perm.PATIENT_VIEW)
