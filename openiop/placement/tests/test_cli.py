"""``openiop placement evaluate FILE.json``: JSON in, JSON out, exit status 2 on bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from openiop.placement.tests.test_rules import ISSUE_EXAMPLE

OPENIOP = Path(sys.executable).with_name("openiop")


def run(*args: str, stdin: str = "") -> tuple[int, dict[str, object] | None, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("placement", *args, stdout=out, stderr=err, stdin=io.StringIO(stdin))
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, (json.loads(out.getvalue()) if out.getvalue() else None), err.getvalue()


def write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "assessment.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_issue_example_prints_the_recommendation(tmp_path: Path):
    code, out, err = run("evaluate", write(tmp_path, ISSUE_EXAMPLE))
    assert (code, err) == (0, "")
    assert out is not None
    assert {k: out[k] for k in ("level", "level_category", "population")} == {
        "level": "2.1", "level_category": "iop", "population": "adult",
    }  # fmt: skip
    assert out["variance_allowed"] is False
    assert out["mat_evaluation"] is True
    assert isinstance(out["reasons"], list) and out["reasons"]
    assert "not the ASAM Criteria software" in str(out["disclaimer"])


def test_dash_reads_the_assessment_from_stdin():
    code, out, _ = run("evaluate", "-", stdin=json.dumps({**ISSUE_EXAMPLE, "d1": 3}))
    assert code == 0 and out is not None
    assert out["level"] == "3.7-WM"


def test_out_of_range_rating_exits_2_naming_the_field(tmp_path: Path):
    code, out, err = run("evaluate", write(tmp_path, {**ISSUE_EXAMPLE, "d2": 5}))
    assert code == 2 and out is None
    assert err.strip() == "error: d2: must be a rating from 0 to 4, got 5"


def test_missing_and_unknown_fields_are_all_listed(tmp_path: Path):
    data = {k: v for k, v in ISSUE_EXAMPLE.items() if k != "toxic_home"} | {"d7": 1}
    code, _, err = run("evaluate", write(tmp_path, data))
    assert code == 2
    assert err.splitlines() == [
        "error: toxic_home: is required",
        "error: d7: unknown field (check the spelling; d1-d6 are the dimensions)",
    ]


def test_invalid_json_exits_2(tmp_path: Path):
    path = tmp_path / "broken.json"
    path.write_text('{"age": 34,', encoding="utf-8")
    code, _, err = run("evaluate", str(path))
    assert code == 2
    assert err.startswith(f"error: {path}: not valid JSON")


def test_duplicate_field_exits_2():
    code, _, err = run("evaluate", "-", stdin='{"d1": 1, "d1": 4}')
    assert code == 2
    assert err.strip() == "error: d1: field given more than once"


def test_missing_file_exits_2(tmp_path: Path):
    code, _, err = run("evaluate", str(tmp_path / "nope.json"))
    assert code == 2
    assert "cannot read" in err


@pytest.mark.skipif(
    not OPENIOP.exists() and not os.environ.get("CI"),
    reason="the openiop console script is not installed (make install)",
)
def test_the_openiop_command_really_exits_2_on_bad_input(tmp_path: Path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "openiop.settings"}
    good = subprocess.run(
        [str(OPENIOP), "placement", "evaluate", write(tmp_path, ISSUE_EXAMPLE)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["level"] == "2.1"
    bad = subprocess.run(
        [str(OPENIOP), "placement", "evaluate", write(tmp_path, {**ISSUE_EXAMPLE, "d1": True})],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "error: d1: must be a whole-number rating 0-4, got true" in bad.stderr
