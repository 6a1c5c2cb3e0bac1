"""The baseline: the schema of awards 0.1, the first release, which had no version table.

Its tables are frozen here as they were (not imported from awards.models, which moves on),
so awards.migrate can also complete and check a database that release made before stamping
it 0001. The decision log's append-only triggers are awards.db's (the SQLite and the
PostgreSQL ones). The next revisions are ordinary Alembic operations: see env.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from awards.store import database as db

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def schema() -> sa.MetaData:
    """The tables and indexes of awards 0.1."""
    m = sa.MetaData()
    text, integer, boolean = sa.String, sa.Integer, sa.Boolean

    def req(name: str, kind: Any, **kw: Any) -> sa.Column[Any]:
        return sa.Column(name, kind, nullable=False, **kw)

    sa.Table(
        "cycle", m,
        req("id", text, primary_key=True), req("title_th", text), req("title_en", text),
        req("year", integer), req("year_be", integer), req("workflow_sha256", text),
        req("workflow_path", text), req("workflow_text", text), req("created_at", text),
    )  # fmt: skip
    sa.Table(
        "survey_import", m,
        req("id", integer, primary_key=True), req("cycle", text), req("sha256", text),
        req("path", text), req("agencies", integer), req("imported_at", text), req("seq", integer),
        sa.Index("ix_survey_import_cycle", "cycle"),
    )  # fmt: skip
    sa.Table(
        "agency", m,
        req("cycle", text, primary_key=True), req("agency_id", text, primary_key=True),
        req("name_th", text), req("name_en", text), req("level", text), req("ministry", text),
        req("province", text), req("responded", boolean), sa.Column("scores", text),
        req("flags", text),
    )  # fmt: skip
    sa.Table(
        "nomination", m,
        req("id", integer, primary_key=True), req("cycle", text), req("award", text),
        req("nominee_id", text), req("name_th", text), req("name_en", text), req("level", text),
        req("ministry", text), req("province", text), req("members", integer),
        req("scores", text), req("weighted", text), req("score", text), req("state", text),
        sa.Column("rank", integer), req("seq", integer),
        sa.UniqueConstraint("cycle", "award", "nominee_id"),
        sa.Index("ix_nomination_state", "cycle", "award", "state"),
    )  # fmt: skip
    sa.Table(
        "verdict", m,
        req("id", integer, primary_key=True), req("nomination_id", integer),
        req("reviewer", text), req("approve", boolean), req("note", text), req("at", text),
        req("seq", integer),
        sa.UniqueConstraint("nomination_id", "reviewer"),
        sa.Index("ix_verdict_nomination_id", "nomination_id"),
    )  # fmt: skip
    sa.Table(
        "event", m,
        req("seq", integer, primary_key=True, autoincrement=False), req("prev", text, unique=True),
        req("hash", text), req("kind", text), req("cycle", text), sa.Column("award", text),
        sa.Column("nominee", text), req("body", sa.LargeBinary),
        sa.Index("ix_event_subject", "cycle", "award", "nominee"),
    )  # fmt: skip
    sa.Table(
        "certificate", m,
        req("id", integer, primary_key=True), req("cycle", text), req("award", text),
        req("nominee_id", text), req("nomination_id", integer), req("serial", text),
        req("code", text), req("template", text), req("template_sha256", text),
        req("pdf_sha256", text), req("size", integer), req("pdfa", boolean),
        req("rendered_at", text), req("actor", text), req("seq", integer),
        sa.Index("ix_certificate_nomination", "nomination_id"),
        sa.Index("ix_certificate_serial", "serial"),
        sa.Index("ix_certificate_code", "code"),
        sa.Index("ix_certificate_pdf", "pdf_sha256"),
    )  # fmt: skip
    return m


def upgrade() -> None:
    bind = op.get_bind()
    schema().create_all(bind)
    db.append_only(bind)


def downgrade() -> None:
    # The log's triggers go with its table.
    schema().drop_all(op.get_bind())
