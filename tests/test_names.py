"""Names people will read: NFC, no invisible or control characters, no mojibake, provinces
among the 77; in the survey, reviewer declarations, verdict notes and the workflow's
printed text."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from awards.cli import main
from awards.errors import InputErrors
from awards.rules.survey import read_survey
from awards.rules.workflow_file import load_workflow

from support import HEADER, WORKFLOW, agency_line, open_cycle, seat, small_survey, write_survey

AGAIN = "export the file again as UTF-8 from the program that holds the original"


def run(*args: str, db: str | None = None) -> tuple[int, str]:
    prefix = ["--db", db] if db else []
    result = CliRunner(env={"COLUMNS": "240"}).invoke(
        main, [*prefix, "--actor", "tester", *args], catch_exceptions=False
    )
    return result.exit_code, result.output


@pytest.fixture
def opened(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    assert run("init", str(WORKFLOW), db=url)[0] == 0
    return url


def one_agency(tmp_path: Path, name_th: str, **options: str) -> Path:
    """A survey of one agency, written by the csv module (so a line break is quoted)."""
    path = tmp_path / "s.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(
            [HEADER.split(","), agency_line("D1", name_th, **options).split(",")]
        )
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InputErrors) as raised:
        read_survey(path, load_workflow(WORKFLOW))
    return [str(p) for p in raised.value.problems]


def test_import_refuses_a_direction_override_in_a_name(opened: str, tmp_path: Path):
    # Printed, this reads "กรมlive": the override turns the rest of the line around.
    path = one_agency(tmp_path, "กรม\u202eevil")

    assert run("import", str(path), db=opened) == (
        1,
        f"Error: {path}:2: name_th: holds U+202E RIGHT-TO-LEFT OVERRIDE (an invisible "
        "formatting character) at character 4; remove it: invisible and control characters "
        "are refused (value: 'กรม\\u202eevil')\n",
    )


@pytest.mark.parametrize(
    ("name", "described"),
    [
        ("กรม\u200bทดสอบ", "U+200B ZERO WIDTH SPACE (an invisible formatting character) at character 4"),
        ("กรม\u200dทดสอบ", "U+200D ZERO WIDTH JOINER (an invisible formatting character) at character 4"),
        ("\ufeffกรมทดสอบ", "U+FEFF ZERO WIDTH NO-BREAK SPACE (an invisible formatting character) at character 1"),
        ("กรม\x00ทดสอบ", "U+0000 (a control character) at character 4"),
        ("กรม\nทดสอบ", "U+000A (a control character) at character 4"),
        ("กรม\ue000ทดสอบ", "U+E000 (a character that is not text) at character 4"),
    ],
    ids=["zero-width-space", "zero-width-joiner", "byte-order-mark", "nul", "line-break", "private-use"],
)  # fmt: skip
def test_import_refuses_invisible_and_control_characters(tmp_path: Path, name, described):
    path = one_agency(tmp_path, name)

    assert problems_of(path) == [
        f"{path}:2: name_th: holds {described}; remove it: invisible and control characters "
        f"are refused (value: {name!r})"
    ]


def test_import_keeps_names_in_nfc(tmp_path: Path):
    # Tone mark before the vowel below, and after it: one name, written two ways.
    typed = "กรมกุ่มทดสอบ".replace("ุ่", "ุ่")
    assert typed != unicodedata.normalize("NFC", typed)
    path = write_survey(tmp_path / "s.csv", [agency_line("D1", typed, ministry=typed)])

    agency = read_survey(path, load_workflow(WORKFLOW)).agencies[0]

    assert agency.name_th == agency.ministry == unicodedata.normalize("NFC", typed) == "กรมกุ่มทดสอบ"


def test_import_takes_a_no_break_space_as_a_space(tmp_path: Path):
    path = one_agency(tmp_path, "กรม\u00a0ทดสอบ")

    assert read_survey(path, load_workflow(WORKFLOW)).agencies[0].name_th == "กรม\u00a0ทดสอบ"


def garbled(text: str) -> str:
    """UTF-8 read as Windows-1252 (bytes it leaves undefined read as Latin-1), as a
    spreadsheet program guessing the wrong encoding does."""
    out = []
    for byte in text.encode("utf-8"):
        try:
            out.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(bytes([byte]).decode("latin-1"))
    return "".join(out)


def test_import_refuses_utf8_thai_read_as_windows_1252(opened: str, tmp_path: Path):
    name = garbled("สำนักงานจังหวัดลำพูน")
    path = write_survey(
        tmp_path / "s.csv",
        [agency_line("P1", name, level="provincial", province="ลำพูน", ministry="")],
    )

    assert run("import", str(path), db=opened) == (
        1,
        f"Error: {path}:2: name_th: reads 'สำนักงานจังหวัดลำพูน' once decoded as UTF-8: Thai "
        f"text was decoded as Windows-1252 (Latin-1) somewhere on the way; {AGAIN} "
        f"(value: {name!r})\n",
    )


def test_import_of_a_wholly_garbled_survey_nominates_no_garbled_province(tmp_path: Path):
    good = small_survey(tmp_path / "good.csv", departments=3, provinces=3, per_province=2)
    path = tmp_path / "s.csv"
    path.write_text(garbled(good.read_text(encoding="utf-8")), encoding="utf-8")

    problems = problems_of(path)

    # Every Thai cell of every row: names, ministries and provinces.
    assert len(problems) == 9 * 2 + 6
    assert problems[-1] == (
        f"{path}:10: province: reads 'กาฬสินธุ์' once decoded as UTF-8: Thai text was decoded "
        f"as Windows-1252 (Latin-1) somewhere on the way; {AGAIN} "
        f"(value: {garbled('กาฬสินธุ์')!r})"
    )


def test_import_refuses_thai_windows_text_read_as_latin_1(tmp_path: Path):
    name = "สำนักงานพัฒนารัฐบาลดิจิทัล".encode("cp874").decode("latin-1")
    path = one_agency(tmp_path, name, ministry="")

    assert problems_of(path) == [
        f"{path}:2: name_th: has no Thai letters but reads 'สำนักงานพัฒนารัฐบาลดิจิทัล' once "
        f"decoded as cp874 (Thai Windows): the file was decoded as Latin-1 somewhere on the "
        f"way; {AGAIN} (value: {name!r})"
    ]


def test_import_names_cp874_for_a_province_read_as_latin_1(tmp_path: Path):
    # กาญจนบุรี in cp874 has the byte 0xAD, a soft hyphen in Latin-1: still named as cp874.
    good = small_survey(tmp_path / "good.csv", departments=2, provinces=2, per_province=1)
    path = tmp_path / "s.csv"
    path.write_text(good.read_text("utf-8").encode("cp874").decode("latin-1"), encoding="utf-8")
    province = "กาญจนบุรี".encode("cp874").decode("latin-1")

    assert problems_of(path)[-1] == (
        f"{path}:5: province: has no Thai letters but reads 'กาญจนบุรี' once decoded as cp874 "
        f"(Thai Windows): the file was decoded as Latin-1 somewhere on the way; {AGAIN} "
        f"(value: {province!r})"
    )


def test_import_refuses_replacement_characters(tmp_path: Path):
    name = "สำนักงาน".encode("cp874").decode("utf-8", errors="replace")
    path = one_agency(tmp_path, name)

    assert problems_of(path) == [
        f"{path}:2: name_th: holds U+FFFD, the mark of a character lost in an earlier "
        f"conversion: the file went through the wrong encoding; {AGAIN} (value: {name!r})"
    ]


def test_import_refuses_a_thai_name_without_thai(tmp_path: Path):
    path = one_agency(tmp_path, "Department of Testing")

    assert problems_of(path) == [
        f"{path}:2: name_th: has no Thai letters; write the Thai name here "
        "(value: 'Department of Testing')"
    ]


def test_import_refuses_a_province_that_is_not_one(opened: str, tmp_path: Path):
    path = one_agency(tmp_path, "สำนักงานทดสอบ", level="provincial", province="Not A Province")

    assert run("import", str(path), db=opened) == (
        1,
        f"Error: {path}:2: province: not one of the 77 provinces; write its official Thai "
        "name, e.g. เชียงใหม่ (value: 'Not A Province')\n",
    )


@pytest.mark.parametrize(
    ("written", "meant"),
    [("เชียงใหม", "เชียงใหม่"), ("จังหวัดลำพูน", "ลำพูน"), ("กรุงเทพฯ", "กรุงเทพมหานคร")],
)
def test_import_suggests_the_province_meant(tmp_path: Path, written, meant):
    path = one_agency(tmp_path, "สำนักงานทดสอบ", level="provincial", province=written)

    assert problems_of(path) == [
        f"{path}:2: province: not one of the 77 provinces; did you mean '{meant}'? "
        f"(value: '{written}')"
    ]


def test_import_takes_bangkok_for_a_department(tmp_path: Path):
    path = one_agency(tmp_path, "สำนักงานทดสอบ", province="กรุงเทพมหานคร")

    assert read_survey(path, load_workflow(WORKFLOW)).agencies[0].province == "กรุงเทพมหานคร"


def test_reviewers_add_refuses_a_misspelt_province(opened: str):
    # A misspelt province would never match an agency's: the conflict would go unseen.
    code, out = run(
        "reviewers", "add", "somchai", "--name", "สมชาย ใจดี", "--province", "เชียงใหม", db=opened
    )

    assert (code, out) == (
        1,
        "Error: --province 'เชียงใหม' not one of the 77 provinces; did you mean 'เชียงใหม่'?\n",
    )


def test_reviewers_add_refuses_an_invisible_character_in_a_name(opened: str):
    code, out = run("reviewers", "add", "somchai", "--name", "สมชาย\u200b ใจดี", db=opened)

    assert (code, out) == (
        1,
        "Error: --name 'สมชาย\u200b ใจดี' holds U+200B ZERO WIDTH SPACE (an invisible "
        "formatting character) at character 6; remove it: invisible and control characters "
        "are refused\n",
    )


def test_workflow_reviewer_declarations_are_checked(tmp_path: Path):
    path = tmp_path / "w.toml"
    path.write_text(
        WORKFLOW.read_text(encoding="utf-8")
        + '\n[[reviewers]]\nid = "somchai"\nname = "สมชาย ใจดี"\nprovinces = ["ลำพูน", "Lamphun"]\n',
        encoding="utf-8",
    )
    line = len(path.read_text(encoding="utf-8").splitlines())

    assert run("check", str(path)) == (
        1,
        f"Error: {path}:{line}: reviewers[0].provinces[1]: not one of the 77 provinces; write "
        "its official Thai name, e.g. เชียงใหม่ (value: 'Lamphun')\n",
    )


def test_workflow_printed_text_refuses_a_direction_override(tmp_path: Path):
    text = WORKFLOW.read_text(encoding="utf-8")
    path = tmp_path / "w.toml"
    path.write_text(text.replace('signatory_th = "', 'signatory_th = "\u202e', 1), encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith("signatory_th"))

    code, out = run("check", str(path))

    assert (code, out.split(" (value: ")[0]) == (
        1,
        f"Error: {path}:{line}: ceremony.signatory_th: holds U+202E RIGHT-TO-LEFT OVERRIDE (an "
        "invisible formatting character) at character 1; remove it: invisible and control "
        "characters are refused",
    )


def test_review_refuses_a_direction_override_in_a_note(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    open_cycle(url, tmp_path)
    assert run("advance", db=url)[0] == 0
    seat(url)

    code, out = run(
        "review",
        "top-department:D029",
        "--approve",
        "--reviewer",
        "a",
        "--note",
        "ok\u202e",
        db=url,
    )

    assert (code, out) == (
        1,
        "Error: the note holds U+202E RIGHT-TO-LEFT OVERRIDE (an invisible formatting character) "
        "at character 3; remove it: invisible and control characters are refused\n",
    )


def test_verdict_sheet_note_may_have_lines_but_no_invisible_characters(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    open_cycle(url, tmp_path)
    assert run("advance", db=url)[0] == 0
    seat(url)
    sheet = tmp_path / "v.csv"
    sheet.write_text(
        "nomination,reviewer,verdict,note\n"
        'top-department:D029,a,approve,"ครบถ้วน\nตรวจแล้ว"\n'
        "top-department:D029,b,approve,ok\u2066x\n",
        encoding="utf-8",
    )

    assert run("review", "--from", str(sheet), db=url) == (
        1,
        f"Error: {sheet}:3: note: the note holds U+2066 LEFT-TO-RIGHT ISOLATE (an invisible "
        "formatting character) at character 3; remove it: invisible and control characters "
        "are refused (value: 'ok\\u2066x')\n",
    )
