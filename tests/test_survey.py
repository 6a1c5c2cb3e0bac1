"""Survey import: formats, encodings, column mapping, and every problem located."""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from awards.errors import InputErrors, NotFound
from awards.rules.survey import Agency, file_sha256, read_survey
from awards.rules.tables import MAX_PROBLEMS
from awards.rules.workflow import DEFAULT_COLUMNS, Dimension, Workflow

DIMENSIONS = (
    ("policy", "0.20"),
    ("capability", "0.20"),
    ("services", "0.30"),
    ("back_office", "0.10"),
    ("infrastructure", "0.15"),
    ("technology", "0.05"),
)
HEADER = [*DEFAULT_COLUMNS, *(key for key, _ in DIMENSIONS), "copy_free"]
BOOLEANS = "yes, no, true, false, 1, 0, y, n, ใช่, ไม่ใช่"
DGA = ["D001", "สำนักงานพัฒนารัฐบาลดิจิทัล", "Digital Government Development Agency"]
DGA_ROW = [*DGA, "department", "สำนักนายกรัฐมนตรี", "", "yes"]
DGA_ROW += ["57.21", "66.08", "68.57", "61.97", "75.36", "37.46", "yes"]
CHIANG_MAI_ROW = ["P050", "สำนักงานจังหวัดเชียงใหม่", "Chiang Mai Provincial Office"]
CHIANG_MAI_ROW += ["provincial", "กระทรวงมหาดไทย", "เชียงใหม่", "ใช่"]
CHIANG_MAI_ROW += ["๔๑.๐๗", "57.2", "53.66", "52.57", "59.65", "22.73", ""]


def make_workflow(renamed: dict[str, str] | None = None) -> Workflow:
    dimensions = tuple(Dimension(key, key, key, Decimal(w)) for key, w in DIMENSIONS)
    columns = {name: name for name in HEADER} | (renamed or {})
    return Workflow(
        cycle_id="dga-2019",
        title_th="รางวัลรัฐบาลดิจิทัล ประจำปี พ.ศ. ๒๕๖๒",
        title_en="Digital Government Awards 2019",
        year=2019,
        year_be=2562,
        precision=2,
        dimensions=dimensions,
        columns=columns,
        flags=("copy_free",),
        awards=(),
        sha256="",
        text="",
        path="",
    )


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def problems_of(path: Path, workflow: Workflow | None = None) -> list[str]:
    with pytest.raises(InputErrors) as raised:
        read_survey(path, workflow or make_workflow())
    return [str(problem) for problem in raised.value.problems]


def test_read_survey_valid_csv_gives_exact_agencies(tmp_path):
    path = write_csv(tmp_path / "survey.csv", [HEADER, DGA_ROW, CHIANG_MAI_ROW])

    survey = read_survey(path, make_workflow())

    assert survey.agencies == (
        Agency(
            *DGA,
            level="department",
            ministry="สำนักนายกรัฐมนตรี",
            province="",
            responded=True,
            scores=tuple(
                Decimal(s) for s in ("57.21", "66.08", "68.57", "61.97", "75.36", "37.46")
            ),
            flags={"copy_free": True},
        ),
        Agency(
            *CHIANG_MAI_ROW[:3],
            level="provincial",
            ministry="กระทรวงมหาดไทย",
            province="เชียงใหม่",
            responded=True,
            scores=tuple(Decimal(s) for s in ("41.07", "57.2", "53.66", "52.57", "59.65", "22.73")),
            flags={"copy_free": False},
        ),
    )
    assert survey.path == str(path)


def test_read_survey_thai_digits_give_exact_decimal(tmp_path):
    row = [*DGA_ROW[:7], "๕๗.๒๑", "๑๐๐", "๐", " 68.57 ", "61.970", "75", "no"]
    path = write_csv(tmp_path / "survey.csv", [HEADER, row])

    scores = read_survey(path, make_workflow()).agencies[0].scores

    assert scores is not None
    assert [str(s) for s in scores] == ["57.21", "100", "0", "68.57", "61.970", "75"]


