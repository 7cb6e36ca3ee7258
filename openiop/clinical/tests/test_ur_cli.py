import datetime as dt
import io
import uuid

import pytest
import time_machine
from django.core.management import call_command

from conftest import NY
from openiop.clinical.services.ur import ur_create
from openiop.clinical.tests.ur_fixtures import full_record
from openiop.core.models import AuditEvent


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=NY), tick=False):
        yield


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("clinical", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_writes_the_packet_with_the_latest_summary_and_audits_it(tmp_path, counselor, episode):
    full_record(episode, counselor)
    ur_create(
        actor=counselor,
        episode=episode,
        period_start=dt.date(2026, 11, 9),
        period_end=dt.date(2026, 11, 22),
        clinician_summary="CLI summary text",
    )
    target = tmp_path / "packet.html"
    code, out, _ = run("ur-packet", "--episode", str(episode.public_id), "--out", str(target))
    assert code == 0 and "2026-11-09 to 2026-11-22" in out
    html = target.read_text()
    assert "CLI summary text" in html and "42 CFR part 2 prohibits" in html
    assert "Nov 9, 2026 – Nov 22, 2026" in html and 'class="toolbar"' not in html
    assert "SECRET-SUD-COUNSELING-TEXT" not in html
    event = AuditEvent.objects.get(action="openiop.clinical.ur_packet.export")
    assert event.actor is None and event.detail["via"] == "cli"
    assert event.patient_id == str(episode.patient.public_id)


def test_explicit_dates(tmp_path, episode):
    target = tmp_path / "p.html"
    code, _, _ = run(
        "ur-packet",
        "--episode",
        str(episode.public_id),
        "--out",
        str(target),
        "--start",
        "2026-11-02",
        "--end",
        "2026-11-08",
    )
    assert code == 0
    assert "Nov 2, 2026 – Nov 8, 2026" in target.read_text()
    assert "No clinician summary recorded" in target.read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--start", "2026-13-01", "--end", "2026-11-08"], "is not a date"),
        (["--start", "2026-11-08", "--end", "2026-11-02"], "must not be before"),
    ],
)
def test_bad_dates_exit_2(tmp_path, episode, extra, message):
    target = tmp_path / "p.html"
    code, _, err = run(
        "ur-packet", "--episode", str(episode.public_id), "--out", str(target), *extra
    )
    assert code == 2 and message in err and not target.exists()


def test_unknown_episode_exits_2(tmp_path, db):
    code, _, err = run(
        "ur-packet", "--episode", str(uuid.uuid4()), "--out", str(tmp_path / "p.html")
    )
    assert code == 2 and "no episode" in err
    code, _, err = run("ur-packet", "--episode", "nope", "--out", str(tmp_path / "p.html"))
    assert code == 2 and "is not an episode id" in err


def test_unwritable_folder_exits_2(tmp_path, episode):
    code, _, err = run(
        "ur-packet",
        "--episode",
        str(episode.public_id),
        "--out",
        str(tmp_path / "missing" / "p.html"),
    )
    assert code == 2 and "does not exist" in err
