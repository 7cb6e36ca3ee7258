from __future__ import annotations

from pathlib import Path

import pytest

from conftest import make_user
from openiop.accounts.permissions import Perm, Role, matrix_markdown, user_has_perm

ROOT = Path(__file__).resolve().parents[3]


def test_docs_roles_table_matches_the_code():
    assert matrix_markdown() in (ROOT / "docs" / "roles.md").read_text()


@pytest.mark.django_db
def test_front_desk_takes_attendance_but_cannot_discharge(org):
    user = make_user("fd", org, Role.FRONT_DESK)
    assert user_has_perm(user, Perm.ATTENDANCE_RECORD)
    assert not user_has_perm(user, Perm.EPISODE_MANAGE)


@pytest.mark.django_db
def test_auditor_reads_but_changes_nothing(org):
    user = make_user("aud", org, Role.AUDITOR)
    writes = [p for p in Perm if p.value.endswith((".edit", ".manage", ".record"))]
    assert writes and not any(user_has_perm(user, p) for p in writes)
    assert user_has_perm(user, Perm.PATIENT_VIEW) and user_has_perm(user, Perm.AUDIT_VIEW)


@pytest.mark.django_db
def test_user_without_organization_or_inactive_has_no_permission(org):
    loose = make_user("loose", None, Role.ADMIN)
    assert not user_has_perm(loose, Perm.PATIENT_VIEW)
    gone = make_user("gone", org, Role.PROGRAM_DIRECTOR)
    gone.is_active = False
    assert not user_has_perm(gone, Perm.PATIENT_VIEW)
