"""`awards audit`: the tables against the log, on every backend."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from awards.commands.advance import advance
from awards.commands.audit import audit
from awards.store.schema import open_engine

from support import open_cycle, review, seat


def opened(url: str, tmp_path: Path) -> None:
    open_cycle(url, tmp_path)
    advance(url=url, actor="s")
    seat(url)
    review("top-department:D029", approve=True, reviewer="a", url=url)


def test_audit_finds_no_drift_after_normal_use(db_url, tmp_path):
    opened(db_url, tmp_path)
    result = audit(url=db_url)
    assert (result.drift, result.nominations, result.verdicts) == ([], 46, 1)


def test_audit_lists_rows_changed_by_hand_in_sql(db_url, tmp_path):
    opened(db_url, tmp_path)
    with open_engine(db_url).begin() as conn:
        conn.execute(
            text(
                "UPDATE nomination SET state = 'awarded' WHERE nominee_id = 'D003' AND award = 'top-department'"
            )
        )
        conn.execute(text("UPDATE verdict SET approve = false"))
        conn.execute(text("DELETE FROM nomination WHERE nominee_id = 'จันทบุรี'"))
    assert [str(d) for d in audit(url=db_url).drift] == [
        "dga-2019 top-department:D003: state is 'awarded' in the tables but 'eliminated' in the log",
        "dga-2019 top-province:จันทบุรี: state is None in the tables but 'awarded' in the log",
        "dga-2019 top-department:D029: a's verdict is 'reject' in the tables but 'approve' in the log",
    ]
