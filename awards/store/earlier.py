"""Reading the facts a cycle's rules take from earlier cycles in the same database.

`gather` is what the survey import records (one `earlier_facts` event per earlier cycle) and
what the audit compares the recorded facts with: the earlier cycle's agencies' scores by its
own rules (awards.rules.scoring.scores_then) and the winners of its awards by its log, both
as of a point of that cycle's log.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import orjson
from sqlalchemy import Connection, select
from sqlmodel import col

from awards.errors import AwardsError, NotFound
from awards.log import events
from awards.log.projection import CycleState, facts_of_event
from awards.rules.earlier import Facts, Need, needs, winners_then
from awards.rules.scoring import scores_then
from awards.rules.states import OPEN
from awards.rules.workflow import Workflow
from awards.store import database as db
from awards.store.loading import current_import, load_agencies, load_cycle, survey_sha256
from awards.store.models import Cycle, Event


def gather(conn: Connection, workflow: Workflow, agency_ids: Collection[str]) -> dict[str, Facts]:
    """The facts of every earlier cycle the workflow's rules read, as their logs stand now:
    scores for the agencies `agency_ids` (awards.rules.scoring.gain_pool of this cycle's
    survey), winners of the awards sat out.

    Refused, saying what to do, when an earlier cycle is not in the database, has no survey
    for a gain, lacks a score or award the rules name, or has an award sat out still open.
    """
    out = {}
    for cycle_id, need in needs(workflow).items():
        then = _earlier_cycle(conn, workflow, cycle_id)
        seq, head = db.cycle_head(conn, cycle_id)
        out[cycle_id] = _facts(conn, then, need, agency_ids, seq, head, check_open=True)
    return out


def facts_at(
    conn: Connection, workflow: Workflow, recorded: Facts, agency_ids: Collection[str]
) -> Facts:
    """What `recorded` should hold, read from the earlier cycle as of the log event it
    names (for the audit: the earlier cycle may have moved on since)."""
    need = needs(workflow)[recorded.cycle]
    then = _earlier_cycle(conn, workflow, recorded.cycle)
    return _facts(conn, then, need, agency_ids, recorded.seq, recorded.head, check_open=False)


def has_cycle(conn: Connection, cycle_id: str) -> bool:
    """Whether the database holds the cycle."""
    return conn.execute(select(col(Cycle.id)).where(col(Cycle.id) == cycle_id)).first() is not None


def _earlier_cycle(conn: Connection, workflow: Workflow, cycle_id: str) -> Workflow:
    if not has_cycle(conn, cycle_id):
        users = ", ".join(a.id for a in workflow.awards if cycle_id in a.earlier_cycles)
        raise NotFound(
            f"cycle {workflow.cycle_id}'s award {users} reads cycle {cycle_id}, which is not in "
            f"this database: open it (awards init) and import its survey first"
        )
    return load_cycle(conn, cycle_id)


def _facts(
    conn: Connection,
    then: Workflow,
    need: Need,
    agency_ids: Collection[str],
    seq: int,
    head: str,
    *,
    check_open: bool,
) -> Facts:
    scores = {}
    if need.scores:
        if survey_sha256(conn, then.cycle_id) is None:
            raise AwardsError(
                f"cycle {then.cycle_id} has no survey imported, and a gain since it needs its "
                f"scores: import it first (awards import --cycle {then.cycle_id} FILE)"
            )
        agencies = load_agencies(conn, then.cycle_id)
        wanted = frozenset(agency_ids)
        scores = {k: scores_then(then, k, agencies, wanted) for k in need.scores}
    winners = {}
    if need.winners:
        states = _states_at(conn, then.cycle_id, seq)
        for award in need.winners:
            then.award(award)  # NotFound naming the awards it has
            left = sum(1 for (a, _), s in states.items() if a == award and s in OPEN)
            if check_open and left:
                raise AwardsError(
                    f"cycle {then.cycle_id}'s award {award} is not decided yet ({left} "
                    f"nominations open), and its winners sit out: finish it first "
                    f"(awards advance --cycle {then.cycle_id})"
                )
            winners[award] = winners_then(states, award)
    return Facts(then.cycle_id, seq, head, scores, winners)


def _states_at(conn: Connection, cycle_id: str, upto: int) -> dict[tuple[str, str], str]:
    """The cycle's nominations' states as its log stands after event `upto`."""
    state = CycleState()
    kinds = (events.Kind.TRANSITION.value, events.Kind.SURVEY_IMPORTED.value)
    rows = conn.execute(
        select(col(Event.body))
        .where(col(Event.cycle) == cycle_id, col(Event.kind).in_(kinds), col(Event.seq) <= upto)
        .order_by(col(Event.seq))
    )
    for (body,) in rows:
        state.apply(orjson.loads(body))
    return state.states


def facts_event(cycle: str, actor: str, at: str, facts: Facts) -> dict[str, Any]:
    """The `earlier_facts` event that records `facts` in `cycle`'s log."""
    return events.earlier_facts(
        cycle=cycle,
        actor=actor,
        at=at,
        earlier=facts.cycle,
        earlier_seq=facts.seq,
        earlier_head=facts.head,
        scores={k: {a: str(v) for a, v in by.items()} for k, by in facts.scores.items()},
        winners={k: sorted(v) for k, v in facts.winners.items()},
    )


def recorded(conn: Connection, cycle_id: str) -> dict[str, Facts]:
    """The facts of earlier cycles that the cycle's current survey import logged."""
    row = current_import(conn, cycle_id)
    if row is None:
        return {}
    imported = row.seq
    rows = conn.execute(
        select(col(Event.body)).where(
            col(Event.cycle) == cycle_id,
            col(Event.kind) == events.Kind.EARLIER_FACTS.value,
            col(Event.seq) > imported,
        )
    )
    found = (facts_of_event(orjson.loads(body)) for (body,) in rows)
    return {f.cycle: f for f in found}
