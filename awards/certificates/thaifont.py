"""Sarabun for PDFs whose Thai text can be searched and copied: SARA AM (ำ) gets a glyph of
its own, and every glyph a text.

Why: HarfBuzz's Thai shaper draws ำ as NIKHAHIT (U+0E4D) and SARA AA (U+0E32), and the AA
glyph is the one a plain า uses. A PDF maps each glyph to one text (its ToUnicode map), and
WeasyPrint fills that map from the first cluster each glyph is drawn in: the AA glyph then
reads า everywhere or ำ everywhere, and nikhahit or a tone mark drawn inside a cluster reads
as nothing (สำนักงาน came back as สานักงาน, น้ำ as นา). One glyph cannot carry two texts,
so each face is derived once with fontTools:

- `uni0E32.am`, a copy of the AA glyph (same outline and advance; AA takes no part in
  Sarabun's positioning), and a contextual substitution, last in `ccmp`, that puts it after
  nikhahit, after a nikhahit-and-tone ligature, or after nikhahit and one tone mark;
- `glyph_texts`: the text of each glyph, from the font itself (its cmap; substitutes take
  the text of what they replace, ligatures join their parts), with `uni0E32.am` reading ำ
  and nikhahit nothing. awards.certificates.textlayer writes these into each PDF, so the
  order glyphs were first drawn in no longer matters.

The cost: a nikhahit outside ำ (found only in Pali and Sanskrit spellings) copies as nothing.
Derived faces are written once into a cache folder, named by a hash of the source font and
of this recipe, so a new font package or a new recipe derives them again.
"""

from __future__ import annotations

import copy
import hashlib
import io
import os
import tempfile
from functools import cache
from pathlib import Path

from fontTools.otlLib.builder import buildCoverage, buildLookup, buildSingleSubstSubtable
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables import otTables as ot

from awards.paths import Face, sarabun_faces

RECIPE = b"awards sara-am 1"  # change it whenever derive() changes what it writes
AA, NIKHAHIT, SARA_AM = 0x0E32, 0x0E4D, "\u0e33"
TONES = "\u0e48\u0e49\u0e4a\u0e4b"
AM_SUFFIX = ".am"
_PRESENTATION_FORMS = range(0xFB00, 0xFB50)  # ligatures encoded for compatibility only


