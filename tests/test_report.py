"""`awards report`: the HTML and PDF of a whole demo cycle (the session's demo, copied), built
once for the module."""

from __future__ import annotations

import base64
import html as html_lib
import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from awards.cli import main
from awards.commands import demo, results
from awards.log import signing
from awards.report.build import report
from awards.rules.formatting import figure as shown
from awards.rules.formatting import margin as signed
from awards.rules.formatting import percent, state_label
from awards.rules.states import State
from awards.store import checkpoints as checkpoint
from awards.store import database as db
from awards.store.schema import open_engine

from support import WORKFLOW, copy_demo, small_survey


@dataclass(frozen=True)
class Built:
    url: str
    html: str
    pdf: Path
    exit_code: int
    output: str
    status: dict[str, object]
    rankings: dict[str, results.Ranking]
    checkpoint: dict[str, object]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, demo_cycle: demo.DemoResult) -> Built:
    """The demo cycle (a copy: a checkpoint is added) with a signed checkpoint, and its
    report as HTML and PDF."""
    folder = tmp_path_factory.mktemp("report")
    database = f"sqlite:///{copy_demo(demo_cycle.directory, folder / 'demo') / 'awards.db'}"
    private, _ = signing.generate_keys(folder / "committee.key")
    with db.write(open_engine(database)) as conn:
        signed_at = checkpoint.write_checkpoint(
            conn, signing.load_key(private), cycle=demo.CYCLE, actor="tester"
        )
    out = folder / "report.html"
    cli = CliRunner().invoke(main, ["--db", database, "report", "--out", str(out), "--pdf"])
    return Built(
        database,
        out.read_text(encoding="utf-8"),
        folder / "report.pdf",
        cli.exit_code,
        cli.output,
        results.status(url=database).as_dict(),
        {a: results.ranking(a, url=database) for a in demo_cycle.status.awards},
        signed_at,
    )


def test_report_command_writes_the_html_and_the_pdf(built: Built):
    log = built.status["log"]
    assert isinstance(log, dict)
    pages = len(PdfReader(built.pdf).pages)
    assert (built.exit_code, built.output) == (
        0,
        f"{built.pdf.with_suffix('.html')}: report of cycle dga-2019 (log head {log['events']}, {log['head'][:12]})\n"
        f"{built.pdf}: the same as PDF, {pages} pages\n",
    )


def test_report_names_every_winner_of_every_award(built: Built):
    winners = {
        award: [r.name_th for r in ranking.rows if r.state == "awarded"]
        for award, ranking in built.rankings.items()
    }
    assert {a: len(names) for a, names in winners.items()} == {
        "top-department": 10,
        "top-province": 5,
        "copy-free": 60,
    }
    assert [n for names in winners.values() for n in names if n not in built.html] == []


def test_report_shows_response_rates_and_the_published_national_means(built: Built):
    for figure in ("301/323", "93.2%", "1,356/1,533", "88.5%", "64.60", "51.09", "57.21", "22.73"):
        assert figure in built.html


def test_report_has_a_sensitivity_table_and_two_charts_per_award(built: Built):
    assert built.html.count('<table class="sensitivity">') == 3
    assert built.html.count("+5 pp") == built.html.count("−5 pp") == 18
    assert built.html.count('<svg class="chart"') == 4  # the national means, one per award
    # Unperturbed, the sensitivity's selection is the awarded set of every award.
    assert "selection differs from the winners" not in built.html
    assert "the award is not complete" not in built.html


def test_report_lists_every_province_by_score(built: Built):
    rows = built.rankings["top-province"].rows
    section = built.html.split('id="award-top-province"')[1].split('id="award-copy-free"')[0]
    assert len(rows) == 76
    assert [r.score for r in rows] == sorted((r.score for r in rows), reverse=True)
    positions = [section.rindex(f">{r.name_th}<") for r in rows]
    assert positions == sorted(positions)


def test_report_references_nothing_outside_itself(built: Built):
    html = built.html
    assert re.findall(r"""(?:src|href)\s*=\s*(?!["']?#)""", html) == []
    assert re.findall(r"url\((?![\"']?(?:#|data:))", html) == []
    assert [t for t in ("@import", "<link", "<script", "<img", "<iframe") if t in html] == []
    # The only addresses are the SVG namespace names, which nothing fetches.
    assert re.findall(r"https?://", re.sub(r'\sxmlns(?::\w+)?="[^"]*"', "", html)) == []


def test_report_html_embeds_sarabun_with_every_character_it_shows(built: Built):
    faces = re.findall(
        r'font-weight: (\d+); src: url\("data:font/woff2;base64,([^"]+)"\)', built.html
    )
    body = built.html.split("<body>")[1]
    shown_text = html_lib.unescape(re.sub(r"<svg.*?</svg>|<[^>]+>", "", body, flags=re.DOTALL))
    wanted = {ord(c) for c in shown_text if not c.isspace()} | {0x0E32, 0x0E4D}  # ำ = ํ + า
    assert [w for w, _ in faces] == ["400", "700"]
    for _, data in faces:
        cmap = TTFont(io.BytesIO(base64.b64decode(data))).getBestCmap()
        assert sorted(chr(c) for c in wanted - set(cmap)) == []


def test_report_is_the_same_file_for_the_same_log(built: Built, tmp_path: Path):
    again = report(url=built.url, out=tmp_path / "again.html").html
    assert again.read_text(encoding="utf-8") == built.html


