"""``openiop report outcomes`` and ``openiop report teds``: files written, bad input refused."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from openiop import cli
from openiop.core.models import AuditEvent
from openiop.reports.tests.test_outcomes import build_cohort, day, make_episode, make_patient

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 12, 31, 17, 0, tzinfo=dt.UTC)
Q1 = ["--from", "2027-01-01", "--to", "2027-03-31"]


@pytest.fixture
def cohort(org, site, program, other_org):
    return build_cohort(org, site, program, other_org)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("report", *args, stdout=out, stderr=err)
    assert exc.value.code == 2
    return err.getvalue()


def test_outcomes_html_is_a_standalone_printable_file(cohort, tmp_path: Path):
    target = tmp_path / "report.html"
    out, err = run("outcomes", "--program", "adult evening iop", *Q1, "--out", str(target),
                   "--organization", "riverbend")  # fmt: skip
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert "<style>" in html and "@media print" in html  # styles inlined: opens anywhere
    assert "/static/" not in html
    assert "Adult Evening IOP" in html and "95% CI 19%–73% · 4 of 9" in html
    assert html.count('<svg role="img"') == 4
    assert "How each number is defined" in html
    assert "wrote " in out and "10 admission(s), 9 discharge(s), 9 due" in out
    assert "outcomes: loading episodes" in err  # progress on stderr
    row = AuditEvent.objects.order_by("-id").first()
    assert row.action == "openiop.reports.outcomes.read" and row.actor_id is None
    assert row.organization_id == cohort.org.pk
    assert row.detail["via"] == "cli" and row.detail["format"] == "html"


def test_outcomes_csv_by_extension_or_format(cohort, tmp_path: Path):
    target = tmp_path / "report.csv"
    run("outcomes", "--program", str(cohort.p.public_id), *Q1, "--out", str(target),
        "--organization", "riverbend")  # fmt: skip
    rows = {(r[0], r[1]): r[2:] for r in csv.reader(io.StringIO(target.read_text()))}
    assert rows[("completion_rate", "all")][:2] == ["9", "0.4444"]
    assert rows[("admissions", "all")][:2] == ["10", "10"]
    other = tmp_path / "numbers.txt"
    run("outcomes", *Q1, "--out", str(other), "--format", "csv", "--organization", "riverbend",
        "--suppress-small-cells")  # fmt: skip
    text = other.read_text()
    assert text.startswith("metric,group,n,value,ci_low,ci_high")
    assert "program,All programs,,,," in text.splitlines()
    assert "admissions,all,11,11,," in text.splitlines()  # 11 is not a small cell
    assert "discharges,all,<11,,," in text.splitlines()


def test_all_programs_when_program_is_left_out(cohort, tmp_path: Path):
    out, _ = run("outcomes", *Q1, "--out", str(tmp_path / "r.html"), "--organization",
                 "riverbend")  # fmt: skip
    assert "All programs" in out and "11 admission(s)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2027-02-30", "--to", "2027-03-31"],
         "error: --from '2027-02-30' is not a date; use YYYY-MM-DD"),
        (["--from", "2027-01-01", "--to", "31/03/2027"],
         "error: --to '31/03/2027' is not a date; use YYYY-MM-DD"),
        (["--from", "2027-03-31", "--to", "2027-01-01"],
         "error: --to 2027-01-01 is before --from 2027-03-31"),
    ],
)  # fmt: skip
def test_bad_dates_are_refused_and_nothing_is_written(cohort, tmp_path: Path, args, message):
    target = tmp_path / "report.html"
    err = refused("outcomes", *args, "--out", str(target), "--organization", "riverbend")
    assert message in err
    assert not target.exists()


def test_other_bad_input_is_refused_with_a_clear_message(cohort, tmp_path: Path):
    html = str(tmp_path / "r.html")
    assert "choose the organization with --organization (lakeside, riverbend)" in refused(
        "outcomes", *Q1, "--out", html
    )
    assert "no organization 'nowhere'" in refused(
        "outcomes", *Q1, "--out", html, "--organization", "nowhere"
    )
    err = refused("outcomes", *Q1, "--out", html, "--organization", "riverbend",
                  "--program", "Lakeside IOP")  # fmt: skip
    assert "no program 'Lakeside IOP' in riverbend" in err and "'Adult Evening IOP'" in err
    assert "use --format html or --format csv" in refused(
        "outcomes", *Q1, "--out", str(tmp_path / "r.pdf"), "--organization", "riverbend"
    )
    assert "the folder" in refused(
        "outcomes", *Q1, "--out", str(tmp_path / "missing" / "r.html"), "--organization",
        "riverbend",
    )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_teds_writes_one_row_per_discharge(cohort, tmp_path: Path):
    target = tmp_path / "teds.csv"
    out, _ = run("teds", *Q1, "--out", str(target), "--organization", "riverbend")
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == 10 and "wrote" in out and "10 discharge(s)" in out
    assert {r["SERVICES"] for r in rows} == {"6"} and {r["SERVICES_D"] for r in rows} == {"6"}
    assert sorted(r["REASON"] for r in rows) == ["1"] * 4 + ["2"] * 3 + ["3", "4", "4"]
    row = AuditEvent.objects.order_by("-id").first()
    assert row.action == "openiop.reports.teds.export" and row.detail["via"] == "cli"
    assert len(row.detail["patients"]) == 10 and row.organization_id == cohort.org.pk


def test_teds_with_a_problem_writes_nothing(cohort, org, tmp_path: Path):
    bad = make_episode(org, make_patient(org, "Contradiction"), cohort.p, day("2027-02-01"),
                       los=10, reason=2, baseline=5, substance=1)  # fmt: skip
    target = tmp_path / "teds.csv"
    err = refused("teds", *Q1, "--out", str(target), "--organization", "riverbend")
    assert "nothing written: 1 discharge(s) cannot be coded" in err
    assert f"episode {bad.public_id}" in err and "SUB1=1 (no substance) contradicts" in err
    assert not target.exists()


def test_the_openiop_command_runs_it(cohort, tmp_path: Path, capsys):
    target = tmp_path / "teds.csv"
    cli.main(["report", "teds", *Q1, "--out", str(target), "--organization", "lakeside"])
    assert "3 discharge(s)" in capsys.readouterr().out
    assert len(target.read_text().splitlines()) == 1 + 3
    with pytest.raises(SystemExit) as exc:
        cli.main(["report", "teds", "--from", "soon", "--to", "2027-03-31", "--out",
                  str(target), "--organization", "lakeside"])  # fmt: skip
    assert exc.value.code == 2
    assert "error: --from 'soon' is not a date" in capsys.readouterr().err
