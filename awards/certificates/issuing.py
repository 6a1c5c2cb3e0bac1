"""Issuing certificates: `awards render`. The awarded nominations that need a PDF (their
sheets: awards.certify.plan); rendering them (awards.render); recording every file.

Every rendered file is recorded (table `certificate`) with the SHA-256 of its bytes, in the
same transaction as its `certificate_rendered` event and a checkpoint of the log that pins
them (signed with the committee key when one is given): what `awards verify` trusts is that
logged, checkpointed event. The files are renamed into place just before that transaction
commits, and put back if it fails. A run commits batch by batch, so an interrupted run keeps
what it finished and the next run renders the rest.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select
from sqlmodel import col

from awards.certificates.batches import default_workers, pack, placed, run_batches
from awards.certificates.html import html
from awards.certificates.plan import Item, Plan, plan
from awards.certificates.sheet import BATCH, Batch, Rendered
from awards.certificates.tempfiles import remove_stale
from awards.errors import ConflictError, NotFound
from awards.log import events
from awards.log.chain import now
from awards.rules.plain import Plain
from awards.rules.states import State
from awards.store import database as db
from awards.store.checkpoints import write_checkpoint
from awards.store.loading import load_cycle
from awards.store.models import Certificate, Event, Nomination
from awards.store.outputs import check_outputs, check_renderings
from awards.store.schema import open_engine

__all__ = [
    "Item", "Plan", "RenderResult", "Unrendered", "certificate_html", "default_folder", "plan",
    "render",
]  # fmt: skip


def certificate_html(
    nomination: str,
    *,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
) -> str:
    """The HTML that `awards render` would turn into this nomination's PDF (one page)."""
    award_id, _, nominee = nomination.partition(":")
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
        p = plan(conn, workflow, award=award_id, nominee=nominee)
    if not p.items:
        raise NotFound(f"nomination {nomination} is not awarded in cycle {workflow.cycle_id}")
    item = p.items[0]
    return html(p.templates, item.template, p.occasion, [item.sheet])


# --- Rendering -------------------------------------------------------------------------


@dataclass
class Unrendered(Plain):
    """A sheet left out because its text does not fit its template (nothing recorded)."""

    nomination: str
    serial: str
    recipient_th: str
    length: int  # characters in the recipient's Thai name
    problem: str


@dataclass
class RenderResult(Plain):
    cycle: str
    out: Path
    pdfa: bool
    rendered: dict[str, int] = field(default_factory=dict)  # award -> files written
    current: int = 0  # awarded nominations whose PDF was already there
    elsewhere: int = 0  # left to another `awards render` running at the same time
    unfit: list[Unrendered] = field(default_factory=list)  # the rest rendered without them

    @property
    def total(self) -> int:
        return sum(self.rendered.values())


