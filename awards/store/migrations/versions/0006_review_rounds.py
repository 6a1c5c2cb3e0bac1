"""Review rounds: a nomination remembers the review round it is in (1 until a round's close
sends it on to the next).

Nominations stored before this revision were all reviewed in one round: they get 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nomination", schema=None) as batch_op:
        batch_op.add_column(sa.Column("round", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("nomination", schema=None) as batch_op:
        batch_op.drop_column("round")
