"""Names always fit: the name block steps down in size and wraps to up to three lines between
words, proper names whole, no lone last word; a name that still cannot fit stops only its
own sheet."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_render import OCCASION, sheet

from awards.certificates.issuing import render
from awards.certificates.namefit import name_fit, words
from awards.certificates.sheet import Batch, Templates
from awards.certificates.typeset import render_batch
from awards.cli import main
from awards.commands.advance import advance

from support import agency_line, open_cycle, write_survey

# The longest real agency names, and how the plaque sets them (its box: 162 mm; sizes 27,
# 24, 21 and 18 pt on 1, 2, 3 and 3 lines).
PLAQUE = [(27, 1), (24, 2), (21, 3), (18, 3)]
LONGEST = {
    "สำนักงานปลัดกระทรวงการอุดมศึกษา วิทยาศาสตร์ วิจัยและนวัตกรรม": (
        24, ("สำนักงานปลัดกระทรวงการอุดมศึกษา", "วิทยาศาสตร์ วิจัยและนวัตกรรม")),
    "สำนักงานคณะกรรมการส่งเสริมวิทยาศาสตร์ วิจัยและนวัตกรรม": (
        24, ("สำนักงานคณะกรรมการส่งเสริม", "วิทยาศาสตร์ วิจัยและนวัตกรรม")),
    "องค์การบริหารส่วนจังหวัดพระนครศรีอยุธยา": (
        24, ("องค์การบริหารส่วนจังหวัดพระนครศรีอยุธยา",)),
    "สำนักงานป้องกันและบรรเทาสาธารณภัยจังหวัดพระนครศรีอยุธยา (สมมติ)": (
        24, ("สำนักงานป้องกันและบรรเทาสาธารณภัย", "จังหวัดพระนครศรีอยุธยา (สมมติ)")),
}  # fmt: skip


@pytest.mark.parametrize("name", list(LONGEST))
def test_name_fit_longest_real_names_on_the_plaque(name):
    fit = name_fit(name, 162, PLAQUE)

    assert (fit.size, fit.lines, fit.fits) == (*LONGEST[name], True)


def test_name_fit_short_name_keeps_the_largest_size_on_one_line():
    assert name_fit("กรมป่าไม้", 162, PLAQUE) == (27, ("กรมป่าไม้",), True)


def test_words_keep_a_province_with_its_prefix_and_parentheses_whole():
    assert words("องค์การบริหารส่วนจังหวัดพระนครศรีอยุธยา (องค์การมหาชน)") == [
        "องค์การ", "บริหาร", "ส่วน", "จังหวัดพระนครศรีอยุธยา ", "(องค์การมหาชน)",
    ]  # fmt: skip


def test_name_fit_never_leaves_one_word_alone_on_the_last_line():
    # Two lines at 24 pt: greedy filling would leave นวัตกรรม alone on the second.
    name = "สำนักงานปลัดกระทรวงการอุดมศึกษา วิทยาศาสตร์ วิจัยและนวัตกรรม"

    lines = name_fit(name, 162, PLAQUE).lines

    assert len(lines) == 2
    assert len(words(lines[-1])) > 1


def test_name_fit_too_long_at_every_size_says_so():
    name = "สำนักงานป้องกันและบรรเทาสาธารณภัยจังหวัดพระนครศรีอยุธยา " * 4

    fit = name_fit(name, 162, PLAQUE)

    assert (fit.size, len(fit.lines), fit.fits) == (18, 3, False)
    assert "".join(" ".join(fit.lines).split()) == "".join(name.split())  # every word, none lost


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed (apt-get install poppler-utils)")  # fmt: skip
def test_plaque_prints_the_longest_names_on_the_lines_chosen(tmp_path):
    names = list(LONGEST)
    parts = (("plaque", tuple(sheet("plaque", n, recipient_th=m) for n, m in enumerate(names))),)

    files = render_batch(Batch(Templates.for_cycle(), parts, OCCASION, tmp_path, "fit"))

    assert [f.problem for f in files] == [""] * len(names)
    for f, name in zip(files, names, strict=True):
        text = subprocess.run(["pdftotext", str(f.temp), "-"], capture_output=True, check=True)
        lines = text.stdout.decode("utf-8").splitlines()
        expected = LONGEST[name][1]
        at = lines.index(expected[0])
        assert tuple(lines[at : at + len(expected)]) == expected


def test_render_batch_leaves_out_only_the_sheet_that_does_not_fit(tmp_path):
    long = "สำนักงานป้องกันและบรรเทาสาธารณภัยจังหวัดพระนครศรีอยุธยา " * 4
    sheets = tuple(sheet("plaque", n, recipient_th=long if n == 2 else "กรมป่าไม้") for n in range(1, 4))  # fmt: skip

    files = render_batch(
        Batch(Templates.for_cycle(), (("plaque", sheets),), OCCASION, tmp_path, "x")
    )

    done = {f.sheet.serial: (f.size > 0, f.temp.is_file()) for f in files}
    assert done == {
        "DGA-2562-TST-0001": (True, True),
        "DGA-2562-TST-0002": (False, False),
        "DGA-2562-TST-0003": (True, True),
    }
    (problem,) = [f.problem for f in files if f.problem]
    assert problem.startswith("DGA-2562-TST-0002: 'สำนักงานป้องกัน")
    assert problem.endswith("does not fit its box (.recipient.fit) in template 'plaque'; shorten the text or enlarge the box")  # fmt: skip


TOO_LONG = "สำนักงานป้องกันและบรรเทาสาธารณภัยจังหวัดพระนครศรีอยุธยา" * 6


@pytest.fixture
def one_name_too_long(tmp_path: Path) -> str:
    """A cycle whose copy-free award (no review) has ten winners, one with a name no sheet
    can hold, all awarded."""
    lines = [
        agency_line(f"D{i:03d}", TOO_LONG if i == 3 else f"กรมทดสอบ{i:03d}", (f"{50 + i}",) * 6,
                    copy_free="yes")
        for i in range(10)
    ]  # fmt: skip
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    open_cycle(url, tmp_path, survey=write_survey(tmp_path / "survey.csv", lines))
    advance(url=url, actor="s", award="copy-free")
    return url


def test_render_reports_the_sheet_that_does_not_fit_and_records_the_rest(one_name_too_long, tmp_path):  # fmt: skip
    out = tmp_path / "certificates"

    result = render(url=one_name_too_long, award="copy-free", out=out, actor="s", workers=1)

    assert result.rendered == {"copy-free": 9}
    assert [(u.nomination, u.length) for u in result.unfit] == [("copy-free:D003", len(TOO_LONG))]
    assert len(list(out.glob("*.pdf"))) == 9
    assert not list(out.glob(".awards-render-*"))
    again = render(url=one_name_too_long, award="copy-free", out=out, actor="s", workers=1)
    assert (again.current, again.total, len(again.unfit)) == (9, 0, 1)  # tried again, alone


def test_cli_render_prints_the_sheet_not_rendered_and_exits_1(one_name_too_long, tmp_path):
    out = tmp_path / "certificates"

    result = CliRunner().invoke(
        main, ["--db", one_name_too_long, "render", "--award", "copy-free", "--out", str(out)]
    )

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"9 certificates rendered into {out} (copy-free 9)"
    assert re.fullmatch(
        rf"not rendered: copy-free:D003 \(DGA-2562-DGA2019-CPF-\d{{4}}, a name of {len(TOO_LONG)} characters\): "
        r"DGA-2562-DGA2019-CPF-\d{4}: '.{60}' does not fit its box \(\.recipient\.fit\) in template "
        r"'policy-support'; shorten the text or enlarge the box",
        lines[1],
    )
