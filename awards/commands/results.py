"""A cycle's results as they stand: `awards status` (counts per award and state, national
means, the log head) and `awards ranking` (every nomination of an award with its margin to
the cut and the committee's tally).

Each has a reader that works inside a read transaction the caller holds (`read_status`,
`read_ranking`), so that several of them see one state of the log (the report), and a public
function that opens one for itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlmodel import col

from awards.rules.committee import NO_VOTES, award_candidates
from awards.rules.formatting import level_label
from awards.rules.plain import Plain
from awards.rules.ranking import describe_cut
from awards.rules.scoring import excluded, national_means
from awards.rules.stages import Stage, decide, ranked_segments, segment_of
from awards.rules.states import State, nomination_code
from awards.rules.survey import Agency
from awards.rules.workflow import Award, Workflow, band_of
from awards.store import committee as panel
from awards.store import database as db
from awards.store import earlier
from awards.store.cycles import load_nominated
from awards.store.loading import load_agencies, load_cycle, survey_sha256
from awards.store.models import Nomination
from awards.store.schema import open_engine

# Nominations a person took out of the running; they do not move the winners' cut line.
_REMOVED = {State.REJECTED.value, State.WITHDRAWN.value, State.REVOKED.value}


@dataclass(frozen=True)
class LogHead(Plain):
    events: int  # the length of the cycle's own chain: the seq of its last event
    head: str  # the SHA-256 of that event


@dataclass(frozen=True)
class Status(Plain):
    cycle: str
    title_th: str
    title_en: str
    year: int
    year_be: int
    workflow_sha256: str
    survey_sha256: str | None  # None before a survey is imported
    awards: dict[str, dict[str, int]]  # award -> state -> nominations, states sorted
    # level -> surveyed, responded, dimensions (key -> mean) and weighted mean (or None)
    national: dict[str, dict[str, Any]]
    log: LogHead
    # award -> [the review round it is in, its rounds], for awards reviewed in rounds
    rounds: dict[str, list[int]] = field(default_factory=dict)


def status(
    *, url: str | None = None, engine: Engine | None = None, cycle: str | None = None
) -> Status:
    """Counts per award and state, national mean scores per level, and the head of the cycle's chain."""
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        return read_status(conn, load_cycle(conn, cycle))


def read_status(
    conn: Connection, workflow: Workflow, *, agencies: Sequence[Agency] | None = None
) -> Status:
    """`status` inside the caller's read transaction (`agencies`: the cycle's, if already
    loaded)."""
    counts: dict[str, dict[str, int]] = {a.id: {} for a in workflow.awards}
    rows = conn.execute(
        select(col(Nomination.award), col(Nomination.state), func.count())
        .where(col(Nomination.cycle) == workflow.cycle_id)
        .group_by(col(Nomination.award), col(Nomination.state))
    )
    for award, state, n in rows:
        counts.setdefault(award, {})[state] = n
    if agencies is None:
        agencies = load_agencies(conn, workflow.cycle_id)
    means = national_means(workflow, agencies)
    seq, head = db.cycle_head(conn, workflow.cycle_id)
    return Status(
        workflow.cycle_id,
        workflow.title_th,
        workflow.title_en,
        workflow.year,
        workflow.year_be,
        workflow.sha256,
        survey_sha256(conn, workflow.cycle_id),
        {a: {s: counts[a][s] for s in sorted(counts[a])} for a in counts},
        {level: {**v, "label": level_label(workflow.level(level))} for level, v in means.items()},
        LogHead(seq, head),
        {
            a.id: [
                panel.current_round(conn, workflow.cycle_id, a.id, shortlisted=False),
                a.round_count,
            ]
            for a in workflow.awards
            if a.rounds
        },
    )


@dataclass(frozen=True)
class Row(Plain):
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
    segment: str | None = None  # the value of the award's segment_by field: ranks count within it
    tier: str | None = None  # the band the score falls in, for an award with bands
    round: int | None = None  # the review round it reached, for an award reviewed in rounds


