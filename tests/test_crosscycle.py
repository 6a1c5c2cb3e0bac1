"""Two cycles in one database, on every backend: the later cycle's awards read the earlier
one (a gain since it, its winners sitting out), its import logs the facts it took, and its
own log replays with nothing else; audit holds the facts to the earlier cycle."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from awards.cli import main
from awards.commands.advance import advance
from awards.commands.audit import audit
from awards.commands.logbook import export_log
from awards.commands.results import ranking
from awards.errors import AwardsError
from awards.log.chain import canonical, export_line
from awards.log.rederive import Diverged, Rederivation
from awards.log.replay import replay
from awards.rules.survey import read_survey
from awards.rules.workflow_file import load_workflow
from awards.store import database as db
from awards.store import earlier
from awards.store.cycles import import_survey, init_cycle
from awards.store.schema import open_engine

from crosscycle import later_survey, later_workflow, open_later, run_earlier
from forgery import rechain

EXPECTED_FACTS = {
    "scores": {"weighted": {f"D{i:03d}": f"{50 + i}.00" for i in range(10) if i != 4}},
    "winners": {"copy-free": ["D000", "D003", "D006", "D009"]},
}


def events(url: str, cycle: str) -> list[dict]:
    """The cycle's own chain, as stored."""
    with db.read(open_engine(url)) as conn:
        return [orjson.loads(body) for _, _, body in db.stored(conn, cycle)]


def rederive(workflow_path, survey_path, log: list[dict]) -> Rederivation:
    """The offline replay's fold over one cycle's events: no database, no other cycle."""
    workflow = load_workflow(workflow_path)
    fold = Rederivation(workflow, read_survey(survey_path, workflow))
    for event in log:
        fold.apply(event)
    fold.finish()
    return fold


def test_import_before_the_earlier_cycle_is_open_names_it_and_writes_nothing(db_url, tmp_path):
    workflow = later_workflow(tmp_path)
    init_cycle(workflow, url=db_url, actor="s")
    runner = CliRunner(env={"COLUMNS": "200"})
    result = runner.invoke(main, ["--db", db_url, "import", str(later_survey(tmp_path))])
    assert (result.exit_code, result.output) == (1, (
        "Error: cycle dga-2020's award most-improved, top-again reads cycle dga-2019, which "
        "is not in this database: open it (awards init) and import its survey first\n"
    ))  # fmt: skip
    assert [e["kind"] for e in events(db_url, "dga-2020")] == ["cycle_opened"]


def test_import_waits_for_the_earlier_award_whose_winners_sit_out(db_url, tmp_path):
    from crosscycle import earlier_survey
    from support import WORKFLOW

    init_cycle(WORKFLOW, url=db_url, actor="s")
    import_survey(earlier_survey(tmp_path), url=db_url, cycle="dga-2019", actor="s")
    init_cycle(later_workflow(tmp_path), url=db_url, actor="s")
    with pytest.raises(AwardsError) as err:
        import_survey(later_survey(tmp_path), url=db_url, cycle="dga-2020", actor="s")
    assert str(err.value) == (
        "cycle dga-2019's award copy-free is not decided yet (4 nominations open), and its "
        "winners sit out: finish it first (awards advance --cycle dga-2019)"
    )


def test_later_cycle_logs_the_earlier_facts_once_and_replays_from_its_own_log(db_url, tmp_path):
    run_earlier(db_url, tmp_path)
    head = events(db_url, "dga-2019")[-1]
    workflow, survey = open_later(db_url, tmp_path)
    advance(url=db_url, cycle="dga-2020", actor="s", award="most-improved")
    advance(url=db_url, cycle="dga-2020", actor="s", award="top-again")
    log = events(db_url, "dga-2020")
    facts = [e for e in log if e["kind"] == "earlier_facts"]
    assert len(facts) == 1
    assert [e["kind"] for e in log[:3]] == ["cycle_opened", "survey_imported", "earlier_facts"]
    assert {k: facts[0][k] for k in ("earlier", "earlier_seq", "earlier_head", "scores", "winners")} == {
        "earlier": "dga-2019", "earlier_seq": head["seq"], "earlier_head": _hash(db_url, "dga-2019", head["seq"]),
        **EXPECTED_FACTS,
    }  # fmt: skip
    improved = ranking("most-improved", url=db_url, cycle="dga-2020")
    assert [(r.nominee_id, r.score, r.state) for r in improved.rows[:4]] == [
        ("D008", Decimal("10.00"), "awarded"), ("D002", Decimal("7.00"), "awarded"),
        ("D007", Decimal("7.00"), "awarded"), ("D000", Decimal("1.00"), "eliminated"),
    ]  # fmt: skip
    assert improved.rows[-1].score == Decimal("-5.00")
    assert [(x.nominee_id, x.reason) for x in improved.excluded] == [
        ("D004", "not eligible: no weighted score in dga-2019 to gain from"),
        ("D100", "not eligible: no weighted score in dga-2019 to gain from"),
    ]
    again = ranking("top-again", url=db_url, cycle="dga-2020")
    assert [r.nominee_id for r in again.rows if r.state == "awarded"] == ["D100", "D004", "D008"]
    assert [x.reason for x in again.excluded] == ["sits out: won copy-free in dga-2019"] * 4
    assert audit(url=db_url).clean
    exported = tmp_path / "dga-2020.jsonl"
    export_log(exported, url=db_url, cycle="dga-2020")
    replayed = replay(exported, workflow, survey)  # the later cycle's log alone
    assert replayed.rule_decisions == sum(1 for e in log if e["kind"] == "transition")


