"""Issuing certificates: `awards render`. Which awarded nominations need a PDF, with what
serial and code; rendering them (awards.render); recording every file.

Every rendered file is recorded (table `certificate`) with the SHA-256 of its bytes, in the
same transaction as its `certificate_rendered` event; the files are renamed into place just
before that transaction commits, and put back if it fails. A run commits batch by batch, so
an interrupted run keeps what it finished and the next run renders the rest.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, inspect, or_, select

from awards import db
from awards.certify import find_decision, recipient, serial, verification_code
from awards.config import Workflow
from awards.cycles import load_cycle
from awards.errors import AwardsError, ConflictError, NotFound
from awards.eventlog import now
from awards.models import Certificate, Event, Nomination
from awards.moves import nomination_code
from awards.render import (
    BATCH,
    Batch,
    Occasion,
    Rendered,
    Sheet,
    Templates,
    default_workers,
    pack,
    run_batches,
)
from awards.states import State, Trigger
from awards.templating import html

# --- What to render --------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One awarded nomination and the sheet it prints."""

    sheet: Sheet
    template: str
    nomination_id: int
    award: str
    nominee: str
    award_seq: int  # the event that awarded it
    current: bool  # a recorded rendering is already in the output folder


@dataclass
class Plan:
    workflow: Workflow
    occasion: Occasion
    templates: Templates
    hashes: dict[str, str]  # template -> SHA-256
    items: list[Item]


def occasion_of(workflow: Workflow) -> Occasion:
    c = workflow.ceremony
    if c is None:
        raise AwardsError(
            f"cycle {workflow.cycle_id} has no [ceremony] in its workflow, and certificates "
            "need its date and signatory; a cycle's rules cannot change once opened, so "
            "open the next cycle with a [ceremony] table"
        )
    return Occasion(
        workflow.cycle_id, workflow.title_th, workflow.title_en, workflow.year,
        workflow.year_be, c.date, c.signatory_th, c.position_th, c.place_th, c.signatory_en,
        c.position_en, c.digits,
    )  # fmt: skip


def plan(
    conn: Connection,
    workflow: Workflow,
    *,
    award: str | None = None,
    nominee: str | None = None,
    out: Path | None = None,
    pdfa: bool = False,
) -> Plan:
    """Every awarded nomination (of one award, or one nominee) with its sheet: the serial it
    has, or the lowest free one in rank order, and the code its award event gives it."""
    occasion = occasion_of(workflow)
    templates = Templates.for_cycle(workflow.templates_folder())
    awards = [workflow.award(award)] if award else list(workflow.awards)
    hashes = {a.template: templates.sha256(a.template) for a in awards}
    prefix = workflow.ceremony.serial_prefix  # type: ignore[union-attr]
    query: Any = select(Nomination, Event.hash.label("award_hash"), Event.body.label("award_body"))  # type: ignore[attr-defined]
    query = query.join(Event, Event.seq == Nomination.seq)  # type: ignore[arg-type]
    query = query.where(Nomination.cycle == workflow.cycle_id, Nomination.state == State.AWARDED)
    if award:
        query = query.where(Nomination.award == award)
    if nominee:
        query = query.where(Nomination.nominee_id == nominee)
    by_award: dict[str, list[tuple[Any, str]]] = {a.id: [] for a in awards}
    for nom in conn.execute(query):
        digest = nom.award_hash
        if orjson.loads(nom.award_body).get("trigger") != Trigger.AWARD:  # moved since?
            found = find_decision(conn, nom, Trigger.AWARD)
            if found is None:
                code = nomination_code(nom.award, nom.nominee_id)
                raise AwardsError(f"nomination {code} is awarded but the log has no award event")
            digest = found.hash
        by_award[nom.award].append((nom, digest))
    recorded = _recorded(conn, workflow.cycle_id)
    items = []
    for a in awards:
        rows = sorted(
            by_award[a.id], key=lambda r: (r[0].rank is None, r[0].rank or 0, r[0].nominee_id)
        )
        used = recorded.numbers.get(a.id, set())
        free = (n for n in range(1, len(used) + len(rows) + 2) if n not in used)
        for nom, digest in rows:
            latest = recorded.latest.get(nom.id)
            number = next(free) if latest is None else None
            th, en = recipient(a, nom.name_th, nom.name_en)
            sheet = Sheet(
                latest.serial if latest else serial(prefix, workflow.year_be, a.code, number or 0),
                verification_code(digest), nomination_code(a.id, nom.nominee_id), th, en,
                a.id, a.title_th, a.title_en, a.reason_th, a.reason_en,
            )  # fmt: skip
            current = (
                latest is not None
                and out is not None
                and latest.template_sha256 == hashes[a.template]
                and bool(latest.pdfa) == pdfa
                and _has_size(out / sheet.file, latest.size)
            )
            items.append(Item(sheet, a.template, nom.id, a.id, nom.nominee_id, nom.seq, current))
    return Plan(workflow, occasion, templates, hashes, items)


