"""`awards audit`: rebuild every nomination's state from the live log and compare with the
tables, which are only a projection of it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import col

from awards import db
from awards.eventlog import Verified, parse_event
from awards.models import Event, Nomination, Verdict
from awards.moves import nomination_code
from awards.views import verify_database


@dataclass(frozen=True)
class Drift:
    subject: str
    what: str
    table: str | None
    log: str | None

    def __str__(self) -> str:
        return f"{self.subject}: {self.what} is {self.table!r} in the tables but {self.log!r} in the log"


@dataclass(frozen=True)
class Audited:
    verified: Verified
    nominations: int
    verdicts: int
    drift: list[Drift]


def audit(*, url: str | None = None) -> Audited:
    """Verify the live chain, fold the log into states and verdicts, list every difference."""
    verified = verify_database(url=url)
    engine = db.open_engine(url)
    states: dict[tuple[str, str, str], str | None] = {}
    verdicts: dict[tuple[str, str, str, str], bool] = {}
    with db.read(engine) as conn:
        for (body,) in conn.execute(select(col(Event.body)).order_by(col(Event.seq))):
            e = parse_event(body, "event")
            if e["kind"] == "survey_imported":
                # A replaced survey drops the cycle's earlier nominations with it.
                for key in [k for k in states if k[0] == e["cycle"]]:
                    del states[key]
                for vkey in [k for k in verdicts if k[0] == e["cycle"]]:
                    del verdicts[vkey]
            elif e["kind"] == "transition":
                states[(e["cycle"], e["award"], e["nominee"])] = e["to"]
            elif e["kind"] == "verdict":
                verdicts[(e["cycle"], e["award"], e["nominee"], e["reviewer"])] = (
                    e["verdict"] == "approve"
                )
        table = {
            (c, a, n): s
            for c, a, n, s in conn.execute(
                select(
                    col(Nomination.cycle),
                    col(Nomination.award),
                    col(Nomination.nominee_id),
                    col(Nomination.state),
                )
            )
        }
        table_verdicts = {
            (c, a, n, r): v
            for c, a, n, r, v in conn.execute(
                select(
                    col(Nomination.cycle), col(Nomination.award), col(Nomination.nominee_id),
                    col(Verdict.reviewer), col(Verdict.approve),
                ).join(Verdict, col(Verdict.nomination_id) == col(Nomination.id))
            )
        }  # fmt: skip
    drift = []
    for key in sorted(set(states) | set(table)):
        if states.get(key) != table.get(key):
            cycle, award, nominee = key
            drift.append(
                Drift(
                    f"{cycle} {nomination_code(award, nominee)}",
                    "state",
                    table.get(key),
                    states.get(key),
                )
            )
    for vkey in sorted(set(verdicts) | set(table_verdicts)):
        if verdicts.get(vkey) != table_verdicts.get(vkey):
            cycle, award, nominee, reviewer = vkey
            shown = {True: "approve", False: "reject", None: None}
            drift.append(
                Drift(f"{cycle} {nomination_code(award, nominee)}", f"{reviewer}'s verdict",
                      shown[table_verdicts.get(vkey)], shown[verdicts.get(vkey)])
            )  # fmt: skip
    return Audited(verified, len(table), len(table_verdicts), drift)
