"""Cross-cycle rules, pure: a gain since an earlier cycle and earlier winners sitting out,
read from a workflow file and applied to a survey with the facts of the earlier cycle."""

from __future__ import annotations

from decimal import Decimal

import pytest

from awards.errors import InputErrors
from awards.rules.earlier import Facts, MissingFacts, exclusion
from awards.rules.scoring import candidates, excluded
from awards.rules.stages import Stage, decide
from awards.rules.survey import read_survey
from awards.rules.workflow import SitOut
from awards.rules.workflow_file import load_workflow

from crosscycle import LATER_AWARDS, later_survey, later_workflow

D = Decimal
HEAD = "0" * 64


def earlier_facts(winners: frozenset[str] = frozenset({"D000", "D003"})) -> dict[str, Facts]:
    """dga-2019 as the later cycle sees it: weighted scores 50+i, D004 without one."""
    scores = {f"D{i:03d}": D(50 + i) for i in range(10) if i != 4}
    return {"dga-2019": Facts("dga-2019", 42, HEAD, {"weighted": scores}, {"copy-free": winners})}


@pytest.fixture
def later(tmp_path):
    workflow = load_workflow(later_workflow(tmp_path))
    return workflow, read_survey(later_survey(tmp_path), workflow).agencies


def test_workflow_reads_gain_since_and_sit_out(later):
    workflow, _ = later
    assert workflow.award("most-improved").gain_since == "dga-2019"
    assert workflow.award("top-again").sit_out == SitOut("copy-free", ("dga-2019",))
    assert workflow.earlier_cycles == ("dga-2019",)


def test_gain_is_the_score_minus_the_earlier_one_and_may_be_negative(later):
    workflow, agencies = later
    gains = {
        c.nominee_id: c.score
        for c in candidates(workflow, workflow.award("most-improved"), agencies, earlier_facts())
    }
    assert gains["D001"] == D("-5.00")
    assert gains["D008"] == D("10.00")
    assert gains["D002"] == gains["D007"] == D("7.00")


def test_agency_absent_from_the_earlier_cycle_is_not_eligible_and_says_why(later):
    workflow, agencies = later
    award = workflow.award("most-improved")
    left_out = excluded(workflow, award, agencies, earlier_facts())
    assert [(c.nominee_id, why) for c, why in left_out] == [
        ("D004", "not eligible: no weighted score in dga-2019 to gain from"),
        ("D100", "not eligible: no weighted score in dga-2019 to gain from"),
    ]
    nominated = {c.nominee_id for c in candidates(workflow, award, agencies, earlier_facts())}
    assert nominated == {f"D{i:03d}" for i in range(10)} - {"D004"}


def test_tied_gains_are_broken_by_the_declared_chain(later):
    workflow, agencies = later
    award = workflow.award("most-improved")
    pool = candidates(workflow, award, agencies, earlier_facts())
    outcome = decide(Stage.SHORTLIST, workflow, award, pool)
    assert [(r.candidate.nominee_id, r.candidate.score) for r in outcome.kept] == [
        ("D008", D("10.00")), ("D002", D("7.00")), ("D007", D("7.00")),
    ]  # fmt: skip
    assert [r.decided_by for r in outcome.kept] == ["score", "name_th", "name_th"]


def test_winner_of_the_earlier_cycle_sits_out(later):
    workflow, agencies = later
    award = workflow.award("top-again")
    pool = candidates(workflow, award, agencies, earlier_facts())
    assert "D000" not in {c.nominee_id for c in pool}
    assert exclusion(award, "D003", earlier_facts()) == "sits out: won copy-free in dga-2019"
    assert exclusion(award, "D001", earlier_facts()) is None
    # The sit-out is an eligibility rule only: the others keep their own score.
    assert {c.nominee_id: c.score for c in pool}["D100"] == D("90.00")


def test_rules_without_the_earlier_facts_name_the_cycle_to_import(later):
    workflow, agencies = later
    with pytest.raises(MissingFacts) as err:
        candidates(workflow, workflow.award("most-improved"), agencies, {})
    assert str(err.value) == (
        "award most-improved reads cycle dga-2019, whose facts are not recorded; open cycle "
        "dga-2019 and import its survey first, then import this cycle's survey"
    )


def test_cross_cycle_rules_with_mistakes_are_located(tmp_path):
    bad = LATER_AWARDS.replace('gain_since = "dga-2019"', 'gain_since = "dga-2020"')
    bad = bad.replace('cycles = ["dga-2019"]', "cycles = []")
    bad = bad.replace('score = "weighted"\n', 'score = "weighted"\nreview = { quorum = 3 }\n')
    with pytest.raises(InputErrors) as err:
        load_workflow(later_workflow(tmp_path, bad))
    lines = [p.message for p in err.value.problems]
    assert lines == [
        "an award ranked by a gain takes no committee review (quorum 0): reviewers adjust "
        "this cycle's scores, not the earlier cycle's",
        "'dga-2020' is this cycle; name an earlier one",
        'name the earlier cycles whose winners sit out, e.g. ["dga-2022"]',
    ]