@dataclass
class _Recorded:
    latest: dict[int, Any] = field(default_factory=dict)  # nomination id -> latest rendering
    numbers: dict[str, set[int]] = field(default_factory=dict)  # award -> serial numbers given


def _recorded(conn: Connection, cycle_id: str) -> _Recorded:
    """The latest rendering of each nomination, and the serial numbers each award has given."""
    found = _Recorded()
    if not inspect(conn).has_table("certificate"):
        return found
    rows = conn.execute(
        select(Certificate).where(Certificate.cycle == cycle_id).order_by(Certificate.id)  # type: ignore[arg-type]
    )
    for row in rows:
        found.latest[row.nomination_id] = row
        found.numbers.setdefault(row.award, set()).add(int(row.serial.rsplit("-", 1)[1]))
    return found


def _has_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False


def certificate_html(nomination: str, *, url: str | None = None, cycle: str | None = None) -> str:
    """The HTML that `awards render` would turn into this nomination's PDF (one page)."""
    award_id, _, nominee = nomination.partition(":")
    engine = db.open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
        p = plan(conn, workflow, award=award_id, nominee=nominee)
    if not p.items:
        raise NotFound(f"nomination {nomination} is not awarded in cycle {workflow.cycle_id}")
    item = p.items[0]
    return html(p.templates, item.template, p.occasion, [item.sheet])


# --- Rendering -------------------------------------------------------------------------


@dataclass
class RenderResult:
    cycle: str
    out: Path
    pdfa: bool
    rendered: dict[str, int] = field(default_factory=dict)  # award -> files written
    current: int = 0  # awarded nominations whose PDF was already there

    @property
    def total(self) -> int:
        return sum(self.rendered.values())


