"""The trust chain under attack. Each test first does what an attacker or a careless hand
would: certificates forged in the table or appended to the log, logs stripped of their
checkpoints or signed again with another key, self-made proofs, malformed events and rows,
tables edited behind the log. Then it shows what each tool says about it."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from awards.cli import main
from awards.commands.advance import advance, move_one
from awards.commands.audit import audit
from awards.commands.logbook import export_log
from awards.errors import LogError
from awards.log import events as catalogue
from awards.log.chain import now
from awards.log.events import SCHEMA_VERSION
from awards.log.signing import generate_keys, load_key
from awards.rules.states import Trigger
from awards.store import database as db
from awards.store import schema as migrate
from awards.store.checkpoints import verify_checkpoints, write_checkpoint
from awards.store.schema import open_engine

from forgery import MALFORMED, appended, events_of, rechain
from support import WORKFLOW, open_cycle, review, seat


def run(*args: str, db: str | None = None, **env: str) -> tuple[int, str]:
    prefix = ["--db", db, "--actor", "tester"] if db else ["--actor", "tester"]
    result = CliRunner(env={"COLUMNS": "240", "AWARDS_COMMITTEE_PUBLIC_KEY": "", **env}).invoke(
        main, [*prefix, *args], catch_exceptions=False
    )
    return result.exit_code, result.output


def execute(url: str, *statements: str, **params: Any) -> None:
    """SQL as someone with the database's own rights would type it."""
    with open_engine(url, check=False).begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def url_of(folder: Path) -> str:
    return f"sqlite:///{folder / 'awards.db'}"


def forged_copy(pdf: Path, to: Path) -> str:
    """An edited copy of a rendered PDF; its SHA-256."""
    data = pdf.read_bytes() + b"\n% edited after rendering\n"
    to.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def rendering(folder: Path, serial: str) -> dict[str, Any]:
    """The latest logged rendering of `serial`."""
    with sqlite3.connect(folder / "awards.db") as conn:
        rows = conn.execute(
            "SELECT body FROM event WHERE kind = 'certificate_rendered' ORDER BY seq DESC"
        )
        return next(e for (body,) in rows if (e := orjson.loads(body))["serial"] == serial)


SERIAL = "DGA-2562-DGA2019-CPF-0001"


# --- Certificates in the trust chain -------------------------------------------------------


def test_certificate_record_refuses_update_and_delete(db_url, tmp_path):
    open_cycle(db_url, tmp_path)
    execute(
        db_url,
        "INSERT INTO certificate (cycle, award, nominee_id, nomination_id, serial, code, template, "
        "template_sha256, pdf_sha256, size, pdfa, rendered_at, actor, seq) VALUES ('dga-2019', "
        "'copy-free', 'D000', 1, 'S-1', 'C', 't', 'x', 'y', 1, false, 'now', 'a', 1)",
    )
    statements = ["UPDATE certificate SET pdf_sha256 = 'z'", "DELETE FROM certificate"]
    if db_url.startswith("postgresql"):
        statements.append("TRUNCATE certificate")
    for statement in statements:
        verb = statement.split()[0]
        with pytest.raises(DBAPIError, match=f"the record of rendered certificates is append-only: {verb} refused"):  # fmt: skip
            execute(db_url, statement)


def test_db_upgrade_makes_the_certificate_record_append_only(db_url, tmp_path):
    if db_url.startswith("sqlite"):
        (tmp_path / "awards.db").touch()
    migrate.upgrade(db_url, revision="0002")
    with db.read(open_engine(db_url, check=False)) as conn:
        assert db.missing_triggers(conn) == [
            "trigger certificate_no_update on certificate is missing",
            "trigger certificate_no_delete on certificate is missing",
            "trigger certificate_serial_held on certificate is missing",
        ] if db_url.startswith("sqlite") else [
            "trigger certificate_append_only on certificate is missing",
            "trigger certificate_no_truncate on certificate is missing",
            "trigger certificate_serial_held on certificate is missing",
        ]  # fmt: skip

    code, out = run("db", "upgrade", db=db_url)

    upgraded = f"upgraded from schema revision 0002 to {migrate.head()}\n"
    assert (code, out.endswith(upgraded)) == (0, True)
    with db.read(open_engine(db_url)) as conn:
        assert db.missing_triggers(conn) == []


