"""Offline replay: the log re-derived from the workflow and survey files alone, as exported
from every backend."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import pytest

from awards.commands.advance import advance, move_one
from awards.commands.logbook import export_log
from awards.commands.results import ranking
from awards.log.chain import GENESIS, export_line, seal_many
from awards.log.replay import Diverged, replay
from awards.rules.states import Trigger

from support import WORKFLOW, open_cycle, review, seat

if TYPE_CHECKING:
    from conftest import Backend


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> tuple[Path, Path]:
    """A whole cycle with verdicts, a rejection, a withdrawal and a revocation, exported."""
    tmp = tmp_path_factory.mktemp("replay")
    with backend.database(tmp) as url:  # only the exported log outlives it
        survey = open_cycle(url, tmp)
        advance(url=url, actor="s")
        move_one("top-department:D025", Trigger.WITHDRAW, reason="merged", actor="s", url=url)
        seat(url)
        for row in ranking("top-department", url=url).rows:
            if row.state == "shortlisted":
                verdict = row.nominee_id != "D028"
                for reviewer in ("a", "b", "c"):
                    review(row.nomination, approve=verdict, reviewer=reviewer, url=url)
        review("top-department:D027", approve=False, reviewer="a", url=url)  # a changed verdict
        advance(url=url, actor="s")
        move_one("top-department:D029", Trigger.REVOKE, reason="false answers", actor="s", url=url)
        export_log(tmp / "log.jsonl", url=url)
        return tmp / "log.jsonl", survey


def test_replay_re_derives_every_rule_decision(cycle):
    log, survey = cycle
    result = replay(log, WORKFLOW, survey)
    # 19 x 3 verdicts, one changed, a withdrawal, a revocation, three reviewers declared
    checkpoints = sum(b'"kind":"checkpoint"' in line for line in log.read_bytes().splitlines())
    assert checkpoints == 9  # one after each stage that moved anything
    assert (result.human_decisions, result.other_events) == (19 * 3 + 1 + 2 + 3, 2 + checkpoints)
    assert result.rule_decisions == result.events - result.human_decisions - result.other_events


def test_replay_names_an_edited_survey_file(cycle, tmp_path):
    log, survey = cycle
    edited = tmp_path / "survey.csv"
    edited.write_bytes(survey.read_bytes().replace(b",69,", b",70,", 1))
    with pytest.raises(Diverged) as err:
        replay(log, WORKFLOW, edited)
    assert str(err.value).startswith("replay diverges at seq 2: logged survey ")
    assert str(err.value).endswith("the survey file is not the one the log names (SHA-256 differs)")


def test_replay_names_an_edited_workflow_file(cycle, tmp_path):
    log, survey = cycle
    edited = tmp_path / "dga-2019.toml"
    edited.write_text(
        WORKFLOW.read_text(encoding="utf-8").replace("top = 20", "top = 19"), encoding="utf-8"
    )
    with pytest.raises(Diverged) as err:
        replay(log, edited, survey)
    assert str(err.value).endswith(
        "the workflow file is not the one the log names (SHA-256 differs)"
    )


def rechained(log: Path, out: Path, edit) -> None:
    """Rewrite the log with `edit` applied to its events and a valid chain, as a forger
    with write access to the whole file would: the chain alone cannot catch this."""
    events = []
    for line in log.read_bytes().splitlines():
        event = orjson.loads(line)["event"]
        for k in ("seq", "prev", "schema_version"):
            event.pop(k)
        events.append(edit(event))
    out.write_bytes(b"".join(export_line(s.body, s.hash) for s in seal_many(events, 0, GENESIS)))


def test_replay_catches_a_forged_rank_even_with_a_valid_chain(cycle, tmp_path):
    log, survey = cycle

    def promote(event):
        if event.get("trigger") == "shortlist" and event["nominee"] == "D010":
            event["evidence"]["rank"] = 1
        return event

    forged = tmp_path / "forged.jsonl"
    rechained(log, forged, promote)
    with pytest.raises(Diverged) as err:
        replay(forged, WORKFLOW, survey)
    assert err.value.divergence.why == "different rank"
    assert (err.value.divergence.logged, err.value.divergence.derived) == ("rank 1", "rank 20")


def test_replay_catches_a_forged_award(cycle, tmp_path):
    log, survey = cycle

    def award_the_runner_up(event):
        if event.get("trigger") == "pass_over" and event["nominee"] == "D017":
            event.update(trigger="award", to="awarded")
        return event

    forged = tmp_path / "forged.jsonl"
    rechained(log, forged, award_the_runner_up)
    with pytest.raises(Diverged) as err:
        replay(forged, WORKFLOW, survey)
    assert (
        err.value.divergence.nomination,
        err.value.divergence.logged,
        err.value.divergence.derived,
    ) == (
        "top-department:D017",
        "award",
        "pass_over",
    )


def test_replay_catches_a_nomination_that_enters_awarded(cycle, tmp_path):
    """A forger who nominates straight to `awarded` (and so skips every stage) is named at
    that nomination, not passed on as a nominee who entered the pool."""
    log, survey = cycle
    forged_seq = []

    def nominate_awarded(event):
        if event.get("trigger") == "nominate" and event["nominee"] == "D017":
            event["to"] = "awarded"
        return event

    forged = tmp_path / "forged.jsonl"
    rechained(log, forged, nominate_awarded)
    for n, line in enumerate(forged.read_bytes().splitlines(), start=1):
        event = orjson.loads(line)["event"]
        if event.get("trigger") == "nominate" and event["nominee"] == "D017":
            forged_seq.append(n)
    with pytest.raises(Diverged) as err:
        replay(forged, WORKFLOW, survey)
    d = err.value.divergence
    assert (d.seq, d.logged, d.derived) == (forged_seq[0], "nominate to 'awarded'", "'surveyed'")


def test_replay_catches_a_dropped_decision(cycle, tmp_path):
    log, survey = cycle
    forged = tmp_path / "forged.jsonl"
    rechained(log, forged, lambda e: e)
    lines = forged.read_bytes().splitlines(keepends=True)
    # The forger drops the decision and the (unsigned) checkpoints that would betray it.
    checkpoints = [ln for ln in lines if b'"kind":"checkpoint"' in ln]
    kept = [
        ln
        for ln in lines
        if (b'"nominee":"D003"' not in ln or b'"trigger":"eliminate"' not in ln)
        and ln not in checkpoints
    ]
    assert len(kept) == len(lines) - 1 - len(checkpoints)
    events = [orjson.loads(ln)["event"] for ln in kept]
    for e in events:
        for k in ("seq", "prev", "schema_version"):
            e.pop(k)
    forged.write_bytes(b"".join(export_line(s.body, s.hash) for s in seal_many(events, 0, GENESIS)))
    with pytest.raises(Diverged) as err:
        replay(forged, WORKFLOW, survey)
    assert err.value.divergence.why == "the log is missing decisions the rules make"
    assert err.value.divergence.derived == "1 more decisions (first: D003)"


def test_replay_checks_each_checkpoint_against_the_events_before_it(cycle, tmp_path):
    log, survey = cycle
    first = next(
        orjson.loads(line)["event"]
        for line in log.read_bytes().splitlines()
        if b'"kind":"checkpoint"' in line
    )

    def shrink(event):
        if event.get("kind") == "checkpoint" and event["root"] == first["root"]:
            event["size"] -= 1
        return event

    forged = tmp_path / "forged.jsonl"
    rechained(log, forged, shrink)
    with pytest.raises(Diverged) as err:
        replay(forged, WORKFLOW, survey)
    assert (err.value.divergence.seq, err.value.divergence.why) == (
        first["seq"],
        f"it states {first['size'] - 1} events, but {first['size']} precede it",
    )
