"""Reading tabular input files (CSV or XLSX) with every problem collected and located.

A file is read all-or-nothing: the caller's checker sees the rows and records problems with
their row, column and value; if there is any, `read_table` raises InputErrors and the caller
writes nothing. Rows are numbered as a spreadsheet shows them: the header is row 1.

Reading is bounded, whatever the file declares: at most MAX_ROWS rows, MAX_COLUMNS columns,
MAX_CELL_CHARS characters in a cell, and MAX_SECONDS of reading. A workbook
is read by its actual rows (its declared dimension is ignored: it may lie), and before
anything is parsed, every part of it must inflate to at most MAX_PART_BYTES and by at most
MAX_RATIO times: no spreadsheet compresses further, a zip bomb does. Each refusal is one
located problem.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from awards.errors import InputErrors, NotFound, Problem

MAX_PROBLEMS = 200  # listed ones; the rest are only counted
# A survey has one row per agency: a million is the largest the engine is built for, and
# a spreadsheet holds at most 1,048,576 rows anyway.
MAX_ROWS = 1_048_576
MAX_COLUMNS = 1_024  # a survey has 7 columns, one per dimension and one per flag
MAX_CELL_CHARS = 1_048_576  # a name or a note, never a document; csv's own default is 131,072
MAX_SECONDS = 900.0  # a million-row workbook reads in a few minutes on a slow machine
# A million-row survey sheet is about 0.8 GB of XML, compressed about 10 times.
MAX_PART_BYTES = 2 << 30
MAX_RATIO = 200
_RATIO_FROM = 4 << 20  # parts smaller than this cost little whatever their ratio
_NOT_TEXT = "the file is neither UTF-8 nor cp874 (Thai Windows) text; save it as UTF-8"
_T = TypeVar("_T")

# csv refuses a field past its limit with csv.Error; the limit is process-wide, so it is
# raised once, here, to the declared maximum (never lowered below what someone else set).
csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL_CHARS))


class Problems:
    """Collects problems; keeps the first MAX_PROBLEMS and counts the rest."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[Problem] = []
        self.count = 0

    def add(self, line: int | None, column: str | None, value: str | None, message: str) -> None:
        self.count += 1
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(self.file, line, column, value, message))

    def fail(self, message: str) -> None:
        """A problem of the whole file."""
        self.add(None, None, None, message)

    def listed(self) -> list[Problem]:
        more = self.count - len(self.items)
        last = Problem(self.file, None, None, None, f"{more} more problems not listed")
        return [*self.items, last] if more else self.items


class _Refused(Exception):
    """Reading stops here: the file passes a limit or cannot be parsed further. Carries the
    located problem (row None: the file as a whole)."""

    def __init__(self, row: int | None, message: str, column: str | None = None):
        super().__init__(message)
        self.row, self.column, self.message = row, column, message


def read_table(
    path: str | Path,
    check: Callable[[Iterator[list[str]], Problems], _T],
    *,
    seconds: float = MAX_SECONDS,
) -> tuple[_T, bytes]:
    """Run `check` over the rows of a .csv or .xlsx file; return its result and the bytes read.

    CSV may be UTF-8 (with or without a byte-order mark) or cp874 (Thai Windows); a workbook
    is read from its first sheet, by the rows it actually holds. Reading stops at the first
    limit passed (see the module) or after `seconds`, with a located problem. Raises NotFound
    when the file does not exist and InputErrors when `check` (or reading) found any problem.
    """
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no such file: {name}") from None
    clock = _Clock(seconds)
    problems = Problems(name)
    result: Any = None
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".csv":
            for encoding in ("utf-8-sig", "cp874"):
                try:
                    result = check(_bounded(_csv_rows(data, encoding), clock), problems)
                    break
                except UnicodeDecodeError:
                    # Decoding is lazy, so a file is found not to be UTF-8 only while reading
                    # it; start again from the top, forgetting what that attempt found.
                    problems = Problems(name)
            else:
                problems.fail(_NOT_TEXT)
        elif suffix == ".xlsx":
            result = _read_workbook(data, check, problems, clock)
        else:
            problems.fail(f"unsupported file type '{suffix}'; use a .csv or .xlsx file")
    except _Refused as stop:
        problems.add(stop.row, stop.column, None, stop.message)
    if problems.count:
        raise InputErrors(problems.listed())
    return result, data


