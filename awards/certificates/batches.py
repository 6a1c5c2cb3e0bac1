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

import gc
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

from awards.certificates.sheet import TEMP_PREFIX, Batch, Rendered, Sheet


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


def run_batches(
    jobs: Iterable[Batch],
    *,
    workers: int,
    done: Callable[[Batch, list[Rendered]], None],
) -> None:
    """Render every batch and hand each result to `done` as it completes (in this process).

    Jobs are taken from `jobs` only as a worker has room for them, so a job may be made (or
    claimed) just before it runs. With one worker everything runs here; otherwise in spawned
    processes (never forked: a forked WeasyPrint or database connection is not safe). If
    anything fails, no further job is taken, every temporary file of the runs seen is
    removed, and the error is raised; what `done` already accepted stays.
    """
    runs: set[tuple[Path, str]] = set()

    def taken(job: Batch) -> Batch:
        runs.add((job.out, job.run))
        return job

    try:
        if workers <= 1:
            for job in jobs:
                done(job, render_batch(taken(job)))
            return
        source = iter(jobs)
        context = multiprocessing.get_context("spawn")
        # No max_tasks_per_child: a pool that replaces its workers can hang (python/cpython#115634).
        # Memory stays bounded without it: each batch ends with a full garbage collection.
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
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
