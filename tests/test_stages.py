"""The stage pipeline's cuts: segments, quotas, tiers and joint ties, as pure functions."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from awards.rules.scoring import Candidate
from awards.rules.stages import Stage, current_stage, decide
from awards.rules.states import Trigger
from awards.rules.workflow import Cut, Quota, Tier
from awards.rules.workflow_file import load_workflow

from support import WORKFLOW

WF = load_workflow(WORKFLOW)
# Ranked by score then id only, so the tests read plainly.
AWARD = replace(WF.award("copy-free"), tie_break=("id",))


def cand(nid: str, score: str, ministry: str = "m1", **fields: str) -> Candidate:
    s = Decimal(score)
    return Candidate(nid, f"กรม{nid}", "", "department", ministry, "", 1, (s,) * 6, s, s, fields)


def kept(outcome_decisions: list, trigger: Trigger = Trigger.AWARD) -> list[str]:
    return sorted(d.nominee_id for d in outcome_decisions if d.trigger == trigger)


def test_current_stage_is_the_first_with_nominations_in_its_source_state():
    assert current_stage({"surveyed": 2, "shortlisted": 1}) == Stage.SHORTLIST
    assert current_stage({"shortlisted": 1, "reviewed": 4}) == Stage.REVIEW
    assert current_stage({"reviewed": 4, "awarded": 2}) == Stage.AWARD
    assert current_stage({"awarded": 2, "not_awarded": 9}) is None


def test_segments_cut_each_value_on_its_own_with_ranks_within_it():
    award = replace(AWARD, winners=Cut(top=1), segment_by="size_class")
    nominees = [
        cand("A", "90", size_class="L"),
        cand("B", "80", size_class="L"),
        cand("C", "70", size_class="S"),
        cand("D", "60", size_class="S"),
    ]
    outcome = decide(Stage.AWARD, WF, award, nominees)
    assert kept(outcome.decisions) == ["A", "C"]
    by_id = {d.nominee_id: d.evidence for d in outcome.decisions}
    assert (by_id["C"]["segment"], by_id["C"]["rank"], by_id["C"]["of"]) == ("S", 1, 2)
    assert by_id["D"]["cut_score"] == "70"
    assert outcome.line_of("L") == Decimal("90")
    assert outcome.line_of("S") == Decimal("70")


def test_quota_skips_to_the_next_eligible_nominee_and_says_which_quota_was_full():
    award = replace(AWARD, winners=Cut(top=2), quota=Quota("ministry", 1))
    nominees = [cand("A", "90", "m1"), cand("B", "85", "m1"), cand("C", "80", "m2")]
    outcome = decide(Stage.AWARD, WF, award, nominees)
    assert kept(outcome.decisions) == ["A", "C"]
    skipped = next(d for d in outcome.decisions if d.nominee_id == "B")
    assert skipped.trigger == Trigger.PASS_OVER
    assert skipped.evidence["quota_full"] == "ministry m1: at most 1"
    assert "quota full (ministry m1: at most 1)" in skipped.reason


def test_tiers_give_each_winner_exactly_one_band_and_leave_out_scores_below_every_band():
    bands = (
        Tier("outstanding", "ดีเด่น", "Outstanding", Decimal(80)),
        Tier("good", "ดี", "Good", Decimal(70), Decimal(80)),
    )
    award = replace(AWARD, winners=Cut(), tiers=bands)
    nominees = [cand("A", "100"), cand("B", "80"), cand("C", "79.99"), cand("D", "69.99")]
    outcome = decide(Stage.AWARD, WF, award, nominees)
    tiers = {d.nominee_id: d.evidence.get("tier") for d in outcome.decisions}
    assert tiers == {"A": "outstanding", "B": "outstanding", "C": "good", "D": None}
    assert kept(outcome.decisions) == ["A", "B", "C"]


def test_joint_ties_award_everyone_tied_on_score_at_the_last_place():
    nominees = [cand("A", "90"), cand("B", "80"), cand("C", "80"), cand("D", "79")]
    chained = decide(Stage.AWARD, WF, replace(AWARD, winners=Cut(top=2)), nominees)
    joint = decide(Stage.AWARD, WF, replace(AWARD, winners=Cut(top=2), ties="joint"), nominees)
    assert kept(chained.decisions) == ["A", "B"]
    assert kept(joint.decisions) == ["A", "B", "C"]
    c = next(d for d in joint.decisions if d.nominee_id == "C")
    assert c.evidence["tie_break"] == "joint"


def test_evidence_of_an_award_without_the_new_rules_is_as_before():
    outcome = decide(Stage.AWARD, WF, replace(AWARD, winners=Cut(top=1)), [cand("A", "90")])
    assert set(outcome.decisions[0].evidence) == {
        "score", "rank", "of", "cut", "cut_score", "tie_break",
    }  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    scores=st.lists(st.integers(60, 70), min_size=1, max_size=25),
    top=st.integers(1, 6),
    cap=st.integers(1, 3),
    joint=st.booleans(),
    segmented=st.booleans(),
)
def test_cuts_keep_every_quota_every_band_and_every_joint_tie(
    scores: list[int], top: int, cap: int, joint: bool, segmented: bool
):
    nominees = [
        cand(f"N{i:02d}", str(s), f"m{i % 3}", size=f"s{i % 2}") for i, s in enumerate(scores)
    ]
    bands = (
        Tier("high", "สูง", "High", Decimal(66)),
        Tier("mid", "กลาง", "Mid", Decimal(62), Decimal(66)),
    )
    award = replace(
        AWARD,
        winners=Cut(top=top),
        quota=Quota("ministry", cap),
        tiers=bands,
        ties="joint" if joint else "chain",
        segment_by="size" if segmented else None,
    )
    outcome = decide(Stage.AWARD, WF, award, list(reversed(nominees)))
    winners = [d for d in outcome.decisions if d.trigger == Trigger.AWARD]
    by_id = {c.nominee_id: c for c in nominees}
    # Independent of input order.
    assert outcome.decisions == decide(Stage.AWARD, WF, award, nominees).decisions
    # No quota exceeded, in any segment.
    per = Counter((d.evidence.get("segment"), by_id[d.nominee_id].ministry) for d in winners)
    assert max(per.values(), default=0) <= cap
    # Every winner has exactly the one band its score falls in.
    for d in winners:
        (band,) = [b for b in bands if b.holds(d.score)]
        assert d.evidence["tier"] == band.key
    # Under joint ties, no one passed over (for lack of room) ties the last winner of its segment.
    if joint:
        for d in outcome.decisions:
            if d.trigger == Trigger.PASS_OVER and "quota_full" not in d.evidence:
                segment = d.evidence.get("segment")
                last = min(
                    (w.score for w in winners if w.evidence.get("segment") == segment), default=None
                )
                in_band = any(b.holds(d.score) for b in bands)
                assert not (in_band and last is not None and d.score == last)
