"""Thai-language helpers: digits, dictionary order, Buddhist Era. A leaf module.

pythainlp does the language work; this module only fixes how the package uses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

BE_OFFSET = 543

_THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
_TO_ARABIC = str.maketrans(_THAI_DIGITS, "0123456789")


def to_arabic_digits(text: str) -> str:
    """Replace Thai digits (๐-๙) by Arabic ones; everything else is left as it is."""
    # str.translate is what pythainlp's thai_digit_to_arabic_digit does too; calling it
    # directly keeps a 1M-row import from importing pythainlp at all.
    return text.translate(_TO_ARABIC)


def to_thai_digits(text: str) -> str:
    """Replace Arabic digits by Thai ones (for printed dates and serials)."""
    from pythainlp.util import arabic_digit_to_thai_digit  # heavy import, only when printing

    return arabic_digit_to_thai_digit(text)


def be_year(gregorian_year: int) -> int:
    """Buddhist Era year of a Gregorian year (2019 -> 2562)."""
    return gregorian_year + BE_OFFSET


def thai_order(names: Iterable[str]) -> dict[str, int]:
    """Map each distinct name to its position in Thai dictionary order.

    pythainlp's collation ignores tone marks, so two names can compare equal; sorting them by
    code point first makes the result deterministic whatever order the names came in.
    """
    from pythainlp.util import collate  # ~80 ms to import; only ranking needs it

    return {name: i for i, name in enumerate(collate(sorted(set(names))))}


@cache
def province_names() -> dict[str, str]:
    """Thai province name -> English name, from pythainlp's province list."""
    from pythainlp.corpus.common import provinces  # corpus data, loaded only when needed

    rows: list[dict[str, str]] = provinces(details=True)  # type: ignore[assignment]
    return {p["name_th"]: p["name_en"] for p in rows}
