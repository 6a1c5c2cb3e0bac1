"""Declared survey fields: agencies and nominations keep the values of the workflow's
[[survey.fields]] (agency type, size class, votes), which segments, quotas and pools read.

Rows stored before this revision had no declared fields: they get '{}'.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("agency", "nomination"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("fields", sa.String(), server_default="{}", nullable=False)
            )


def downgrade() -> None:
    for table in ("agency", "nomination"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("fields")
