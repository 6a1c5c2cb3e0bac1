"""Certificates and plaques to PDF files, in batches: the pool of processes that renders
them, and how finished files are put in place. What a sheet says is in
awards.certificates.sheet.

No database here: awards.issue decides what to render, gives each sheet its serial and
verification code, and records the files. Nor WeasyPrint: the batches are typeset in
awards.typeset, imported only where they are rendered (a worker, or this process for a
small job), so the process that plans and records never loads it.

Speed: WeasyPrint spends most of a one-page document subsetting its fonts, so sheets are
rendered in batches: one HTML document of N pages, one layout, one `write_pdf`, then split
into one file per sheet (awards.pdfsplit). What every sheet of an award shows is laid out
once per batch, not once per sheet (awards.typeset). Batches run in a pool of spawned
processes, each with its Jinja environment and fonts loaded once.
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from pathlib import Path

from awards.certificates.sheet import TEMP_PREFIX, Batch, Rendered, Sheet
from awards.certificates.tempfiles import run_lock

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def render_batch(batch: Batch) -> list[Rendered]:
    """Render a batch into temporary files in its output folder (removed if it fails).
    This is what a worker runs; it loads WeasyPrint on first use."""
    from awards.certificates import typeset  # WeasyPrint: only where sheets are typeset

    with _few_collections():
        return typeset.render_batch(batch)


@contextmanager
def _few_collections() -> Iterator[None]:
    """Python's cyclic garbage collector runs every 700 new objects by default, and a batch
    makes millions: collecting once per batch instead saves about a tenth of the time."""
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.collect()


def pack(
    groups: Sequence[tuple[str, Sequence[Sheet]]], size: int, workers: int = 1
) -> list[tuple[tuple[str, tuple[Sheet, ...]], ...]]:
    """The parts of each batch: groups (template, sheets of one award) cut and packed in
    order into batches of at most `size` sheets, smaller when that gives every worker some."""
    total = sum(len(sheets) for _, sheets in groups)
    size = max(1, min(size, -(-total // max(workers, 1))))
    packed: list[tuple[tuple[str, tuple[Sheet, ...]], ...]] = []
    current: list[tuple[str, tuple[Sheet, ...]]] = []
    room = size
    for template, sheets in groups:
        start = 0
        while start < len(sheets):
            part = tuple(sheets[start : start + room])
            current.append((template, part))
            start += len(part)
            room -= len(part)
            if not room:
                packed.append(tuple(current))
                current, room = [], size
    if current:
        packed.append(tuple(current))
    return packed


def default_workers(sheets: int) -> int:
    """Processes worth starting: one per core, but none for a job smaller than the cost of
    starting them (each imports WeasyPrint and loads the fonts, about a second)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 1 if sheets < 200 else max(1, cores or 1)


def _die_with_parent(parent: int) -> None:
    """A worker's first act: end when the process that started it ends, however it ends.

    A worker holds about 150 MB and is of no use to anyone once the run that hands it work
    is gone, and a parent killed with SIGKILL cannot stop its workers. On Linux the kernel
    sends this process SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG); elsewhere, and
    in case the parent died before that was set, a thread watches the parent's pid."""
    if sys.platform == "linux":
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the watching thread does the job
    if os.getppid() != parent:  # the parent is already gone
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int, every: float = 1.0) -> None:
    while True:
        time.sleep(every)
        if os.getppid() != parent:
            os._exit(1)


def run_batches(
    jobs: Iterable[Batch],
    *,
    workers: int,
    done: Callable[[Batch, list[Rendered]], None],
) -> None:
    """Render every batch and hand each result to `done` as it completes (in this process).

    Jobs are taken from `jobs` only as a worker has room for them, so a job may be made (or
    claimed) just before it runs. With one worker everything runs here; otherwise in spawned
    processes (never forked: a forked WeasyPrint or database connection is not safe), which
    die with this one. If anything fails, no further job is taken, every temporary file of
    the runs seen is removed, and the error is raised; what `done` already accepted stays.
    While it runs, each run's lock tells other runs it is alive (awards.certificates.tempfiles).
    """
    runs: set[tuple[Path, str]] = set()
    locks = ExitStack()

    def taken(job: Batch) -> Batch:
        if (job.out, job.run) not in runs:
            locks.enter_context(run_lock(job.out, job.run))
            runs.add((job.out, job.run))
        return job

    with locks:
        _run(jobs, workers, done, taken, runs)


def _run(
    jobs: Iterable[Batch],
    workers: int,
    done: Callable[[Batch, list[Rendered]], None],
    taken: Callable[[Batch], Batch],
    runs: set[tuple[Path, str]],
) -> None:
    try:
        if workers <= 1:
            for job in jobs:
                done(job, render_batch(taken(job)))
            return
        source = iter(jobs)
        context = multiprocessing.get_context("spawn")
        # No max_tasks_per_child: a pool that replaces its workers can hang (python/cpython#115634).
        # Memory stays bounded without it: each batch ends with a full garbage collection.
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            # No more jobs than workers: a job is claimed only when a worker is free for it,
            # which leaves the rest to other runs sharing the cycle.
            first = itertools.islice(source, workers)
            running = {pool.submit(render_batch, taken(job)): job for job in first}
            try:
                while running:
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        done(running.pop(future), future.result())
                        for job in itertools.islice(source, 1):
                            running[pool.submit(render_batch, taken(job))] = job
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    except BaseException:
        for folder, run in runs:
            for temp in folder.glob(f"{TEMP_PREFIX}{run}-*"):
                temp.unlink(missing_ok=True)
        raise


@contextmanager
def placed(files: Sequence[Rendered], out: Path) -> Iterator[None]:
    """Rename the files to their final names; if the block fails, put back what was there."""
    moves: list[tuple[Path, Path, Path | None]] = []  # (final, temp, backup of the old file)
    try:
        for f in files:
            final = out / f.sheet.file
            backup = None
            if final.exists():
                backup = f.temp.with_name(f.temp.name + ".old")
                os.replace(final, backup)
            moves.append((final, f.temp, backup))
            os.replace(f.temp, final)
        yield
    except BaseException:
        for final, temp, backup in reversed(moves):
            if final.exists():
                os.replace(final, temp)
            if backup is not None:
                os.replace(backup, final)
        raise
    for _, _, backup in moves:
        if backup is not None:
            backup.unlink(missing_ok=True)