def test_read_survey_every_boolean_spelling_is_read(tmp_path):
    spellings = ["yes", "no", "true", "false", "1", "0", "y", "n", "ใช่", "ไม่ใช่"]
    spellings += ["YES", " No ", "True", "FALSE", "Y", "n "]
    rows = [
        [f"A{i}", "กรมทดสอบ", "", "department", "", "", word, *["50"] * 6, word]
        for i, word in enumerate(spellings)
    ]
    path = write_csv(tmp_path / "survey.csv", [HEADER, *rows])

    agencies = read_survey(path, make_workflow()).agencies

    # the spellings alternate: yes, no, true, false, ...
    assert [(a.responded, a.flags["copy_free"]) for a in agencies] == [
        (True, True),
        (False, False),
    ] * 8


def test_read_survey_non_responding_agency_without_scores_has_none(tmp_path):
    silent = ["D002", "กรมเงียบ", "", "department", "", "", "no", *[""] * 6, ""]
    scored = ["D003", "กรมมีคะแนน", "", "department", "", "", "no", *["10"] * 6, "no"]
    path = write_csv(tmp_path / "survey.csv", [HEADER, silent, scored])

    agencies = read_survey(path, make_workflow()).agencies

    assert [a.scores for a in agencies] == [None, (Decimal("10"),) * 6]


def test_read_survey_level_aliases_and_quoted_cells(tmp_path):
    department = ["D1", 'กรม "ทดสอบ", ส่วนกลาง ชั้น 2', "", " กรม ", "", "", "yes"]
    province = ["P1", "จังหวัดทดสอบ", "", "Provincial", "", "ลำพูน", "yes"]
    path = write_csv(
        tmp_path / "survey.csv", [HEADER, department + DGA_ROW[7:], province + DGA_ROW[7:]]
    )

    agencies = read_survey(path, make_workflow()).agencies

    assert [(a.name_th, a.level) for a in agencies] == [
        ('กรม "ทดสอบ", ส่วนกลาง ชั้น 2', "department"),
        ("จังหวัดทดสอบ", "provincial"),
    ]


def test_read_survey_utf8_bom_is_read(tmp_path):
    path = write_csv(tmp_path / "survey.csv", [HEADER, DGA_ROW], encoding="utf-8-sig")

    survey = read_survey(path, make_workflow())

    assert [a.agency_id for a in survey.agencies] == ["D001"]


def test_read_survey_cp874_file_gives_thai_names(tmp_path):
    path = write_csv(tmp_path / "survey.csv", [HEADER, DGA_ROW, CHIANG_MAI_ROW], "cp874")

    survey = read_survey(path, make_workflow())

    assert [(a.name_th, a.province) for a in survey.agencies] == [
        ("สำนักงานพัฒนารัฐบาลดิจิทัล", ""),
        ("สำนักงานจังหวัดเชียงใหม่", "เชียงใหม่"),
    ]


