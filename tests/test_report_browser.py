"""`awards report` in a real browser: Debian's Chromium, headless, at a phone's width.

The report is loaded into a 390 px wide frame of a harness page (Chromium's own window
cannot be narrower than about 500 px); tests/browser/measure.js measures its layout there
and the harness writes the figures into the DOM, which `--dump-dom` prints. No driver
package: the browser's command line is the whole interface."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from awards.commands import demo
from awards.report.build import report

from support import copy_demo

CHROMIUM = shutil.which("chromium")
MEASURE = Path(__file__).parent / "browser" / "measure.js"
PHONE = 390  # CSS px: a common phone's viewport width

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)


def measure(page: Path, width: int, profile: Path) -> dict[str, object]:
    """The layout figures of the HTML file `page` shown `width` CSS px wide."""
    harness = page.with_name("harness.html")
    script = json.dumps(MEASURE.read_text(encoding="utf-8"))
    harness.write_text(
        '<!DOCTYPE html><html><body style="margin:0">'
        f'<iframe id="f" style="border:0;width:{width}px;height:844px" '
        f'srcdoc="{html.escape(page.read_text(encoding="utf-8"))}"></iframe>'
        '<script>window.addEventListener("load", function () {'
        ' var w = document.getElementById("f").contentWindow;'
        f" w.eval({script});"
        ' document.body.setAttribute("data-measured",'
        ' w.document.getElementById("measurements").textContent); });</script>'
        "</body></html>",
        encoding="utf-8",
    )
    assert CHROMIUM is not None
    dom = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={profile}", "--window-size=1200,900",
            "--virtual-time-budget=5000", "--dump-dom", harness.as_uri(),
        ],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    found = re.search(r'data-measured="([^"]*)"', dom)
    assert found, f"the harness wrote no measurements; the DOM ends {dom[-500:]!r}"
    return json.loads(html.unescape(found.group(1)))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def phone(
    tmp_path_factory: pytest.TempPathFactory, demo_cycle: demo.DemoResult
) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("browser")
    database = f"sqlite:///{copy_demo(demo_cycle.directory, folder / 'demo') / 'awards.db'}"
    page = report(url=database, out=folder / "report.html").html
    return measure(page, PHONE, folder / "profile")


def test_report_at_phone_width_has_no_horizontal_page_scroll(phone: dict[str, object]):
    # The frame's scroll bar takes a few px of the 390; the page must fit what is left.
    width, client = phone["scrollWidth"], phone["clientWidth"]
    assert isinstance(width, int) and isinstance(client, int)
    assert PHONE - 20 <= client <= PHONE
    assert width <= client


def test_report_at_phone_width_keeps_nominee_names_readable(phone: dict[str, object]):
    widths = phone["nameWidths"]
    assert isinstance(widths, list)
    assert len(widths) == 161  # every listed row of the three awards
    assert min(widths) >= 120  # about ten Thai letters a line, not one
    assert phone["overlaps"] == []  # no name runs into its score


def test_report_at_phone_width_breaks_no_header_inside_a_word(phone: dict[str, object]):
    # Words as ICU segments them (Thai too): each header word lies on one line.
    assert phone["broken"] == []
