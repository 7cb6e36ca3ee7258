"""``openiop questionnaires score``: JSON out, exit status 2 naming the item on bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

OPENIOP = Path(sys.executable).with_name("openiop")


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("questionnaires", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_issue_example_prints_exactly_the_documented_json():
    code, out, err = run("score", "phq9", "--answers", "2,2,1,2,1,2,1,1,0")
    assert (code, err) == (0, "")
    assert out.strip() == (
        '{"instrument": "phq9", "total": 12, "severity": "moderate", "flags": [], '
        '"positive": null, "subscales": {}}'
    )


def test_auditc_uses_the_sex_cutoff():
    _, female, _ = run("score", "auditc", "--answers", "1,1,1", "--sex", "female")
    _, male, _ = run("score", "auditc", "--answers", "1,1,1", "--sex", "male")
    assert json.loads(female)["positive"] is True
    assert json.loads(male)["positive"] is False


def test_flags_and_subscales_are_printed():
    _, out, _ = run("score", "cssrs", "--answers", "1,1,0,1,0,0")
    assert json.loads(out) == {
        "instrument": "cssrs", "total": 3, "severity": "high", "flags": ["high_risk"],
        "positive": None, "subscales": {},
    }  # fmt: skip
    _, out, _ = run("score", "bam", "--answers", ",".join(["1"] * 19 + ["4"] + ["1"] * 3))
    assert json.loads(out)["subscales"] == {"use": 3, "risk": 6, "protective": 9}


def test_dast10_reverse_scoring_applies_from_the_command_line():
    _, out, _ = run("score", "dast10", "--answers", "0,0,0,0,0,0,0,0,0,0")
    assert json.loads(out)["total"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("phq9", "--answers", "0,0,5,0,0,0,0,0,0"),
         "error: item 3 (linkId 44259-0): 5 is not one of 0, 1, 2, 3"),
        (("phq9", "--answers", "0,0,0"),
         "error: PHQ-9 has 9 items, got 3 answers: item 4 (linkId 44254-1) is missing"),
        (("gad7", "--answers", "0,0,0,0,0,0,0,1"), "error: GAD-7 has 7 items, got 8 answers"),
        (("gad7", "--answers", "0,x,0,0,0,0,0"),
         "error: item 2 (linkId 68509-9): 'x' is not a whole number"),
        (("phq2", "--answers", "0,0"), "error: unknown instrument 'phq2'"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_naming_the_problem(args, message):
    code, out, err = run("score", *args)
    assert code == 2 and out == ""
    assert err.strip().startswith(message)


@pytest.mark.skipif(not OPENIOP.exists(), reason="console script not installed")
def test_the_openiop_console_script_runs_it():
    done = subprocess.run(
        [str(OPENIOP), "questionnaires", "score", "gad7", "--answers", "3,3,3,3,3,3,3"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["severity"] == "severe"
    bad = subprocess.run(
        [str(OPENIOP), "questionnaires", "score", "gad7", "--answers", "3,3,3,3,3,3,4"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "item 7 (linkId 69736-7): 4 is not one of 0, 1, 2, 3" in bad.stderr
