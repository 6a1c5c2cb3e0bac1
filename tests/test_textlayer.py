"""The PDFs' text layer, read back with poppler's pdftotext as a reader's tools would: the
Thai that was typeset (ำ, stacked marks), each recipient's full name, in reading order."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest
from fontTools.ttLib import TTFont
from test_render import OCCASION, sheet

from awards.certificates import thaifont
from awards.certificates.fetcher import font_folder
from awards.certificates.sheet import Batch, Templates
from awards.certificates.typeset import render_batch

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="pdftotext is not installed (apt-get install poppler-utils)",
)

NAMES = {  # words with ำ, ำ under a tone mark, stacked marks (ที่, ทุ่ง, ศักดิ์)
    "certificate": "สำนักงานทรัพยากรน้ำบาดาลจังหวัดกำแพงเพชร",
    "policy-support": "ที่ทำการปกครองจังหวัดอำนาจเจริญ",
    "plaque": "สำนักงานพัฒนาที่ดินทุ่งกุลาร้องไห้ศักดิ์สิทธิ์",
}


def squeezed(text: str) -> str:
    """Text without white space: a name wrapped over two lines reads as one."""
    return re.sub(r"\s", "", text)


def pdftotext(path: Path, *options: str) -> str:
    out = subprocess.run(["pdftotext", *options, str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One sheet of each template, through the batch renderer `awards render` uses."""
    out = tmp_path_factory.mktemp("text")
    parts = tuple(
        (t, (sheet(t, n, recipient_th=name),)) for n, (t, name) in enumerate(NAMES.items())
    )
    batch = Batch(Templates.for_cycle(), parts, OCCASION, out, "text")
    return {t: r.temp for (t, _), r in zip(parts, render_batch(batch), strict=True)}


@pytest.mark.parametrize("template", list(NAMES))
def test_pdftotext_gives_back_the_thai_that_was_typeset(rendered, template):
    text = pdftotext(rendered[template])
    lines = text.splitlines()

    assert "รางวัลรัฐบาลดิจิทัล ประจำปี พ.ศ. ๒๕๖๒" in lines
    assert squeezed(NAMES[template]) in squeezed(text)
    assert squeezed("ให้ไว้ ณ ทำเนียบรัฐบาล เมื่อวันที่ ๒๘ พฤศจิกายน พ.ศ. ๒๕๖๒") in squeezed(text)
    assert "ตรวจสอบด้วยคำสั่ง awards verify K7QF-9XMD-2ABC-DEFG" in lines
    assert "(พลเอก ประยุทธ์ จันทร์โอชา)" in lines


def test_pdftotext_specimen_names_issuer_verify_address_and_mark(tmp_path):
    ceremony = dataclasses.replace(
        OCCASION.ceremony,
        issuer_th="สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)",
        verify_url="https://awards.example.go.th/verify",
    )
    occasion = dataclasses.replace(OCCASION, ceremony=ceremony, specimen=True)
    parts = (("certificate", (sheet("certificate"),)), ("plaque", (sheet("plaque", 2),)))

    done = render_batch(Batch(Templates.for_cycle(), parts, occasion, tmp_path, "specimen"))

    for rendered in done:
        lines = pdftotext(rendered.temp).splitlines()
        assert "สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)" in lines
        assert "ตรวจสอบได้ที่ https://awards.example.go.th/verify" in lines
        raw = pdftotext(rendered.temp, "-raw").splitlines()
        assert raw[:2] == ["ตัวอย่าง", "SPECIMEN"]  # read first: before anything it marks


def test_pdftotext_content_order_is_reading_order(rendered):
    raw = pdftotext(rendered["plaque"], "-raw").splitlines()  # the order drawn, no layout

    name = next(i for i, line in enumerate(raw) if line.startswith("สำนักงานพัฒนาที่ดิน"))
    order = [raw.index("มอบให้แก่"), name, raw.index("ให้ไว้ ณ ทำเนียบรัฐบาล"),
             raw.index("(พลเอก ประยุทธ์ จันทร์โอชา)")]  # fmt: skip
    assert order == sorted(order)
    assert [line for line in raw if line.strip()][-1].startswith("เลขที่ DGA-2562-TST-")


def test_derived_face_draws_am_with_the_aa_outline_and_advance():
    regular = next(f for f in thaifont.derived_faces() if (f.weight, f.style) == (400, "normal"))
    font, original = TTFont(regular.path), TTFont(font_folder() / "Sarabun-Regular.ttf")
    glyphs = font["glyf"]

    assert glyphs["uni0E32.am"].getCoordinates(glyphs) == glyphs["uni0E32"].getCoordinates(glyphs)
    assert font["hmtx"]["uni0E32.am"] == font["hmtx"]["uni0E32"]
    assert font.getGlyphOrder()[:-1] == original.getGlyphOrder()
    assert font.getBestCmap() == original.getBestCmap()


def test_derived_face_texts_keep_am_and_the_tone_of_a_nikhahit_ligature():
    regular = next(f for f in thaifont.derived_faces() if (f.weight, f.style) == (400, "normal"))
    order = TTFont(regular.path).getGlyphOrder()
    texts = thaifont.glyph_texts(regular.path)

    def text(glyph: str) -> str:
        return texts[order.index(glyph)]

    assert (text("uni0E32"), text("uni0E32.am"), text("uni0E4D")) == ("า", "ำ", "")
    assert (text("uni0E4D0E49"), text("uni0E48.small"), text("fi")) == ("้", "่", "fi")


def test_pdf_maps_every_thai_glyph_to_one_text(rendered):
    """No glyph of the Thai range reads as nothing but nikhahit."""
    reader = pypdf.PdfReader(rendered["certificate"])
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        cmap = font.get_object()["/ToUnicode"].get_object().get_data().decode()
        empty = re.findall(r"<([0-9a-f]{4})> <>", cmap)
        assert len(empty) <= 1  # nikhahit, drawn only inside ำ
