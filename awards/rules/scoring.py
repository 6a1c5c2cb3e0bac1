"""Scoring and selection rules: pure functions of (workflow, agencies, verdicts) -> decisions.

No I/O, no clock, no database: the same inputs give the same decisions, byte for byte, which
is what lets an auditor replay the log. Arithmetic is Decimal with official half-up rounding;
ranking follows the award's tie-break chain, which always ends in the unique nominee id, and
compares Thai names in Thai dictionary order.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from awards.rules.states import Trigger
from awards.rules.survey import Agency
from awards.rules.thai import province_names, thai_order
from awards.rules.workflow import NAME_KEYS, UNIQUE_KEY, WEIGHTED, Award, Cut, Review, Workflow

_QUANTUM = [Decimal(1).scaleb(-p) for p in range(10)]


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Round to `places` decimals, halves away from zero (the official rule, not banker's)."""
    return value.quantize(_QUANTUM[places], rounding=ROUND_HALF_UP)


def weighted_exact(scores: Sequence[Decimal], weights: Sequence[Decimal]) -> Decimal:
    """The unrounded weighted score."""
    if len(scores) != len(weights):
        raise ValueError(f"{len(scores)} scores for {len(weights)} weights")
    return sum(map(operator.mul, scores, weights), Decimal(0))


def weighted_score(scores: Sequence[Decimal], weights: Sequence[Decimal], places: int) -> Decimal:
    """The weighted score rounded half-up to `places` decimals."""
    return round_half_up(weighted_exact(scores, weights), places)


class Candidate(NamedTuple):
    """A nominee as the rules see it: an agency, or a group scored from its members."""

    nominee_id: str
    name_th: str
    name_en: str
    level: str
    ministry: str
    province: str
    members: int
    scores: tuple[Decimal, ...]  # per dimension, rounded to the workflow's precision
    weighted: Decimal  # rounded
    score: Decimal  # the score the award ranks by (weighted or one dimension)


def in_pool(award: Award, agency: Agency, keys: Sequence[str]) -> bool:
    """Whether the agency passes the award's pool filters."""
    pool = award.pool
    if pool.level is not None and agency.level != pool.level:
        return False
    if pool.responded is not None and agency.responded != pool.responded:
        return False
    for flag, wanted in pool.flags.items():
        if agency.flags.get(flag, False) != wanted:
            return False
    if pool.min or pool.max:
        if agency.scores is None:
            return False
        by_key = dict(zip(keys, agency.scores, strict=True))
        if any(by_key[k] < v for k, v in pool.min.items()):
            return False
        if any(by_key[k] > v for k, v in pool.max.items()):
            return False
    return True


def candidates(workflow: Workflow, award: Award, agencies: Iterable[Agency]) -> list[Candidate]:
    """The award's nominees: pooled agencies, or groups of them scored as their mean.

    Pooled agencies without scores (non-respondents admitted by a pool that does not ask for
    `responded`) cannot be ranked and are left out.
    """
    keys = workflow.dimension_keys
    weights = tuple(d.weight for d in workflow.dimensions)
    places = workflow.precision
    score_index = None if award.score == WEIGHTED else keys.index(award.score)
    pooled = [a for a in agencies if a.scores is not None and in_pool(award, a, keys)]

    def make(
        nid: str, th: str, en: str, a: Agency, members: int, exact: Sequence[Decimal]
    ) -> Candidate:
        quantum = _QUANTUM[places]
        scores = tuple([s.quantize(quantum, ROUND_HALF_UP) for s in exact])
        weighted = weighted_exact(exact, weights).quantize(quantum, ROUND_HALF_UP)
        score = weighted if score_index is None else scores[score_index]
        return Candidate(
            nid, th, en, a.level, a.ministry, a.province, members, scores, weighted, score
        )

    if award.group_by is None:
        return [make(a.agency_id, a.name_th, a.name_en, a, 1, a.scores or ()) for a in pooled]

    groups: dict[str, list[Agency]] = defaultdict(list)
    field = award.group_by.field
    for a in pooled:
        groups[getattr(a, field)].append(a)
    result = []
    for name in sorted(groups):
        members = groups[name]
        if len(members) < award.group_by.min_members:
            continue
        n = Decimal(len(members))
        means = [
            sum((m.scores[i] for m in members if m.scores), Decimal(0)) / n
            for i in range(len(keys))
        ]
        first = members[0]
        en = province_name_en(name) if field == "province" else ""
        result.append(make(name, name, en, first, len(members), means))
    return result


def province_name_en(name_th: str) -> str:
    """The English name of a Thai province, or '' if it is not a province name."""
    return province_names().get(name_th, "")


class Ranked(NamedTuple):
    candidate: Candidate
    rank: int
    decided_by: str  # the first key of the chain that placed it against its neighbours


def chain(award: Award) -> tuple[str, ...]:
    """The full ordering chain: the award's score first, then its tie-breaks."""
    return ("score", *[k for k in award.tie_break if k != "score"])


