"""The engine on a real database, every backend: import, advance, review, withdraw, the log."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, text

from awards.commands.advance import advance, move_one
from awards.commands.logbook import export_log, history, verify_database, verify_file
from awards.commands.results import ranking, status
from awards.commands.seats import list_reviewers
from awards.errors import AwardsError, ConflictError, InputErrors, TransitionError
from awards.log.chain import now
from awards.log.projection import fold
from awards.rules.states import Trigger
from awards.store import database as db
from awards.store import writes
from awards.store.cycles import import_survey, init_cycle
from awards.store.models import Event, Nomination
from awards.store.schema import open_engine

from support import WORKFLOW, agency_line, open_cycle, review, seat, small_survey, write_survey


@pytest.fixture
def cycle(db_url: str, tmp_path: Path) -> str:
    open_cycle(db_url, tmp_path, actor="secretary")
    return db_url


def states(url: str, award: str) -> dict[str, int]:
    return status(url=url).awards[award]


def table_states(url: str) -> dict[str, str]:
    with db.read(open_engine(url)) as conn:
        return {f"{r.award}:{r.nominee_id}": r.state for r in conn.execute(select(Nomination))}


def log_states(url: str) -> dict[str, str]:
    """The log folded by the projection: each nomination's current state."""
    (cycle,) = fold(history(url=url)).cycles.values()
    return {f"{award}:{nominee}": state for (award, nominee), state in cycle.states.items()}


def approve_all(url: str, award: str, reviewers: int = 3) -> None:
    """Three approvals for every shortlisted nomination that has no verdict yet."""
    if not list_reviewers(url=url):
        seat(url, tuple(f"r{i}" for i in range(reviewers)), award)
    for row in ranking(award, url=url).rows:
        if row.state == "shortlisted" and not row.approvals + row.rejections:
            for i in range(reviewers):
                review(row.nomination, approve=True, reviewer=f"r{i}", url=url)


def test_import_nominates_each_award_pool(cycle):
    assert states(cycle, "top-department") == {"surveyed": 30}
    assert states(cycle, "top-province") == {"surveyed": 6}
    assert states(cycle, "copy-free") == {"surveyed": 10}


def test_advance_runs_rule_only_awards_to_the_end_and_stops_for_review(cycle):
    result = advance(url=cycle, actor="secretary")
    assert [(s.award, s.stage, s.moved) for s in result.stages] == [
        ("top-department", "shortlist", {"eliminated": 10, "shortlisted": 20}),
        ("top-department", "review", {}),
        ("top-province", "shortlist", {"shortlisted": 5, "eliminated": 1}),
        ("top-province", "review", {"reviewed": 5}),
        ("top-province", "award", {"awarded": 5}),
        ("copy-free", "shortlist", {"shortlisted": 10}),
        ("copy-free", "review", {"reviewed": 10}),
        ("copy-free", "award", {"awarded": 10}),
    ]
    assert len(result.stages[1].waiting) == 20
    assert result.stages[1].waiting[0].needed == 3
    assert result.done == ["top-province", "copy-free"]


def test_advance_awards_the_top_ten_after_the_committee_approves(cycle):
    advance(url=cycle, actor="secretary")
    approve_all(cycle, "top-department")
    advance(url=cycle, actor="secretary")
    assert states(cycle, "top-department") == {"awarded": 10, "eliminated": 10, "not_awarded": 10}
    winners = [
        r.nominee_id for r in ranking("top-department", url=cycle).rows if r.state == "awarded"
    ]
    assert winners == [f"D{i:03d}" for i in range(29, 19, -1)]


def test_rejected_nominee_makes_room_for_the_next_one(cycle):
    advance(url=cycle, actor="secretary")
    seat(cycle, ("r0", "r1", "r2"))
    for i in range(3):
        review("top-department:D029", approve=False, reviewer=f"r{i}", url=cycle)
    approve_all(cycle, "top-department")
    advance(url=cycle, actor="secretary")
    rows = {r.nominee_id: r.state for r in ranking("top-department", url=cycle).rows}
    assert (rows["D029"], rows["D019"], rows["D018"]) == ("rejected", "awarded", "not_awarded")


