"""Alembic's environment: runs the revisions in versions/ on the connection that
awards.migrate hands over (inside its write transaction, so an upgrade is all or nothing).

To change the schema, change awards/models.py, then add a revision:

    python -m awards.migrate revision "committee tables"

It upgrades a scratch SQLite database through the existing revisions, compares it with
models.py and writes versions/0002_committee_tables.py (the next number) with the
differences as Alembic operations. `ruff format` it, read it and finish it by hand:

- a new NOT NULL column on a table that may have rows needs `server_default=` (or
  `nullable=True`, a data step filling it, then `alter_column(..., nullable=False)`);
- anything beyond adding tables, columns and indexes goes inside
  `with op.batch_alter_table("name") as batch:` (SQLite cannot ALTER much; on PostgreSQL the
  batch is plain ALTER TABLE);
- a batch that has to rebuild a table on SQLite drops that table's triggers: after one on
  `event`, call `db.append_only(op.get_bind())` (awards.db) to put the log's back;
- data that moves is written with `op.execute(...)` or `op.get_bind()`: never import the
  current models into a revision, they will have changed by the time it runs;
- `downgrade()` undoes `upgrade()`.

Then `pytest tests/test_migrations.py`: it upgrades new and old databases on SQLite and
PostgreSQL and fails while the revisions and models.py disagree. A released revision is
never edited; a mistake in one is fixed by the next.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import awards.store.models  # noqa: F401  (declares the tables on SQLModel.metadata)

if context.is_offline_mode():
    raise SystemExit("awards runs its migrations on a live connection: `awards db upgrade`")


def _render_item(kind: str, obj: Any, _autogen_context: Any) -> str | Literal[False]:
    # SQLModel's str columns are plain VARCHARs: render them without importing sqlmodel.
    if kind == "type" and isinstance(obj, AutoString):
        return "sa.String()"
    return False


context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=SQLModel.metadata,
    render_as_batch=True,
    render_item=_render_item,
)
with context.begin_transaction():
    context.run_migrations()
