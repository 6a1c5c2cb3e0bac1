"""Schema revisions: which one a database is at, `awards db upgrade`, and the check that
refuses to work on a database this code does not match.

The revisions are Alembic's, in awards/migrations/versions (how to add one: the docstring
of awards/migrations/env.py). A new database gets the tables of awards.models directly and
is stamped with the newest revision; tests/test_migrations.py proves that the revisions
build the same schema. A database made by awards 0.1 has no version table: `upgrade`
recognises it as revision 0001, completes and checks it against that revision's tables,
stamps it and upgrades it from there.

Alembic is imported only to change a database: checking a revision, which every command
does, reads the version files' identifiers without it.
"""

from __future__ import annotations

import ast
import functools
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from awards.errors import AwardsError
from awards.store import database as db

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSIONS = MIGRATIONS / "versions"
VERSION_TABLE = "alembic_version"
BASELINE = "0001"  # awards 0.1, which made databases without a version table


class SchemaError(AwardsError):
    """The database's schema is not the one this version of awards works with."""


class Unreachable(AwardsError):
    """The database URL cannot be used, or the database cannot be opened with it."""


# --- Revisions -------------------------------------------------------------------------


@functools.cache
def revisions() -> dict[str, tuple[str, ...]]:
    """Every revision in versions/ with the ones it follows, read from the files' own
    `revision` and `down_revision` assignments without running them."""
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted(VERSIONS.glob("*.py")):
        if path.name.startswith("__"):
            continue
        values: dict[str, Any] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target, value = _assignment(node)
            if target in ("revision", "down_revision") and value is not None:
                values[target] = ast.literal_eval(value)
        down = values.get("down_revision")
        found[values["revision"]] = () if down is None else (down,) if isinstance(down, str) else tuple(down)  # fmt: skip
    return found


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target: ast.expr = node.targets[0]
        value = node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target, value = node.target, node.value
    else:
        return None, None
    return (target.id, value) if isinstance(target, ast.Name) else (None, None)


@functools.cache
def head() -> str:
    """The newest revision: the one no other revision follows."""
    followed = {down for downs in revisions().values() for down in downs}
    heads = sorted(set(revisions()) - followed)
    if len(heads) != 1:
        raise SchemaError(
            f"the schema revisions in {VERSIONS} have {len(heads)} heads ({', '.join(heads)}); "
            "each revision must follow the one before it"
        )
    return heads[0]


# --- Where a database is ---------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """A database's schema revision (None: no version table) against this code's head."""

    database: str
    revision: str | None
    head: str
    tables: bool  # it has tables of its own besides the version table

    @property
    def state(self) -> str:
        """current, outdated, unversioned (made by awards 0.1), empty, or unknown."""
        if self.revision == self.head:
            return "current"
        if self.revision is None:
            return "unversioned" if self.tables else "empty"
        return "outdated" if self.revision in revisions() else "unknown"

    def problem(self) -> str | None:
        """Why commands refuse this database, and what to do; None when it is current."""
        where = f"the database {self.database}"
        upgrade = "run `awards db upgrade` (after a backup)"
        return {
            "current": None,
            "outdated": f"{where} is at schema revision {self.revision} and this awards needs {self.head}; {upgrade}",
            "unversioned": f"{where} was made by an earlier release of awards (it has no schema revision); {upgrade}",
            "empty": f"{where} has no awards tables; run `awards init WORKFLOW` first",
            "unknown": f"{where} is at schema revision {self.revision}, which this awards does not know (its newest is {self.head}): a newer awards upgraded it; use that one",
        }[self.state]  # fmt: skip

    def describe(self) -> str:
        """One line for `awards db current`."""
        if self.state == "current":
            return f"{self.database}: schema revision {self.revision} (current)"
        return self.problem() or ""


def status_of(conn: Connection, database: str) -> Status:
    """Where the database on `conn` is."""
    names = set(inspect(conn).get_table_names())
    revision = None
    if VERSION_TABLE in names:
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        if len(rows) > 1:
            raise SchemaError(
                f"the database {database} is at several schema revisions ({', '.join(sorted(rows))}); "
                "awards keeps one line of revisions: repair its version table by hand"
            )
        revision = rows[0] if rows else None
    return Status(database, revision, head(), bool(names - {VERSION_TABLE}))


def status(url: str | None = None) -> Status:
    """The schema revision of the database at `url` (`awards db current`)."""
    engine = open_engine(url, check=False)
    with db.read(engine) as conn:
        return status_of(conn, shown(url))


