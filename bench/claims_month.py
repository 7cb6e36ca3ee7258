"""A month of 837 claims for the large organization: how long does a biller wait?

Runs the same services the claims pages and ``openiop billing export`` use, as the large
organization's biller, for one month nobody has billed yet (by default last month; the large demo
leaves last month and this one unbilled and writes their group notes, authorizations and plans):

1. build: charge capture from attendance and signed notes, draft claims per patient and payer;
2. ready: every draft checked and marked ready, 500 at a time (as the claims page's "Mark ready"
   on the ticked claims, which takes up to 500 per click);
3. export: the 42 CFR Part 2 payment-consent check per patient, one 837P file, claims submitted;
4. pyx12: the file read back by pyx12's validator (for the record; not part of the target).

Everything happens in one transaction that is rolled back at the end (``--keep`` commits), so the
run can be repeated on the same database. Build the database first:

    DATABASE_URL=sqlite:////tmp/openiop-large.sqlite3 .venv/bin/openiop migrate
    DATABASE_URL=sqlite:////tmp/openiop-large.sqlite3 .venv/bin/openiop demo --scale large
    DATABASE_URL=sqlite:////tmp/openiop-large.sqlite3 .venv/bin/python bench/claims_month.py

Target (issue #12): "a month of 837 claims under 20 s". Two lines are printed: the export of the
month's ready claims as one 837P file, and the whole path from attendance to file (build, ready
and export together).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 20.0


class _Rollback(Exception):
    pass


def _month(value: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    if value:
        first = dt.date.fromisoformat(value + "-01")
    else:
        first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--month", help="YYYY-MM (default: last month)")
    parser.add_argument("--keep", action="store_true", help="commit the claims and the export")
    parser.add_argument("--no-pyx12", action="store_true", help="skip the pyx12 read-back")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/openiop-large.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.db import connection, transaction
    from tqdm import tqdm

    from openiop.accounts.models import User
    from openiop.billing.services_claims import claims_build, claims_export, claims_mark_ready
    from openiop.billing.x12.pyx12_check import pyx12_errors
    from openiop.organizations import demo_large
    from openiop.organizations.models import Organization

    org = Organization.objects.get(slug=demo_large.ORG_SLUG)
    biller = User.objects.get(username=f"{demo_large.USER_PREFIX}billing")
    start, end = _month(args.month, org.today())
    rows: list[tuple[str, float, str]] = []
    problems: list[str] = []

    def timed(label: str, fn, detail) -> object:  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        out = fn()
        rows.append((label, time.perf_counter() - t, detail(out)))
        return out

    try:
        with transaction.atomic():
            built = timed(
                "build",
                lambda: claims_build(actor=biller, organization=org, start=start, end=end),
                lambda r: (
                    f"{len(r.created)} claims, {sum(c.lines.count() for c in r.created)} "
                    f"lines; {r.lines_blocked} lines held back"
                ),
            )
            claims = built.created  # type: ignore[attr-defined]

            def ready() -> tuple[int, int]:
                done = refused = 0
                with tqdm(total=len(claims), desc="ready", unit="claim", file=sys.stderr) as bar:
                    for i in range(0, len(claims), 500):
                        part = claims_mark_ready(actor=biller, claims=claims[i : i + 500])
                        done, refused = done + len(part.ready), refused + len(part.refused)
                        bar.update(len(claims[i : i + 500]))
                return done, refused

            timed("ready", ready, lambda n: f"{n[0]} claims ready, {n[1]} left as drafts")
            result = timed(
                "export",
                lambda: claims_export(
                    actor=biller, organization=org, fmt="837p", start=start, end=end, via="cli"
                ),
                lambda r: (
                    f"{r.batch.claim_count} claims, {len(r.batch.content) / 1e6:.1f} MB; "
                    f"{len(r.refused)} left out (no consent)"
                    if r.batch
                    else "; ".join(r.problems)[:120]
                ),
            )
            batch = result.batch  # type: ignore[attr-defined]
            if batch is not None and not args.no_pyx12:
                timed("pyx12 read-back", lambda: pyx12_errors(batch.content),
                      lambda errs: f"{len(errs)} errors")  # fmt: skip
            if batch is None:
                problems.extend(result.problems)  # type: ignore[attr-defined]
            if not args.keep:
                raise _Rollback
    except _Rollback:
        pass

    vendor = connection.vendor
    print(f"\nA month of 837P claims: {org.name}, {start:%B %Y} ({vendor})\n")
    print(f"{'step':<18}{'seconds':>9}  detail")
    for label, seconds, detail in rows:
        print(f"{label:<18}{seconds:>9.2f}  {detail}")
    total = sum(s for label, s, _ in rows if label in ("build", "ready", "export"))
    print(f"{'build+ready+export':<18}{total:>9.2f}")
    export = sum(s for label, s, _ in rows if label == "export")
    tail = "" if args.keep else "  (rolled back)"
    for label, seconds in (("the month's 837 file (export)", export),
                           ("build + ready + export", total)):  # fmt: skip
        met = not problems and seconds < TARGET_SECONDS
        print(f"{'MET' if met else 'NOT MET':>7}  {label} under {TARGET_SECONDS:.0f} s "
              f"[{seconds:.1f} s]{tail}")  # fmt: skip
    for p in problems:
        print("problem:", p)
    return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
