"""Signed checkpoints of the decision log, and inclusion proofs against them.

A checkpoint states the log's size, its RFC 9162 Merkle root and its head hash, signed with
the committee's Ed25519 key. It is appended to the log itself as a `checkpoint` event, so an
exported log carries its own checkpoints; the private key stays in its file and never enters
the database or the log (the event carries the public key and the signature).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlmodel import col

from awards.errors import NotFound
from awards.log import events, merkle
from awards.log.chain import now, parse_event
from awards.log.events import Kind
from awards.log.signing import public_hex, signature_ok, statement
from awards.store import database as db
from awards.store.cycles import find_nomination, load_cycle
from awards.store.models import Event
from awards.store.schema import open_engine


def _leaves(conn: Connection, upto: int | None = None) -> tuple[list[bytes], list[str]]:
    query = select(col(Event.body), col(Event.hash)).order_by(col(Event.seq))
    if upto is not None:
        query = query.where(col(Event.seq) <= upto)
    leaves, hashes = [], []
    for body, digest in conn.execute(query):
        leaves.append(merkle.leaf_hash(body))
        hashes.append(digest)
    return leaves, hashes


def write_checkpoint(conn: Connection, key: Any, *, cycle: str, actor: str) -> dict[str, Any]:
    """Append a checkpoint of the log as it stands, in the caller's transaction.

    With a committee `key` it is signed; without one it still fixes the size, Merkle root and
    head, so later logs can be proved to extend it, but it proves nothing about who wrote it.
    Each checkpoint keeps the tree's frontier (its complete subtrees), so the next one hashes
    only the events written since, not the whole log again.
    """
    tree, after = merkle.Frontier(), 0
    last = conn.execute(
        select(col(Event.body))
        .where(col(Event.kind) == Kind.CHECKPOINT)
        .order_by(col(Event.seq).desc())
        .limit(1)
    ).scalar()
    if last is not None:
        previous = parse_event(last, "the latest checkpoint")
        if "frontier" in previous:
            tree, after = merkle.Frontier.resume(previous["frontier"]), previous["size"]
    head = "0" * 64
    for body, digest in conn.execute(
        select(col(Event.body), col(Event.hash))
        .where(col(Event.seq) > after)
        .order_by(col(Event.seq))
    ):
        tree.append(merkle.leaf_hash(body))
        head = digest
    size, root = tree.size, tree.root().hex()
    event = events.checkpoint(
        cycle=cycle, actor=actor, at=now(), size=size, root=root, head=head,
        frontier=tree.state(), public_key=None if key is None else public_hex(key),
        signature=None if key is None else key.sign(statement(size, root, head)).hex(),
    )  # fmt: skip
    db.append(conn, [event])
    return event


@dataclass(frozen=True)
class Checked:
    seq: int
    size: int
    root: str
    ok: bool
    problem: str
    signed: bool = True


def verify_checkpoints(
    *, url: str | None = None, engine: Engine | None = None, public_key: str | Path | None = None
) -> list[Checked]:
    """Check every checkpoint in the log: its signature (by the trusted public key when one is
    given), and that the current log still extends it (same root over the same first events,
    which is what a consistency proof from it to the current log shows)."""
    trusted = None if public_key is None else Path(public_key).read_text(encoding="ascii").strip()
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        leaves, hashes = _leaves(conn)
        events = [
            (seq, parse_event(body, f"event {seq}"))
            for seq, body in conn.execute(
                select(col(Event.seq), col(Event.body))
                .where(col(Event.kind) == Kind.CHECKPOINT)
                .order_by(col(Event.seq))
            )
        ]
    if not events:
        raise NotFound(
            "the log has no checkpoint yet; `awards advance` writes one after every stage that moves anything"
        )
    out = []
    for seq, e in events:
        size, root = e["size"], e["root"]
        problem = ""
        if trusted is not None and e.get("signature") is None:
            problem = "unsigned (written without the committee key)"
        elif trusted is not None and e.get("public_key") != trusted:
            problem = "signed by another key than the trusted one"
        elif e.get("signature") is not None and not signature_ok(e):
            problem = "the signature does not match the statement"
        elif size > len(leaves) or merkle.root(leaves[:size]).hex() != root:
            problem = f"the log no longer has the events this checkpoint signed (root over the first {size} events differs)"
        elif size and hashes[size - 1] != e["head"]:
            problem = "the head hash differs"
        else:
            proof = merkle.consistency_proof(size, leaves) if size else []
            if size and not merkle.verify_consistency(
                size, len(leaves), bytes.fromhex(root), merkle.root(leaves), proof
            ):
                problem = "the current log does not extend it"
        out.append(Checked(seq, size, root, not problem, problem, e.get("signature") is not None))
    return out


def prove(
    nomination: str,
    *,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
) -> dict[str, Any]:
    """An inclusion proof of the nomination's award event under the latest checkpoint that
    covers it: everything an RFC 9162 verifier needs, as a JSON-ready dict."""
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
        row = find_nomination(conn, workflow, nomination)
        award_seq = None
        for seq, body in conn.execute(
            select(col(Event.seq), col(Event.body)).where(
                col(Event.cycle) == workflow.cycle_id,
                col(Event.award) == row.award,
                col(Event.nominee) == row.nominee_id,
            )
        ):
            if parse_event(body, f"event {seq}").get("trigger") == "award":
                award_seq = seq
        if award_seq is None:
            raise NotFound(
                f"nomination {nomination} has no award decision to prove (it is '{row.state}')"
            )
        checkpoint = None
        for seq, body in conn.execute(
            select(col(Event.seq), col(Event.body))
            .where(col(Event.kind) == Kind.CHECKPOINT)
            .order_by(col(Event.seq))
        ):
            e = parse_event(body, f"event {seq}")
            if e["size"] >= award_seq:
                checkpoint = e
                break
        if checkpoint is None:
            raise NotFound(
                f"no checkpoint covers event {award_seq} yet; the next `awards advance` that moves anything writes one"
            )
        leaves, _ = _leaves(conn, checkpoint["size"])
        (event_body,) = conn.execute(
            select(col(Event.body)).where(col(Event.seq) == award_seq)
        ).one()
    index = award_seq - 1
    return {
        "nomination": nomination,
        "leaf_index": index,
        "tree_size": checkpoint["size"],
        "event": event_body.decode("utf-8"),
        "leaf_hash": leaves[index].hex(),
        "audit_path": [h.hex() for h in merkle.inclusion_proof(index, leaves)],
        "checkpoint": {
            k: checkpoint[k] for k in ("size", "root", "head", "public_key", "signature")
        },
    }
