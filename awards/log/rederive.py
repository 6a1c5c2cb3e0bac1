"""The auditor's check of a log, event by event: the projection's fold with the rules
re-derived before each event is folded in.

Human decisions (verdicts, recusals, withdrawals, revocations) are taken as input and checked
against the state machine and the committee's seats; every rule decision (nomination,
shortlist, review outcome, award, assignment) is computed again by the stage pipeline and the
committee rules the engine used, and compared with what the log says. The first difference
raises Diverged. No database, no clock, no network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NoReturn

from awards.errors import AwardsError
from awards.log import merkle
from awards.log.events import Kind
from awards.log.projection import CycleState
from awards.log.trust import mismatch
from awards.rules.committee import NO_VOTES, Pair, Tally, Vote, assign, round_panel, tally
from awards.rules.earlier import MissingFacts
from awards.rules.scoring import Candidate, candidates
from awards.rules.stages import REVIEW_STATS, SOURCE, STAGE_OF, CutDecision, Decision, Stage, decide
from awards.rules.states import (
    NOMINATE,
    OPEN_FOR_RECUSAL,
    REASON_REQUIRED,
    State,
    Trigger,
    destination,
)
from awards.rules.survey import Survey
from awards.rules.thai import name_order
from awards.rules.workflow import Award, Reviewer, Workflow

# The evidence fields a ranking decision is compared on; a nomination's is the first.
COMPARED = (
    "score",
    "rank",
    "of",
    "cut",
    "cut_score",
    "tie_break",
    "segment",
    "tier",
    "quota_full",
)
# After the counts and the rule (all a version 1 review decision holds), the aggregate; for
# an award reviewed in rounds, the round and a round's close by rank against its cut.
_REVIEW_COMPARED = (
    "approve", "reject", "quorum", "approval", "reviewers", "aggregate_rule", *REVIEW_STATS,
    "round", "rank", "of", "cut", "cut_score", "segment",
)  # fmt: skip


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


@dataclass
class Rederivation:
    workflow: Workflow
    survey: Survey
    now: CycleState = field(default_factory=CycleState)
    # Rule decisions re-derived and not yet met in the log: the open stage of each award,
    # and the assignments a run of `assign` (or a recusal's replacement) makes.
    stage: dict[str, tuple[Stage, dict[str, Decision]]] = field(default_factory=dict)
    expected: list[tuple[str, Pair, dict[str, Any]]] = field(default_factory=list)
    roots: list[tuple[int, str]] = field(default_factory=list)
    pool: dict[str, dict[str, Candidate]] = field(default_factory=dict)
    unnominated: dict[str, set[str]] = field(default_factory=dict)
    pooled: dict[str, dict[str, Candidate]] | None = None
    imported_at: int = 0
    pool_due: bool = False  # a survey was imported and its pools are not derived yet
    rule: int = 0
    human: int = 0
    other: int = 0
    seq: int = 0

    def checkpoint(self, event: dict[str, Any], tree: merkle.Frontier, head: str) -> None:
        """A checkpoint must fix exactly the events before it, and carry a good signature."""
        root = tree.root().hex()
        self.roots.append((tree.size, root))
        if problem := mismatch(event, tree.size, root, head):
            self.fail(event, f"checkpoint of {event.get('size')} events, root {str(event.get('root'))[:12]}",
                      f"{tree.size} events, root {root[:12]}", problem)  # fmt: skip

    def fail(self, event: dict[str, Any], logged: str, derived: str, why: str) -> NoReturn:
        raise Diverged(Divergence(event["seq"], event.get("nomination"), logged, derived, why))

    def apply(self, event: dict[str, Any]) -> None:
        """Check the event against the state the log has reached, then fold it in."""
        self.seq = event["seq"]
        kind = event.get("kind")
        if self.expected and kind != Kind.ASSIGNED:
            self._assignments_missing(event)
        if kind == Kind.CYCLE_OPENED:
            self.other += 1
            if event.get("workflow_sha256") != self.workflow.sha256:
                self.fail(event, f"workflow {str(event.get('workflow_sha256'))[:12]}", f"workflow {self.workflow.sha256[:12]}",
                          "the workflow file is not the one the log names (SHA-256 differs)")  # fmt: skip
        elif kind == Kind.SURVEY_IMPORTED:
            self.other += 1
            self._import(event)
        elif kind == Kind.EARLIER_FACTS:
            self.other += 1
            if not self.pool_due:
                self.fail(event, f"facts of {event['earlier']}", "no survey import open",
                          "facts of an earlier cycle are recorded by an import, before its nominations")  # fmt: skip
        elif kind == Kind.VERDICT:
            self.human += 1
            self._verdict(event)
        elif kind == Kind.REVIEWER_ADDED:
            self.human += 1
            if event["reviewer"] in self.now.reviewers:
                self.fail(event, f"reviewer {event['reviewer']} added", "already declared",
                          "a reviewer is declared once")  # fmt: skip
        elif kind == Kind.ASSIGNED:
            self._assigned(event)
        elif kind == Kind.RECUSED:
            self.human += 1
            self._recused(event)
            return  # folded inside: the replacement is derived from the state after it
        elif kind == Kind.TRANSITION:
            self._transition(event)
        else:
            self.other += 1
        self.now.apply(event)

    # --- The survey and the nominations ------------------------------------------------

    def _import(self, event: dict[str, Any]) -> None:
        if event.get("survey_sha256") != self.survey.sha256:
            self.fail(event, f"survey {str(event.get('survey_sha256'))[:12]}", f"survey {self.survey.sha256[:12]}",
                      "the survey file is not the one the log names (SHA-256 differs)")  # fmt: skip
        self._check_complete(event)
        self.stage.clear()
        self.imported_at = event["seq"]
        # The pools are derived at the first event after the import's own facts (the facts of
        # earlier cycles a gain or a sit-out reads come right after the import).
        self.pool, self.unnominated, self.pool_due = {}, {}, True

    def _derive_pool(self, event: dict[str, Any]) -> None:
        self.pool_due, facts, agencies = False, self.now.facts(), self.survey.agencies
        own = self.prepare()  # the awards that read no earlier cycle, scored once
        try:
            self.pool = {a.id: own[a.id] if a.id in own else {c.nominee_id: c for c in candidates(self.workflow, a, agencies, facts)}
                         for a in self.workflow.awards}  # fmt: skip
        except MissingFacts as missing:
            self.fail(event, "no facts of the earlier cycle before the nominations", "facts", str(missing))  # fmt: skip
        self.unnominated = {a: set(p) for a, p in self.pool.items()}

    def prepare(self) -> dict[str, dict[str, Candidate]]:
        """The pool of each award that reads no earlier cycle, scored from the survey (once:
        every import the fold accepts is of this same survey file, and the pools are only
        read). The pools of awards that read an earlier cycle wait for its logged facts."""
        if self.pooled is None:
            self.pooled = {
                a.id: {c.nominee_id: c for c in candidates(self.workflow, a, self.survey.agencies)}
                for a in self.workflow.awards
                if not a.earlier_cycles
            }
        return self.pooled

    def _transition(self, event: dict[str, Any]) -> None:
        if self.pool_due:
            self._derive_pool(event)
        award_id, nominee, trigger = event["award"], event["nominee"], event["trigger"]
        current = self.now.states.get((award_id, nominee))
        if event.get("from") != current:
            self.fail(event, f"from '{event.get('from')}'", f"state '{current}'",
                      "the move starts from another state than the fold reached")  # fmt: skip
        if trigger == NOMINATE:
            self._nominate(event)
            return
        dest = destination(trigger, current or "")
        if dest is None or dest != event.get("to"):
            self.fail(event, f"{trigger} to '{event.get('to')}'", f"'{dest}'",
                      "the state machine does not allow this move")  # fmt: skip
        if trigger in REASON_REQUIRED:
            self.human += 1
            if not str(event.get("reason", "")).strip():
                self.fail(event, "no reason", "a reason", f"'{trigger}' needs a reason")
        else:
            self._rule(event, self.workflow.award(award_id))

    def _nominate(self, event: dict[str, Any]) -> None:
        award_id, nominee = event["award"], event["nominee"]
        if event.get("to") != State.SURVEYED:
            self.fail(event, f"nominate to '{event.get('to')}'", f"'{State.SURVEYED}'",
                      "a nomination enters as surveyed; only the stages move it on")  # fmt: skip
        c = self.pool.get(award_id, {}).get(nominee)
        if c is None:
            self.fail(event, f"{nominee} nominated", "not in the pool",
                      "the award's pool rules do not admit this nominee")  # fmt: skip
        evidence = event.get("evidence", {})
        if evidence.get("score") != str(c.score):
            self.fail(event, f"score {evidence.get('score')}", f"score {c.score}",
                      "different score" + self._gain_from(award_id, nominee))  # fmt: skip
        self.unnominated[award_id].discard(nominee)
        self.rule += 1

    def _gain_from(self, award_id: str, nominee: str) -> str:
        """Where a gain's earlier score comes from: the facts event that carries it."""
        award = self.workflow.award(award_id)
        if (recorded := self.now.earlier.get(award.gain_since or "")) is None:
            return ""
        then = recorded["scores"].get(award.score, {}).get(nominee)
        return (f": the gain since {award.gain_since} from {nominee}'s {award.score} score there, "
                f"{then}, as the facts of seq {recorded['seq']} carry it")  # fmt: skip

    # --- Rule decisions: the stage pipeline, re-derived --------------------------------

    def _rule(self, event: dict[str, Any], award: Award) -> None:
        trigger = Trigger(event["trigger"])
        name = STAGE_OF[trigger]
        open_stage = self.stage.get(award.id)
        if open_stage is not None and open_stage[0] != name:
            self._stage_incomplete(event, award.id)
            open_stage = None
        if open_stage is None:
            nominees = self._in_state(award, SOURCE[name])
            # A stage is written in one transaction, so its first event's version is the
            # version of all of them, and says how its Thai names were compared.
            names_in = name_order(event.get("schema_version", 1))
            tallies = self._tallies(award, nominees)
            number = self._round(award) if name is Stage.REVIEW else 1
            outcome = decide(name, self.workflow, award, nominees, tallies, names_in, number)
            open_stage = (name, {d.nominee_id: d for d in outcome.decisions})
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
        if expected.trigger != trigger:
            self.fail(event, trigger, expected.trigger, f"different decision ({expected.reason})")
        logged = event.get("evidence", {})
        derived = expected.evidence
        compared: tuple[str, ...]
        if isinstance(expected, CutDecision):
            compared = COMPARED
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

    def _in_state(self, award: Award, state: State) -> list[Candidate]:
        pool = self.pool.get(award.id, {})
        return [pool[n] for n in self.now.in_state(award.id, state)]

    def _round(self, award: Award) -> int:
        """The review round the award is in: its shortlisted nominations' (1 before any)."""
        shortlisted = self.now.in_state(award.id, State.SHORTLISTED)
        return max((self.now.round_of((award.id, n)) for n in shortlisted), default=1)

    def _check_round(self, event: dict[str, Any], number: int) -> None:
        """A seat or verdict (schema version 6 on) names the round it belongs to."""
        if event.get("schema_version", 1) >= 6 and event.get("round") != number:
            self.fail(event, f"round {event.get('round')}", f"round {number}",
                      "the nomination is in another review round")  # fmt: skip

    def _tallies(self, award: Award, nominees: list[Candidate]) -> dict[str, Tally]:
        out = {}
        for c in nominees:
            given = self.now.verdicts.get((award.id, c.nominee_id), {})
            votes = [
                Vote(r, v["verdict"] == "approve", {k: Decimal(x) for k, x in v["scores"].items()})
                for r, v in given.items()
            ]
            out[c.nominee_id] = tally(self.workflow, award, c, votes) if votes else NO_VOTES
        return out

    def _stage_incomplete(self, event: dict[str, Any], award_id: str) -> None:
        name, left = self.stage[award_id]
        first = sorted(left)[0]
        self.fail(event, f"the {name} stage of {award_id} closed", f"{len(left)} more decisions (first: {first})",
                  "the log is missing decisions the rules make")  # fmt: skip

    def _check_complete(self, event: dict[str, Any]) -> None:
        if self.pool_due:
            self._derive_pool(event)
        for award_id in sorted(self.stage):
            self._stage_incomplete(event, award_id)
        for award_id, missing in sorted(self.unnominated.items()):
            if missing:
                raise Diverged(Divergence(self.imported_at, None, f"no nomination of {sorted(missing)[0]} in {award_id}",
                                          "a nomination", "the pool rules admit nominees the log never nominated"))  # fmt: skip

    # --- The committee: verdicts and recusals checked, assignments re-derived ----------

    def _verdict(self, event: dict[str, Any]) -> None:
        key = (event["award"], event["nominee"])
        rid = event["reviewer"]
        if self.now.states.get(key) != State.SHORTLISTED:
            self.fail(event, "a verdict", f"state {self.now.states.get(key)}",
                      "verdicts are taken only while a nomination is shortlisted")  # fmt: skip
        if event.get("schema_version", 1) < 2:  # before seats: any reviewer, no adjustments
            return
        self._check_round(event, self.now.round_of(key))
        if rid not in self.now.active(key):
            self.fail(event, f"a verdict by {rid}", "not assigned",
                      "only reviewers assigned to the nomination give verdicts")  # fmt: skip
        given = self.now.verdicts.get(key, {})
        if event.get("previous") != given.get(rid):
            self.fail(event, f"previous {event.get('previous')}", f"previous {given.get(rid)}",
                      "the verdict replaces another one than the fold holds")  # fmt: skip

    def _candidate(self, event: dict[str, Any]) -> Candidate:
        c = self.pool.get(event["award"], {}).get(event["nominee"])
        if c is None:
            self.fail(event, f"{event['nominee']}", "not nominated", "no such nomination")
        return c

    def _reviewers(self, award: Award, number: int) -> list[Reviewer]:
        """The reviewers round `number` of the award may seat: its panel, else everyone."""
        everyone = sorted(self.now.reviewers.values(), key=lambda r: r.id)
        return round_panel(award.round_rule(number), everyone)

    def _seats(self, award_id: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        """Nominee id -> the active and the recused reviewers, for the award's nominations."""
        keys = [k for k in self.now.seats if k[0] == award_id]
        return (
            {k[1]: self.now.active(k) for k in keys},
            {k[1]: self.now.declined(k) for k in keys},
        )

    def _assigned(self, event: dict[str, Any]) -> None:
        """An assignment is a rule decision: re-derive the run (or the recusal's replacement)
        when its first event arrives, then take the events one by one."""
        award = self.workflow.award(event["award"])
        by = event.get("by")
        if not self.expected:
            if by != "assign":
                self.fail(
                    event, f"assigned by {by}", "no assignment due", "no recusal opened a place"
                )
            shortlisted = self._in_state(award, State.SHORTLISTED)
            active, declined = self._seats(award.id)
            number = self._round(award)
            pairs, _ = assign(
                award, self._reviewers(award, number), shortlisted, event.get("per_nomination", 0),
                active, declined, self.now.load.copy(),
            )  # fmt: skip
            why = {"by": "assign", "per_nomination": event.get("per_nomination")}
            self.expected = [(award.id, p, why) for p in pairs]
        if not self.expected:
            self.fail(event, f"{event['nomination']} to {event['reviewer']}", "no assignment",
                      "the assignment rule assigns no one here")  # fmt: skip
        award_id, pair, why = self.expected.pop(0)
        self._check_round(event, self.now.round_of((award_id, pair.nominee_id)))
        logged = (event["award"], event["nominee"], event["reviewer"], *(event.get(k) for k in why))
        derived = (award_id, pair.nominee_id, pair.reviewer, *why.values())
        if logged != derived:
            self.fail(event, f"{event['nomination']} to {event['reviewer']}",
                      f"{award_id}:{pair.nominee_id} to {pair.reviewer}",
                      "different assignment (least load first, no conflict of interest)")  # fmt: skip
        self.rule += 1

    def _recused(self, event: dict[str, Any]) -> None:
        key = (event["award"], event["nominee"])
        rid = event["reviewer"]
        award = self.workflow.award(event["award"])
        if self.now.states.get(key) not in OPEN_FOR_RECUSAL or rid not in self.now.reviewers:
            self.fail(event, f"{rid} recused", f"state {self.now.states.get(key)}",
                      "a declared reviewer recuses only from an open nomination")  # fmt: skip
        was = rid in self.now.active(key)
        dropped = self.now.verdicts.get(key, {}).get(rid)
        if event.get("was_assigned") != was or event.get("dropped") != dropped:
            self.fail(event, f"was_assigned {event.get('was_assigned')}, dropped {event.get('dropped')}",
                      f"was_assigned {was}, dropped {dropped}", "the recusal's effect differs")  # fmt: skip
        self.now.apply(event)
        replacement = None
        if was:
            active, declined = self.now.active(key), self.now.declined(key)
            pairs, _ = assign(
                award, self._reviewers(award, self.now.round_of(key)), [self._candidate(event)], len(active) + 1,
                {key[1]: active}, {key[1]: declined}, self.now.load.copy(),
            )  # fmt: skip
            if pairs:
                replacement = pairs[0].reviewer
                self.expected = [(award.id, pairs[0], {"by": "recusal", "replacing": rid})]
        if event.get("replacement") != replacement:
            self.fail(event, f"replacement {event.get('replacement')}", f"replacement {replacement}",
                      "different replacement (least load first, no conflict of interest)")  # fmt: skip

    def _assignments_missing(self, event: dict[str, Any]) -> None:
        award_id, pair, _ = self.expected[0]
        self.fail(event, f"{event.get('kind')}", f"an assignment of {award_id}:{pair.nominee_id} to {pair.reviewer}",
                  "the log is missing assignments the rule makes")  # fmt: skip

    def finish(self) -> None:
        end = {"seq": self.seq, "kind": "end of log"}
        if self.expected:
            self._assignments_missing(end)
        self._check_complete(end)
