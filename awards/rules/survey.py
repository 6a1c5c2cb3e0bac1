"""Survey import: read a survey file (CSV or XLSX) into validated agency records.

Reading is all-or-nothing: every problem in the file is collected with its row, column and
value, and `read_survey` raises InputErrors if there is any, so nothing half-read is ever
written.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first agency row 2.
A survey can have a million rows, so each row is checked on a fast path that only looks
values up; the messages are worked out again on a slower path, and only for rows that fail.
"""

from __future__ import annotations

import hashlib
import operator
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from awards.rules import collector
from awards.rules.names import THAI_LETTER, nfc, suspect
from awards.rules.names import problem as text_problem
from awards.rules.names import provinces as known_provinces
from awards.rules.survey_cells import (
    BOOL_WORDS,
    FLAG,
    REQUIRED,
    RESPONDED,
    SCORE_ALL_OR_NONE,
    SCORE_NEEDED,
    Lookup,
    Refused,
    Scores,
    field_problem,
    field_value,
    level_spellings,
)
from awards.rules.tables import Problems, read_table
from awards.rules.workflow import LEVELS, Field, Workflow

DEPARTMENT, PROVINCIAL = LEVELS
OPTIONAL_COLUMNS: tuple[str, ...] = ("name_en", "ministry", "province")


class Agency(NamedTuple):
    """One surveyed agency. `scores` follow the workflow's dimension order; None when the
    file gives none (an agency that did not respond may still give all of them).

    A named tuple rather than a frozen dataclass: a large survey builds a million of them,
    and a frozen dataclass sets each field through object.__setattr__.
    """

    agency_id: str
    name_th: str
    name_en: str
    level: str
    ministry: str
    province: str
    responded: bool
    scores: tuple[Decimal, ...] | None
    flags: Mapping[str, bool]
    fields: Mapping[str, str] = MappingProxyType({})  # declared fields ([[survey.fields]])


@dataclass(frozen=True)
class Survey:
    agencies: tuple[Agency, ...]
    sha256: str  # of the file bytes
    path: str


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_survey(path: str | Path, workflow: Workflow) -> Survey:
    """Read and validate a survey file against a workflow; raise InputErrors on any problem.

    `.csv` files may be UTF-8 (with or without a byte-order mark) or cp874 (Thai Windows);
    `.xlsx` files are read from their first sheet. Header cells are matched, stripped, to
    `workflow.columns`; every column is required except name_en, ministry and province, and
    other columns are ignored. Empty rows are skipped. An agency that did not respond may
    leave every score empty (scores None) or give all of them. Every problem is located by
    file, row (header = row 1), column as named in the header, and raw value; the first
    MAX_PROBLEMS are listed and a last one counts the rest. When the header itself is wrong
    the rows are not checked. Raises NotFound when the file does not exist.
    """

    def check(rows: Iterator[list[str]], problems: Problems) -> list[Agency]:
        with collector.paused():
            return _check_rows(rows, workflow, problems)

    agencies, data = read_table(path, check)
    return Survey(tuple(agencies or ()), hashlib.sha256(data).hexdigest(), str(path))


@dataclass(frozen=True)
class _Layout:
    """Where each column the workflow reads sits in the header (None: optional and absent)."""

    header: list[str]
    agency_id: int
    name_th: int
    level: int
    responded: int
    name_en: int | None
    ministry: int | None
    province: int | None
    scores: tuple[int, ...]  # in the workflow's dimension order
    flags: tuple[tuple[str, int], ...]
    levels: Lookup[str]  # every spelling of the workflow's levels -> the level's key
    level_words: str  # how messages list the levels
    fields: tuple[tuple[Field, int], ...] = ()  # the declared [[survey.fields]]