def test_read_survey_neither_utf8_nor_cp874_is_one_problem(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_bytes(",".join(HEADER).encode() + b"\r\nD001,\xff\xfe\r\n")

    assert problems_of(path) == [
        f"{path}: the file is neither UTF-8 nor cp874 (Thai Windows) text; save it as UTF-8"
    ]


def test_read_survey_xlsx_gives_same_agencies_as_csv(tmp_path):
    csv_path = write_csv(tmp_path / "survey.csv", [HEADER, DGA_ROW, CHIANG_MAI_ROW])
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append([*DGA_ROW[:6], True, 57.21, 66.08, 68.57, 61.97, 75.36, 37.46, 1])
    sheet.append([*CHIANG_MAI_ROW[:6], "ใช่", "๔๑.๐๗", 57.2, 53.66, 52.57, 59.65, 22.73, False])
    sheet.append([None] * len(HEADER))  # an empty row within the used range
    book.save(tmp_path / "survey.xlsx")

    from_xlsx = read_survey(tmp_path / "survey.xlsx", make_workflow())

    from_csv = read_survey(csv_path, make_workflow())
    assert from_xlsx.agencies == from_csv.agencies
    assert repr(from_xlsx.agencies) == repr(from_csv.agencies)  # Decimal('57.21'), not float noise


def test_read_survey_xlsx_integer_cells_read_as_integers(tmp_path):
    book = Workbook()
    book.active.append(HEADER)
    book.active.append(
        [1001, "กรมทดสอบ", None, "department", None, None, 1, 57, 66.0, 100, 0, 75.5, 1e-05, 0]
    )
    book.save(tmp_path / "survey.xlsx")

    agency = read_survey(tmp_path / "survey.xlsx", make_workflow()).agencies[0]

    assert (agency.agency_id, agency.responded, agency.flags) == (
        "1001",
        True,
        {"copy_free": False},
    )
    assert agency.scores is not None
    assert [str(s) for s in agency.scores] == ["57", "66", "100", "0", "75.5", "0.00001"]


def test_read_survey_xlsx_cell_past_the_header_is_ragged(tmp_path):
    book = Workbook()
    book.active.append(HEADER)
    book.active.append([*DGA_ROW, None, "stray"])
    book.active.append([*CHIANG_MAI_ROW[:12]])  # trailing empty cells are not ragged in a sheet
    path = tmp_path / "survey.xlsx"
    book.save(path)

    assert problems_of(path) == [
        f"{path}:2: row has 16 cells; the header has 14",
        f"{path}:3: technology: score is required for an agency that responded (value: '')",
    ]


def test_read_survey_broken_xlsx_is_one_problem(tmp_path):
    path = tmp_path / "survey.xlsx"
    path.write_bytes(b"not a zip file")

    problems = problems_of(path)

    assert problems == [f"{path}: not a readable .xlsx workbook (File is not a zip file)"]


def test_read_survey_renamed_columns_are_mapped(tmp_path):
    renamed = {"agency_id": "รหัสหน่วยงาน", "name_th": "ชื่อหน่วยงาน", "services": "บริการภาครัฐ"}
    header = [renamed.get(name, name) for name in HEADER]
    path = write_csv(tmp_path / "survey.csv", [["note", *header], ["x", *DGA_ROW]])

    agency = read_survey(path, make_workflow(renamed)).agencies[0]

    assert (agency.agency_id, agency.name_th) == ("D001", "สำนักงานพัฒนารัฐบาลดิจิทัล")
    assert agency.scores is not None
    assert agency.scores[2] == Decimal("68.57")


def test_read_survey_optional_columns_may_be_absent(tmp_path):
    header = [name for name in HEADER if name not in ("name_en", "ministry", "province")]
    row = [value for name, value in zip(HEADER, DGA_ROW, strict=True) if name in header]
    path = write_csv(tmp_path / "survey.csv", [header, row])

    agency = read_survey(path, make_workflow()).agencies[0]

    assert (agency.name_en, agency.ministry, agency.province) == ("", "", "")


def test_read_survey_many_errors_are_all_reported(tmp_path):
    rows = [
        HEADER,
        DGA_ROW,
        ["D001", "กรมซ้ำ", "", "department", "", "", "yes", *["50"] * 6, "no"],
        ["D002", "", "", "ministry", "", "", "maybe", "104.5", "-1", "abc", "", "NaN", "1", "x"],
        [""] * len(HEADER),
        ["P001", "จังหวัดไม่มีชื่อ", "", "provincial", "", " ", "no", "50", *[""] * 5, ""],
        ["D003", "กรมสั้น"],
        ["", "กรมไม่มีรหัส", "", "กรม", "", "", "", *["50"] * 6, ""],
    ]
    path = write_csv(tmp_path / "survey.csv", rows)

    problems = problems_of(path)

    missing = "score is missing; give every score or none for an agency that did not respond"
    assert problems == [
        f"{path}:3: agency_id: duplicate agency_id; first seen on row 2 (value: 'D001')",
        f"{path}:4: name_th: required value is missing (value: '')",
        f"{path}:4: level: unknown level; use one of: department, provincial, กรม, จังหวัด "
        "(value: 'ministry')",
        f"{path}:4: responded: not a yes/no value; use one of: {BOOLEANS} (value: 'maybe')",
        f"{path}:4: policy: score must be between 0 and 100 (value: '104.5')",
        f"{path}:4: capability: score must be between 0 and 100 (value: '-1')",
        f"{path}:4: services: score must be a number between 0 and 100 (value: 'abc')",
        f"{path}:4: infrastructure: score must be a number between 0 and 100 (value: 'NaN')",
        f"{path}:4: copy_free: not a yes/no value; use one of: {BOOLEANS} (value: 'x')",
        f"{path}:6: province: a provincial agency needs a province (value: ' ')",
        f"{path}:6: capability: {missing} (value: '')",
        f"{path}:6: services: {missing} (value: '')",
        f"{path}:6: back_office: {missing} (value: '')",
        f"{path}:6: infrastructure: {missing} (value: '')",
        f"{path}:6: technology: {missing} (value: '')",
        f"{path}:7: row has 2 cells; the header has 14",
        f"{path}:8: agency_id: required value is missing (value: '')",
        f"{path}:8: responded: required value is missing; use one of: {BOOLEANS} (value: '')",
    ]


def test_read_survey_duplicate_agency_id_names_first_row(tmp_path):
    path = write_csv(tmp_path / "survey.csv", [HEADER, DGA_ROW, CHIANG_MAI_ROW, DGA_ROW])

    assert problems_of(path) == [
        f"{path}:4: agency_id: duplicate agency_id; first seen on row 2 (value: 'D001')"
    ]


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("104.5", "score must be between 0 and 100"),
        ("-1", "score must be between 0 and 100"),
        ("abc", "score must be a number between 0 and 100"),
        ("Infinity", "score must be a number between 0 and 100"),
        ("1_0", "score must be a number between 0 and 100"),
        ("57,21", "score must be a number between 0 and 100"),
        ("", "score is required for an agency that responded"),
    ],
)
def test_read_survey_bad_score_is_located(tmp_path, score, message):
    path = write_csv(tmp_path / "survey.csv", [HEADER, [*DGA_ROW[:9], score, *DGA_ROW[10:]]])

    assert problems_of(path) == [f"{path}:2: services: {message} (value: {score!r})"]


