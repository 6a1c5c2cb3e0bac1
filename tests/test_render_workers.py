"""Render workers live no longer than the run that started them, and a later run removes the
temporary files a killed run left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from awards.certificates.sheet import TEMP_PREFIX
from awards.certificates.tempfiles import lock_path, remove_stale, run_lock

CLI = [sys.executable, "-c", "from awards.cli import main; main()"]


def children(pid: int) -> list[int]:
    """The live processes whose parent is `pid`, read from /proc (zombies are dead)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # After the command name, in parentheses: the state, then the parent's pid.
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def temporary(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(f"{TEMP_PREFIX}*"))


def wait_for(condition, seconds: float = 60.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_render_killed_mid_run_leaves_no_worker_and_the_next_run_cleans_up(demo_copy: Path):
    out = demo_copy / "certificates"
    for pdf in out.glob("*.pdf"):
        pdf.unlink()  # every certificate has to be rendered again
    db = f"sqlite:///{demo_copy / 'awards.db'}"
    args = [*CLI, "--db", db, "render", "--out", str(out), "--workers", "2"]
    with subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as run:
        try:
            # Mid-run: the workers have written a batch's temporary files. Freeze the run
            # there, so that it records none of them, then kill it the way nothing can catch.
            assert wait_for(lambda: any(n.endswith(".pdf") for n in temporary(out)))
            os.kill(run.pid, signal.SIGSTOP)
            workers = children(run.pid)
            assert len(workers) >= 2
            time.sleep(1)  # the workers finish writing their batches
        finally:
            run.kill()
    assert wait_for(lambda: not any(alive(w) for w in workers), seconds=10), [
        w for w in workers if alive(w)
    ]
    left = temporary(out)
    assert any(n.endswith(".pdf") for n in left)
    assert any(n.endswith(".lock") for n in left)  # the dead run's lock, no longer held

    done = subprocess.run(
        [*CLI, "--db", db, "render", "--out", str(out)], capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.startswith("75 certificates rendered into ") or "already there" in done.stdout
    )
    assert temporary(out) == []
    assert len(list(out.glob("DGA-*.pdf"))) == 75


def test_remove_stale_keeps_a_live_runs_files_and_removes_a_dead_ones(tmp_path: Path):
    live = tmp_path / f"{TEMP_PREFIX}aaaa11-DGA-2562-PLQ-0001.pdf"
    dead = tmp_path / f"{TEMP_PREFIX}bbbb22-DGA-2562-PLQ-0002.pdf"
    dead_lock = lock_path(tmp_path, "bbbb22")
    with run_lock(tmp_path, "aaaa11"):
        live.write_bytes(b"%PDF-")
        dead.write_bytes(b"%PDF-")
        dead_lock.write_text("")  # its run ended without removing it: nobody holds it

        removed = remove_stale(tmp_path)

        assert (removed, temporary(tmp_path)) == (
            2,
            [f"{TEMP_PREFIX}aaaa11-DGA-2562-PLQ-0001.pdf", f"{TEMP_PREFIX}aaaa11.lock"],
        )
    assert temporary(tmp_path) == [f"{TEMP_PREFIX}aaaa11-DGA-2562-PLQ-0001.pdf"]


def test_remove_stale_without_a_lock_file_goes_by_age(tmp_path: Path):
    fresh = tmp_path / f"{TEMP_PREFIX}cccc33-DGA-2562-PLQ-0001.pdf"
    old = tmp_path / f"{TEMP_PREFIX}dddd44-DGA-2562-PLQ-0002.pdf"
    fresh.write_bytes(b"%PDF-")
    old.write_bytes(b"%PDF-")
    day_ago = time.time() - 24 * 3600
    os.utime(old, (day_ago, day_ago))

    assert remove_stale(tmp_path) == 1
    assert temporary(tmp_path) == [fresh.name]
