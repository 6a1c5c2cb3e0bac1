"""The library as a Python caller uses it: reads inside one transaction, and the front door."""

from __future__ import annotations

from pathlib import Path

import pytest

from awards.commands.advance import advance, move_one
from awards.commands.results import read_ranking, read_status, status
from awards.rules.states import Trigger
from awards.store import database as db
from awards.store.cycles import import_survey, init_cycle, load_cycle
from awards.store.schema import open_engine

from support import WORKFLOW, small_survey


@pytest.fixture
def cycle(db_url: str, tmp_path: Path) -> str:
    init_cycle(WORKFLOW, url=db_url, actor="tester")
    import_survey(small_survey(tmp_path / "survey.csv"), url=db_url, actor="tester")
    advance(url=db_url, actor="tester")
    return db_url


def test_reads_in_one_transaction_see_one_state_of_the_log(cycle: str):
    with db.read(open_engine(cycle)) as conn:
        workflow = load_cycle(conn, None)
        before = (read_status(conn, workflow), read_ranking(conn, workflow, "top-province"))
        moved = move_one("top-province:" + before[1].rows[0].nominee_id, Trigger.REVOKE,
                         reason="merged", actor="tester", url=cycle)  # fmt: skip
        after = (read_status(conn, workflow), read_ranking(conn, workflow, "top-province"))
    assert after == before
    assert status(url=cycle).log.events == moved.seq == before[0].log.events + 1
