"""Any legal sequence of moves leaves tables the log reproduces, offline and live."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from awards.advance import advance, move_one, review
from awards.audit import audit
from awards.cycles import import_survey, init_cycle
from awards.errors import AwardsError
from awards.replay import replay
from awards.states import Trigger
from awards.views import export_log, ranking

from support import WORKFLOW, small_survey

AWARDS = ("top-department", "top-province", "copy-free")
NOMINEES = st.integers(min_value=0, max_value=29)


class Cycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="awards-stateful-"))
        self.url = f"sqlite:///{self.dir / 'awards.db'}"
        self.survey = small_survey(self.dir / "survey.csv", departments=30, provinces=6)
        init_cycle(WORKFLOW, url=self.url, actor="s")
        import_survey(self.survey, url=self.url, actor="s")

    def rows(self, award: str):
        return ranking(award, url=self.url).rows

    @rule(award=st.sampled_from(AWARDS))
    def advance_award(self, award):
        advance(url=self.url, actor="s", award=award)

    @rule(n=NOMINEES, approve=st.booleans(), reviewer=st.sampled_from("abcd"))
    def verdict(self, n, approve, reviewer):
        rows = [r for r in self.rows("top-department") if r.state == "shortlisted"]
        if rows:
            review(rows[n % len(rows)].nomination, approve=approve, reviewer=reviewer, url=self.url)

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

    def teardown(self) -> None:
        log = self.dir / "log.jsonl"
        try:
            export_log(log, url=self.url)
            replay(log, WORKFLOW, self.survey)  # raises at the first divergence
        finally:
            shutil.rmtree(self.dir)


Cycle.TestCase.settings = settings(
    max_examples=8,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_any_legal_sequence_replays_to_the_same_tables = Cycle.TestCase
