"""Read-only views: status, ranking, the log's history, export and verification."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select
from sqlmodel import col

from awards.errors import LogError
from awards.log import chain as eventlog
from awards.log.chain import GENESIS, Verified, export_line, parse_event, sha256, verify_lines
from awards.rules.committee import NO_VOTES, award_candidates
from awards.rules.ranking import apply_cut, describe_cut, rank
from awards.rules.scoring import national_means
from awards.rules.states import State, nomination_code
from awards.store import committee as panel
from awards.store import database as db
from awards.store.cycles import load_agencies, load_cycle, load_nominated, survey_sha256
from awards.store.models import Event, Nomination
from awards.store.schema import open_engine

# Nominations a person took out of the running; they do not move the winners' cut line.
_REMOVED = {State.REJECTED.value, State.WITHDRAWN.value, State.REVOKED.value}


def status(*, url: str | None = None, cycle: str | None = None) -> dict[str, Any]:
    """Counts per award and state, national mean scores per level, and the log head."""
    engine = open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
        counts: dict[str, dict[str, int]] = {a.id: {} for a in workflow.awards}
        rows = conn.execute(
            select(col(Nomination.award), col(Nomination.state), func.count())
            .where(col(Nomination.cycle) == workflow.cycle_id)
            .group_by(col(Nomination.award), col(Nomination.state))
        )
        for award, state, n in rows:
            counts.setdefault(award, {})[state] = n
        means = national_means(workflow, load_agencies(conn, workflow.cycle_id))
        seq, head = db.head(conn)
        survey = survey_sha256(conn, workflow.cycle_id)
    return {
        "cycle": workflow.cycle_id,
        "title_th": workflow.title_th,
        "title_en": workflow.title_en,
        "year": workflow.year,
        "year_be": workflow.year_be,
        "workflow_sha256": workflow.sha256,
        "survey_sha256": survey,
        "awards": {a: {s: counts[a][s] for s in sorted(counts[a])} for a in counts},
        "national": {level: _plain(v) for level, v in means.items()},
        "log": {"events": seq, "head": head},
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Row:
    rank: int
    nomination: str
    nominee_id: str
    name_th: str
    name_en: str
    score: Decimal
    scores: dict[str, Decimal]
    members: int
    state: str
    margin: Decimal | None  # score minus the winners' cut line
    decided_by: str
    approvals: int
    rejections: int
    aggregate: Decimal | None = None  # the committee's mean or median score
    sd: Decimal | None = None  # disagreement: standard deviation of the reviewers' scores
    low: Decimal | None = None  # the lowest and highest reviewer score
    high: Decimal | None = None


@dataclass(frozen=True)
class Ranking:
    cycle: str
    award: str
    title_en: str
    title_th: str
    cut: str
    cut_score: Decimal | None
    dimensions: tuple[str, ...]
    rows: list[Row]
    score_by: str = "survey"  # or "reviewed": the committee's aggregate, where there is one


def ranking(
    award_id: str, *, url: str | None = None, cycle: str | None = None, limit: int | None = None
) -> Ranking:
    """Every nomination of an award in rank order, with its margin to the winners' cut.

    The cut line is the winners cut applied to the nominations still in contention or
    decided by the rules (those a person rejected or withdrew do not count). Each row carries
    the committee's tally: approvals, rejections, the aggregate of the reviewers' scores and
    their disagreement (standard deviation, lowest and highest). An award that ranks by the
    reviewed score ranks reviewed nominations by that aggregate, as its award stage does.
    """
    engine = open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
        award = workflow.award(award_id)
        rows = load_nominated(conn, workflow.cycle_id, award.id)
        votes = panel.load_votes(conn, workflow.cycle_id, award.id)
    state = {r.candidate.nominee_id: r.state for r in rows}
    cands = [r.candidate for r in rows]
    tallies = panel.tallies(workflow, award, cands, votes)
    ranked = rank(workflow, award, award_candidates(workflow, award, cands, tallies))
    contenders = [r for r in ranked if state[r.candidate.nominee_id] not in _REMOVED]
    _, _, line = apply_cut(rank(workflow, award, [r.candidate for r in contenders]), award.winners)
    keys = workflow.dimension_keys
    out = []
    for r in ranked[:limit] if limit else ranked:
        c = r.candidate
        t = tallies.get(c.nominee_id, NO_VOTES)
        out.append(
            Row(r.rank, nomination_code(award.id, c.nominee_id), c.nominee_id, c.name_th, c.name_en, c.score,
                dict(zip(keys, c.scores, strict=True)), c.members, state[c.nominee_id],
                None if line is None else c.score - line, r.decided_by, t.approvals, t.rejections,
                t.aggregate, t.sd, t.low, t.high)
        )  # fmt: skip
    return Ranking(
        workflow.cycle_id,
        award.id,
        award.title_en,
        award.title_th,
        describe_cut(award.winners),
        line,
        keys,
        out,
        award.review.rank_by,
    )


def history(
    *,
    url: str | None = None,
    cycle: str | None = None,
    award: str | None = None,
    nominee: str | None = None,
) -> list[dict[str, Any]]:
    """Logged events, oldest first, filtered by award and/or nominee."""
    engine = open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
        if award:
            workflow.award(award)
        query = select(col(Event.body)).where(col(Event.cycle) == workflow.cycle_id)
        if award:
            query = query.where(col(Event.award) == award)
        if nominee:
            query = query.where(col(Event.nominee) == nominee)
        bodies = [b for (b,) in conn.execute(query.order_by(col(Event.seq)))]  # type: ignore[arg-type]
    return [parse_event(b, f"event {i}") for i, b in enumerate(bodies, start=1)]


def _stored(conn: Connection, batch: int = 10_000) -> Iterator[tuple[int, str, bytes]]:
    last = 0
    while True:
        rows = list(
            conn.execute(
                select(col(Event.seq), col(Event.hash), col(Event.body))
                .where(col(Event.seq) > last)
                .order_by(col(Event.seq))
                .limit(batch)  # type: ignore[arg-type]
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def export_log(path: str | Path, *, url: str | None = None) -> Verified:
    """Write the whole log as JSON Lines, checking every stored hash on the way.

    The file is written beside its destination and renamed into place, so a failed export
    never leaves a half-written log behind.
    """
    engine = open_engine(url)
    target = Path(path)
    fd, tmp = tempfile.mkstemp(
        prefix=".awards-log-", dir=target.parent if str(target.parent) else "."
    )
    count, prev = 0, GENESIS
    try:
        with os.fdopen(fd, "wb") as out, db.read(engine) as conn:
            for seq, digest, body in _stored(conn):
                if sha256(body) != digest:
                    raise LogError(f"event {seq} in the database does not match its stored hash")
                out.write(export_line(body, digest))
                count, prev = seq, digest
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Verified(count, prev)


def verify_file(path: str | Path) -> Verified:
    """Verify an exported log; LogError names the first bad line."""
    return eventlog.verify_file(str(path))


def verify_database(*, url: str | None = None) -> Verified:
    """Verify the live log in the database the same way as an exported file."""
    engine = open_engine(url)
    with db.read(engine) as conn:
        return verify_lines(
            (export_line(body, digest) for _, digest, body in _stored(conn)), "database"
        )
