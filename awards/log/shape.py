"""What a well-formed event is: the fields each kind carries and their types.

A log is read from files and tables that anyone with access can edit. An event whose bytes
hash and chain correctly can still be something the event catalogue never wrote: a field
missing, a number where a name belongs, a key twice. `problem` says what is wrong with such an
event in one line, before anything folds it, so every reader reports a located error instead
of failing half-way. Versions follow awards.log.events: a field is required from the schema
version that introduced it on. It imports only the catalogue and the states.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from awards.log.events import SCHEMA_VERSION, Kind
from awards.rules.states import NOMINATE, State, Trigger

_TEXT, _INT, _BOOL, _OBJECT = "text", "a whole number", "true or false", "an object"
_HEX = "64 hexadecimal digits"
_NAMES = "a list of names"
_SCORES = "an object of decimal strings"
_FRONTIER = "a list of [size, hash] pairs"
_PREVIOUS = "an object, text or null"
_OPTIONAL = "?"  # suffix: the value may also be null

# kind -> (field, what it must be, the schema version that introduced it)
_COMMON = (("cycle", _TEXT, 1), ("actor", _TEXT, 1), ("at", _TEXT, 1))
_SUBJECT = (("award", _TEXT, 1), ("nominee", _TEXT, 1))
FIELDS: dict[str, tuple[tuple[str, str, int], ...]] = {
    Kind.CYCLE_OPENED: (("workflow_sha256", _HEX, 1),),
    Kind.SURVEY_IMPORTED: (
        ("survey_sha256", _HEX, 1),
        ("agencies", _INT, 1),
        ("agencies_sha256", _HEX, 3),
    ),
    Kind.TRANSITION: (
        *_SUBJECT,
        ("nomination", _TEXT, 1),
        ("from", _TEXT + _OPTIONAL, 1),
        ("to", _TEXT, 1),
        ("trigger", _TEXT, 1),
        ("reason", _TEXT, 1),
        ("evidence", _OBJECT, 1),
    ),
    Kind.REVIEWER_ADDED: (
        ("reviewer", _TEXT, 1),
        ("name", _TEXT, 1),
        ("ministries", _NAMES, 1),
        ("provinces", _NAMES, 1),
    ),
    Kind.ASSIGNED: (
        *_SUBJECT,
        ("nomination", _TEXT, 1),
        ("reviewer", _TEXT, 1),
        ("by", _TEXT, 1),
        ("round", _INT, 6),
    ),
    Kind.RECUSED: (
        *_SUBJECT,
        ("nomination", _TEXT, 1),
        ("reviewer", _TEXT, 1),
        ("reason", _TEXT, 1),
        ("was_assigned", _BOOL, 1),
        ("dropped", _OBJECT + _OPTIONAL, 1),
        ("replacement", _TEXT + _OPTIONAL, 1),
    ),
    Kind.VERDICT: (
        *_SUBJECT,
        ("nomination", _TEXT, 1),
        ("reviewer", _TEXT, 1),
        ("verdict", _TEXT, 1),
        ("note", _TEXT, 1),
        ("scores", _SCORES, 2),
        ("previous", _PREVIOUS, 1),  # version 1: the earlier verdict's word; then the verdict whole
        ("round", _INT, 6),
    ),
    Kind.CHECKPOINT: (
        ("size", _INT, 1),
        ("root", _HEX, 1),
        ("head", _HEX, 1),
        ("public_key", _HEX + _OPTIONAL, 1),
        ("signature", _TEXT + _OPTIONAL, 1),
    ),
    Kind.CERTIFICATE_RENDERED: (
        *_SUBJECT,
        ("nomination", _TEXT, 1),
        ("serial", _TEXT, 1),
        ("code", _TEXT, 1),
        ("award_seq", _INT, 1),
        ("template", _TEXT, 1),
        ("template_sha256", _HEX, 1),
        ("pdf_sha256", _HEX, 1),
        ("file", _TEXT, 1),
        ("pdfa", _BOOL, 1),
        ("recipient_th", _TEXT, 3),
        ("recipient_en", _TEXT, 3),
        ("size", _INT, 3),
    ),
}
_HEXDIGITS = frozenset("0123456789abcdef")
# Fields whose value is one of a few words: (kind, field) -> the words.
_WORDS: dict[tuple[str, str], frozenset[str]] = {
    (Kind.TRANSITION, "trigger"): frozenset({NOMINATE, *Trigger}),
    (Kind.TRANSITION, "to"): frozenset(State),
    (Kind.TRANSITION, "from"): frozenset(State),
    (Kind.VERDICT, "verdict"): frozenset({"approve", "reject"}),
    (Kind.ASSIGNED, "by"): frozenset({"assign", "recusal"}),
}


def _is(value: Any, what: str) -> bool:
    if what.endswith(_OPTIONAL):
        return value is None or _is(value, what[:-1])
    if what == _TEXT:
        return type(value) is str
    if what == _INT:
        return type(value) is int  # not bool, which Python counts as an int
    if what == _HEX:
        return type(value) is str and len(value) == 64 and _HEXDIGITS.issuperset(value)
    if what == _BOOL:
        return type(value) is bool
    if what == _OBJECT:
        return type(value) is dict
    if what == _NAMES:
        return type(value) is list and all(type(v) is str for v in value)
    if what == _SCORES:
        return type(value) is dict and all(_decimal(v) for v in value.values())
    if what == _PREVIOUS:
        return value is None or type(value) in (dict, str)
    if what == _FRONTIER:
        return type(value) is list and all(
            type(p) is list and len(p) == 2 and type(p[0]) is int and p[0] > 0
            and _is(p[1], _HEX)
            for p in value
        )  # fmt: skip
    raise AssertionError(what)


def _decimal(value: Any) -> bool:
    if type(value) is not str:
        return False
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


# Transitions are nearly every event of a large log: a well-formed one is recognised by the
# types of its fields taken at once (C-level map and one set lookup), and only an event that
# fails that (or of another kind) goes through `_explain`, which says what is wrong.
_TRANSITION_FIELDS = (*(f for f, _, _ in (*_COMMON, *FIELDS[Kind.TRANSITION])), "seq", "prev")
_TRANSITION_TYPES = frozenset(
    tuple(
        {"from": source, "evidence": dict, "seq": int}.get(name, str) for name in _TRANSITION_FIELDS
    )
    for source in (str, type(None))
)
_STATES, _TRIGGERS = frozenset(State), _WORDS[(Kind.TRANSITION, "trigger")]


def problem(event: Any) -> str | None:
    """What is wrong with a parsed event, in a few words; None when it is well formed.

    The chain fields (`seq`, `prev`) are the chain check's; this checks that they are there
    and of the right type, and everything the readers of each kind rely on.
    """
    if (
        type(event) is dict
        and event.get("kind") == Kind.TRANSITION
        and event.get("schema_version", 1) in _VERSIONS
        and tuple(map(type, map(event.get, _TRANSITION_FIELDS))) in _TRANSITION_TYPES
        and event["seq"] >= 1
        and len(event["prev"]) == 64
        and event["to"] in _STATES
        and "from" in event
        and (event["from"] is None or event["from"] in _STATES)
        and event["trigger"] in _TRIGGERS
    ):
        return None
    return _explain(event)


_VERSIONS = frozenset(range(1, SCHEMA_VERSION + 1))


def _explain(event: Any) -> str | None:
    if type(event) is not dict:
        return "not a JSON object"
    kind = event.get("kind")
    fields = FIELDS.get(kind) if type(kind) is str else None
    if fields is None:
        return f"unknown kind {str(kind)[:40]!r}"
    version = event.get("schema_version", 1)
    if type(version) is not int or version < 1:
        return "'schema_version' must be a whole number from 1"
    if version > SCHEMA_VERSION:
        return f"schema version {version} is newer than this awards reads ({SCHEMA_VERSION}): use a newer awards"
    if type(event.get("seq")) is not int or event["seq"] < 1:
        return "'seq' must be a whole number from 1"
    if not _is(event.get("prev"), _HEX):
        return f"'prev' must be {_HEX}"
    for name, what, since in (*_COMMON, *fields):
        if name not in event:
            if version >= since:
                return f"no {name!r}"
        elif not _is(event[name], what):
            return f"{name!r} must be {what.removesuffix(_OPTIONAL)}" + (
                " or null" if what.endswith(_OPTIONAL) else ""
            )
    for (of, name), words in _WORDS.items():
        if of == kind and event.get(name) is not None and event[name] not in words:
            return f"{name!r} is {str(event[name])[:40]!r}, not one of {', '.join(sorted(words))}"
    if kind == Kind.CHECKPOINT:
        if event["size"] < 0:
            return "'size' must not be negative"
        if "frontier" in event and not _is(event["frontier"], _FRONTIER):
            return f"'frontier' must be {_FRONTIER}"
    return None