@dataclass(frozen=True)
class Excluded(Plain):
    """A pooled nominee an earlier cycle's facts keep out of the award, and why."""

    nominee_id: str
    name_th: str
    reason: str  # naming the earlier cycle


@dataclass(frozen=True)
class Ranking(Plain):
    cycle: str
    award: str
    title_en: str
    title_th: str
    cut: str
    cut_score: Decimal | None
    dimensions: tuple[str, ...]
    rows: list[Row]
    score_by: str = "survey"  # or "reviewed": the committee's aggregate, where there is one
    round: int | None = None  # the review round the award is in, when it has several
    rounds: int = 1
    # Pooled but left out by a rule that reads an earlier cycle, each with the reason.
    excluded: list[Excluded] = field(default_factory=list)


def ranking(
    award: str,
    *,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
    limit: int | None = None,
) -> Ranking:
    """Every nomination of an award in rank order, with its margin to the winners' cut.

    The cut line is the winners cut applied to the nominations still in contention or
    decided by the rules (those a person rejected or withdrew do not count). Each row carries
    the committee's tally: approvals, rejections, the aggregate of the reviewers' scores and
    their disagreement (standard deviation, lowest and highest). An award that ranks by the
    reviewed score ranks reviewed nominations by that aggregate, as its award stage does.
    """
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        return read_ranking(conn, load_cycle(conn, cycle), award, limit=limit)


def read_ranking(
    conn: Connection, workflow: Workflow, award: str, *, limit: int | None = None
) -> Ranking:
    """`ranking` inside the caller's read transaction."""
    declared = workflow.award(award)
    rows = load_nominated(conn, workflow.cycle_id, declared.id)
    votes = panel.load_votes(conn, workflow.cycle_id, declared.id)
    state = {r.candidate.nominee_id: r.state for r in rows}
    cands = [r.candidate for r in rows]
    tallies = panel.tallies(workflow, declared, cands, votes)
    # Ranked as the award stage ranks: within each segment, when the award has segments.
    reviewed = award_candidates(workflow, declared, cands, tallies)
    ranked = [r for _, rs in ranked_segments(workflow, declared, reviewed) for r in rs]
    # The winners' cut line as the award stage would draw it over the nominations still in
    # contention or decided by the rules (those a person took out do not count).
    contenders = [c for c in cands if state[c.nominee_id] not in _REMOVED]
    reached = panel.rounds_reached(conn, workflow.cycle_id, declared.id) if declared.rounds else {}
    outcome = decide(Stage.AWARD, workflow, declared, contenders, tallies)
    line = outcome.line
    keys = workflow.dimension_keys
    out = []
    for r in ranked[:limit] if limit else ranked:
        c = r.candidate
        t = tallies.get(c.nominee_id, NO_VOTES)
        segment = segment_of(declared, c)
        cut_line = outcome.line_of(segment)
        band = band_of(declared.tiers, c.score)
        out.append(
            Row(r.rank, nomination_code(declared.id, c.nominee_id), c.nominee_id, c.name_th, c.name_en, c.score,
                dict(zip(keys, c.scores, strict=True)), c.members, state[c.nominee_id],
                None if cut_line is None else c.score - cut_line, r.decided_by, t.approvals, t.rejections,
                t.aggregate, t.sd, t.low, t.high, segment, None if band is None else band.key,
                reached.get(c.nominee_id))
        )  # fmt: skip
    return Ranking(
        workflow.cycle_id,
        declared.id,
        declared.title_en,
        declared.title_th,
        describe_cut(declared.winners),
        line,
        keys,
        out,
        declared.review.rank_by,
        panel.current_round(conn, workflow.cycle_id, declared.id, shortlisted=False)
        if declared.rounds
        else None,
        declared.round_count,
        _excluded(conn, workflow, declared),
    )


def _excluded(conn: Connection, workflow: Workflow, award: Award) -> list[Excluded]:
    if not award.earlier_cycles:
        return []
    agencies = load_agencies(conn, workflow.cycle_id)
    facts = earlier.recorded(conn, workflow.cycle_id)
    return [
        Excluded(c.nominee_id, c.name_th, why)
        for c, why in excluded(workflow, award, agencies, facts)
    ]
