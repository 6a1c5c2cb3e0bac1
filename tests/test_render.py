"""Plaques and certificates: templates, real PDFs, the record of rendered files, `awards verify`.

The demo cycle is run once per session (75 certificates); tests that change its database or
files work on a copy. Thai text is checked in the HTML and in WeasyPrint's laid-out lines (the
PDFs' text layer is read back in test_textlayer.py); the PDFs are checked for what they
are: page size, page count, fonts, metadata, and a low-resolution raster against a reference.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import io
import itertools
import json
import os
import re
import sqlite3
from pathlib import Path

import orjson
import pypdf
import pypdfium2
import pytest
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops, ImageStat
from pythainlp.corpus import thai_words
from pythainlp.tokenize import word_tokenize

from awards.certificates import issuing
from awards.certificates.fetcher import Fetcher, RefusedURL, font_folder
from awards.certificates.pdfsplit import split
from awards.certificates.plan import parse_code, verification_code
from awards.certificates.sheet import Occasion, RenderError, Sheet, Templates, metadata
from awards.certificates.thaifont import cache_folder
from awards.certificates.typeset import Renderer, renderer
from awards.cli import main
from awards.commands import demo
from awards.errors import NotFound
from awards.paths import templates_dir
from awards.rules.workflow import Ceremony

from support import WORKFLOW, small_survey

GOLDEN = Path(__file__).resolve().parent / "golden"
SERIAL_RE = re.compile(r"DGA-2562-DGA2019-(PLQ|PRV|CPF)-\d{4}")
OCCASION = Occasion(
    "dga-2019", "รางวัลรัฐบาลดิจิทัล ประจำปี พ.ศ. ๒๕๖๒", "Digital Government Awards 2019", 2019,
    2562, Ceremony(datetime.date(2019, 11, 28), "พลเอก ประยุทธ์ จันทร์โอชา", "นายกรัฐมนตรี",
                   "ทำเนียบรัฐบาล", "General Prayut Chan-o-cha", "Prime Minister"),
)  # fmt: skip
AWARDS = {  # template -> (award id, title th, title en, reason th, reason en), as in dga-2019
    "plaque": ("top-department", "รางวัลหน่วยงานภาครัฐระดับกรมที่มีความพร้อมรัฐบาลดิจิทัลสูงสุด",
               "Top 10 department-level agencies in digital-government readiness",
               "หน่วยงานที่มีความพร้อมด้านรัฐบาลดิจิทัลสูงสุด ๑๐ อันดับแรก ระดับกรม", ""),
    "certificate": ("top-province", "รางวัลจังหวัดที่มีความพร้อมรัฐบาลดิจิทัลสูงสุด",
                    "Top 5 provinces in digital-government readiness",
                    "จังหวัดที่มีความพร้อมด้านรัฐบาลดิจิทัลสูงสุด ๕ อันดับแรก",
                    "One of the five provinces most ready for digital government"),
    "policy-support": ("copy-free", "รางวัลการสนับสนุนนโยบายรัฐบาล โครงการยกเลิกสำเนาเอกสารราชการ",
                       "Government policy support: copy-free government documents",
                       "หน่วยงานที่สนับสนุนนโยบายยกเลิกการเรียกสำเนาเอกสารราชการ",
                       "An agency that stopped asking citizens for copies of government documents"),
}  # fmt: skip


def sheet(template: str = "certificate", n: int = 1, **changes: str) -> Sheet:
    """A fixed sheet, independent of any database (for references and hostile input)."""
    award, th, en, reason_th, reason_en = AWARDS[template]
    fields = {
        "serial": f"DGA-2562-TST-{n:04d}",
        "code": "K7QF-9XMD-2ABC-DEFG",
        "nomination": f"{award}:T{n:03d}",
        "recipient_th": "กรมพัฒนาดิจิทัล (สมมติ)",
        "recipient_en": f"Department of Digital Development No. {n} (synthetic)",
        "award_id": award,
        "award_th": th,
        "award_en": en,
        "reason_th": reason_th,
        "reason_en": reason_en,
    }
    return Sheet(**(fields | changes))


def run(*args: str, db: str | None = None) -> tuple[int, str]:
    prefix = ["--db", db, "--actor", "tester"] if db else ["--actor", "tester"]
    result = CliRunner(env={"COLUMNS": "240"}).invoke(
        main, [*prefix, *args], catch_exceptions=False
    )
    return result.exit_code, result.output


def raster(pdf: bytes | Path, scale: float = 0.25) -> Image.Image:
    """The first page in grey, at `scale` x 72 dpi."""
    document = pypdfium2.PdfDocument(pdf if isinstance(pdf, Path) else io.BytesIO(pdf))
    try:
        return document[0].render(scale=scale).to_pil().convert("L")
    finally:
        document.close()


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    return ImageStat.Stat(ImageChops.difference(a, b)).mean[0]


def fonts_of(path: Path) -> set[str]:
    """Base names of every font in the PDF (page and form XObject resources), checking that
    each is embedded."""
    found = set()
    stack = [pypdf.PdfReader(path).pages[0]["/Resources"]]
    while stack:
        resources = stack.pop().get_object()
        for font in resources.get("/Font", {}).values():
            font = font.get_object()
            for part in [font, *[d.get_object() for d in font.get("/DescendantFonts", [])]]:
                if "/FontDescriptor" in part:
                    assert "/FontFile2" in part["/FontDescriptor"].get_object(), font["/BaseFont"]
            found.add(str(font["/BaseFont"]))
        for xobject in resources.get("/XObject", {}).values():
            if "/Resources" in xobject.get_object():
                stack.append(xobject.get_object()["/Resources"])
    return found


def query(directory: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(directory / "awards.db") as conn:
        return conn.execute(sql, args).fetchall()


@pytest.fixture
def cycle(demo_cycle: demo.DemoResult) -> demo.DemoResult:
    """The demo: the 2019 cycle run to the end, its 75 certificates rendered (shared: read
    only)."""
    return demo_cycle


@pytest.fixture
def copy(demo_copy: Path) -> Path:
    """A copy of the demo's folder (database and certificates) to change freely."""
    return demo_copy


