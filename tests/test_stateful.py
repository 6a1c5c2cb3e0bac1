"""Any legal sequence of moves leaves tables the log reproduces, offline and live, on every
backend."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from awards.commands.advance import advance, move_one
from awards.commands.audit import audit
from awards.commands.logbook import export_log
from awards.commands.results import ranking
from awards.commands.seats import add_reviewer, assign, recuse, seats
from awards.errors import AwardsError
from awards.log.replay import replay
from awards.rules.states import Trigger
from awards.rules.workflow import Reviewer

from support import WORKFLOW, open_cycle, review

if TYPE_CHECKING:
    from conftest import Backend

AWARDS = ("top-department", "top-province", "copy-free")
NOMINEES = st.integers(min_value=0, max_value=29)
FINANCE = "กระทรวงการคลัง"  # every department of the small survey is of this ministry
OPEN = {"surveyed", "shortlisted", "reviewed"}


class Cycle(RuleBasedStateMachine):
    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="awards-stateful-"))
        self.workflow = self.workflow_file()
        with contextlib.ExitStack() as opening:  # a new database for every example
            self.url = opening.enter_context(backend.database(self.dir))
            self.survey = open_cycle(
                self.url, self.dir, workflow=self.workflow, departments=30, provinces=6
            )
            self.database = opening.pop_all()  # closed by teardown
        self.reviewers = 0

    def workflow_file(self) -> Path:
        return WORKFLOW

    def rows(self, award: str):
        return ranking(award, url=self.url).rows

    @rule(award=st.sampled_from(AWARDS))
    def advance_award(self, award):
        advance(url=self.url, actor="s", award=award)

    @rule(ministry=st.sampled_from(["", FINANCE]))
    def add_reviewer(self, ministry):
        self.reviewers += 1
        rid = f"r{self.reviewers}"
        add_reviewer(Reviewer(rid, rid, (ministry,) if ministry else ()), url=self.url, actor="s")

    @rule(k=st.integers(min_value=1, max_value=3))
    def assign(self, k):
        with contextlib.suppress(AwardsError):  # nothing shortlisted (yet, or any more)
            assign("top-department", k, url=self.url, actor="s")

    def shortlisted(self, n):
        rows = [r for r in self.rows("top-department") if r.state == "shortlisted"]
        return rows[n % len(rows)].nomination if rows else None

    @rule(
        n=NOMINEES,
        approve=st.booleans(),
        seat=st.integers(0, 5),
        adjust=st.sampled_from([None, "0", "55.5", "100"]),
    )
    def verdict(self, n, approve, seat, adjust):
        code = self.shortlisted(n)
        assigned = seats(code, url=self.url).assigned if code else ()
        if assigned:
            scores = {"services": Decimal(adjust)} if adjust else {}
            review(
                code,
                approve=approve,
                reviewer=assigned[seat % len(assigned)],
                url=self.url,
                scores=scores,
            )

    @rule(n=NOMINEES, seat=st.integers(0, 5))
    def recuse(self, n, seat):
        code = self.shortlisted(n)
        assigned = seats(code, url=self.url).assigned if code else ()
        if assigned:
            recuse(
                code,
                reviewer=assigned[seat % len(assigned)],
                reason="conflict",
                url=self.url,
                actor="s",
            )

    @rule(n=NOMINEES)
    def conflicted_or_unassigned_verdicts_are_refused(self, n):
        code = self.shortlisted(n)
        if code is None:
            return
        before = audit(url=self.url).verified
        for rid in {f"r{i}" for i in range(1, self.reviewers + 1)} - set(
            seats(code, url=self.url).assigned
        ):
            try:
                review(code, approve=True, reviewer=rid, url=self.url)
            except AwardsError:
                pass
            else:
                raise AssertionError(f"{rid} gave a verdict on {code} without a seat")
        assert audit(url=self.url).verified == before

    @rule(award=st.sampled_from(AWARDS), n=NOMINEES)
    def withdraw(self, award, n):
        rows = [r for r in self.rows(award) if r.state in ("surveyed", "shortlisted", "reviewed")]
        if rows:
            move_one(
                rows[n % len(rows)].nomination,
                Trigger.WITHDRAW,
                reason="withdrawn",
                actor="s",
                url=self.url,
            )

    @rule(award=st.sampled_from(AWARDS), n=NOMINEES)
    def revoke(self, award, n):
        rows = [r for r in self.rows(award) if r.state == "awarded"]
        if rows:
            move_one(
                rows[n % len(rows)].nomination,
                Trigger.REVOKE,
                reason="revoked",
                actor="s",
                url=self.url,
            )

    @rule(
        award=st.sampled_from(AWARDS),
        n=NOMINEES,
        trigger=st.sampled_from([Trigger.REVOKE, Trigger.WITHDRAW]),
    )
    def illegal_moves_change_nothing(self, award, n, trigger):
        rows = [
            r
            for r in self.rows(award)
            if r.state in ("eliminated", "rejected", "not_awarded", "withdrawn", "revoked")
        ]
        if rows:
            before = audit(url=self.url).verified
            try:
                move_one(
                    rows[n % len(rows)].nomination, trigger, reason="r", actor="s", url=self.url
                )
            except AwardsError:
                pass
            else:
                raise AssertionError("a closed nomination moved")
            assert audit(url=self.url).verified == before

    @invariant()
    def tables_are_the_fold_of_the_log(self):
        assert audit(url=self.url).drift == []
        log = self.dir / "log.jsonl"
        export_log(log, url=self.url)
        replay(log, self.workflow, self.survey)  # raises at the first divergence

    def teardown(self) -> None:
        """Finish the cycle: every nomination ends in a final state, and the log replays."""
        try:
            for i in range(3):
                add_reviewer(Reviewer(f"z{i}", f"z{i}"), url=self.url, actor="s")
            for _ in range(4):
                advance(url=self.url, actor="s")
                try:
                    assign("top-department", 3, url=self.url, actor="s")
                except AwardsError:
                    continue
                for row in self.rows("top-department"):
                    if row.state == "shortlisted":
                        for rid in seats(row.nomination, url=self.url).assigned:
                            review(row.nomination, approve=True, reviewer=rid, url=self.url)
            for award in AWARDS:
                left = {r.state for r in self.rows(award)} & OPEN
                assert left == set(), f"{award} has nominations left in {left}"
            self.tables_are_the_fold_of_the_log()
        finally:
            self.database.close()
            shutil.rmtree(self.dir)


# The departments' award reviewed in two rounds: everyone may sit in the first, whose cut
# keeps 8; the second has its own panel of three, declared in the file.
TWO_ROUNDS = """
[[awards.rounds]]
quorum = 1
cut = { top = 8 }

