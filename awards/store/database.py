"""The database: engine set-up, schema, transactions and appending to the decision log.

SQLite by default (`./awards.db`), any SQLAlchemy URL with `--db` or AWARDS_DATABASE_URL.
On SQLite: WAL, synchronous=FULL and `BEGIN IMMEDIATE` for every write transaction, so the
log head is read and extended by one writer at a time. The log refuses UPDATE and DELETE
through triggers on every backend (awards.store.triggers). Backend differences live here and
there, nowhere else.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Select, event, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import col

from awards.errors import ConflictError, LogError
from awards.log import merkle
from awards.log.chain import GENESIS, malformed, sealed_body
from awards.store.models import Event
from awards.store.triggers import APPEND_ONLY, append_only, missing_triggers, serial_held

# where the revisions find them
__all__ = ["APPEND_ONLY", "append_only", "missing_triggers", "serial_held"]

DEFAULT_URL = "sqlite:///awards.db"
_WRITE = "awards_write"
# How long a SQLite writer waits for another one before giving up (PostgreSQL waits on).
LOCK_WAIT_SECONDS = 3600


def database_url(url: str | None = None) -> str:
    """The URL in force: the argument, else AWARDS_DATABASE_URL, else ./awards.db."""
    return url or os.environ.get("AWARDS_DATABASE_URL") or DEFAULT_URL


def configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        # First, so the pragmas below wait too. A writer waits for the one before it, as on
        # PostgreSQL: a stage of a million nominations holds the lock for over a minute.
        cur.execute(f"PRAGMA busy_timeout={LOCK_WAIT_SECONDS * 1000}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        # Bulk stages touch every row of a large cycle: a bigger page cache (64 MB)
        # and in-memory temporary tables keep them off the disk.
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_WRITE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One write transaction: all of it is committed, or none of it.

    The log head is serialised: BEGIN IMMEDIATE on SQLite, a transaction-scoped advisory
    lock on PostgreSQL. A collision with another writer becomes ConflictError.
    """
    with _refused_as_conflict(), engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        # PostgreSQL: each statement after the lock must see what the writer before
        # committed, whatever the server's default isolation (under REPEATABLE READ the
        # snapshot would date from before the lock was granted).
        _isolation(conn, "READ COMMITTED")
        with conn.begin():
            _lock_head(conn)
            yield conn


def _isolation(conn: Connection, level: str) -> None:
    # SQLite needs nothing: a transaction sees one snapshot, and writers are serialised.
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level=level)


