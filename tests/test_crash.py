"""Crash safety, every backend: `awards import` and `awards advance` killed (SIGKILL) at 20
random points each run; after every kill the database is consistent and resumable.

The harness is bench/crash.py (see its docstring for each check); here it runs small.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from support import ROOT

KILLS = 20
POSTGRES = os.environ.get("AWARDS_TEST_POSTGRES_URL")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_killed_import_or_advance_leaves_a_consistent_resumable_database(backend):
    if backend == "postgresql" and not POSTGRES:
        pytest.skip("AWARDS_TEST_POSTGRES_URL is not set")
    harness = [sys.executable, str(ROOT / "bench" / "crash.py"), "--backend", backend]

    proc = subprocess.run(
        [*harness, "--kills", str(KILLS), "--nominees", "1000", "--seed", "2562", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    kills = report["kills"]
    assert [(k["trial"], k["problems"]) for k in kills if k["problems"]] == []
    assert (len(kills), report["failed"]) == (KILLS, 0)
    assert all(k["drift"] == 0 and k["resumed"] for k in kills)
    assert [k["op"] for k in kills] == ["import", "advance"] * (KILLS // 2)
    # The delays are drawn over each command's reference duration: some kill it mid-way.
    assert {k["op"] for k in kills if k["killed_in"] != "finished"} == {"import", "advance"}