[[awards.rounds]]
panel = ["p1", "p2", "p3"]
quorum = 2
rank_by = "reviewed"
"""


class TwoRounds(Cycle):
    def workflow_file(self) -> Path:
        text = WORKFLOW.read_text(encoding="utf-8").replace(
            'review = { quorum = 3, approval = "majority" }\n', TWO_ROUNDS
        )
        text += "".join(f'\n[[reviewers]]\nid = "p{i}"\nname = "p{i}"\n' for i in (1, 2, 3))
        path = self.dir / "two-rounds.toml"
        path.write_text(text, encoding="utf-8")
        return path


def test_any_legal_sequence_of_two_review_rounds_replays_to_the_same_tables(backend):
    run_state_machine_as_test(
        lambda: TwoRounds(backend),
        settings=settings(
            max_examples=2 if backend.name == "postgresql" else 5,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_any_legal_sequence_replays_to_the_same_tables(backend):
    # On PostgreSQL every transaction opens a new server connection (the engine keeps no
    # pool), and each step's invariant (audit, export, replay) makes several: an example
    # takes about three times as long as on SQLite. SQLite explores ten sequences; four on
    # the server check that the same invariants hold there.
    run_state_machine_as_test(
        lambda: Cycle(backend),
        settings=settings(
            max_examples=4 if backend.name == "postgresql" else 10,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