def _lock_head(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(4242)"))


@contextmanager
def _refused_as_conflict() -> Iterator[None]:
    try:
        yield
    except IntegrityError as exc:
        raise ConflictError(
            f"the database refused the write ({_first_line(exc)}); nothing was written. "
            "Another process may have changed the cycle: run the command again"
        ) from None
    except OperationalError as exc:
        if getattr(exc.orig, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY:
            raise ConflictError(
                f"another command has been writing to the database for over {LOCK_WAIT_SECONDS // 60} "
                "minutes; nothing was written: run this one again once it has finished"
            ) from None
        raise ConflictError(
            f"the database could not complete the write ({_first_line(exc)}); nothing was written"
        ) from None


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction with a consistent view."""
    with engine.connect() as conn:
        # PostgreSQL: one snapshot for the whole transaction, not one per statement, or
        # `audit` could fold the log before a commit and read the tables after it.
        _isolation(conn, "REPEATABLE READ")
        with conn.begin():
            yield conn


class Claim:
    """Rows claimed for a piece of work, until `record` commits it or `release` gives them
    back (see `claim`). While it lasts, `conn` is its open transaction, for reads."""

    def __init__(self, engine: Engine, query: Select[Any], of: Any = None) -> None:
        self._engine = engine
        self.conn = engine.connect()
        # As in `write`: after a lock is granted, the next statement sees what its holder
        # committed (what it rendered, where the log's head is now).
        _isolation(self.conn, "READ COMMITTED")
        self._tx = self.conn.begin()
        try:
            if engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=of)
            self.rows = self.conn.execute(query).all()
        except BaseException:
            self.release()
            raise

    @contextmanager
    def record(self) -> Iterator[Connection]:
        """The write transaction that records the work, like `write`; the claim ends with it.

        PostgreSQL: the claim's own transaction, so its row locks are held until it commits.
        SQLite: a write transaction of its own (the claim took no lock to hand over)."""
        try:
            if self.conn.dialect.name == "postgresql":
                with _refused_as_conflict():
                    _lock_head(self.conn)
                    yield self.conn
                    self._tx.commit()
            else:
                with write(self._engine) as conn:
                    yield conn
        finally:
            self.release()

    def release(self) -> None:
        """End the claim without recording anything (idempotent)."""
        if self._tx.is_active:
            self._tx.rollback()
        self.conn.close()


def claim(engine: Engine, query: Select[Any], *, of: Any = None) -> Claim:
    """Run `query` in a transaction that holds its rows (those of table `of`, if it joins
    several) until the claim ends, so that processes and machines sharing the work each
    take different rows.

    PostgreSQL: `SELECT ... FOR UPDATE [OF table] SKIP LOCKED` (a `LIMIT` counts only rows
    nobody holds); a claimer that dies drops its connection and its rows with it. SQLite has
    one writer at a time and no row locks: a plain SELECT, and claims may overlap, so
    `record` must check that nobody recorded the same work in the meantime.
    """
    return Claim(engine, query, of)


def stored(
    conn: Connection,
    cycle: str,
    *,
    after: int = 0,
    upto: int | None = None,
    batch: int = 10_000,
) -> Iterator[tuple[int, str, bytes]]:
    """(seq, hash, body) of the events of `cycle`'s chain after `after` (up to `upto`), in
    order, read in batches so a large log never sits in memory whole.

    A body that is not bytes is refused with its seq: the column holds the exact bytes an
    event was hashed from, and only a row rewritten outside awards (as text, say) holds
    anything else."""
    # A chain's seqs run 1, 2, 3...: each batch is a range of seqs, not a LIMIT after a
    # seq, so whatever plan the server picks (PostgreSQL, before it has statistics of a
    # freshly written log, sorts every remaining row for a LIMIT) reads `batch` rows at most.
    # A gap (a row missing from a damaged log) is skipped to the next stored seq, for the
    # chain's verification to name.
    last = after
    while upto is None or last < upto:
        end = last + batch if upto is None else min(last + batch, upto)
        rows = conn.execute(
            select(col(Event.seq), col(Event.hash), col(Event.body))
            .where(col(Event.cycle) == cycle, col(Event.seq) > last, col(Event.seq) <= end)
            .order_by(col(Event.seq))
        ).all()
        for seq, digest, body in rows:
            yield seq, digest, event_bytes(seq, body)
        if len(rows) < end - last:
            found = select(func.min(col(Event.seq))).where(
                col(Event.cycle) == cycle, col(Event.seq) > end
            )
            following = conn.execute(found).scalar()
            if following is None:
                return
            end = following - 1
        last = end


# The distinct cycles of the log, one index probe each (a loose index scan of the key)
# rather than a scan of every event.
_CHAINS = text(
    "WITH RECURSIVE c(cycle) AS (SELECT MIN(cycle) FROM event UNION ALL "
    "SELECT (SELECT MIN(cycle) FROM event WHERE cycle > c.cycle) FROM c "
    "WHERE c.cycle IS NOT NULL) SELECT cycle FROM c WHERE cycle IS NOT NULL ORDER BY cycle"
)


def chains(conn: Connection) -> list[str]:
    """The cycles that have events in the log, each its own chain, in order of their ids."""
    return list(conn.execute(_CHAINS).scalars())


def event_bytes(seq: int, body: Any) -> bytes:
    """A stored event's body, which must be bytes; LogError naming the event otherwise."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, memoryview | bytearray):
        return bytes(body)
    kind = "text" if isinstance(body, str) else type(body).__name__
    raise LogError(
        f"database:{seq}: event {seq} is stored as {kind}, not as the bytes it was hashed from: its "
        "row was rewritten outside awards",
        seq,
    )


def parsed(seq: int, body: Any) -> dict[str, Any]:
    """A stored event, parsed and its shape checked; LogError naming it when it is
    malformed (a row written outside awards)."""
    event, wrong = malformed(event_bytes(seq, body))
    if wrong is not None or event is None:
        raise LogError(f"database:{seq}: {wrong}", seq)
    return event


def cycle_head(conn: Connection, cycle_id: str) -> tuple[int, str]:
    """(seq, hash) of the last event of the cycle's chain, (0, GENESIS) while it has none.

    Each cycle's events form a chain of their own, numbered from 1. Read it inside a write
    transaction (`write`) to chain to it: the writer lock keeps the head where it was read."""
    row = conn.execute(
        select(col(Event.seq), col(Event.hash))
        .where(col(Event.cycle) == cycle_id)
        .order_by(col(Event.seq).desc())
        .limit(1)
    ).first()  # type: ignore[attr-defined]
    return (row[0], row[1]) if row else (0, GENESIS)


@dataclass(frozen=True)
class Appended:
    """Where a batch landed in the log: events `first` .. `first + count - 1`."""

    first: int
    count: int
    head: str

    def seq(self, i: int) -> int:
        """The sequence number of the batch's i-th event (0-based)."""
        return self.first + i


CHUNK = 20_000  # rows per executemany: bounds memory whatever the batch size


def insert_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert plain tuples in bulk; returns the count.

    PostgreSQL gets binary COPY; SQLite gets the driver's executemany in chunks. Bulk paths use this
    instead of ORM objects or Core parameter dictionaries: at a million rows the per-row
    cost of those dominates everything else.
    """
    if conn.dialect.name == "postgresql":
        return _copy_rows(conn, table, columns, rows)
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    count = 0
    for chunk in _batched(rows):
        conn.exec_driver_sql(sql, list(chunk))
        count += len(chunk)
    return count


BULK_WORK_MEM = "256MB"  # PostgreSQL's memory for one set-based update's join


def update_rows(conn: Connection, statement: str) -> int:
    """Run one set-based `UPDATE <statement>` inside the caller's write transaction; return
    how many rows it changed.

    SQLite: `UPDATE OR ROLLBACK`, so a failure ends the whole transaction (as any failure
    in a write transaction does) and SQLite keeps no statement journal to undo this one
    statement alone: with temporary storage in memory, that journal holds an image of every
    page the statement changes, hundreds of megabytes for a million nominations.
    """
    verb = "UPDATE OR ROLLBACK" if conn.dialect.name == "sqlite" else "UPDATE"
    if conn.dialect.name == "postgresql":
        # The join with a million moves fits in memory instead of spilling to disk in batches
        # (the server's default is 4 MB); for this transaction only.
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{BULK_WORK_MEM}'")
    return conn.exec_driver_sql(f"{verb} {statement}").rowcount


def _copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    # Binary COPY: no text escaping on either side (an event's bytes would travel as hex
    # text), several times faster for the log. It needs each column's type.
    cursor.execute(
        "SELECT attname, atttypid::int FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
        (table,),
    )
    oid = dict(cursor.fetchall())
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([oid[c] for c in columns])
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _batched(rows: Iterable[Sequence[Any]]) -> Iterator[tuple[Sequence[Any], ...]]:
    it = iter(rows)
    while chunk := tuple(itertools.islice(it, CHUNK)):
        yield chunk


_EVENT_COLUMNS = ("seq", "prev", "hash", "kind", "cycle", "award", "nominee", "body")


def append(
    conn: Connection, events: Iterable[dict[str, Any]], tree: merkle.Frontier | None = None
) -> Appended:
    """Append events of one cycle after the head of that cycle's chain, inside the caller's
    write transaction.

    Events are sealed and written in chunks, so a million-event batch never holds all its
    bytes at once. An empty batch appends nothing and reads no head (its `first` is 1, its
    `count` 0). With `tree` (the chain's Merkle tree as it stands, see
    awards.store.checkpoints.tree), each event's leaf is added to it as the event is sealed,
    so a checkpoint at the end of the transaction need not read the events back.
    """
    it = iter(events)
    first = next(it, None)
    if first is None:
        return Appended(1, 0, GENESIS)
    cycle = first["cycle"]
    last, prev = cycle_head(conn, cycle)
    leaf, digest = merkle.leaf_hash, hashlib.sha256
    grow = None if tree is None else tree.append

    def rows() -> Iterator[tuple[Any, ...]]:
        nonlocal prev
        seq = last
        for e in itertools.chain((first,), it):
            if e["cycle"] != cycle:  # a programming error: one batch, one chain
                raise ValueError(f"one batch of events spans cycles {cycle} and {e['cycle']}")
            seq += 1
            body = sealed_body(e, seq, prev)
            if grow is not None:
                grow(leaf(body))
            linked, prev = prev, digest(body).hexdigest()
            yield (seq, linked, prev, e["kind"], cycle, e.get("award"), e.get("nominee"), body)

    count = insert_rows(conn, "event", _EVENT_COLUMNS, rows())
    return Appended(last + 1, count, prev)


def _first_line(exc: Exception) -> str:
    orig = getattr(exc, "orig", exc)
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
