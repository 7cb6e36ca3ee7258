"""The ``clinic`` fixture of the claim tests (helpers in ``claims_fixtures.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from openiop.billing.tests.claims_fixtures import (
    WEEK1,
    WEEK2,
    authorize,
    cover,
    documented_day,
    make_payer,
    make_profile,
    ready_patient,
)


@pytest.fixture
def clinic(org, site, program, patient, episode, counselor) -> dict[str, Any]:
    """The patient covered by a per-diem payer, with everything a claim needs, and two
    documented weeks of 3 x 3 h."""
    payer = make_payer(org)
    make_profile(org)
    coverage = cover(patient, payer)
    ready_patient(patient, episode)
    authorize(episode, payer)
    for day in WEEK1 + WEEK2:
        documented_day(episode, day, counselor)
    return {"payer": payer, "coverage": coverage, "episode": episode, "patient": patient}
