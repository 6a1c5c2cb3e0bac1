"""Tables that cannot lose rows or hang the reader: a workbook is read by the rows it holds,
and every limit (rows, columns, cell size, part size, compression, time) is one located
problem, on the command line one line with exit code 1."""

from __future__ import annotations

import hashlib
import random
import zipfile
from pathlib import Path

import hostile
import pytest
from click.testing import CliRunner

from awards.cli import main
from awards.errors import InputErrors
from awards.rules.survey import read_survey
from awards.rules.tables import MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS, read_table
from awards.rules.workflow_file import load_workflow

from support import HEADER, WORKFLOW, agency_line


def run(*args: str, db: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "240"}).invoke(
        main, ["--db", db, "--actor", "tester", *args], catch_exceptions=False
    )
    return result.exit_code, result.output


@pytest.fixture
def opened(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    assert run("init", str(WORKFLOW), db=url)[0] == 0
    return url


def survey_rows(n: int) -> list[list[str]]:
    return [HEADER.split(","), *(agency_line(f"D{i}", f"กรมทดสอบ{i}").split(",") for i in range(n))]


def problems_of(path: Path, **limits: float) -> list[str]:
    with pytest.raises(InputErrors) as raised:
        read_table(path, lambda rows, problems: sum(1 for _ in rows), **limits)
    return [str(p) for p in raised.value.problems]


def test_xlsx_rows_past_a_lying_dimension_are_all_imported(opened: str, tmp_path: Path):
    # The sheet declares A1:N2 (the header and one agency) but holds three agencies.
    path = hostile.workbook(
        tmp_path / "s.xlsx", hostile.sheet_xml(survey_rows(3), dimension="A1:N2")
    )
    sha = hashlib.sha256(path.read_bytes()).hexdigest()

    code, out = run("import", str(path), db=opened)

    assert [a.agency_id for a in read_survey(path, load_workflow(WORKFLOW)).agencies] == [
        "D0", "D1", "D2",
    ]  # fmt: skip
    assert (code, out) == (
        0,
        f"{path}: 3 agencies imported into dga-2019 (sha256 {sha[:12]}); "
        "nominations: top-department 3, top-province 0, copy-free 0\n",
    )


def test_xlsx_far_cell_is_refused_at_its_row(opened: str, tmp_path: Path):
    far = [(1_048_576, 16_384, "x")]
    sheet = hostile.sheet_xml(survey_rows(2), dimension="A1:XFD1048576", far_cells=far)
    path = hostile.workbook(tmp_path / "far.xlsx", sheet)
    assert path.stat().st_size < 5_000

    assert run("import", str(path), db=opened) == (
        1,
        f"Error: {path}:1048576: the row reaches column XFD (16,384); a table may have at most "
        "1,024 columns: delete what lies beyond the table\n",
    )


def test_xlsx_part_inflating_like_a_zip_bomb_is_refused_before_parsing(opened: str, tmp_path: Path):
    sheet = hostile.sheet_xml(survey_rows(2), comment_bytes=50_000_000)
    path = hostile.workbook(tmp_path / "comment.xlsx", sheet)
    part = zipfile.ZipFile(path).getinfo(hostile.SHEET)
    assert path.stat().st_size < 60_000

    code, out = run("import", str(path), db=opened)

    assert (code, out) == (
        1,
        f"Error: {path}: part xl/worksheets/sheet1.xml inflates 1,016 times "
        f"({part.compress_size:,} to {part.file_size:,} bytes); no spreadsheet compresses more "
        "than 200 times, a zip bomb does: save the workbook again from the spreadsheet program\n",
    )


def test_xlsx_part_declaring_gigabytes_is_refused(opened: str, tmp_path: Path):
    path = hostile.declaring(tmp_path / "bomb.xlsx", "xl/sharedStrings.xml", 3_000_000_000)

    assert run("import", str(path), db=opened) == (
        1,
        f"Error: {path}: part xl/sharedStrings.xml inflates to 3,000,000,000 bytes, past the "
        "2,147,483,648 a workbook part may hold; this is not a survey workbook\n",
    )


def test_xlsx_reading_past_its_time_is_stopped(tmp_path: Path):
    # An 8 MB comment of random letters: it compresses like text, and the XML parser scans
    # a token again with each new piece of it, so it takes far longer than 0.05 s.
    letters = bytes.maketrans(
        bytes(range(256)), bytes(range(97, 123)) * 9 + b"abcdefghijklmnopqrstuv"
    )
    comment = random.Random(0).randbytes(8_000_000).translate(letters)
    sheet = [b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main"><!--', comment, b"--><sheetData/></worksheet>"]  # fmt: skip
    path = hostile.workbook(tmp_path / "slow.xlsx", sheet)

    assert problems_of(path, seconds=0.05) == [
        f"{path}: reading stopped after 0.05 s, the most a table may take; save it again "
        "from the spreadsheet program, or split it"
    ]


def test_csv_reading_past_its_time_is_stopped_at_a_row(tmp_path: Path):
    path = tmp_path / "slow.csv"
    path.write_text("a\n" * 3_000, encoding="utf-8")

    assert problems_of(path, seconds=0) == [
        f"{path}:1024: reading stopped after 0 s, the most a table may take; save it again "
        "from the spreadsheet program, or split it"
    ]


def test_rows_past_the_limit_are_refused(tmp_path: Path):
    path = tmp_path / "long.csv"
    path.write_bytes(b"a\n" * (MAX_ROWS + 1))

    assert problems_of(path) == [
        f"{path}:1048577: more than 1,048,576 rows, the most a table may have"
    ]


def test_columns_past_the_limit_are_refused(tmp_path: Path):
    path = tmp_path / "wide.csv"
    path.write_text("a\n" + "," * MAX_COLUMNS + "\n", encoding="utf-8")

    assert problems_of(path) == [
        f"{path}:2: the row reaches column AMK (1,025); a table may have at most 1,024 "
        "columns: delete what lies beyond the table"
    ]


def test_csv_field_longer_than_csv_default_is_read(tmp_path: Path):
    path = tmp_path / "long.csv"
    path.write_text("a,b\n" + "x" * 140_000 + ",y\n", encoding="utf-8")

    result, _ = read_table(path, lambda rows, problems: [len(r[0]) for r in rows])

    assert result == [1, 140_000]


def test_csv_field_past_the_declared_maximum_is_one_line(opened: str, tmp_path: Path):
    path = tmp_path / "huge.csv"
    name = "ก" * (MAX_CELL_CHARS + 1)
    path.write_text(HEADER + "\n" + agency_line("D1", name) + "\n", encoding="utf-8")

    assert run("import", str(path), db=opened) == (
        1,
        f"Error: {path}:2: a cell holds more than 1,048,576 characters, the most a cell may "
        "hold (is a quote left open?)\n",
    )


def test_csv_header_field_past_the_declared_maximum_is_one_line(tmp_path: Path):
    path = tmp_path / "huge.csv"
    path.write_text("x" * (MAX_CELL_CHARS + 1) + ",a\n", encoding="utf-8")

    assert problems_of(path) == [
        f"{path}:1: a cell holds more than 1,048,576 characters, the most a cell may hold "
        "(is a quote left open?)"
    ]


def test_xlsx_cell_past_the_declared_maximum_is_refused(tmp_path: Path):
    rows = [["agency_id", "name_th"], ["D1", "ก" * (MAX_CELL_CHARS + 1)]]
    path = hostile.workbook(tmp_path / "huge.xlsx", hostile.sheet_xml(rows))

    assert problems_of(path) == [
        f"{path}:2: a cell holds more than 1,048,576 characters, the most a cell may hold"
    ]


def test_xlsx_malformed_sheet_xml_is_one_line(opened: str, tmp_path: Path):
    whole = b"".join(hostile.sheet_xml(survey_rows(3), dimension="A1:N4"))
    cell = whole.index(b'<c r="A3"')
    cut = whole[: cell + 5]  # the sheet ends inside the first cell of row 3
    path = hostile.workbook(tmp_path / "cut.xlsx", [cut])

    assert run("import", str(path), db=opened) == (
        1,
        f"Error: {path}:3: the sheet cannot be read past row 2: unclosed token: line 1, "
        f"column {len(whole[:cell].decode())}\n",  # expat counts characters, not bytes
    )
