"""Two cycles in one database, every backend: each cycle's events are a chain of their own,
numbered from 1, so each cycle's export verifies and replays offline alone, and every check
of the database (log verify, audit, status, checkpoints, certificates) names that cycle's
own head."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from awards.certificates.issuing import render
from awards.cli import main
from awards.commands.advance import advance
from awards.commands.audit import audit
from awards.commands.results import ranking, status
from awards.log.chain import seal
from awards.log.replay import replay
from awards.report.build import latest_checkpoint
from awards.store import database as db
from awards.store.checkpoints import prove
from awards.store.cycles import import_survey, init_cycle
from awards.store.schema import open_engine

from support import WORKFLOW, small_survey

FIRST, SECOND = "dga-2019", "dga-2019-repeat"


def run(*args: str, url: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--db", url, "--actor", "tester", *args])
    return result.exit_code, result.output


@pytest.fixture
def two(db_url: str, tmp_path: Path) -> dict[str, Path]:
    """The 2019 rules opened twice under two cycle ids, on the same survey, their work
    interleaved (so both chains hold events at the same seqs), the provinces rendered."""
    second = tmp_path / f"{SECOND}.toml"
    second.write_text(
        WORKFLOW.read_text(encoding="utf-8").replace(f'id = "{FIRST}"', f'id = "{SECOND}"', 1),
        encoding="utf-8",
    )
    survey = small_survey(tmp_path / "survey.csv")
    workflows = {FIRST: WORKFLOW, SECOND: second}
    for workflow in workflows.values():
        init_cycle(workflow, url=db_url, actor="s")
    for cycle in workflows:
        import_survey(survey, url=db_url, cycle=cycle, actor="s")
    for cycle in workflows:
        advance(url=db_url, cycle=cycle, actor="s")
    for cycle in workflows:
        render(url=db_url, cycle=cycle, award="top-province", out=tmp_path / cycle, actor="s")
    return {"survey": survey, **workflows}


def exported(url: str, cycle: str, folder: Path) -> Path:
    log = folder / f"{cycle}.jsonl"
    assert run("log", "export", "--cycle", cycle, str(log), url=url)[0] == 0
    return log


def test_each_cycle_is_its_own_chain_from_seq_1(db_url, two, tmp_path):
    with db.read(open_engine(db_url)) as conn:
        heads = {c: db.cycle_head(conn, c) for c in (FIRST, SECOND)}
        chains = db.chains(conn)
        events = {c: [s for s, _, _ in db.stored(conn, c)] for c in chains}

    assert chains == [FIRST, SECOND]
    for cycle in chains:
        assert events[cycle] == list(range(1, heads[cycle][0] + 1))
    assert heads[FIRST][0] == heads[SECOND][0]  # the same work: the same length...
    assert heads[FIRST][1] != heads[SECOND][1]  # ...but chains of their own
    with db.read(open_engine(db_url)) as conn:
        assert db.cycle_head(conn, "dga-2031") == (0, "0" * 64)


def test_each_cycles_export_holds_its_chain_only_and_replays_offline_alone(db_url, two, tmp_path):
    for cycle in (FIRST, SECOND):
        log = exported(db_url, cycle, tmp_path)
        lines = [orjson.loads(line)["event"] for line in log.read_bytes().splitlines()]

        replayed = replay(str(log), str(two[cycle]), str(two["survey"]))

        assert {e["cycle"] for e in lines} == {cycle}
        assert [e["seq"] for e in lines] == list(range(1, len(lines) + 1))
        assert replayed.events == len(lines)
        assert status(url=db_url, cycle=cycle).log.events == len(lines)


def test_export_without_a_cycle_asks_for_one_when_several_are_open(db_url, two, tmp_path):
    assert run("log", "export", str(tmp_path / "log.jsonl"), url=db_url) == (
        1,
        f"Error: several cycles are open ({FIRST}, {SECOND}); choose one with --cycle\n",
    )
    assert not (tmp_path / "log.jsonl").exists()


def test_log_verify_and_audit_check_every_cycles_chain_and_say_so_per_cycle(db_url, two):
    with db.read(open_engine(db_url)) as conn:
        heads = {c: db.cycle_head(conn, c) for c in (FIRST, SECOND)}

    code, out = run("log", "verify", url=db_url)
    audited = audit(url=db_url)
    one = audit(url=db_url, cycle=SECOND)
    code_json, out_json = run("audit", "--json", url=db_url)

    assert code == 0
    assert out.splitlines()[0::2] == [
        f"database (cycle {c}): ok: {heads[c][0]} events, chain intact; head {heads[c][1]}"
        for c in (FIRST, SECOND)
    ]
    assert audited.clean and one.clean
    assert {c: (v.events, v.head) for c, v in audited.chains.items()} == heads
    assert {c: (v.events, v.head) for c, v in one.chains.items()} == {SECOND: heads[SECOND]}
    assert one.checked["nomination"] * 2 == audited.checked["nomination"]
    assert code_json == 0
    assert json.loads(out_json)["chains"] == {
        c: {"events": n, "head": h} for c, (n, h) in heads.items()
    }


def test_status_report_and_checkpoints_name_the_cycles_own_head(db_url, two):
    engine = open_engine(db_url)
    for cycle in (FIRST, SECOND):
        with db.read(engine) as conn:
            head = db.cycle_head(conn, cycle)
            checkpoint = latest_checkpoint(conn, cycle)

        code, out = run("checkpoint", "verify", "--cycle", cycle, url=db_url)

        assert (status(url=db_url, cycle=cycle).log.events, status(url=db_url, cycle=cycle).log.head) == head  # fmt: skip
        assert checkpoint is not None and checkpoint["cycle"] == cycle
        assert checkpoint["size"] == head[0] - 1  # the render batch's, pinning all before it
        assert code == 0 and out.count("checkpoint at event") >= 2


def test_certificates_and_proofs_of_each_cycle_verify_against_that_cycles_chain(
    db_url, two, tmp_path
):
    for cycle in (FIRST, SECOND):
        pdf = sorted((tmp_path / cycle).glob("*.pdf"))[0]
        proof = tmp_path / f"{cycle}-proof.json"
        first = ranking("top-province", url=db_url, cycle=cycle).rows[0]
        assert first.state == "awarded"
        proof.write_text(json.dumps(prove(first.nomination, url=db_url, cycle=cycle)))

        code, out = run("verify", str(pdf), url=db_url)
        checked = run("prove", "--check", str(proof), url=db_url)

        assert code == 0 and out.startswith("valid: "), out
        assert f"  cycle:     รางวัลรัฐบาลดิจิทัล ประจำปี พ.ศ. ๒๕๖๒ ({cycle})" in out.splitlines()
        assert checked[0] == 0, checked


def test_a_tampered_line_in_one_cycles_export_is_named_at_its_seq(db_url, two, tmp_path):
    log = exported(db_url, SECOND, tmp_path)
    lines = log.read_bytes().splitlines(keepends=True)
    assert b'"actor":"s"' in lines[6]
    lines[6] = lines[6].replace(b'"actor":"s"', b'"actor":"x"')
    log.write_bytes(b"".join(lines))
    other = exported(db_url, FIRST, tmp_path)

    code, out = run("log", "verify", str(log), url=db_url)

    assert code == 1
    assert out.startswith(f"Error: {log}:7: event does not match its hash"), out
    assert run("log", "verify", str(other), url=db_url)[0] == 0


def test_a_row_inserted_past_a_gap_in_one_cycles_chain_is_named(db_url, two):
    engine = open_engine(db_url)
    with db.read(engine) as conn:
        last, prev = db.cycle_head(conn, SECOND)
    fields = {"kind": "cycle_opened", "cycle": SECOND, "actor": "x", "at": "2019", "workflow_sha256": "ab" * 32}  # fmt: skip
    forged = seal(fields, last + 20_000, prev)  # past a whole batch of missing seqs
    row = {"cycle": SECOND, "seq": forged.seq, "prev": prev, "hash": forged.hash}
    insert = (
        "INSERT INTO event (cycle, seq, prev, hash, kind, body) "
        "VALUES (:cycle, :seq, :prev, :hash, 'cycle_opened', :body)"
    )
    with engine.begin() as conn:
        conn.execute(text(insert), {**row, "body": forged.body})

    code, out = run("log", "verify", url=db_url)

    assert (code, out) == (
        1,
        f"Error: database (cycle {SECOND}):{last + 1}: seq {last + 20_000} where {last + 1} was "
        "expected: an event is missing, duplicated or out of order\n",
    )
    assert run("log", "verify", "--cycle", FIRST, url=db_url)[0] == 0