def render(
    *,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
    award: str | None = None,
    out: str | Path | None = None,
    pdfa: bool = False,
    actor: str,
    key: Any = None,
    workers: int | None = None,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RenderResult:
    """Render every awarded nomination that has no current PDF in `out` (by default
    certificates/<cycle>, see `default_folder`); each batch is
    recorded with a checkpoint of the log, signed with the committee `key` when given (see
    awards.log.signing.load_key).

    Current means: its latest recorded rendering used the same template files and PDF
    variant, and that file is in `out` at its recorded size. Several runs may share a cycle
    (on PostgreSQL, from several machines): each batch is claimed before it is rendered
    (awards.db.claim), so each nomination is rendered by one of them; a nomination another
    run has, or recorded since this one planned, counts in `elsewhere`. `progress(done,
    total)` is called after each recorded batch.

    A file already in `out` under a certificate's name is replaced only if it is one of that
    nomination's recorded renderings (awards.store.outputs.check_renderings): another
    cycle's certificate or a user's file stops the run before anything is written.
    """
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
    folder = Path(out) if out is not None else default_folder(workflow.cycle_id)
    remove_stale(folder)  # what runs that were killed left behind
    with db.read(engine) as conn:
        p = plan(conn, workflow, award=award, out=folder, pdfa=pdfa)
    awarded = dict.fromkeys(i.award for i in p.items)
    result = RenderResult(workflow.cycle_id, folder, pdfa, dict.fromkeys(awarded, 0))
    pending = [i for i in p.items if not i.current]
    result.current = len(p.items) - len(pending)
    if not pending:
        return result
    check_outputs(engine, (folder / i.sheet.file for i in pending), "certificate")
    with db.read(engine) as conn:
        check_renderings(conn, _targets(folder, pending))
    folder.mkdir(parents=True, exist_ok=True)
    first: dict[str, Item] = {}
    for item in pending:  # a broken template stops the run before anything is written
        if first.setdefault(item.award, item) is item:
            html(p.templates, item.template, p.occasion, [item.sheet])
    workers = workers or default_workers(len(pending))
    size = max(1, min(batch_size or BATCH, -(-len(pending) // workers)))
    claims = _Claims(engine, p, pending, size, Batch(p.templates, (), p.occasion, folder, secrets.token_hex(6), pdfa))  # fmt: skip

    def done(batch: Batch, files: list[Rendered]) -> None:
        # A sheet whose text does not fit is reported, and the rest of its batch recorded.
        unfit = [f for f in files if f.problem]
        for f in unfit:
            s = f.sheet
            result.unfit.append(Unrendered(s.nomination, s.serial, s.recipient_th, len(s.recipient_th), f.problem))  # fmt: skip
        items = claims.record(batch, [f for f in files if not f.problem], actor, key)
        for i in items:
            result.rendered[i.award] += 1
        if progress:
            progress(result.total + len(result.unfit) + claims.elsewhere, len(pending))

    try:
        run_batches(claims, workers=workers if len(pending) > size else 1, done=done)
    finally:
        claims.release()
    result.elsewhere = len(pending) - result.total - len(result.unfit)
    return result


def default_folder(cycle_id: str) -> Path:
    """Where a cycle's certificates go unless told: certificates/<cycle id>, so that each
    cycle of a database has its own folder. Spaces, control characters and those no file
    name may hold on some system (/ \\ : * ? " < > |) become '_', leading dots go."""
    name = "".join(
        ch if ch.isprintable() and not ch.isspace() and ch not in _NOT_IN_NAMES else "_"
        for ch in cycle_id
    ).lstrip(".")
    return Path("certificates") / (name or "cycle")


_NOT_IN_NAMES = frozenset('/\\:*?"<>|')


def _targets(folder: Path, items: Sequence[Item]) -> Iterator[tuple[Path, int, str]]:
    return ((folder / i.sheet.file, i.nomination_id, i.sheet.nomination) for i in items)


class _Claims:
    """The batches of one run, claimed in the plan's order as the pool has room for them;
    each claim is held while its batch renders and ends when the batch is recorded.

    Nominations another run holds are passed over and tried once more at the end (if that
    run died, its claims died with it); one that another run recorded since this run's plan
    is let go. What is left is another run's to render, or the next run's.
    """

    def __init__(self, engine: Engine, p: Plan, pending: list[Item], size: int, like: Batch):
        self.engine, self.plan, self.size, self.like = engine, p, size, like
        self.todo = {i.nomination_id: i for i in pending}
        self.order = {n: k for k, n in enumerate(self.todo)}
        self.open: dict[int, tuple[db.Claim, list[Item]]] = {}  # id(batch) -> its claim
        self.elsewhere = 0

    def __iter__(self) -> Iterator[Batch]:
        passed: list[int] = []
        for last, queue in ((False, list(self.todo)), (True, passed)):
            while queue:
                window = queue[: 4 * self.size]
                claim = self._claim(window)
                got = [r.id for r in claim.rows]
                # Rows are claimed in id order up to the limit: those after it were not tried.
                tried = set(window if len(got) < self.size else (n for n in window if n <= got[-1]))
                held = [n for n in window if n in tried.difference(got)]
                if last:
                    self.elsewhere += len(held)
                else:
                    passed.extend(held)
                queue = [n for n in queue if n not in tried]
                if batch := self._batch(claim, got):
                    yield batch

    def _claim(self, ids: list[int]) -> db.Claim:
        # What is claimed is the row of the event that awarded the nomination: nothing ever
        # updates a logged event, so a claim never holds up a writer (a revocation while a
        # batch renders goes through, and the batch finds it when it is recorded).
        return db.claim(
            self.engine,
            select(Nomination.id)  # type: ignore[call-overload]
            .join(
                Event, and_(col(Event.cycle) == Nomination.cycle, col(Event.seq) == Nomination.seq)
            )
            .where(Nomination.id.in_(ids), Nomination.state == State.AWARDED)  # type: ignore[union-attr]
            .order_by(Nomination.id)
            .limit(self.size),
            of=Event,
        )

    def _batch(self, claim: db.Claim, got: list[int]) -> Batch | None:
        """The batch of what was claimed, less what another run recorded since the plan."""
        latest: dict[int, int] = dict(
            claim.conn.execute(
                select(Certificate.nomination_id, func.max(Certificate.seq))  # type: ignore[call-overload]
                .where(Certificate.nomination_id.in_(got))  # type: ignore[attr-defined]
                .group_by(Certificate.nomination_id)
            ).all()
        )
        items = [self.todo[n] for n in sorted(got, key=self.order.__getitem__)]
        items = [i for i in items if latest.get(i.nomination_id) == i.rendered_seq]
        self.elsewhere += len(got) - len(items)
        if not items:
            claim.release()
            return None
        by_award: dict[str, list[Item]] = {}
        for i in items:
            by_award.setdefault(i.award, []).append(i)
        groups = [(mine[0].template, [i.sheet for i in mine]) for mine in by_award.values()]
        batch = replace(self.like, parts=pack(groups, len(items))[0])
        self.open[id(batch)] = (claim, [i for mine in by_award.values() for i in mine])
        return batch

    def record(
        self, batch: Batch, files: Sequence[Rendered], actor: str, key: Any = None
    ) -> list[Item]:
        """Put a batch's files in place and record them with their events and a checkpoint,
        all or nothing; its claim ends with it."""
        claim, items = self.open.pop(id(batch))
        made = {f.sheet.serial for f in files}
        items = [i for i in items if i.sheet.serial in made]  # the sheets that did not fit: none
        if items:
            _record(claim, self.plan, batch, files, items, actor, key)
        else:
            claim.release()
        return items

    def release(self) -> None:
        """End every claim still open (a failed run): its nominations are free again."""
        for claim, _ in self.open.values():
            claim.release()
        self.open.clear()


_CERTIFICATE_COLUMNS = (
    "cycle", "award", "nominee_id", "nomination_id", "serial", "code", "template",
    "template_sha256", "pdf_sha256", "size", "pdfa", "rendered_at", "actor", "seq",
)  # fmt: skip


def _record(
    claim: db.Claim,
    p: Plan,
    batch: Batch,
    files: Sequence[Rendered],
    items: Sequence[Item],
    actor: str,
    key: Any = None,
) -> None:
    cycle_id, hashes, at = p.workflow.cycle_id, p.hashes, now()
    rendered = [
        events.certificate_rendered(
            cycle=cycle_id,
            award=i.award,
            nominee=i.nominee,
            serial=i.sheet.serial,
            code=i.sheet.code,
            award_seq=i.award_seq,
            template=i.template,
            template_sha256=hashes[i.template],
            pdf_sha256=f.sha256,
            size=f.size,
            file=i.sheet.file,
            pdfa=batch.pdfa,
            recipient_th=i.sheet.recipient_th,
            recipient_en=i.sheet.recipient_en,
            actor=actor,
            at=at,
        )
        for f, i in zip(files, items, strict=True)
    ]
    # Checked again as the files go in: a file may have appeared since the run began.
    check_renderings(claim.conn, _targets(batch.out, items))
    with placed(files, batch.out), claim.record() as conn:
        _check_unchanged(conn, items)
        appended = db.append(conn, rendered)
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
        # The batch's events are pinned before anything else can be appended after them.
        write_checkpoint(conn, key, cycle=cycle_id, actor=actor)


def _check_unchanged(conn: Connection, items: Sequence[Item]) -> None:
    """Inside the write: each nomination is still awarded by the same event, has no
    rendering recorded since the plan, and no other run (of any cycle) gave its new serial
    to someone else (claims make these certain on PostgreSQL; on SQLite two runs can
    overlap; the database refuses a serial another nomination holds in any case)."""
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
    since = {i.nomination_id: i.rendered_seq or 0 for i in items}
    kept = {i.sheet.serial for i in items if i.rendered_seq is not None}
    taken = conn.execute(
        select(Certificate.serial, Certificate.nomination_id, Certificate.seq).where(  # type: ignore[call-overload]
            or_(
                Certificate.serial.in_([i.sheet.serial for i in items]),  # type: ignore[attr-defined]
                Certificate.nomination_id.in_(ids),  # type: ignore[attr-defined]
            ),
        )
    )
    for taken_serial, nid, seq in taken:
        if nid in since and seq <= since[nid]:
            continue  # a rendering the plan knew of
        if nid not in since and taken_serial in kept:
            continue  # a serial recorded twice before serials named their cycle: each keeps it
        what = (
            f"{taken_serial} was rendered" if nid in since else f"serial {taken_serial} was given"
        )
        raise ConflictError(
            f"{what} by another `awards render` running at the same time; these "
            "certificates were not recorded. Run `awards render` again"
        )
