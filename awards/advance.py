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

from sqlalchemy import Connection, func, select
from sqlmodel import col

from awards import checkpoint, db, moves
from awards.config import Award, Workflow
from awards.cycles import (
    find_nomination,
    load_cycle,
    load_nominated,
    survey_sha256,
    verdict_tallies,
)
from awards.errors import AwardsError, TransitionError
from awards.eventlog import now
from awards.models import Nomination, Verdict
from awards.scoring import Decision, award_decisions, review_decisions, shortlist_decisions
from awards.states import State, Trigger, destination


@dataclass(frozen=True)
class Waiting:
    nomination: str
    approvals: int
    rejections: int
    needed: int


@dataclass
class Stage:
    award: str
    stage: str  # shortlist | review | award
    moved: dict[str, int]  # destination state -> count
    waiting: list[Waiting] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Advanced:
    cycle: str
    dry_run: bool
    stages: list[Stage]
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
) -> tuple[str | None, list[moves.Move], list[Waiting]]:
    """The award's next stage and its moves, computed by the pure rules from the tables."""
    counts = _state_counts(conn, workflow.cycle_id, award.id)
    if counts[State.SURVEYED]:
        stage, state = "shortlist", State.SURVEYED
        rows = load_nominated(conn, workflow.cycle_id, award.id, state)
        decisions = shortlist_decisions(workflow, award, [r.candidate for r in rows])
        waiting: list[Waiting] = []
    elif counts[State.SHORTLISTED]:
        stage, state = "review", State.SHORTLISTED
        rows = load_nominated(conn, workflow.cycle_id, award.id, state)
        tallies = verdict_tallies(conn, workflow.cycle_id, award.id, State.SHORTLISTED)
        ranked = sorted(
            rows, key=lambda r: (r.rank, r.candidate.nominee_id)
        )  # waiting list in rank order
        decisions, pending = review_decisions(
            award, tallies, [r.candidate.nominee_id for r in ranked]
        )
        waiting = [
            Waiting(
                moves.nomination_code(award.id, n), *tallies.get(n, (0, 0)), award.review.quorum
            )
            for n in pending
        ]
    elif counts[State.REVIEWED]:
        stage, state = "award", State.REVIEWED
        rows = load_nominated(conn, workflow.cycle_id, award.id, state)
        decisions = award_decisions(workflow, award, [r.candidate for r in rows])
        waiting = []
    else:
        return None, [], []
    return stage, _to_moves(award, state, rows, decisions), waiting


def _to_moves(
    award: Award, state: State, rows: Sequence[Any], decisions: Sequence[Decision]
) -> list[moves.Move]:
    ids = {r.candidate.nominee_id: r.id for r in rows}
    return [
        moves.Move(
            ids[d.nominee_id], award.id, d.nominee_id, state.value, d.trigger.value, d, d.rank
        )
        for d in decisions
    ]


def advance(
    *,
    url: str | None = None,
    cycle: str | None = None,
    award: str | None = None,
    dry_run: bool = False,
    actor: str,
    key: Any = None,
) -> Advanced:
    """Run every award (or one) through its stages as far as the rules allow.

    With `dry_run`, compute and report each award's next stage without writing anything.
    With a committee `key` (see awards.checkpoint.load_key), every stage that moved anything
    ends with a signed checkpoint of the log, in the same transaction.
    """
    engine = db.open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
    targets = [workflow.award(award)] if award else list(workflow.awards)
    stages: list[Stage] = []
    done: list[str] = []
    for a in targets:
        while True:
            started = time.perf_counter()
            if dry_run:
                with db.read(engine) as conn:
                    stage, batch, waiting = plan(conn, workflow, a)
            else:
                with db.write(engine) as conn:
                    stage, batch, waiting = plan(conn, workflow, a)
                    ctx = moves.Context(
                        workflow.cycle_id, actor, now(), workflow.sha256,
                        survey_sha256(conn, workflow.cycle_id),
                    )  # fmt: skip
                    moves.apply(conn, ctx, batch)
                    if key is not None and batch:
                        checkpoint.write_checkpoint(conn, key, cycle=workflow.cycle_id, actor=actor)
            if stage is None:
                done.append(a.id)
                break
            moved = Counter(moves_dest(m) for m in batch)
            elapsed = time.perf_counter() - started
            stages.append(Stage(a.id, stage, dict(sorted(moved.items())), waiting, elapsed))
            if dry_run or not batch:
                break
    return Advanced(workflow.cycle_id, dry_run, stages, done)


def moves_dest(m: moves.Move) -> str:
    return destination(m.trigger, m.source) or "?"


@dataclass(frozen=True)
class Reviewed:
    nomination: str
    reviewer: str
    verdict: str
    previous: str | None


def review(
    code: str,
    *,
    approve: bool,
    reviewer: str,
    note: str = "",
    url: str | None = None,
    cycle: str | None = None,
) -> Reviewed:
    """Record (or change) one reviewer's verdict on a shortlisted nomination; logged."""
    if not reviewer.strip():
        raise AwardsError("a verdict needs a reviewer: pass --reviewer NAME")
    engine = db.open_engine(url)
    verdict = "approve" if approve else "reject"
    with db.write(engine) as conn:
        workflow = load_cycle(conn, cycle)
        row = find_nomination(conn, workflow, code)
        award = workflow.award(row.award)
        if not award.review.required:
            raise AwardsError(
                f"award '{award.id}' has no committee review; its shortlist is decided by the rules alone"
            )
        if row.state != State.SHORTLISTED:
            raise TransitionError(
                f"nomination {code} is '{row.state}'; verdicts are taken only while it is 'shortlisted'"
            )
        old = conn.execute(
            select(Verdict).where(
                col(Verdict.nomination_id) == row.id, col(Verdict.reviewer) == reviewer
            )
        ).first()
        previous = None if old is None else ("approve" if old.approve else "reject")
        at = now()
        appended = db.append(
            conn,
            [
                {
                    "kind": "verdict",
                    "cycle": workflow.cycle_id,
                    "award": award.id,
                    "nominee": row.nominee_id,
                    "nomination": code,
                    "reviewer": reviewer,
                    "verdict": verdict,
                    "previous": previous,
                    "note": note,
                    "actor": reviewer,
                    "at": at,
                }
            ],
        )
        values = {"approve": approve, "note": note, "at": at, "seq": appended.first}
        if old is None:
            conn.execute(
                Verdict.__table__.insert(),  # type: ignore[attr-defined]
                {"nomination_id": row.id, "reviewer": reviewer, **values},
            )
        else:
            conn.execute(Verdict.__table__.update().where(col(Verdict.id) == old.id), values)  # type: ignore[attr-defined]
    return Reviewed(code, reviewer, verdict, previous)


@dataclass(frozen=True)
class Moved:
    nomination: str
    source: str
    dest: str
    seq: int


def move_one(
    code: str,
    trigger: Trigger,
    *,
    reason: str,
    actor: str,
    url: str | None = None,
    cycle: str | None = None,
) -> Moved:
    """A person's move of one nomination (withdraw, revoke), with its required reason."""
    engine = db.open_engine(url)
    with db.write(engine) as conn:
        workflow = load_cycle(conn, cycle)
        row = find_nomination(conn, workflow, code)
        move = moves.Move(
            row.id, row.award, row.nominee_id, row.state, trigger.value, moves.Stated(reason, {})
        )
        ctx = moves.Context(
            workflow.cycle_id, actor, now(), workflow.sha256, survey_sha256(conn, workflow.cycle_id)
        )
        appended = moves.apply(conn, ctx, [move])
    return Moved(code, row.state, moves_dest(move), appended.first)
