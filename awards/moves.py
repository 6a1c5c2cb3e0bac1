"""The one write path for nominations: create them, move them, record verdicts.

Every move is checked against the state machine (awards.states), applied with a guarded
set-based UPDATE (`... WHERE id = ? AND state = ?`, the row count checked) and appended to
the decision log, all inside the caller's single write transaction: either every move of a
batch and its events are written, or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from awards import db
from awards.errors import ConflictError, TransitionError
from awards.eventlog import Sealed
from awards.models import Nomination
from awards.states import NOMINATE, REASON_REQUIRED, State, describe_illegal, destination


def nomination_code(award: str, nominee_id: str) -> str:
    """How people name a nomination: '<award>:<nominee id>'."""
    return f"{award}:{nominee_id}"


@dataclass(frozen=True, slots=True)
class Move:
    """One requested state change of one nomination."""

    nomination_id: int
    award: str
    nominee_id: str
    source: str  # the state the caller saw; the UPDATE is guarded by it
    trigger: str
    reason: str
    evidence: dict[str, Any]
    rank: int | None = None


@dataclass(frozen=True)
class Context:
    """What every event of one transaction shares."""

    cycle: str
    actor: str
    at: str
    workflow_sha256: str
    survey_sha256: str | None


def _event(
    ctx: Context,
    award: str,
    nominee: str,
    src: str | None,
    dest: str,
    trigger: str,
    reason: str,
    evidence: dict[str, Any],
) -> dict[str, Any]:
    return {
        "kind": "transition",
        "cycle": ctx.cycle,
        "award": award,
        "nominee": nominee,
        "nomination": nomination_code(award, nominee),
        "from": src,
        "to": dest,
        "trigger": trigger,
        "actor": ctx.actor,
        "at": ctx.at,
        "reason": reason,
        "evidence": {
            **evidence,
            "workflow_sha256": ctx.workflow_sha256,
            "survey_sha256": ctx.survey_sha256,
        },
    }


def nominate(conn: Connection, ctx: Context, rows: Sequence[dict[str, Any]]) -> list[Sealed]:
    """Create nominations in state 'surveyed', one `nominate` event each.

    `rows` carry the Nomination columns except id, state and seq.
    """
    events = [
        _event(
            ctx,
            r["award"],
            r["nominee_id"],
            None,
            State.SURVEYED,
            NOMINATE,
            "in the award's pool",
            {"score": r["score"], "members": r["members"]},
        )
        for r in rows
    ]
    sealed = db.append(conn, events)
    if rows:
        conn.execute(
            Nomination.__table__.insert(),  # type: ignore[attr-defined]
            [
                {**r, "cycle": ctx.cycle, "state": State.SURVEYED.value, "rank": None, "seq": s.seq}
                for r, s in zip(rows, sealed, strict=True)
            ],
        )
    return sealed


def check(moves: Sequence[Move]) -> list[str]:
    """Validate every move against the machine; return their destinations.

    Raises TransitionError for the first illegal move (nothing has been written yet).
    """
    dests = []
    for m in moves:
        dest = destination(m.trigger, m.source)
        if dest is None:
            code = nomination_code(m.award, m.nominee_id)
            raise TransitionError(describe_illegal(code, m.source, m.trigger))
        if m.trigger in REASON_REQUIRED and not m.reason.strip():
            raise TransitionError(
                f"'{m.trigger}' needs a reason: say why with --reason "
                f"(nomination {nomination_code(m.award, m.nominee_id)})"
            )
        dests.append(dest)
    return dests


def apply(conn: Connection, ctx: Context, moves: Sequence[Move]) -> list[Sealed]:
    """Apply moves in bulk inside the caller's write transaction, with one event each.

    The UPDATE is set-based (a temporary table of moves joined to the nominations) and guarded
    by each row's expected state; if any row had moved meanwhile, ConflictError is raised and
    the caller's transaction rolls back whole.
    """
    if not moves:
        return []
    dests = check(moves)
    events = [
        _event(ctx, m.award, m.nominee_id, m.source, d, m.trigger, m.reason, m.evidence)
        for m, d in zip(moves, dests, strict=True)
    ]
    sealed = db.append(conn, events)
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE awards_move "
        "(id INTEGER PRIMARY KEY, source VARCHAR, dest VARCHAR, rank INTEGER, seq INTEGER)"
    )
    try:
        conn.execute(
            text("INSERT INTO awards_move VALUES (:id, :source, :dest, :rank, :seq)"),
            [
                {"id": m.nomination_id, "source": m.source, "dest": d, "rank": m.rank, "seq": s.seq}
                for m, d, s in zip(moves, dests, sealed, strict=True)
            ],
        )
        updated = conn.execute(
            text(
                "UPDATE nomination SET state = m.dest, seq = m.seq, "
                "rank = COALESCE(m.rank, nomination.rank) "
                "FROM awards_move AS m "
                "WHERE nomination.id = m.id AND nomination.state = m.source"
            )
        ).rowcount
    finally:
        conn.exec_driver_sql("DROP TABLE awards_move")
    if updated != len(moves):
        raise ConflictError(
            f"{len(moves) - updated} of {len(moves)} nominations changed state while this "
            "command ran; nothing was written. Run it again"
        )
    return sealed
