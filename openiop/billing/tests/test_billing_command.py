"""``openiop billing export``: writes a pyx12-valid file, or exits 2 with a clear message and
writes nothing."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command

from openiop.billing.models import ClaimStatus, Coverage, ExportBatch
from openiop.billing.services_claims import claim_mark_ready, claims_build
from openiop.billing.tests.claims_fixtures import FROZEN
from openiop.billing.x12.pyx12_check import pyx12_errors
from openiop.core.models import AuditEvent


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(FROZEN, tick=False):
        yield


@pytest.fixture
def ready(org, billing, clinic):
    [claim] = claims_build(
        actor=billing, organization=org, start=dt.date(2026, 11, 2), end=dt.date(2026, 11, 15)
    ).created
    return claim_mark_ready(actor=billing, claim=claim)


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("billing", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def export_args(path, fmt="837p", start="2026-11-02", end="2026-11-15", *more):  # noqa: ANN001, ANN002, ANN201
    return ("export", "--format", fmt, "--from", start, "--to", end, "--out", str(path), *more)


def test_export_writes_a_pyx12_valid_837p_and_submits_the_claims(ready, tmp_path):
    out = tmp_path / "week.x12"
    code, stdout, _ = run(*export_args(out))
    assert code == 0
    text = out.read_text()
    assert pyx12_errors(text) == []
    batch = ExportBatch.objects.get()
    assert batch.content == text and batch.sha256 in stdout and "interchange 000000001" in stdout
    ready.refresh_from_db()
    assert ready.status == ClaimStatus.SUBMITTED and batch.exported_by is None
    event = AuditEvent.objects.get(action="openiop.billing.export.create")
    assert event.actor is None and event.organization_id == ready.organization_id
    assert event.detail["via"] == "cli"


def test_export_by_payer_id_and_as_csv(ready, tmp_path):
    out = tmp_path / "week.csv"
    code, _, _ = run(*export_args(out, "csv", "2026-11-02", "2026-11-15", "--payer", "BRHP1"))
    assert code == 0 and out.read_text().startswith("claim_id,")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "837x"), "use 837p, 837i or csv"),
        (("--from", "11/02/2026"), "is not a date; use YYYY-MM-DD"),
        (("--to", "2026-11-01"), "--to is before --from"),
        (("--payer", "NOPE"), "no payer 'NOPE'"),
        (("--organization", "nowhere"), "no organization 'nowhere'"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(ready, tmp_path, args, message):
    values = dict(zip(["--format", "--from", "--to"], ["837p", "2026-11-02", "2026-11-15"],
                      strict=True))  # fmt: skip
    extra: list[str] = []
    for flag, value in zip(args[::2], args[1::2], strict=True):
        if flag in values:
            values[flag] = value
        else:
            extra += [flag, value]
    out = tmp_path / "x.x12"
    flat = [item for pair in values.items() for item in pair]
    code, _, err = run("export", *flat, "--out", str(out), *extra)
    assert code == 2 and message in err and err.startswith("error: ")
    assert not out.exists() and not ExportBatch.objects.exists()


def test_missing_folder_and_problems_in_claims_exit_2(ready, clinic, tmp_path):
    code, _, err = run(*export_args(tmp_path / "no" / "such" / "file.x12"))
    assert code == 2 and "does not exist" in err
    Coverage.objects.filter(pk=clinic["coverage"].pk).update(member_id="")
    out = tmp_path / "week.x12"
    code, _, err = run(*export_args(out))
    assert code == 2 and "nothing exported" in err and "has no member id" in err
    assert not out.exists() and not ExportBatch.objects.exists()


def test_nothing_ready_exits_2(clinic, tmp_path):
    code, _, err = run(*export_args(tmp_path / "none.x12"))
    assert code == 2 and "No claims are ready to send" in err
