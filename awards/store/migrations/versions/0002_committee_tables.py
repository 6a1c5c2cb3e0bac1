"""The committee: reviewers per cycle, their assignments (and recusals), and the adjusted
dimension scores a verdict may carry.

Verdicts recorded before this revision keep no adjusted scores ('{}').
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.String(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nomination_id", "reviewer"),
    )
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignment_cycle"), ["cycle"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_assignment_nomination_id"), ["nomination_id"], unique=False
        )

    op.create_table(
        "reviewer",
        sa.Column("cycle", sa.String(), nullable=False),
        sa.Column("reviewer_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("ministries", sa.String(), nullable=False),
        sa.Column("provinces", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cycle", "reviewer_id"),
    )
    with op.batch_alter_table("verdict", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scores", sa.String(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("verdict", schema=None) as batch_op:
        batch_op.drop_column("scores")

    op.drop_table("reviewer")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_nomination_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_cycle"))

    op.drop_table("assignment")