def render(
    *,
    url: str | None = None,
    cycle: str | None = None,
    award: str | None = None,
    out: str | Path = "certificates",
    pdfa: bool = False,
    actor: str,
    workers: int | None = None,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RenderResult:
    """Render every awarded nomination that has no current PDF in `out`.

    Current means: its latest recorded rendering used the same template files and PDF
    variant, and that file is in `out` at its recorded size. `progress(done, total)` is
    called after each recorded batch.
    """
    engine = db.open_engine(url)
    # A database opened before certificates existed lacks the table; creating it is harmless.
    Certificate.__table__.create(engine, checkfirst=True)  # type: ignore[attr-defined]
    folder = Path(out)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
        p = plan(conn, workflow, award=award, out=folder, pdfa=pdfa)
    awarded = dict.fromkeys(i.award for i in p.items)
    result = RenderResult(workflow.cycle_id, folder, pdfa, dict.fromkeys(awarded, 0))
    pending = [i for i in p.items if not i.current]
    result.current = len(p.items) - len(pending)
    if not pending:
        return result
    folder.mkdir(parents=True, exist_ok=True)
    workers = workers or default_workers(len(pending))
    run = secrets.token_hex(6)
    by_serial = {i.sheet.serial: i for i in pending}
    by_award: dict[str, list[Item]] = {}
    for item in pending:
        by_award.setdefault(item.award, []).append(item)
    for mine in by_award.values():  # a broken template stops the run before anything is written
        html(p.templates, mine[0].template, p.occasion, [mine[0].sheet])
    groups = [(mine[0].template, [i.sheet for i in mine]) for mine in by_award.values()]
    jobs = [
        Batch(p.templates, parts, p.occasion, folder, run, pdfa)
        for parts in pack(groups, batch_size or BATCH, workers)
    ]
    done_count = 0

    def done(batch: Batch, files: list[Rendered]) -> None:
        nonlocal done_count
        items = [by_serial[f.sheet.serial] for f in files]
        _record(engine, workflow.cycle_id, batch, files, items, p.hashes, actor)
        for i in items:
            result.rendered[i.award] += 1
        done_count += len(files)
        if progress:
            progress(done_count, len(pending))

    run_batches(jobs, workers=workers, done=done)
    return result


_CERTIFICATE_COLUMNS = (
    "cycle", "award", "nominee_id", "nomination_id", "serial", "code", "template",
    "template_sha256", "pdf_sha256", "size", "pdfa", "rendered_at", "actor", "seq",
)  # fmt: skip


def _record(
    engine: Engine,
    cycle_id: str,
    batch: Batch,
    files: Sequence[Rendered],
    items: Sequence[Item],
    hashes: dict[str, str],
    actor: str,
) -> None:
    """Put a batch's files in place and record them with their events, all or nothing."""
    at = now()
    events = [
        {
            "kind": "certificate_rendered",
            "cycle": cycle_id,
            "award": i.award,
            "nominee": i.nominee,
            "nomination": i.sheet.nomination,
            "serial": i.sheet.serial,
            "code": i.sheet.code,
            "award_seq": i.award_seq,
            "template": i.template,
            "template_sha256": hashes[i.template],
            "pdf_sha256": f.sha256,
            "file": i.sheet.file,
            "pdfa": batch.pdfa,
            "actor": actor,
            "at": at,
        }
        for f, i in zip(files, items, strict=True)
    ]
    with _placed(files, batch.out), db.write(engine) as conn:
        _check_unchanged(conn, cycle_id, items)
        appended = db.append(conn, events)
        db.insert_rows(
            conn,
            "certificate",
            _CERTIFICATE_COLUMNS,
            (
                (cycle_id, i.award, i.nominee, i.nomination_id, i.sheet.serial, i.sheet.code,
                 i.template, hashes[i.template], f.sha256, f.size, batch.pdfa, at, actor,
                 appended.seq(n))
                for n, (f, i) in enumerate(zip(files, items, strict=True))
            ),
        )  # fmt: skip


@contextmanager
def _placed(files: Sequence[Rendered], out: Path) -> Iterator[None]:
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


def _check_unchanged(conn: Connection, cycle_id: str, items: Sequence[Item]) -> None:
    """Inside the write: each nomination is still awarded by the same event, and no other
    render running at the same time gave its serial to someone else."""
    ids = [i.nomination_id for i in items]
    states = {
        nid: (state, seq)
        for nid, state, seq in conn.execute(
            select(Nomination.id, Nomination.state, Nomination.seq).where(  # type: ignore[call-overload]
                Nomination.id.in_(ids)  # type: ignore[union-attr]
            )
        )
    }
    changed = [
        i.sheet.nomination
        for i in items
        if states.get(i.nomination_id) != (State.AWARDED, i.award_seq)
    ]
    if changed:
        raise ConflictError(
            f"{', '.join(changed[:3])}{' ...' if len(changed) > 3 else ''} changed state while "
            "rendering; these certificates were not recorded. Run `awards render` again"
        )
    mine = {i.sheet.serial: i.nomination_id for i in items}
    taken = conn.execute(
        select(Certificate.serial, Certificate.nomination_id).where(  # type: ignore[call-overload]
            Certificate.cycle == cycle_id,
            or_(Certificate.serial.in_(list(mine)), Certificate.nomination_id.in_(ids)),  # type: ignore[attr-defined]
        )
    )
    for taken_serial, nid in taken:
        if mine.get(taken_serial) != nid:
            raise ConflictError(
                f"serial {taken_serial} was given by another `awards render` running at the "
                "same time; these certificates were not recorded. Run `awards render` again"
            )
