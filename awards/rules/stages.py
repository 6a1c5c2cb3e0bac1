"""The stage pipeline: which stage an award is at and what that stage decides. Pure.

An award goes through three stages, each taking the nominations in one state:

1. shortlist: every `surveyed` nomination is ranked; those inside the shortlist cut are
   shortlisted, the rest eliminated;
2. review: each `shortlisted` nomination whose review rule is met (quorum, approval) is
   approved or rejected; the others wait;
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

from awards.rules.committee import NO_VOTES, Tally, award_candidates
from awards.rules.ranking import Ranked, apply_cut, describe_cut, rank
from awards.rules.scoring import Candidate, field_value
from awards.rules.states import State, Trigger
from awards.rules.thai import NameOrder, thai_order
from awards.rules.workflow import Award, Review, Tier, Workflow


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
# Which stage a rule-based trigger belongs to.
STAGE_OF: dict[str, Stage] = {t.value: d.stage for d in PIPELINE for t in (d.keep, d.drop)}


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
) -> Outcome:
    """What `stage` decides for the award's nominees in its source state.

    `tallies` (nominee id -> the committee's tally) matter to the review stage, and to the
    award stage of an award that ranks by the reviewed score; a nominee without one has no
    verdicts. `names_in`: the order Thai names are compared in (see awards.rules.ranking).
    """
    tallies = tallies or {}
    if stage is Stage.REVIEW:
        decisions, waiting = review_decisions(
            award, tallies, sorted(c.nominee_id for c in nominees)
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
    award: Award, tallies: Mapping[str, Tally], shortlisted: Iterable[str]
) -> tuple[list[Decision], list[str]]:
    """Approve or reject shortlisted nominees whose review rule is met.

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
            decisions.append(ReviewDecision(nid, outcome, t, award.review))
    return decisions, waiting
