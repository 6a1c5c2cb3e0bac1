"""Facts taken from earlier cycles, and the rules that read them. Pure.

A rule may look back: an award ranks by the gain of a score since an earlier cycle (joined
by agency id), or the earlier winners of an award sit out. What the rules use of an earlier
cycle is its Facts: the scores its agencies had, by score (the weighted score or a
dimension), and the winners of its awards, fixed at a point of its log (`seq`, `head`). The
import records them in the cycle's own log, so the replay of a cycle needs no other.

`exclusion` and `gain` are the two rules; awards.rules.scoring.candidates applies them to
every pool, and the ranking view shows the reasons `exclusion` gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from awards.errors import AwardsError
from awards.rules.states import State
from awards.rules.workflow import Award, Workflow


@dataclass(frozen=True)
class Facts:
    """What the rules use of one earlier cycle, as of its log event `seq` (hash `head`)."""

    cycle: str
    seq: int
    head: str
    # score ("weighted" or a dimension key) -> agency id -> that agency's score then
    scores: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    # award id -> the nominee ids it awarded (revoked ones are not winners)
    winners: Mapping[str, frozenset[str]] = field(default_factory=dict)


Earlier = Mapping[str, Facts]  # earlier cycle id -> its facts


@dataclass(frozen=True)
class Need:
    """What a workflow reads of one earlier cycle: scores (for gains) and winners."""

    scores: tuple[str, ...]  # score keys, e.g. ("weighted",)
    winners: tuple[str, ...]  # award ids


def needs(workflow: Workflow) -> dict[str, Need]:
    """Each earlier cycle the workflow's rules read, and what they read of it."""
    scores: dict[str, set[str]] = {}
    winners: dict[str, set[str]] = {}
    for award in workflow.awards:
        if award.gain_since is not None:
            scores.setdefault(award.gain_since, set()).add(award.score)
        if award.sit_out is not None:
            for cycle in award.sit_out.cycles:
                winners.setdefault(cycle, set()).add(award.sit_out.award)
    return {
        c: Need(tuple(sorted(scores.get(c, ()))), tuple(sorted(winners.get(c, ()))))
        for c in sorted(set(scores) | set(winners))
    }


class MissingFacts(AwardsError):
    """An award's rules read an earlier cycle whose facts were not given."""


def facts_of(award: Award, cycle: str, earlier: Earlier) -> Facts:
    found = earlier.get(cycle)
    if found is None:
        raise MissingFacts(
            f"award {award.id} reads cycle {cycle}, whose facts are not recorded; "
            f"open cycle {cycle} and import its survey first, then import this cycle's survey"
        )
    return found


def exclusion(award: Award, nominee_id: str, earlier: Earlier) -> str | None:
    """Why a pooled nominee may not enter the award, naming the earlier cycle; None when it
    may. A winner sits out before a missing earlier score is looked at."""
    if award.sit_out is not None:
        for cycle in award.sit_out.cycles:
            won = facts_of(award, cycle, earlier).winners.get(award.sit_out.award, frozenset())
            if nominee_id in won:
                return f"sits out: won {award.sit_out.award} in {cycle}"
    if award.gain_since is not None:
        then = facts_of(award, award.gain_since, earlier).scores.get(award.score, {})
        if nominee_id not in then:
            return f"not eligible: no {award.score} score in {award.gain_since} to gain from"
    return None


def gain(award: Award, nominee_id: str, score: Decimal, earlier: Earlier) -> Decimal:
    """The award's score: `score` itself, or its gain since the earlier cycle (negative when
    it fell). Only for a nominee `exclusion` admits."""
    if award.gain_since is None:
        return score
    then = facts_of(award, award.gain_since, earlier).scores[award.score][nominee_id]
    return score - then


def winners_then(states: Mapping[tuple[str, str], str], award: str) -> frozenset[str]:
    """The nominees an earlier cycle's award has awarded, from its nominations' states
    ((award, nominee) -> state); a revoked award is no win."""
    return frozenset(n for (a, n), s in states.items() if a == award and s == State.AWARDED)


def differences(held: Facts, logged: Facts) -> list[tuple[str, object, object]]:
    """Where two statements of one earlier cycle's facts differ: (what, held, logged), each
    score by agency and each award's winners, in order."""
    out: list[tuple[str, object, object]] = []
    for key in sorted(set(held.scores) | set(logged.scores)):
        ours, theirs = held.scores.get(key, {}), logged.scores.get(key, {})
        for agency in sorted(set(ours) | set(theirs)):
            a, b = ours.get(agency), theirs.get(agency)
            if a != b:
                out.append((f"{agency}'s {key} score", a and str(a), b and str(b)))
    for award in sorted(set(held.winners) | set(logged.winners)):
        won, said = held.winners.get(award, frozenset()), logged.winners.get(award, frozenset())
        if won != said:
            out.append((f"the winners of {award}", sorted(won), sorted(said)))
    return out
