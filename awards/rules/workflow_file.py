"""Reading a workflow file: load_workflow and parse_workflow validate the whole file and
report every problem at once, located by line and key.

The cycle-wide tables ([cycle], [[dimensions]], [survey], [ceremony], [[reviewers]]) are
checked here; awards.rules.workflow_awards checks the [[awards]] tables.
"""

from __future__ import annotations

import hashlib
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from awards.errors import InputErrors, Problem
from awards.rules.names import affiliation_problems, nfc
from awards.rules.thai import be_year
from awards.rules.tomlfile import Table, suggest, syntax_problem
from awards.rules.workflow import (
    DEFAULT_COLUMNS,
    DEFAULT_LEVELS,
    FIELD_KINDS,
    REVIEWER_ID_RULE,
    Award,
    Dimension,
    Field,
    Level,
    Reviewer,
    Workflow,
)
from awards.rules.workflow_awards import read_awards
from awards.rules.workflow_ceremony import emblem_problem, read_ceremony
from awards.rules.workflow_checker import WorkflowChecker

# The keys each table may hold; anything else is reported with the closest known key.
_TOP_KEYS = (
    "schema_version", "cycle", "levels", "dimensions", "survey", "awards", "ceremony",
    "reviewers",
)  # fmt: skip
_CYCLE_KEYS = ("id", "title_th", "title_en", "year", "year_be", "precision", "specimen")
_DIMENSION_KEYS = ("key", "title_th", "title_en", "weight")
_SURVEY_KEYS = ("flags", "fields", "columns")
_LEVEL_KEYS = ("key", "title_th", "title_en")
_FIELD_KEYS = ("key", "kind", "values", "title_th", "title_en")
_LEVEL_RULE = (r"[a-z][a-z0-9_]*", "level key must start with a-z and use only a-z, 0-9 and _")
_REVIEWER_KEYS = ("id", "name", "ministries", "provinces")


def _cycle(c: WorkflowChecker, doc: Table) -> dict[str, Any]:
    """The [cycle] table as Workflow fields."""
    table = c.table(doc, "cycle", _CYCLE_KEYS, required=True)
    if table is None:  # already reported; its keys would only repeat the problem
        return dict(cycle_id="", title_th="", title_en="", year=0, year_be=0, precision=2)
    year = c.get(table, "cycle.year", int, required=True)
    year_be = c.get(table, "cycle.year_be", int)
    if year is not None:
        expected = be_year(year)
        if year_be is not None and year_be != expected:
            message = f"year_be must be year + 543 = {expected}; correct it or leave it out"
            c.add("cycle.year_be", message, year_be)
        year_be = expected
    precision = c.integer(table, "cycle.precision", 0, 6)
    return {
        "cycle_id": c.text(table, "cycle.id"),
        "title_th": c.text(table, "cycle.title_th"),
        "title_en": c.text(table, "cycle.title_en"),
        "year": year or 0,
        "year_be": year_be or 0,
        "precision": 2 if precision is None else precision,
        "specimen": bool(c.get(table, "cycle.specimen", bool)),
    }


def _dimensions(c: WorkflowChecker, doc: Table) -> tuple[Dimension, ...]:
    """The [[dimensions]]: keys unique and not reserved, weights > 0 summing to exactly 1."""
    dimensions, weights = [], []
    for path, item in c.tables(doc, "dimensions", _DIMENSION_KEYS):
        key = c.get(item, f"{path}.key", str, required=True)
        if key is not None:
            c.name(key, f"{path}.key", "dimension key")
        weight = c.number(item, f"{path}.weight", required=True)
        if weight is not None and weight <= 0:
            c.add(f"{path}.weight", "weight must be greater than 0", weight)
        elif weight is not None:
            weights.append(weight)
        title_th = c.get(item, f"{path}.title_th", str) or ""
        title_en = c.get(item, f"{path}.title_en", str) or ""
        dimensions.append(Dimension(key or "", title_th, title_en, weight or Decimal(0)))
    # The sum is only worth reporting when every weight is valid.
    if weights and len(weights) == len(doc["dimensions"]) and sum(weights) != 1:
        c.add("dimensions", f"dimension weights sum to {sum(weights)}; they must sum to 1")
    return tuple(dimensions)


