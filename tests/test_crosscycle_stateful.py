"""Any legal sequence of moves in an earlier cycle (advances, withdrawals, revocations), then
a later cycle whose awards read it: the later cycle audits clean, replays from its own log,
and its rules saw exactly the earlier cycle's outcome, on every backend."""

from __future__ import annotations

import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awards.commands.advance import advance, move_one
from awards.commands.audit import audit
from awards.commands.logbook import export_log
from awards.commands.results import ranking
from awards.log.replay import replay
from awards.rules.states import Trigger
from awards.store.cycles import import_survey, init_cycle

from crosscycle import earlier_survey, later_workflow
from support import WORKFLOW, agency_line, write_survey

if TYPE_CHECKING:
    from conftest import Backend

EARLIER = "dga-2019"
MOVES = st.lists(
    st.tuples(
        st.sampled_from(["advance", "withdraw", "revoke"]),
        st.sampled_from(["copy-free", "top-province"]),
        st.integers(0, 9),
    ),
    max_size=6,
)
# The later survey: each of the ten departments scores 0-100 or is absent; a new one, D100,
# is always there.
LATER = st.lists(st.one_of(st.none(), st.integers(0, 100)), min_size=10, max_size=10).map(
    lambda scores: [*scores, 90]
)


def _move(url: str, move: str, award: str, n: int) -> None:
    rows = ranking(award, url=url, cycle=EARLIER).rows
    if move == "advance":
        advance(url=url, cycle=EARLIER, award=award, actor="s")
        return
    wanted = {"withdraw": {"surveyed", "shortlisted", "reviewed"}, "revoke": {"awarded"}}[move]
    found = [r for r in rows if r.state in wanted]
    if found:
        trigger = Trigger.WITHDRAW if move == "withdraw" else Trigger.REVOKE
        code = found[n % len(found)].nomination
        move_one(code, trigger, reason=move, actor="s", url=url, cycle=EARLIER)


def _later_survey(folder: Path, scores: list[int | None]) -> Path:
    lines = [
        agency_line(f"D{i:03d}" if i < 10 else "D100", f"กรมทดสอบ{i:03d}", (str(s),) * 6)
        for i, s in enumerate(scores)
        if s is not None
    ]
    return write_survey(folder / "survey-2020.csv", lines)


def check_two_cycles(url: str, folder: Path, moves, later: list[int | None]) -> None:
    init_cycle(WORKFLOW, url=url, actor="s")
    import_survey(earlier_survey(folder), url=url, cycle=EARLIER, actor="s")
    for move in moves:
        _move(url, *move)
    advance(url=url, cycle=EARLIER, award="copy-free", actor="s")  # decided before 2020 reads it
    won = {r.nominee_id for r in ranking("copy-free", url=url, cycle=EARLIER).rows if r.state == "awarded"}  # fmt: skip
    then = {r.nominee_id: r.score for r in ranking("top-department", url=url, cycle=EARLIER).rows}
    workflow, survey = later_workflow(folder), _later_survey(folder, later)
    init_cycle(workflow, url=url, actor="s")
    import_survey(survey, url=url, cycle="dga-2020", actor="s")
    for _ in range(3):
        advance(url=url, cycle="dga-2020", actor="s", award="most-improved")
        advance(url=url, cycle="dga-2020", actor="s", award="top-again")
    assert audit(url=url).clean
    again = ranking("top-again", url=url, cycle="dga-2020")
    present = {f"D{i:03d}" if i < 10 else "D100" for i, x in enumerate(later) if x is not None}
    assert {x.nominee_id for x in again.excluded} == won & present
    assert {r.nominee_id for r in again.rows} == present - won
    improved = ranking("most-improved", url=url, cycle="dga-2020")
    for row in improved.rows:
        now = Decimal(later[int(row.nominee_id[1:])]).quantize(Decimal("0.01"))
        assert row.score == now - then[row.nominee_id]
    assert all(x.nominee_id not in then for x in improved.excluded)
    log = folder / "dga-2020.jsonl"
    export_log(log, url=url, cycle="dga-2020")
    replay(log, workflow, survey)  # the later cycle's own log, alone: raises at a divergence


def test_any_earlier_cycle_feeds_a_later_one_that_audits_and_replays(backend: Backend):
    @settings(
        max_examples=3 if backend.name == "postgresql" else 8,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(moves=MOVES, later=LATER)
    def run(moves, later):
        folder = Path(tempfile.mkdtemp(prefix="awards-crosscycle-"))
        try:
            with backend.database(folder) as url:
                check_two_cycles(url, folder, moves, later)
        finally:
            shutil.rmtree(folder)

    run()