def _layout(header: list[str], workflow: Workflow, problems: Problems) -> _Layout | None:
    """The header's layout, or None after adding a problem per missing or repeated column."""
    position: dict[str, int] = {}
    for i, cell in enumerate(header):
        position.setdefault(cell, i)
    dimensions = [d.key for d in workflow.dimensions]
    fields = [f.key for f in workflow.fields]
    required = ["agency_id", "name_th", "level", "responded", *dimensions, *workflow.flags, *fields]
    at: dict[str, int] = {}
    for canonical in [*required, *OPTIONAL_COLUMNS]:
        in_file = workflow.columns.get(canonical, canonical)
        if in_file in position:
            at[canonical] = position[in_file]
            # Only a column we read is ambiguous when repeated; repeats among ignored ones
            # (e.g. empty cells from trailing commas) do no harm.
            if header.count(in_file) > 1:
                problems.add(1, in_file, None, "this column appears more than once in the header")
        elif canonical not in OPTIONAL_COLUMNS:
            has = ", ".join(cell for cell in header if cell)
            problems.add(1, None, None, f"missing column '{in_file}'; the header has: {has}")
    if problems.count:
        return None
    return _Layout(
        header=header,
        agency_id=at["agency_id"],
        name_th=at["name_th"],
        level=at["level"],
        responded=at["responded"],
        name_en=at.get("name_en"),
        ministry=at.get("ministry"),
        province=at.get("province"),
        scores=tuple(at[key] for key in dimensions),
        flags=tuple((flag, at[flag]) for flag in workflow.flags),
        fields=tuple((f, at[f.key]) for f in workflow.fields),
        levels=(levels := level_spellings(workflow))[0],
        level_words=levels[1],
    )


def _check_rows(rows: Iterable[list[str]], workflow: Workflow, problems: Problems) -> list[Agency]:
    """Agencies from the rows; problems are added to `problems` (then the list is partial)."""
    rows = iter(rows)
    header = [cell.strip() for cell in next(rows, [])]
    if not header:
        problems.fail("the survey has no rows")
        return []
    at = _layout(header, workflow, problems)
    if at is None:
        return []

    # Everything the loop touches is a local: indexes, and bound lookups that raise
    # Refused on a value they do not take.
    width = len(header)
    i_id, i_name_th, i_level, i_responded = at.agency_id, at.name_th, at.level, at.responded
    i_name_en, i_ministry, i_province = at.name_en, at.ministry, at.province
    scores_of = _picker(at.scores)
    flag_at = at.flags
    flag_names = [flag for flag, _ in flag_at]
    flag_sets: dict[tuple[bool, ...], Mapping[str, bool]] = {}
    responded_of, flag_of, level_of = (
        RESPONDED.__getitem__,
        FLAG.__getitem__,
        at.levels.__getitem__,
    )
    field_at = at.fields
    no_fields: Mapping[str, str] = MappingProxyType({})
    known = Scores()
    score_of = known.__getitem__
    shared: dict[str, str] = {}  # ministries and provinces repeat: keep one string of each
    is_nfc, thai_in, provinces = unicodedata.is_normalized, THAI_LETTER.search, known_provinces()
    seen: dict[str, int] = {}  # agency_id -> first row
    agencies: list[Agency] = []
    for rownum, row in enumerate(rows, 2):
        if len(row) != width:
            if any(map(str.strip, row)):  # a row of empty cells is skipped, however long
                problems.add(
                    rownum, None, None, f"row has {len(row)} cells; the header has {width}"
                )
            continue
        agency_id = row[i_id].strip()
        name_th = row[i_name_th].strip()
        name_en = row[i_name_en].strip() if i_name_en is not None else ""
        ministry = row[i_ministry].strip() if i_ministry is not None else ""
        province = row[i_province].strip() if i_province is not None else ""
        texts = agency_id + name_th + name_en + ministry + province
        if not is_nfc("NFC", texts):
            agency_id, name_th, name_en, ministry, province = map(
                nfc, (agency_id, name_th, name_en, ministry, province)
            )
        first = seen.setdefault(agency_id, rownum)
        try:
            level = level_of(row[i_level])
            responded = responded_of(row[i_responded])
            raw_scores = scores_of(row)
            scores = None
            if responded or "".join(raw_scores).strip():
                scores = tuple(map(score_of, raw_scores))
            key = tuple([flag_of(row[i]) for _, i in flag_at])
            flags = flag_sets.get(key)
            if flags is None:  # one shared mapping per combination of flags, not per row
                flags = flag_sets[key] = MappingProxyType(dict(zip(flag_names, key, strict=True)))
            fields = no_fields
            if field_at:
                fields = MappingProxyType({f.key: field_value(f, row[i]) for f, i in field_at})
            if not (
                agency_id and name_th and first == rownum and (province or level != PROVINCIAL)
            ):
                raise Refused
            if (
                suspect(texts) or not thai_in(name_th) or (province and province not in provinces)
            ) and any(_text_problems(row, at)):
                raise Refused
        except Refused:
            if any(map(str.strip, row)):  # a row of empty cells is skipped
                found = _row_problems(row, rownum, first, at, known, problems)
                assert found, f"row {rownum} refused without a problem"
            continue
        if not problems.count:  # once the file is refused, stop keeping its rows
            ministry = shared.setdefault(ministry, ministry)
            province = shared.setdefault(province, province)
            agency = Agency(
                agency_id, name_th, name_en, level, ministry, province, responded, scores, flags,
                fields,
            )  # fmt: skip
            agencies.append(agency)
    if not agencies and not problems.count:  # every row was empty
        problems.fail("the survey has no rows")
    return agencies


