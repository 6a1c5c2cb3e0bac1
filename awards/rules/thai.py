"""Thai-language helpers: dictionary order, digits, Buddhist-era dates, word breaks. A leaf.

ICU does the language work (PyICU, from the pyicu-wheels package, which bundles ICU): the
`th` collator for dictionary order, the Buddhist calendar for dates, the Thai dictionary
for word boundaries. pythainlp is kept for two things ICU has not: the list of provinces,
and the order logs written before ICU (event schema version 3 and older) were ranked in,
so that they replay as they were written.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

BE_OFFSET = 543

_THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
_TO_ARABIC = str.maketrans(_THAI_DIGITS, "0123456789")
_TO_THAI = str.maketrans("0123456789", _THAI_DIGITS)


def to_arabic_digits(text: str) -> str:
    """Replace Thai digits (๐-๙) by Arabic ones; everything else is left as it is."""
    # Thai digits are U+0E50-U+0E59, one to one with 0-9: a table is exact, and keeps a
    # 1M-row import from loading any language library.
    return text.translate(_TO_ARABIC)


def to_thai_digits(text: str) -> str:
    """Replace Arabic digits by Thai ones (for printed dates and serials)."""
    return text.translate(_TO_THAI)


def be_year(gregorian_year: int) -> int:
    """Buddhist Era year of a Gregorian year (2019 -> 2562)."""
    return gregorian_year + BE_OFFSET


# --- Dictionary order ---------------------------------------------------------------------


def _icu() -> Any:
    import icu  # ICU's data is ~30 MB: loaded when Thai is first compared, dated or broken

    return icu


@cache
def _collator() -> Any:
    icu = _icu()
    return icu.Collator.createInstance(icu.Locale("th_TH"))


def thai_key(text: str) -> bytes:
    """The sort key of `text` in Thai dictionary order (ICU's th collator): comparing keys
    is comparing the texts. Leading vowels (เ แ โ ใ ไ) sort by the consonant after them,
    tone marks and ์ weigh only when the letters are equal, spaces and punctuation only
    when everything else is."""
    key: bytes = _collator().getSortKey(text)
    return key


def thai_order(names: Iterable[str]) -> dict[str, int]:
    """Map each distinct name to its position in Thai dictionary order.

    Names the collator finds equal (say, differing only in a space) are put in code point
    order, so the positions never depend on the order the names came in.
    """
    distinct = set(names)
    keyed = sorted(zip(map(_collator().getSortKey, distinct), distinct, strict=True))
    return {n: i for i, (_, n) in enumerate(keyed)}


def pythainlp_order(names: Iterable[str]) -> dict[str, int]:
    """The order logs of event schema version 3 and older were ranked in: pythainlp's
    `collate` (tone marks and ์ dropped, the first of them appended), code points first.
    Only the replay of those logs uses it; it is not Thai dictionary order."""
    from pythainlp.util import collate  # ~80 ms to import; only old logs need it

    return {name: i for i, name in enumerate(collate(sorted(set(names))))}


NameOrder = Callable[[Iterable[str]], dict[str, int]]


def name_order(schema_version: int) -> NameOrder:
    """How events of a schema version compare Thai names: ICU from version 4 on."""
    return thai_order if schema_version >= 4 else pythainlp_order


# --- Dates --------------------------------------------------------------------------------


def thai_date(day: datetime.date, *, thai_digits: bool = True) -> str:
    """A date as Thai documents print it, in the Buddhist era: '28 พฤศจิกายน พ.ศ. 2562',
    or with Thai digits '๒๘ พฤศจิกายน พ.ศ. ๒๕๖๒'. ICU's Thai Buddhist calendar and its
    pattern for day, month name, era and year."""
    icu = _icu()
    locale = icu.Locale("th_TH@calendar=buddhist" + (";numbers=thai" if thai_digits else ""))
    pattern = icu.DateTimePatternGenerator.createInstance(locale).getBestPattern("dMMMMGy")
    form = icu.SimpleDateFormat(pattern, locale)
    form.setTimeZone(icu.TimeZone.getGMT())
    midnight = datetime.datetime.combine(day, datetime.time(), datetime.UTC)
    text: str = form.format(midnight)
    return text


# --- Word breaks --------------------------------------------------------------------------


def line_breaks(text: str) -> list[str]:
    """`text` cut where a line may break, by ICU's Thai dictionary and the Unicode line
    breaking rules: words, each with the spaces after it ('สำนักงาน', 'ปลัด', ...)."""
    icu = _icu()
    breaker = icu.BreakIterator.createLineInstance(icu.Locale("th"))
    breaker.setText(text)
    cuts = [0, *breaker]
    return [text[a:b] for a, b in itertools.pairwise(cuts) if b > a]


# --- Provinces ----------------------------------------------------------------------------


@cache
def province_names() -> dict[str, str]:
    """Thai province name -> English name, from pythainlp's province list."""
    from pythainlp.corpus.common import provinces  # corpus data, loaded only when needed

    rows: list[dict[str, str]] = provinces(details=True)  # type: ignore[assignment]
    return {p["name_th"]: p["name_en"] for p in rows}
