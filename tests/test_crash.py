"""The crash test at a small size: kill -9 the real server (gunicorn) while clients check
patients in, restart it, and find every acknowledged check-in, no duplicates, an intact database
and an intact audit chain. ``bench/crash.py --rounds 30`` is the full run (docs/operations.md)."""

from __future__ import annotations

import io

from bench.crash import run


def test_killing_the_server_mid_check_in_loses_nothing_acknowledged():
    table = io.StringIO()
    rounds = run(rounds=3, clients=6, patients=30, database_url="", out=table)
    assert len(rounds) == 3, table.getvalue()
    for rnd in rounds:
        assert rnd.result["lost"] == 0, table.getvalue()
        assert rnd.result["present"] == len(rnd.acked), table.getvalue()
        assert rnd.result["duplicates"] == 0, table.getvalue()
        assert rnd.result["integrity"] == "ok", table.getvalue()
        assert rnd.result["audit_ok"], table.getvalue()
        assert rnd.resend_changed == 0, table.getvalue()  # the same check-in twice: one record
    assert sum(len(r.acked) for r in rounds) > 0, table.getvalue()
    assert sum(r.resent for r in rounds) > 0, table.getvalue()