def test_tables_equal_the_fold_of_the_log_after_a_full_cycle(cycle):
    advance(url=cycle, actor="secretary")
    move_one(
        "top-department:D025",
        Trigger.WITHDRAW,
        reason="merged with another agency",
        actor="s",
        url=cycle,
    )
    approve_all(cycle, "top-department")
    advance(url=cycle, actor="secretary")
    move_one("top-department:D029", Trigger.REVOKE, reason="false data found", actor="s", url=cycle)
    assert log_states(cycle) == table_states(cycle)
    assert verify_database(url=cycle).events == len(history(url=cycle))


def test_transition_events_carry_the_evidence(cycle):
    advance(url=cycle, actor="secretary", award="top-province")
    (event,) = [e for e in history(url=cycle, nominee=ranking("top-province", url=cycle).rows[0].nominee_id)
                if e["trigger"] == "shortlist"]  # fmt: skip
    evidence = event["evidence"]
    assert (evidence["rank"], evidence["cut"], evidence["tie_break"]) == (1, "top 5", "score")
    assert set(evidence) == {
        "score",
        "rank",
        "of",
        "cut",
        "cut_score",
        "tie_break",
    }
    assert event["at"].endswith("+07:00")
    assert (event["actor"], event["from"], event["to"]) == ("secretary", "surveyed", "shortlisted")


def test_dry_run_writes_nothing(cycle):
    before = verify_database(url=cycle)
    result = advance(url=cycle, actor="secretary", dry_run=True)
    assert [(s.award, s.stage) for s in result.stages] == [
        ("top-department", "shortlist"),
        ("top-province", "shortlist"),
        ("copy-free", "shortlist"),
    ]
    assert verify_database(url=cycle) == before
    assert states(cycle, "top-department") == {"surveyed": 30}


def test_reimporting_the_same_file_is_a_no_op(cycle, tmp_path):
    before = verify_database(url=cycle)
    again = import_survey(tmp_path / "survey.csv", url=cycle, actor="secretary")
    assert again.unchanged is True
    assert verify_database(url=cycle) == before


def test_a_different_survey_needs_replace_and_is_logged(cycle, tmp_path):
    other = small_survey(tmp_path / "other.csv", departments=12)
    with pytest.raises(AwardsError) as err:
        import_survey(other, url=cycle, actor="secretary")
    assert "pass --replace to import a different file in its place" in str(err.value)
    result = import_survey(other, url=cycle, actor="secretary", replace=True)
    assert result.nominations["top-department"] == 12
    assert states(cycle, "top-department") == {"surveyed": 12}
    (replaced,) = [
        e for e in history(url=cycle) if e["kind"] == "survey_imported" and e["replaces"]
    ]
    assert replaced["survey_sha256"] == result.sha256


def test_replace_is_refused_once_nominations_moved(cycle, tmp_path):
    advance(url=cycle, actor="secretary", award="copy-free")
    with pytest.raises(AwardsError) as err:
        import_survey(
            small_survey(tmp_path / "other.csv", departments=12), url=cycle, actor="s", replace=True
        )
    assert str(err.value) == (
        "cycle dga-2019 cannot take a new survey: 10 nominations have already moved past 'surveyed' under the current one"
    )


def test_bad_survey_writes_nothing(db_url, tmp_path):
    init_cycle(WORKFLOW, url=db_url, actor="s")
    before = verify_database(url=db_url)
    bad = write_survey(
        tmp_path / "bad.csv", [agency_line("D1", "กรม", ("50", "50", "500", "50", "50", "50"))]
    )
    with pytest.raises(InputErrors):
        import_survey(bad, url=db_url, actor="s")
    assert verify_database(url=db_url) == before
    assert status(url=db_url).survey_sha256 is None


def test_withdraw_needs_a_reason(cycle):
    with pytest.raises(TransitionError) as err:
        move_one("top-department:D001", Trigger.WITHDRAW, reason=" ", actor="s", url=cycle)
    assert (
        str(err.value)
        == "'withdraw' needs a reason: say why with --reason (nomination top-department:D001)"
    )


