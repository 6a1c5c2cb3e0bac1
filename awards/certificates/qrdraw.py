"""A sheet's QR code drawn straight into the PDF: the same dark modules as the inline SVG that
awards.certificates.html writes (one path of horizontal runs), filled as rectangles.

WeasyPrint draws that SVG through its general SVG renderer, which parses the path command by
command on every page: about a sixth of a certificate's rendering time, for twenty-odd rows
of squares. After layout, each QR code's replaced box is given a `QRDrawing` that draws the
runs it read from the path once; the box, its size and its place are WeasyPrint's as before.
An SVG that is not exactly such a QR path (a template's own drawing) is left to WeasyPrint.
No WeasyPrint import: this only reads the attributes of what WeasyPrint parsed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_NUMBER = r"-?\d+(?:\.\d+)?"
# The QR path: "M0 0.5h7M10 0.5h1..." (moves, then runs one module high)
_PATH = re.compile(rf"(?:[Mm]{_NUMBER} {_NUMBER}|h\d+)+")
_COMMAND = re.compile(rf"([Mm])({_NUMBER}) ({_NUMBER})|h(\d+)")
_VIEWBOX = re.compile(r"0 0 (\d+) (\d+)")
_DRAWN = {"class", "stroke", "d"}  # the path's attributes, as segno writes them


class QRDrawing:
    """Stands in for the SVG image of a QR code: draws its dark runs as filled rectangles,
    in the viewBox scaled to the box as SVG's default (xMidYMid meet) would."""

    def __init__(self, image: Any, runs: list[tuple[float, float, int]], size: tuple[int, int]):
        self._image, self.runs, self.size = image, runs, size
        self.path = b"\n".join(b"%g %g %d 1 re" % run for run in runs)

    def __getattr__(self, name: str) -> Any:  # the intrinsic size and the rest: the SVG's
        return getattr(self._image, name)

    def draw(self, stream: Any, width: float, height: float, _style: Any) -> None:
        columns, rows = self.size
        scale = min(width / columns, height / rows)
        stream.transform(
            a=scale, d=scale, e=(width - scale * columns) / 2, f=(height - scale * rows) / 2
        )
        stream.set_color_rgb(0, 0, 0)
        stream.stream.append(self.path)  # what stream.rectangle writes, made once
        stream.fill()


def runs(d: str) -> list[tuple[float, float, int]] | None:
    """The dark runs (left, top, modules) of a QR path as html.qr_svg writes it (relative
    moves read too), or None if `d` is any other
    path. A run `h n` drawn from (x, y) is a stroke one module wide centred on y."""
    if not _PATH.fullmatch(d):
        return None
    found = []
    x = y = 0.0
    for move, dx, dy, length in _COMMAND.findall(d):
        if move:
            x, y = (float(dx), float(dy)) if move == "M" else (x + float(dx), y + float(dy))
        else:
            found.append((x, y - 0.5, int(length)))
            x += int(length)
    return found


def qr_drawing(image: Any) -> QRDrawing | None:
    """A QRDrawing for an SVG image that is exactly a QR code as awards writes it, else None."""
    svg = getattr(image, "_svg", None)
    tree = getattr(svg, "tree", None)
    if tree is None or tree.tag != "svg" or tree.get("class") != "qr":
        return None
    box = _VIEWBOX.fullmatch(tree.get("viewBox") or "")
    if box is None or set(tree.attrib) != {"viewBox", "class"}:
        return None
    children = list(tree)
    if len(children) != 1:
        return None
    path = children[0]
    if path.tag != "path" or set(path.attrib) != _DRAWN or path.get("stroke") != "#000":
        return None
    found = runs(path.get("d") or "")
    if found is None:
        return None
    return QRDrawing(image, found, (int(box.group(1)), int(box.group(2))))


def draw_qr_codes_directly(boxes: Iterable[Any]) -> None:
    """Give every QR code's replaced box among `boxes` its QRDrawing."""
    for box in boxes:
        image = getattr(box, "replacement", None)
        if image is None or isinstance(image, QRDrawing):
            continue
        if (drawing := qr_drawing(image)) is not None:
            box.replacement = drawing
