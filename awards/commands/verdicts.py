"""Verdicts: the library calls behind `review` (one verdict) and `review --from` (a sheet).

A verdict counts only from a reviewer assigned to the nomination and without a conflict of
interest, and only while the nomination is shortlisted. Every verdict and every change of one
is logged with what it replaced; a sheet is taken all or nothing, like a survey.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine
from sqlmodel import col

from awards.commands.sheets import fixed_cells
from awards.errors import AwardsError, ConflictError, NotFound, TransitionError
from awards.log import events
from awards.log.chain import now
from awards.rules.committee import conflict
from awards.rules.names import invisible, mojibake, nfc
from awards.rules.plain import Plain
from awards.rules.states import State
from awards.rules.survey_cells import check_score
from awards.rules.tables import Problems, read_table
from awards.rules.workflow import VERDICT_COLUMNS, VERDICT_NOTE, Workflow
from awards.store import committee as panel
from awards.store import database as db
from awards.store.cycles import find_nomination
from awards.store.loading import load_cycle
from awards.store.models import Verdict
from awards.store.schema import open_engine


@dataclass(frozen=True)
class Given:
    """One verdict as a reviewer gives it."""

    nomination: str
    reviewer: str
    approve: bool
    scores: Mapping[str, Decimal] = field(default_factory=dict)  # adjusted dimensions only
    note: str = ""


@dataclass(frozen=True)
class Reviewed(Plain):
    nomination: str
    reviewer: str
    verdict: str
    previous: dict[str, Any] | None
    changed: bool  # False when it repeats the reviewer's current verdict exactly


def review(
    given: Given,
    *,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
    actor: str,
) -> Reviewed:
    """Record (or change) one reviewer's verdict on a shortlisted nomination; logged with the
    reviewer whose verdict it is and the `actor` who recorded it (a secretary may enter a
    reviewer's verdict)."""
    engine = engine or open_engine(url)
    with db.write(engine) as conn:
        workflow = load_cycle(conn, cycle)
        desk = _Desk(conn, workflow)
        problem = desk.check(given)
        if problem is not None:
            raise problem[1]
        return desk.record([given], {}, actor)[0]


class _Desk:
    """Checks and records verdicts inside one write transaction."""

    def __init__(self, conn: Connection, workflow: Workflow) -> None:
        self.conn = conn
        self.workflow = workflow
        self.reviewers = {r.id: r for r in panel.load_reviewers(conn, workflow.cycle_id)}
        self.places = panel.Places(conn, workflow.cycle_id)
        self.rows: dict[str, Any] = {}

    def check(self, g: Given) -> tuple[str, AwardsError] | None:
        """Why this verdict cannot be taken (the field at fault and the error), or None."""
        if not g.reviewer.strip():
            return "reviewer", AwardsError("a verdict needs a reviewer: pass --reviewer ID")
        try:
            row = self.rows.get(g.nomination) or find_nomination(
                self.conn, self.workflow, g.nomination
            )
            award = panel.reviewed_award(self.workflow, row.award)
        except AwardsError as exc:
            return "nomination", exc
        self.rows[g.nomination] = row
        if row.state != State.SHORTLISTED:
            return "nomination", TransitionError(
                f"nomination {g.nomination} is '{row.state}'; verdicts are taken only while it is 'shortlisted'"
            )
        r = self.reviewers.get(g.reviewer)
        if r is None:
            known = ", ".join(self.reviewers) or "none yet; add them with `awards reviewers add`"
            return "reviewer", NotFound(
                f"no reviewer '{g.reviewer}' in cycle {self.workflow.cycle_id}; reviewers: {known}"
            )
        if g.reviewer in self.places.declined[row.id]:
            return "reviewer", ConflictError(
                f"reviewer '{g.reviewer}' recused from {g.nomination} (a declared conflict of interest); their verdict cannot count"
            )
        why = conflict(award, r, row)
        if why is not None:
            return "reviewer", ConflictError(
                f"reviewer '{g.reviewer}' has a conflict of interest with {g.nomination} ({why}); their verdict cannot count"
            )
        assigned = self.places.active[row.id]
        if g.reviewer not in assigned:
            who = ", ".join(sorted(assigned)) or f"no one yet; run `awards assign {award.id}`"
            return "reviewer", ConflictError(
                f"reviewer '{g.reviewer}' is not assigned to {g.nomination} (assigned: {who}); only assigned reviewers give verdicts"
            )
        if why := mojibake(g.note) or invisible(g.note, lines=True):
            return "note", AwardsError(f"the note {why}")
        for key, value in g.scores.items():
            if key not in self.workflow.dimension_keys:
                keys = ", ".join(self.workflow.dimension_keys)
                return key, AwardsError(f"unknown dimension '{key}'; adjusted scores use: {keys}")
            if not 0 <= value <= 100:
                return key, AwardsError(f"adjusted score {key}={value} must be between 0 and 100")
        return None

    def record(
        self, given: Sequence[Given], source: Mapping[str, Any], actor: str
    ) -> list[Reviewed]:
        """Log and store checked verdicts; one repeating the current verdict is left alone."""
        at = now()
        done: list[Reviewed] = []
        logged: list[dict[str, Any]] = []
        writes: list[tuple[Any, Given, dict[str, Any] | None]] = []
        for g in given:
            row = self.rows[g.nomination]
            verdict = "approve" if g.approve else "reject"
            note = nfc(g.note)
            scores = {k: str(g.scores[k]) for k in self.workflow.dimension_keys if k in g.scores}
            previous = panel.current_verdict(self.conn, row.id, g.reviewer)
            now_given = {"verdict": verdict, "scores": scores, "note": note}
            if previous == now_given:
                done.append(Reviewed(g.nomination, g.reviewer, verdict, previous, False))
                continue
            logged.append(events.verdict(
                cycle=self.workflow.cycle_id, award=row.award, nominee=row.nominee_id,
                reviewer=g.reviewer, round=row.round, verdict=verdict, scores=scores, note=note,
                previous=previous, source=source, actor=actor, at=at,
            ))  # fmt: skip
            writes.append((row, g, previous))
            done.append(Reviewed(g.nomination, g.reviewer, verdict, previous, True))
        appended = db.append(self.conn, logged)
        table = Verdict.__table__  # type: ignore[attr-defined]
        for i, (row, g, previous) in enumerate(writes):
            values = {
                "approve": g.approve,
                "scores": orjson.dumps(logged[i]["scores"]).decode(),
                "note": logged[i]["note"],
                "at": at,
                "seq": appended.seq(i),
            }
            if previous is None:
                self.conn.execute(
                    table.insert(), {"nomination_id": row.id, "reviewer": g.reviewer, **values}
                )
            else:
                self.conn.execute(
                    table.update()
                    .where(
                        col(Verdict.nomination_id) == row.id, col(Verdict.reviewer) == g.reviewer
                    )
                    .values(**values)
                )
        return done


# A verdict sheet's columns: nomination, reviewer, verdict, optionally note, and any dimension
# key, whose cell holds that reviewer's adjusted score (empty: the survey score stands).
_VERDICT_WORDS = {
    "approve": True, "approved": True, "yes": True, "อนุมัติ": True, "เห็นชอบ": True,
    "reject": False, "rejected": False, "no": False, "ไม่อนุมัติ": False, "ไม่เห็นชอบ": False,
}  # fmt: skip


@dataclass(frozen=True)
class Imported(Plain):
    file: str
    sha256: str
    verdicts: list[Reviewed]

    @property
    def changed(self) -> int:
        return sum(r.changed for r in self.verdicts)


def import_verdicts(
    path: str | Path,
    *,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
    actor: str,
) -> Imported:
    """Take a sheet of verdicts (CSV or XLSX), all or nothing.

    Columns: nomination (AWARD:NOMINEE), reviewer, verdict (approve/reject, อนุมัติ/ไม่อนุมัติ),
    optionally note and one column per dimension key for adjusted scores. Every row is checked
    like a single verdict (reviewer assigned, no conflict, nomination shortlisted, scores 0-100)
    and every problem is reported with its row, column and value; if there is any, nothing is
    recorded. A row repeating a reviewer's current verdict changes nothing, so a sheet can be
    imported again after corrections.
    """
    engine = engine or open_engine(url)
    with db.write(engine) as conn:
        workflow = load_cycle(conn, cycle)
        desk = _Desk(conn, workflow)
        given, data = read_table(path, lambda rows, problems: _sheet(rows, problems, desk))
        sha = hashlib.sha256(data).hexdigest()
        source = {"source": {"file": Path(path).name, "sha256": sha, "imported_by": actor}}
        return Imported(str(path), sha, desk.record(given, source, actor))


def _sheet(rows: Iterator[list[str]], problems: Problems, desk: _Desk) -> list[Given]:
    header = next(rows, None)
    if header is None:
        problems.fail(
            "the file is empty; the first row must name the columns: nomination, reviewer, verdict"
        )
        return []
    where = {name.strip(): i for i, name in enumerate(header) if name.strip()}
    for name in VERDICT_COLUMNS:
        if name not in where:
            message = (
                f"missing column '{name}'; the header must have nomination, reviewer and verdict"
            )
            problems.add(1, name, None, message)
    if problems.count:
        return []
    dims = [k for k in desk.workflow.dimension_keys if k in where]
    seen: dict[tuple[str, str], int] = {}
    out: list[Given] = []
    number_of_rows = 0
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        number_of_rows += 1
        cells = {name: row[i].strip() if i < len(row) else "" for name, i in where.items()}
        nomination, reviewer, word = cells["nomination"], cells["reviewer"], cells["verdict"]
        if not word and not cells.get(VERDICT_NOTE) and not any(cells[k] for k in dims):
            continue  # a reviewer sheet's row not filled in yet: no verdict to take
        bad = False
        approve = _VERDICT_WORDS.get(word.lower())
        if approve is None:
            message = "verdict must be approve or reject (อนุมัติ or ไม่อนุมัติ)"
            problems.add(number, "verdict", word, message)
            bad = True
        scores: dict[str, Decimal] = {}
        for k in dims:
            if not cells[k]:
                continue
            value = check_score(cells[k])
            if isinstance(value, str):
                message = f"adjusted {value}; leave the cell empty to keep the survey score"
                problems.add(number, k, cells[k], message)
                bad = True
            else:
                scores[k] = value
        key = (nomination, reviewer)
        if key in seen:
            message = f"a second verdict of {reviewer} on {nomination} (first in row {seen[key]}); keep one"
            problems.add(number, "reviewer", reviewer, message)
            continue
        seen[key] = number
        if bad:
            continue
        g = Given(nomination, reviewer, bool(approve), scores, cells.get(VERDICT_NOTE, ""))
        problem = desk.check(g)
        changed = _changed(desk, g, cells) if g.nomination in desk.rows else None
        # A sheet of an earlier round says so, rather than that its seats are gone.
        if changed is not None and (problem is None or changed[0] == "round"):
            problem = changed
        if problem is not None:
            column, error = problem
            problems.add(number, column, cells.get(column, ""), str(error))
            continue
        out.append(g)
    if number_of_rows == 0 and not problems.count:
        problems.fail("no verdicts in the file")
    return out


def _changed(desk: _Desk, g: Given, cells: Mapping[str, str]) -> tuple[str, AwardsError] | None:
    """A reviewer sheet's fixed column (round, names, scores) that no longer says what the
    nomination says: the sheet was edited where it is locked, or is from an earlier round."""
    for column, value in fixed_cells(desk.workflow, desk.rows[g.nomination]).items():
        if column in cells and cells[column] != value.strip():
            return column, AwardsError(
                f"{g.nomination}'s {column} is '{value}'; this column is written by `awards review sheet` and may not be changed: take a new sheet"
            )
    return None
