"""What a survey cell may hold: yes/no words, the workflow's levels, scores, counts and the
values of declared fields, as lookups the survey reader's fast path calls (Refused on a cell
it cannot take) and as the messages its slow path gives. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from awards.rules.thai import to_arabic_digits
from awards.rules.tomlfile import suggest
from awards.rules.workflow import LEVELS, Field, Workflow

DEPARTMENT, PROVINCIAL = LEVELS
_T = TypeVar("_T")

BOOL_WORDS = "yes, no, true, false, 1, 0, y, n, ใช่, ไม่ใช่"
REQUIRED = "required value is missing"
SCORE_RANGE = "score must be between 0 and 100"
NOT_A_NUMBER = "score must be a number between 0 and 100"
SCORE_NEEDED = "score is required for an agency that responded"
SCORE_ALL_OR_NONE = "score is missing; give every score or none for an agency that did not respond"
SCORE_CACHE_LIMIT = 100_000  # distinct score spellings kept; two-decimal scores have 10,001


class Refused(Exception):
    """A cell the fast path cannot take; the row goes to the slow path for its messages."""


class Lookup(dict[str, _T]):
    """Exact spellings hit the C dict lookup; only other spellings pay for strip and lower.
    A word it does not know raises Refused."""

    def __missing__(self, key: str) -> _T:
        value = self.get(key.strip().lower())
        if value is None:
            raise Refused
        return value

    def find(self, key: str) -> _T | None:
        """The value of a spelling, or None; for the slow path, without an exception."""
        value = self.get(key)
        return value if value is not None else self.get(key.strip().lower())


def spellings(words: Mapping[str, _T]) -> Lookup[_T]:
    table: Lookup[_T] = Lookup()
    for word, value in words.items():
        for spelling in (word, word.capitalize(), word.upper()):
            table[spelling] = value
    return table


YES_NO = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False}
YES_NO |= {"y": True, "n": False, "ใช่": True, "ไม่ใช่": False}
RESPONDED = spellings(YES_NO)
FLAG = spellings({**YES_NO, "": False})  # an empty flag cell means "no"
# Thai words people write for the two levels every survey since 2019 has.
LEVEL_ALIASES = {DEPARTMENT: ("กรม", "ระดับกรม"), PROVINCIAL: ("จังหวัด", "ระดับจังหวัด")}
COUNT_NEEDED = "required: a whole number of 0 or more"
NOT_A_COUNT = "not a whole number of 0 or more"


def level_spellings(workflow: Workflow) -> tuple[Lookup[str], str]:
    """The spellings of the workflow's levels (key, Thai and English titles), and how the
    messages list them."""
    words: dict[str, str] = {}
    for level in workflow.levels:
        for word in (level.key, level.title_th, level.title_en, *LEVEL_ALIASES.get(level.key, ())):
            words.setdefault(word.strip().lower() if word.isascii() else word.strip(), level.key)
    keys = [level.key for level in workflow.levels]
    shown = ", ".join([*keys, *(LEVEL_ALIASES[k][0] for k in keys if k in LEVEL_ALIASES)])
    return spellings(words), shown


def check_count(raw: str) -> str | None:
    """A count cell (Thai digits allowed) as its canonical digits, or None if it is not a
    whole number of 0 or more."""
    text = to_arabic_digits(raw).strip()
    if not text.isascii() or not text.isdigit():
        return None
    return str(int(text))


def field_value(field: Field, raw: str) -> str:
    """A declared field's value from its cell; Refused when the cell cannot be taken."""
    if field.kind == "count":
        value = check_count(raw)
        if value is None:
            raise Refused
        return value
    text = raw.strip()
    if field.values and text not in field.values:
        raise Refused
    return text


def field_problem(field: Field, raw: str) -> str | None:
    if field.kind == "count":
        if check_count(raw) is not None:
            return None
        return COUNT_NEEDED if not raw.strip() else NOT_A_COUNT
    text = raw.strip()
    if not field.values or text in field.values:
        return None
    allowed = ", ".join(repr(v) for v in field.values)
    return f"not a value of '{field.key}'; {suggest(text, field.values, otherwise=f'use one of: {allowed}')}"


def check_score(raw: str) -> Decimal | str:
    """The score a cell holds (Thai digits allowed), or the message saying why it is none.

    Decimal from the text itself, never via float, so "57.21" is exactly 57.21.
    """
    text = to_arabic_digits(raw).strip()
    if not text:
        return REQUIRED
    try:
        value = Decimal(text)
    except InvalidOperation:
        return NOT_A_NUMBER
    if "_" in text or not value.is_finite():  # Decimal also takes "1_0", "NaN", "Infinity"
        return NOT_A_NUMBER
    if not 0 <= value <= 100:
        return SCORE_RANGE
    return value.copy_abs() if value.is_zero() else value  # "-0" would print as -0


class Scores(dict[str, Decimal]):
    """Raw cell -> score; Refused when the cell is not a valid score.

    Survey scores repeat a lot (two decimals between 0 and 100), so most cells cost one dict
    lookup and share one Decimal object instead of parsing and holding a new one.
    """

    def __missing__(self, raw: str) -> Decimal:
        value = self.check(raw)
        if isinstance(value, str):
            raise Refused
        return value

    def check(self, raw: str) -> Decimal | str:
        """check_score, remembering valid scores."""
        value = self.get(raw)
        if value is not None:
            return value
        checked = check_score(raw)
        if not isinstance(checked, str) and len(self) < SCORE_CACHE_LIMIT:
            self[raw] = checked
        return checked
