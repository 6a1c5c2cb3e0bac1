"""Moving a cycle forward: the library calls behind `advance`, `review` and `withdraw`.

`advance` runs each award through its stages as far as the rules allow:
shortlist (surveyed -> shortlisted | eliminated), review (shortlisted -> reviewed | rejected,
where the committee's quorum is met) and award (reviewed -> awarded | not_awarded, once no
nomination is left waiting for review). Each stage is one transaction.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlmodel import col

from awards.log.chain import now
from awards.rules import collector
from awards.rules.plain import Plain
from awards.rules.stages import SOURCE, Decision, Stage, current_stage, decide
from awards.rules.states import State, Trigger, destination, nomination_code
from awards.rules.workflow import Award, Workflow
from awards.store import checkpoints as checkpoint
from awards.store import committee as panel
from awards.store import database as db
from awards.store import writes
from awards.store.cycles import find_nomination, load_nominated
from awards.store.loading import load_cycle
from awards.store.models import Nomination
from awards.store.schema import open_engine


@dataclass(frozen=True)
class Waiting(Plain):
    """A shortlisted nomination whose review rule is not met yet, and for whom it waits."""

    nomination: str
    approvals: int
    rejections: int
    needed: int  # the quorum
    reviewers: tuple[str, ...]  # assigned, without a verdict yet
    unassigned: int  # places still to assign before the quorum can be met


@dataclass
class StageRun(Plain):
    award: str
    stage: Stage
    moved: dict[str, int]  # destination state -> count
    waiting: list[Waiting] = field(default_factory=list)
    seconds: float = 0.0
    round: int | None = None  # the review round, for an award reviewed in several


@dataclass
class Advanced(Plain):
    cycle: str
    dry_run: bool
    stages: list[StageRun]
    done: list[str]  # awards with every nomination in a final state


def _state_counts(conn: Connection, cycle: str, award: str) -> Counter[str]:
    rows = conn.execute(
        select(col(Nomination.state), func.count())
        .where(col(Nomination.cycle) == cycle, col(Nomination.award) == award)
        .group_by(col(Nomination.state))
    )
    return Counter({state: n for state, n in rows})


def plan(
    conn: Connection, workflow: Workflow, award: Award
) -> tuple[Stage | None, list[writes.Move], list[Waiting], int]:
    """The award's next stage, its moves and what waits, decided by the stage pipeline from
    the tables; and the review round the award is in."""
    stage = current_stage(_state_counts(conn, workflow.cycle_id, award.id))
    if stage is None:
        return None, [], [], 1
    number = panel.current_round(conn, workflow.cycle_id, award.id) if stage is Stage.REVIEW else 1
    source = SOURCE[stage]
    rows = load_nominated(conn, workflow.cycle_id, award.id, source)
    cands = [r.candidate for r in rows]
    votes: dict[str, list[Any]] = {}
    if stage is Stage.REVIEW or award.review.rank_by == "reviewed":
        votes = panel.load_votes(conn, workflow.cycle_id, award.id, [source])
    tallies = panel.tallies(workflow, award, cands, votes) if votes else {}
    outcome = decide(stage, workflow, award, cands, tallies, round=number)
    waiting: list[Waiting] = []
    if outcome.waiting:
        rule = award.round_rule(number)
        waiting = _waiting(conn, workflow, award.id, rule.quorum, rows, outcome.waiting, votes)
    ids = {r.candidate.nominee_id: r.id for r in rows}
    del rows, cands  # a large stage's candidates go before its moves are made
    return stage, _to_moves(award, source, ids, outcome.decisions), waiting, number


def _waiting(
    conn: Connection,
    workflow: Workflow,
    award: str,
    quorum: int,
    rows: Sequence[Any],
    pending: Sequence[str],
    votes: dict[str, list[Any]],
) -> list[Waiting]:
    places = panel.Places(conn, workflow.cycle_id)
    ids = {r.candidate.nominee_id: r.id for r in rows}
    rank_of = {r.candidate.nominee_id: r.rank for r in rows}
    out = []
    # In the order of the shortlist's ranking, as people read a list of what is left.
    for n in sorted(pending, key=lambda n: (rank_of[n], n)):
        given = {v.reviewer: v.approve for v in votes.get(n, [])}
        assigned = places.active[ids[n]]
        approvals = sum(given.values())
        out.append(
            Waiting(
                nomination_code(award, n),
                approvals,
                len(given) - approvals,
                quorum,
                tuple(sorted(assigned - set(given))),
                max(0, quorum - len(assigned)),
            )
        )
    return out


def _to_moves(
    award: Award, state: State, ids: dict[str, int], decisions: Sequence[Decision]
) -> list[writes.Move]:
    return [
        writes.Move(
            ids[d.nominee_id], award.id, d.nominee_id, state.value, d.trigger.value, d, d.rank
        )
        for d in decisions
    ]


def advance(
    *,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
    award: str | None = None,
    dry_run: bool = False,
    actor: str,
    key: Any = None,
) -> Advanced:
    """Run every award (or one) through its stages as far as the rules allow.

    With `dry_run`, compute and report each award's next stage without writing anything.
    Every stage that moved anything ends with a checkpoint of the log (size, Merkle root,
    head) in the same transaction, signed when a committee `key` is given (see
    awards.log.signing.load_key).
    """
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
    targets = [workflow.award(award)] if award else list(workflow.awards)
    stages: list[StageRun] = []
    done: list[str] = []
    for a in targets:
        while True:
            started = time.perf_counter()
            with collector.paused():  # a stage builds a few objects per nomination
                stage, batch, waiting, number = _stage(engine, workflow, a, dry_run, actor, key)
            if stage is None:
                done.append(a.id)
                break
            moved = Counter(moves_dest(m) for m in batch)
            elapsed = time.perf_counter() - started
            shown = number if stage is Stage.REVIEW and a.rounds else None
            stages.append(
                StageRun(a.id, stage, dict(sorted(moved.items())), waiting, elapsed, shown)
            )
            if dry_run or not batch:
                break
    return Advanced(workflow.cycle_id, dry_run, stages, done)


def _stage(
    engine: Engine, workflow: Workflow, award: Award, dry_run: bool, actor: str, key: Any
) -> tuple[Stage | None, list[writes.Move], list[Waiting], int]:
    """Plan the award's next stage and, unless `dry_run`, apply it in one transaction that
    ends with a checkpoint when anything moved; and the review round the award is in."""
    if dry_run:
        with db.read(engine) as conn:
            return plan(conn, workflow, award)
    with db.write(engine) as conn:
        stage, batch, waiting, number = plan(conn, workflow, award)
        if batch:
            # The checkpoint's tree grows as the events are sealed: none is read back.
            grown = checkpoint.tree(conn, workflow.cycle_id)
            writes.apply(conn, writes.Context(workflow.cycle_id, actor, now()), batch, grown)
            checkpoint.write_checkpoint(conn, key, cycle=workflow.cycle_id, actor=actor, grown=grown)  # fmt: skip
    return stage, batch, waiting, number


def moves_dest(m: writes.Move) -> str:
    return destination(m.trigger, m.source) or "?"


@dataclass(frozen=True)
class Moved(Plain):
    nomination: str
    source: str
    dest: str
    seq: int


def move_one(
    nomination: str,
    trigger: Trigger,
    *,
    reason: str,
    actor: str,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
) -> Moved:
    """A person's move of one nomination (withdraw, revoke), with its required reason."""
    engine = engine or open_engine(url)
    with db.write(engine) as conn:
        workflow = load_cycle(conn, cycle)
        row = find_nomination(conn, workflow, nomination)
        move = writes.Move(
            row.id, row.award, row.nominee_id, row.state, trigger.value, writes.Stated(reason, {})
        )
        ctx = writes.Context(workflow.cycle_id, actor, now())
        appended = writes.apply(conn, ctx, [move])
    return Moved(nomination, row.state, moves_dest(move), appended.first)