def rank(workflow: Workflow, award: Award, cands: Sequence[Candidate]) -> list[Ranked]:
    """Rank candidates best first by the award's chain; independent of input order.

    Scores and dimensions sort high to low, names and the id low to high; Thai names in Thai
    dictionary order. Each result says which key of the chain decided its place.
    """
    keys = workflow.dimension_keys
    names = chain(award)
    first_name = next((i for i, k in enumerate(names) if k in NAME_KEYS), len(names))
    index = [None if k == "score" else keys.index(k) for k in names[:first_name]]

    def numeric(c: Candidate, i: int | None) -> Decimal:
        return -c.score if i is None else -c.scores[i]

    prefixes = [tuple([numeric(c, i) for i in index]) for c in cands]
    # Only candidates that tie on every key before the first name key need the rest of the
    # chain (and Thai collation is costly); a unique prefix already decides the order.
    count: dict[tuple[Decimal, ...], int] = defaultdict(int)
    for p in prefixes:
        count[p] += 1
    tied = [c for c, p in zip(cands, prefixes, strict=True) if count[p] > 1]
    order = thai_order(c.name_th for c in tied) if "name_th" in names and tied else {}

    def rest(c: Candidate) -> tuple[object, ...]:
        out: list[object] = []
        for k in names[first_name:]:
            if k == "name_th":
                out.append(order[c.name_th])
            elif k == "name_en":
                out.append(c.name_en.casefold())
            elif k == UNIQUE_KEY:
                out.append(c.nominee_id)
            else:
                out.append(-c.scores[keys.index(k)])
        return tuple(out)

    keyed = sorted(
        ((p + rest(c) if count[p] > 1 else p, c) for c, p in zip(cands, prefixes, strict=True)),
        key=lambda kc: kc[0],  # type: ignore[arg-type, return-value]
    )

    def depth(a: tuple[object, ...], b: tuple[object, ...]) -> int:
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                return i
        return len(a) - 1

    # depths[i]: the key that orders place i against place i + 1.
    depths = [depth(keyed[i][0], keyed[i + 1][0]) for i in range(len(keyed) - 1)]
    last = len(keyed) - 1
    ranked = []
    for i, (_, c) in enumerate(keyed):
        above = depths[i - 1] if i > 0 else 0
        below = depths[i] if i < last else 0
        ranked.append(Ranked(c, i + 1, names[max(above, below)]))
    return ranked


def describe_cut(cut: Cut) -> str:
    """A cut as people say it: 'top 20', 'score >= 60.00', 'top 10 with score >= 50'."""
    parts = []
    if cut.top is not None:
        parts.append(f"top {cut.top}")
    if cut.threshold is not None:
        parts.append(f"score >= {cut.threshold}")
    return " with ".join(parts)


def apply_cut(
    ranked: Sequence[Ranked], cut: Cut
) -> tuple[list[Ranked], list[Ranked], Decimal | None]:
    """Split a ranking into (kept, dropped) and give the cut line: the lowest kept score, or
    the threshold when nobody is kept."""
    kept: list[Ranked] = []
    dropped: list[Ranked] = []
    for r in ranked:
        ok = (cut.top is None or len(kept) < cut.top) and (
            cut.threshold is None or r.candidate.score >= cut.threshold
        )
        (kept if ok else dropped).append(r)
    line = kept[-1].candidate.score if kept else cut.threshold
    return kept, dropped, line


class CutInfo(NamedTuple):
    """What every decision of one ranking stage shares."""

    stage: str
    of: int
    cut: str
    cut_score: Decimal | None


class CutDecision(NamedTuple):
    """A rule-based move by rank against a cut. The evidence and reason are built when the
    event is written, so a million decisions do not hold a million dictionaries."""

    nominee_id: str
    trigger: Trigger
    rank: int
    score: Decimal
    decided_by: str
    within: bool
    info: CutInfo

    @property
    def evidence(self) -> dict[str, object]:
        return {
            "score": str(self.score),
            "rank": self.rank,
            "of": self.info.of,
            "cut": self.info.cut,
            "cut_score": None if self.info.cut_score is None else str(self.info.cut_score),
            "tie_break": self.decided_by,
        }

    @property
    def reason(self) -> str:
        verb = "within" if self.within else "outside"
        return f"{self.info.stage}: rank {self.rank} of {self.info.of}, score {self.score}, {verb} the cut ({self.info.cut})"


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


