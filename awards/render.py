"""Certificates and plaques to PDF files, in batches: what a sheet says, where templates
are, and the pool of processes that renders them.

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

import datetime
import gc
import hashlib
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awards import __version__
from awards.config import Ceremony
from awards.errors import AwardsError
from awards.paths import templates_dir

BATCH = 250  # sheets per document: bounds a worker's memory, amortises font subsetting
TEMP_PREFIX = ".awards-render-"


class RenderError(AwardsError):
    """A template or the data given to it cannot be rendered; no file was kept."""


# --- What is printed -------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """What one certificate or plaque says. Plain data: it crosses into worker processes."""

    serial: str
    code: str
    nomination: str
    recipient_th: str
    recipient_en: str
    award_id: str
    award_th: str
    award_en: str
    reason_th: str = ""
    reason_en: str = ""

    @property
    def file(self) -> str:
        """The file name: serials are ASCII letters, digits and '-', safe on every OS."""
        return f"{self.serial}.pdf"


@dataclass(frozen=True)
class Occasion:
    """What every sheet of a cycle shares: the cycle's titles and its ceremony. A small
    picklable record, so that render workers receive it whole."""

    cycle_id: str
    title_th: str
    title_en: str
    year: int
    year_be: int
    ceremony: Ceremony

    def context(self) -> dict[str, Any]:
        """The template variables `cycle` and `ceremony`."""
        from pythainlp.util import thai_strftime  # Thai months and BE years; import is slow

        c = self.ceremony
        at = datetime.datetime.combine(c.date, datetime.time())
        date_th = thai_strftime(at, "%-d %B พ.ศ. %Y", thaidigit=c.digits == "thai")
        year_be = str(self.year_be)
        if c.digits == "thai":
            from awards.thai import to_thai_digits  # pythainlp again, already loaded here

            year_be = to_thai_digits(year_be)
        date_en = f"{c.date.day} {c.date:%B %Y}"
        return {
            "cycle": {
                "id": self.cycle_id,
                "title_th": self.title_th,
                "title_en": self.title_en,
                "year": self.year,
                "year_be": year_be,
            },
            "ceremony": {
                "date_th": date_th,
                "date_en": date_en,
                "given_th": f"ให้ไว้ ณ วันที่ {date_th}",
                "given_en": f"Given on {date_en}",
                "place_th": c.place_th,
                "signatory_th": c.signatory_th,
                "position_th": c.position_th,
                "signatory_en": c.signatory_en,
                "position_en": c.position_en,
            },
        }


REPORT_FOLDER = "report/"  # the results report's templates: no certificate uses them


@dataclass(frozen=True)
class Templates:
    """Where templates (and the files they link to) are looked up: the cycle's own folder
    first, then the shipped one. A file in the cycle's folder replaces the shipped file of
    the same name; files whose name starts with '_', and non-HTML files, are shared."""

    folders: tuple[Path, ...]

    @classmethod
    def for_cycle(cls, own: Path | None = None) -> Templates:
        if own is not None and not own.is_dir():
            raise RenderError(
                f"no templates folder {own} (the workflow's [ceremony] templates); "
                "run from the folder the cycle was opened from, or fix the workflow"
            )
        shipped = templates_dir().resolve()
        return cls((own.resolve(), shipped) if own is not None else (shipped,))

    def files(self) -> dict[str, Path]:
        """Every file by its relative path, the cycle's own taking precedence."""
        found: dict[str, Path] = {}
        for folder in self.folders:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    found.setdefault(path.relative_to(folder).as_posix(), path)
        return found

    def sha256(self, name: str) -> str:
        """The SHA-256 of what makes template `name`: its HTML and every shared file (the
        other templates' own HTML files excluded), so editing one changes only its hash."""
        files = self.files()
        if f"{name}.html" not in files:
            raise RenderError(f"no template '{name}' in {self._where()}")
        digest = hashlib.sha256()
        for rel, path in sorted(files.items()):
            own_html = rel.endswith(".html") and "/" not in rel and not rel.startswith("_")
            if (own_html and rel != f"{name}.html") or rel.startswith(REPORT_FOLDER):
                continue
            digest.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()

    def _where(self) -> str:
        return " or ".join(str(f) for f in self.folders)


def metadata(s: Sheet, occasion: Occasion) -> dict[str, str]:
    """The PDF document information of one sheet: `awards verify FILE` reads the serial back."""
    return {
        "/Title": f"{s.award_th}: {s.recipient_th}",
        "/Subject": f"{occasion.title_th} {s.serial}",
        "/Keywords": f"serial {s.serial}, verification code {s.code}",
        "/Creator": f"awards {__version__}",
        "/AwardsSerial": s.serial,
        "/AwardsCode": s.code,
    }


# --- Batches ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """Sheets rendered as one document, then one file each. A part is the sheets of one
    award with its template; a batch may hold several parts, so that many small awards
    share one document (and one font subsetting, the costly step) instead of one each."""

    templates: Templates
    parts: tuple[tuple[str, tuple[Sheet, ...]], ...]  # (template, sheets of one award)
    occasion: Occasion
    out: Path
    run: str  # names this run's temporary files, so a failure can remove them all
    pdfa: bool = False
    layered: bool = True

    @property
    def sheets(self) -> tuple[Sheet, ...]:
        return tuple(s for _, sheets in self.parts for s in sheets)


@dataclass(frozen=True)
class Rendered:
    """One finished file, still under its temporary name until it is recorded."""

    sheet: Sheet
    temp: Path
    sha256: str
    size: int


def temp_path(out: Path, run: str, serial: str) -> Path:
    return out / f"{TEMP_PREFIX}{run}-{serial}.pdf"


def render_batch(batch: Batch) -> list[Rendered]:
    """Render a batch into temporary files in its output folder (removed if it fails).
    This is what a worker runs; it loads WeasyPrint on first use."""
    from awards import typeset  # WeasyPrint: only where sheets are typeset

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
