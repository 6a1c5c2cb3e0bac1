"""One hash chain per cycle: the log's key becomes (cycle, seq), each cycle's events are
numbered from 1 and chained from GENESIS on their own, and UNIQUE(prev) goes (the key, the
writer lock and verification keep each chain linear).

A database whose log holds one cycle (or none) keeps its events as they are: its one chain
is that cycle's chain. A log that holds several cycles in one chain cannot be split without
rewriting hashed bytes, so such a database is refused, unchanged, with what to do.

SQLite rebuilds the table (its key cannot be altered), which drops its triggers: they are
put back. PostgreSQL changes the key and constraints in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from awards.store import database as db
from awards.store.schema import SchemaError, shown

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "cycle, seq, prev, hash, kind, award, nominee, body"


def _only(kind: str) -> dict[str, Any]:
    return {f"{d}_where": sa.text(f"kind = '{kind}'") for d in ("sqlite", "postgresql")}


def _one_chain(bind: Any, doing: str) -> None:
    """Refuse a log whose one chain holds several cycles: nothing is changed."""
    cycles = [
        r[0] for r in bind.execute(sa.text("SELECT DISTINCT cycle FROM event ORDER BY cycle"))
    ]
    if len(cycles) > 1:
        where = shown(bind.engine.url.render_as_string(hide_password=False))
        raise SchemaError(
            f"the database {where} holds the decision log of {len(cycles)} cycles "
            f"({', '.join(cycles)}) in one hash chain, which cannot be {doing} without "
            "rewriting its hashed events; nothing was changed. Keep the awards release that "
            "made it for this database (its `awards log export` is the record of all of them) "
            "and open each cycle's next work in a new database"
        )


def _indexes(columns: list[str]) -> None:
    op.create_index("ix_event_checkpoint", "event", columns, unique=False, **_only("checkpoint"))
    op.create_index(
        "ix_event_rendered", "event", columns, unique=False, **_only("certificate_rendered")
    )


def _rebuild(key: list[str], unique_prev: bool) -> None:
    """SQLite: the log table again with another key, its rows copied as they are."""
    op.create_table(
        "event_rekeyed",
        sa.Column("cycle", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("prev", sa.String(), nullable=False, unique=unique_prev),
        sa.Column("hash", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("award", sa.String(), nullable=True),
        sa.Column("nominee", sa.String(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint(*key),
    )
    op.execute(f"INSERT INTO event_rekeyed ({_COLUMNS}) SELECT {_COLUMNS} FROM event ORDER BY seq")
    op.drop_table("event")  # its triggers and indexes with it; DROP fires no trigger
    op.rename_table("event_rekeyed", "event")
    op.create_index("ix_event_subject", "event", ["cycle", "award", "nominee"], unique=False)


def upgrade() -> None:
    bind = op.get_bind()
    _one_chain(bind, "split into one chain per cycle")
    if bind.dialect.name == "sqlite":
        _rebuild(["cycle", "seq"], unique_prev=False)
        db.append_only(bind)
    else:
        op.drop_index("ix_event_checkpoint", table_name="event")
        op.drop_index("ix_event_rendered", table_name="event")
        op.execute("ALTER TABLE event DROP CONSTRAINT event_prev_key")
        op.execute("ALTER TABLE event DROP CONSTRAINT event_pkey")
        op.execute("ALTER TABLE event ADD CONSTRAINT event_pkey PRIMARY KEY (cycle, seq)")
    _indexes(["cycle", "seq"])


def downgrade() -> None:
    bind = op.get_bind()
    _one_chain(bind, "joined back into one chain")
    if bind.dialect.name == "sqlite":
        _rebuild(["seq"], unique_prev=True)
        db.append_only(bind)
    else:
        op.drop_index("ix_event_checkpoint", table_name="event")
        op.drop_index("ix_event_rendered", table_name="event")
        op.execute("ALTER TABLE event DROP CONSTRAINT event_pkey")
        op.execute("ALTER TABLE event ADD CONSTRAINT event_pkey PRIMARY KEY (seq)")
        op.execute("ALTER TABLE event ADD CONSTRAINT event_prev_key UNIQUE (prev)")
    _indexes(["seq"])