def check_revision(engine: Engine) -> None:
    """Refuse, with what to do, a database that is not at this code's head revision."""
    with db.read(engine) as conn:
        found = status_of(conn, shown(engine.url.render_as_string(hide_password=False)))
    if problem := found.problem():
        raise SchemaError(problem)


def shown(url: str | None) -> str:
    """The database as messages name it: a SQLite file's path, or the URL without password."""
    parsed = make_url(db.database_url(url))
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database)
    return parsed.render_as_string(hide_password=True)


# --- Changing a database ---------------------------------------------------------------


def create(conn: Connection, metadata: MetaData) -> None:
    """Inside the caller's write transaction: give an empty database the tables of
    `metadata` and the append-only triggers, stamped with the head revision; a database that
    has tables must already be current."""
    found = status_of(conn, shown(conn.engine.url.render_as_string(hide_password=False)))
    if found.state == "empty":
        metadata.create_all(conn)
        for table in db.APPEND_ONLY:
            db.append_only(conn, table)
        db.serial_held(conn)
        _stamp(conn, "head")
    elif problem := found.problem():
        raise SchemaError(problem)


@dataclass(frozen=True)
class Upgraded:
    database: str
    before: str | None  # None: the database had no version table
    after: str
    adopted: bool  # it was made by awards 0.1 and stamped as the baseline first

    def describe(self) -> str:
        """One line for `awards db upgrade`."""
        if self.adopted:
            done = f"recognised as revision {BASELINE} (made by awards 0.1, no schema revision)"
            if self.after == BASELINE:
                return f"{self.database}: {done}, and stamped; it is current"
            return f"{self.database}: {done}, then upgraded to {self.after}"
        if self.before == self.after:
            return (
                f"{self.database}: already at schema revision {self.after} (current); nothing to do"
            )
        if self.before is None:
            return f"{self.database}: schema created at revision {self.after}"
        return f"{self.database}: upgraded from schema revision {self.before} to {self.after}"


def upgrade(url: str | None = None, *, revision: str = "head") -> Upgraded:
    """Bring the database to `revision` (default: this code's head) in one transaction.

    A database without a version table but with tables (made by awards 0.1) is first
    completed with any baseline table it lacks, compared with the baseline and stamped
    0001; one that differs from the baseline is refused with the differences, unchanged.
    """
    engine = open_engine(url, check=False)
    where = shown(url)
    target = head() if revision == "head" else revision
    with db.write(engine) as conn:
        before = status_of(conn, where)
        if before.state == "unknown":
            raise SchemaError(before.problem() or "")
        adopted = before.state == "unversioned"
        if adopted:
            _adopt(conn, where)
        with _alembic_errors():
            from alembic import command  # only changing a database needs Alembic

            command.upgrade(_config(conn), target)
    return Upgraded(where, before.revision, target, adopted)


def _adopt(conn: Connection, where: str) -> None:
    from alembic.autogenerate import compare_metadata  # only changing a database needs Alembic
    from alembic.runtime.migration import MigrationContext

    baseline = _script().get_revision(BASELINE).module.schema()
    baseline.create_all(conn)  # the tables it lacks: certificates came late in 0.1
    db.append_only(conn)
    ours = set(baseline.tables)
    context = MigrationContext.configure(
        conn,
        opts={"include_name": lambda name, kind, _parent: kind != "table" or name in ours},
    )
    differences = compare_metadata(context, baseline)
    if differences:
        listed = "; ".join(_difference(d) for d in differences[:5])
        more = f" and {len(differences) - 5} more" if len(differences) > 5 else ""
        raise SchemaError(
            f"the database {where} has no schema revision but is not the schema of awards 0.1 "
            f"({listed}{more}); nothing was changed"
        )
    _stamp(conn, BASELINE)


def _difference(diff: Any) -> str:
    if isinstance(diff, list):  # column changes come as lists of tuples
        diff = diff[0]
    kind, *rest = diff
    names = [
        r if isinstance(r, str) else str(r.name)
        for r in rest
        if isinstance(r, str) or hasattr(r, "name")
    ]
    return " ".join([kind, *names[:2]])


def _stamp(conn: Connection, revision: str) -> None:
    from alembic.runtime.migration import MigrationContext  # only changing a database needs it

    MigrationContext.configure(conn).stamp(_script(), revision)


@functools.cache
def _script() -> Any:
    from alembic.script import ScriptDirectory  # only changing a database needs Alembic

    return ScriptDirectory(str(MIGRATIONS))


