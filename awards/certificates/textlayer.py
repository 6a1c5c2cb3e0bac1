"""The text layer of the PDFs WeasyPrint writes, made to give back the Thai that was
typeset to search, copy-paste and screen readers.

- ToUnicode: WeasyPrint maps a glyph to the text of the first cluster it is drawn in (every
  glyph of a cluster but the last to nothing, the last to the whole cluster) and keeps that
  for the document. Each glyph of a derived Sarabun face (awards.certificates.thaifont)
  maps instead to the text the font says it stands for.
- Marks: a Thai vowel or tone mark takes no room of its own: it is drawn where the next
  letter starts, or where another mark was (ที่: SARA II and MAI EK over THO THAHAN). Text
  extractors take a glyph drawn where the one before it was for duplicated text (fake bold)
  and cut the word there, then sort the pieces by position (pdftotext gave ทีม / ่ ค / ี and
  ศก / ั ดิ์). Each cluster of a letter and its marks is wrapped in a marked-content span
  whose /ActualText is the cluster's text, which extractors use instead of the glyphs.

A font is recognised by the PostScript name of its embedded program; any other font is left
as WeasyPrint wrote it.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pypdf
from fontTools.ttLib import TTFont
from pypdf.generic import DictionaryObject

from awards.certificates.thaifont import derived_faces, glyph_texts

_ENTRY = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>")


def fix(reader: pypdf.PdfReader) -> int:
    """Fix, in the reader's objects, the text of every Sarabun font that the pages use
    (directly or in a form XObject): their ToUnicode maps and the content streams that draw
    marks. Returns how many fonts were fixed."""
    faces = _faces_by_name()
    ours: dict[int, Path] = {}
    for ref, font in _fonts(reader):
        name = _embedded_name(font)
        path = faces.get(name) if name else None
        if path is None or "/ToUnicode" not in font:
            continue
        ours[ref] = path
        cmap: Any = font["/ToUnicode"].get_object()
        cmap.set_data(_cmap(cmap.get_data(), glyph_texts(path)))
    if ours:
        for stream, fonts in _streams(reader):
            by_name = {n: ours[f.idnum] for n, f in fonts.items() if f.idnum in ours}
            if by_name:
                data = stream.get_data()
                spanned = _spans(data, by_name)
                if spanned is not data:
                    stream.set_data(spanned)
    return len(ours)


@cache
def _faces_by_name() -> dict[str | None, Path]:
    return {_postscript_name(f.path.read_bytes()): f.path for f in derived_faces()}


def fixed(pdf: bytes) -> bytes:
    """A whole PDF with its text layer fixed, written again (keeps its metadata)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    if not fix(reader):
        return pdf
    writer = pypdf.PdfWriter(clone_from=reader)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _streams(reader: pypdf.PdfReader) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Each content stream that draws text (the pages' and their form XObjects'), once, with
    the font references its resources name."""
    seen: set[int] = set()
    stack: list[tuple[Any, Any]] = [(page.get("/Contents"), page.get("/Resources")) for page in reader.pages]  # fmt: skip
    while stack:
        contents, resources = stack.pop()
        resources = resources.get_object() if resources is not None else {}
        fonts = dict(resources.get("/Font", {}).items())
        parts = contents.get_object() if contents is not None else []
        for part in parts if isinstance(parts, list) else [contents]:
            key = part.idnum if hasattr(part, "idnum") else id(part)
            if key not in seen:
                seen.add(key)
                yield part.get_object(), fonts
        for xobject in resources.get("/XObject", {}).values():
            form = xobject.get_object()
            if xobject.idnum not in seen and form.get("/Subtype") == "/Form":
                stack.append((xobject, form.get("/Resources")))


def _fonts(reader: pypdf.PdfReader) -> Iterator[tuple[int, DictionaryObject]]:
    """Each font dictionary the pages use, once, with its object number."""
    seen: set[int] = set()
    for _, fonts in _streams(reader):
        for font in fonts.values():
            if font.idnum not in seen:
                seen.add(font.idnum)
                yield font.idnum, font.get_object()


# WeasyPrint's text operators: `/NAME size Tf`, `[<glyphs>adjustment<glyphs>...] TJ`, and
# `rise Ts` around a mark drawn raised (a tone mark over another mark).
_TEXT_OPS = re.compile(rb"/([^\s/\[\]<>()]+)\s+[-\d.]+\s+Tf|\[([^\]]*)\]\s*TJ|-?[\d.]+\s+Ts")
_ITEMS = re.compile(rb"<([0-9a-fA-F]*)>|(-?[\d.]+)")
_BETWEEN = re.compile(rb"\s*")

Token = tuple[int | None, bytes]  # (glyph id, its <hex>) in a TJ array, or (None, item)


def _spans(data: bytes, fonts: dict[str, Path]) -> bytes:
    """`data` with each cluster of a base glyph and its marks drawn inside a span carrying
    its text as /ActualText; `data` itself when no cluster needs one."""
    out: list[bytes] = []
    last, font = 0, None
    run: list[re.Match[bytes]] = []

    def flush() -> None:
        nonlocal last
        if run and font is not None:
            rewritten = _spanned_run(run, glyph_texts(font), _marks(font))
            if rewritten is not None:
                out.extend([data[last : run[0].start()], rewritten])
                last = run[-1].end()
        run.clear()

    for op in _TEXT_OPS.finditer(data):
        if run and not _BETWEEN.fullmatch(data, run[-1].end(), op.start()):
            flush()
        if op.group(1) is not None:  # a font: the run ends
            flush()
            font = fonts.get("/" + op.group(1).decode("latin-1"))
        else:
            run.append(op)
    flush()
    if not out:
        return data
    return b"".join([*out, data[last:]])


def _spanned_run(run: list[re.Match[bytes]], texts: dict[int, str], marks: frozenset[int]) -> bytes | None:  # fmt: skip
    """A run of TJ and Ts operators, drawn again with each cluster that has marks in an
    /ActualText span; None when it has no such cluster."""
    tokens: list[Token | bytes] = []  # a bytes item is an operator kept as it is (Ts)
    for op in run:
        if op.group(2) is None:
            tokens.append(op.group(0))
            continue
        for glyphs, number in _ITEMS.findall(op.group(2)):
            if number:
                tokens.append((None, number))
            elif not glyphs:
                tokens.append((None, b"<>"))
            for i in range(0, len(glyphs), 4):
                tokens.append((int(glyphs[i : i + 4], 16), b"<" + glyphs[i : i + 4] + b">"))
    glyph_at = [i for i, t in enumerate(tokens) if isinstance(t, tuple) and t[0] is not None]
    bases = [i for i in glyph_at if tokens[i][0] not in marks or i == glyph_at[0]]  # type: ignore[index]
    spanned = []
    for a, b in itertools.pairwise([*bases, len(tokens)]):
        inside = [tokens[i][0] for i in glyph_at if a <= i < b]  # type: ignore[index]
        if any(g in marks for g in inside):
            spanned.append((a, b, "".join(texts.get(g, "") for g in inside)))  # type: ignore[arg-type]
    if not spanned:
        return None
    out: list[bytes] = []
    at = 0
    for a, b, text in spanned:
        out += _drawn(tokens[at:a])
        actual = ("\ufeff" + text).encode("utf-16-be").hex().encode()
        out += [b"/Span <</ActualText <" + actual + b">>> BDC", *_drawn(tokens[a:b]), b"EMC"]
        at = b
    out += _drawn(tokens[at:])
    return b"\n".join(out)


def _drawn(tokens: list[Token | bytes]) -> list[bytes]:
    """Tokens as operators: TJ arrays of the glyphs and adjustments, the rest as they were."""
    out: list[bytes] = []
    array: list[bytes] = []
    for t in tokens:
        if isinstance(t, bytes):
            if array:
                out.append(b"[" + b" ".join(array) + b"] TJ")
                array = []
            out.append(t)
        else:
            array.append(t[1])
    if array:
        out.append(b"[" + b" ".join(array) + b"] TJ")
    return out


@cache
def _marks(path: Path) -> frozenset[int]:
    """The glyph ids of the face's marks (its GDEF class 3): drawn over the glyph before."""
    font = TTFont(io.BytesIO(path.read_bytes()), lazy=True)  # no file left open
    classes = font["GDEF"].table.GlyphClassDef.classDefs
    ids = font.getReverseGlyphMap()
    return frozenset(ids[g] for g, c in classes.items() if c == 3)


