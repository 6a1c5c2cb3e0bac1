"""Offline replay: re-derive every rule-based decision of an exported log from the workflow and
survey files it names, with no database, no clock and no network.

Replay is a fold over the events. Human decisions (verdicts, withdrawals, revocations) are
taken as input and only checked against the state machine; every rule-based decision
(nomination, shortlist, review outcome, award) is computed again by the same pure functions
the engine used, and compared with what the log says, event by event.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from awards.config import Award, Workflow, load_workflow
from awards.errors import AwardsError
from awards.eventlog import Verified, parse_event, split_line, verify_file
from awards.scoring import (
    Candidate,
    CutDecision,
    Decision,
    award_decisions,
    candidates,
    review_decisions,
    shortlist_decisions,
)
from awards.states import NOMINATE, REASON_REQUIRED, State, Trigger, destination
from awards.survey import Survey, read_survey

# Which stage a rule-based trigger belongs to.
_STAGES = {
    Trigger.SHORTLIST: "shortlist",
    Trigger.ELIMINATE: "shortlist",
    Trigger.APPROVE: "review",
    Trigger.REJECT: "review",
    Trigger.AWARD: "award",
    Trigger.PASS_OVER: "award",
}
_COMPARED = ("score", "rank", "of", "cut", "cut_score", "tie_break")


@dataclass(frozen=True)
class Divergence:
    seq: int
    nomination: str | None
    logged: str
    derived: str
    why: str

    def __str__(self) -> str:
        subject = f" ({self.nomination})" if self.nomination else ""
        return (
            f"seq {self.seq}{subject}: logged {self.logged}; re-derived {self.derived}: {self.why}"
        )


class Diverged(AwardsError):
    """The log and the re-derivation disagree; `divergence` says where and why."""

    def __init__(self, divergence: Divergence):
        self.divergence = divergence
        super().__init__(f"replay diverges at {divergence}")


@dataclass(frozen=True)
class Replayed:
    events: int
    head: str
    rule_decisions: int  # re-derived and identical
    human_decisions: int  # verdicts, withdrawals, revocations: taken as input
    other_events: int  # cycle opened, survey imported, certificates rendered

    def summary(self) -> str:
        return (
            f"ok: {self.events} events, chain intact (head {self.head[:12]}); "
            f"{self.rule_decisions} rule decisions re-derived identically, "
            f"{self.human_decisions} human decisions taken as input, {self.other_events} other events"
        )


def replay(log: str | Path, workflow_path: str | Path, survey_path: str | Path) -> Replayed:
    """Verify the chain, check the files are the ones the log names, re-derive every decision.

    Raises LogError for a broken chain, InputErrors for unreadable files, and Diverged at the
    first event that the re-derivation does not reproduce.
    """
    verified = verify_file(str(log))
    workflow = load_workflow(workflow_path)
    survey = read_survey(survey_path, workflow)
    fold = _Fold(workflow, survey)
    for event in _events(str(log)):
        fold.apply(event)
    fold.finish()
    return fold.result(verified)


def _events(path: str) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as f:
        for number, line in enumerate(f, start=1):
            where = f"{path}:{number}"
            yield parse_event(split_line(line, where)[0], where)


@dataclass
class _Fold:
    workflow: Workflow
    survey: Survey
    states: dict[tuple[str, str], str] = field(default_factory=dict)
    verdicts: dict[tuple[str, str], dict[str, bool]] = field(default_factory=dict)
    pool: dict[str, dict[str, Candidate]] = field(default_factory=dict)
    unnominated: dict[str, set[str]] = field(default_factory=dict)
    stage: dict[str, tuple[str, dict[str, Decision]]] = field(default_factory=dict)
    imported_at: int = 0
    rule: int = 0
    human: int = 0
    other: int = 0
    seq: int = 0

    def fail(self, event: dict[str, Any], logged: str, derived: str, why: str) -> None:
        raise Diverged(Divergence(event["seq"], event.get("nomination"), logged, derived, why))

    def apply(self, event: dict[str, Any]) -> None:
        self.seq = event["seq"]
        kind = event.get("kind")
        if kind == "cycle_opened":
            self.other += 1
            if event.get("workflow_sha256") != self.workflow.sha256:
                self.fail(event, f"workflow {str(event.get('workflow_sha256'))[:12]}", f"workflow {self.workflow.sha256[:12]}",
                          "the workflow file is not the one the log names (SHA-256 differs)")  # fmt: skip
        elif kind == "survey_imported":
            self.other += 1
            self._import(event)
        elif kind == "verdict":
            self.human += 1
            key = (event["award"], event["nominee"])
            if self.states.get(key) != State.SHORTLISTED:
                self.fail(
                    event,
                    "a verdict",
                    f"state {self.states.get(key)}",
                    "verdicts are taken only while a nomination is shortlisted",
                )
            self.verdicts.setdefault(key, {})[event["reviewer"]] = event["verdict"] == "approve"
        elif kind == "transition":
            self._transition(event)
        else:
            self.other += 1

    def _import(self, event: dict[str, Any]) -> None:
        if event.get("survey_sha256") != self.survey.sha256:
            self.fail(event, f"survey {str(event.get('survey_sha256'))[:12]}", f"survey {self.survey.sha256[:12]}",
                      "the survey file is not the one the log names (SHA-256 differs)")  # fmt: skip
        self._check_complete(event)
        self.states.clear()
        self.verdicts.clear()
        self.stage.clear()
        self.imported_at = event["seq"]
        self.pool = {
            a.id: {c.nominee_id: c for c in candidates(self.workflow, a, self.survey.agencies)}
            for a in self.workflow.awards
        }
        self.unnominated = {a: set(p) for a, p in self.pool.items()}

    def _transition(self, event: dict[str, Any]) -> None:
        award_id, nominee, trigger = event["award"], event["nominee"], event["trigger"]
        key = (award_id, nominee)
        current = self.states.get(key)
        if event.get("from") != current:
            self.fail(
                event,
                f"from '{event.get('from')}'",
                f"state '{current}'",
                "the move starts from another state than the fold reached",
            )
        if trigger == NOMINATE:
            self._nominate(event)
        else:
            dest = destination(trigger, current or "")
            if dest is None or dest != event.get("to"):
                self.fail(
                    event,
                    f"{trigger} to '{event.get('to')}'",
                    f"'{dest}'",
                    "the state machine does not allow this move",
                )
            if trigger in REASON_REQUIRED:
                self.human += 1
                if not str(event.get("reason", "")).strip():
                    self.fail(event, "no reason", "a reason", f"'{trigger}' needs a reason")
            else:
                self._rule(event, self.workflow.award(award_id))
        self.states[key] = event["to"]

    def _nominate(self, event: dict[str, Any]) -> None:
        award_id, nominee = event["award"], event["nominee"]
        c = self.pool.get(award_id, {}).get(nominee)
        if c is None:
            self.fail(
                event,
                f"{nominee} nominated",
                "not in the pool",
                "the award's pool rules do not admit this nominee",
            )
            return
        evidence = event.get("evidence", {})
        if evidence.get("score") != str(c.score):
            self.fail(
                event, f"score {evidence.get('score')}", f"score {c.score}", "different score"
            )
        self.unnominated[award_id].discard(nominee)
        self.rule += 1

    def _rule(self, event: dict[str, Any], award: Award) -> None:
        trigger = Trigger(event["trigger"])
        name = _STAGES[trigger]
        open_stage = self.stage.get(award.id)
        if open_stage is not None and open_stage[0] != name:
            self._stage_incomplete(event, award.id)
            open_stage = None
        if open_stage is None:
            open_stage = (name, {d.nominee_id: d for d in self._derive(name, award)})
            self.stage[award.id] = open_stage
        expected = open_stage[1].pop(event["nominee"], None)
        if not open_stage[1]:
            del self.stage[award.id]
        if expected is None:
            self.fail(
                event,
                trigger,
                "no decision",
                f"the rules decide nothing for this nominee at the {name} stage",
            )
            return
        if expected.trigger != trigger:
            self.fail(event, trigger, expected.trigger, f"different decision ({expected.reason})")
        logged = event.get("evidence", {})
        derived = expected.evidence
        for k in (
            _COMPARED
            if isinstance(expected, CutDecision)
            else ("approve", "reject", "quorum", "approval")
        ):
            if logged.get(k) != derived.get(k):
                self.fail(
                    event,
                    f"{k} {logged.get(k)}",
                    f"{k} {derived.get(k)}",
                    f"different {k.replace('_', ' ')}",
                )
        self.rule += 1

    def _derive(self, stage: str, award: Award) -> list[Decision]:
        def in_state(state: State) -> list[Candidate]:
            pool = self.pool.get(award.id, {})
            return [
                pool[n] for (a, n), s in sorted(self.states.items()) if a == award.id and s == state
            ]

        if stage == "shortlist":
            return shortlist_decisions(self.workflow, award, in_state(State.SURVEYED))
        if stage == "award":
            return award_decisions(self.workflow, award, in_state(State.REVIEWED))
        shortlisted = [c.nominee_id for c in in_state(State.SHORTLISTED)]
        tallies = {}
        for n in shortlisted:
            votes = self.verdicts.get((award.id, n), {}).values()
            tallies[n] = (sum(votes), len(votes) - sum(votes))
        return review_decisions(award, tallies, shortlisted)[0]

    def _stage_incomplete(self, event: dict[str, Any], award_id: str) -> None:
        name, left = self.stage[award_id]
        first = sorted(left)[0]
        self.fail(event, f"the {name} stage of {award_id} closed", f"{len(left)} more decisions (first: {first})",
                  "the log is missing decisions the rules make")  # fmt: skip

    def _check_complete(self, event: dict[str, Any]) -> None:
        for award_id in sorted(self.stage):
            self._stage_incomplete(event, award_id)
        for award_id, missing in sorted(self.unnominated.items()):
            if missing:
                raise Diverged(Divergence(self.imported_at, None, f"no nomination of {sorted(missing)[0]} in {award_id}",
                                          "a nomination", "the pool rules admit nominees the log never nominated"))  # fmt: skip

    def finish(self) -> None:
        self._check_complete({"seq": self.seq})

    def result(self, verified: Verified) -> Replayed:
        return Replayed(verified.events, verified.head, self.rule, self.human, self.other)
