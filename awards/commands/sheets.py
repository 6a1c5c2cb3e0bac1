"""Reviewer sheets: the library call behind `awards review sheet`.

A reviewer's sheet is an XLSX workbook listing the nominations they hold a seat on in the
current review round, pre-filled: the fixed columns (nomination, reviewer, round, names,
the score and the survey's dimension scores) are locked, and the columns the reviewer fills
in (verdict from a drop-down, note, an adjusted score per dimension) are unlocked and hold
their current verdict, if any. `awards review --from` reads it back: unchanged it records
nothing, filled in it records the verdicts, and a fixed column that no longer says what the
nomination says is refused with its row (`fixed_cells` is what both sides compare).
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, select
from sqlmodel import col

from awards.errors import AwardsError, NotFound
from awards.log.projection import ASSIGNED
from awards.rules.plain import Plain
from awards.rules.states import State, nomination_code
from awards.rules.workflow import VERDICT_NOTE, Reviewer, Workflow
from awards.store import committee as panel
from awards.store import database as db
from awards.store.loading import load_cycle
from awards.store.models import Assignment, Nomination, Verdict
from awards.store.schema import open_engine

# The drop-down's words, as `review --from` reads them.
VERDICT_WORDS = ("approve", "reject")
_FIXED = ("nomination", "reviewer", "round", "name_th", "name_en", "score")
_ROW = ("id", "award", "nominee_id", "round", "name_th", "name_en", "score", "scores")


def survey_column(key: str) -> str:
    """The header of a dimension's survey score: not the dimension key, which `review
    --from` reads as the reviewer's adjusted score."""
    return f"{key} (survey)"


def fixed_cells(workflow: Workflow, row: Any) -> dict[str, str]:
    """What a sheet's fixed columns say of a nomination row (besides its id and reviewer),
    as text: its review round, names, score and survey dimension scores."""
    scores = orjson.loads(row.scores)
    return {
        "round": str(row.round),
        "name_th": row.name_th,
        "name_en": row.name_en,
        "score": row.score,
        **{survey_column(k): v for k, v in zip(workflow.dimension_keys, scores, strict=True)},
    }


@dataclass(frozen=True)
class Sheet(Plain):
    reviewer: str
    path: str
    nominations: int


@dataclass(frozen=True)
class Written(Plain):
    sheets: list[Sheet]


def write_sheets(
    out: str | Path,
    *,
    reviewer: str | None = None,
    every: bool = False,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
) -> Written:
    """Write `reviewer`'s sheet to the file `out`, or (`every`) one sheet per reviewer with
    a seat in the current round into the folder `out`, as <reviewer>.xlsx.

    Nothing is overwritten: if any file to be written exists, nothing is written.
    """
    if (reviewer is None) == (not every):
        raise AwardsError("give --reviewer ID for one reviewer's sheet, or --all for everyone's")
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
        reviewers = {r.id: r for r in panel.load_reviewers(conn, workflow.cycle_id)}
        seats: dict[str, list[Any]] = defaultdict(list)
        for row in conn.execute(
            select(*(col(getattr(Nomination, c)) for c in _ROW), col(Assignment.reviewer))
            .join(Assignment, col(Assignment.nomination_id) == col(Nomination.id))  # type: ignore[arg-type]
            .where(
                col(Nomination.cycle) == workflow.cycle_id,
                col(Nomination.state) == State.SHORTLISTED,
                col(Assignment.state) == ASSIGNED,
            )
            .order_by(col(Nomination.award), col(Nomination.nominee_id))
        ):
            seats[row.reviewer].append(row)
        given = {
            (v.nomination_id, v.reviewer): v
            for v in conn.execute(
                select(Verdict)
                .join(Nomination, col(Nomination.id) == col(Verdict.nomination_id))  # type: ignore[arg-type]
                .where(col(Nomination.cycle) == workflow.cycle_id)
            )
        }
    if reviewer is not None:
        if reviewer not in reviewers:
            known = ", ".join(reviewers) or "none yet"
            raise NotFound(f"no reviewer '{reviewer}' in cycle {workflow.cycle_id}; reviewers: {known}")  # fmt: skip
        if not seats.get(reviewer):
            raise NotFound(
                f"reviewer '{reviewer}' has no nomination to review in the current round; `awards assign AWARD` seats reviewers"
            )
        targets = {reviewer: Path(out)}
    else:
        if not seats:
            raise NotFound(f"no reviewer of cycle {workflow.cycle_id} has a nomination to review; `awards assign AWARD` seats reviewers")  # fmt: skip
        if Path(out).exists() and not Path(out).is_dir():
            raise AwardsError(f"{out} is a file; --all writes one sheet per reviewer into a folder")
        targets = {rid: Path(out) / f"{rid}.xlsx" for rid in sorted(seats)}
    for path in targets.values():
        if path.suffix.lower() != ".xlsx":
            raise AwardsError(f"{path}: a reviewer sheet is an .xlsx workbook; name the file <name>.xlsx")  # fmt: skip
        if path.exists():
            raise AwardsError(f"{path} already exists; a sheet is never overwritten: remove it or name another file")  # fmt: skip
    written = []
    for rid, path in targets.items():
        book = _workbook(workflow, reviewers[rid], seats[rid], given)
        _save_new(book, path)
        written.append(Sheet(rid, str(path), len(seats[rid])))
    return Written(written)


def _workbook(
    workflow: Workflow, reviewer: Reviewer, rows: Sequence[Any], given: Mapping[Any, Any]
) -> Any:
    from openpyxl import Workbook  # slow to import; only sheets need it
    from openpyxl.styles import Font, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    dims = workflow.dimension_keys
    fixed = (*_FIXED, *(survey_column(k) for k in dims))
    editable = ("verdict", VERDICT_NOTE, *dims)
    book = Workbook()
    sheet = book.active
    sheet.title = "verdicts"
    sheet.append([*fixed, *editable])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        v = given.get((row.id, reviewer.id))
        adjusted = orjson.loads(v.scores) if v is not None else {}
        word = "" if v is None else VERDICT_WORDS[0] if v.approve else VERDICT_WORDS[1]
        cells = fixed_cells(workflow, row)
        sheet.append([
            nomination_code(row.award, row.nominee_id), reviewer.id,
            *(cells[name] for name in fixed[2:]),
            word, "" if v is None else v.note, *(adjusted.get(k, "") for k in dims),
        ])  # fmt: skip
    last = len(rows) + 1
    first_editable = len(fixed) + 1
    for r in range(2, last + 1):
        for c in range(first_editable, first_editable + len(editable)):
            sheet.cell(r, c).protection = Protection(locked=False)
    verdicts = DataValidation(
        type="list", formula1='"' + ",".join(VERDICT_WORDS) + '"', allow_blank=True,
        showErrorMessage=True, errorTitle="verdict", error="approve or reject",
    )  # fmt: skip
    adjust = DataValidation(
        type="decimal", operator="between", formula1="0", formula2="100", allow_blank=True,
        showErrorMessage=True, errorTitle="adjusted score", error="a score from 0 to 100",
    )  # fmt: skip
    letter = sheet.cell(1, first_editable).column_letter
    verdicts.add(f"{letter}2:{letter}{last}")
    if dims:
        start = sheet.cell(1, first_editable + 2).column_letter
        end = sheet.cell(1, first_editable + 1 + len(dims)).column_letter
        adjust.add(f"{start}2:{end}{last}")
    sheet.add_data_validation(verdicts)
    sheet.add_data_validation(adjust)
    for c, name in enumerate((*fixed, *editable), start=1):
        width = max(
            len(name), *(len(str(sheet.cell(r, c).value or "")) for r in range(2, last + 1))
        )
        sheet.column_dimensions[sheet.cell(1, c).column_letter].width = min(60, width + 2)
    sheet.freeze_panes = "B2"
    # Locked cells stay locked; columns and rows may still be resized to read long names.
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
    return book


def _save_new(book: Any, path: Path) -> None:
    """Save the workbook whole under `path`, which must not exist: built in memory, then
    written to a file opened for exclusive creation (refused if the name was taken
    meanwhile), and removed again if writing fails."""
    data = io.BytesIO()
    book.save(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        file = path.open("xb")
    except FileExistsError:
        raise AwardsError(f"{path} already exists; a sheet is never overwritten: remove it or name another file") from None  # fmt: skip
    try:
        with file:
            file.write(data.getvalue())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