class ReviewDecision(NamedTuple):
    """The committee's outcome for one nomination under the award's review rule."""

    nominee_id: str
    trigger: Trigger
    tally: Tally
    rule: Review

    @property
    def rank(self) -> None:
        return None

    @property
    def evidence(self) -> dict[str, object]:
        t = self.tally
        shown = (t.aggregate, t.sd, t.low, t.high)
        return {
            "approve": t.approvals,
            "reject": t.rejections,
            "quorum": self.rule.quorum,
            "approval": self.rule.approval,
            "reviewers": list(t.reviewers),
            "aggregate_rule": self.rule.aggregate,
            **{k: None if v is None else str(v) for k, v in zip(REVIEW_STATS, shown, strict=True)},
        }

    @property
    def reason(self) -> str:
        if not self.rule.required:
            return "review: this award needs no committee review"
        t = self.tally
        said = f"review: {t.approvals} approve, {t.rejections} reject; quorum {self.rule.quorum}, {self.rule.approval}"
        if t.aggregate is not None:
            said += f"; {self.rule.aggregate} score {t.aggregate} (sd {t.sd}, {t.low}-{t.high})"
        return said


REVIEW_STATS = ("aggregate", "sd", "min", "max")
Decision = CutDecision | ReviewDecision


def _cut_decisions(
    ranked: Sequence[Ranked], cut: Cut, stage: str, keep: Trigger, drop: Trigger
) -> list[Decision]:
    kept, dropped, line = apply_cut(ranked, cut)
    info = CutInfo(stage, len(ranked), describe_cut(cut), line)
    out: list[Decision] = []
    for trig, rows, within in ((keep, kept, True), (drop, dropped, False)):
        for r in rows:
            c = r.candidate
            out.append(CutDecision(c.nominee_id, trig, r.rank, c.score, r.decided_by, within, info))
    # In nominee-id order, not rank order: the log's and the tables' indexes are then written
    # in key order, which at a million nominees is several times faster than random order.
    out.sort(key=lambda d: d.nominee_id)
    return out


def shortlist_decisions(
    workflow: Workflow, award: Award, cands: Sequence[Candidate]
) -> list[Decision]:
    """Shortlist or eliminate every surveyed candidate by the award's shortlist cut."""
    ranked = rank(workflow, award, cands)
    return _cut_decisions(
        ranked, award.shortlist, "shortlist", Trigger.SHORTLIST, Trigger.ELIMINATE
    )


def award_decisions(workflow: Workflow, award: Award, cands: Sequence[Candidate]) -> list[Decision]:
    """Award or pass over every reviewed candidate by the award's winners cut."""
    ranked = rank(workflow, award, cands)
    return _cut_decisions(ranked, award.winners, "award", Trigger.AWARD, Trigger.PASS_OVER)


def review_outcome(review: Review, approvals: int, rejections: int) -> Trigger | None:
    """The committee's outcome for one nomination, or None while the quorum is not met."""
    if not review.required:
        return Trigger.APPROVE
    if approvals + rejections < review.quorum:
        return None
    if review.approval == "unanimous":
        return Trigger.APPROVE if rejections == 0 else Trigger.REJECT
    return Trigger.APPROVE if approvals > rejections else Trigger.REJECT


def review_decisions(
    award: Award, tallies: Mapping[str, Tally], shortlisted: Iterable[str]
) -> tuple[list[Decision], list[str]]:
    """Approve or reject shortlisted nominees whose review rule is met.

    `tallies` maps nominee id -> the committee's tally (see awards.committee.tally). Returns
    the decisions and the ids still waiting for verdicts, both in the order `shortlisted` gives.
    """
    decisions: list[Decision] = []
    waiting = []
    for nid in shortlisted:
        t = tallies.get(nid, NO_VOTES)
        outcome = review_outcome(award.review, t.approvals, t.rejections)
        if outcome is None:
            waiting.append(nid)
        else:
            decisions.append(ReviewDecision(nid, outcome, t, award.review))
    return decisions, waiting


def national_means(workflow: Workflow, agencies: Iterable[Agency]) -> dict[str, dict[str, object]]:
    """Per level: respondents, mean per dimension and mean weighted score, rounded half-up.

    The weighted mean is the weighted sum of the exact dimension means (equal to the mean of
    the exact weighted scores), so data whose dimension means match the published ones
    reproduces the published overall figure.
    """
    keys = workflow.dimension_keys
    weights = tuple(d.weight for d in workflow.dimensions)
    places = workflow.precision
    sums: dict[str, list[Decimal]] = {}
    counts: dict[str, list[int]] = {}
    for a in agencies:
        c = counts.setdefault(a.level, [0, 0])
        c[0] += 1
        if a.scores is None or not a.responded:
            continue
        c[1] += 1
        s = sums.setdefault(a.level, [Decimal(0)] * len(keys))
        for i, v in enumerate(a.scores):
            s[i] += v
    out: dict[str, dict[str, object]] = {}
    for level in sorted(counts):
        surveyed, responded = counts[level]
        if responded == 0:
            out[level] = {"surveyed": surveyed, "responded": 0, "dimensions": {}, "weighted": None}
            continue
        means = [v / responded for v in sums[level]]
        out[level] = {
            "surveyed": surveyed,
            "responded": responded,
            "dimensions": {k: round_half_up(m, places) for k, m in zip(keys, means, strict=True)},
            "weighted": round_half_up(weighted_exact(means, weights), places),
        }
    return out
