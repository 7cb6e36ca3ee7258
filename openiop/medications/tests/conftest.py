"""Fixtures for the medications tests: a frozen clock and a buprenorphine prescription."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from openiop.medications import services

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)  # Friday 10:00 in New York
TODAY = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def bup(patient, episode, prescriber):
    return services.medication_start(
        actor=prescriber,
        patient=patient,
        episode=episode,
        name="Buprenorphine/naloxone",
        dose="8 mg/2 mg",
        route="sublingual",
        frequency="once daily",
        start_on=dt.date(2026, 11, 3),
        prescriber=prescriber,
        mat_kind="buprenorphine",
    )


def at(day: int, hour: int = 14) -> dt.datetime:
    """A November 2026 collection time (UTC; 14:00 UTC is 09:00 in New York)."""
    return dt.datetime(2026, 11, day, hour, tzinfo=dt.UTC)