def test_render_pins_every_batch_with_a_checkpoint_signed_with_the_committee_key(demo_cycle):
    key = (demo_cycle.directory / "committee.key.pub").read_text().strip()
    logged = events_of(demo_cycle.log)
    kinds = [e["kind"] for e in logged]
    first = kinds.index("certificate_rendered")
    # Each batch's renderings, then the checkpoint that pins them, in the same transaction.
    after = [e for e in logged[first:] if e["kind"] != "certificate_rendered"]
    assert [e["kind"] for e in after] == ["checkpoint"] * len(after)
    assert all(e["public_key"] == key for e in after)
    assert logged[-1]["kind"] == "checkpoint"
    checked = verify_checkpoints(url=demo_cycle.database, public_key=f"{demo_cycle.directory}/committee.key.pub")  # fmt: skip
    assert (checked.ok, checked.trust.covered) == (True, len(logged) - 1)
    rendered = logged[first]
    assert (rendered["schema_version"], rendered["size"], rendered["recipient_th"] != "") == (SCHEMA_VERSION, (demo_cycle.directory / "certificates" / rendered["file"]).stat().st_size, True)  # fmt: skip


def test_verify_finds_a_forged_certificate_record_tampered_and_audit_says_why(demo_copy):
    genuine = demo_copy / "certificates" / f"{SERIAL}.pdf"
    forged = demo_copy / "forged.pdf"
    digest = forged_copy(genuine, forged)
    logged = rendering(demo_copy, SERIAL)
    url = url_of(demo_copy)
    with pytest.raises(DBAPIError, match="append-only: UPDATE refused"):  # the trigger holds
        execute(url, "UPDATE certificate SET pdf_sha256 = :d WHERE serial = :s", d=digest, s=SERIAL)

    execute(url, "DROP TRIGGER certificate_no_update")  # the database's owner can
    execute(url, "UPDATE certificate SET pdf_sha256 = :d WHERE serial = :s", d=digest, s=SERIAL)

    assert run("verify", str(forged), db=url) == (1, (
        f"tampered: the certificate table records {forged} as {SERIAL}, but the decision log has "
        "no such rendering: the table was altered (`awards audit` lists what else changed)\n"
    ))  # fmt: skip
    assert run("verify", str(genuine), db=url) == (1, (
        f"tampered: the certificate table says pdf_sha256 '{digest[:16]}' where the log says "
        f"'{logged['pdf_sha256'][:16]}' for {SERIAL} (decision log event {logged['seq']}): the "
        "table was altered (`awards audit` lists what else changed)\n"
    ))  # fmt: skip
    code, out = run("audit", db=url)
    assert (code, out.splitlines()[:2]) == (1, [
        "the database: trigger certificate_no_update on certificate is missing",
        f"certificate {SERIAL} (event {logged['seq']}): pdf_sha256 is '{digest}' in the tables "
        f"but '{logged['pdf_sha256']}' in the log",
    ])  # fmt: skip
    assert out.splitlines()[2].endswith(": 1 drift; 1 problem with the database")


def append_rendering(folder: Path, pdf: Path, *, checkpoint: bool) -> int:
    """Log a rendering of `pdf` as SERIAL, and record it, as `render` would (with a checkpoint,
    unsigned) or as a render before schema revision 0003 did (without); its seq."""
    genuine = rendering(folder, SERIAL)
    with db.write(open_engine(url_of(folder))) as conn:
        fields = {k: v for k, v in genuine.items() if k not in ("kind", "nomination", "schema_version", "seq", "prev")}  # fmt: skip
        fields.update(pdf_sha256=hashlib.sha256(pdf.read_bytes()).hexdigest(), size=pdf.stat().st_size, at=now())  # fmt: skip
        added = db.append(conn, [catalogue.certificate_rendered(**fields)])
        copied = "INSERT INTO certificate (cycle, award, nominee_id, nomination_id, serial, code, template, template_sha256, pdf_sha256, size, pdfa, rendered_at, actor, seq) SELECT cycle, award, nominee_id, nomination_id, serial, code, template, template_sha256, :d, size, pdfa, rendered_at, actor, :seq FROM certificate WHERE serial = :s"  # fmt: skip
        conn.execute(text(copied), {"d": fields["pdf_sha256"], "seq": added.first, "s": SERIAL})
        if checkpoint:
            write_checkpoint(conn, None, cycle="dga-2019", actor="forger")
    return added.first


