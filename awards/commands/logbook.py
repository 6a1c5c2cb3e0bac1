"""The decision log as a record to read and hand over: `awards log` (its history),
`awards log export` (a cycle's chain as JSON Lines) and `awards log verify` (the chain of an
exported file or every cycle's chain in the live log, and with the committee's public key,
their checkpoints).

Each cycle's events are a chain of their own, numbered from 1 (awards.store.database), so
one cycle's export stands alone: the offline replay needs nothing of any other cycle."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, select
from sqlmodel import col

from awards.errors import LogError
from awards.log import chain as eventlog
from awards.log.chain import GENESIS, Verified, export_line, sha256, verify_lines
from awards.log.trust import Checkpoints, Untrusted
from awards.store import database as db
from awards.store.loading import load_cycle
from awards.store.models import Event
from awards.store.outputs import check_outputs
from awards.store.schema import open_engine


def history(
    *,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
    award: str | None = None,
    nominee: str | None = None,
) -> list[dict[str, Any]]:
    """Logged events, oldest first, filtered by award and/or nominee. Each event is the
    logged JSON object itself (decimals are already strings)."""
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
        if award:
            workflow.award(award)
        query = select(col(Event.seq), col(Event.body)).where(col(Event.cycle) == workflow.cycle_id)
        if award:
            query = query.where(col(Event.award) == award)
        if nominee:
            query = query.where(col(Event.nominee) == nominee)
        rows = conn.execute(query.order_by(col(Event.seq))).all()  # type: ignore[arg-type]
    return [db.parsed(seq, body) for seq, body in rows]


def export_log(
    path: str | Path,
    *,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
) -> Verified:
    """Write the cycle's chain (default: the only open cycle) as JSON Lines, checking every
    stored hash on the way.

    The file is written beside its destination and renamed into place, so a failed export
    never leaves a half-written log behind.
    """
    engine = engine or open_engine(url)
    target = Path(path)
    check_outputs(engine, [target], "log")  # never over the database, a workflow or a key
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=".awards-log-", dir=target.parent if str(target.parent) else "."
        )
    except OSError as exc:  # name the file asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror, str(target)) from None
    count, prev = 0, GENESIS
    try:
        with os.fdopen(fd, "wb") as out, db.read(engine) as conn:
            cycle_id = load_cycle(conn, cycle).cycle_id
            for seq, digest, body in db.stored(conn, cycle_id):
                if sha256(body) != digest:
                    raise LogError(
                        f"event {seq} of cycle {cycle_id} in the database does not match its stored hash"
                    )
                out.write(export_line(body, digest))
                count, prev = seq, digest
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Verified(count, prev)


def verify_file(path: str | Path, trusted: str | None = None) -> Verified:
    """Verify an exported log; LogError names the first bad line. With a `trusted` public key
    (hex), also check every checkpoint against the events before it and raise Untrusted for
    the first stretch that no checkpoint signed with that key covers."""
    verified = eventlog.verify_file(str(path))
    if trusted is None:
        return Verified(verified.events, verified.head)
    return _judged(verified, eventlog.events_of(path), trusted, str(path))


def verify_database(
    *,
    url: str | None = None,
    engine: Engine | None = None,
    trusted: str | None = None,
    cycle: str | None = None,
) -> Verified:
    """Verify the cycle's chain in the database (default: the only open cycle) the same way
    as an exported file."""
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        cycle_id = load_cycle(conn, cycle).cycle_id
        return verify_chain(conn, cycle_id, trusted, where(conn, cycle_id))


def verify_chains(
    *, url: str | None = None, engine: Engine | None = None, trusted: str | None = None
) -> dict[str, Verified]:
    """Verify every cycle's chain in the database, cycle by cycle (in order of their ids);
    LogError (or Untrusted) names the cycle and seq of the first problem."""
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        return {c: verify_chain(conn, c, trusted, where(conn, c)) for c in db.chains(conn)}


def where(conn: Connection, cycle: str) -> str:
    """How a message locates an event of the cycle's chain in the database: `database` while
    it holds one chain, `database (cycle C)` once it holds several."""
    return "database" if len(db.chains(conn)) <= 1 else f"database (cycle {cycle})"


def verify_chain(
    conn: Connection, cycle: str, trusted: str | None = None, source: str = "database"
) -> Verified:
    """Verify one cycle's stored chain inside the caller's read transaction; with a
    `trusted` key, also its checkpoints (see `verify_file`)."""
    verified = verify_lines(
        (export_line(body, digest) for _, digest, body in db.stored(conn, cycle)), source
    )
    if trusted is None:
        return Verified(verified.events, verified.head)
    return _judged(verified, stored_events(conn, cycle), trusted, source)


def stored_events(conn: Connection, cycle: str) -> Iterator[tuple[bytes, str, dict[str, Any]]]:
    """(bytes, hash, event) of each stored event of the cycle's chain, in order, for a chain
    already verified."""
    for _, digest, body in db.stored(conn, cycle):
        yield body, digest, orjson.loads(body)


def _judged(
    verified: Verified,
    events: Iterable[tuple[bytes, str, dict[str, Any]]],
    trusted: str,
    where: str,
) -> Verified:
    checks = Checkpoints(trusted)
    for body, digest, event in events:
        seen = checks.add(body, digest, event)
        if seen is not None and seen.problem:
            # In a verified log, line n holds event n.
            raise LogError(
                f"{where}:{seen.seq}: checkpoint at event {seen.seq}: {seen.problem}", seen.seq
            )
    trust = checks.trust()
    if not trust.ok:
        raise Untrusted(f"{where}: {trust.describe()}", trust)
    return Verified(verified.events, verified.head, trust)