def _picker(indexes: tuple[int, ...]) -> Callable[[list[str]], tuple[str, ...]]:
    """A function giving a row's cells at `indexes` as a tuple, in C where it can."""
    if len(indexes) > 1:
        return operator.itemgetter(*indexes)
    return lambda row: tuple(row[i] for i in indexes)  # itemgetter(i) gives a cell, no tuple


def _text_problems(row: list[str], at: _Layout) -> list[tuple[int, str, str]]:
    """(column index, raw value, message) for each name cell that cannot be taken: mojibake,
    invisible or control characters, a Thai name without Thai, an unknown province."""
    found = []
    for i, thai, province in (
        (at.agency_id, False, False),
        (at.name_th, True, False),
        (at.name_en, False, False),
        (at.ministry, False, False),
        (at.province, False, True),
    ):
        if i is not None and (
            message := text_problem(nfc(row[i].strip()), thai=thai, province=province)
        ):
            found.append((i, row[i], message))
    return found


def _row_problems(
    row: list[str], rownum: int, first: int, at: _Layout, known: Scores, problems: Problems
) -> int:
    """Add every problem of a row the fast path refused, in header order; return how many.

    A wholly wrong file sends every row here, so this stays a straight run of checks.
    """
    found: list[tuple[int, str, str]] = []  # (column index, raw value, message)
    raw = row[at.agency_id]
    if not raw.strip():
        found.append((at.agency_id, raw, REQUIRED))
    elif first != rownum:
        found.append((at.agency_id, raw, f"duplicate agency_id; first seen on row {first}"))
    raw = row[at.name_th]
    if not raw.strip():
        found.append((at.name_th, raw, REQUIRED))
    raw = row[at.level]
    level = at.levels.find(raw)
    if level is None:
        found.append((at.level, raw, f"unknown level; use one of: {at.level_words}"))
    province = row[at.province] if at.province is not None else ""
    if level == PROVINCIAL and not province.strip():
        # Without a province column the problem belongs to the level that asks for one.
        where = at.province if at.province is not None else at.level
        found.append((where, province, "a provincial agency needs a province"))
    raw = row[at.responded]
    responded = RESPONDED.find(raw)
    if responded is None:
        hint = REQUIRED if not raw.strip() else "not a yes/no value"
        found.append((at.responded, raw, f"{hint}; use one of: {BOOL_WORDS}"))
    if responded or any(row[i].strip() for i in at.scores):
        for i in at.scores:
            raw = row[i]
            checked = known.check(raw)
            if not isinstance(checked, str) or (checked == REQUIRED and responded is None):
                continue  # a valid score, or one whose need the responded problem settles
            if checked == REQUIRED:
                checked = SCORE_NEEDED if responded else SCORE_ALL_OR_NONE
            found.append((i, raw, checked))
    found += _text_problems(row, at)
    for _, i in at.flags:
        if FLAG.find(row[i]) is None:
            found.append((i, row[i], f"not a yes/no value; use one of: {BOOL_WORDS}"))
    for field, i in at.fields:
        if message := field_problem(field, row[i]):
            found.append((i, row[i], message))
    found.sort(key=operator.itemgetter(0))  # stable: within a column, the order above
    for i, raw, message in found:
        problems.add(rownum, at.header[i], raw, message)
    return len(found)