def test_read_survey_missing_columns_are_each_reported(tmp_path):
    header = [name for name in HEADER if name not in ("services", "responded")]
    path = write_csv(tmp_path / "survey.csv", [header, DGA_ROW[:12]])

    problems = problems_of(path)

    has = ", ".join(header)
    assert problems == [
        f"{path}:1: missing column 'responded'; the header has: {has}",
        f"{path}:1: missing column 'services'; the header has: {has}",
    ]


def test_read_survey_duplicate_header_column_is_a_problem(tmp_path):
    path = write_csv(tmp_path / "survey.csv", [[*HEADER, "policy", ""], [*DGA_ROW, "1", ""]])

    assert problems_of(path) == [
        f"{path}:1: policy: this column appears more than once in the header"
    ]


def test_read_survey_unknown_level_lists_allowed_values(tmp_path):
    path = write_csv(tmp_path / "survey.csv", [HEADER, [*DGA_ROW[:3], "ministry", *DGA_ROW[4:]]])

    assert problems_of(path) == [
        f"{path}:2: level: unknown level; use one of: department, provincial, กรม, จังหวัด "
        "(value: 'ministry')"
    ]


def test_read_survey_provincial_agency_without_province_is_a_problem(tmp_path):
    path = write_csv(
        tmp_path / "survey.csv", [HEADER, [*CHIANG_MAI_ROW[:5], "", *CHIANG_MAI_ROW[6:]]]
    )

    assert problems_of(path) == [
        f"{path}:2: province: a provincial agency needs a province (value: '')"
    ]


