"""The committee's seats: the library calls behind `reviewers add/list`, `assign` and `recuse`.

Reviewers are declared per cycle (in the workflow file, or one by one; logged). Assignment
follows awards.committee.assign: deterministic, balanced, never a reviewer with a conflict
of interest. A recusal is logged with its effect: the verdict it drops and the reviewer who
takes the place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlmodel import col

from awards.errors import AwardsError, ConflictError, NotFound, TransitionError
from awards.log import events
from awards.log.chain import now
from awards.log.projection import ASSIGNED, RECUSED
from awards.rules.committee import Pair, round_panel
from awards.rules.committee import assign as assign_pairs
from awards.rules.names import affiliation_problems, nfc
from awards.rules.names import problem as text_problem
from awards.rules.plain import Plain
from awards.rules.states import OPEN_FOR_RECUSAL, State, nomination_code
from awards.rules.workflow import REVIEWER_ID_RULE, Reviewer, Workflow
from awards.store import committee as panel
from awards.store import database as db
from awards.store.cycles import find_nomination, load_nominated
from awards.store.loading import load_cycle
from awards.store.models import Assignment, Nomination, Verdict
from awards.store.schema import open_engine


@dataclass(frozen=True)
class Listed(Plain):
    reviewer: Reviewer
    assigned: int  # active assignments in the cycle
    verdicts: int  # verdicts given (that count: not withdrawn by a recusal)
    waiting: int  # shortlisted nominations assigned to them without their verdict
    recused: int


def add_reviewer(
    reviewer: Reviewer,
    *,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
    actor: str,
) -> Reviewer:
    """Declare a committee member for the cycle (logged)."""
    pattern, rule = REVIEWER_ID_RULE
    if not re.fullmatch(pattern, reviewer.id):
        raise AwardsError(f"'{reviewer.id}': {rule}")
    if not reviewer.name.strip():
        raise AwardsError(f"reviewer '{reviewer.id}' needs a name: pass --name")
    reviewer = Reviewer(
        reviewer.id,
        nfc(reviewer.name),
        tuple(map(nfc, reviewer.ministries)),
        tuple(map(nfc, reviewer.provinces)),
    )
    problems = [("--name", reviewer.name, why) for why in [text_problem(reviewer.name)] if why]
    problems += affiliation_problems(reviewer.ministries, reviewer.provinces)
    if problems:
        field, value, why = problems[0]
        option = {"ministries": "--ministry", "provinces": "--province"}.get(
            field.partition("[")[0], field
        )
        raise AwardsError(f"{option} '{value}' {why}")
    engine = engine or open_engine(url)
    with db.write(engine) as conn:
        workflow = load_cycle(conn, cycle)
        if any(r.id == reviewer.id for r in panel.load_reviewers(conn, workflow.cycle_id)):
            raise ConflictError(
                f"reviewer '{reviewer.id}' is already declared in cycle {workflow.cycle_id}; "
                "`awards reviewers list` shows them"
            )
        panel.declare(conn, workflow.cycle_id, [reviewer], actor, now(), "command")
    return reviewer


def list_reviewers(
    *, url: str | None = None, engine: Engine | None = None, cycle: str | None = None
) -> list[Listed]:
    """Every reviewer of the cycle with their load."""
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
        reviewers = panel.load_reviewers(conn, workflow.cycle_id)
        places = panel.Places(conn, workflow.cycle_id)
        shortlisted = set(
            conn.execute(
                select(col(Nomination.id)).where(
                    col(Nomination.cycle) == workflow.cycle_id,
                    col(Nomination.state) == State.SHORTLISTED,
                )
            ).scalars()
        )
        # Every verdict that counts, whatever became of its nomination since: a review that
        # is over keeps its verdicts (a recusal removes one, and the log keeps it).
        given: dict[str, set[int]] = {}
        for nid, rid in conn.execute(
            select(col(Verdict.nomination_id), col(Verdict.reviewer))
            .join(Nomination, col(Nomination.id) == col(Verdict.nomination_id))
            .where(col(Nomination.cycle) == workflow.cycle_id)
        ):
            given.setdefault(rid, set()).add(nid)
    out = []
    for r in reviewers:
        mine = {n for n, rs in places.active.items() if r.id in rs}
        done = given.get(r.id, set())
        recused = sum(1 for rs in places.declined.values() if r.id in rs)
        out.append(Listed(r, len(mine), len(done), len((mine & shortlisted) - done), recused))
    return out


@dataclass(frozen=True)
class Seats(Plain):
    nomination: str
    assigned: tuple[str, ...]
    recused: tuple[str, ...]


def seats(
    nomination: str,
    *,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
) -> Seats:
    """Who is assigned to a nomination, and who recused from it."""
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
        row = find_nomination(conn, workflow, nomination)
        places = panel.Places(conn, workflow.cycle_id)
    return Seats(
        nomination, tuple(sorted(places.active[row.id])), tuple(sorted(places.declined[row.id]))
    )


@dataclass
class Assigned(Plain):
    award: str
    per_nomination: int
    pairs: list[tuple[str, str]]  # (nomination, reviewer)
    unfilled: dict[str, int]  # nomination -> open places no eligible reviewer could take
    load: dict[str, int] = field(default_factory=dict)  # reviewer -> active assignments
    round: int = 1  # the review round assigned
    rounds: int = 1  # the award's review rounds


def assign(
    award: str,
    per_nomination: int,
    *,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
    actor: str,
) -> Assigned:
    """Give each shortlisted nomination of the award `per_nomination` reviewers (logged).

    Deterministic and repeatable: nominations that already have enough reviewers are left
    alone, so running it again only fills places opened since (by recusals, or new reviewers).
    """
    if per_nomination < 1:
        raise AwardsError("--per-nomination must be at least 1")
    engine = engine or open_engine(url)
    with db.write(engine) as conn:
        workflow = load_cycle(conn, cycle)
        declared = panel.reviewed_award(workflow, award)
        reviewers = panel.load_reviewers(conn, workflow.cycle_id)
        if not reviewers:
            raise NotFound(
                f"cycle {workflow.cycle_id} has no reviewers; declare them with "
                "`awards reviewers add` or [[reviewers]] in the workflow file"
            )
        rows = load_nominated(conn, workflow.cycle_id, declared.id, State.SHORTLISTED)
        if not rows:
            raise TransitionError(
                f"award '{declared.id}' has no shortlisted nominations; run `awards advance` first"
            )
        number = panel.current_round(conn, workflow.cycle_id, declared.id)
        reviewers = round_panel(declared.round_rule(number), reviewers)
        places = panel.Places(conn, workflow.cycle_id)
        ids = {r.candidate.nominee_id: r.id for r in rows}
        pairs, unfilled = assign_pairs(
            declared,
            reviewers,
            [r.candidate for r in rows],
            per_nomination,
            {n: places.active[i] for n, i in ids.items()},
            {n: places.declined[i] for n, i in ids.items()},
            places.load,
        )
        why = {"by": "assign", "per_nomination": per_nomination}
        _write_assignments(conn, workflow.cycle_id, declared.id, number, ids, pairs, why, actor)
    return Assigned(
        declared.id,
        per_nomination,
        [(nomination_code(declared.id, p.nominee_id), p.reviewer) for p in pairs],
        {nomination_code(declared.id, n): k for n, k in unfilled.items()},
        dict(sorted(places.load.items())),
        number,
        declared.round_count,
    )


def _write_assignments(
    conn: Connection,
    cycle: str,
    award: str,
    number: int,
    ids: Mapping[str, int],
    pairs: Sequence[Pair],
    why: Mapping[str, Any],
    actor: str,
) -> None:
    at = now()
    appended = db.append(
        conn,
        (
            events.assigned(
                cycle=cycle,
                award=award,
                nominee=p.nominee_id,
                reviewer=p.reviewer,
                round=number,
                why=why,
                actor=actor,
                at=at,
            )
            for p in pairs
        ),
    )
    db.insert_rows(
        conn,
        "assignment",
        ("cycle", "nomination_id", "reviewer", "state", "seq"),
        (
            (cycle, ids[p.nominee_id], p.reviewer, ASSIGNED, appended.seq(i))
            for i, p in enumerate(pairs)
        ),
    )


@dataclass(frozen=True)
class Recused(Plain):
    nomination: str
    reviewer: str
    was_assigned: bool
    dropped: dict[str, Any] | None  # the verdict that no longer counts
    replacement: str | None


def recuse(
    nomination: str,
    *,
    reviewer: str,
    reason: str,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
    actor: str,
) -> Recused:
    """A reviewer declares a conflict of interest with a nomination (logged, with the
    `actor` who recorded it beside the reviewer).

    They are never assigned to it again; if they were assigned, their verdict (if any) no
    longer counts and the nomination gets the next eligible reviewer in their place.
    """
    if not reason.strip():
        raise AwardsError("a recusal needs a reason: say why with --reason")
    engine = engine or open_engine(url)
    with db.write(engine) as conn:
        workflow = load_cycle(conn, cycle)
        row = find_nomination(conn, workflow, nomination)
        award = panel.reviewed_award(workflow, row.award)
        reviewers = panel.load_reviewers(conn, workflow.cycle_id)
        known_reviewer(workflow, reviewers, reviewer)
        if row.state not in OPEN_FOR_RECUSAL:
            raise TransitionError(
                f"nomination {nomination} is '{row.state}'; its review is over, so there is nothing to recuse from"
            )
        places = panel.Places(conn, workflow.cycle_id)
        if reviewer in places.declined[row.id]:
            raise ConflictError(f"reviewer '{reviewer}' has already recused from {nomination}")
        was_assigned = reviewer in places.active[row.id]
        dropped = panel.current_verdict(conn, row.id, reviewer)
        pairs: list[Pair] = []
        if was_assigned:
            places.active[row.id].discard(reviewer)
            places.load[reviewer] -= 1
            places.declined[row.id].add(reviewer)
            pairs, _ = assign_pairs(
                award,
                round_panel(award.round_rule(row.round), reviewers),
                [row],
                len(places.active[row.id]) + 1,
                {row.nominee_id: places.active[row.id]},
                {row.nominee_id: places.declined[row.id]},
                places.load,
            )
        replacement = pairs[0].reviewer if pairs else None
        event = events.recused(
            cycle=workflow.cycle_id, award=award.id, nominee=row.nominee_id, reviewer=reviewer,
            reason=reason, was_assigned=was_assigned, dropped=dropped, replacement=replacement,
            actor=actor, at=now(),
        )  # fmt: skip
        seq = db.append(conn, [event]).first
        table = Assignment.__table__  # type: ignore[attr-defined]
        if was_assigned:
            conn.execute(
                table.update()
                .where(
                    col(Assignment.nomination_id) == row.id, col(Assignment.reviewer) == reviewer
                )
                .values(state=RECUSED, seq=seq)
            )
        else:
            conn.execute(
                table.insert(),
                {"cycle": workflow.cycle_id, "nomination_id": row.id, "reviewer": reviewer,
                 "state": RECUSED, "seq": seq},
            )  # fmt: skip
        if dropped is not None:
            conn.execute(
                Verdict.__table__.delete().where(  # type: ignore[attr-defined]
                    col(Verdict.nomination_id) == row.id, col(Verdict.reviewer) == reviewer
                )
            )
        if pairs:
            why = {"by": "recusal", "replacing": reviewer}
            ids = {row.nominee_id: row.id}
            _write_assignments(conn, workflow.cycle_id, award.id, row.round, ids, pairs, why, actor)
    return Recused(nomination, reviewer, was_assigned, dropped, replacement)


def known_reviewer(workflow: Workflow, reviewers: Sequence[Reviewer], reviewer: str) -> Reviewer:
    """The reviewer with this id; NotFound naming the cycle's reviewers otherwise."""
    for r in reviewers:
        if r.id == reviewer:
            return r
    known = ", ".join(r.id for r in reviewers) or "none yet; add them with `awards reviewers add`"
    raise NotFound(f"no reviewer '{reviewer}' in cycle {workflow.cycle_id}; reviewers: {known}")
