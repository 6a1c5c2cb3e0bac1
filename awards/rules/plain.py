"""Results as plain, JSON-ready values: what `as_dict()` returns and `--json` prints.

Dataclasses and mappings become dicts, tuples and sets lists, Decimals strings (as in the
decision log, so no figure passes through a float), paths strings, enums their values and
dates ISO 8601. A leaf module: it imports nothing from the package, so every layer, the
decision log included, can give its results `as_dict()` by deriving from `Plain`.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any


def plain(value: Any) -> Any:
    """`value` as JSON-ready values: dataclasses and mappings as dicts, tuples and sets as
    lists, Decimals and paths as strings, enums as their values, dates in ISO 8601."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if callable(as_dict := getattr(value, "as_dict", None)):
        return as_dict()  # a result that says how it is written (Plain, or its own)
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Decimal | PurePath):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return [plain(v) for v in items]
    if isinstance(value, bytes):
        return value.decode("utf-8")
    raise TypeError(f"{type(value).__name__} has no plain JSON form")


class Plain:
    """Base of the library's result dataclasses: `as_dict()` gives their fields as plain,
    JSON-ready values (see `plain`)."""

    def as_dict(self) -> dict[str, Any]:
        """The fields as JSON-ready values: `json.dumps(result.as_dict())` needs nothing else."""
        if not dataclasses.is_dataclass(self):
            raise TypeError(f"{type(self).__name__} is not a dataclass")
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