def _levels(c: WorkflowChecker, doc: Table) -> tuple[Level, ...]:
    """The optional [[levels]] the survey covers; without them, department and provincial."""
    if "levels" not in doc:
        return DEFAULT_LEVELS
    levels: list[Level] = []
    for path, item in c.tables(doc, "levels", _LEVEL_KEYS):
        key = c.text(item, f"{path}.key", *_LEVEL_RULE)
        if key in {level.key for level in levels}:
            c.add(f"{path}.key", f"level '{key}' is declared twice; list each level once", key)
            continue
        levels.append(
            Level(key, c.text(item, f"{path}.title_th"), c.text(item, f"{path}.title_en"))
        )
    return tuple(levels)


def _fields(c: WorkflowChecker, table: Table) -> tuple[Field, ...]:
    """The [[survey.fields]]: text labels (optionally from a list of values) or counts."""
    fields: list[Field] = []
    for path, item in c.tables(table, "fields", _FIELD_KEYS, under="survey"):
        key = c.get(item, f"{path}.key", str, required=True)
        good = key is not None and c.name(key, f"{path}.key", "field key")
        kind = c.choice(item, f"{path}.kind", FIELD_KINDS) or "text"
        values: list[str] = []
        for i, value in enumerate(c.get(item, f"{path}.values", list) or []):
            if not isinstance(value, str) or not value.strip():
                c.add(f"{path}.values[{i}]", "a non-empty string expected", value)
            elif value in values:
                c.add(f"{path}.values[{i}]", f"value '{value}' is listed twice", value)
            else:
                values.append(value)
        if values and kind != "text":
            c.add(f"{path}.values", f"only a text field lists its values; '{key}' is a {kind}")
        title_th = c.get(item, f"{path}.title_th", str) or ""
        title_en = c.get(item, f"{path}.title_en", str) or ""
        if good and key is not None:
            fields.append(Field(key, kind, tuple(values), title_th, title_en))
    return tuple(fields)


def _survey(c: WorkflowChecker, doc: Table) -> dict[str, str]:
    """Read [survey] flags into c.flags and its fields into c.fields; return every canonical
    column -> its file column."""
    table = c.table(doc, "survey", _SURVEY_KEYS) or {}
    flags = []
    for i, flag in enumerate(c.get(table, "survey.flags", list) or []):
        if not isinstance(flag, str):
            c.add(f"survey.flags[{i}]", "string expected", flag)
        elif c.name(flag, f"survey.flags[{i}]", "flag"):
            flags.append(flag)
    c.flags = tuple(flags)
    c.fields = _fields(c, table) if "fields" in table else ()
    canonical = (*DEFAULT_COLUMNS, *c.dimension_keys, *c.flags, *(f.key for f in c.fields))
    overrides: dict[str, str] = {}
    for key, value in (c.get(table, "survey.columns", dict) or {}).items():
        path = f"survey.columns.{key}"
        if key not in canonical:
            c.add(path, f"unknown column name '{key}'; {suggest(key, canonical)}")
        elif not isinstance(value, str) or not value.strip():
            c.add(path, "non-empty string expected: the column's name in the survey file", value)
        else:
            overrides[key] = value
    columns = {key: overrides.get(key, key) for key in canonical}
    # Defaults are registered first so that a clash is reported at the override causing it.
    readers: dict[str, str] = {}  # file column -> canonical name reading it
    for key in sorted(canonical, key=lambda k: k in overrides):
        if (column := columns[key]) in readers:
            message = (
                f"'{key}' and '{readers[column]}' both read column '{column}'; map each to its own"
            )
            c.add(f"survey.columns.{key}", message, column)
        readers.setdefault(column, key)
    return columns


def _reviewers(c: WorkflowChecker, doc: Table) -> tuple[Reviewer, ...]:
    """The optional [[reviewers]]: ids unique, affiliations lists of names."""
    if "reviewers" not in doc:
        return ()
    found: list[Reviewer] = []
    seen: dict[str, str] = {}
    for path, t in c.tables(doc, "reviewers", _REVIEWER_KEYS):
        rid = c.text(t, f"{path}.id", *REVIEWER_ID_RULE)
        if rid in seen:
            c.add(
                f"{path}.id",
                f"reviewer '{rid}' is already declared at {seen[rid]}; use another id",
                rid,
            )
        elif rid:
            seen[rid] = path
        declared: dict[str, list[str]] = {}
        for key in ("ministries", "provinces"):
            items = c.get(t, f"{path}.{key}", list) or []
            for i, item in enumerate(items):
                if not isinstance(item, str) or not item.strip():
                    c.add(f"{path}.{key}[{i}]", "a non-empty name expected", item)
            declared[key] = [nfc(i.strip()) for i in items if isinstance(i, str) and i.strip()]
        name = c.text(t, f"{path}.name")
        for field, value, why in affiliation_problems(**declared):
            c.add(f"{path}.{field}", why, value)
        ministries, provinces = (tuple(sorted(set(declared[k]))) for k in declared)
        found.append(Reviewer(rid, name, ministries, provinces))
    return tuple(found)