def cache_folder() -> Path:
    """Where derived faces are kept: the user's cache folder, else a private temporary one."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    for folder in (Path(base) / "awards" / "fonts", _private_temp()):
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder.resolve()
    raise OSError("no writable folder for the derived Sarabun fonts (tried ~/.cache and the temp folder)")  # fmt: skip


def _private_temp() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"awards-fonts-{uid}"


@cache
def derived_faces() -> tuple[Face, ...]:
    """Every Sarabun face with its own ำ glyph, derived on first use and cached."""
    folder = cache_folder()
    faces = []
    for face in sarabun_faces():
        data = face.path.read_bytes()
        digest = hashlib.sha256(RECIPE + b"\0" + data).hexdigest()[:16]
        target = folder / f"{face.path.stem}-{digest}.ttf"
        if not target.is_file():
            # Written beside its final name and renamed: render workers deriving at the same
            # time each write their own file, and the last rename wins with the same bytes.
            fd, temp = tempfile.mkstemp(dir=folder, prefix=".derive-", suffix=".ttf")
            os.close(fd)
            try:
                derive(face.path, Path(temp))
                os.replace(temp, target)
            finally:
                Path(temp).unlink(missing_ok=True)
        faces.append(face._replace(path=target))
    return tuple(faces)


def derive(source: Path, target: Path) -> None:
    """Write `source` with the glyph `uni0E32.am` and the substitution that uses it."""
    font = TTFont(source)
    cmap = font.getBestCmap()
    aa, am = cmap[AA], cmap[AA] + AM_SUFFIX
    order = [*font.getGlyphOrder(), am]
    font["glyf"].glyphs[am] = copy.deepcopy(font["glyf"][aa])
    font["hmtx"].metrics[am] = font["hmtx"].metrics[aa]
    font.setGlyphOrder(order)
    font["glyf"].setGlyphOrder(order)
    if "DSIG" in font:  # a signature of the original font, void once it changes
        del font["DSIG"]

    texts = _texts(font, am)
    nikhahit = [g for g, t in texts.items() if t == "" and g != am]  # nikhahit and variants
    with_tone = [g for g, t in texts.items() if t in TONES and _from_nikhahit(font, g)]
    tones = [g for g, t in texts.items() if t in TONES and g not in with_tone]
    ids = font.getReverseGlyphMap()

    gsub = font["GSUB"].table
    lookups = gsub.LookupList.Lookup
    lookups.append(buildLookup([buildSingleSubstSubtable({aa: am})]))
    use_am = len(lookups) - 1
    after = [[nikhahit + with_tone], [tones, nikhahit]]  # backtrack: the nearest glyph first
    lookups.append(buildLookup([_after(before, aa, use_am, ids) for before in after]))
    gsub.LookupList.LookupCount = len(lookups)
    for record in gsub.FeatureList.FeatureRecord:
        if record.FeatureTag == "ccmp":  # last in ccmp: after Sarabun's nikhahit ligatures
            record.Feature.LookupListIndex.append(len(lookups) - 1)
            record.Feature.LookupCount = len(record.Feature.LookupListIndex)
    font.save(target)


def _after(
    backtrack: list[list[str]], glyph: str, lookup: int, ids: dict[str, int]
) -> ot.ChainContextSubst:
    """Apply `lookup` to `glyph` where the glyphs before it match `backtrack`."""
    sub = ot.ChainContextSubst()
    sub.Format = 3
    sub.BacktrackCoverage = [buildCoverage(glyphs, ids) for glyphs in backtrack]
    sub.BacktrackGlyphCount = len(backtrack)
    sub.InputCoverage = [buildCoverage([glyph], ids)]
    sub.InputGlyphCount = 1
    sub.LookAheadCoverage = []
    sub.LookAheadGlyphCount = 0
    record = ot.SubstLookupRecord()
    record.SequenceIndex, record.LookupListIndex = 0, lookup
    sub.SubstLookupRecord = [record]
    sub.SubstCount = 1
    return sub


def _from_nikhahit(font: TTFont, glyph: str) -> bool:
    """A ligature of nikhahit and a tone mark (uni0E4D0E49 and its variants)."""
    name = font.getBestCmap()[NIKHAHIT]
    return glyph.startswith(name) and glyph != name and not glyph.startswith(name + ".")


@cache
def glyph_texts(path: Path) -> dict[int, str]:
    """The text each glyph of a derived face stands for, by glyph id (see the module)."""
    font = TTFont(io.BytesIO(path.read_bytes()), lazy=True)  # no file left open
    am = font.getBestCmap()[AA] + AM_SUFFIX
    ids = font.getReverseGlyphMap()
    return {ids[g]: t for g, t in _texts(font, am).items()}


def _texts(font: TTFont, am: str) -> dict[str, str]:
    """Glyph name -> text: the cmap, then what GSUB derives from it, to a fixed point."""
    texts: dict[str, str] = {}
    for code, glyph in sorted(font.getBestCmap().items()):  # the lowest code point first
        if code not in _PRESENTATION_FORMS:  # ﬁ reads fi: its ligature's parts say so below
            texts.setdefault(glyph, chr(code))
    texts[font.getBestCmap()[NIKHAHIT]] = ""  # drawn only as part of ำ
    texts[am] = SARA_AM
    subtables = []
    for lookup in font["GSUB"].table.LookupList.Lookup:
        for sub in lookup.SubTable:
            kind = lookup.LookupType
            if kind == 7:  # an extension holds the real subtable
                sub, kind = sub.ExtSubTable, sub.ExtensionLookupType
            subtables.append((kind, sub))
    grew = True
    while grew:
        grew = False
        for kind, sub in subtables:
            for out, parts in _derived(kind, sub):
                if out not in texts and all(p in texts for p in parts):
                    texts[out] = "".join(texts[p] for p in parts)
                    grew = True
    return texts


def _derived(kind: int, sub: object) -> list[tuple[str, list[str]]]:
    """(glyph, the glyphs it is made from) for each substitution of a GSUB subtable."""
    if kind == 1:
        return [(out, [src]) for src, out in sub.mapping.items()]  # type: ignore[attr-defined]
    if kind == 3:
        alternates = sub.alternates.items()  # type: ignore[attr-defined]
        return [(out, [src]) for src, outs in alternates for out in outs]
    if kind == 4:
        ligatures = sub.ligatures.items()  # type: ignore[attr-defined]
        return [(lig.LigGlyph, [first, *lig.Component]) for first, ligs in ligatures for lig in ligs]  # fmt: skip
    return []  # multiple substitutions give glyphs of their own characters; contexts refer on