def _embedded_name(font: DictionaryObject) -> str | None:
    """The PostScript name in the font's embedded TrueType program, if it has one."""
    for part in font.get("/DescendantFonts", []):
        descriptor = part.get_object().get("/FontDescriptor")
        program = descriptor.get_object().get("/FontFile2") if descriptor else None
        if program is not None:
            return _postscript_name(program.get_object().get_data())
    return None


def _postscript_name(data: bytes) -> str | None:
    try:
        name = TTFont(io.BytesIO(data), lazy=True)["name"].getDebugName(6)
    except Exception:  # not a font fontTools can read: not one of ours
        return None
    return str(name) if name else None


def _cmap(old: bytes, texts: dict[int, str]) -> bytes:
    """A ToUnicode CMap for the same glyphs as `old`, each with the font's own text (or the
    old one, for a glyph the font gives none)."""
    entries = {int(g, 16): t for g, t in _ENTRY.findall(old.split(b"begincodespacerange")[-1])}
    lines = [
        b"/CIDInit /ProcSet findresource begin",
        b"12 dict begin",
        b"begincmap",
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        b"/CMapName /Adobe-Identity-UCS def",
        b"/CMapType 2 def",
        b"1 begincodespacerange",
        b"<0000> <ffff>",
        b"endcodespacerange",
    ]
    glyphs = sorted(entries)
    for start in range(0, len(glyphs), 100):  # at most 100 entries a block
        block = glyphs[start : start + 100]
        lines.append(f"{len(block)} beginbfchar".encode())
        for g in block:
            text = texts[g].encode("utf-16-be").hex().encode() if g in texts else entries[g]
            lines.append(b"<%04x> <%s>" % (g, text))
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)