class _Clock:
    """The time a file may take to read."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def check(self, row: int | None) -> None:
        if time.monotonic() > self.deadline:
            message = (
                f"reading stopped after {self.seconds:g} s, the most a table may take; "
                "save it again from the spreadsheet program, or split it"
            )
            raise _Refused(row, message)


def _bounded(rows: Iterator[list[str]], clock: _Clock) -> Iterator[list[str]]:
    """The rows, stopped with _Refused at the first limit passed."""
    number = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field limit" in str(exc):
                message = (
                    f"a cell holds more than {MAX_CELL_CHARS:,} characters, the most a cell "
                    "may hold (is a quote left open?)"
                )
                raise _Refused(number + 1, message) from None
            raise _Refused(number + 1, f"the CSV cannot be parsed here: {exc}") from None
        number += 1
        if len(row) > MAX_COLUMNS:
            message = (
                f"the row reaches column {_letters(len(row))} ({len(row):,}); a table may have "
                f"at most {MAX_COLUMNS:,} columns: delete what lies beyond the table"
            )
            raise _Refused(number, message)
        if number > MAX_ROWS:
            raise _Refused(number, f"more than {MAX_ROWS:,} rows, the most a table may have")
        if not number & 0x3FF:  # every 1,024 rows
            clock.check(number)
        yield row


def _letters(column: int) -> str:
    """A column's letters as a spreadsheet shows them: 1 -> A, 27 -> AA, 16384 -> XFD."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _csv_rows(data: bytes, encoding: str) -> Iterator[list[str]]:
    # Decoding through a stream keeps memory near the file size: a whole decoded string of
    # Thai text is twice the bytes, and csv reading from it would copy it again.
    return csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline=""))


# --- Workbooks -------------------------------------------------------------------------


def _read_workbook(
    data: bytes,
    check: Callable[[Iterator[list[str]], Problems], _T],
    problems: Problems,
    clock: _Clock,
) -> _T | None:
    _inflation(data)
    from openpyxl import load_workbook  # slow to import; only workbooks need it

    try:
        book = load_workbook(_Timed(data, clock), read_only=True, data_only=True)
    except _Refused:
        raise
    except Exception as exc:  # zip, XML and key errors alike mean a broken workbook
        problems.fail(f"not a readable .xlsx workbook ({exc})")
        return None
    try:
        sheet = book.worksheets[0]
        # The sheet's <dimension ref> is what the program that wrote it declared; openpyxl
        # would stop at its last row and pad every row to its last column. Forgetting it
        # reads the rows the sheet holds, each as long as its own cells.
        sheet.reset_dimensions()
        return check(_bounded(_xlsx_rows(sheet), clock), problems)
    finally:
        book.close()


def _inflation(data: bytes) -> None:
    """Refuse a workbook with a part that inflates past what any survey needs, or by more
    than any spreadsheet compresses, before a byte of it is parsed. The sizes are those the
    zip declares; Python's zipfile never inflates a part past its declared size."""
    try:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # openpyxl says what is wrong with it
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > MAX_PART_BYTES:
            message = (
                f"part {part.filename} inflates to {part.file_size:,} bytes, past the "
                f"{MAX_PART_BYTES:,} a workbook part may hold; this is not a survey workbook"
            )
        elif part.file_size > _RATIO_FROM and ratio > MAX_RATIO:
            message = (
                f"part {part.filename} inflates {ratio:,.0f} times ({part.compress_size:,} to "
                f"{part.file_size:,} bytes); no spreadsheet compresses more than {MAX_RATIO} "
                "times, a zip bomb does: save the workbook again from the spreadsheet program"
            )
        else:
            continue
        raise _Refused(None, message)


class _Timed(io.BytesIO):
    """The workbook's bytes, refusing to be read past the deadline. The zip is inflated
    from here a few kilobytes at a time, so even one enormous XML token (which the parser
    scans again with each new piece) is stopped on time."""

    def __init__(self, data: bytes, clock: _Clock) -> None:
        super().__init__(data)
        self.clock = clock

    def read(self, size: int | None = -1) -> bytes:
        self.clock.check(None)
        return super().read(size)


def _xlsx_rows(sheet: Any) -> Iterator[list[str]]:
    width = None
    number = 0
    rows = sheet.iter_rows(values_only=True)
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except _Refused:
            raise
        except Exception as exc:  # malformed XML, a shared string that is not there, ...
            message = f"the sheet cannot be read past row {number}: {exc}"
            raise _Refused(number + 1 if number else None, message) from None
        number += 1
        row = [_cell_text(v) for v in values]
        if row and max(map(len, row)) > MAX_CELL_CHARS:
            message = (
                f"a cell holds more than {MAX_CELL_CHARS:,} characters, the most a cell may hold"
            )
            raise _Refused(number, message)
        # Cells past the header are only ragged when they hold something.
        while row and not row[-1] and (width is None or len(row) > width):
            row.pop()
        if width is None:
            width = len(row)
        elif len(row) < width:
            row += [""] * (width - len(row))
        yield row


def _cell_text(value: object) -> str:
    """A workbook cell as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same float: 57.21, not 57.2099...
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)