def url_of(directory: Path) -> str:
    return f"sqlite:///{directory / 'awards.db'}"


# --- What the demo renders ------------------------------------------------------------------


def test_render_demo_writes_one_pdf_per_awarded_nomination(cycle):
    files = sorted(p.name for p in (cycle.directory / "certificates").iterdir())

    assert cycle.certificates.rendered == {"top-department": 10, "top-province": 5, "copy-free": 60}
    assert len(files) == 75
    assert all(SERIAL_RE.fullmatch(name.removesuffix(".pdf")) for name in files)
    assert files[:2] == ["DGA-2562-DGA2019-CPF-0001.pdf", "DGA-2562-DGA2019-CPF-0002.pdf"]


def test_render_pdf_page_size_and_count_by_template(cycle):
    sizes = {}
    for path in (cycle.directory / "certificates").glob("*.pdf"):
        reader = pypdf.PdfReader(path)
        assert len(reader.pages) == 1
        box = reader.pages[0].mediabox
        sizes.setdefault(path.name.split("-")[3], set()).add((round(box.width), round(box.height)))

    assert sizes == {"PLQ": {(595, 842)}, "PRV": {(842, 595)}, "CPF": {(842, 595)}}


def test_render_pdf_embeds_sarabun_only(cycle):
    folder = cycle.directory / "certificates"
    for name in (
        "DGA-2562-DGA2019-PLQ-0001.pdf",
        "DGA-2562-DGA2019-PRV-0001.pdf",
        "DGA-2562-DGA2019-CPF-0001.pdf",
    ):
        fonts = fonts_of(folder / name)

        assert {re.sub(r"^/[A-Z]{6}\+", "", f) for f in fonts} == {"Sarabun", "Sarabun-Bold"}


def test_render_pdf_metadata_carries_serial_and_code(cycle):
    recorded = dict(query(cycle.directory, "SELECT serial, code FROM certificate"))
    for path in (cycle.directory / "certificates").glob("*.pdf"):
        info = pypdf.PdfReader(path).metadata

        assert info["/AwardsSerial"] == path.stem
        assert info["/AwardsCode"] == recorded[path.stem]
        assert info["/Keywords"] == f"serial {path.stem}, verification code {recorded[path.stem]}"


def test_render_records_every_file_and_logs_it(cycle):
    rows = query(cycle.directory, "SELECT serial, pdf_sha256, size, seq FROM certificate")
    events = {
        seq: orjson.loads(body)
        for seq, body in query(
            cycle.directory, "SELECT seq, body FROM event WHERE kind = 'certificate_rendered'"
        )
    }

    assert len(rows) == len(events) == 75
    for serial, digest, size, seq in rows:
        data = (cycle.directory / "certificates" / f"{serial}.pdf").read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (digest, size)
        assert (events[seq]["serial"], events[seq]["pdf_sha256"]) == (serial, digest)
        assert all(type(v) in (str, int, bool) for v in events[seq].values())


