"""The database: engine set-up, schema, transactions and appending to the decision log.

SQLite by default (`./awards.db`), any SQLAlchemy URL with `--db` or AWARDS_DATABASE_URL.
On SQLite: WAL, synchronous=FULL and `BEGIN IMMEDIATE` for every write transaction, so the
log head is read and extended by one writer at a time. The log refuses UPDATE and DELETE
through triggers on every backend. Backend differences live here and nowhere else.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel, col

from awards.errors import AwardsError, ConflictError
from awards.eventlog import GENESIS, seal
from awards.models import Event

DEFAULT_URL = "sqlite:///awards.db"
_WRITE = "awards_write"

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS event_no_update BEFORE UPDATE ON event
       BEGIN SELECT RAISE(ABORT, 'the decision log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS event_no_delete BEFORE DELETE ON event
       BEGIN SELECT RAISE(ABORT, 'the decision log is append-only: DELETE refused'); END""",
]
_POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION awards_event_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION USING MESSAGE = 'the decision log is append-only: ' || TG_OP || ' refused'; END;
       $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS event_append_only ON event",
    """CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event
       FOR EACH ROW EXECUTE FUNCTION awards_event_append_only()""",
    "DROP TRIGGER IF EXISTS event_no_truncate ON event",
    """CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON event
       FOR EACH STATEMENT EXECUTE FUNCTION awards_event_append_only()""",
]


def database_url(url: str | None = None) -> str:
    """The URL in force: the argument, else AWARDS_DATABASE_URL, else ./awards.db."""
    return url or os.environ.get("AWARDS_DATABASE_URL") or DEFAULT_URL


def open_engine(url: str | None = None, *, create: bool = False) -> Engine:
    """An engine for the database; with `create`, make the schema if it is missing.

    Without `create`, a SQLite file that does not exist is an error rather than a new empty
    database, so a mistyped path does not silently start over.
    """
    url = database_url(url)
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    missing = sqlite and parsed.database not in (None, "", ":memory:")
    if missing and not create and not Path(str(parsed.database)).exists():
        raise AwardsError(
            f"no database at {parsed.database}; run `awards init WORKFLOW` first "
            "(or pass --db / set AWARDS_DATABASE_URL)"
        )
    # No pool: each command opens a connection per transaction and closes it, so nothing is
    # left open between commands or when a library caller drops the engine.
    engine = create_engine(url, poolclass=NullPool)
    if sqlite:
        _configure_sqlite(engine)
    if create:
        create_schema(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
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


def create_schema(engine: Engine) -> None:
    """Create missing tables and the log's append-only triggers (idempotent)."""
    SQLModel.metadata.create_all(engine)
    triggers = _SQLITE_TRIGGERS if engine.dialect.name == "sqlite" else _POSTGRES_TRIGGERS
    with write(engine) as conn:
        for statement in triggers:
            conn.exec_driver_sql(statement)


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One write transaction: all of it is committed, or none of it.

    The log head is serialised: BEGIN IMMEDIATE on SQLite, a transaction-scoped advisory
    lock on PostgreSQL. A collision with another writer becomes ConflictError.
    """
    try:
        with engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(4242)"))
                yield conn
    except IntegrityError as exc:
        raise ConflictError(
            f"the database refused the write ({_first_line(exc)}); nothing was written. "
            "Another process may have changed the cycle: run the command again"
        ) from None
    except OperationalError as exc:
        raise ConflictError(
            f"the database could not complete the write ({_first_line(exc)}); nothing was written"
        ) from None


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction with a consistent view."""
    with engine.connect() as conn, conn.begin():
        yield conn


def head(conn: Connection) -> tuple[int, str]:
    """(seq, hash) of the last event, (0, GENESIS) for an empty log."""
    row = conn.execute(
        select(col(Event.seq), col(Event.hash)).order_by(col(Event.seq).desc()).limit(1)
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

    PostgreSQL gets COPY; SQLite gets the driver's executemany in chunks. Bulk paths use this
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


def _copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _batched(rows: Iterable[Sequence[Any]]) -> Iterator[tuple[Sequence[Any], ...]]:
    it = iter(rows)
    while chunk := tuple(itertools.islice(it, CHUNK)):
        yield chunk


_EVENT_COLUMNS = ("seq", "prev", "hash", "kind", "cycle", "award", "nominee", "body")


def append(conn: Connection, events: Iterable[dict[str, Any]]) -> Appended:
    """Append events after the current head, inside the caller's write transaction.

    Events are sealed and written in chunks, so a million-event batch never holds all its
    bytes at once.
    """
    last, prev = head(conn)

    def rows() -> Iterator[tuple[Any, ...]]:
        nonlocal prev
        seq = last
        for e in events:
            seq += 1
            s = seal(e, seq, prev)
            prev = s.hash
            yield (
                s.seq,
                s.prev,
                s.hash,
                e["kind"],
                e["cycle"],
                e.get("award"),
                e.get("nominee"),
                s.body,
            )

    count = insert_rows(conn, "event", _EVENT_COLUMNS, rows())
    return Appended(last + 1, count, prev)


def _first_line(exc: Exception) -> str:
    orig = getattr(exc, "orig", exc)
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