def test_verify_with_the_trusted_key_refuses_a_rendering_appended_to_the_log(demo_copy):
    forged = demo_copy / "forged.pdf"
    forged_copy(demo_copy / "certificates" / f"{SERIAL}.pdf", forged)
    url = url_of(demo_copy)
    # Someone who can write to the database appends what `render` would have, checkpoint and
    # all: everything but the committee's signature.
    added = SimpleNamespace(first=append_rendering(demo_copy, forged, checkpoint=True))
    public = str(demo_copy / "committee.key.pub")

    code, out = run("verify", str(forged), db=url)
    assert (code, out.splitlines()[-1].endswith(
        f"decision log event {added.first}, under the checkpoint at event {added.first + 1} "
        "(unsigned; --public-key requires the committee's signature)"
    )) == (0, True)  # fmt: skip
    assert run("verify", str(forged), "--public-key", public, db=url) == (1, (
        f"invalid: {SERIAL} was logged at event {added.first}, under the checkpoint at event "
        f"{added.first + 1}, which is unsigned: no checkpoint signed with the trusted key covers it\n"
    ))  # fmt: skip
    assert run("log", "verify", db=url, AWARDS_COMMITTEE_PUBLIC_KEY=public) == (1, (
        f"Error: database: events {added.first}-{added.first + 1} follow the last checkpoint "
        f"signed with the trusted key (event {added.first - 1}) and are covered by none; event "
        f"{added.first} (certificate_rendered) needs one\n"
    ))  # fmt: skip
    genuine_pdf = demo_copy / "certificates" / f"{SERIAL}.pdf"
    assert run("verify", str(genuine_pdf), "--public-key", public, db=url)[0] == 0


def test_verify_refuses_a_rendering_no_checkpoint_covers_until_one_is_written(demo_copy):
    url = url_of(demo_copy)
    again = demo_copy / "again.pdf"
    forged_copy(demo_copy / "certificates" / f"{SERIAL}.pdf", again)
    seq = append_rendering(demo_copy, again, checkpoint=False)  # as before revision 0003

    assert run("verify", str(again), db=url) == (1, (
        f"invalid: {SERIAL} was logged at event {seq}, but no checkpoint covers that event: "
        "`awards render` pins every batch with one, so it was added to the log afterwards, or "
        "rendered before schema revision 0003 (`awards checkpoint write` pins it)\n"
    ))  # fmt: skip
    key = str(demo_copy / "committee.key")
    assert run("checkpoint", "write", "--key", key, db=url)[0] == 0
    code, out = run("verify", str(again), "--public-key", f"{key}.pub", db=url)
    assert (code, out.splitlines()[-1]) == (0, (
        f"  rendered:  {rendering(demo_copy, SERIAL)['at']}, decision log event {seq}, under "
        f"the checkpoint at event {seq + 1}, signed with the trusted key"
    ))  # fmt: skip


def test_verify_prints_the_recipient_the_log_names_not_an_edited_table(demo_copy):
    url = url_of(demo_copy)
    logged = rendering(demo_copy, SERIAL)
    execute(
        url,
        "UPDATE nomination SET name_th = 'กรมปลอม' WHERE award = 'copy-free' AND nominee_id = :n",
        "UPDATE agency SET name_th = 'กรมปลอม' WHERE agency_id = :n",
        n=logged["nominee"],
    )

    code, out = run("verify", logged["code"], db=url)

    assert (code, out.splitlines()[1]) == (
        0,
        f"  recipient: {logged['recipient_th']} ({logged['recipient_en']})",
    )
    assert "กรมปลอม" not in out
    found = audit(url=url)
    assert next(str(d) for d in found.drift).startswith(
        "cycle dga-2019: the SHA-256 of the agency rows is "
    )


# --- Trusted keys for auditors -------------------------------------------------------------