def test_render_code_derives_from_the_award_event_in_the_log(cycle):
    (nominee, code), *_ = query(
        cycle.directory, "SELECT nominee_id, code FROM certificate WHERE serial LIKE '%PRV%'"
    )
    events = [json.loads(line) for line in cycle.log.read_text(encoding="utf-8").splitlines()]
    award = next(
        e
        for e in events
        if e["event"].get("nominee") == nominee and e["event"].get("trigger") == "award"
    )
    digest = hashlib.sha256(b"awards-verify:" + award["hash"].encode()).digest()[:10]
    rfc = base64.b32encode(digest).decode()  # the same bits, RFC 4648 letters
    crockford = rfc.translate(
        str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    )

    assert code == verification_code(award["hash"]) == "-".join(re.findall("....", crockford))


def test_render_serials_follow_rank_within_each_award(cycle):
    rows = query(
        cycle.directory,
        "SELECT c.serial, n.rank FROM certificate c JOIN nomination n ON n.id = c.nomination_id "
        "WHERE c.award = 'top-department' ORDER BY c.serial",
    )

    assert [rank for _, rank in rows] == sorted(rank for _, rank in rows)


def test_parse_code_reads_what_people_type():
    assert parse_code("k7qf 9xmd-2abc-defg") == "K7QF-9XMD-2ABC-DEFG"
    assert parse_code("K7QF-9XMD-2ABC-DEFO") == "K7QF-9XMD-2ABC-DEF0"  # O is read as 0
    assert parse_code("K7QF-9XMD-2ABC-DEF") is None
    assert parse_code("K7QF-9XMD-2ABC-DEFU") is None  # U is not a code letter


# --- HTML and Thai ---------------------------------------------------------------------------


def test_certificate_html_province_in_thai_with_thai_digits(cycle):
    province = cycle.winners["top-province"].rows[0]
    code, serial = query(
        cycle.directory,
        "SELECT code, serial FROM certificate WHERE nominee_id = ?",
        province.nominee_id,
    )[0]

    html = issuing.certificate_html(province.nomination, url=cycle.database)

    assert '<html lang="th">' in html
    for text in (
        f"จังหวัด{province.name_th}",
        f"{province.name_en} Province",
        'ให้ไว้ ณ ทำเนียบรัฐบาล</span> <span class="nowrap">เมื่อวันที่ ๒๘ พฤศจิกายน พ.ศ. ๒๕๖๒',
        "รางวัลรัฐบาลดิจิทัล ประจำปี พ.ศ. ๒๕๖๒",
        "สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)",
        "ขอมอบประกาศนียบัตรฉบับนี้ไว้เพื่อแสดงว่า",
        "(ผู้ลงนามตัวอย่าง)",  # the demo names no real signatory (demo.specimen_copy)
        "Specimen Signatory, Specimen Position",
        'ตัวอย่าง<br><span lang="en">SPECIMEN</span>',
        f'ตรวจสอบด้วยคำสั่ง <span lang="en">awards verify {code}</span>',
        "รางวัลจังหวัดที่มีความพร้อมรัฐบาลดิจิทัลสูงสุด",
        "Top 5 provinces in digital-government readiness",
        "จังหวัดที่มีความพร้อมด้านรัฐบาลดิจิทัลสูงสุด ๕ อันดับแรก",
        f"เลขที่ {serial}",
        f"รหัสตรวจสอบ {code}",
    ):
        assert text in html
    assert html.count("<svg") == 1
    assert "ประยุทธ์" not in html and "Prayut" not in html
    assert html.count("ให้ไว้") == 1 and html.count("ณ ") == 1


def test_certificate_html_plaque_names_the_place_once(cycle):
    winner = cycle.winners["top-department"].rows[0]

    html = issuing.certificate_html(winner.nomination, url=cycle.database)

    assert "ให้ไว้ ณ ทำเนียบรัฐบาล" in html
    assert html.count("ณ ") == 1 and html.count("ให้ไว้") == 1
    assert f">{winner.name_th}</p>" in html


def test_certificate_html_unknown_nomination_is_not_found(cycle):
    with pytest.raises(NotFound) as caught:
        issuing.certificate_html("top-province:nowhere", url=cycle.database)

    assert str(caught.value) == "nomination top-province:nowhere is not awarded in cycle dga-2019"


