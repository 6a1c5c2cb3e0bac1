"""A certificate's serial belongs to one nomination in the whole database: the record of
rendered certificates refuses a rendering whose serial another nomination (of any cycle)
already holds. Serials name their cycle from this version on (DGA-2562-DGA2019-PLQ-0001),
so two cycles of one year no longer give the same serial; the trigger is the guarantee.

No data moves. Serials recorded before, even one that two cycles both hold, are kept: a
re-render of a nomination may always take the serial that nomination already has.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from awards.store import database as db

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    db.serial_held(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS certificate_serial_held")
    else:
        op.execute("DROP TRIGGER IF EXISTS certificate_serial_held ON certificate")
        op.execute("DROP FUNCTION IF EXISTS awards_certificate_serial_held()")
