"""Offline replay: re-derive every rule-based decision of an exported log from the workflow and
survey files it names, with no database, no clock and no network.

Replay is a fold over the events. Human decisions (verdicts, withdrawals, revocations) are
taken as input and only checked against the state machine; every rule-based decision
(nomination, shortlist, review outcome, award) is computed again by the same pure functions
the engine used, and compared with what the log says, event by event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from hashlib import sha256
from itertools import islice
from pathlib import Path
from typing import Any, NoReturn

import orjson

from awards.errors import AwardsError, LogError
from awards.log import merkle
from awards.log.chain import EXPORT_PREFIX, EXPORT_SUFFIX_LEN, GENESIS, Verified, verify_file
from awards.log.committee_fold import CommitteeFold
from awards.log.signing import signature_ok
from awards.rules.committee import Pair, award_candidates
from awards.rules.plain import Plain
from awards.rules.scoring import (
    REVIEW_STATS,
    Candidate,
    CutDecision,
    Decision,
    award_decisions,
    candidates,
    review_decisions,
    shortlist_decisions,
)
from awards.rules.states import NOMINATE, REASON_REQUIRED, State, Trigger, destination
from awards.rules.survey import Survey, read_survey
from awards.rules.workflow import Award, Reviewer, Workflow, load_workflow

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
_REVIEW_COMPARED = (
    "approve",
    "reject",
    "quorum",
    "approval",
    "reviewers",
    "aggregate_rule",
    *REVIEW_STATS,
)
_OPEN_FOR_RECUSAL = (State.SURVEYED, State.SHORTLISTED)


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
class Replayed(Plain):
    events: int
    head: str
    rule_decisions: int  # re-derived and identical
    human_decisions: int  # verdicts, withdrawals, revocations: taken as input
    other_events: int  # cycle opened, survey imported, certificates rendered, checkpoints
    checkpoints: tuple[tuple[int, str], ...] = ()  # (size, Merkle root) of each, verified

    def summary(self) -> str:
        return (
            f"ok: {self.events} events, chain intact (head {self.head[:12]}); "
            f"{self.rule_decisions} rule decisions re-derived identically, "
            f"{self.human_decisions} human decisions taken as input, {self.other_events} other events"
        )


def replay(log: str | Path, workflow_path: str | Path, survey_path: str | Path) -> Replayed:
    """Verify the chain, check the files are the ones the log names, re-derive every decision.

    Raises LogError for a broken chain, InputErrors for unreadable files, and Diverged at the
    first event that the re-derivation does not reproduce. When the chain breaks at a line,
    the events before it are re-derived first: an event edited with its hash restated only
    breaks the chain at the next line, but its re-derivation names the edited event itself.
    """
    try:
        verified = verify_file(str(log))
    except LogError as broken:
        _diverges_before(broken, log, workflow_path, survey_path)
        raise
    fold = _Fold(
        load_workflow(workflow_path), read_survey(survey_path, load_workflow(workflow_path))
    )
    _fold(fold, _events(str(log)))
    fold.finish()
    return fold.result(verified)


def _fold(fold: _Fold, events: Iterable[tuple[bytes, str, dict[str, Any]]]) -> None:
    tree = merkle.Frontier()
    head = GENESIS
    for body, digest, event in events:
        if event.get("kind") == "checkpoint":
            fold.checkpoint(event, tree, head)
        fold.apply(event)
        tree.append(sha256(b"\x00" + body).digest())  # the RFC 9162 leaf hash, inline: 2M calls
        head = digest


def _diverges_before(
    broken: LogError, log: str | Path, workflow_path: str | Path, survey_path: str | Path
) -> None:
    """Raise Diverged if the events before the line where the chain broke diverge."""
    if broken.line is None or broken.line < 2:
        return
    try:
        workflow = load_workflow(workflow_path)
        fold = _Fold(workflow, read_survey(survey_path, workflow))
        _fold(fold, islice(_events(str(log)), broken.line - 1))
    except Diverged:
        raise
    except Exception:
        return


def _events(path: str) -> Iterator[tuple[bytes, str, dict[str, Any]]]:
    """(event bytes, their hash, the event) of a log `verify_file` has already checked, so
    every line is known to be well formed and its stated hash right."""
    start, end = len(EXPORT_PREFIX), -EXPORT_SUFFIX_LEN
    with open(path, "rb") as f:
        for line in f:
            line = line.rstrip(b"\r\n")
            body = line[start:end]
            yield body, line[end + 9 : end + 73].decode("ascii"), orjson.loads(body)


@dataclass
class _Fold(CommitteeFold):
    workflow: Workflow
    survey: Survey
    states: dict[tuple[str, str], str] = field(default_factory=dict)
    verdicts: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    reviewers: dict[str, Reviewer] = field(default_factory=dict)
    active: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    declined: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    load: Counter[str] = field(default_factory=Counter)
    expected: list[tuple[str, Pair, dict[str, Any]]] = field(default_factory=list)
    roots: list[tuple[int, str]] = field(default_factory=list)
    pool: dict[str, dict[str, Candidate]] = field(default_factory=dict)
    unnominated: dict[str, set[str]] = field(default_factory=dict)
    stage: dict[str, tuple[str, dict[str, Decision]]] = field(default_factory=dict)
    imported_at: int = 0
    rule: int = 0
    human: int = 0
    other: int = 0
    seq: int = 0

    def checkpoint(self, event: dict[str, Any], tree: merkle.Frontier, head: str) -> None:
        """A checkpoint must fix exactly the events before it, and carry a good signature."""
        root = tree.root().hex()
        self.roots.append((tree.size, root))
        if (event.get("size"), event.get("root"), event.get("head")) != (tree.size, root, head):
            self.fail(event, f"checkpoint of {event.get('size')} events, root {str(event.get('root'))[:12]}",
                      f"{tree.size} events, root {root[:12]}", "the checkpoint does not match the log before it")  # fmt: skip
        if event.get("signature") is not None and not signature_ok(event):
            self.fail(
                event,
                "a signed checkpoint",
                "a bad signature",
                "the checkpoint's signature does not verify",
            )

    def fail(self, event: dict[str, Any], logged: str, derived: str, why: str) -> NoReturn:
        raise Diverged(Divergence(event["seq"], event.get("nomination"), logged, derived, why))

    def apply(self, event: dict[str, Any]) -> None:
        self.seq = event["seq"]
        kind = event.get("kind")
        if self.expected and kind != "assigned":
            self.assignments_missing(event)
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
            self.verdict(event)
        elif kind == "reviewer_added":
            self.human += 1
            r = Reviewer(
                event["reviewer"],
                event["name"],
                tuple(event["ministries"]),
                tuple(event["provinces"]),
            )
            if r.id in self.reviewers:
                self.fail(
                    event,
                    f"reviewer {r.id} added",
                    "already declared",
                    "a reviewer is declared once",
                )
            self.reviewers[r.id] = r
        elif kind == "assigned":
            self.assigned(event)
        elif kind == "recused":
            self.human += 1
            self.recused(event)
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
        self.active.clear()
        self.declined.clear()
        self.load.clear()
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
        compared: tuple[str, ...]
        if isinstance(expected, CutDecision):
            compared = _COMPARED
        else:  # a version 1 review decision carries only the counts and the rule
            compared = (
                _REVIEW_COMPARED if event.get("schema_version", 1) >= 2 else _REVIEW_COMPARED[:4]
            )
        for k in compared:
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
            reviewed = in_state(State.REVIEWED)
            cands = award_candidates(self.workflow, award, reviewed, self.tallies(award, reviewed))
            return award_decisions(self.workflow, award, cands)
        shortlisted = in_state(State.SHORTLISTED)
        tallies = self.tallies(award, shortlisted)
        return review_decisions(award, tallies, [c.nominee_id for c in shortlisted])[0]

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
        end = {"seq": self.seq, "kind": "end of log"}
        if self.expected:
            self.assignments_missing(end)
        self._check_complete(end)

    def result(self, verified: Verified) -> Replayed:
        return Replayed(
            verified.events, verified.head, self.rule, self.human, self.other, tuple(self.roots)
        )