def test_illegal_move_is_refused_and_names_what_is_allowed(cycle):
    with pytest.raises(TransitionError) as err:
        move_one("top-department:D001", Trigger.REVOKE, reason="x", actor="s", url=cycle)
    assert str(err.value) == (
        "nomination top-department:D001 is 'surveyed'; 'revoke' needs 'awarded'. Allowed now: shortlist, eliminate, withdraw"
    )


def test_review_is_refused_before_the_shortlist(cycle):
    with pytest.raises(TransitionError) as err:
        review("top-department:D001", approve=True, reviewer="r", url=cycle)
    assert (
        str(err.value)
        == "nomination top-department:D001 is 'surveyed'; verdicts are taken only while it is 'shortlisted'"
    )


def test_changed_verdict_replaces_the_old_one_and_logs_both(cycle):
    advance(url=cycle, actor="s")
    seat(cycle, ("r1", "r2", "r3"))
    review("top-department:D029", approve=True, reviewer="r1", url=cycle)
    changed = review(
        "top-department:D029", approve=False, reviewer="r1", url=cycle, note="data checked"
    )
    assert (changed.verdict, changed.previous) == (
        "reject",
        {"verdict": "approve", "scores": {}, "note": ""},
    )
    row = next(r for r in ranking("top-department", url=cycle).rows if r.nominee_id == "D029")
    assert (row.approvals, row.rejections) == (0, 1)
    verdicts = [e["verdict"] for e in history(url=cycle, nominee="D029") if e["kind"] == "verdict"]
    assert verdicts == ["approve", "reject"]


def test_stale_move_is_a_conflict_and_writes_nothing(cycle):
    engine = open_engine(cycle)
    before = verify_database(url=cycle)
    with db.read(engine) as conn:
        row = conn.execute(select(Nomination).where(Nomination.nominee_id == "D001")).first()
    stale = writes.Move(
        row.id, row.award, row.nominee_id, "shortlisted", "approve", writes.Stated("", {})
    )
    ctx = writes.Context("dga-2019", "s", now())
    with pytest.raises(ConflictError), db.write(engine) as conn:
        writes.apply(conn, ctx, [stale])
    assert verify_database(url=cycle) == before


@pytest.mark.parametrize(
    "statement", ["UPDATE event SET kind = 'x' WHERE seq = 1", "DELETE FROM event WHERE seq = 1"]
)
def test_database_refuses_to_change_the_log(cycle, statement):
    engine = open_engine(cycle)
    with pytest.raises(Exception) as err, engine.begin() as conn:
        conn.execute(text(statement))
    assert "append-only" in str(err.value)
    with db.read(engine) as conn:
        assert conn.execute(select(Event.kind).where(Event.seq == 1)).scalar_one() == "cycle_opened"


def test_exported_log_verifies_and_matches_the_database(cycle, tmp_path):
    advance(url=cycle, actor="s")
    exported = export_log(tmp_path / "log.jsonl", url=cycle)
    assert verify_file(tmp_path / "log.jsonl") == exported == verify_database(url=cycle)
    kinds = Counter(e["kind"] for e in history(url=cycle))
    # shortlist, then the rule-only review and award of two awards: seven stages moved, each
    # closed by its checkpoint
    assert kinds == {
        "cycle_opened": 1,
        "survey_imported": 1,
        "checkpoint": 7,
        "transition": exported.events - 2 - 7,
    }


def test_opening_a_cycle_twice_with_other_rules_is_refused(db_url, tmp_path):
    init_cycle(WORKFLOW, url=db_url, actor="s")
    assert init_cycle(WORKFLOW, url=db_url, actor="s").created is False
    changed = tmp_path / "dga-2019.toml"
    changed.write_text(
        WORKFLOW.read_text(encoding="utf-8").replace("top = 20", "top = 25"), encoding="utf-8"
    )
    with pytest.raises(AwardsError) as err:
        init_cycle(changed, url=db_url, actor="s")
    assert str(err.value).startswith("cycle dga-2019 is already open with other rules")
