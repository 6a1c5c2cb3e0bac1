"""The committee's tables: reviewers, assignments and verdicts, read and written.

Low-level helpers inside the caller's transaction; awards.review holds the commands. Every
write here appends its event to the log in the same transaction.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, func, select
from sqlmodel import col

from awards.errors import AwardsError
from awards.log import events
from awards.log.projection import ASSIGNED
from awards.rules.committee import Tally, Vote, tally
from awards.rules.scoring import Candidate
from awards.rules.states import State
from awards.rules.workflow import Award, Reviewer, Workflow
from awards.store import database as db
from awards.store.models import Assignment, Nomination, Verdict
from awards.store.models import Reviewer as ReviewerRow


def reviewer_event(cycle: str, r: Reviewer, actor: str, at: str, source: str) -> dict[str, Any]:
    return events.reviewer_added(
        cycle=cycle, reviewer=r.id, name=r.name, ministries=r.ministries,
        provinces=r.provinces, source=source, actor=actor, at=at,
    )  # fmt: skip


def declare(
    conn: Connection, cycle: str, reviewers: Sequence[Reviewer], actor: str, at: str, source: str
) -> None:
    """Add reviewers to the cycle, one `reviewer_added` event each."""
    appended = db.append(conn, (reviewer_event(cycle, r, actor, at, source) for r in reviewers))
    db.insert_rows(
        conn,
        "reviewer",
        ("cycle", "reviewer_id", "name", "ministries", "provinces", "seq"),
        (
            (cycle, r.id, r.name, _names(r.ministries), _names(r.provinces), appended.seq(i))
            for i, r in enumerate(reviewers)
        ),
    )


def _names(names: Iterable[str]) -> str:
    return orjson.dumps(list(names)).decode()


def load_reviewers(conn: Connection, cycle: str) -> list[Reviewer]:
    """The cycle's reviewers in id order."""
    rows = conn.execute(
        select(ReviewerRow)
        .where(col(ReviewerRow.cycle) == cycle)
        .order_by(col(ReviewerRow.reviewer_id))
    )
    return [
        Reviewer(
            r.reviewer_id,
            r.name,
            tuple(orjson.loads(r.ministries)),
            tuple(orjson.loads(r.provinces)),
        )
        for r in rows
    ]


class Places:
    """Who is on which nomination of a cycle: active assignments and recusals, by nomination
    id, and each reviewer's load (active assignments across the cycle)."""

    def __init__(self, conn: Connection, cycle: str) -> None:
        self.active: dict[int, set[str]] = defaultdict(set)
        self.declined: dict[int, set[str]] = defaultdict(set)
        self.load: Counter[str] = Counter()
        rows = conn.execute(
            select(
                col(Assignment.nomination_id), col(Assignment.reviewer), col(Assignment.state)
            ).where(col(Assignment.cycle) == cycle)
        )
        for nomination_id, reviewer, state in rows:
            if state == ASSIGNED:
                self.active[nomination_id].add(reviewer)
                self.load[reviewer] += 1
            else:
                self.declined[nomination_id].add(reviewer)


def rounds_reached(conn: Connection, cycle: str, award: str) -> dict[str, int]:
    """Nominee id -> the review round each of the award's nominations reached."""
    return dict(
        conn.execute(  # type: ignore[arg-type]
            select(col(Nomination.nominee_id), col(Nomination.round)).where(
                col(Nomination.cycle) == cycle, col(Nomination.award) == award
            )
        ).all()
    )


def current_round(conn: Connection, cycle: str, award: str, *, shortlisted: bool = True) -> int:
    """The review round the award is in: its shortlisted nominations' (all in the same one,
    since a round closes for all of them at once); 1 before any. With `shortlisted` False,
    the furthest round any of its nominations reached (the round it ended in, once over)."""
    query = select(func.max(col(Nomination.round))).where(
        col(Nomination.cycle) == cycle, col(Nomination.award) == award
    )
    if shortlisted:
        query = query.where(col(Nomination.state) == State.SHORTLISTED)
    return int(conn.execute(query).scalar() or 1)


def load_votes(
    conn: Connection, cycle: str, award: str, states: Sequence[str] | None = None
) -> dict[str, list[Vote]]:
    """Nominee id -> the current verdicts on the award's nominations (optionally only those in
    `states`)."""
    query = (
        select(
            col(Nomination.nominee_id),
            col(Verdict.reviewer),
            col(Verdict.approve),
            col(Verdict.scores),
        )
        .join(Verdict, col(Verdict.nomination_id) == col(Nomination.id))  # type: ignore[arg-type]
        .where(col(Nomination.cycle) == cycle, col(Nomination.award) == award)
    )
    if states is not None:
        query = query.where(col(Nomination.state).in_(states))
    votes: dict[str, list[Vote]] = defaultdict(list)
    for nominee, reviewer, approve, scores in conn.execute(query):
        votes[nominee].append(Vote(reviewer, approve, adjusted_scores(scores)))
    return votes


def adjusted_scores(text: str) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in orjson.loads(text).items()}


def tallies(
    workflow: Workflow, award: Award, nominees: Iterable[Candidate], votes: Mapping[str, list[Vote]]
) -> dict[str, Tally]:
    """Nominee id -> the committee's tally, for every nominee with a verdict."""
    return {
        c.nominee_id: tally(workflow, award, c, votes[c.nominee_id])
        for c in nominees
        if c.nominee_id in votes
    }


def reviewed_award(workflow: Workflow, award_id: str) -> Award:
    award = workflow.award(award_id)
    if not award.review.required:
        raise AwardsError(
            f"award '{award.id}' has no committee review; its shortlist is decided by the rules alone"
        )
    return award


def current_verdict(conn: Connection, nomination_id: int, reviewer: str) -> dict[str, Any] | None:
    old = conn.execute(
        select(Verdict).where(
            col(Verdict.nomination_id) == nomination_id, col(Verdict.reviewer) == reviewer
        )
    ).first()
    if old is None:
        return None
    return {
        "verdict": "approve" if old.approve else "reject",
        "scores": orjson.loads(old.scores),
        "note": old.note,
    }
