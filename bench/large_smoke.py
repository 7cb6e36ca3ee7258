"""Smoke check of the large demo organization: do the key pages render on it, and how fast?

Not a test and not a benchmark: it opens the dashboard, a session roster (today's, or the
nearest session of this week), an active patient's chart and a program's compliance week as the
large organization's program director, with Django's test client, and prints status codes,
milliseconds and query counts. Build the database first:

    DATABASE_URL=sqlite:////tmp/openiop-large.sqlite3 .venv/bin/openiop migrate
    DATABASE_URL=sqlite:////tmp/openiop-large.sqlite3 .venv/bin/openiop demo --scale large
    DATABASE_URL=sqlite:////tmp/openiop-large.sqlite3 .venv/bin/python bench/large_smoke.py

Exit status 1 when a page does not answer 200.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="requests per page (default 3)")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/openiop-large.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from openiop.accounts.models import User
    from openiop.enrollment.models import Episode
    from openiop.organizations import demo_large
    from openiop.organizations.models import Organization
    from openiop.scheduling.models import Session

    org = Organization.objects.get(slug=demo_large.ORG_SLUG)
    director = User.objects.get(username=f"{demo_large.USER_PREFIX}director")
    now = timezone.now()
    sessions = Session.objects.for_org(org.pk).exclude(status=Session.Status.CANCELLED)
    session = (
        sessions.filter(starts_at__date=now.date()).order_by("starts_at").first()
        or sessions.filter(starts_at__gte=now).order_by("starts_at").first()
        or sessions.order_by("-starts_at").first()
    )
    episode = (
        Episode.objects.for_org(org.pk)
        .filter(status=Episode.Status.ACTIVE)
        .order_by("admitted_on", "id")
        .select_related("patient", "program__site")
        .first()
    )
    if session is None or episode is None:
        print("the large organization has no session or no active episode", file=sys.stderr)
        return 1
    monday = episode.program.site.today()
    monday = monday.fromordinal(monday.toordinal() - monday.weekday())
    pages = [
        ("dashboard", reverse("reports:dashboard")),
        ("session roster", reverse("scheduling:session-detail", args=[session.public_id])),
        ("patient chart", reverse("patients:patient-detail", args=[episode.patient.public_id])),
        (
            "compliance week",
            reverse("organizations:program-detail", args=[episode.program.public_id])
            + f"?week={monday.isoformat()}",
        ),
    ]
    client = Client()
    client.force_login(director)
    failed = False
    print(f"{'page':<18}{'status':>7}{'first ms':>10}{'best ms':>9}{'queries':>9}  url")
    for name, url in pages:
        times: list[float] = []
        status = 0
        queries = 0
        for _ in range(max(1, args.repeat)):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            status, queries = response.status_code, len(ctx.captured_queries)
        failed |= status != 200
        print(f"{name:<18}{status:>7}{times[0]:>10.0f}{min(times):>9.0f}{queries:>9}  {url}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