def _hash(url: str, cycle: str, seq: int) -> str:
    with db.read(open_engine(url)) as conn:
        return next(h for s, h, _ in db.stored(conn, cycle) if s == seq)


def test_an_edited_earlier_score_is_named_at_its_seq_by_replay(db_url, tmp_path):
    run_earlier(db_url, tmp_path)
    workflow, survey = open_later(db_url, tmp_path)
    log = events(db_url, "dga-2020")
    seq = next(e["seq"] for e in log if e["kind"] == "earlier_facts")

    def edit(event: dict) -> dict:
        if event["kind"] == "earlier_facts":
            event["scores"]["weighted"]["D008"] = "50.00"  # was 58.00: a gain of 18 instead
        return event

    forged = [orjson.loads(line)["event"] for line in rechain(log, edit=edit).splitlines()]
    assert forged[2]["scores"]["weighted"]["D008"] == "50.00"
    with pytest.raises(Diverged) as err:
        rederive(workflow, survey, forged)
    message = str(err.value)
    assert message.endswith(
        "logged score 10.00; re-derived score 18.00: different score: the gain since dga-2019 "
        f"from D008's weighted score there, 50.00, as the facts of seq {3} carry it"
    )
    assert "(most-improved:D008)" in message
    assert seq >= 3


def test_audit_names_facts_that_are_not_the_earlier_cycles(db_url, tmp_path, monkeypatch):
    run_earlier(db_url, tmp_path)
    real = earlier.gather

    def forged(conn, workflow, ids):  # an import that logs an edited earlier score
        facts = real(conn, workflow, ids)
        then = facts["dga-2019"]
        scores = {"weighted": {**then.scores["weighted"], "D008": Decimal("50.00")}}
        return {"dga-2019": replace(then, scores=scores)}

    monkeypatch.setattr(earlier, "gather", forged)
    open_later(db_url, tmp_path)
    seq = next(e["seq"] for e in events(db_url, "dga-2020") if e["kind"] == "earlier_facts")
    assert [str(d) for d in audit(url=db_url).drift] == [
        f"cycle dga-2020: the facts of dga-2019 at seq {seq}: D008's weighted score is "
        "'58.00' in the tables but '50.00' in the log"
    ]


def own_log(url: str, cycle: str, path: Path) -> Path:
    """The cycle's own log as an exported file, as the auditor receives it."""
    export_log(path, url=url, cycle=cycle)
    return path


def test_replay_names_an_edited_fact_with_its_hash_restated_at_its_seq(db_url, tmp_path):
    run_earlier(db_url, tmp_path)
    workflow, survey = open_later(db_url, tmp_path)
    advance(url=db_url, cycle="dga-2020", actor="s", award="most-improved")
    log = own_log(db_url, "dga-2020", tmp_path / "dga-2020.jsonl")
    assert replay(log, workflow, survey).rule_decisions > 0  # alone, with no other log
    lines = log.read_bytes().splitlines(keepends=True)
    event = orjson.loads(lines[2])["event"]
    assert event["kind"] == "earlier_facts"
    event["scores"]["weighted"]["D008"] = "50.00"
    body = canonical(event)
    lines[2] = export_line(body, hashlib.sha256(body).hexdigest())
    log.write_bytes(b"".join(lines))
    with pytest.raises(Diverged) as err:
        replay(log, workflow, survey)
    assert err.value.divergence.seq == event["seq"]
    assert str(err.value).startswith(
        f"replay diverges at seq {event['seq']}: logged facts of dga-2019; re-derived the facts "
        "the later decisions need: the decisions after it were taken with other facts (seq "
    )
    assert "(most-improved:D008): logged score 10.00; re-derived score 18.00" in str(err.value)


def test_report_states_the_cross_cycle_rules_and_who_they_keep_out(db_url, tmp_path):
    from awards.report.build import report

    run_earlier(db_url, tmp_path)
    open_later(db_url, tmp_path)
    advance(url=db_url, cycle="dga-2020", actor="s", award="most-improved")
    page = report(url=db_url, cycle="dga-2020", out=tmp_path / "r.html").html.read_text("utf-8")
    assert "the gain since dga-2019 of the weighted score (no score there: not eligible)" in page
    assert "the winners of copy-free in dga-2019 sit out" in page
    assert (
        'D100 กรมใหม่: <span class="en">not eligible: no weighted score in dga-2019 to gain '
        "from</span>" in page
    )
    assert 'D003 กรมทดสอบ003: <span class="en">sits out: won copy-free in dga-2019</span>' in page
