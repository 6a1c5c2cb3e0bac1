"""The committee's part of the offline replay: verdicts, assignments and recusals.

A mixin of awards.replay's fold. Assignments are rule decisions, re-derived with the same
pure function the engine uses (awards.committee.assign) and compared event by event;
verdicts and recusals are human decisions, taken as input and checked against the seats.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any, NoReturn

from awards.rules.committee import NO_VOTES, Pair, Vote, assign, tally
from awards.rules.scoring import Candidate, Tally
from awards.rules.states import State
from awards.rules.workflow import Award, Reviewer, Workflow

OPEN_FOR_RECUSAL = (State.SURVEYED, State.SHORTLISTED)


class CommitteeFold:
    """The committee's state as the fold reaches it."""

    workflow: Workflow
    states: dict[tuple[str, str], str]
    pool: dict[str, dict[str, Candidate]]
    verdicts: dict[tuple[str, str], dict[str, dict[str, Any]]]
    reviewers: dict[str, Reviewer]
    active: dict[tuple[str, str], set[str]]
    declined: dict[tuple[str, str], set[str]]
    load: Counter[str]
    expected: list[tuple[str, Pair, dict[str, Any]]]
    rule: int

    def fail(self, event: dict[str, Any], logged: str, derived: str, why: str) -> NoReturn:
        raise NotImplementedError

    def tallies(self, award: Award, nominees: list[Candidate]) -> dict[str, Tally]:
        out = {}
        for c in nominees:
            given = self.verdicts.get((award.id, c.nominee_id), {})
            votes = [
                Vote(r, v["verdict"] == "approve", {k: Decimal(x) for k, x in v["scores"].items()})
                for r, v in given.items()
            ]
            out[c.nominee_id] = tally(self.workflow, award, c, votes) if votes else NO_VOTES
        return out

    def verdict(self, event: dict[str, Any]) -> None:
        key = (event["award"], event["nominee"])
        rid = event["reviewer"]
        if self.states.get(key) != State.SHORTLISTED:
            self.fail(event, "a verdict", f"state {self.states.get(key)}",
                      "verdicts are taken only while a nomination is shortlisted")  # fmt: skip
        given = self.verdicts.setdefault(key, {})
        if event.get("schema_version", 1) < 2:  # before seats: any reviewer, no adjustments
            given[rid] = {"verdict": event["verdict"], "scores": {}, "note": event.get("note", "")}
            return
        if rid not in self.active.get(key, set()):
            self.fail(event, f"a verdict by {rid}", "not assigned",
                      "only reviewers assigned to the nomination give verdicts")  # fmt: skip
        if event.get("previous") != given.get(rid):
            self.fail(event, f"previous {event.get('previous')}", f"previous {given.get(rid)}",
                      "the verdict replaces another one than the fold holds")  # fmt: skip
        given[rid] = {k: event[k] for k in ("verdict", "scores", "note")}

    def _candidate(self, event: dict[str, Any]) -> Candidate:
        c = self.pool.get(event["award"], {}).get(event["nominee"])
        if c is None:
            self.fail(event, f"{event['nominee']}", "not nominated", "no such nomination")
        return c  # type: ignore[return-value]

    def assigned(self, event: dict[str, Any]) -> None:
        """An assignment is a rule decision: re-derive the run (or the recusal's replacement)
        when its first event arrives, then take the events one by one."""
        award = self.workflow.award(event["award"])
        by = event.get("by")
        if not self.expected:
            if by != "assign":
                self.fail(
                    event, f"assigned by {by}", "no assignment due", "no recusal opened a place"
                )
            shortlisted = [
                self.pool[award.id][n]
                for (a, n), st in sorted(self.states.items())
                if a == award.id and st == State.SHORTLISTED
            ]
            pairs, _ = assign(
                award, sorted(self.reviewers.values(), key=lambda r: r.id), shortlisted,
                event.get("per_nomination", 0), self._by_nominee(self.active, award.id),
                self._by_nominee(self.declined, award.id), self.load.copy(),
            )  # fmt: skip
            why = {"by": "assign", "per_nomination": event.get("per_nomination")}
            self.expected = [(award.id, p, why) for p in pairs]
        if not self.expected:
            self.fail(event, f"{event['nomination']} to {event['reviewer']}", "no assignment",
                      "the assignment rule assigns no one here")  # fmt: skip
        award_id, pair, why = self.expected.pop(0)
        logged = (event["award"], event["nominee"], event["reviewer"], *(event.get(k) for k in why))
        derived = (award_id, pair.nominee_id, pair.reviewer, *why.values())
        if logged != derived:
            self.fail(event, f"{event['nomination']} to {event['reviewer']}",
                      f"{award_id}:{pair.nominee_id} to {pair.reviewer}",
                      "different assignment (least load first, no conflict of interest)")  # fmt: skip
        self.active.setdefault((award_id, pair.nominee_id), set()).add(pair.reviewer)
        self.load[pair.reviewer] += 1
        self.rule += 1

    def _by_nominee(
        self, table: dict[tuple[str, str], set[str]], award_id: str
    ) -> dict[str, set[str]]:
        return {n: set(rs) for (a, n), rs in table.items() if a == award_id}

    def recused(self, event: dict[str, Any]) -> None:
        key = (event["award"], event["nominee"])
        rid = event["reviewer"]
        award = self.workflow.award(event["award"])
        if self.states.get(key) not in OPEN_FOR_RECUSAL or rid not in self.reviewers:
            self.fail(event, f"{rid} recused", f"state {self.states.get(key)}",
                      "a declared reviewer recuses only from an open nomination")  # fmt: skip
        active = self.active.setdefault(key, set())
        declined = self.declined.setdefault(key, set())
        was = rid in active
        dropped = self.verdicts.get(key, {}).pop(rid, None)
        if event.get("was_assigned") != was or event.get("dropped") != dropped:
            self.fail(event, f"was_assigned {event.get('was_assigned')}, dropped {event.get('dropped')}",
                      f"was_assigned {was}, dropped {dropped}", "the recusal's effect differs")  # fmt: skip
        declined.add(rid)
        replacement = None
        if was:
            active.discard(rid)
            self.load[rid] -= 1
            pairs, _ = assign(
                award, sorted(self.reviewers.values(), key=lambda r: r.id), [self._candidate(event)],
                len(active) + 1, {key[1]: set(active)}, {key[1]: set(declined)}, self.load.copy(),
            )  # fmt: skip
            if pairs:
                replacement = pairs[0].reviewer
                self.expected = [(award.id, pairs[0], {"by": "recusal", "replacing": rid})]
        if event.get("replacement") != replacement:
            self.fail(event, f"replacement {event.get('replacement')}", f"replacement {replacement}",
                      "different replacement (least load first, no conflict of interest)")  # fmt: skip

    def assignments_missing(self, event: dict[str, Any]) -> None:
        award_id, pair, _ = self.expected[0]
        self.fail(event, f"{event.get('kind')}", f"an assignment of {award_id}:{pair.nominee_id} to {pair.reviewer}",
                  "the log is missing assignments the rule makes")  # fmt: skip