def _config(conn: Connection | None = None) -> Any:
    from alembic.config import Config  # only changing a database needs Alembic

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


@contextmanager
def _alembic_errors() -> Iterator[None]:
    from alembic.util import CommandError  # only changing a database needs Alembic

    try:
        yield
    except CommandError as exc:
        raise SchemaError(f"the schema upgrade failed: {exc}; nothing was changed") from None


# --- Adding a revision (development) ---------------------------------------------------


def new_revision(message: str) -> Path:
    """Write the next revision, autogenerated from the difference between models.py and a
    scratch database upgraded through the existing revisions; returns its path."""
    from alembic import command  # development only

    number = max(int(r) for r in revisions()) + 1
    with tempfile.TemporaryDirectory(prefix="awards-revision-") as tmp:
        scratch = Path(tmp) / "scratch.db"
        scratch.touch()
        url = f"sqlite:///{scratch}"
        upgrade(url)
        engine = open_engine(url, check=False)
        with db.write(engine) as conn:
            script = command.revision(
                _config(conn), message, autogenerate=True, rev_id=f"{number:04d}"
            )
    revisions.cache_clear()
    head.cache_clear()
    return Path(script.path)  # type: ignore[union-attr]


def open_engine(url: str | None = None, *, create: bool = False, check: bool = True) -> Engine:
    """An engine for the database; with `create`, make the schema if it is missing.

    Without `create`, a SQLite file that does not exist is an error rather than a new empty
    database, so a mistyped path does not silently start over. An existing database must be
    at the schema revision this code works with (`awards db upgrade`); `check=False` is for
    the commands that read or change that revision. A URL that cannot be used, a server that
    cannot be reached or a database that cannot be opened is Unreachable, in one line.
    """
    url = db.database_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise Unreachable(f"'{url}' is not a database URL; {_URL_HINT}") from None
    sqlite = parsed.get_backend_name() == "sqlite"
    file = Path(str(parsed.database)) if sqlite and parsed.database not in (None, "", ":memory:") else None  # fmt: skip
    if file is not None and not create and not file.exists():
        raise AwardsError(
            f"no database at {parsed.database}; run `awards init WORKFLOW` first "
            "(or pass --db / set AWARDS_DATABASE_URL)"
        )
    if file is not None and not file.parent.is_dir():
        raise Unreachable(f"no folder {file.parent} for the database {file}; create it first")
    try:
        # No pool: each command opens a connection per transaction and closes it, so nothing
        # is left open between commands or when a library caller drops the engine.
        engine = create_engine(url, poolclass=NullPool)
    except ImportError as exc:
        raise Unreachable(
            f"cannot use the database URL {shown(url)}: its driver is not installed "
            f"({_one_line(exc)}); for PostgreSQL, pip install 'psycopg[binary]'"
        ) from None
    except (ArgumentError, NoSuchModuleError) as exc:
        raise Unreachable(f"cannot use the database URL {shown(url)} ({_one_line(exc)}); {_URL_HINT}") from None  # fmt: skip
    if sqlite:
        db.configure_sqlite(engine)
    # Connect once here, so that a wrong host, port, user or database name, or a file that
    # cannot be opened, is reported as such and not as whatever the first query was.
    try:
        engine.connect().close()
    except DBAPIError as exc:
        raise Unreachable(
            f"cannot open the database {shown(url)}: {_one_line(exc)}; "
            "check --db or AWARDS_DATABASE_URL"
        ) from None
    if create:
        create_schema(engine)
    elif check:
        check_revision(engine)
    return engine


_URL_HINT = "write sqlite:///FILE or postgresql+psycopg://USER@HOST:PORT/DATABASE (--db or AWARDS_DATABASE_URL)"  # fmt: skip


def _one_line(exc: BaseException) -> str:
    """A driver's message, without SQLAlchemy's background link, on one line."""
    orig = getattr(exc, "orig", None) or exc
    lines = (" ".join(line.split()) for line in str(orig).splitlines())
    said = "; ".join(line for line in lines if line)
    return said.removeprefix("connection failed: ") or type(orig).__name__


def create_schema(engine: Engine) -> None:
    """Make the schema of a new, empty database and stamp its revision; an existing one
    must already be at the newest revision."""
    with db.write(engine) as conn:
        create(conn, SQLModel.metadata)


if __name__ == "__main__":
    if sys.argv[1:2] != ["revision"] or len(sys.argv) != 3:
        sys.exit('usage: python -m awards.store.schema revision "what changes"')
    print(new_revision(sys.argv[2]))
