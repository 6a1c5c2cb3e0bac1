"""Fitting a recipient's name to its box: a size and up to three lines, broken between words.

Thai has no spaces between words, so where a line may break comes from ICU's Thai
dictionary (awards.rules.thai.line_breaks). On top of it, proper names are kept whole: a
province (พระนครศรีอยุธยา, and จังหวัด with the province after it) and anything in
parentheses. Lines are balanced, a break after a space is preferred to one inside a phrase,
and a last line of one lone word is avoided, so the name reads as a title would be set by
hand, not as a paragraph.

The template says how much room there is: the box's width and the sizes to try, each with
the lines it may take (see templates/_parts.html). Widths are measured on the face the name
is set in, from the font's advance widths (marks take none): what WeasyPrint lays out is
then the lines given here, and the typesetter's overflow check stays the judge.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import NamedTuple

from fontTools.ttLib import TTFont

from awards.paths import sarabun_faces
from awards.rules.thai import line_breaks, province_names

PT_PER_MM = 72 / 25.4
MARGIN = 0.97  # of the width: what a measure without kerning may be short by
BREAK_INSIDE = 0.12  # of the width: the cost of a break where no space is
LONE_WORD = 0.25  # of the width: the cost of a last line of one word


class Fit(NamedTuple):
    size: float  # points
    lines: tuple[str, ...]
    fits: bool  # False: even the last size does not hold it; the lines are its best try


def fit(text: str, width_mm: float, steps: Sequence[tuple[float, int]], face: Path) -> Fit:
    """The first of `steps` (size in points, most lines) at which `text` fits `width_mm`,
    with its lines; or the last step's best lines, marked as not fitting."""
    units = words(text)
    advance = _advances(face)
    widths = [sum(advance(c) for c in u.rstrip()) for u in units]
    spaced = [u != u.rstrip() for u in units]
    for size, most in steps:
        room = width_mm * PT_PER_MM * MARGIN / size  # in ems of this size
        found = _best(units, widths, spaced, room, range(1, most + 1))
        if found is not None:
            return Fit(size, found[1], True)
    size, most = steps[-1]
    found = _best(units, widths, spaced, math.inf, [min(most, len(units))])
    return Fit(size, found[1] if found else (text,), False)


def _best(
    units: list[str],
    widths: list[float],
    spaced: list[bool],
    room: float,
    counts: Sequence[int],
) -> tuple[float, tuple[str, ...]] | None:
    """The cheapest way to set the units in one of `counts` lines (the fewest that can be),
    none wider than `room` ems."""
    cheapest: tuple[float, tuple[str, ...]] | None = None
    for count in (c for c in counts if c <= len(units)):
        for cuts in itertools.combinations(range(1, len(units)), count - 1):
            bounds = (0, *cuts, len(units))
            spans = list(itertools.pairwise(bounds))
            sizes = [sum(widths[a:b]) for a, b in spans]
            if max(sizes) > room:
                continue
            # Balance: the widest line, against the room (or the whole, when unbounded).
            cost = max(sizes) / (room if math.isfinite(room) else sum(widths))
            cost += sum(BREAK_INSIDE for c in cuts if not spaced[c - 1])
            if count > 1 and spans[-1][1] - spans[-1][0] == 1:
                cost += LONE_WORD
            lines = tuple("".join(units[a:b]).strip() for a, b in spans)
            if cheapest is None or cost < cheapest[0]:
                cheapest = (cost, lines)
        if cheapest is not None:
            return cheapest  # fewer lines first: a second line only when one does not hold
    return cheapest


def words(text: str) -> list[str]:
    """`text` cut where a line may break, proper names kept whole (each piece keeps the
    spaces after it)."""
    pieces = line_breaks(" ".join(text.split()))
    keep = [m.span() for m in _proper_names().finditer(" ".join(text.split()))]
    out: list[str] = []
    start = 0
    for piece in pieces:
        end = start + len(piece)
        # A piece that starts inside a proper name joins the piece before it.
        if out and any(a < start < b for a, b in keep):
            out[-1] += piece
        else:
            out.append(piece)
        start = end
    return out


@cache
def _proper_names() -> re.Pattern[str]:
    provinces = sorted(province_names(), key=len, reverse=True)
    names = "|".join(re.escape(p) for p in provinces)
    return re.compile(rf"(?:จังหวัด|อำเภอ|เขต)?(?:{names})|\([^()]*\)")


def name_fit(text: str, width_mm: float, steps: Sequence[Sequence[float]], weight: int = 700) -> Fit:  # fmt: skip
    """`fit` on the upright Sarabun face of `weight`: what templates call as `fit_name`."""
    return fit(text, width_mm, [(float(s), int(n)) for s, n in steps], _upright(weight))


@cache
def _upright(weight: int) -> Path:
    """The upright face of `weight` (looked up once: every sheet of a batch asks)."""
    return next(f.path for f in sarabun_faces() if (f.weight, f.style) == (weight, "normal"))


@cache
def _advances(face: Path):  # type: ignore[no-untyped-def]
    """A measure of one character's advance, in ems, on `face`."""
    font = TTFont(io.BytesIO(face.read_bytes()), lazy=True)
    upem = font["head"].unitsPerEm
    cmap, hmtx = font.getBestCmap(), font["hmtx"]

    @cache
    def advance(char: str) -> float:
        glyph = cmap.get(ord(char))
        return hmtx[glyph][0] / upem if glyph else 0.6

    return advance
