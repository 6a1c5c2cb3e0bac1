"""Certificates join the trust chain: the record of rendered certificates becomes append-only
like the log (the same triggers, on SQLite and PostgreSQL), and the log's checkpoints and
renderings get partial indexes, so that `awards verify` and each checkpoint find them without
reading the whole log.

No data moves. Renderings recorded before this revision stay as they are; a rendering no
checkpoint covers is reported by `awards verify` until the next checkpoint
(`awards checkpoint write`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from awards.store import database as db

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _only(kind: str) -> dict[str, Any]:
    return {f"{d}_where": sa.text(f"kind = '{kind}'") for d in ("sqlite", "postgresql")}


def upgrade() -> None:
    op.create_index("ix_event_checkpoint", "event", ["seq"], unique=False, **_only("checkpoint"))
    op.create_index(
        "ix_event_rendered", "event", ["seq"], unique=False, **_only("certificate_rendered")
    )
    db.append_only(op.get_bind(), "certificate")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("certificate_no_update", "certificate_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name in ("certificate_append_only", "certificate_no_truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON certificate")
        op.execute("DROP FUNCTION IF EXISTS awards_certificate_append_only()")
    op.drop_index("ix_event_rendered", table_name="event")
    op.drop_index("ix_event_checkpoint", table_name="event")