def test_occasion_digits_arabic_when_configured():
    arabic = dataclasses.replace(OCCASION.ceremony, digits="arabic")
    ceremony = dataclasses.replace(OCCASION, ceremony=arabic).context()["ceremony"]

    assert ceremony["given_th"] == "ให้ไว้ ณ ทำเนียบรัฐบาล เมื่อวันที่ 28 พฤศจิกายน พ.ศ. 2562"
    assert OCCASION.context()["ceremony"]["given_th"] == (
        "ให้ไว้ ณ ทำเนียบรัฐบาล เมื่อวันที่ ๒๘ พฤศจิกายน พ.ศ. ๒๕๖๒"
    )
    assert OCCASION.context()["ceremony"]["given_en"] == "Given on 28 November 2019"


@pytest.mark.parametrize(
    ("place", "given"),
    [
        ("ณ ทำเนียบรัฐบาล", "ให้ไว้ ณ ทำเนียบรัฐบาล เมื่อวันที่ ๒๘ พฤศจิกายน พ.ศ. ๒๕๖๒"),
        ("ทำเนียบรัฐบาล", "ให้ไว้ ณ ทำเนียบรัฐบาล เมื่อวันที่ ๒๘ พฤศจิกายน พ.ศ. ๒๕๖๒"),
        ("", "ให้ไว้ ณ วันที่ ๒๘ พฤศจิกายน พ.ศ. ๒๕๖๒"),
    ],
)
def test_occasion_given_says_given_and_at_once(place, given):
    ceremony = dataclasses.replace(OCCASION.ceremony, place_th=place)

    context = dataclasses.replace(OCCASION, ceremony=ceremony).context()["ceremony"]

    assert context["given_th"] == given
    assert " ".join(context["given_parts_th"]) == given


@pytest.mark.parametrize("template", ["plaque", "certificate", "policy-support"])
def test_html_every_character_is_in_sarabun(template):
    cmaps = [
        set(TTFont(font_folder() / f"Sarabun-{face}.ttf").getBestCmap())
        for face in ("Regular", "Bold")
    ]
    html = renderer(Templates.for_cycle()).html(template, OCCASION, [sheet(template)])
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", "", html, flags=re.S))
    text = text.replace("&nbsp;", "\xa0").replace("&#34;", '"').replace("&amp;", "&")

    missing = {ch for ch in text if not ch.isspace() and not all(ord(ch) in c for c in cmaps)}

    assert missing == set()


def test_thai_lines_break_between_words():
    from weasyprint.formatting_structure import boxes

    name = "สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดพระนครศรีอยุธยาและสำนักงานโยธาธิการจังหวัด"
    doc = renderer(Templates.for_cycle()).layout(
        "certificate", OCCASION, [sheet(recipient_th=name)], layered=False
    )
    p = next(
        b
        for b in doc.pages[0]._page_box.descendants(placeholders=True)
        if isinstance(b, boxes.BlockBox) and b.element_tag == "p"
        and b.element.get("class") == "recipient-th"
    )  # fmt: skip
    lines = [
        "".join(t.text for t in line.descendants() if isinstance(t, boxes.TextBox))
        for line in p.children
    ]
    words = thai_words()

    assert len(lines) >= 2
    assert "".join(lines) == name
    for before, after in itertools.pairwise(lines):
        assert word_tokenize(before)[-1] in words, (before, after)
        assert word_tokenize(after)[0] in words, (before, after)


# --- Layers, batches and references ---------------------------------------------------------


@pytest.mark.parametrize("template", ["plaque", "certificate", "policy-support"])
def test_layered_batch_looks_like_the_certificate_rendered_alone(template):
    kit = renderer(Templates.for_cycle())
    sheets = [sheet(template, n) for n in (1, 2, 3)]
    alone = kit.layout(template, OCCASION, [sheets[1]], layered=False).write_pdf()

    batch = split(
        kit.layout(template, OCCASION, sheets).write_pdf(), [metadata(s, OCCASION) for s in sheets]
    )

    assert mean_difference(raster(alone, 0.5), raster(batch[1], 0.5)) < 0.05


@pytest.mark.parametrize("template", ["plaque", "certificate", "policy-support"])
def test_render_matches_reference_raster(template):
    sheets = [sheet(template)]
    pdf = split(renderer(Templates.for_cycle()).layout(template, OCCASION, sheets).write_pdf(),
                [metadata(sheets[0], OCCASION)])[0]  # fmt: skip
    reference = GOLDEN / f"{template}.png"
    if os.environ.get("AWARDS_UPDATE_GOLDEN"):
        raster(pdf).save(reference, optimize=True)

    assert mean_difference(raster(pdf), Image.open(reference).convert("L")) < 2.0


