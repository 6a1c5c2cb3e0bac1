"""Names people will read (agencies, ministries, provinces, reviewers, notes): what may be
printed on a certificate or shown to an auditor.

A name is kept in Unicode NFC, so that two spellings typed in a different order (a Thai tone
mark before or after a vowel below) are one name. It may not hold control characters,
direction overrides, zero-width or other invisible characters, private-use or unassigned
code points: they make two names look alike or print what is not there ("กรม" + an override
+ "evil" prints "กรมlive"). Text that went through the wrong encoding (mojibake) is
recognised and refused with the encoding that would undo it, and a province must be one of
the 77 (76 provinces and Bangkok).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache

from awards.rules.thai import province_names
from awards.rules.tomlfile import suggest

# Categories a name may not hold: controls, formats (bidi controls, zero-width characters,
# the byte-order mark), surrogates, private use, unassigned, line and paragraph separators.
_REFUSED = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
THAI_LETTER = re.compile("[\u0e01-\u0e3a\u0e40-\u0e4e]")
_UTF8_THAI_AS_LATIN = ("à¸", "à¹")  # how the first two bytes of UTF-8 Thai read in cp1252
_MOJIBAKE_LEAD = "à"
_REPLACEMENT = "\ufffd"
_AGAIN = "export the file again as UTF-8 from the program that holds the original"


def nfc(text: str) -> str:
    """The text in Unicode NFC (unchanged, and not copied, when it already is)."""
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def invisible(text: str, *, lines: bool = False) -> str | None:
    """Why the text cannot be a name: its first refused character, named and placed; else
    None. With `lines`, line breaks and tabs are allowed (a note may have several lines)."""
    if text.isprintable():  # C-speed: true for nearly every name
        return None
    for i, ch in enumerate(text, 1):
        if unicodedata.category(ch) in _REFUSED and not (lines and ch in "\n\r\t"):
            return (
                f"holds {_describe(ch)} at character {i}; remove it: invisible and control "
                "characters are refused"
            )
    return None  # only spaces other than U+0020, which print as spaces


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    kind = {"Cc": "a control character", "Cf": "an invisible formatting character"}.get(
        unicodedata.category(ch), "a character that is not text"
    )
    return f"U+{ord(ch):04X} {name} ({kind})" if name else f"U+{ord(ch):04X} ({kind})"


def mojibake(text: str) -> str | None:
    """Why the text looks like it went through the wrong encoding, with what it should have
    read; else None."""
    if _REPLACEMENT in text:
        return (
            "holds U+FFFD, the mark of a character lost in an earlier conversion: the file "
            f"went through the wrong encoding; {_AGAIN}"
        )
    if any(marker in text for marker in _UTF8_THAI_AS_LATIN):
        fixed = _reread(text, "utf-8")
        if fixed is not None and THAI_LETTER.search(fixed):
            return (
                f"reads '{fixed}' once decoded as UTF-8: Thai text was decoded as Windows-1252 "
                f"(Latin-1) somewhere on the way; {_AGAIN}"
            )
    return None


def not_thai(text: str) -> str | None:
    """Why a Thai name's text is not Thai: no Thai letter in it (naming the Thai it holds if
    it is Thai Windows text decoded as Latin-1); else None."""
    if not text or THAI_LETTER.search(text):
        return None
    return _cp874_as_latin(text) or "has no Thai letters; write the Thai name here"


def _cp874_as_latin(text: str) -> str | None:
    fixed = _reread(text, "cp874")
    if fixed is None or not THAI_LETTER.search(fixed):
        return None
    return (
        f"has no Thai letters but reads '{fixed}' once decoded as cp874 (Thai Windows): the "
        f"file was decoded as Latin-1 somewhere on the way; {_AGAIN}"
    )


def _reread(text: str, encoding: str) -> str | None:
    """The text's characters taken back to the bytes cp1252 (or Latin-1) would have read
    them from, decoded with `encoding`; None when that is not possible."""
    try:
        raw = b"".join(_latin_byte(ch) for ch in text)
        return raw.decode(encoding)
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def _latin_byte(ch: str) -> bytes:
    try:
        return ch.encode("cp1252")
    except UnicodeEncodeError:
        return ch.encode("latin-1")  # the five bytes cp1252 leaves undefined


@cache
def provinces() -> frozenset[str]:
    """The 77 province names in Thai: 76 provinces and Bangkok (กรุงเทพมหานคร)."""
    return frozenset(province_names())


def not_a_province(text: str) -> str | None:
    """Why a province name is not one of the 77, with the closest; else None."""
    if text in provinces():
        return None
    known = tuple(sorted(provinces()))
    bare = text.removeprefix("จังหวัด").removeprefix("จ.").strip()  # "จังหวัดลำพูน", "จ.ลำพูน"
    hint = suggest(bare, known, otherwise="write its official Thai name, e.g. เชียงใหม่")
    return f"not one of the 77 provinces; {hint}"


def problem(text: str, *, thai: bool = False, province: bool = False) -> str | None:
    """The first reason a name field's text cannot be taken, or None: mojibake, a refused
    character, no Thai letter (`thai`: a Thai name), not one of the 77 (`province`)."""
    if found := mojibake(text):
        return found
    # Thai Windows text read as Latin-1 holds soft hyphens and controls: say what it is.
    thai_field = (thai or province) and text and not THAI_LETTER.search(text)
    if thai_field and (found := _cp874_as_latin(text)):
        return found
    if found := invisible(text):
        return found
    if thai:
        return not_thai(text)
    if province and text:
        return not_a_province(text)
    return None


def suspect(text: str) -> bool:
    """Whether `problem` might find anything in the text (a cheap test for a fast path):
    False for every ordinary name."""
    return not text.isprintable() or _REPLACEMENT in text or _MOJIBAKE_LEAD in text


def affiliation_problems(
    ministries: Sequence[str], provinces: Sequence[str]
) -> list[tuple[str, str, str]]:
    """(field, value, why) for each of a reviewer's affiliations that cannot be taken, the
    field as a workflow file names it (ministries[0], provinces[1]): ministries as any name,
    provinces as one of the 77 (a misspelt one would hide a conflict of interest)."""
    found = []
    for key, items, province in (("ministries", ministries, False), ("provinces", provinces, True)):
        for i, item in enumerate(items):
            if why := problem(item, province=province):
                found.append((f"{key}[{i}]", item, why))
    return found
