"""The replay's fast path for the bulk of a log: nominations and the moves of a ranking stage.

At scale nearly every event is a `nominate` or a shortlist, eliminate, award or pass-over
move, and the checking fold (awards.log.rederive) spends most of its time on the generic
machinery around them: parsing each event again after the chain check, dispatch by kind,
the evidence built as a dictionary per decision, the Merkle tree grown a leaf at a time.

So a large log is read once, in chunks, by worker processes (`scan_chunk`): each checks its
chunk's chain as `awards log verify` does, and hands back, per event, a compact tuple of
what the rules decide (`compact`) and its Merkle leaf hash. `Bulk.take` recognises a move
that is exactly what the fold expects and applies what the fold would (the state, the
counts, the stage's remaining decisions), comparing the decision's fields one by one.
Everything else, and anything that does not match, goes to the fold itself, which decides
and names the divergence: the fast path never judges an event, it only lets a correct one
through sooner. The first move of each stage also goes through the fold, which re-derives
the stage with the stage pipeline (awards.rules.stages).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import sha256
from multiprocessing.pool import AsyncResult
from typing import Any

from awards.log.chain import _Broken, _check, _chunks, _Span
from awards.log.events import Kind
from awards.log.rederive import COMPARED, Rederivation
from awards.log.trust import Checkpoints
from awards.rules.stages import STAGE_OF, CutDecision, CutInfo
from awards.rules.states import NOMINATE, REASON_REQUIRED, State, destination

# A compact event: (offset of its line, seq) for any event; a transition adds these fields,
# then the evidence's COMPARED fields.
_AWARD, _NOMINEE, _FROM, _TO, _TRIGGER, _NOMINATION, _EVIDENCE = range(2, 9)
# Rule-based moves of a ranking or review stage (withdrawals and revocations need a reason
# and are human decisions: they go the general way).
_STAGED = frozenset(t for t in STAGE_OF if t not in REASON_REQUIRED)
_RUN = 1 << 16  # events handed to the checkpoints at a time: bounds the memory held
CHUNK = 32 * 1024 * 1024  # bytes of log per worker task


def compact(event: dict[str, Any], offset: int) -> tuple[Any, ...]:
    """What the fast path reads of an event. Repeated texts are interned, so a chunk's
    tuples travel between processes as references to one copy."""
    if event["kind"] != Kind.TRANSITION:
        return (offset, event["seq"])
    intern = sys.intern
    evidence = event["evidence"]
    return (
        offset, event["seq"], intern(event["award"]), event["nominee"],
        None if event["from"] is None else intern(event["from"]), intern(event["to"]),
        intern(event["trigger"]), event["nomination"],
        *[intern(v) if type(v) is str else v for v in map(evidence.get, COMPARED)],
    )  # fmt: skip


@dataclass(frozen=True)
class Scanned:
    """One chunk: its chain (as `awards.log.chain` checks it), its events as `compact`
    tuples, and their Merkle leaf hashes, 32 bytes each, end to end."""

    span: _Span
    events: list[tuple[Any, ...]]
    leaves: bytes


def scan_chunk(task: tuple[str, int, int]) -> Scanned | tuple[int, str]:
    """Check and read the lines of `path` from byte `start` to `end`; (line in the chunk,
    what is wrong) where the chain breaks."""
    path, start, end = task
    events: list[tuple[Any, ...]] = []
    leaves = bytearray()
    at = [start]

    def lines() -> Iterator[bytes]:
        with open(path, "rb", buffering=1 << 20) as f:
            f.seek(start)
            for line in f:
                yield line
                at[0] += len(line)
                if at[0] >= end:
                    return

    def seen(body: bytes, event: dict[str, Any]) -> None:
        leaves.extend(sha256(b"\x00" + body).digest())
        events.append(compact(event, at[0]))

    try:
        span = _check(lines(), None, seen)
    except _Broken as b:
        return (b.number, b.detail)
    return Scanned(span, events, bytes(leaves))


class Stream:
    """A log's chunks scanned by worker processes and handed over in file order (`chunks`),
    so the fold starts on the first while the others are read. At most `ahead` chunks are
    scanned before the fold takes them, which bounds the memory their events hold."""

    def __init__(
        self, path: str, workers: int | None = None, chunk: int | None = None, ahead: int = 0
    ) -> None:
        size = os.path.getsize(path)
        workers = workers or min(os.cpu_count() or 1, 4)
        parts = max(workers, -(-size // (chunk or CHUNK)))
        self._tasks = iter([(path, a, b) for a, b in _chunks(path, size, parts)])
        self._pool = multiprocessing.get_context("spawn").Pool(workers)
        self._pending: deque[AsyncResult[Scanned | tuple[int, str]]] = deque()
        # One chunk a worker: the fold is the slower side, so more would only wait in this
        # process's memory (at 1M nominees, two more chunks cost 50 MB and saved no time).
        for _ in range(ahead or workers):
            self._submit()
        self.chunks = self._taken()

    def _submit(self) -> None:
        task = next(self._tasks, None)
        if task is not None:
            self._pending.append(self._pool.apply_async(scan_chunk, (task,)))

    def _taken(self) -> Iterator[Scanned | tuple[int, str]]:
        while self._pending:
            scanned = self._pending.popleft().get()
            self._submit()
            yield scanned

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()


class Bulk:
    """The fast path over one fold and its checkpoints (see the module's docstring)."""

    def __init__(self, fold: Rederivation, checks: Checkpoints) -> None:
        self.fold = fold
        self.checks = checks
        self._leaves: list[bytes] = []
        self._moves: list[tuple[int, str, str]] = []  # (seq, trigger, nomination), if trusted
        self._trusted = checks.trusted is not None
        self._taken = 0
        self._seq = 0
        self._infos: dict[int, tuple[CutInfo, tuple[Any, ...]]] = {}
        self._destinations: dict[tuple[str, str], str | None] = {}

    def take(self, t: tuple[Any, ...], leaf: bytes) -> bool:
        """Apply the event (as `compact` gives it, with its Merkle leaf hash) if it is a bulk
        decision exactly as re-derived; False to leave it, unapplied, to the general path."""
        fold = self.fold
        if len(t) == 2 or fold.expected or fold.now.detailed:
            return False
        award, nominee, trigger = t[_AWARD], t[_NOMINEE], t[_TRIGGER]
        key = (award, nominee)
        states = fold.now.states
        current = states.get(key)
        if t[_FROM] != current:
            return False
        if trigger == NOMINATE:
            if t[_TO] != State.SURVEYED:  # the general path names the forged destination
                return False
            pooled = fold.pool.get(award, {}).get(nominee)
            if pooled is None or str(pooled.score) != t[_EVIDENCE]:
                return False
            fold.unnominated[award].discard(nominee)
        elif trigger in _STAGED:
            open_stage = fold.stage.get(award)
            if open_stage is None or open_stage[0] != STAGE_OF[trigger]:
                return False
            decisions = open_stage[1]
            d = decisions.get(nominee)
            if type(d) is not CutDecision or d.trigger != trigger:
                return False
            if self._destination(trigger, current) != t[_TO]:
                return False
            if t[_EVIDENCE:] != self._expected(d):
                return False
            del decisions[nominee]
            if not decisions:
                del fold.stage[award]
        else:
            return False
        states[key] = t[_TO]
        self._seq = t[1]
        self._taken += 1
        self._leaves.append(leaf)
        if self._trusted:
            self._moves.append((t[1], trigger, t[_NOMINATION]))
        if len(self._leaves) >= _RUN:
            self.flush(None)
        return True

    def flush(self, head: str | None) -> None:
        """Hand the events taken so far to the fold's counts and to the checkpoints; `head`:
        the hash of the last of them, when the checkpoints are about to be read."""
        if self._taken:
            self.fold.rule += self._taken
            self.fold.seq = self._seq
            self._taken = 0
        if self._leaves:
            self.checks.add_run(self._leaves, self._moves)
            self._leaves, self._moves = [], []
        if head is not None:
            self.checks.head = head

    def _destination(self, trigger: str, current: str | None) -> str | None:
        move = (trigger, current or "")
        if move not in self._destinations:
            self._destinations[move] = destination(*move)
        return self._destinations[move]

    def _expected(self, d: CutDecision) -> tuple[Any, ...]:
        """The decision's evidence as `COMPARED` lists it (what CutDecision.evidence holds,
        None for a field it leaves out), without building the dictionary."""
        shared = self._infos.get(id(d.info))
        if shared is None or shared[0] is not d.info:
            info = d.info
            cut_score = None if info.cut_score is None else str(info.cut_score)
            shared = self._infos[id(info)] = (info, (info.of, info.cut, cut_score))
        return (
            str(d.score), d.rank, *shared[1], "joint" if d.joint else d.decided_by,
            d.info.segment, None if d.tier is None else d.tier.key, d.quota,
        )  # fmt: skip
