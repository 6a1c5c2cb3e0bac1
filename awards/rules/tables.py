"""Reading tabular input files (CSV or XLSX) with every problem collected and located.

A file is read all-or-nothing: the caller's checker sees the rows and records problems with
their row, column and value; if there is any, `read_table` raises InputErrors and the caller
writes nothing. Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from awards.errors import InputErrors, NotFound, Problem

MAX_PROBLEMS = 200  # listed ones; the rest are only counted
_NOT_TEXT = "the file is neither UTF-8 nor cp874 (Thai Windows) text; save it as UTF-8"
_T = TypeVar("_T")


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


def read_table(
    path: str | Path, check: Callable[[Iterator[list[str]], Problems], _T]
) -> tuple[_T, bytes]:
    """Run `check` over the rows of a .csv or .xlsx file; return its result and the bytes read.

    CSV may be UTF-8 (with or without a byte-order mark) or cp874 (Thai Windows); a workbook
    is read from its first sheet. Raises NotFound when the file does not exist and InputErrors
    when `check` (or reading) found any problem.
    """
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no such file: {name}") from None
    problems = Problems(name)
    result: Any = None
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        for encoding in ("utf-8-sig", "cp874"):
            try:
                result = check(_csv_rows(data, encoding), problems)
                break
            except UnicodeDecodeError:
                # Decoding is lazy, so a file is found not to be UTF-8 only while reading
                # it; start again from the top, forgetting what that attempt found.
                problems = Problems(name)
        else:
            problems.fail(_NOT_TEXT)
    elif suffix == ".xlsx":
        from openpyxl import load_workbook  # slow to import; only workbooks need it

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # zip, XML and key errors alike mean a broken workbook
            problems.fail(f"not a readable .xlsx workbook ({exc})")
        else:
            try:
                result = check(_xlsx_rows(book.worksheets[0]), problems)
            finally:
                book.close()
    else:
        problems.fail(f"unsupported file type '{suffix}'; use a .csv or .xlsx file")
    if problems.count:
        raise InputErrors(problems.listed())
    return result, data


def _csv_rows(data: bytes, encoding: str) -> Iterator[list[str]]:
    # Decoding through a stream keeps memory near the file size: a whole decoded string of
    # Thai text is twice the bytes, and csv reading from it would copy it again.
    return csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline=""))


def _xlsx_rows(sheet: Any) -> Iterator[list[str]]:
    width = None
    for values in sheet.iter_rows(values_only=True):
        row = [_cell_text(v) for v in values]
        # A sheet's rows all span its used range; cells past the header are only ragged
        # when they hold something.
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
