"""Checked reading of a parsed TOML document: every fault becomes a located Problem.

tomllib reports no positions for values, so the lines of keys are found by scanning the
text (see `key_lines`); a problem names its line, its dotted key path and the value.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
import tomllib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from awards.errors import Problem

_TYPE_NAMES = {str: "string", int: "integer", bool: "boolean", dict: "table", list: "array"}
_T = TypeVar("_T")
Table = Mapping[str, Any]
Names = tuple[str, ...]


def show(value: object) -> str:
    """A value for a message, written much as in TOML."""
    if isinstance(value, str | Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def key_of(path: str) -> str:
    return path.rpartition(".")[2]


def suggest(key: str, known: Names, otherwise: str | None = None) -> str:
    """'did you mean' the closest known name; else `otherwise`, or the list of them all."""
    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return otherwise or f"use one of: {', '.join(known)}"


# tomllib reports no positions for values, so lines are found by scanning the text for table
# headers and `key =` assignments. Best effort: quoted keys holding dots or lines inside
# multi-line strings can mislead it, and a missing key is located at its parent.
_HEADER_RE = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]")
_ASSIGN_RE = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")
_PARENT_RE = re.compile(r"(^|\.)[^.\[\]]+$|\[\d+\]$")
_SYNTAX_RE = re.compile(r"^(.*) \(at (?:line (\d+), column (\d+)|end of document)\)$", re.DOTALL)


def _plainkey_of(key: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in key.split("."))


def key_lines(text: str) -> list[tuple[str, int]]:
    """(key path, line) for every table header and key assignment, in file order."""
    entries: list[tuple[str, int]] = []
    arrays: dict[str, int] = {}  # array-of-tables name -> index of its latest entry
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if header := _HEADER_RE.match(line):
            name = _plainkey_of(header.group(2))
            first = name.partition(".")[0]
            nested = first in arrays and name != first
            if header.group(1) == "[[" and not nested:
                arrays[name] = arrays.get(name, -1) + 1
            # [awards.pool] belongs to the latest [[awards]]: awards[n].pool.
            table = f"{first}[{arrays[first]}]{name[len(first) :]}" if first in arrays else name
            if header.group(1) == "[[" and nested:  # [[awards.rounds]]: awards[n].rounds[m]
                arrays[table] = arrays.get(table, -1) + 1
                table = f"{table}[{arrays[table]}]"
            entries.append((table, number))
        elif assign := _ASSIGN_RE.match(line):
            entries.append((join(table, _plainkey_of(assign.group(1))), number))
    return entries


def locate(entries: list[tuple[str, int]], path: str) -> int | None:
    """The line of `path`, else of the first key under it, else of its nearest parent."""
    while path:
        exact = [number for key, number in entries if key == path]
        under = [number for key, number in entries if key.startswith((path + ".", path + "["))]
        if exact or under:
            return (exact or under)[0]
        path = _PARENT_RE.sub("", path)
    return None


def syntax_problem(name: str, text: str, error: tomllib.TOMLDecodeError) -> Problem:
    match = _SYNTAX_RE.match(str(error))
    if match is None:
        return Problem(name, None, None, None, f"invalid TOML: {error}")
    message = "invalid TOML: " + match.group(1)[:1].lower() + match.group(1)[1:]
    if match.group(2) is None:  # "at end of document"
        return Problem(name, max(1, len(text.splitlines())), None, None, message)
    return Problem(name, int(match.group(2)), None, None, f"{message} at column {match.group(3)}")


class Checker:
    """Reads values out of the parsed document, collecting a located problem for each fault.

    Getters take the dotted path of the key they read and return None when it is absent
    or wrong (having reported it if that is a problem)."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.entries = key_lines(text)
        self.problems: list[Problem] = []

    def add(self, path: str, message: str, value: object = None) -> None:
        shown = None if value is None else show(value)
        self.problems.append(Problem(self.file, locate(self.entries, path), path, shown, message))

    def get(self, table: Table, path: str, kind: type[_T], required: bool = False) -> _T | None:
        key = key_of(path)
        if key not in table:
            if required:
                self.add(path, f"missing required key '{key}'; add it")
            return None
        value = table[key]
        # bool is an int in Python but not in TOML.
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        self.add(path, f"{_TYPE_NAMES[kind]} expected", value)
        return None

    def known(self, table: Table, path: str, allowed: Names) -> None:
        for key in table:
            if key not in allowed:
                self.add(join(path, key), f"unknown key '{key}'; {suggest(key, allowed)}")

    def table(
        self, parent: Table, path: str, allowed: Names, required: bool = False
    ) -> Table | None:
        """A sub-table, its unknown keys reported."""
        table = self.get(parent, path, dict, required)
        self.known(table or {}, path, allowed)
        return table

    def tables(
        self, doc: Table, key: str, allowed: Names, under: str = ""
    ) -> list[tuple[str, Table]]:
        """An array of tables (at least one), each with its path (`under` is the dotted path
        of the table that holds the array, for an array below the top level)."""
        path = join(under, key) if under else key
        items = self.get(doc, path, list)
        if not items and (items is not None or key not in doc):
            self.add(path, f"no {key}; declare at least one [[{path}]]")
        found: list[tuple[str, Table]] = []
        for i, item in enumerate(items or []):
            if isinstance(item, dict):
                self.known(item, f"{path}[{i}]", allowed)
                found.append((f"{path}[{i}]", item))
            else:
                self.add(f"{path}[{i}]", "table expected", item)
        return found

    def text(self, table: Table, path: str, pattern: str = "", rule: str = "") -> str:
        """A required non-empty string, matching `pattern` if given ("" if absent or wrong)."""
        value = self.get(table, path, str, required=True)
        if value is not None and not value.strip():
            self.add(path, f"{key_of(path)} must not be empty", value)
        elif value is not None and pattern and not re.fullmatch(pattern, value):
            self.add(path, rule, value)
        return value or ""

    def choice(self, table: Table, path: str, options: Names, required: bool = False) -> str | None:
        value = self.get(table, path, str, required)
        if value is not None and value not in options:
            self.add(path, f"{key_of(path)} must be one of: {', '.join(options)}", value)
        return value

    def integer(self, table: Table, path: str, low: int, high: int | None = None) -> int | None:
        value = self.get(table, path, int)
        if value is not None and not low <= value <= (value if high is None else high):
            bound = f"at least {low}" if high is None else f"between {low} and {high}"
            self.add(path, f"{key_of(path)} must be {bound}", value)
            return None
        return value

    def number(self, table: Table, path: str, required: bool = False) -> Decimal | None:
        """A TOML float (already a Decimal), integer or numeric string, as an exact Decimal."""
        value = self.get(table, path, object, required)
        if value is None:
            return None
        if not isinstance(value, bool) and isinstance(value, Decimal | int | str):
            with contextlib.suppress(InvalidOperation):
                if (number := Decimal(str(value))).is_finite():
                    return number
        self.add(path, "number expected", value)
        return None

    def percent(self, table: Table, path: str) -> Decimal | None:
        """A score bound: a number from 0 to 100."""
        number = self.number(table, path)
        if number is not None and not 0 <= number <= 100:
            self.add(path, f"{key_of(path)} must be between 0 and 100", number)
            return None
        return number