def _check_templates(
    c: WorkflowChecker, awards: tuple[Award, ...], own: str | None, base: Path
) -> None:
    """Every award's template exists, in the cycle's own folder or among the shipped ones,
    and neither it nor anything in the cycle's folder leads out of them by a link."""
    from awards.paths import leads_outside, links_out, templates_dir  # files on disk only

    folders = [templates_dir()]
    if own is not None:
        if (base / own).is_dir():
            folders.insert(0, base / own)
            for entry, target in links_out(base / own, folders):
                message = (
                    f"{entry.relative_to(base / own)} in the templates folder is a link to "
                    f"{target}, outside the template folders; copy the file in instead"
                )
                c.add("ceremony.templates", message, own)
        else:
            message = f"no folder {base / own}; name a folder relative to the workflow file"
            c.add("ceremony.templates", message, own)
    for i, award in enumerate(awards):
        if not award.template:
            continue
        found = [f / f"{award.template}.html" for f in folders]
        found = [path for path in found if path.is_file()]
        if not found:
            known = sorted(
                {p.stem for f in folders for p in f.glob("*.html") if not p.name.startswith("_")}
            )
            message = f"no template '{award.template}'; use one of: {', '.join(known)}"
            c.add(f"awards[{i}].template", message, award.template)
        elif leads_outside(found[0], folders) and not found[0].is_symlink():  # links: above
            message = (
                f"template '{award.template}' is {found[0].resolve()}, outside the template "
                "folders; name a template inside them"
            )
            c.add(f"awards[{i}].template", message, award.template)


def load_workflow(path: str | Path) -> Workflow:
    """Read and validate a workflow file; raise InputErrors listing every problem.

    Beyond parse_workflow, files the workflow names are checked too: the [ceremony]
    templates folder and each award's template must exist, and the emblem be an image.
    """
    p = Path(path)
    return parse_workflow(p.read_bytes(), str(path), check_files=True)


def parse_workflow(data: bytes, name: str, *, check_files: bool = False) -> Workflow:
    """Validate workflow bytes (named `name` in messages) into a Workflow.

    Every problem in the file is collected, located by line (best effort) and dotted key
    path, and raised together as one InputErrors, in file order. On success the Workflow
    keeps the decoded text, the SHA-256 of `data` and `name` as its path. With
    `check_files`, the templates it names must exist (relative paths from `name`'s folder).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"not UTF-8 text (bad byte at offset {error.start}); save the file as UTF-8"
        raise InputErrors([Problem(name, None, None, None, message)]) from None
    try:
        # parse_float=Decimal keeps weights and thresholds exact: 0.20 stays 0.20.
        doc = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise InputErrors([syntax_problem(name, text, error)]) from None

    c = WorkflowChecker(name, text)
    c.known(doc, "", _TOP_KEYS)
    version = c.get(doc, "schema_version", int)
    if version is not None and version != 1:
        c.add("schema_version", "schema_version must be 1, the version this program reads", version)
    cycle = _cycle(c, doc)
    c.levels = _levels(c, doc)
    dimensions = _dimensions(c, doc)
    c.dimension_keys = tuple(c.taken)  # only the valid, unique keys, so rules see no duplicates
    columns = _survey(c, doc)
    reviewers = _reviewers(c, doc)  # before the awards, whose panels name them
    c.reviewer_ids = tuple(r.id for r in reviewers if r.id)
    awards = read_awards(c, doc)
    ceremony = read_ceremony(c, doc, cycle["year"])
    if check_files:
        own = None if ceremony is None else ceremony.templates
        _check_templates(c, awards, own, Path(name).parent)
        emblem = None if ceremony is None else ceremony.emblem
        if emblem is not None and (why := emblem_problem(Path(name).parent, emblem)):
            c.add("ceremony.emblem", why, emblem)
    if c.problems:
        # A stable sort: file order, and within one line the order the checks ran.
        c.problems.sort(key=lambda p: (p.line is None, p.line or 0))
        raise InputErrors(c.problems)
    return Workflow(
        **cycle,
        dimensions=dimensions,
        columns=columns,
        flags=c.flags,
        awards=awards,
        sha256=hashlib.sha256(data).hexdigest(),
        text=text,
        path=name,
        ceremony=ceremony,
        reviewers=reviewers,
        levels=c.levels,
        fields=c.fields,
    )
