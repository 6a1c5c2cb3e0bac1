"""Several `awards render` processes on one cycle at once, on PostgreSQL: each claims its
batches with FOR UPDATE SKIP LOCKED, so every awarded nomination is rendered and recorded
exactly once, and a renderer killed in the middle of a batch leaves that batch to the next.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from awards.cli import main
from awards.commands.advance import advance
from awards.commands.logbook import verify_database
from awards.store import database as db
from awards.store.schema import open_engine

from support import open_cycle

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)

RENDER = """
import json, sys
from awards.certificates.issuing import render
r = render(url=sys.argv[1], out=sys.argv[2], actor=sys.argv[3], workers=1, batch_size=int(sys.argv[4]))
print(json.dumps({"rendered": r.total, "elsewhere": r.elsewhere}))
"""


@pytest.fixture
def cycle(db_url: str, tmp_path: Path) -> str:
    """A small 2019 cycle advanced once: provinces and copy-free agencies awarded."""
    open_cycle(db_url, tmp_path, actor="secretary")
    advance(url=db_url, actor="secretary")
    return db_url


def renderer(url: str, out: Path, actor: str, batch: int, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", RENDER, url, str(out), actor, str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | env,
    )


def scalar(url: str, sql: str, **params: object) -> int:
    with db.read(open_engine(url)) as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def awarded(url: str) -> int:
    return scalar(url, "SELECT count(*) FROM nomination WHERE state = 'awarded'")


def assert_each_rendered_once(url: str, out: Path) -> None:
    """One certificate row, one event and one file per awarded nomination; the log intact."""
    with db.read(open_engine(url)) as conn:
        nominations = conn.execute(
            text("SELECT id, award, nominee_id FROM nomination WHERE state = 'awarded'")
        ).all()
        rows = conn.execute(
            text("SELECT nomination_id, count(*) FROM certificate GROUP BY nomination_id")
        ).all()
        events = conn.execute(
            text(
                "SELECT award, nominee, count(*) FROM event "
                "WHERE kind = 'certificate_rendered' GROUP BY award, nominee"
            )
        ).all()
        serials = conn.execute(text("SELECT serial FROM certificate")).scalars().all()
        total = conn.execute(text("SELECT count(*) FROM event")).scalar_one()
    assert dict(rows) == {n.id: 1 for n in nominations}
    assert {(a, n): c for a, n, c in events} == {(n.award, n.nominee_id): 1 for n in nominations}
    assert sorted(p.name for p in out.glob("DGA-*.pdf")) == sorted(f"{s}.pdf" for s in serials)
    assert verify_database(url=url).events == total


def wait_until(
    condition: Callable[[], bool], limit: float, process: subprocess.Popen[str] | None = None
) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"the renderer ended first ({process.returncode}): {process.stderr.read()}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            pytest.fail(f"not reached in {limit} s")
        time.sleep(0.05)


def claim_held(url: str, name: str) -> bool:
    """Whether the process named `name` holds a claim: a transaction that locked rows (and
    so has a transaction id), idle while its batch renders."""
    return bool(
        scalar(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"
            " AND state = 'idle in transaction' AND backend_xid IS NOT NULL",
            name=name,
        )
    )


def test_three_renderers_render_each_certificate_once(cycle, tmp_path):
    out = tmp_path / "certificates"
    n = awarded(cycle)

    procs = [renderer(cycle, out, f"renderer {k}", 1) for k in range(3)]
    results = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=240)
        assert p.returncode == 0, stderr
        results.append(json.loads(stdout))

    assert n == 15
    assert sum(r["rendered"] for r in results) == n
    assert [r["rendered"] + r["elsewhere"] for r in results] == [n, n, n]
    assert sum(1 for r in results if r["rendered"]) >= 2  # they really shared the work
    assert_each_rendered_once(cycle, out)
    assert list(out.glob(".*")) == []


def test_renderer_killed_mid_batch_leaves_its_batch_to_the_next_run(cycle, tmp_path):
    out = tmp_path / "certificates"
    n = awarded(cycle)
    name = f"awards-victim-{uuid.uuid4().hex[:8]}"
    victim = renderer(cycle, out, "victim", 1, PGAPPNAME=name)
    try:
        # One batch recorded, the next claimed and rendering (its transaction held, idle).
        wait_until(
            lambda: (
                scalar(cycle, "SELECT count(*) FROM certificate") >= 1 and claim_held(cycle, name)
            ),
            limit=120,
            process=victim,
        )
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.communicate()
    done = scalar(cycle, "SELECT count(*) FROM certificate")
    # The server ends the dead connection and its transaction, and the claim with them.
    gone = "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"
    wait_until(lambda: scalar(cycle, gone, name=name) == 0, limit=30)

    result = CliRunner().invoke(main, ["--db", cycle, "render", "--out", str(out)])

    assert victim.returncode == -signal.SIGKILL
    assert 1 <= done < n
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{n - done} certificates rendered into {out} (")
    assert result.output.endswith(f"; {done} already there\n")
    assert_each_rendered_once(cycle, out)


def test_revocation_while_a_batch_renders_is_not_held_up(cycle, tmp_path):
    out = tmp_path / "certificates"
    n = awarded(cycle)
    with db.read(open_engine(cycle)) as conn:
        revoked = conn.execute(
            text(
                "SELECT award || ':' || nominee_id FROM nomination"
                " WHERE state = 'awarded' ORDER BY rank, award LIMIT 1"
            )
        ).scalar_one()
    name = f"awards-renderer-{uuid.uuid4().hex[:8]}"
    rendering = renderer(cycle, out, "renderer", n, PGAPPNAME=name)  # one batch: all of them
    wait_until(lambda: claim_held(cycle, name), limit=120, process=rendering)

    started = time.monotonic()
    revoke = CliRunner().invoke(
        main, ["--db", cycle, "revoke", revoked, "--reason", "survey answers found false"]
    )
    took = time.monotonic() - started
    _, stderr = rendering.communicate(timeout=240)
    again = CliRunner().invoke(main, ["--db", cycle, "render", "--out", str(out)])

    assert revoke.exit_code == 0, revoke.output
    assert took < 5
    assert rendering.returncode == 1
    assert (
        f"ConflictError: {revoked} changed state while rendering; these certificates were not "
        "recorded. Run `awards render` again"
    ) in stderr
    assert again.output.startswith(f"{n - 1} certificates rendered into {out} (")
    assert_each_rendered_once(cycle, out)