def test_report_footer_names_the_log_head_checkpoint_and_input_hashes(built: Built):
    log = built.status["log"]
    cp = built.checkpoint
    footer = built.html.split("<footer>")[1]
    assert isinstance(log, dict)
    for value in (
        f"event {log['events']}",
        log["head"],
        f"event {log['events']} ({cp['at']}) fixes the first {cp['size']} events",
        cp["root"],
        f'signed with the committee key <span class="hash">{cp["public_key"]}</span>',
        built.status["workflow_sha256"],
        built.status["survey_sha256"],
    ):
        assert str(value) in footer


def test_report_shows_margins_and_committee_figures_as_they_are(built: Built):
    top = built.rankings["top-department"]
    for row in top.rows[:20]:
        assert f'<td class="num">{signed(row.margin)}</td>' in built.html
    assert 'class="num committee"' in built.html


def test_report_pdf_renders_thai_with_embedded_fonts(built: Built):
    reader = PdfReader(built.pdf)
    text = reader.pages[0].extract_text()
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert "/FontFile2" in descriptor.get_object()
            fonts.add(str(font["/BaseFont"]).split("+")[1])
    assert len(reader.pages) > 0
    assert "รายงานผลการคัดเลือกและความโปร่งใส" in text and "64.60" in text
    assert fonts == {"Sarabun", "Sarabun-Bold"}


@pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="pdftotext is not installed (apt-get install poppler-utils)",
)
def test_report_pdf_text_reads_as_the_html_shows_it(built: Built):
    pdf = subprocess.run(["pdftotext", str(built.pdf), "-"], capture_output=True, check=True)
    text = re.sub(r"\s", "", pdf.stdout.decode("utf-8"))
    page = built.html.split("<body", 1)[1]  # the <title> is not printed
    body = re.sub(r"<style.*?</style>|<svg.*?</svg>", "", page, flags=re.S)
    shown = re.sub(r"\s", "", html_lib.unescape(re.sub(r"<[^>]+>", "", body)))

    for word in ("สำนักงาน", "ประจำ", "กำแพงเพชร", "อำนาจเจริญ", "ที่"):
        assert (word, text.count(word)) == (word, shown.count(word))
    assert shown.count("สำนักงาน") > 0


def test_report_figures_are_rounded_half_up():
    assert (percent(301, 323), percent(1356, 1533), percent(1, 8), percent(0, 0)) == (
        "93.2%",
        "88.5%",
        "12.5%",
        "—",
    )
    assert (signed(Decimal("7.32")), signed(Decimal("-1.05")), signed(Decimal("0.00"))) == (
        "+7.32",
        "-1.05",
        "0.00",
    )
    assert (shown(None), shown(Decimal("1.50"))) == ("—", "1.50")


def test_report_before_any_advance_shows_the_provisional_ranking(sqlite_url: str, tmp_path: Path):
    runner = CliRunner(env={"COLUMNS": "240"})
    for args in (("init", str(WORKFLOW)), ("import", str(small_survey(tmp_path / "s.csv")))):
        assert runner.invoke(main, ["--db", sqlite_url, *args]).exit_code == 0
    out = tmp_path / "report.html"
    result = runner.invoke(main, ["--db", sqlite_url, "report", "--out", str(out)])
    html = out.read_text(encoding="utf-8")
    head = results.status(url=sqlite_url).as_dict()["log"]
    assert (result.exit_code, result.output) == (
        0,
        f"{out}: report of cycle dga-2019 (log head {head['events']}, {head['head'][:12]})\n",
    )
    assert html.count("Not shortlisted yet") == 3
    assert "the award is not complete" in html
    assert "none: the log has no checkpoint" in html
    with db.write(open_engine(sqlite_url)) as conn:
        unsigned = checkpoint.write_checkpoint(conn, None, cycle="dga-2019", actor="tester")
    report(url=sqlite_url, out=out)
    assert f"fixes the first {unsigned['size']} events" in out.read_text(encoding="utf-8")
    assert "not signed" in out.read_text(encoding="utf-8")


def test_report_without_a_database_is_one_clear_error(tmp_path: Path):
    missing = tmp_path / "none.db"
    result = CliRunner().invoke(main, ["--db", f"sqlite:///{missing}", "report"])
    assert (result.exit_code, result.output) == (
        1,
        f"Error: no database at {missing}; run `awards init WORKFLOW` first "
        "(or pass --db / set AWARDS_DATABASE_URL)\n",
    )


def test_report_states_rules_and_provenance_read_thai_first(built: Built):
    body = built.html.split("<body>")[1]
    text = re.sub(r"<svg.*?</svg>|<[^>]+>", " ", body, flags=re.DOTALL)
    assert "not_awarded" not in text  # only in class names, never shown
    for thai, english in (
        ("ไม่ได้รับรางวัล", "not awarded"),
        ("ผู้มีสิทธิ์", "pool"),
        ("ลำดับเมื่อคะแนนเท่ากัน", "tie-break"),
        ("ผู้ได้รับรางวัลเหมือนเดิมทั้ง", "The winners are the same under all"),
        ("ที่มาของตัวเลข", "Where these figures come from"),
        ("ลงนามด้วยกุญแจของคณะกรรมการ", "signed with the committee key"),
    ):
        assert 0 <= text.index(thai) < text.index(english)


def test_state_label_names_every_state_in_thai_and_english():
    labels = {state: state_label(state) for state in State}
    assert labels[State.NOT_AWARDED] == ("ไม่ได้รับรางวัล", "not awarded")
    assert labels[State.AWARDED] == ("ได้รับรางวัล", "awarded")
    assert all(
        any("\u0e00" <= c <= "\u0e7f" for c in th) and "_" not in en for th, en in labels.values()
    )
    with pytest.raises(ValueError):
        state_label("won")