def test_split_gives_each_file_its_own_page_and_information():
    sheets = [sheet("certificate", n) for n in (1, 2, 3)]
    infos = [metadata(s, OCCASION) for s in sheets]
    batch = renderer(Templates.for_cycle()).layout("certificate", OCCASION, sheets).write_pdf()

    files = split(batch, infos)

    for n, data in enumerate(files, start=1):
        reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
        text = reader.pages[0].extract_text()
        assert len(reader.pages) == 1
        assert reader.metadata["/AwardsSerial"] == f"DGA-2562-TST-{n:04d}"
        assert f"No. {n} (synthetic)" in text  # English only: extraction drops Thai vowels
        assert [f"No. {m} " in text for m in (1, 2, 3) if m != n] == [False, False]


def test_render_name_too_long_for_its_box_is_an_error():
    long = "สำนักงานป้องกันและบรรเทาสาธารณภัยจังหวัดพระนครศรีอยุธยา " * 5

    with pytest.raises(RenderError) as caught:
        renderer(Templates.for_cycle()).layout("certificate", OCCASION, [sheet(recipient_th=long)])

    assert str(caught.value) == (
        f"DGA-2562-TST-0001: '{long[:60]}' does not fit its box (.recipient.fit) in template"
        " 'certificate'; shorten the text or enlarge the box"
    )


@pytest.mark.parametrize(
    ("verify_url", "expected"),
    [
        ("", "K7QF-9XMD-2ABC-DEFG"),
        ("https://a.example/v", "https://a.example/v/K7QF-9XMD-2ABC-DEFG"),
    ],
    ids=["bare-code", "address"],
)
def test_render_qr_code_reads_back_as_the_code_or_its_address(verify_url, expected):
    zxingcpp = pytest.importorskip("zxingcpp", reason="no QR reader (pip install zxing-cpp)")
    ceremony = dataclasses.replace(OCCASION.ceremony, verify_url=verify_url)
    occasion = dataclasses.replace(OCCASION, ceremony=ceremony)
    pdf = renderer(Templates.for_cycle()).layout("plaque", occasion, [sheet("plaque")]).write_pdf()

    found = zxingcpp.read_barcodes(raster(pdf, 3))

    assert [b.text for b in found] == [expected]


def test_render_emblem_is_fetched_and_nothing_beside_it(tmp_path):
    emblem = tmp_path / "emblem.svg"
    emblem.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        '<circle cx="5" cy="5" r="4" fill="#a8843a"/></svg>'
    )
    (tmp_path / "beside.css").write_text("p { color: red; }")
    kit = Renderer(Templates.for_cycle())
    occasion = dataclasses.replace(OCCASION, emblem=emblem)

    html = kit.html("certificate", occasion, [sheet()], "static")
    kit.layout("certificate", occasion, [sheet()])

    assert f'<img class="emblem" src="{emblem.as_uri()}" alt="">' in html
    assert emblem.resolve() in kit.fetcher.fetched
    with pytest.raises(RefusedURL):
        kit.fetcher.resolve((tmp_path / "beside.css").as_uri())


# --- Safety -----------------------------------------------------------------------------------


def test_hostile_name_is_text_and_fetches_nothing():
    hostile = '<img src="file:///etc/passwd">'
    kit = Renderer(Templates.for_cycle())

    html = kit.html("certificate", OCCASION, [sheet(recipient_th=hostile)])
    pdf = kit.layout(
        "certificate", OCCASION, [sheet(recipient_th=hostile)], layered=False
    ).write_pdf()

    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert "<img" not in html
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 1
    allowed = (templates_dir().resolve(), font_folder(), cache_folder())
    assert kit.fetcher.fetched
    assert all(any(path.is_relative_to(root) for root in allowed) for path in kit.fetcher.fetched)
    assert not [p for p in kit.fetcher.fetched if p.suffix not in (".css", ".ttf")]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "https://example.com/style.css",
        "data:text/css,body{color:red}",
        f"{templates_dir().resolve().as_uri()}/../pyproject.toml",
        f"{templates_dir().resolve().as_uri()}/missing.css",
        "file://otherhost/share/awards.css",
    ],
    ids=["system-file", "http", "data", "dot-dot", "missing", "remote-host"],
)
def test_fetcher_refuses_outside_the_templates_and_fonts(url):
    fetcher = Fetcher(Templates.for_cycle(), [font_folder()])

    with pytest.raises(RefusedURL, match=r"^refused "):
        fetcher.resolve(url)


