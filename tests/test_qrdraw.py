"""The QR code drawn straight into the PDF is the QR code of the HTML, module for module, and
looks as WeasyPrint would draw that SVG; any other SVG is left to WeasyPrint."""

from __future__ import annotations

import re

import pypdfium2
import pytest
from PIL import ImageChops
from test_render import OCCASION, sheet

from awards.certificates import typeset
from awards.certificates.html import qr_svg
from awards.certificates.qrdraw import QRDrawing, runs
from awards.certificates.sheet import Templates
from awards.certificates.typeset import renderer

zxingcpp = pytest.importorskip("zxingcpp", reason="no QR reader (pip install zxing-cpp)")


def test_qr_path_runs_are_the_symbol_modules():
    text = "https://awards.example.go.th/verify/K7QF-9XMD-2ABC-DEFG"
    d = re.search(
        r' d="([^"]*)"', qr_svg("K7QF-9XMD-2ABC-DEFG", "https://awards.example.go.th/verify")
    )
    symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules = memoryview(symbol.to_image(scale=1, add_quiet_zones=False)).tolist()

    found = runs(d.group(1)) if d else None

    dark = {(int(x) + i, int(y)) for x, y, n in found or [] for i in range(n)}
    expected = {(x, y) for y, row in enumerate(modules) for x, v in enumerate(row) if v == 0}
    assert dark == expected
    assert runs("M0 0.5h7m3 0h1m-10 1h2") == [(0, 0, 7), (10, 0, 1), (1, 1, 2)]  # relative moves
    assert runs("M0 0.5h7 L3 3") is None  # any other path is WeasyPrint's to draw


def _page(pdf: bytes):
    return pypdfium2.PdfDocument(pdf)[0].render(scale=2).to_pil().convert("L")


def test_qr_drawn_directly_looks_as_weasyprint_draws_the_svg(monkeypatch):
    kit = renderer(Templates.for_cycle())
    doc = kit.layout("certificate", OCCASION, [sheet("certificate")])
    drawn = [b.replacement for p in doc.pages for b in p._page_box.descendants(placeholders=True)
             if isinstance(getattr(b, "replacement", None), QRDrawing)]  # fmt: skip
    fast = _page(doc.write_pdf())
    monkeypatch.setattr(typeset, "_fast_qr", lambda doc: None)
    slow = _page(kit.layout("certificate", OCCASION, [sheet("certificate")]).write_pdf())

    assert len(drawn) == 1
    box = ImageChops.difference(fast, slow).getbbox()
    # At most one row of pixels differs, by anti-aliasing at the symbol's lower edge.
    assert box is None or box[3] - box[1] <= 1
    assert [b.text for b in zxingcpp.read_barcodes(fast)] == ["K7QF-9XMD-2ABC-DEFG"]
