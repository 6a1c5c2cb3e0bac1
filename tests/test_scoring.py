"""Scoring and ranking rules: half-up rounding, tie-breaks, Thai order, order independence."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from awards.rules.ranking import apply_cut, rank
from awards.rules.scoring import (
    Candidate,
    candidates,
    national_means,
    round_half_up,
    weighted_score,
)
from awards.rules.stages import Stage, decide, review_outcome
from awards.rules.states import Trigger
from awards.rules.survey import Agency
from awards.rules.workflow import Cut, Dimension, Review
from awards.rules.workflow_file import load_workflow

from support import WORKFLOW

WF = load_workflow(WORKFLOW)
WEIGHTS = tuple(d.weight for d in WF.dimensions)
TOP = WF.award("top-department")


def cand(
    nid: str, score: str, name: str = "", services: str = "50", policy: str = "50"
) -> Candidate:
    scores = (
        Decimal(policy),
        Decimal(50),
        Decimal(services),
        Decimal(50),
        Decimal(50),
        Decimal(50),
    )
    return Candidate(
        nid,
        name or f"กรม{nid}",
        "",
        "department",
        "",
        "",
        1,
        scores,
        Decimal(score),
        Decimal(score),
    )


def agency(
    aid: str,
    scores: tuple[str, ...] | None,
    level: str = "department",
    province: str = "",
    **flags: bool,
) -> Agency:
    values = None if scores is None else tuple(Decimal(s) for s in scores)
    return Agency(
        aid,
        f"หน่วย{aid}",
        "",
        level,
        "",
        province,
        values is not None,
        values,
        {"copy_free": False, **flags},
    )


def test_round_half_up_rounds_halves_away_from_zero():
    assert round_half_up(Decimal("64.605"), 2) == Decimal("64.61")
    assert round_half_up(Decimal("64.615"), 2) == Decimal(
        "64.62"
    )  # banker's rounding would give 64.62 too
    assert round_half_up(Decimal("64.625"), 2) == Decimal("64.63")  # ...but 64.62 here
    assert round_half_up(Decimal("64.6049999"), 2) == Decimal("64.60")
    assert round_half_up(Decimal("2.5"), 0) == Decimal("3")


def test_weighted_score_uses_decimal_not_float():
    # 0.1*x sums that float arithmetic gets wrong: 0.15 * 75.35 = 11.3025 exactly
    scores = tuple(Decimal(v) for v in ("57.21", "66.08", "68.57", "61.97", "75.36", "37.46"))
    assert weighted_score(scores, WEIGHTS, 2) == Decimal("64.60")
    assert weighted_score(scores, WEIGHTS, 3) == Decimal("64.603")


def test_national_means_reproduce_published_2019_figures():
    dept = ("57.21", "66.08", "68.57", "61.97", "75.36", "37.46")
    prov = ("41.07", "57.20", "53.66", "52.57", "59.65", "22.73")
    agencies = [agency("D1", dept), agency("D2", None), agency("P1", prov, "provincial", "ตาก")]
    means = national_means(WF, agencies)
    assert means["department"]["weighted"] == Decimal("64.60")
    assert means["provincial"]["weighted"] == Decimal("51.09")
    assert (means["department"]["surveyed"], means["department"]["responded"]) == (2, 1)


def test_rank_breaks_score_ties_by_the_chain_in_order():
    # top-department: score, then services, then policy, then Thai name, then id
    cands = [
        cand("A", "80", services="70"),
        cand("B", "80", services="90"),
        cand("C", "80", services="90", policy="60"),
        cand("D", "85"),
    ]
    ranked = rank(WF, TOP, cands)
    assert [(r.candidate.nominee_id, r.rank, r.decided_by) for r in ranked] == [
        ("D", 1, "score"),
        ("C", 2, "policy"),
        ("B", 3, "policy"),
        ("A", 4, "services"),
    ]


def test_rank_compares_thai_names_in_dictionary_order_not_code_points():
    # Code-point order puts เ (U+0E40) after ข (U+0E02); the dictionary orders by the
    # consonant: เกาะ (ก) comes before ขาว (ข).
    cands = [cand("1", "70", "ขาว"), cand("2", "70", "เกาะ"), cand("3", "70", "กา")]
    ranked = rank(WF, TOP, cands)
    assert [r.candidate.name_th for r in ranked] == ["กา", "เกาะ", "ขาว"]
    assert sorted(["ขาว", "เกาะ", "กา"]) == ["กา", "ขาว", "เกาะ"]
    assert {r.decided_by for r in ranked} == {"name_th"}


def test_rank_falls_back_to_the_unique_id_when_everything_else_ties():
    ranked = rank(WF, TOP, [cand("B", "70", "กรม"), cand("A", "70", "กรม")])
    assert [(r.candidate.nominee_id, r.decided_by) for r in ranked] == [("A", "id"), ("B", "id")]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["70.00", "70.01", "69.99", "80.00"]),
            st.sampled_from(["กา", "เกาะ", "ขาว", "ไก่", "ก้อน", "กรม"]),
            st.sampled_from(["50", "60"]),
        ),
        min_size=1,
        max_size=25,
    ),
    st.randoms(use_true_random=False),
)
def test_rank_is_independent_of_input_order(rows, rnd):
    cands = [cand(f"N{i:02d}", s, name, services=sv) for i, (s, name, sv) in enumerate(rows)]
    shuffled = list(cands)
    rnd.shuffle(shuffled)
    assert rank(WF, TOP, shuffled) == rank(WF, TOP, cands)


def test_apply_cut_keeps_top_n_and_reports_the_cut_line():
    ranked = rank(WF, TOP, [cand(str(i), str(90 - i)) for i in range(5)])
    kept, dropped, line, *_ = apply_cut(ranked, Cut(top=3))
    assert [r.candidate.nominee_id for r in kept] == ["0", "1", "2"]
    assert [r.candidate.nominee_id for r in dropped] == ["3", "4"]
    assert line == Decimal("88")


def test_apply_cut_threshold_with_top_keeps_only_those_above():
    ranked = rank(WF, TOP, [cand(str(i), str(90 - i)) for i in range(5)])
    kept, _, line, *_ = apply_cut(ranked, Cut(top=4, threshold=Decimal("88.5")))
    assert [r.candidate.nominee_id for r in kept] == ["0", "1"]
    assert line == Decimal("89")


def test_shortlist_decisions_carry_score_rank_cut_and_tie_break():
    decisions = decide(
        Stage.SHORTLIST, WF, replace(TOP, shortlist=Cut(top=1)), [cand("A", "80"), cand("B", "75")]
    ).decisions
    assert [(d.nominee_id, d.trigger) for d in decisions] == [
        ("A", Trigger.SHORTLIST),
        ("B", Trigger.ELIMINATE),
    ]
    assert decisions[0].evidence == {
        "score": "80",
        "rank": 1,
        "of": 2,
        "cut": "top 1",
        "cut_score": "80",
        "tie_break": "score",
    }


def test_group_candidates_are_provinces_scored_as_the_mean_of_members():
    award = WF.award("top-province")
    members = [agency(f"P{i}", (str(50 + i),) * 6, "provincial", "ตาก") for i in range(5)]
    small = [
        agency(f"Q{i}", ("90",) * 6, "provincial", "น่าน") for i in range(4)
    ]  # below min_members
    result = candidates(WF, award, members + small)
    assert [(c.nominee_id, c.name_en, c.members, c.score) for c in result] == [
        ("ตาก", "Tak", 5, Decimal("52.00"))
    ]


def test_pool_filters_on_flags_and_response():
    award = WF.award("copy-free")
    pool = [
        agency("A", ("50",) * 6, copy_free=True),
        agency("B", ("50",) * 6),
        agency("C", None, copy_free=True),
    ]
    assert [c.nominee_id for c in candidates(WF, award, pool)] == ["A"]


def test_review_outcome_waits_for_quorum_then_applies_majority():
    rule = Review(quorum=3, approval="majority")
    assert review_outcome(rule, 2, 0) is None
    assert review_outcome(rule, 2, 1) == Trigger.APPROVE
    assert review_outcome(rule, 1, 2) == Trigger.REJECT
    assert review_outcome(Review(quorum=2, approval="majority"), 1, 1) == Trigger.REJECT
    assert review_outcome(Review(quorum=2, approval="unanimous"), 2, 1) == Trigger.REJECT
    assert review_outcome(Review(quorum=0), 0, 0) == Trigger.APPROVE


HOSTILE = ["0", "100", "100.00", "0.005", "49.995", "99.995", "0.000001", "50", "33.333333"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.decimals(min_value="0.0001", max_value="0.9", places=4)
        | st.sampled_from(["0.2", "0.05", "0.125"]).map(Decimal),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 6),
    st.data(),
)
def test_candidates_score_exactly_as_decimal_arithmetic(weights, places, data):
    """The integer scoring of a large pool gives exactly the Decimal half-up results, down to
    the text: zeros, full marks, halves at every precision, many dimensions, and scores with
    more decimals than it takes (left to Decimal)."""
    dims = tuple(Dimension(f"d{i}", "", "", w) for i, w in enumerate(weights))
    workflow = replace(WF, dimensions=dims, precision=places)
    score = st.sampled_from(HOSTILE).map(Decimal) | st.decimals(
        0, 100, places=data.draw(st.integers(0, 7))
    )
    rows = data.draw(st.lists(st.tuples(*[score] * len(dims)), min_size=1, max_size=20))
    agencies = [
        Agency(f"A{i}", f"หน่วย{i}", "", "department", "", "", True, s, {"copy_free": False})
        for i, s in enumerate(rows)
    ]
    award = replace(TOP, pool=replace(TOP.pool, level=None, flags={}), score="weighted")
    got = candidates(workflow, award, agencies)
    for c, s in zip(got, rows, strict=True):
        assert str(c.weighted) == str(weighted_score(s, weights, places))
        assert [str(x) for x in c.scores] == [str(round_half_up(x, places)) for x in s]
        assert c.score is c.weighted
    by_dimension = candidates(workflow, replace(award, score="d0"), agencies)
    for c, s in zip(by_dimension, rows, strict=True):
        assert str(c.score) == str(round_half_up(s[0], places)) == str(c.scores[0])
