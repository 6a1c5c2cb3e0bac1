"""The report's charts: inline SVG drawn by matplotlib in the Sarabun font.

Text is drawn as glyph outlines (`svg.fonttype = "path"`), shaped by matplotlib, so Thai
reads the same in any browser and in WeasyPrint with no font installed and nothing fetched.
(As SVG <text>, WeasyPrint drops a tone mark stacked over an upper vowel: ที่ becomes ที.)
matplotlib is imported inside the functions: only a report pays for it. No pyplot: figures
are plain `Figure` objects, so no GUI backend and no global figure state are involved.

The numbers drawn come from the caller (the scoring functions); floats here only place
bars and lines, every printed figure is the caller's Decimal as a string.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from awards.paths import sarabun_faces
from awards.rules.formatting import figure

FAMILY = "Sarabun"
PALETTE = ("#1d4e89", "#e07a1f", "#2a9d8f", "#8d5a97")
_RC = {
    "font.family": FAMILY,
    "font.size": 9,
    "svg.fonttype": "path",
    "svg.hashsalt": "awards-report",  # stable ids: the same data give the same file
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_ID = re.compile(r'\bid="([^"]+)"')


def sarabun(weight: int = 400) -> Path:
    """The upright Sarabun TTF of this weight from the fontpkg-sarabun package."""
    for face in sarabun_faces():
        if face.weight == weight and face.style == "normal":
            return face.path
    raise ValueError(f"fontpkg-sarabun has no upright face of weight {weight}")


@cache
def _matplotlib() -> Any:
    import matplotlib  # a report's dependency only, heavy to import
    from matplotlib import font_manager  # with matplotlib itself: see above

    for weight in (400, 700):
        font_manager.fontManager.addfont(str(sarabun(weight)))
    return matplotlib


def _svg(fig: Any, prefix: str) -> str:
    """The figure as an <svg> element to inline in HTML: no XML prolog, no metadata, and
    every id prefixed so that several charts in one page do not share ids."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    ids = set(_ID.findall(text))
    text = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = re.sub(
        r'(href="#|url\(#)([^")]+)',
        lambda m: m.group(1) + (f"{prefix}-{m.group(2)}" if m.group(2) in ids else m.group(2)),
        text,
    )
    return text.replace("<svg ", f'<svg class="chart" role="img" aria-label="{prefix}" ', 1)


def dimension_means(
    labels: Sequence[str], series: Mapping[str, Sequence[Decimal | None]], *, prefix: str
) -> str:
    """Horizontal bars: one group per label (dimension), one bar per series (level), each
    with its value printed at its end. A None value draws no bar."""
    mpl = _matplotlib()
    from matplotlib.figure import Figure  # matplotlib is loaded only for a chart

    with mpl.rc_context(_RC):
        n, k = len(labels), max(len(series), 1)
        fig = Figure(figsize=(10, 0.6 + 0.2 * n * k), layout="constrained")
        ax = fig.add_subplot()
        height = 0.8 / k
        for j, (name, values) in enumerate(series.items()):
            ys = [i + (j - (k - 1) / 2) * height for i in range(n)]
            xs = [0.0 if v is None else float(v) for v in values]
            bars = ax.barh(
                ys, xs, height=height * 0.92, color=PALETTE[j % len(PALETTE)], label=name
            )
            texts = [figure(v, missing="") for v in values]
            ax.bar_label(bars, labels=texts, padding=3, fontsize=8)
        ax.set_yticks(range(n), labels)
        ax.invert_yaxis()
        ax.set_xlim(0, 105)
        ax.set_xlabel("คะแนนเฉลี่ย (mean score, 0–100)")
        ax.grid(axis="x", color="#e5e7eb", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.legend(loc="lower right", frameon=False)
        return _svg(fig, prefix)


def distribution(
    scores: Sequence[Decimal],
    highlighted: Sequence[bool],
    lines: Sequence[tuple[str, Decimal]],
    *,
    labels: tuple[str, str],
    prefix: str,
) -> str:
    """A histogram of scores, the highlighted ones (the winners) stacked in their own colour,
    with a dashed vertical line and its value at each cut."""
    mpl = _matplotlib()
    from matplotlib.figure import Figure  # matplotlib is loaded only for a chart
    from matplotlib.ticker import MaxNLocator  # likewise

    with mpl.rc_context(_RC):
        fig = Figure(figsize=(10, 2.5), layout="constrained")
        ax = fig.add_subplot()
        values = [float(s) for s in scores]
        low = min(values, default=0.0)
        high = max(values, default=100.0)
        width = max((high - low) / 40, 0.5)
        bins = [low + i * width for i in range(int((high - low) / width) + 2)]
        picked = [v for v, h in zip(values, highlighted, strict=True) if h]
        others = [v for v, h in zip(values, highlighted, strict=True) if not h]
        ax.hist(
            [others, picked],
            bins=bins,
            stacked=True,
            color=["#9ca3af", PALETTE[0]],
            label=list(labels),
        )
        for i, (name, value) in enumerate(lines):
            color = PALETTE[1 + i % (len(PALETTE) - 1)]
            ax.axvline(float(value), color=color, linestyle="--", linewidth=1.2)
            ax.annotate(
                f"{name} {figure(value)}",
                (float(value), 1),
                xycoords=("data", "axes fraction"),
                xytext=(-4, -4 - 12 * i),
                textcoords="offset points",
                ha="right",
                va="top",
                color=color,
                fontsize=8,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
            )
        ax.set_xlabel("คะแนน (score)")
        ax.set_ylabel("จำนวน (nominees)")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="upper left", frameon=False)
        return _svg(fig, prefix)
