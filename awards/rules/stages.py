"""The stage pipeline: which stage an award is at and what that stage decides. Pure.

An award goes through three stages, each taking the nominations in one state:

1. shortlist: every `surveyed` nomination is ranked; those inside the shortlist cut are
   shortlisted, the rest eliminated;
2. review: each `shortlisted` nomination whose review rule is met (quorum, approval) is
   approved or rejected; the others wait. An award with several rounds reviews in each
   round before the last with that round's rule, and closes the round once every
   nomination's quorum is met: the rejected are rejected, the approved are ranked and those
   inside the round's cut go on to the next round (`next_round`), the rest are rejected.
   The last round decides like a single review;
3. award: once nothing waits for review, the `reviewed` nominations are ranked again (by the
   committee's aggregate where the award says so) and those inside the winners cut are
   awarded, the rest passed over.

This is the one place these rules live: `advance` applies them to the tables, the offline
replay to the log, the weight sensitivity and the ranking view to what-ifs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from awards.rules.committee import NO_VOTES, Tally, award_candidates, ranked_as
from awards.rules.ranking import Ranked, apply_cut, describe_cut, rank
from awards.rules.scoring import Candidate, field_value
from awards.rules.states import State, Trigger
from awards.rules.thai import NameOrder, thai_order
from awards.rules.workflow import Award, Cut, Review, Tier, Workflow


class Stage(StrEnum):
    SHORTLIST = "shortlist"
    REVIEW = "review"
    AWARD = "award"


class _Declared(NamedTuple):
    stage: Stage
    source: State  # the state of the nominations the stage decides on
    keep: Trigger
    drop: Trigger


# In order: an award is at the first stage that has nominations in its source state.
PIPELINE: tuple[_Declared, ...] = (
    _Declared(Stage.SHORTLIST, State.SURVEYED, Trigger.SHORTLIST, Trigger.ELIMINATE),
    _Declared(Stage.REVIEW, State.SHORTLISTED, Trigger.APPROVE, Trigger.REJECT),
    _Declared(Stage.AWARD, State.REVIEWED, Trigger.AWARD, Trigger.PASS_OVER),
)
SOURCE: dict[Stage, State] = {d.stage: d.source for d in PIPELINE}
# Which stage a rule-based trigger belongs to; going on to the next round is a review decision.
STAGE_OF: dict[str, Stage] = {
    **{t.value: d.stage for d in PIPELINE for t in (d.keep, d.drop)},
    Trigger.NEXT_ROUND.value: Stage.REVIEW,
}


def current_stage(counts: Mapping[str, int]) -> Stage | None:
    """The stage an award is at, from how many of its nominations are in each state; None
    when no stage has anything left to decide."""
    for d in PIPELINE:
        if counts.get(d.source.value, 0):
            return d.stage
    return None


class CutInfo(NamedTuple):
    """What every decision of one ranking stage shares."""

    stage: str
    of: int
    cut: str
    cut_score: Decimal | None
    segment: str | None = None  # the value of the award's segment_by field, if it has one


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
    tier: Tier | None = None  # the winner's band, when the award declares bands
    quota: str | None = None  # the quota that was full, when it left this nominee out
    joint: bool = False  # kept past the top N for tying on score with the last place

    @property
    def evidence(self) -> dict[str, object]:
        out: dict[str, object] = {
            "score": str(self.score),
            "rank": self.rank,
            "of": self.info.of,
            "cut": self.info.cut,
            "cut_score": None if self.info.cut_score is None else str(self.info.cut_score),
            "tie_break": "joint" if self.joint else self.decided_by,
        }
        # Only the rules an award uses appear, so logs of awards without them read as before.
        if self.info.segment is not None:
            out["segment"] = self.info.segment
        if self.tier is not None:
            out["tier"] = self.tier.key
        if self.quota is not None:
            out["quota_full"] = self.quota
        return out

    @property
    def reason(self) -> str:
        verb = "within" if self.within else "outside"
        where = f" in {self.info.segment}" if self.info.segment is not None else ""
        said = f"{self.info.stage}: rank {self.rank} of {self.info.of}{where}, score {self.score}, {verb} the cut ({self.info.cut})"
        if self.quota is not None:
            said += f"; quota full ({self.quota})"
        if self.tier is not None:
            said += f"; tier {self.tier.key}"
        if self.joint:
            said += "; tied with the last place (joint)"
        return said


class ReviewDecision(NamedTuple):
    """The committee's outcome for one nomination under the award's review rule (in a round,
    that round's rule; closing a round before the last, its place against the round's cut)."""

    nominee_id: str
    trigger: Trigger
    tally: Tally
    rule: Review
    round: int | None = None  # the round's number, when the award reviews in rounds
    rank: int | None = None  # its place among the round's approved, when the cut ranked it
    info: CutInfo | None = None
    within: bool = False

    @property
    def evidence(self) -> dict[str, object]:
        t = self.tally
        shown = (t.aggregate, t.sd, t.low, t.high)
        out: dict[str, object] = {
            "approve": t.approvals,
            "reject": t.rejections,
            "quorum": self.rule.quorum,
            "approval": self.rule.approval,
            "reviewers": list(t.reviewers),
            "aggregate_rule": self.rule.aggregate,
            **{k: None if v is None else str(v) for k, v in zip(REVIEW_STATS, shown, strict=True)},
        }
        # Only awards with rounds log these, so logs of single reviews read as before.
        if self.round is not None:
            out["round"] = self.round
        if self.info is not None:
            out.update(rank=self.rank, of=self.info.of, cut=self.info.cut,
                       cut_score=None if self.info.cut_score is None else str(self.info.cut_score))  # fmt: skip
            if self.info.segment is not None:
                out["segment"] = self.info.segment
        return out

    @property
    def reason(self) -> str:
        if not self.rule.required:
            return "review: this award needs no committee review"
        t = self.tally
        stage = "review" if self.round is None else f"review round {self.round}"
        said = f"{stage}: {t.approvals} approve, {t.rejections} reject; quorum {self.rule.quorum}, {self.rule.approval}"
        if t.aggregate is not None:
            said += f"; {self.rule.aggregate} score {t.aggregate} (sd {t.sd}, {t.low}-{t.high})"
        if self.info is not None:
            verb = "within" if self.within else "outside"
            said += (
                f"; rank {self.rank} of {self.info.of}, {verb} the round's cut ({self.info.cut})"
            )
            if self.within and self.round is not None:
                said += f": on to round {self.round + 1}"
        return said


REVIEW_STATS = ("aggregate", "sd", "min", "max")
Decision = CutDecision | ReviewDecision


@dataclass(frozen=True)
class Outcome:
    """What one stage decides for one award.

    `decisions` are in nominee-id order (the order they are logged in). `waiting`: the review
    stage's nominees whose rule is not met yet, in the order given. `kept`: the ranking
    stages' nominees inside the cut, in rank order, and `line` the cut line (the lowest kept
    score, or the threshold when nobody is kept).
    """

    stage: Stage
    decisions: list[Decision]
    waiting: list[str] = field(default_factory=list)
    kept: list[Ranked] = field(default_factory=list)
    line: Decimal | None = None
    lines: dict[str | None, Decimal | None] = field(default_factory=dict)  # per segment

    def line_of(self, segment: str | None) -> Decimal | None:
        """The cut line that applies to a nominee of this segment (None: unsegmented)."""
        return self.lines.get(segment, self.line)


def segment_of(award: Award, nominee: Candidate) -> str | None:
    """The nominee's segment: its value of the award's segment_by field (None without one)."""
    return None if award.segment_by is None else field_value(nominee, award.segment_by)


def ranked_segments(
    workflow: Workflow,
    award: Award,
    nominees: Sequence[Candidate],
    names_in: NameOrder = thai_order,
) -> list[tuple[str | None, list[Ranked]]]:
    """Each segment (e.g. each size class) ranked on its own, segments in order; an award
    without segments is one segment, None."""
    segments: dict[str | None, list[Candidate]] = {}
    for c in nominees:
        segments.setdefault(segment_of(award, c), []).append(c)
    return [
        (s, rank(workflow, award, segments[s], names_in))
        for s in sorted(segments, key=lambda s: "" if s is None else s)
    ]


def decide(
    stage: Stage,
    workflow: Workflow,
    award: Award,
    nominees: Sequence[Candidate],
    tallies: Mapping[str, Tally] | None = None,
    names_in: NameOrder = thai_order,
    round: int = 1,
) -> Outcome:
    """What `stage` decides for the award's nominees in its source state.

    `tallies` (nominee id -> the committee's tally) matter to the review stage, and to the
    award stage of an award that ranks by the reviewed score; a nominee without one has no
    verdicts. `names_in`: the order Thai names are compared in (see awards.rules.ranking).
    `round`: the review round the award is in (the tallies are that round's verdicts).
    """
    tallies = tallies or {}
    if stage is Stage.REVIEW and round < award.round_count:
        decisions, waiting = round_decisions(workflow, award, round, nominees, tallies, names_in)
        return Outcome(stage, decisions, waiting)
    if stage is Stage.REVIEW:
        decisions, waiting = review_decisions(
            award, tallies, sorted(c.nominee_id for c in nominees), round if award.rounds else None
        )
        return Outcome(stage, decisions, waiting)
    if stage is Stage.AWARD:
        nominees = award_candidates(workflow, award, nominees, tallies)
    declared = next(d for d in PIPELINE if d.stage is stage)
    out: list[Decision] = []
    kept: list[Ranked] = []
    lines: dict[str | None, Decimal | None] = {}
    for segment, ranked in ranked_segments(workflow, award, nominees, names_in):
        if stage is Stage.SHORTLIST:
            cutting = apply_cut(ranked, award.shortlist, ties=award.ties)
            cut = award.shortlist
        else:  # quotas and bands decide winners, not the shortlist
            cutting = apply_cut(ranked, award.winners, quota=award.quota, tiers=award.tiers,
                                ties=award.ties)  # fmt: skip
            cut = award.winners
        info = CutInfo(stage.value, len(ranked), describe_cut(cut), cutting.line, segment)
        lines[segment] = cutting.line
        kept += cutting.kept
        for trig, rows, within in (
            (declared.keep, cutting.kept, True),
            (declared.drop, cutting.dropped, False),
        ):
            for r in rows:
                c = r.candidate
                out.append(
                    CutDecision(c.nominee_id, trig, r.rank, c.score, r.decided_by, within, info,
                                cutting.tiers.get(c.nominee_id), cutting.skipped.get(c.nominee_id),
                                c.nominee_id in cutting.joint)
                )  # fmt: skip
    # In nominee-id order, not rank order: the log's and the tables' indexes are then written
    # in key order, which at a million nominees is several times faster than random order.
    out.sort(key=lambda d: d.nominee_id)
    line = lines.get(None) if award.segment_by is None else None
    return Outcome(stage, out, kept=kept, line=line, lines=lines)


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
    award: Award,
    tallies: Mapping[str, Tally],
    shortlisted: Iterable[str],
    round: int | None = None,
) -> tuple[list[Decision], list[str]]:
    """Approve or reject shortlisted nominees whose review rule is met (the award's single
    review, or its last round: `round`).

    Returns the decisions and the ids still waiting for verdicts, both in the order
    `shortlisted` gives.
    """
    decisions: list[Decision] = []
    waiting = []
    for nid in shortlisted:
        t = tallies.get(nid, NO_VOTES)
        outcome = review_outcome(award.review, t.approvals, t.rejections)
        if outcome is None:
            waiting.append(nid)
        else:
            decisions.append(ReviewDecision(nid, outcome, t, award.review, round))
    return decisions, waiting


def round_decisions(
    workflow: Workflow,
    award: Award,
    number: int,
    nominees: Sequence[Candidate],
    tallies: Mapping[str, Tally],
    names_in: NameOrder = thai_order,
) -> tuple[list[Decision], list[str]]:
    """Close review round `number` (not the last): nothing until every nominee's quorum is
    met (the cut ranks them all together), then the rejected are rejected and the approved
    ranked (by the survey or the round's aggregate) against the round's cut: inside it they
    go on to the next round, outside it they are rejected. Decisions in nominee-id order;
    else every nominee still waiting, in id order."""
    rule = award.round_rule(number)
    outcomes = {
        c.nominee_id: review_outcome(rule, *_counts(tallies, c.nominee_id)) for c in nominees
    }
    waiting = sorted(n for n, o in outcomes.items() if o is None)
    if waiting:
        return [], waiting
    out: list[Decision] = [
        ReviewDecision(n, Trigger.REJECT, tallies.get(n, NO_VOTES), rule, number)
        for n, o in outcomes.items()
        if o is Trigger.REJECT
    ]
    approved = [c for c in nominees if outcomes[c.nominee_id] is Trigger.APPROVE]
    contenders = ranked_as(workflow, rule, approved, tallies)
    for segment, ranked in ranked_segments(workflow, award, contenders, names_in):
        cutting = apply_cut(ranked, rule.cut or Cut(), ties=award.ties)
        info = CutInfo(
            f"round {number}", len(ranked), describe_cut(rule.cut or Cut()), cutting.line, segment
        )
        for trig, rows, within in (
            (Trigger.NEXT_ROUND, cutting.kept, True),
            (Trigger.REJECT, cutting.dropped, False),
        ):
            for r in rows:
                n = r.candidate.nominee_id
                out.append(
                    ReviewDecision(
                        n, trig, tallies.get(n, NO_VOTES), rule, number, r.rank, info, within
                    )
                )
    out.sort(key=lambda d: d.nominee_id)
    return out, []


def _counts(tallies: Mapping[str, Tally], nominee_id: str) -> tuple[int, int]:
    t = tallies.get(nominee_id, NO_VOTES)
    return t.approvals, t.rejections
