"""The replay's fast path for the bulk of a log: nominations and the moves of a ranking stage.

At scale nearly every event is a `nominate` or a shortlist, eliminate, award or pass-over
move, and the checking fold (awards.log.rederive) spends most of its time on the generic
machinery around them: dispatch by kind, the evidence built as a dictionary per decision,
the Merkle tree grown one leaf at a time. `Bulk.take` recognises such an event when it is
exactly what the fold expects, and applies what the fold would (the state, the counts, the
stage's remaining decisions), comparing the decision's fields one by one without building
anything. Everything else, and anything that does not match, goes to the fold itself, which
decides and names the divergence: the fast path never judges an event, it only lets a
correct one through sooner. The first move of each stage also goes through the fold, which
re-derives the stage with the stage pipeline (awards.rules.stages).

The events taken are handed to the checkpoints (awards.log.trust) in runs, so the Merkle
tree is grown level by level rather than leaf by leaf; `flush` hands over what is pending,
and must run before the checkpoints are read or an event goes the general way.
"""

from __future__ import annotations

from hashlib import sha256
from typing import Any

from awards.log.events import Kind
from awards.log.rederive import Rederivation
from awards.log.trust import Checkpoints
from awards.rules.stages import STAGE_OF, CutDecision, CutInfo
from awards.rules.states import NOMINATE, REASON_REQUIRED, destination

# The evidence fields a ranking decision is compared on, in the order of `_expected`.
COMPARED = (
    "score",
    "rank",
    "of",
    "cut",
    "cut_score",
    "tie_break",
    "segment",
    "tier",
    "quota_full",
)
# Rule-based moves of a ranking or review stage (withdrawals and revocations need a reason
# and are human decisions: they go the general way).
_STAGED = frozenset(t for t in STAGE_OF if t not in REASON_REQUIRED)
_RUN = 1 << 16  # events handed to the checkpoints at a time: bounds the memory held


class Bulk:
    """The fast path over one fold and its checkpoints (see the module's docstring)."""

    def __init__(self, fold: Rederivation, checks: Checkpoints) -> None:
        self.fold = fold
        self.checks = checks
        self._bodies: list[bytes] = []
        self._events: list[dict[str, Any]] = []
        self._digest = ""
        self._scores: dict[str, dict[str, str]] = {}  # award -> nominee -> pooled score
        self._pool_of: int = -1  # the import the cached scores were pooled at
        self._infos: dict[int, tuple[CutInfo, tuple[Any, ...]]] = {}
        self._moves: dict[tuple[str, str], str | None] = {}

    def take(self, body: bytes, digest: str, event: dict[str, Any]) -> bool:
        """Apply the event if it is a bulk decision exactly as re-derived; False to leave it
        (unapplied) to the general path."""
        fold = self.fold
        if event.get("kind") != Kind.TRANSITION or fold.expected or fold.now.detailed:
            return False
        award, nominee, trigger = event["award"], event["nominee"], event["trigger"]
        key = (award, nominee)
        states = fold.now.states
        current = states.get(key)
        if event["from"] != current:
            return False
        if trigger == NOMINATE:
            if fold.imported_at != self._pool_of:
                self._scores = {
                    a: {n: str(c.score) for n, c in pool.items()} for a, pool in fold.pool.items()
                }
                self._pool_of = fold.imported_at
            pooled = self._scores.get(award, {}).get(nominee)
            if pooled is None or pooled != event["evidence"].get("score"):
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
            if self._move(trigger, current) != event["to"]:
                return False
            logged = event["evidence"]
            if tuple(map(logged.get, COMPARED)) != self._expected(d):
                return False
            del decisions[nominee]
            if not decisions:
                del fold.stage[award]
        else:
            return False
        fold.seq = event["seq"]
        fold.rule += 1
        states[key] = event["to"]
        self._bodies.append(body)
        self._events.append(event)
        self._digest = digest
        if len(self._bodies) >= _RUN:
            self.flush()
        return True

    def flush(self) -> None:
        """Hand the events taken so far to the checkpoints."""
        if self._bodies:
            self.checks.add_run(
                [sha256(b"\x00" + body).digest() for body in self._bodies],
                self._digest,
                self._events,
            )
            self._bodies, self._events = [], []

    def _move(self, trigger: str, current: str | None) -> str | None:
        move = (trigger, current or "")
        if move not in self._moves:
            self._moves[move] = destination(*move)
        return self._moves[move]

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
