import datetime as dt
import random

import time_machine

from conftest import NY
from openiop.billing.tests.helpers import attend, second_episode
from openiop.clinical.demo_discharge import seed_discharge_summaries
from openiop.clinical.models import DischargeSummary
from openiop.clinical.selectors.discharge import discharge_summaries_due
from openiop.enrollment.models import Episode
from openiop.enrollment.services import episode_discharge

TODAY = dt.date(2026, 12, 15)


@time_machine.travel(dt.datetime(2026, 12, 15, 9, 0, tzinfo=NY), tick=False)
def test_seed_signs_most_summaries_and_leaves_one_overdue(org, program, counselor, supervisor):
    for i, day in enumerate((10, 20, 25, 30)):
        e = second_episode(org, program, first=f"P{i}", last=f"Q{i}", admitted=dt.date(2026, 10, 1))
        e.primary_counselor = counselor
        e.save()
        attend(e, dt.date(2026, 10, 5))
        episode_discharge(actor=None, episode=e, discharged_on=dt.date(2026, 11, day), reason=1)
    n = seed_discharge_summaries(
        organization=org, episodes=Episode.objects.for_org(org), rng=random.Random(3), today=TODAY
    )
    assert n == 3
    assert DischargeSummary.objects.filter(status="signed").count() == 3
    due = discharge_summaries_due(supervisor, TODAY)
    assert len(due) == 1 and due[0].overdue and due[0].draft is None
