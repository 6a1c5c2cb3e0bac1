"""Signed checkpoints: written after every stage, verified, and proofs against them, on every
backend."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from awards.commands.advance import advance
from awards.commands.logbook import export_log, history
from awards.errors import AwardsError
from awards.log.signing import check_proof, generate_keys, load_key
from awards.store.checkpoints import prove, verify_checkpoints
from awards.store.schema import open_engine

from support import WORKFLOW, open_cycle


@pytest.fixture
def signed(db_url: str, tmp_path: Path) -> tuple[str, Path]:
    private, public = generate_keys(tmp_path / "committee.key")
    open_cycle(db_url, tmp_path)
    advance(url=db_url, actor="s", award="top-province", key=load_key(private))
    return db_url, public


def test_generate_keys_keeps_the_private_key_to_its_owner_and_never_overwrites(tmp_path):
    private, public = generate_keys(tmp_path / "k")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert len(public.read_text().strip()) == 64
    with pytest.raises(AwardsError) as err:
        generate_keys(tmp_path / "k")
    assert str(err.value) == f"{private} already exists; choose another path or move it away first"


def test_every_stage_that_moved_anything_ends_with_a_checkpoint(signed):
    url, public = signed
    kinds = [e["kind"] for e in history(url=url)]
    # shortlist (6 moves), review (5), award (5): each followed by its checkpoint
    assert kinds[-19:] == ["transition"] * 6 + ["checkpoint"] + ["transition"] * 5 + [
        "checkpoint"
    ] + ["transition"] * 5 + ["checkpoint"]
    checked = verify_checkpoints(url=url, public_key=public)
    assert [(c.problem, c.trusted) for c in checked.checkpoints] == [("", True)] * 3
    assert (checked.ok, checked.trust.describe()) == (
        True,
        f"events 1-{len(kinds) - 1} are covered by the checkpoint at event {len(kinds)}, signed with the trusted key",
    )
    last = [e for e in history(url=url) if e["kind"] == "checkpoint"][-1]
    assert "private" not in str(last) and last["public_key"] == public.read_text().strip()


def test_a_checkpoint_by_another_key_is_not_trusted(signed, tmp_path):
    url, public = signed
    _, other = generate_keys(tmp_path / "other.key")
    checked = verify_checkpoints(url=url, public_key=other)
    signer = public.read_text().strip()
    assert {c.describe(checked.trust.key) for c in checked.checkpoints} == {
        f"ok, but signed with another key ({signer[:16]}) than the trusted one"
    }
    assert (checked.ok, checked.trust.describe()) == (
        False,
        f"events 1-{checked.trust.events} are covered by no checkpoint signed with the trusted key "
        f"(its 3 checkpoints are unsigned or signed with another key: {signer[:16]})",
    )


# Someone with the database's admin rights, in the backend's own SQL: drop the append-only
# trigger, then edit an event that every checkpoint covers.
REWRITE = {
    "sqlite": [
        "DROP TRIGGER event_no_update",
        "UPDATE event SET body = replace(body, 'secretary', 'someone') WHERE seq = 3",
        "UPDATE event SET body = CAST(replace(CAST(body AS TEXT), '\"s\"', '\"x\"') AS BLOB) WHERE seq = 3",
    ],
    "postgresql": [
        "DROP TRIGGER event_append_only ON event",
        "UPDATE event SET body = convert_to(replace(convert_from(body, 'UTF8'), 'secretary', 'someone'), 'UTF8') WHERE seq = 3",
        "UPDATE event SET body = convert_to(replace(convert_from(body, 'UTF8'), '\"s\"', '\"x\"'), 'UTF8') WHERE seq = 3",
    ],
}


def test_an_event_rewritten_behind_the_triggers_breaks_the_checkpoints(signed):
    url, public = signed
    engine = open_engine(url)
    with engine.begin() as conn:
        for statement in REWRITE[conn.dialect.name]:
            conn.execute(text(statement))
    checked = verify_checkpoints(url=url, public_key=public).checkpoints
    assert [c.problem for c in checked] == [
        f"the log no longer has the events this checkpoint signed (root over the first {c.size} events differs)"
        for c in checked
    ]
    assert len(checked) == 3


def test_prove_gives_an_inclusion_proof_any_verifier_can_check(signed):
    url, _ = signed
    winner = next(e for e in history(url=url) if e.get("trigger") == "award")
    proof = prove(f"top-province:{winner['nominee']}", url=url)
    assert check_proof(proof) == []
    assert proof["leaf_index"] == winner["seq"] - 1
    forged = {**proof, "event": proof["event"].replace('"awarded"', '"revoked"')}
    assert check_proof(forged) == [
        "the leaf hash is not the hash of the event",
        "the audit path does not lead to the checkpoint's root",
    ]


def test_replay_checks_a_proof_against_the_checkpoints_of_the_log(signed, tmp_path):
    import json

    from test_cli import run

    url, _ = signed
    survey = tmp_path / "survey.csv"  # where signed opened the cycle from
    export_log(tmp_path / "log.jsonl", url=url)
    winner = next(e for e in history(url=url) if e.get("trigger") == "award")
    proof = prove(f"top-province:{winner['nominee']}", url=url)
    (tmp_path / "proof.json").write_text(json.dumps(proof), encoding="utf-8")
    args = [
        "replay",
        str(tmp_path / "log.jsonl"),
        "--workflow",
        str(WORKFLOW),
        "--survey",
        str(survey),
    ]
    code, out = run(*args, "--prove", str(tmp_path / "proof.json"))
    assert (code, out.splitlines()[-1]) == (
        0,
        f"{tmp_path / 'proof.json'}: the event is in this log, under its checkpoint",
    )
    elsewhere = {
        **proof,
        "checkpoint": {**proof["checkpoint"], "size": proof["checkpoint"]["size"] + 1},
    }
    (tmp_path / "other.json").write_text(json.dumps(elsewhere), encoding="utf-8")
    code, out = run(*args, "--prove", str(tmp_path / "other.json"))
    assert code == 1
    assert out.splitlines()[-1].endswith(
        f"the log has no checkpoint of {proof['checkpoint']['size'] + 1} events with root {proof['checkpoint']['root'][:16]}"
    )
