import datetime as dt
import random

from openiop.billing.demo import seed_authorizations
from openiop.billing.selectors import authorization_alerts
from openiop.billing.tests.helpers import attend, second_episode
from openiop.enrollment.models import Episode

TODAY = dt.date(2026, 11, 16)


def test_seed_authorizes_most_active_episodes_with_one_running_low_and_one_missing(
    org, program, billing, episode
):
    others = [second_episode(org, program, first=f"P{i}", last=f"Q{i}") for i in range(3)]
    for e in [episode, *others]:
        for d in (2, 4, 6, 9, 11, 13):
            attend(e, dt.date(2026, 11, d))
    n = seed_authorizations(
        organization=org, episodes=Episode.objects.for_org(org), rng=random.Random(7), today=TODAY
    )
    assert n == 3
    kinds = {a.patient.last_name: a.kind for a in authorization_alerts(billing, TODAY)}
    assert kinds[episode.patient.last_name] == "low"
    assert kinds[others[-1].patient.last_name] == "missing"
