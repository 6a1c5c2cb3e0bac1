"""The projection: the decision log folded into state, one event at a time.

`for event in log: projection.apply(event)`: no database, no clock, no network. This is the
one place that says what each kind of event does to a cycle: a transition moves a
nomination (going on to the next review round closes the round's seats and verdicts; the
log keeps them), a survey import starts the cycle's nominations over, a verdict replaces the
reviewer's earlier one, a recusal gives up the seat and drops the verdict, and so on.

`awards audit` folds the live log and compares the result with the tables, which are only a
projection of it; the offline replay folds an exported log, checking each event against the
state before it and re-deriving the rule decisions; the tests fold to check both.

What only the tables need (each nomination's last event, rank and logged score) is kept when
the fold is `detailed`, as audit's is: at a million nominations it would only weigh on the
replay.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from awards.log.events import Kind
from awards.rules.states import Trigger
from awards.rules.workflow import Reviewer

Key = tuple[str, str]  # (award, nominee)
ASSIGNED, RECUSED = "assigned", "recused"


@dataclass
class Row:
    """What a nomination's row holds besides its state, as the log says it: the last event
    that moved it, its rank at the last ranking stage, and its score and member count as
    nominated (only in a detailed fold)."""

    seq: int
    rank: int | None
    score: Any
    members: Any


@dataclass
class CycleState:
    """One cycle as the log has made it so far."""

    workflow_sha256: str | None = None
    survey_sha256: str | None = None
    detailed: bool = False
    opened: dict[str, Any] | None = None  # the cycle_opened event
    imports: list[dict[str, Any]] = field(default_factory=list)  # survey_imported events
    rows: dict[Key, Row] = field(default_factory=dict)  # only in a detailed fold
    renderings: dict[int, dict[str, Any]] = field(default_factory=dict)  # seq -> event
    declared: dict[str, int] = field(default_factory=dict)  # reviewer -> seq of declaration
    states: dict[Key, str] = field(default_factory=dict)
    # key -> reviewer -> {"verdict": "approve" | "reject", "scores": {...}, "note": ...}
    verdicts: dict[Key, dict[str, dict[str, Any]]] = field(default_factory=dict)
    seats: dict[Key, dict[str, str]] = field(default_factory=dict)  # reviewer -> seat
    reviewers: dict[str, Reviewer] = field(default_factory=dict)
    load: Counter[str] = field(default_factory=Counter)  # active seats per reviewer
    rounds: dict[Key, int] = field(default_factory=dict)  # the review round, when past the 1st

    def round_of(self, key: Key) -> int:
        """The review round the nomination is in (1 until a round's close sends it on)."""
        return self.rounds.get(key, 1)

    def active(self, key: Key) -> set[str]:
        """The reviewers who hold a seat on the nomination."""
        return {r for r, s in self.seats.get(key, {}).items() if s == ASSIGNED}

    def declined(self, key: Key) -> set[str]:
        """The reviewers who recused from the nomination."""
        return {r for r, s in self.seats.get(key, {}).items() if s == RECUSED}

    def in_state(self, award: str, state: str) -> list[str]:
        """The award's nominees in `state`, in id order."""
        return sorted(n for (a, n), s in self.states.items() if a == award and s == state)

    def apply(self, event: dict[str, Any]) -> None:
        """Fold one event of this cycle into the state."""
        kind = event.get("kind")
        if kind == Kind.TRANSITION:
            key = (event["award"], event["nominee"])
            self.states[key] = event["to"]
            if event["trigger"] == Trigger.NEXT_ROUND:
                self._next_round(key)
            if self.detailed:
                self._row(key, event)
        elif kind == Kind.VERDICT:
            key = (event["award"], event["nominee"])
            if event.get("schema_version", 1) < 2:  # before seats: no adjusted scores
                given = {"verdict": event["verdict"], "scores": {}, "note": event.get("note", "")}
            else:
                given = {k: event[k] for k in ("verdict", "scores", "note")}
            self.verdicts.setdefault(key, {})[event["reviewer"]] = given
        elif kind == Kind.ASSIGNED:
            key = (event["award"], event["nominee"])
            self.seats.setdefault(key, {})[event["reviewer"]] = ASSIGNED
            self.load[event["reviewer"]] += 1
        elif kind == Kind.RECUSED:
            key, reviewer = (event["award"], event["nominee"]), event["reviewer"]
            seats = self.seats.setdefault(key, {})
            if seats.get(reviewer) == ASSIGNED:
                self.load[reviewer] -= 1
            seats[reviewer] = RECUSED
            # A recusal takes back the reviewer's verdict: it no longer counts.
            self.verdicts.get(key, {}).pop(reviewer, None)
        elif kind == Kind.REVIEWER_ADDED:
            self.declared[event["reviewer"]] = event["seq"]
            self.reviewers[event["reviewer"]] = Reviewer(
                event["reviewer"],
                event["name"],
                tuple(event["ministries"]),
                tuple(event["provinces"]),
            )
        elif kind == Kind.SURVEY_IMPORTED:
            # A new survey starts the cycle's nominations over: the earlier ones, their
            # verdicts and seats go with the survey they came from. Reviewers stay.
            self.survey_sha256 = event.get("survey_sha256")
            self.imports.append(event)
            self.states.clear()
            self.rows.clear()
            self.verdicts.clear()
            self.seats.clear()
            self.load.clear()
            self.rounds.clear()
            self.renderings.clear()
        elif kind == Kind.CYCLE_OPENED:
            self.workflow_sha256 = event.get("workflow_sha256")
            self.opened = event
        elif kind == Kind.CERTIFICATE_RENDERED:
            self.renderings[event["seq"]] = event

    def _next_round(self, key: Key) -> None:
        """A new round starts with empty seats and no verdicts; recusals (declared conflicts)
        stay, so the reviewer is never seated on the nomination again."""
        self.rounds[key] = self.round_of(key) + 1
        seats = self.seats.get(key, {})
        for reviewer in [r for r, s in seats.items() if s == ASSIGNED]:
            del seats[reviewer]
            self.load[reviewer] -= 1
        self.verdicts.pop(key, None)

    def _row(self, key: Key, event: dict[str, Any]) -> None:
        evidence = event["evidence"]
        row = self.rows.get(key)
        if row is None or event["from"] is None:  # nominated: score and members as pooled
            row = self.rows[key] = Row(
                event["seq"], None, evidence.get("score"), evidence.get("members")
            )
        row.seq = event["seq"]
        if type(evidence.get("rank")) is int:  # a ranking stage; other moves keep the rank
            row.rank = evidence["rank"]


@dataclass
class Projection:
    """Every cycle of a log, folded (`detailed`: with what only the tables need)."""

    cycles: dict[str, CycleState] = field(default_factory=dict)
    events: int = 0
    detailed: bool = False

    def cycle(self, cycle_id: str) -> CycleState:
        if cycle_id not in self.cycles:
            self.cycles[cycle_id] = CycleState(detailed=self.detailed)
        return self.cycles[cycle_id]

    def apply(self, event: dict[str, Any]) -> None:
        self.cycle(event["cycle"]).apply(event)
        self.events += 1


def fold(events: Iterable[dict[str, Any]]) -> Projection:
    """The projection of a whole log."""
    projection = Projection()
    for event in events:
        projection.apply(event)
    return projection
