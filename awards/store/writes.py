"""The one write path for nominations: create them, move them, record verdicts.

Every move is checked against the state machine (awards.states), applied with a guarded
set-based UPDATE (`... WHERE id = ? AND state = ?`, the row count checked) and appended to
the decision log, all inside the caller's single write transaction: either every move of a
batch and its events are written, or none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

import orjson
from sqlalchemy import Connection, bindparam, text

from awards.errors import ConflictError, TransitionError
from awards.log import events, merkle
from awards.log.projection import ASSIGNED
from awards.rules.scoring import Candidate
from awards.rules.states import (
    NOMINATE,
    REASON_REQUIRED,
    State,
    Trigger,
    describe_illegal,
    destination,
    nomination_code,
)
from awards.store import database as db


class Why(Protocol):
    """Why a move is made: a rule's decision, or a person's stated reason."""

    @property
    def reason(self) -> str: ...

    @property
    def evidence(self) -> dict[str, Any]: ...


class Stated(NamedTuple):
    """A person's reason for a move (withdraw, revoke)."""

    reason: str
    evidence: dict[str, Any]


class Move(NamedTuple):
    """One requested state change of one nomination."""

    nomination_id: int
    award: str
    nominee_id: str
    source: str  # the state the caller saw; the UPDATE is guarded by it
    trigger: str
    why: Why
    rank: int | None = None


@dataclass(frozen=True)
class Context:
    """What every event of one transaction shares. The workflow and survey a decision was
    taken under are the `cycle_opened` and latest `survey_imported` events before it in the
    chain (since schema version 6 a transition's evidence does not repeat their SHA-256)."""

    cycle: str
    actor: str
    at: str


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
    return events.transition(
        cycle=ctx.cycle, award=award, nominee=nominee, source=src, dest=dest, trigger=trigger,
        actor=ctx.actor, at=ctx.at, reason=reason, evidence=evidence,
    )  # fmt: skip


_NOMINATION_COLUMNS = (
    "cycle", "award", "nominee_id", "name_th", "name_en", "level", "ministry", "province",
    "members", "scores", "weighted", "score", "state", "rank", "seq",
)  # fmt: skip


def nominate(conn: Connection, ctx: Context, award: str, cands: Sequence[Candidate]) -> db.Appended:
    """Create the award's nominations in state 'surveyed', one `nominate` event each."""
    appended = db.append(
        conn,
        (
            _event(ctx, award, c.nominee_id, None, State.SURVEYED, NOMINATE, "in the award's pool",
                   {"score": str(c.score), "members": c.members})
            for c in cands
        ),
    )  # fmt: skip
    # Without declared fields the column keeps its default, '{}': nothing more to write.
    fielded = any(c.fields for c in cands)
    db.insert_rows(
        conn,
        "nomination",
        (*_NOMINATION_COLUMNS, "fields") if fielded else _NOMINATION_COLUMNS,
        (
            (ctx.cycle, award, c.nominee_id, c.name_th, c.name_en, c.level, c.ministry, c.province,
             c.members, decimals_json(c.scores), str(c.weighted), str(c.score), State.SURVEYED.value,
             None, appended.seq(i), *((fields_json(c.fields),) if fielded else ()))
            for i, c in enumerate(cands)
        ),
    )  # fmt: skip
    return appended


_NO_FIELDS: Mapping[str, str] = MappingProxyType({})


def fields_json(fields: Mapping[str, str]) -> str:
    """Declared field values stored as a JSON object ('{}' for a survey that has none)."""
    return orjson.dumps(dict(fields), option=orjson.OPT_SORT_KEYS).decode() if fields else "{}"


def read_fields(stored: str) -> Mapping[str, str]:
    """The fields a row stores; one shared empty mapping for the rows without any."""
    return _NO_FIELDS if stored == "{}" else MappingProxyType(orjson.loads(stored))


def decimals_json(values: Sequence[Decimal]) -> str:
    """Decimals stored as a JSON list of strings: exact, and readable in any SQL client."""
    return orjson.dumps([str(v) for v in values]).decode()


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
        if m.trigger in REASON_REQUIRED and not m.why.reason.strip():
            raise TransitionError(
                f"'{m.trigger}' needs a reason: say why with --reason "
                f"(nomination {nomination_code(m.award, m.nominee_id)})"
            )
        dests.append(dest)
    return dests


def apply(
    conn: Connection, ctx: Context, moves: Sequence[Move], tree: merkle.Frontier | None = None
) -> db.Appended:
    """Apply moves in bulk inside the caller's write transaction, with one event each.

    The UPDATE is set-based (a temporary table of moves joined to the nominations) and guarded
    by each row's expected state; if any row had moved meanwhile, ConflictError is raised and
    the caller's transaction rolls back whole. `tree`: the log's Merkle tree, grown by the
    events written (see db.append).
    """
    dests = check(moves)
    appended = db.append(
        conn,
        (
            _event(ctx, m.award, m.nominee_id, m.source, d, m.trigger, m.why.reason, m.why.evidence)
            for m, d in zip(moves, dests, strict=True)
        ),
        tree,
    )
    if not moves:
        return appended
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE awards_move "
        "(id INTEGER PRIMARY KEY, source VARCHAR, dest VARCHAR, rank INTEGER, seq INTEGER)"
    )
    try:
        db.insert_rows(
            conn,
            "awards_move",
            ("id", "source", "dest", "rank", "seq"),
            (
                (m.nomination_id, m.source, d, m.rank, appended.seq(i))
                for i, (m, d) in enumerate(zip(moves, dests, strict=True))
            ),
        )
        updated = db.update_rows(
            conn,
            "nomination SET state = m.dest, seq = m.seq, rank = COALESCE(m.rank, nomination.rank) "
            "FROM awards_move AS m WHERE nomination.id = m.id AND nomination.state = m.source",
        )
    finally:
        conn.exec_driver_sql("DROP TABLE awards_move")
    if updated != len(moves):
        raise ConflictError(
            f"{len(moves) - updated} of {len(moves)} nominations changed state while this "
            "command ran; nothing was written. Run it again"
        )
    _next_round(conn, [m.nomination_id for m in moves if m.trigger == Trigger.NEXT_ROUND])
    return appended


def _next_round(conn: Connection, ids: Sequence[int]) -> None:
    """Nominations sent on to the next review round: the round counts up, and the closed
    round's seats and verdicts leave the tables (as they leave the projection: the log keeps
    them). Recusals stay: a declared conflict holds in every round."""
    if not ids:
        return
    bound = {"ids": list(ids)}
    expanding: Any = bindparam("ids", expanding=True)
    conn.execute(
        text("UPDATE nomination SET round = round + 1 WHERE id IN :ids").bindparams(expanding),
        bound,
    )
    conn.execute(
        text("DELETE FROM verdict WHERE nomination_id IN :ids").bindparams(expanding), bound
    )
    conn.execute(
        text(
            f"DELETE FROM assignment WHERE state = '{ASSIGNED}' AND nomination_id IN :ids"
        ).bindparams(expanding),
        bound,
    )
