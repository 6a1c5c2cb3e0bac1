"""A render run's temporary files (`.awards-render-<run>-…`, hidden in the output folder
until recorded): the lock that says the run is alive, and removing what dead runs left.

A run that ends in an error removes its own temporary files (awards.certificates.batches);
one that is killed cannot. So each run holds an exclusive lock on
`.awards-render-<run>.lock` in the folder for as long as it may leave files there; the
kernel drops the lock with the process however it ends. A later run that can take a run's
lock knows that run is gone and removes its files. Files with no lock file (written where
locks are not supported) are removed once older than any live run could keep them.
"""

from __future__ import annotations

import errno
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from awards.certificates.sheet import TEMP_PREFIX

try:
    import fcntl
except ImportError:  # not POSIX: only the age rule applies
    fcntl = None  # type: ignore[assignment]

# A live run keeps a temporary file from its batch's end until the batch is recorded, which
# may wait for the database's writer lock: SQLite waits up to an hour
# (awards.store.database.LOCK_WAIT_SECONDS). Twice that is past any live run.
STALE_SECONDS = 2 * 3600
_RUN = re.compile(re.escape(TEMP_PREFIX) + r"([0-9a-f]+)[-.]")


def lock_path(folder: Path, run: str) -> Path:
    return folder / f"{TEMP_PREFIX}{run}.lock"


@contextmanager
def run_lock(folder: Path, run: str) -> Iterator[None]:
    """Hold run `run`'s lock in `folder` for the block (the folder is made if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    final = lock_path(folder, run)
    making = final.with_name(final.name + ".new")
    with making.open("w") as f:
        try:
            # A new file: nobody else holds it. Where locks are unsupported, other runs
            # judge this run's files by their age.
            with suppress(OSError):
                _lock(f, blocking=True)
            # Only a locked file gets the name other runs look for, so none of them can
            # take a live run's lock between its creation and its locking.
            os.replace(making, final)
            yield
        finally:
            final.unlink(missing_ok=True)
            making.unlink(missing_ok=True)


def remove_stale(folder: Path, *, older_than: float = STALE_SECONDS) -> int:
    """Remove the temporary files of runs that are gone; returns how many were removed."""
    if not folder.is_dir():
        return 0
    runs: dict[str, list[Path]] = {}
    for path in folder.glob(f"{TEMP_PREFIX}*"):
        if match := _RUN.match(path.name):
            runs.setdefault(match.group(1), []).append(path)
    removed = 0
    for run, files in runs.items():
        with _if_gone(folder, run, files, older_than) as gone:
            if gone:
                for path in files:
                    path.unlink(missing_ok=True)
                removed += len(files)
    return removed


@contextmanager
def _if_gone(folder: Path, run: str, files: list[Path], older_than: float) -> Iterator[bool]:
    """Whether run `run` is gone; if it is, its lock is held for the block."""
    try:
        # Never created here: taking a lock file made a moment ago would say nothing.
        fd = os.open(lock_path(folder, run), os.O_RDWR)
    except FileNotFoundError:  # no lock file: judged by age alone
        yield all(_age(p) > older_than for p in files)
        return
    with open(fd, "r+b") as f:
        try:
            taken = _lock(f, blocking=False)
        except OSError:  # locks unsupported here (some network file systems)
            taken = None
        if taken is None:
            yield all(_age(p) > older_than for p in files)
        else:
            yield taken


def _lock(f: IO[Any], *, blocking: bool) -> bool | None:
    """Take an exclusive lock on the open file: True if taken, False if another process
    holds it, None where this system has no such locks."""
    if fcntl is None:
        return None
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")  # already gone
