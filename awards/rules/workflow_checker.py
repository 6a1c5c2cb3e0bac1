"""The checker a workflow file is read with: located problems, plus the names it declares.

Dimension keys, survey flags and declared survey fields share one namespace; later sections (the survey's columns,
each award's score, pool and tie-breaks) may only use names declared before them.
"""

from __future__ import annotations

import re

from awards.rules.tomlfile import Checker, Names
from awards.rules.workflow import (
    DEFAULT_COLUMNS,
    DEFAULT_LEVELS,
    GROUP_FIELDS,
    UNIQUE_KEY,
    WEIGHTED,
    Field,
    Level,
)

# Names a dimension or flag may not take: survey columns and keys that rules already use.
RESERVED: frozenset[str] = frozenset((*DEFAULT_COLUMNS, UNIQUE_KEY, "score", WEIGHTED))
_NAME_PATTERN = r"[a-z][a-z0-9_]*"


class WorkflowChecker(Checker):
    """The workflow's checker: also tracks the dimension keys and flags declared so far."""

    def __init__(self, file: str, text: str) -> None:
        super().__init__(file, text)
        self.taken: dict[str, str] = {}  # dimension key or flag -> where it is declared
        self.dimension_keys: Names = ()
        self.flags: Names = ()
        self.levels: tuple[Level, ...] = DEFAULT_LEVELS
        self.fields: tuple[Field, ...] = ()

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

    def name(self, value: str, path: str, what: str) -> bool:
        """Check a dimension key or flag, and record it as taken if it is good."""
        if not re.fullmatch(_NAME_PATTERN, value):
            message = f"{what} must start with a lower-case letter and use only a-z, 0-9 and _"
        elif value in RESERVED:
            message = f"{what} '{value}' is a reserved name; use a different name"
        elif value in self.taken:
            message = f"{what} '{value}' is already declared at {self.taken[value]}; use another"
        else:
            self.taken[value] = path
            return True
        self.add(path, message, value)
        return False
