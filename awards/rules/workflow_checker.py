"""The checker a workflow file is read with: located problems, plus the names it declares.

Dimension keys, survey flags and declared survey fields share one namespace; later sections (the survey's columns,
each award's score, pool and tie-breaks) may only use names declared before them.
"""

from __future__ import annotations

import re
from functools import cache

from awards.rules.names import invisible, mojibake, nfc
from awards.rules.tomlfile import Checker, Names, Table
from awards.rules.workflow import (
    DEFAULT_COLUMNS,
    DEFAULT_LEVELS,
    GROUP_FIELDS,
    UNIQUE_KEY,
    VERDICT_COLUMNS,
    VERDICT_NOTE,
    WEIGHTED,
    Field,
    Level,
)

_NAME_PATTERN = r"[a-z][a-z0-9_]*"


# Every field a logged event carries. The event catalogue (awards.log.events) sits above the
# rules, so the names are written here and tests/test_reserved_names.py holds them equal to
# what the catalogue's constructors actually write (awards.log.fields.event_fields).
EVENT_FIELDS: frozenset[str] = frozenset(
    (
        "actor",
        "agencies",
        "agencies_sha256",
        "at",
        "award",
        "award_seq",
        "awards",
        "by",
        "code",
        "cycle",
        "dropped",
        "evidence",
        "file",
        "from",
        "frontier",
        "head",
        "kind",
        "ministries",
        "name",
        "nomination",
        "nominee",
        "note",
        "pdf_sha256",
        "pdfa",
        "per_nomination",
        "prev",
        "previous",
        "provinces",
        "public_key",
        "reason",
        "recipient_en",
        "recipient_th",
        "replacement",
        "replaces",
        "replacing",
        "reviewer",
        "root",
        "round",
        "schema_version",
        "scores",
        "seq",
        "serial",
        "signature",
        "size",
        "source",
        "survey_file",
        "survey_sha256",
        "template",
        "template_sha256",
        "to",
        "trigger",
        "verdict",
        "was_assigned",
        "workflow_file",
        "workflow_sha256",
    )
)


@cache
def reserved_names() -> frozenset[str]:
    """Names a dimension or flag may not take: the survey's and verdict sheets' columns, the
    keys rules already use, and every field of a logged event (a dimension key is a key of
    a verdict's scores, next to them)."""
    engine = (*DEFAULT_COLUMNS, *VERDICT_COLUMNS, VERDICT_NOTE, UNIQUE_KEY, "score", WEIGHTED)
    return frozenset(engine) | EVENT_FIELDS


class WorkflowChecker(Checker):
    """The workflow's checker: also tracks the dimension keys and flags declared so far."""

    def __init__(self, file: str, text: str) -> None:
        super().__init__(file, text)
        self.taken: dict[str, str] = {}  # dimension key or flag -> where it is declared
        self.dimension_keys: Names = ()
        self.flags: Names = ()
        self.levels: tuple[Level, ...] = DEFAULT_LEVELS
        self.fields: tuple[Field, ...] = ()
        self.reviewer_ids: Names = ()  # declared in [[reviewers]]: what a panel may name

    @property
    def level_keys(self) -> Names:
        return tuple(level.key for level in self.levels)

    @property
    def text_fields(self) -> Names:
        """The text fields a rule may group, segment, cap or filter by: the survey's own
        (level, ministry, province) and the declared ones."""
        return ("level", *GROUP_FIELDS, *(f.key for f in self.fields if f.kind == "text"))

    @property
    def count_fields(self) -> Names:
        return tuple(f.key for f in self.fields if f.kind == "count")

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)

    def text(self, table: Table, path: str, pattern: str = "", rule: str = "") -> str:
        """A required non-empty string (see Checker.text), in NFC, refused if it holds
        mojibake or invisible characters: titles, names and signatories are printed."""
        value = nfc(super().text(table, path, pattern, rule))
        if why := mojibake(value) or invisible(value):
            self.add(path, why, value)
        return value

    def name(self, value: str, path: str, what: str) -> bool:
        """Check a dimension key or flag, and record it as taken if it is good."""
        if not re.fullmatch(_NAME_PATTERN, value):
            message = f"{what} must start with a lower-case letter and use only a-z, 0-9 and _"
        elif value in reserved_names():
            reserved = ", ".join(sorted(reserved_names()))
            message = (
                f"{what} '{value}' is a reserved name; use a different name. Reserved: {reserved}"
            )
        elif value in self.taken:
            message = f"{what} '{value}' is already declared at {self.taken[value]}; use another"
        else:
            self.taken[value] = path
            return True
        self.add(path, message, value)
        return False
