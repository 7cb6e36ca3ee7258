"""The outcome report for the demo clinic (issue 9 "Done when"): believable numbers with their
uncertainty, rendered within the query budget, and the follow-up work list has calls to make."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from openiop.organizations import demo

NY = zoneinfo.ZoneInfo("America/New_York")
TODAY = dt.date(2026, 11, 18)
NOW = dt.datetime(2026, 11, 18, 12, 30, tzinfo=NY)


@pytest.fixture
def built(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return demo.build_demo(seed=7, patients=12, weeks=2, today=TODAY, now=NOW)


def test_director_opens_the_demo_outcome_report(built, django_assert_max_num_queries):
    import time_machine

    client = Client()
    client.force_login(get_user_model().objects.get(username="director"))
    with time_machine.travel(NOW, tick=False):
        with django_assert_max_num_queries(40):
            page = client.get(reverse("reports:outcomes"))
        body = page.content.decode()
        worklist = client.get(reverse("aftercare:follow-up-list")).content.decode()
    assert page.status_code == 200
    # The alumni cohort gives 6-month outcomes: a rate with its Wilson interval and its n.
    six = body[body.index('id="six-month"') :]
    intervals = re.findall(r"(\d+)% \((\d+)%[–-](\d+)%\)", six)
    assert intervals, six[:2000]
    for estimate, low, high in (map(int, t) for t in intervals):
        assert 0 <= low <= estimate <= high <= 100
    assert "Non-responders are never counted as successes" in six
    assert "Completed treatment" in body and "95% CI" in body
    assert body.count("<svg") >= 3  # retention, discharge reasons, outcome by engagement
    assert "Record contact" in worklist  # calls to make today