@pytest.fixture(scope="module")
def committee(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small cycle advanced with the committee's key, its log exported."""
    tmp = tmp_path_factory.mktemp("committee")
    private, public = generate_keys(tmp / "committee.key")
    url = url_of(tmp)
    survey = open_cycle(url, tmp)
    advance(url=url, actor="s", key=load_key(private))
    export_log(tmp / "log.jsonl", url=url)
    return {"log": tmp / "log.jsonl", "survey": survey, "private": private, "public": public}


def replay_args(log: Path, survey: Path) -> list[str]:
    return ["replay", str(log), "--workflow", str(WORKFLOW), "--survey", str(survey)]


def test_replay_with_the_trusted_key_accepts_the_committees_log(committee):
    code, out = run(*replay_args(committee["log"], committee["survey"]), "--public-key", str(committee["public"]))  # fmt: skip
    events = len(events_of(committee["log"]))
    assert (code, out.splitlines()[1]) == (0, (
        f"{committee['log']}: events 1-{events - 1} are covered by the checkpoint at event "
        f"{events}, signed with the trusted key"
    ))  # fmt: skip


def test_replay_with_the_trusted_key_fails_a_log_stripped_of_its_checkpoints(committee, tmp_path):
    forged = tmp_path / "forged.jsonl"
    forged.write_bytes(rechain(events_of(committee["log"]), checkpoints="strip"))
    args = replay_args(forged, committee["survey"])
    events = len(events_of(forged))

    code, out = run(*args)  # every decision still re-derives: only a trusted key can tell
    assert (code, out.splitlines()[1]) == (0, (
        f"{forged}: checkpoints not checked against a trusted key: anyone who rewrites the log "
        "can sign it again; pass --public-key with the committee's public key"
    ))  # fmt: skip
    code, out = run(*args, "--public-key", str(committee["public"]))
    assert (code, out.splitlines()[1]) == (1, (
        f"Error: {forged}: events 1-{events} are covered by no checkpoint signed with the trusted "
        "key (the log has no checkpoint)"
    ))  # fmt: skip
    code, out = run("log", "verify", str(forged), "--public-key", str(committee["public"]))
    assert (code, out) == (1, out.splitlines()[0] + "\n")
    assert out.startswith(f"Error: {forged}: events 1-{events} are covered by no checkpoint")


def test_replay_with_the_trusted_key_fails_a_log_signed_again_with_another_key(committee, tmp_path):
    own, _ = generate_keys(tmp_path / "forger.key")
    forger = load_key(own)
    forged = tmp_path / "forged.jsonl"
    # The forger's edit leaves every rule decision as it was: the signatures are what differ.
    forged.write_bytes(rechain(events_of(committee["log"]), checkpoints="signed", key=forger, edit=lambda e: {**e, "actor": "forger"}))  # fmt: skip
    foreign = (tmp_path / "forger.key.pub").read_text().strip()

    code, out = run(*replay_args(forged, committee["survey"]), "--public-key", str(committee["public"]))  # fmt: skip

    checkpoints = [e for e in events_of(forged) if e["kind"] == "checkpoint"]
    assert (code, out.splitlines()[1]) == (1, (
        f"Error: {forged}: events 1-{len(events_of(forged))} are covered by no checkpoint signed "
        f"with the trusted key (its {len(checkpoints)} checkpoints are unsigned or signed with "
        f"another key: {foreign[:16]})"
    ))  # fmt: skip


def test_log_verify_with_the_trusted_key_names_the_unsigned_stretch(sqlite_url, tmp_path):
    private, public = generate_keys(tmp_path / "committee.key")
    open_cycle(sqlite_url, tmp_path)
    advance(url=sqlite_url, actor="s", award="top-province", key=load_key(private))
    signed = len(events_of_db(sqlite_url))
    advance(url=sqlite_url, actor="s", award="copy-free")  # someone forgot --key
    first = events_of_db(sqlite_url)[signed]
    total = len(events_of_db(sqlite_url))

    expected = (
        f"Error: database: events {signed + 1}-{total} follow the last checkpoint signed with the "
        f"trusted key (event {signed}) and are covered by none; event {signed + 1} "
        f"({first['trigger']} of {first['nomination']}) needs one\n"
    )
    assert run("log", "verify", db=sqlite_url, AWARDS_COMMITTEE_PUBLIC_KEY=str(public)) == (1, expected)  # fmt: skip
    code, out = run("checkpoint", "verify", "--public-key", str(public), db=sqlite_url)
    assert (code, out.splitlines()[-1]) == (1, expected[len("Error: ") : -1])
    assert out.splitlines()[-2].endswith(": ok, unsigned")

    code, out = run("checkpoint", "write", "--key", str(private), db=sqlite_url)
    assert (code, out.endswith(": signed\n")) == (0, True)
    assert run("log", "verify", "--public-key", str(public), db=sqlite_url)[1].splitlines()[1] == (
        f"database: events 1-{total} are covered by the checkpoint at event {total + 1}, signed "
        "with the trusted key"
    )


def events_of_db(url: str) -> list[dict[str, Any]]:
    with db.read(open_engine(url)) as conn:
        return [orjson.loads(body) for _, _, body in db.stored(conn, "dga-2019")]


def test_log_verify_with_the_trusted_key_takes_human_decisions_after_the_last_checkpoint(
    sqlite_url, tmp_path
):
    private, public = generate_keys(tmp_path / "committee.key")
    open_cycle(sqlite_url, tmp_path)
    advance(url=sqlite_url, actor="s", award="top-province", key=load_key(private))
    winner = next(e for e in events_of_db(sqlite_url) if e.get("trigger") == "award")
    move_one(winner["nomination"], Trigger.REVOKE, reason="false answers", actor="s", url=sqlite_url)  # fmt: skip
    total = len(events_of_db(sqlite_url))

    code, out = run("log", "verify", "--public-key", str(public), db=sqlite_url)

    assert (code, out.splitlines()[1]) == (0, (
        f"database: events 1-{total - 2} are covered by the checkpoint at event {total - 1}, "
        "signed with the trusted key; the event after it is a human decision, not yet under a "
        "signed checkpoint"
    ))  # fmt: skip


def test_prove_check_with_the_trusted_key_refuses_a_self_made_proof(committee, tmp_path):
    from awards.store.checkpoints import prove

    url = url_of(committee["log"].parent)
    winner = next(e for e in events_of(committee["log"]) if e.get("trigger") == "award")
    proof = prove(winner["nomination"], url=url)
    own, _ = generate_keys(tmp_path / "forger.key")
    forger = load_key(own)
    cp = proof["checkpoint"]
    from awards.log.signing import public_hex, statement

    resigned = {**cp, "public_key": public_hex(forger), "signature": forger.sign(statement(cp["size"], cp["root"], cp["head"])).hex()}  # fmt: skip
    for name, checkpoint in (("proof", cp), ("resigned", resigned), ("unsigned", {**cp, "public_key": None, "signature": None})):  # fmt: skip
        (tmp_path / f"{name}.json").write_text(json.dumps({**proof, "checkpoint": checkpoint}), encoding="utf-8")  # fmt: skip
    trusted = ["--public-key", str(committee["public"])]

    assert run("prove", "--check", str(tmp_path / "proof.json"), *trusted)[0] == 0
    assert run("prove", "--check", str(tmp_path / "resigned.json"), *trusted) == (1, (
        f"{tmp_path / 'resigned.json'}: the checkpoint is signed with another key "
        f"({public_hex(forger)[:16]}) than the trusted one\n"
    ))  # fmt: skip
    assert run("prove", "--check", str(tmp_path / "unsigned.json"), *trusted) == (1, (
        f"{tmp_path / 'unsigned.json'}: the checkpoint is unsigned, and the trusted key accepts "
        "only one signed with it\n"
    ))  # fmt: skip
    code, out = run("prove", "--check", str(tmp_path / "resigned.json"))
    assert (code, out.endswith("(not checked against a trusted key: --public-key)\n")) == (0, True)


@pytest.mark.parametrize(
    "content", [b"\x89PNG\r\n\x1a\n\x00\x00", b"0" * 63, "ก".encode() * 64], ids=["binary", "short", "thai"]
)  # fmt: skip
def test_a_public_key_file_that_is_not_one_is_a_one_line_error(committee, tmp_path, content):
    key = tmp_path / "not.pub"
    key.write_bytes(content)
    assert run("log", "verify", str(committee["log"]), "--public-key", str(key)) == (1, (
        f"Error: {key} is not a committee public key: it must hold the 64 hexadecimal digits "
        "that `awards keys generate KEY` writes to KEY.pub\n"
    ))  # fmt: skip


# --- Malformed logs and rows: located one-line errors --------------------------------------


@pytest.mark.parametrize(("name", "body", "said"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_log_verify_and_replay_name_a_malformed_line(committee, tmp_path, name, body, said):
    log = tmp_path / "log.jsonl"
    log.write_bytes(appended(committee["log"].read_bytes(), body))
    line = len(events_of(committee["log"])) + 1

    code, out = run("log", "verify", str(log))
    assert (code, out.startswith(f"Error: {log}:{line}: "), said in out) == (1, True, True), out
    code, out = run(*replay_args(log, committee["survey"]))
    assert (code, out.startswith(f"Error: {log}:{line}: "), said in out) == (1, True, True), out
    assert len(out.splitlines()) == 1


def test_every_field_of_a_transition_is_checked(committee):
    from awards.log.shape import problem

    shortlisted = next(e for e in events_of(committee["log"]) if e.get("trigger") == "shortlist")
    assert problem(shortlisted) is None
    for name in [k for k in shortlisted if k not in ("kind", "schema_version")]:
        wrong = 7 if name != "seq" else "7"
        assert problem({**shortlisted, name: wrong}) is not None, name
        assert problem({k: v for k, v in shortlisted.items() if k != name}) is not None, name


def test_replay_names_an_event_the_rules_cannot_take(committee, tmp_path):
    log = tmp_path / "log.jsonl"
    strange = catalogue.assigned(
        cycle="dga-2019", award="nope", nominee="D000", reviewer="r", round=1,
        why={"by": "assign", "per_nomination": 1}, actor="x", at="2019",
    )  # fmt: skip
    body = orjson.dumps({**strange, "prev": "{prev}", "schema_version": 3, "seq": 0}, option=orjson.OPT_SORT_KEYS)  # fmt: skip
    log.write_bytes(appended(committee["log"].read_bytes(), body.replace(b'"seq":0', b'"seq":{seq}')))  # fmt: skip
    line = len(events_of(committee["log"])) + 1

    code, out = run(*replay_args(log, committee["survey"]))

    assert (code, out) == (1, (
        f"Error: {log}:{line}: event {line} (assigned) cannot be replayed: no award 'nope' in "
        "cycle dga-2019; awards: top-department, top-province, copy-free\n"
    ))  # fmt: skip


def test_an_event_stored_as_text_is_a_located_one_line_error(demo_copy):
    url = url_of(demo_copy)
    rendered = rendering(demo_copy, SERIAL)["seq"]
    execute(url, "DROP TRIGGER event_no_update")
    execute(url, f"UPDATE event SET body = CAST(body AS TEXT) WHERE seq IN (3, {rendered})")
    said = "is stored as text, not as the bytes it was hashed from: its row was rewritten outside awards\n"  # fmt: skip

    for args in (["audit"], ["log", "verify"], ["log", "export", str(demo_copy / "x.jsonl")], ["checkpoint", "verify"]):  # fmt: skip
        assert run(*args, db=url) == (1, f"Error: database:3: event 3 {said}"), args
    assert run("verify", rendering(demo_copy, SERIAL)["code"], db=url) == (
        1, f"Error: database:{rendered}: event {rendered} {said}"
    )  # fmt: skip


def test_a_forged_checkpoint_row_is_a_located_one_line_error(db_url, tmp_path):
    open_cycle(db_url, tmp_path)
    advance(url=db_url, actor="s", award="top-province")
    with db.write(open_engine(db_url)) as conn:
        seq, prev = db.cycle_head(conn, "dga-2019")
    body = orjson.dumps(
        {"actor": "x", "at": "2019", "cycle": "dga-2019", "head": prev, "kind": "checkpoint",
         "prev": prev, "root": "0" * 64, "schema_version": 3, "seq": seq + 1},
        option=orjson.OPT_SORT_KEYS,
    )  # fmt: skip
    execute(
        db_url,
        "INSERT INTO event (seq, prev, hash, kind, cycle, body) VALUES (:seq, :prev, :hash, 'checkpoint', 'dga-2019', :body)",
        seq=seq + 1, prev=prev, hash=hashlib.sha256(body).hexdigest(), body=body,
    )  # fmt: skip
    said = f"Error: database:{seq + 1}: event {seq + 1} (checkpoint) is malformed: no 'size'\n"

    assert run("checkpoint", "verify", db=db_url) == (1, said)
    assert run("log", "verify", db=db_url) == (1, said)
    assert run("advance", db=db_url) == (1, said)
    with pytest.raises(LogError, match="is malformed: no 'size'"):
        audit(url=db_url)


# --- Audit: every table against the log, and the triggers ----------------------------------


def test_audit_notices_edited_names_scores_agencies_reviewers_and_notes(db_url, tmp_path):
    open_cycle(db_url, tmp_path)
    advance(url=db_url, actor="s")
    seat(db_url)
    review("top-department:D029", approve=True, reviewer="a", url=db_url, note="ครบถ้วน")
    execute(
        db_url,
        "UPDATE nomination SET name_th = 'กรมปลอม' WHERE nominee_id = 'D028' AND award = 'top-department'",
        "UPDATE nomination SET score = '99.00' WHERE nominee_id = 'D027' AND award = 'top-department'",
        "UPDATE agency SET scores = '[\"90\", \"90\", \"90\", \"90\", \"90\", \"90\"]' WHERE agency_id = 'D026'",
        "UPDATE reviewer SET name = 'Someone else' WHERE reviewer_id = 'b'",
        "UPDATE verdict SET note = 'ไม่มี'",
    )  # fmt: skip

    found = audit(url=db_url)

    b = next(e["seq"] for e in events_of_db(db_url) if e.get("reviewer") == "b")
    assert [str(d) for d in found.drift] == [
        "cycle dga-2019: the SHA-256 of the agency rows is "
        f"{found.drift[0].table!r} in the tables but {found.drift[0].log!r} in the log",
        "dga-2019 top-department:D027: score is '99.00' in the tables but '68.95' in the log",
        "dga-2019 top-department:D026: score from its agency rows is '90.00' in the tables but '67.95' in the log's nomination",
        'dga-2019 top-department:D026: scores is \'["66.00","67.00","68.00","69.00","70.00","71.00"]\' in the tables but \'["90.00","90.00","90.00","90.00","90.00","90.00"]\' in the agency rows',
        "dga-2019 top-department:D026: weighted is '67.95' in the tables but '90.00' in the agency rows",
        "dga-2019 top-department:D028: name_th is 'กรมปลอม' in the tables but 'กรมทดสอบ028' in the agency rows",
        f"dga-2019 reviewer b: name, ministries, provinces, event is ('Someone else', [], [], {b}) in the tables but ('Reviewer b', [], [], {b}) in the log",
        "dga-2019 top-department:D029: a's verdict is 'approve (ไม่มี)' in the tables but 'approve (ครบถ้วน)' in the log",
    ]  # fmt: skip


def test_audit_reports_a_dropped_disabled_or_emptied_trigger(db_url, tmp_path):
    open_cycle(db_url, tmp_path)
    if db_url.startswith("sqlite"):
        execute(
            db_url,
            "DROP TRIGGER event_no_delete",
            "DROP TRIGGER certificate_no_update",
            "CREATE TRIGGER certificate_no_update BEFORE UPDATE ON certificate BEGIN SELECT 1; END",
        )
        expected = [
            "the database: trigger event_no_delete on event is missing",
            "the database: trigger certificate_no_update on certificate was changed: CREATE "
            "TRIGGER certificate_no_update BEFORE UPDATE ON certificate BEGIN SELECT 1; END",
        ]
    else:
        execute(
            db_url,
            "ALTER TABLE event DISABLE TRIGGER event_append_only",
            "DROP TRIGGER certificate_no_truncate ON certificate",
        )
        expected = [
            "the database: trigger event_append_only on event is disabled",
            "the database: trigger certificate_no_truncate on certificate is missing",
        ]

    found = audit(url=db_url)

    assert (found.problems, found.drift, found.clean) == (expected, [], False)
    code, out = run("audit", db=db_url)
    assert (code, out.splitlines()[:2]) == (1, expected)


def test_verify_says_the_cycle_table_was_altered_when_its_rules_are_not_the_ones_opened(demo_copy):
    """Since schema version 6 an award's evidence does not repeat the rules' SHA-256: verify
    reads it from the cycle's `cycle_opened` event, so rules edited in the cycle table after
    the award are still caught."""
    genuine = demo_copy / "certificates" / f"{SERIAL}.pdf"
    url = url_of(demo_copy)
    with sqlite3.connect(demo_copy / "awards.db") as conn:
        bodies = conn.execute("SELECT body FROM event WHERE kind = 'transition'").fetchall()
    awarded = [e for (body,) in bodies if (e := orjson.loads(body))["trigger"] == "award"]
    assert awarded and all("workflow_sha256" not in e["evidence"] for e in awarded)
    assert run("verify", str(genuine), db=url)[0] == 0
    execute(url, "UPDATE cycle SET workflow_text = workflow_text || :more", more="\n# edited\n")
    code, out = run("verify", str(genuine), db=url)
    assert (code, out) == (1, (
        "tampered: the rules of cycle dga-2019 in the database are not the ones the award of "
        f"{SERIAL} was decided under (SHA-256 differs): the cycle table was altered\n"
    ))  # fmt: skip