def test_fetcher_serves_templates_and_fonts_the_cycles_own_first(tmp_path):
    (tmp_path / "awards.css").write_text("p { color: red; }", encoding="utf-8")
    fetcher = Fetcher(Templates.for_cycle(tmp_path), [font_folder()])
    shipped = templates_dir().resolve()

    assert fetcher.resolve(f"{shipped.as_uri()}/awards.css") == tmp_path.resolve() / "awards.css"
    assert fetcher.resolve(f"{shipped.as_uri()}/plaque.css") == shipped / "plaque.css"
    font = (font_folder() / "Sarabun-Bold.ttf").as_uri()
    assert fetcher.resolve(font) == font_folder() / "Sarabun-Bold.ttf"


def _own(tmp_path: Path, body: str) -> Renderer:
    (tmp_path / "broken.html").write_text(
        f'{{% extends "_base.html" %}}\n{body}\n', encoding="utf-8"
    )
    return Renderer(Templates.for_cycle(tmp_path))


def test_template_undefined_variable_names_template_and_variable(tmp_path):
    kit = _own(tmp_path, "{% block static %}\n<p>{{ nope }}</p>\n{% endblock %}")

    with pytest.raises(RenderError) as caught:
        kit.html("broken", OCCASION, [sheet()])

    assert str(caught.value) == "template broken.html, line 3: 'nope' is undefined"


def test_template_static_layer_cannot_see_a_sheet(tmp_path):
    kit = _own(tmp_path, "{% block static %}<p>{{ s.serial }}</p>{% endblock %}")

    with pytest.raises(RenderError) as caught:
        kit.html("broken", OCCASION, [sheet()])

    assert str(caught.value) == "template broken.html, line 2: 's' is undefined"


def test_template_sandbox_refuses_unsafe_attributes(tmp_path):
    kit = _own(tmp_path, "{% block static %}{{ cycle.__class__.__mro__ }}{% endblock %}")

    with pytest.raises(RenderError, match=r"^template broken\.html, line 2: "):
        kit.html("broken", OCCASION, [sheet()])


# --- Rendering again, failures, variants -------------------------------------------------------


def test_render_again_renders_only_what_is_missing(copy):
    (copy / "certificates" / "DGA-2562-DGA2019-PRV-0003.pdf").unlink()
    before = query(
        copy, "SELECT serial, code FROM certificate WHERE serial = 'DGA-2562-DGA2019-PRV-0003'"
    )

    code, out = run("render", "--out", str(copy / "certificates"), db=url_of(copy))

    assert (code, out) == (
        0,
        f"1 certificate rendered into {copy / 'certificates'} (top-province 1); 74 already there\n",
    )
    after = query(
        copy, "SELECT serial, code FROM certificate WHERE serial = 'DGA-2562-DGA2019-PRV-0003'"
    )
    assert after == before * 2  # same serial and code, a second rendering recorded
    assert run("render", "--out", str(copy / "certificates"), db=url_of(copy)) == (
        0, f"nothing to render: all 75 certificates are already in {copy / 'certificates'}\n",
    )  # fmt: skip


def test_render_one_award_in_worker_processes(copy):
    out = copy / "pool"

    result = issuing.render(
        url=url_of(copy), award="copy-free", out=out, actor="tester", workers=2, batch_size=25
    )

    assert result.rendered == {"copy-free": 60}
    assert len(list(out.glob("DGA-2562-DGA2019-CPF-*.pdf"))) == 60
    assert list(out.glob(".*")) == []
    assert run("verify", str(out / "DGA-2562-DGA2019-CPF-0042.pdf"), db=url_of(copy))[0] == 0


def test_render_pdfa_writes_pdf_a_3b(copy):
    code, out = run(
        "render",
        "--award",
        "top-province",
        "--pdfa",
        "--out",
        str(copy / "archive"),
        db=url_of(copy),
    )
    reader = pypdf.PdfReader(copy / "archive" / "DGA-2562-DGA2019-PRV-0001.pdf")
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()

    assert (code, out) == (
        0,
        f"5 PDF/A-3b certificates rendered into {copy / 'archive'} (top-province 5)\n",
    )
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert reader.metadata["/AwardsSerial"] == "DGA-2562-DGA2019-PRV-0001"
    assert (
        run("verify", str(copy / "archive" / "DGA-2562-DGA2019-PRV-0001.pdf"), db=url_of(copy))[0]
        == 0
    )


