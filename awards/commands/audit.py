"""`awards audit`: fold the live log into state (awards.log.projection) and compare it with
the tables, which are only a projection of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, select
from sqlmodel import col

from awards.commands.logbook import verify_database
from awards.log.chain import Verified, parse_event
from awards.log.projection import Projection
from awards.rules.plain import Plain
from awards.rules.states import nomination_code
from awards.store import database as db
from awards.store.models import Assignment, Event, Nomination, Verdict
from awards.store.schema import open_engine

_Folded = dict[tuple[Any, ...], str]


@dataclass(frozen=True)
class Drift:
    subject: str
    what: str
    table: str | None
    log: str | None

    def __str__(self) -> str:
        return f"{self.subject}: {self.what} is {self.table!r} in the tables but {self.log!r} in the log"


@dataclass(frozen=True)
class Audited(Plain):
    verified: Verified
    nominations: int
    verdicts: int
    drift: list[Drift]


def audit(*, url: str | None = None, engine: Engine | None = None) -> Audited:
    """Verify the live chain, fold the log into states, verdicts and the committee's seats,
    and list every difference from the tables."""
    engine = engine or open_engine(url)
    verified = verify_database(engine=engine)
    projection = Projection()
    with db.read(engine) as conn:
        for (body,) in conn.execute(select(col(Event.body)).order_by(col(Event.seq))):
            projection.apply(parse_event(body, "event"))
        states: _Folded = {}
        verdicts: _Folded = {}  # (cycle, award, nominee, reviewer) -> verdict
        seats: _Folded = {}  # the same key -> assigned | recused
        for cycle_id, folded in projection.cycles.items():
            for (award, nominee), state in folded.states.items():
                states[(cycle_id, award, nominee)] = state
            for (award, nominee), given in folded.verdicts.items():
                for reviewer, v in given.items():
                    verdicts[(cycle_id, award, nominee, reviewer)] = _verdict(
                        v["verdict"] == "approve", v["scores"]
                    )
            for (award, nominee), held in folded.seats.items():
                for reviewer, seat in held.items():
                    seats[(cycle_id, award, nominee, reviewer)] = seat
        table: _Folded = {
            (c, a, n): s
            for c, a, n, s in conn.execute(
                select(col(Nomination.cycle), col(Nomination.award), col(Nomination.nominee_id), col(Nomination.state))
            )
        }  # fmt: skip
        subject_columns = (col(Nomination.cycle), col(Nomination.award), col(Nomination.nominee_id))
        table_verdicts: _Folded = {
            (c, a, n, r): _verdict(v, orjson.loads(sc))
            for c, a, n, r, v, sc in conn.execute(
                select(*subject_columns, col(Verdict.reviewer), col(Verdict.approve), col(Verdict.scores))
                .join(Verdict, col(Verdict.nomination_id) == col(Nomination.id))  # type: ignore[arg-type]
            )
        }  # fmt: skip
        table_seats: _Folded = {
            (c, a, n, r): st
            for c, a, n, r, st in conn.execute(
                select(*subject_columns, col(Assignment.reviewer), col(Assignment.state))
                .join(Assignment, col(Assignment.nomination_id) == col(Nomination.id))  # type: ignore[arg-type]
            )
        }  # fmt: skip
    drift = _differences(states, table, lambda k: "state")
    drift += _differences(verdicts, table_verdicts, lambda k: f"{k[3]}'s verdict")
    drift += _differences(seats, table_seats, lambda k: f"{k[3]}'s seat")
    return Audited(verified, len(table), len(table_verdicts), drift)


def _verdict(approve: bool, scores: dict[str, str]) -> str:
    adjusted = "".join(f" {k}={v}" for k, v in sorted(scores.items()))
    return ("approve" if approve else "reject") + adjusted


def _differences(
    log: dict[tuple[str, ...], str],
    table: dict[tuple[str, ...], str],
    what: Callable[[tuple[str, ...]], str],
) -> list[Drift]:
    out = []
    for key in sorted(set(log) | set(table)):
        if log.get(key) != table.get(key):
            cycle, award, nominee = key[:3]
            out.append(
                Drift(
                    f"{cycle} {nomination_code(award, nominee)}",
                    what(key),
                    table.get(key),
                    log.get(key),
                )
            )
    return out