def test_read_survey_ragged_row_is_a_problem(tmp_path):
    path = write_csv(tmp_path / "survey.csv", [HEADER, [*DGA_ROW, "extra"], DGA_ROW[:12]])

    assert problems_of(path) == [
        f"{path}:2: row has 15 cells; the header has 14",
        f"{path}:3: row has 12 cells; the header has 14",
    ]


def test_read_survey_bad_boolean_names_accepted_values(tmp_path):
    path = write_csv(tmp_path / "survey.csv", [HEADER, [*DGA_ROW[:13], "sometimes"]])

    assert problems_of(path) == [
        f"{path}:2: copy_free: not a yes/no value; use one of: {BOOLEANS} (value: 'sometimes')"
    ]


def test_read_survey_empty_rows_are_skipped_but_counted(tmp_path):
    path = write_csv(tmp_path / "survey.csv", [HEADER, DGA_ROW, [], [""] * 14, ["", " "], ["x"]])

    assert problems_of(path) == [f"{path}:6: row has 1 cells; the header has 14"]


@pytest.mark.parametrize(
    "content",
    [b"", b"\xef\xbb\xbf", ",".join(HEADER).encode(), ",".join(HEADER).encode() + b"\r\n,,\r\n"],
)
def test_read_survey_file_without_rows_is_a_problem(tmp_path, content):
    path = tmp_path / "survey.csv"
    path.write_bytes(content)

    assert problems_of(path) == [f"{path}: the survey has no rows"]


def test_read_survey_unparsable_csv_names_the_row(tmp_path):
    path = write_csv(tmp_path / "survey.csv", [HEADER, DGA_ROW, ["D002", "ก" * 1_048_577]])

    assert problems_of(path) == [
        f"{path}:3: a cell holds more than 1,048,576 characters, the most a cell may hold "
        "(is a quote left open?)"
    ]


def test_read_survey_renamed_column_missing_names_the_file_column(tmp_path):
    path = write_csv(tmp_path / "survey.csv", [HEADER, DGA_ROW])

    problems = problems_of(path, make_workflow({"agency_id": "รหัสหน่วยงาน"}))

    assert problems == [
        f"{path}:1: missing column 'รหัสหน่วยงาน'; the header has: {', '.join(HEADER)}"
    ]


def test_read_survey_problems_are_capped_with_a_count(tmp_path):
    rows = [[f"A{i}", "กรม", "", "department", "", "", "yes", *["500"] * 6, ""] for i in range(50)]
    path = write_csv(tmp_path / "survey.csv", [HEADER, *rows])

    problems = problems_of(path)

    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1] == f"{path}: {50 * 6 - MAX_PROBLEMS} more problems not listed"


def test_read_survey_unsupported_file_type_is_a_problem(tmp_path):
    path = tmp_path / "survey.json"
    path.write_text("[]")

    assert problems_of(path) == [f"{path}: unsupported file type '.json'; use a .csv or .xlsx file"]


def test_read_survey_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound) as raised:
        read_survey(tmp_path / "nowhere.csv", make_workflow())

    assert str(raised.value) == f"no such file: {tmp_path / 'nowhere.csv'}"


def test_read_survey_sha256_is_of_the_file_bytes(tmp_path):
    path = write_csv(tmp_path / "survey.csv", [HEADER, DGA_ROW], encoding="utf-8-sig")

    survey = read_survey(path, make_workflow())

    assert survey.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert file_sha256(path) == survey.sha256
