"""Signed checkpoints of the decision log, and inclusion proofs against them.

A checkpoint states the log's size, its RFC 9162 Merkle root and its head hash, signed with
the committee's Ed25519 key. It is appended to the log itself as a `checkpoint` event, so an
exported log carries its own checkpoints; the private key stays in its file and never enters
the database or the log (the event carries the public key and the signature).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlmodel import col

from awards.errors import LogError, NotFound
from awards.log import events, merkle
from awards.log.chain import GENESIS, now
from awards.log.events import Kind
from awards.log.signing import load_public_key, public_hex, signature_ok, statement
from awards.log.trust import Checkpoints, Seen, Trust
from awards.rules.plain import Plain
from awards.store import database as db
from awards.store.cycles import find_nomination
from awards.store.loading import load_cycle
from awards.store.models import Event
from awards.store.schema import open_engine


def _checkpoints(
    conn: Connection,
    cycle: str,
    *,
    after: int = 0,
    before: int | None = None,
    last: bool = False,
) -> Any:
    """The stored checkpoint events (seq, body) of the cycle's chain after `after` (and
    before `before`), oldest first, or with `last` newest first."""
    query = select(col(Event.seq), col(Event.body)).where(
        col(Event.cycle) == cycle, col(Event.kind) == Kind.CHECKPOINT, col(Event.seq) > after
    )
    if before is not None:
        query = query.where(col(Event.seq) < before)
    order = col(Event.seq).desc() if last else col(Event.seq)
    return conn.execute(query.order_by(order))


def _resumed(event: dict[str, Any] | None) -> tuple[merkle.Frontier, int]:
    """The tree a checkpoint left off with (its frontier), or an empty one when it kept none
    or what it kept does not add up to its size and root."""
    if event is not None and "frontier" in event:
        tree = merkle.Frontier.resume(event["frontier"])
        if tree.size == event["size"] and tree.root().hex() == event["root"]:
            return tree, tree.size
    return merkle.Frontier(), 0


def tree(conn: Connection, cycle: str) -> merkle.Frontier:
    """The Merkle tree of the cycle's chain as it stands, in the caller's transaction:
    resumed from the last checkpoint's frontier, with the events written since. Pass it to
    `db.append` to grow it as events are sealed, then to `write_checkpoint`."""
    previous = None
    for seq, body in _checkpoints(conn, cycle, last=True):
        previous = db.parsed(seq, body)
        break
    grown, after = _resumed(previous)
    for _, _, body in db.stored(conn, cycle, after=after):
        grown.append(merkle.leaf_hash(body))
    return grown


def write_checkpoint(
    conn: Connection, key: Any, *, cycle: str, actor: str, grown: merkle.Frontier | None = None
) -> dict[str, Any]:
    """Append a checkpoint of the cycle's chain as it stands, in the caller's transaction.

    With a committee `key` it is signed; without one it still fixes the size, Merkle root and
    head, so later logs can be proved to extend it, but it proves nothing about who wrote it.
    Each checkpoint keeps the tree's frontier (its complete subtrees), so the next one hashes
    only the events written since, not the whole log again. `grown`: the tree as `tree` gave
    it and `db.append` grew it in this transaction, so that no event is read back; a tree of
    another size than the log's is not used.
    """
    last, head = db.cycle_head(conn, cycle)
    if grown is None or grown.size != last:
        grown = tree(conn, cycle)
    size, root = grown.size, grown.root().hex()
    event = events.checkpoint(
        cycle=cycle, actor=actor, at=now(), size=size, root=root, head=head,
        frontier=grown.state(), public_key=None if key is None else public_hex(key),
        signature=None if key is None else key.sign(statement(size, root, head)).hex(),
    )  # fmt: skip
    db.append(conn, [event])
    return event


def checkpoint_now(
    *,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
    key: Any = None,
    actor: str,
) -> dict[str, Any]:
    """`awards checkpoint write`: append a checkpoint of the cycle's chain as it stands
    (signed with the committee `key` when given), pinning what was written since the last
    one."""
    engine = engine or open_engine(url)
    with db.write(engine) as conn:
        workflow = load_cycle(conn, cycle)
        return write_checkpoint(conn, key, cycle=workflow.cycle_id, actor=actor)


@dataclass(frozen=True)
class Verified(Plain):
    """Every checkpoint of one cycle's chain as the check found it, and what the trusted key
    (if one was given) makes of that chain."""

    checkpoints: list[Seen]
    trust: Trust
    cycle: str = ""

    @property
    def ok(self) -> bool:
        sound = all(not c.problem for c in self.checkpoints)
        return sound and (self.trust.key is None or self.trust.ok)


def verify_checkpoints(
    *,
    url: str | None = None,
    engine: Engine | None = None,
    public_key: str | Path | None = None,
    cycle: str | None = None,
) -> Verified:
    """Check every checkpoint in the cycle's chain against the events before it (size,
    RFC 9162 root, head) and its signature; with the committee's `public_key` (its file),
    also which events the checkpoints signed with it cover (awards.log.trust, as `replay`
    does)."""
    trusted = None if public_key is None else load_public_key(public_key)
    engine = engine or open_engine(url)
    checks = Checkpoints(trusted)
    with db.read(engine) as conn:
        cycle_id = load_cycle(conn, cycle).cycle_id
        for seq, digest, body in db.stored(conn, cycle_id):
            checks.add(body, digest, db.parsed(seq, body))
    if not checks.seen and trusted is None:
        raise NotFound(
            f"the log of cycle {cycle_id} has no checkpoint yet; `awards advance` writes one after every stage that moves anything"
        )
    return Verified(checks.seen, checks.trust(), cycle_id)


@dataclass(frozen=True)
class Pinned:
    """Where a checkpoint pins one logged event (`awards verify`)."""

    seq: int
    checkpoint: int | None = None  # the seq of the checkpoint covering it; None: none does
    public_key: str | None = None  # who signed that checkpoint; None: unsigned
    trusted: bool = False  # signed with the trusted key
    problem: str = ""  # "" when the event is in that checkpoint's tree
    body: bytes = field(default=b"", repr=False)  # the event's bytes, as the tree holds them

    @property
    def ok(self) -> bool:
        return self.checkpoint is not None and not self.problem


def pinned(conn: Connection, cycle: str, seq: int, trusted: str | None = None) -> Pinned:
    """The first checkpoint after event `seq` of the cycle's chain that covers it (with a `trusted` key: the first
    signed with that key), and whether the event is in its Merkle tree.

    Only the events between the checkpoint before `seq` and the covering one are read: the
    tree is resumed from the earlier checkpoint's frontier and must reach the covering one's
    root. That frontier need not be trusted: a frontier that is not the real one cannot
    reach the same root (that would take a SHA-256 collision).
    """
    cover = None
    for cseq, body in _checkpoints(conn, cycle, after=seq):
        event = db.parsed(cseq, body)
        if event["size"] < seq:
            continue
        signed = event.get("signature") is not None
        if trusted is None or (signed and event.get("public_key") == trusted):
            cover = event
            break
    if cover is None:
        return Pinned(seq)
    key = cover.get("public_key") if cover.get("signature") is not None else None
    found = Pinned(seq, cover["seq"], key, key is not None and key == trusted)
    if key is not None and not signature_ok(cover):
        return _with(found, "its signature does not match the statement")
    before = None
    for cseq, body in _checkpoints(conn, cycle, before=seq, last=True):
        before = db.parsed(cseq, body)
        break
    tree, after = _resumed(before if before is not None and before["size"] < seq else None)
    head, mine, expected = GENESIS, b"", after + 1
    for eseq, digest, body in db.stored(conn, cycle, after=after, upto=cover["size"]):
        if eseq != expected:
            return _with(found, f"event {expected} is missing from the log")
        tree.append(merkle.leaf_hash(body))
        head, expected = digest, expected + 1
        if eseq == seq:
            mine = body
    if tree.size != cover["size"] or tree.root().hex() != cover["root"] or head != cover["head"]:
        return _with(found, f"the log no longer has the events it signed (root over the first {cover['size']} events differs)")  # fmt: skip
    return Pinned(found.seq, found.checkpoint, found.public_key, found.trusted, "", mine)


def _with(found: Pinned, problem: str) -> Pinned:
    return Pinned(found.seq, found.checkpoint, found.public_key, found.trusted, problem)


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
            if db.parsed(seq, body).get("trigger") == "award":
                award_seq = seq
        if award_seq is None:
            raise NotFound(
                f"nomination {nomination} has no award decision to prove (it is '{row.state}')"
            )
        checkpoint = None
        for seq, body in _checkpoints(conn, workflow.cycle_id, after=award_seq):
            e = db.parsed(seq, body)
            if e["size"] >= award_seq:
                checkpoint = e
                break
        if checkpoint is None:
            raise NotFound(
                f"no checkpoint covers event {award_seq} yet; the next `awards advance` that moves anything writes one"
            )
        leaves, event_body = [], b""
        for seq, _, body in db.stored(conn, workflow.cycle_id, upto=checkpoint["size"]):
            leaves.append(merkle.leaf_hash(body))
            if seq == award_seq:
                event_body = body
    if len(leaves) != checkpoint["size"]:
        raise LogError(f"database: the log of cycle {workflow.cycle_id} has {len(leaves)} of the {checkpoint['size']} events its checkpoint at event {checkpoint['seq']} covers; `awards log verify` says where")  # fmt: skip
    index = award_seq - 1
    return {
        "nomination": nomination,
        "leaf_index": index,
        "tree_size": checkpoint["size"],
        "event": event_body.decode("utf-8"),
        "leaf_hash": leaves[index].hex(),
        "audit_path": [h.hex() for h in merkle.inclusion_proof(index, leaves)],
        "checkpoint": {
            k: checkpoint.get(k) for k in ("size", "root", "head", "public_key", "signature")
        },
    }
