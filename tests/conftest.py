"""Shared fixtures: a database URL per backend (SQLite always, PostgreSQL when configured),
and the demo cycle, run once per session."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from support import copy_demo

if TYPE_CHECKING:
    from awards.commands.demo import DemoResult

POSTGRES = os.environ.get("AWARDS_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"]


def _postgres_url(base: str) -> Iterator[str]:
    """A fresh schema on the test server, dropped afterwards, so runs never collide."""
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _available(backend: str) -> str:
    if backend == "postgresql" and not POSTGRES:
        pytest.skip("AWARDS_TEST_POSTGRES_URL is not set")
    return backend


@contextlib.contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database: awards.db in `folder` (which must not hold one yet),
    or a schema of its own on the test server, dropped on leaving."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'awards.db'}"
    else:
        assert POSTGRES is not None
        yield from _postgres_url(POSTGRES)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One persistence suite, every backend: SQLite always, PostgreSQL when configured."""
    with fresh_database(_available(request.param), tmp_path) as url:
        yield url


@dataclass(frozen=True)
class Backend:
    name: str

    def database(self, folder: Path) -> contextlib.AbstractContextManager[str]:
        """A new, empty database of this backend (see fresh_database)."""
        return fresh_database(self.name, folder)


@pytest.fixture(params=BACKENDS, scope="module")
def backend(request: pytest.FixtureRequest) -> Backend:
    """Every backend, for tests that need one database for a whole module or one per
    Hypothesis example: `with backend.database(folder) as url:`."""
    return Backend(_available(request.param))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'awards.db'}"


def _fingerprint(folder: Path) -> tuple[object, ...]:
    """What a change to a finished demo would alter: the log's head, and the folder's files."""
    with contextlib.closing(sqlite3.connect(folder / "awards.db")) as conn:
        head = conn.execute("SELECT seq, hash FROM event ORDER BY seq DESC LIMIT 1").fetchone()
    files = sorted(
        (str(p.relative_to(folder)), p.stat().st_size)
        for p in folder.rglob("*")
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    )
    return head, files


@pytest.fixture(scope="session")
def demo_cycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoResult]:
    """The demo (awards.commands.demo.run): the 2019 cycle run to the end, its 75 certificates
    rendered, its log exported. Run once per session and shared, so only read it: a test
    that changes its database or files takes demo_copy (or support.copy_demo) instead."""
    from awards.commands import demo

    result = demo.run(tmp_path_factory.mktemp("demo") / "demo", actor="tester")
    before = _fingerprint(result.directory)
    yield result
    assert _fingerprint(result.directory) == before, (
        "a test changed the shared demo; give it demo_copy instead"
    )


@pytest.fixture
def demo_copy(demo_cycle: DemoResult, tmp_path: Path) -> Path:
    """A copy of the demo's folder (database, certificates, log, keys) to change freely."""
    return copy_demo(demo_cycle.directory, tmp_path / "demo")
