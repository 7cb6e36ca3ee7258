"""FHIR Bulk Data export throughput: resources per second, per type and in total.

    .venv/bin/python bench/fhir_export.py [--patients 2000] [--sessions 40] [--scores 2]

Builds a clinic of N admitted patients (each booked into ``--sessions`` past sessions and with
``--scores`` PHQ-9 responses, all by ``bulk_create`` from one row made by the real services) in
a fresh temporary SQLite database (with DATABASE_URL set: in that database, as a new
organization), then runs ``$export`` jobs synchronously (``openiop.fhir.bulk.export_run``) for an
inside system client: one job per type, then one job with every type. Prints a table; the target
is 2,000 resources/s for the whole export (DESIGN.md §6: measured here, not by tests).
Times include reading, mapping, writing the ndjson files and the audit rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGET = 2000


def _copy(template: Any, **changes: Any) -> Any:
    """A new unsaved row like ``template`` (fresh pk and public id) with ``changes``."""
    model = type(template)
    values = {
        f.attname: getattr(template, f.attname)
        for f in model._meta.concrete_fields
        if f.attname not in ("id", "public_id")
    }
    values.update(changes)
    return model(**values)


def build(patients: int, sessions: int, scores: int) -> Any:
    from decimal import Decimal

    from django.db import transaction

    from openiop.attendance.models import AttendanceRecord
    from openiop.enrollment.models import Episode
    from openiop.enrollment.services import episode_create
    from openiop.fhir.services import fhir_client_create
    from openiop.organizations.models import Organization, Program, Site
    from openiop.patients.models import Patient
    from openiop.patients.services import patient_create
    from openiop.questionnaires import services as q_services
    from openiop.questionnaires.instruments import registry
    from openiop.questionnaires.models import QuestionnaireResponse
    from openiop.scheduling.services import session_create

    tag = uuid.uuid4().hex[:8]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with transaction.atomic():
        org = Organization.objects.create(name=f"FHIR bench {tag}", slug=f"fhir-bench-{tag}")
        site = Site.objects.create(organization=org, name="Main", timezone="America/New_York")
        program = Program.objects.create(
            organization=org, site=site, name="Adult IOP", cohort=Program.Cohort.EVENING,
            weekly_min_hours=Decimal("9.0"), weekly_max_hours=Decimal("19.0"),
            min_days_per_week=3, group_size_cap=patients + 10,
        )  # fmt: skip
        first = patient_create(
            actor=None, organization=org, first_name="Pat0", last_name="Bench",
            date_of_birth=dt.date(1980, 1, 1),
        )  # fmt: skip
        episode = episode_create(
            actor=None, patient=first, program=program, admitted_on=now.date() - dt.timedelta(60)
        )
        phq9 = [item.link_id for item in registry.get("phq9").items]
        response = q_services.response_record(
            actor=None, patient=first, episode=episode, instrument="phq9",
            answers={k: "1" for k in phq9}, administered_at=now - dt.timedelta(days=30),
        )  # fmt: skip
        Patient.objects.bulk_create(
            _copy(first, first_name=f"Pat{i}", mrn=f"B{tag}{i:06d}",
                  date_of_birth=dt.date(1960, 1, 1) + dt.timedelta(days=11 * i))
            for i in range(1, patients)
        )  # fmt: skip
        people = list(Patient.objects.for_org(org).order_by("pk"))
        Episode.objects.bulk_create(_copy(episode, patient_id=p.pk) for p in people[1:])
        episodes = {e.patient_id: e for e in Episode.objects.for_org(org)}
        slots = [
            session_create(
                actor=None,
                program=program,
                title=f"Group {s}",
                starts_at=now - dt.timedelta(days=s + 1, hours=3),
                ends_at=now - dt.timedelta(days=s + 1),
                capacity=patients + 10,
            )  # fmt: skip
            for s in range(sessions)
        ]
        for session in slots:
            AttendanceRecord.objects.bulk_create(
                AttendanceRecord(
                    organization=org,
                    session=session,
                    patient=p,
                    episode=episodes[p.pk],
                    status=AttendanceRecord.Status.PRESENT,
                    minutes_attended=180,
                    checked_in_at=session.starts_at,
                    recorded_at=session.ends_at,
                )  # fmt: skip
                for p in people
            )
        QuestionnaireResponse.objects.bulk_create(
            _copy(response, patient_id=p.pk, episode_id=episodes[p.pk].pk,
                  administered_at=now - dt.timedelta(days=7 * k + 1))
            for p in people for k in range(scores)
            if not (p.pk == first.pk and k == 0)
        )  # fmt: skip
        client, _ = fhir_client_create(
            actor=None, organization=org, name="Bench warehouse", kind="system",
            scopes="system/*.rs", is_external=False,
        )  # fmt: skip
    return client, program


def export(client: Any, program: Any, types: list[str]) -> tuple[float, dict[str, int]]:
    from openiop.fhir import bulk
    from openiop.fhir.models import BulkExport

    job = BulkExport.objects.create(
        organization_id=client.organization_id, client=client, group_program=program,
        request_url=f"http://bench/fhir/r4/Group/{program.public_id}/$export", types=types,
    )  # fmt: skip
    started = time.perf_counter()
    done = bulk.export_run(str(job.public_id))
    seconds = time.perf_counter() - started
    if done.status != "done":
        raise SystemExit(f"export {done.public_id} {done.status}: {done.error}")
    return seconds, {o["type"]: o["count"] for o in done.output}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=10, help="sessions each patient attended")
    parser.add_argument("--scores", type=int, default=2, help="PHQ-9 responses per patient")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="openiop-fhir-bench-"))
    if not os.environ.get("DATABASE_URL"):
        sys.path.insert(0, str(REPO / "bench"))
        from crash import migrated_sqlite

        print("migrating a fresh SQLite database (cached after the first run) ...", file=sys.stderr)
        migrated_sqlite(work / "bench.sqlite3")
        os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["OPENIOP_FHIR_EXPORT_DIR"] = str(work / "exports")
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    import django

    django.setup()
    from openiop.fhir import bulk

    print(f"building {args.patients} patients ...", file=sys.stderr)
    t0 = time.perf_counter()
    client, program = build(args.patients, args.sessions, args.scores)
    print(f"built in {time.perf_counter() - t0:.1f} s; exporting ...", file=sys.stderr)

    rows = []
    for resource_type in bulk.exportable_types():
        seconds, counts = export(client, program, [resource_type])
        n = counts.get(resource_type, 0)
        if n:
            rows.append((resource_type, n, seconds))
    seconds, counts = export(client, program, list(bulk.exportable_types()))
    total = sum(counts.values())

    print(f"\nFHIR $export, Group of {args.patients} patients ({os.environ['DATABASE_URL'][:30]})")
    print(f"{'type':<24}{'resources':>11}{'seconds':>10}{'resources/s':>14}")
    for resource_type, n, secs in rows:
        print(f"{resource_type:<24}{n:>11}{secs:>10.2f}{n / secs:>14.0f}")
    rate = total / seconds
    print(f"{'all types, one job':<24}{total:>11}{seconds:>10.2f}{rate:>14.0f}")
    verdict = "MET" if rate >= TARGET else "NOT MET"
    print(f"\n{verdict}: >= {TARGET} resources/s for the whole export ({rate:.0f})")
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