@pytest.fixture
def own_cycle(tmp_path: Path) -> tuple[str, Path]:
    """A small cycle whose workflow names its own templates folder, in which policy-support
    is broken (an undefined variable) and everything else falls back to the shipped files."""
    own = tmp_path / "own"
    own.mkdir()
    (own / "policy-support.html").write_text(
        '{% extends "_certificate.html" %}\n{% block lead %}\n{{ nope }}\n{% endblock %}\n',
        encoding="utf-8",
    )
    text = WORKFLOW.read_text(encoding="utf-8").replace(
        'serial_prefix = "DGA"', 'serial_prefix = "DGA"\ntemplates = "own"'
    )
    workflow = tmp_path / "own-2019.toml"
    workflow.write_text(text, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    assert run("init", str(workflow), db=url)[0] == 0
    assert run("import", str(small_survey(tmp_path / "survey.csv")), db=url)[0] == 0
    assert run("advance", db=url)[0] == 0
    return url, tmp_path


def test_render_broken_template_one_clear_line_and_nothing_written(own_cycle):
    url, folder = own_cycle

    code, out = run("render", "--out", str(folder / "out"), db=url)

    assert (code, out) == (1, "Error: template policy-support.html, line 3: 'nope' is undefined\n")
    assert list((folder / "out").iterdir()) == []
    assert query(folder, "SELECT count(*) FROM certificate") == [(0,)]
    assert query(folder, "SELECT count(*) FROM event WHERE kind = 'certificate_rendered'") == [(0,)]


def test_render_cycle_templates_fall_back_to_shipped_ones(own_cycle):
    url, folder = own_cycle

    code, out = run("render", "--award", "top-province", "--out", str(folder / "out"), db=url)

    assert (code, out) == (0, f"5 certificates rendered into {folder / 'out'} (top-province 5)\n")


def test_render_before_any_award_renders_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    run("init", str(WORKFLOW), db=url)

    assert run("render", "--out", str(tmp_path / "out"), db=url) == (
        0, "nothing to render: no nomination of cycle dga-2019 is awarded\n",
    )  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_render_cycle_without_ceremony_is_refused(tmp_path):
    text = WORKFLOW.read_text(encoding="utf-8")
    start, end = text.index("[ceremony]"), text.index("[[dimensions]]")
    workflow = tmp_path / "plain.toml"
    workflow.write_text(text[:start] + text[end:], encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    run("init", str(workflow), db=url)

    assert run("render", db=url) == (
        1,
        "Error: cycle dga-2019 has no [ceremony] in its workflow, and certificates need its"
        " date and signatory; a cycle's rules cannot change once opened, so open the next"
        " cycle with a [ceremony] table\n",
    )


# --- awards verify ---------------------------------------------------------------------------


def _facts(directory: Path, serial: str) -> tuple[str, list[str]]:
    """The code and the five lines `verify` prints about a certificate."""
    (code, award, nominee), *_ = query(
        directory, "SELECT code, award, nominee_id FROM certificate WHERE serial = ?", serial
    )
    (name_th, name_en), *_ = query(
        directory,
        "SELECT name_th, name_en FROM nomination WHERE award = ? AND nominee_id = ?",
        award,
        nominee,
    )
    bodies = [
        orjson.loads(b)
        for (b,) in query(
            directory, "SELECT body FROM event WHERE nominee = ? AND award = ?", nominee, award
        )
    ]
    awarded = next(b for b in bodies if b.get("trigger") == "award")
    rendered = next(b for b in bodies if b.get("serial") == serial)
    (pinned,), *_ = query(
        directory,
        "SELECT min(seq) FROM event WHERE kind = 'checkpoint' AND seq > ?",
        rendered["seq"],
    )
    signer = (directory / "committee.key.pub").read_text().strip()[:16]
    return code, [
        f"  recipient: {name_th} ({name_en})",
        "  award:     รางวัลหน่วยงานภาครัฐระดับกรมที่มีความพร้อมรัฐบาลดิจิทัลสูงสุด (top-department)",
        "  cycle:     รางวัลรัฐบาลดิจิทัล ประจำปี พ.ศ. ๒๕๖๒ (dga-2019)",
        f"  decision:  awarded {awarded['at']}, decision log event {awarded['seq']}",
        f"  rendered:  {rendered['at']}, decision log event {rendered['seq']}, under the checkpoint "
        f"at event {pinned} (signed with key {signer}, not checked against a trusted key: --public-key)",
    ]  # fmt: skip


def test_verify_valid_file_and_code(cycle):
    path = cycle.directory / "certificates" / "DGA-2562-DGA2019-PLQ-0002.pdf"
    code, facts = _facts(cycle.directory, "DGA-2562-DGA2019-PLQ-0002")
    expected = (
        "\n".join([f"valid: DGA-2562-DGA2019-PLQ-0002 (verification code {code})", *facts]) + "\n"
    )

    assert run("verify", str(path), db=cycle.database) == (0, expected)
    assert run("verify", code.lower().replace("-", ""), db=cycle.database) == (0, expected)
    # what a QR code holds when the workflow declares a verify_url
    address = f"https://awards.example.go.th/verify/{code}"
    assert run("verify", address, db=cycle.database) == (0, expected)


def test_verify_json(cycle):
    path = cycle.directory / "certificates" / "DGA-2562-DGA2019-PLQ-0002.pdf"

    code, out = run("verify", "--json", str(path), db=cycle.database)
    data = json.loads(out)

    assert (code, data["status"], data["serial"], data["award"]) == (
        0,
        "valid",
        "DGA-2562-DGA2019-PLQ-0002",
        "top-department",
    )
    assert data["sha256"] == data["pdf_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_verify_revoked_says_so_with_the_reason(copy):
    code, facts = _facts(copy, "DGA-2562-DGA2019-PLQ-0001")
    (nominee,), *_ = query(
        copy, "SELECT nominee_id FROM certificate WHERE serial = 'DGA-2562-DGA2019-PLQ-0001'"
    )
    assert (
        run("revoke", f"top-department:{nominee}", "--reason", "ข้อมูลไม่ถูกต้อง", db=url_of(copy))[0]
        == 0
    )
    (body,), *_ = query(
        copy, "SELECT body FROM event WHERE kind = 'transition' ORDER BY seq DESC LIMIT 1"
    )
    revoked = orjson.loads(body)

    result = run("verify", code, db=url_of(copy))

    assert result == (1, "\n".join([
        "revoked: DGA-2562-DGA2019-PLQ-0001 is no longer valid: the award was revoked (ข้อมูลไม่ถูกต้อง)",
        *facts,
        f"  revoked:   {revoked['at']} by tester, decision log event {revoked['seq']}",
    ]) + "\n")  # fmt: skip
    assert (
        run("verify", str(copy / "certificates" / "DGA-2562-DGA2019-PLQ-0001.pdf"), db=url_of(copy))
        == result
    )


def test_verify_one_byte_changed_is_tampered(cycle, tmp_path):
    original = cycle.directory / "certificates" / "DGA-2562-DGA2019-CPF-0007.pdf"
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0x01
    altered = tmp_path / "DGA-2562-DGA2019-CPF-0007.pdf"
    altered.write_bytes(data)
    recorded = hashlib.sha256(original.read_bytes()).hexdigest()
    actual = hashlib.sha256(data).hexdigest()

    assert run("verify", str(altered), db=cycle.database) == (
        1,
        f"tampered: {altered} claims to be DGA-2562-DGA2019-CPF-0007, but the file's SHA-256"
        f" ({actual[:16]}...) does not match the recorded one ({recorded[:16]}...): it was"
        " altered after rendering\n",
    )


def test_verify_unknown_code_file_and_nonsense(cycle, tmp_path):
    stranger = tmp_path / "stranger.pdf"
    writer = pypdf.PdfWriter()
    writer.add_blank_page(100, 100)
    writer.write(stranger)

    assert run("verify", "0000-0000-0000-0000", db=cycle.database) == (
        1, "unknown: no certificate with the code 0000-0000-0000-0000 in this database\n",
    )  # fmt: skip
    assert run("verify", str(stranger), db=cycle.database) == (
        1, f"unknown: {stranger} is not a certificate recorded in this database (it carries no serial)\n",
    )  # fmt: skip
    assert run("verify", "hello", db=cycle.database) == (
        1, "invalid: 'hello' is neither a verification code (16 letters and digits, e.g."
        " K7QF-9XMD-2ABC-DEFG) nor a PDF file\n",
    )  # fmt: skip
    assert run("verify", str(tmp_path / "missing.pdf"), db=cycle.database) == (
        1, f"Error: No such file or directory: {tmp_path / 'missing.pdf'}\n",
    )  # fmt: skip


def test_help_lists_render_and_verify():
    code, out = run("--help")

    assert code == 0
    assert "  render " in out and "  verify " in out


def test_log_shows_the_renderings(cycle):
    code, out = run("log", "--award", "top-province", db=cycle.database)

    assert code == 0
    assert "certificate_rendered" in out
    assert "rendered DGA-2562-DGA2019-PRV-0001 (certificate)" in out


def test_the_report_templates_do_not_count_in_a_certificate_templates_hash(tmp_path):
    own = tmp_path / "templates"
    (own / "report").mkdir(parents=True)
    (own / "report" / "report.css").write_text("body { color: red }", encoding="utf-8")
    assert Templates.for_cycle(own).sha256("plaque") == Templates.for_cycle().sha256("plaque")
