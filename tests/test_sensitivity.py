"""Weight sensitivity: perturbed weights keep their sum, and re-ranking under them uses the
same rules as the decisions."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from awards.rules.ranking import rank
from awards.rules.scoring import candidates
from awards.rules.sensitivity import perturbed_weights, select, sensitivity, with_weights
from awards.rules.survey import Agency
from awards.rules.workflow import Cut, Review
from awards.rules.workflow_file import load_workflow

from support import WORKFLOW

WF = load_workflow(WORKFLOW)
WEIGHTS = tuple(d.weight for d in WF.dimensions)  # 0.20 0.20 0.30 0.10 0.15 0.05
# One winner out of a shortlist of two, no committee: the smallest award a weight can flip.
ONE = replace(WF.award("top-department"), shortlist=Cut(top=2), winners=Cut(top=1), review=Review())


def agency(aid: str, policy: str, services: str) -> Agency:
    scores = tuple(Decimal(v) for v in (policy, "50", services, "50", "50", "50"))
    return Agency(aid, f"กรม{aid}", "", "department", "", "", True, scores, {})


# Under the declared weights A (strong on policy) scores 56.00 and B (strong on services)
# 55.70; with policy at 15% B overtakes A, with policy at 25% A stays ahead.
AGENCIES = [agency("A", "80", "50"), agency("B", "50", "69"), agency("C", "40", "40")]


def test_perturbed_weights_moves_one_and_scales_the_others_in_proportion():
    moved = perturbed_weights(WEIGHTS, 0, Decimal("0.05"))
    assert moved == tuple(
        Decimal(v) for v in ("0.25", "0.1875", "0.28125", "0.09375", "0.140625", "0.046875")
    )


def test_perturbed_weights_round_the_others_and_keep_the_sum_exact():
    weights = (Decimal("0.2"), Decimal("0.3"), Decimal("0.5"))
    moved = perturbed_weights(weights, 1, Decimal("0.05"))  # the others scale by 0.65/0.70
    assert moved == (Decimal("0.185714285714"), Decimal("0.35"), Decimal("0.464285714286"))
    assert sum(moved) == Decimal(1)


def test_perturbed_weights_may_reach_zero_but_not_leave_zero_to_one():
    moved = perturbed_weights(WEIGHTS, 5, Decimal("-0.05"))
    assert moved is not None
    assert (sum(moved), moved[5]) == (Decimal(1), Decimal(0))
    assert all(
        abs(m - w / Decimal("0.95")) < Decimal("1e-11")
        for m, w in zip(moved, WEIGHTS[:5], strict=False)
    )
    assert perturbed_weights((Decimal("0.03"), Decimal("0.97")), 0, Decimal("-0.05")) is None
    assert perturbed_weights((Decimal(1), Decimal(0)), 0, Decimal("0.05")) is None
    assert perturbed_weights((Decimal(1), Decimal(0)), 0, Decimal("-0.05")) is None


@given(
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=7),
    st.data(),
)
def test_perturbed_weights_always_sum_to_the_original_total(cuts: list[int], data: st.DataObject):
    # Weights as a workflow declares them: a few decimals, summing to 1.
    bounds = [0, *sorted(cuts), 10_000]
    weights = tuple(Decimal(b - a).scaleb(-4) for a, b in pairwise(bounds))
    index = data.draw(st.integers(min_value=0, max_value=len(weights) - 1))
    delta = data.draw(st.sampled_from([Decimal("0.05"), Decimal("-0.05")]))
    moved = perturbed_weights(weights, index, delta)
    if moved is None:
        assert not 0 <= weights[index] + delta <= 1 or weights[index] == 1
    else:
        assert (sum(moved), moved[index]) == (Decimal(1), weights[index] + delta)
        assert all(w >= 0 for w in moved)


def test_with_weights_reranks_with_the_same_scoring_functions():
    moved = perturbed_weights(WEIGHTS, 0, Decimal("-0.05"))
    assert moved is not None
    ranked = rank(with_weights(WF, moved), ONE, candidates(with_weights(WF, moved), ONE, AGENCIES))
    assert [(r.candidate.nominee_id, str(r.candidate.score)) for r in ranked] == [
        ("B", "56.06"),
        ("A", "54.50"),
        ("C", "45.31"),
    ]
    assert [d.weight for d in WF.dimensions] == list(WEIGHTS)  # the workflow is untouched


def test_select_applies_the_shortlist_then_the_winners_cut():
    assert select(WF, ONE, AGENCIES) == select(WF, ONE, list(reversed(AGENCIES)))
    picked = select(WF, ONE, AGENCIES)
    assert (picked.shortlist, picked.winners, picked.shortlist_line, picked.winners_line) == (
        ("A", "B"),
        ("A",),
        Decimal("55.70"),
        Decimal("56.00"),
    )


def test_select_leaves_out_those_a_person_removed():
    assert select(WF, ONE, AGENCIES, removed={"A"}).winners == ("B",)


def test_sensitivity_names_who_enters_and_who_leaves():
    result = sensitivity(WF, ONE, AGENCIES)
    by_move = {(p.dimension, str(p.delta)): p for p in result.perturbations}
    down, up = by_move[("policy", "-0.05")], by_move[("policy", "0.05")]
    assert (len(result.perturbations), result.stable) == (12, False)
    assert (down.changed, down.entered, down.left, down.winners) == (True, ("B",), ("A",), ("B",))
    assert (up.changed, up.entered, up.left) == (False, (), ())
    assert result.baseline is not None and result.baseline.winners == ("A",)


def test_sensitivity_flags_winners_the_committee_never_reviewed():
    reviewed = replace(ONE, shortlist=Cut(top=1), review=Review(quorum=3))
    down = next(
        p
        for p in sensitivity(WF, reviewed, AGENCIES).perturbations
        if (p.dimension, p.delta) == ("policy", Decimal("-0.05"))
    )
    assert (down.entered, down.unreviewed) == (("B",), ("B",))


def test_sensitivity_reports_a_weight_that_cannot_move():
    technology = [
        p for p in sensitivity(WF, ONE, AGENCIES).perturbations if p.dimension == "technology"
    ]
    assert [(str(p.delta), p.possible) for p in technology] == [("0.05", True), ("-0.05", True)]
    lopsided = with_weights(WF, (Decimal("0.97"), *[Decimal("0.006")] * 5))
    blocked = [
        p
        for p in sensitivity(lopsided, ONE, AGENCIES).perturbations
        if p.dimension == "capability" and p.delta < 0
    ]
    assert [(p.possible, p.changed) for p in blocked] == [(False, False)]


def test_sensitivity_notes_an_award_ranked_by_one_dimension():
    result = sensitivity(WF, replace(ONE, score="services"), AGENCIES)
    assert (result.note, result.perturbations, result.baseline) == (
        "ranked by the single dimension 'services': the weights do not change it",
        (),
        None,
    )


def test_sensitivity_notes_an_award_without_a_ranking_cut():
    result = sensitivity(WF, replace(ONE, shortlist=Cut(), winners=Cut()), AGENCIES)
    assert (result.note, result.perturbations) == (
        "no ranking cut: every nominee is selected",
        (),
    )
