"""Committee rules: conflicts of interest, assignment of reviewers, and tallies of verdicts.

Pure functions, like awards.scoring: the engine applies them to the tables and the offline
replay to the log, and both must get the same answer. Assignment is deterministic: the same
reviewers, shortlist and prior assignments always give the same pairs.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import NamedTuple, Protocol

from awards.rules.scoring import Candidate, round_half_up, weighted_score
from awards.rules.workflow import LEVELS, WEIGHTED, Award, Review, Reviewer, Workflow

DEPARTMENT = LEVELS[0]


class Tally(NamedTuple):
    """The committee's verdicts on one nomination, combined by the award's review rule."""

    approvals: int
    rejections: int
    reviewers: tuple[str, ...]  # who gave the counted verdicts, by id
    aggregate: Decimal | None  # mean or median of the reviewers' scores
    sd: Decimal | None  # population standard deviation of those scores
    low: Decimal | None
    high: Decimal | None
    scores: tuple[Decimal, ...] | None  # per dimension, aggregated the same way


NO_VOTES = Tally(0, 0, (), None, None, None, None, None)


class Affiliated(Protocol):
    """What the conflict rule reads of a nominee: a Candidate, or a nomination row."""

    @property
    def nominee_id(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def ministry(self) -> str: ...
    @property
    def province(self) -> str: ...


def conflict_field(award: Award, level: str) -> str:
    """Which affiliation conflicts with a nominee: its ministry for a department, its
    province for a provincial agency or a province (for groups, the field grouped by)."""
    if award.group_by is not None:
        return award.group_by.field
    return "ministry" if level == DEPARTMENT else "province"


def conflict(award: Award, reviewer: Reviewer, nominee: Affiliated) -> str | None:
    """Why `reviewer` may not review `nominee` ("same ministry: X"), or None."""
    field = conflict_field(award, nominee.level)
    value = getattr(nominee, field)
    own = reviewer.ministries if field == "ministry" else reviewer.provinces
    return f"same {field}: {value}" if value and value in own else None


class Pair(NamedTuple):
    nominee_id: str
    reviewer: str


def assign(
    award: Award,
    reviewers: Sequence[Reviewer],
    nominees: Iterable[Affiliated],
    per_nomination: int,
    active: Mapping[str, set[str]],
    declined: Mapping[str, set[str]],
    load: Counter[str],
) -> tuple[list[Pair], dict[str, int]]:
    """Top each nominee up to `per_nomination` active reviewers.

    Nominees are taken in id order; each open place goes to the eligible reviewer with the
    least load so far (ties: reviewer id). Eligible: not already assigned to the nominee, not
    recused from it (`declined`), and without a conflict of interest. `load` (active
    assignments per reviewer across the cycle) is updated in place. Returns the new pairs and,
    per nominee that could not be filled, how many places are still open.
    """
    pairs: list[Pair] = []
    unfilled: dict[str, int] = {}
    by_id = sorted(reviewers, key=lambda r: r.id)
    for nominee in sorted(nominees, key=lambda c: c.nominee_id):
        nid = nominee.nominee_id
        have = active.get(nid, set())
        need = per_nomination - len(have)
        if need <= 0:
            continue
        skip = have | declined.get(nid, set())
        eligible = [r.id for r in by_id if r.id not in skip and conflict(award, r, nominee) is None]
        chosen = sorted(eligible, key=lambda rid: (load[rid], rid))[:need]
        for rid in sorted(chosen):
            load[rid] += 1
            pairs.append(Pair(nid, rid))
        if len(chosen) < need:
            unfilled[nid] = need - len(chosen)
    return pairs, unfilled


class Vote(NamedTuple):
    """One reviewer's current verdict: approve or not, and their adjusted dimension scores
    (only the dimensions they changed)."""

    reviewer: str
    approve: bool
    adjusted: Mapping[str, Decimal]


def reviewer_scores(workflow: Workflow, survey: Sequence[Decimal], vote: Vote) -> list[Decimal]:
    """The dimension scores a reviewer holds: the survey's, with their adjustments."""
    return [vote.adjusted.get(k, s) for k, s in zip(workflow.dimension_keys, survey, strict=True)]


def award_score(workflow: Workflow, award: Award, scores: Sequence[Decimal]) -> Decimal:
    """The score an award ranks by, from dimension scores (as awards.scoring computes it)."""
    if award.score == WEIGHTED:
        weights = [d.weight for d in workflow.dimensions]
        return weighted_score(scores, weights, workflow.precision)
    return round_half_up(scores[workflow.dimension_keys.index(award.score)], workflow.precision)


def tally(workflow: Workflow, award: Award, nominee: Candidate, votes: Iterable[Vote]) -> Tally:
    """Count the votes and combine the reviewers' scores by the award's aggregate."""
    votes = sorted(votes, key=lambda v: v.reviewer)
    if not votes:
        return NO_VOTES
    approvals = sum(v.approve for v in votes)
    places = workflow.precision
    combine = statistics.median if award.review.aggregate == "median" else statistics.mean
    held = [reviewer_scores(workflow, nominee.scores, v) for v in votes]
    scores = [award_score(workflow, award, h) for h in held]
    per_dimension = tuple(
        round_half_up(combine(column), places) for column in zip(*held, strict=True)
    )
    return Tally(
        approvals,
        len(votes) - approvals,
        tuple(v.reviewer for v in votes),
        round_half_up(combine(scores), places),
        round_half_up(statistics.pstdev(scores), places),
        min(scores),
        max(scores),
        per_dimension,
    )


def reviewed(nominee: Candidate, t: Tally, workflow: Workflow) -> Candidate:
    """The nominee as the award stage sees it under rank_by = "reviewed"."""
    if t.aggregate is None or t.scores is None:
        return nominee
    weights = [d.weight for d in workflow.dimensions]
    weighted = weighted_score(t.scores, weights, workflow.precision)
    return nominee._replace(scores=t.scores, weighted=weighted, score=t.aggregate)


def award_candidates(
    workflow: Workflow, award: Award, nominees: Sequence[Candidate], tallies: Mapping[str, Tally]
) -> list[Candidate]:
    """The candidates of the award stage: as surveyed, or as reviewed when the award ranks by
    the committee's aggregate (its last round's rank_by)."""
    return ranked_as(workflow, award.review, nominees, tallies)


def ranked_as(
    workflow: Workflow, review: Review, nominees: Sequence[Candidate], tallies: Mapping[str, Tally]
) -> list[Candidate]:
    """The nominees as a review's rank_by ranks them: as surveyed, or by the aggregate."""
    if review.rank_by != "reviewed":
        return list(nominees)
    return [reviewed(c, tallies.get(c.nominee_id, NO_VOTES), workflow) for c in nominees]


def round_panel(review: Review, reviewers: Sequence[Reviewer]) -> list[Reviewer]:
    """The reviewers a review (or round) may assign: its panel, or the whole committee."""
    if not review.panel:
        return list(reviewers)
    return [r for r in reviewers if r.id in review.panel]
