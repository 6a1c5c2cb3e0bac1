"""Workflow files (workflows/<cycle>.toml): the declared rules of one cycle.

A workflow file is data, never code: a cycle, its scoring dimensions with weights, the
survey's column mapping, and its award categories with pool, grouping, cuts, review rule,
tie-breaks and template. `load_workflow` validates the whole file and reports every problem
at once, located by line and key.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from awards.errors import InputErrors, NotFound, Problem
from awards.rules.thai import be_year
from awards.rules.tomlfile import Checker, Names, Table, key_of, suggest, syntax_problem

# The columns a survey file has by default; a workflow's [survey.columns] may rename them.
DEFAULT_COLUMNS: tuple[str, ...] = (
    "agency_id",
    "name_th",
    "name_en",
    "level",
    "ministry",
    "province",
    "responded",
)
LEVELS: tuple[str, ...] = ("department", "provincial")
KINDS: tuple[str, ...] = ("plaque", "certificate")
APPROVALS: tuple[str, ...] = ("majority", "unanimous")
AGGREGATES: tuple[str, ...] = ("mean", "median")
RANK_BY: tuple[str, ...] = ("survey", "reviewed")
GROUP_FIELDS: tuple[str, ...] = ("province", "ministry")
# Tie-break keys besides the dimension keys. "id" is the unique key every chain ends with.
NAME_KEYS: tuple[str, ...] = ("name_th", "name_en")
UNIQUE_KEY = "id"
WEIGHTED = "weighted"


@dataclass(frozen=True)
class Dimension:
    key: str
    title_th: str
    title_en: str
    weight: Decimal


@dataclass(frozen=True)
class Pool:
    """Who may be nominated: filters on the surveyed agencies."""

    level: str | None = None
    responded: bool | None = True
    flags: Mapping[str, bool] = field(default_factory=dict)
    min: Mapping[str, Decimal] = field(default_factory=dict)
    max: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupBy:
    """Nominate groups (e.g. provinces) scored as the mean of their pooled member agencies."""

    field: str
    min_members: int = 1


@dataclass(frozen=True)
class Cut:
    """Keep the top N in rank order and/or those scoring at least `threshold`."""

    top: int | None = None
    threshold: Decimal | None = None


@dataclass(frozen=True)
class Review:
    """Committee review: `quorum` verdicts needed per nomination; 0 means no review.

    `approval` decides approve or reject from the verdicts (majority: more approve than
    reject; unanimous: no reject). `aggregate` (mean or median) combines the reviewers'
    scores, each the award's score computed from the survey scores with that reviewer's
    adjustments. With `rank_by = "reviewed"` the award stage ranks by that aggregate instead
    of the survey score.
    """

    quorum: int = 0
    approval: str = "majority"
    aggregate: str = "mean"
    rank_by: str = "survey"

    @property
    def required(self) -> bool:
        return self.quorum > 0


@dataclass(frozen=True)
class Reviewer:
    """A committee member. Affiliations decide conflicts of interest: a reviewer never
    reviews a department of one of their ministries, nor a provincial agency or province of
    one of their provinces."""

    id: str
    name: str
    ministries: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()


@dataclass(frozen=True)
class Award:
    id: str
    code: str
    title_th: str
    title_en: str
    kind: str
    template: str
    pool: Pool
    group_by: GroupBy | None
    score: str  # "weighted" or a dimension key
    shortlist: Cut
    winners: Cut
    review: Review
    tie_break: tuple[str, ...]
    reason_th: str = ""
    reason_en: str = ""


@dataclass(frozen=True)
class Ceremony:
    """What the printed certificates say about their giving: when, where, signed by whom."""

    date: datetime.date
    signatory_th: str
    position_th: str
    place_th: str = ""
    signatory_en: str = ""
    position_en: str = ""
    digits: str = "thai"  # how dates and years are printed: Thai (๒๕๖๒) or Arabic digits
    serial_prefix: str = "AWD"
    templates: str | None = None  # a folder of templates, relative to the workflow file


@dataclass(frozen=True)
class Workflow:
    cycle_id: str
    title_th: str
    title_en: str
    year: int
    year_be: int
    precision: int
    dimensions: tuple[Dimension, ...]
    columns: Mapping[str, str]  # canonical column name -> column name in the survey file
    flags: tuple[str, ...]  # boolean flag columns (e.g. copy_free) beyond `responded`
    awards: tuple[Award, ...]
    sha256: str  # of the file bytes
    text: str  # the file as read, so the database can keep the exact rules it ran
    path: str
    ceremony: Ceremony | None = None  # needed only to print certificates
    reviewers: tuple[Reviewer, ...] = ()  # declared in the file; more can be added per cycle

    @property
    def dimension_keys(self) -> tuple[str, ...]:
        return tuple(d.key for d in self.dimensions)

    def award(self, award_id: str) -> Award:
        """The award with this id; NotFound naming the ones that exist."""
        for award in self.awards:
            if award.id == award_id:
                return award
        known = ", ".join(a.id for a in self.awards)
        raise NotFound(f"no award '{award_id}' in cycle {self.cycle_id}; awards: {known}")

    def templates_folder(self) -> Path | None:
        """The cycle's own templates folder ([ceremony] templates), resolved against the
        workflow file's folder; None when the cycle uses the shipped templates only."""
        if self.ceremony is None or self.ceremony.templates is None:
            return None
        return Path(self.path).parent / self.ceremony.templates


# The keys each table may hold; anything else is reported with the closest known key.
_TOP_KEYS = (
    "schema_version", "cycle", "dimensions", "survey", "awards", "ceremony", "reviewers",
)  # fmt: skip
_CYCLE_KEYS = ("id", "title_th", "title_en", "year", "year_be", "precision")
_DIMENSION_KEYS = ("key", "title_th", "title_en", "weight")
_SURVEY_KEYS = ("flags", "columns")
_AWARD_KEYS = (
    "id", "code", "title_th", "title_en", "kind", "template", "score", "tie_break",
    "reason_th", "reason_en", "pool", "group_by", "shortlist", "winners", "review",
)  # fmt: skip
_POOL_KEYS = ("level", "responded", "flags", "min", "max")
_GROUP_KEYS = ("field", "min_members")
_CUT_KEYS = ("top", "threshold")
_REVIEW_KEYS = ("quorum", "approval", "aggregate", "rank_by")
_REVIEWER_KEYS = ("id", "name", "ministries", "provinces")
REVIEWER_ID_RULE = (
    r"[A-Za-z0-9][A-Za-z0-9._-]*",
    "reviewer id must start with a letter or digit and use only letters, digits, '.', '_' and '-'",
)
_CEREMONY_KEYS = (
    "date", "place_th", "signatory_th", "position_th", "signatory_en", "position_en",
    "digits", "serial_prefix", "templates",
)  # fmt: skip
DIGITS: tuple[str, ...] = ("thai", "arabic")
# Names a dimension or flag may not take: survey columns and keys that rules already use.
RESERVED: frozenset[str] = frozenset((*DEFAULT_COLUMNS, UNIQUE_KEY, "score", WEIGHTED))
_NAME_PATTERN = r"[a-z][a-z0-9_]*"
_ID_RULE = (r"[a-z0-9][a-z0-9-]*", "id must start with a-z or 0-9 and use only a-z, 0-9 and -")
_CODE_RULE = (r"[A-Z0-9]{2,8}", "code must be 2 to 8 capital letters or digits")
_PREFIX_RULE = (r"[A-Z0-9]{2,8}", "serial_prefix must be 2 to 8 capital letters or digits")


class _Checker(Checker):
    """The workflow's checker: also tracks the dimension keys and flags declared so far."""

    def __init__(self, file: str, text: str) -> None:
        super().__init__(file, text)
        self.taken: dict[str, str] = {}  # dimension key or flag -> where it is declared
        self.dimension_keys: Names = ()
        self.flags: Names = ()

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


def _cycle(c: _Checker, doc: Table) -> dict[str, Any]:
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
    }


def _dimensions(c: _Checker, doc: Table) -> tuple[Dimension, ...]:
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


def _survey(c: _Checker, doc: Table) -> dict[str, str]:
    """Read [survey] flags into c.flags; return every canonical column -> its file column."""
    table = c.table(doc, "survey", _SURVEY_KEYS) or {}
    flags = []
    for i, flag in enumerate(c.get(table, "survey.flags", list) or []):
        if not isinstance(flag, str):
            c.add(f"survey.flags[{i}]", "string expected", flag)
        elif c.name(flag, f"survey.flags[{i}]", "flag"):
            flags.append(flag)
    c.flags = tuple(flags)
    canonical = (*DEFAULT_COLUMNS, *c.dimension_keys, *c.flags)
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


def _awards(c: _Checker, doc: Table) -> tuple[Award, ...]:
    """The [[awards]], ids and codes unique across them."""
    awards = []
    seen: dict[str, dict[str, str]] = {"id": {}, "code": {}}  # key -> value -> award path
    for path, item in c.tables(doc, "awards", _AWARD_KEYS):
        award = _award(c, item, path)
        for key, value in (("id", award.id), ("code", award.code)):
            if value in seen[key]:
                message = (
                    f"{key} '{value}' is used by both {seen[key][value]} and {path}; make it unique"
                )
                c.add(f"{path}.{key}", message, value)
            elif value:
                seen[key][value] = path
        awards.append(award)
    return tuple(awards)


def _award(c: _Checker, t: Table, path: str) -> Award:
    """One [[awards]] table; an absent shortlist is the winners cut itself."""
    score = c.get(t, f"{path}.score", str)
    score = WEIGHTED if score is None else score
    if score != WEIGHTED and score not in c.dimension_keys:
        hint = suggest(score, (WEIGHTED, *c.dimension_keys))
        c.add(f"{path}.score", f"unknown dimension '{score}'; {hint}", score)
    winners = _cut(c, t, f"{path}.winners", required=True) or Cut()
    shortlist = _cut(c, t, f"{path}.shortlist")
    if shortlist is not None:
        _check_cuts(c, shortlist, winners, f"{path}.shortlist")
    return Award(
        id=c.text(t, f"{path}.id", *_ID_RULE),
        code=c.text(t, f"{path}.code", *_CODE_RULE),
        title_th=c.text(t, f"{path}.title_th"),
        title_en=c.text(t, f"{path}.title_en"),
        kind=c.choice(t, f"{path}.kind", KINDS, required=True) or "",
        template=c.text(t, f"{path}.template"),
        pool=_pool(c, t, f"{path}.pool"),
        group_by=_group_by(c, t, f"{path}.group_by"),
        score=score,
        shortlist=winners if shortlist is None else shortlist,
        winners=winners,
        review=_review(c, t, f"{path}.review"),
        tie_break=_tie_break(c, t, f"{path}.tie_break"),
        reason_th=c.get(t, f"{path}.reason_th", str) or "",
        reason_en=c.get(t, f"{path}.reason_en", str) or "",
    )


def _pool(c: _Checker, award: Table, path: str) -> Pool:
    t = c.table(award, path, _POOL_KEYS)
    if t is None:
        return Pool()
    level = c.choice(t, f"{path}.level", LEVELS)
    responded = c.get(t, f"{path}.responded", bool)
    flags: dict[str, bool] = {}
    wanted = c.get(t, f"{path}.flags", dict) or {}
    for flag in wanted:
        if flag not in c.flags:
            c.add(f"{path}.flags.{flag}", f"unknown flag '{flag}'; declare it in [survey] flags")
        elif (value := c.get(wanted, f"{path}.flags.{flag}", bool)) is not None:
            flags[flag] = value
    bounds: dict[str, dict[str, Decimal]] = {"min": {}, "max": {}}
    for bound, found in bounds.items():
        table = c.get(t, f"{path}.{bound}", dict) or {}
        for key in table:
            if key not in c.dimension_keys:
                hint = suggest(key, c.dimension_keys)
                c.add(f"{path}.{bound}.{key}", f"unknown dimension '{key}'; {hint}")
            elif (number := c.percent(table, f"{path}.{bound}.{key}")) is not None:
                found[key] = number
    for key, low in bounds["min"].items():
        if key in bounds["max"] and low > (high := bounds["max"][key]):
            message = f"min {low} is above max {high} for '{key}'; lower min or raise max"
            c.add(f"{path}.min.{key}", message, low)
    return Pool(
        level, True if responded is None else responded, flags, bounds["min"], bounds["max"]
    )


def _group_by(c: _Checker, award: Table, path: str) -> GroupBy | None:
    t = c.table(award, path, _GROUP_KEYS)
    if t is None:
        return None
    group_field = c.choice(t, f"{path}.field", GROUP_FIELDS, required=True) or ""
    return GroupBy(group_field, c.integer(t, f"{path}.min_members", 1) or 1)


def _cut(c: _Checker, award: Table, path: str, required: bool = False) -> Cut | None:
    t = c.table(award, path, _CUT_KEYS, required)
    if t is None:
        return None
    if "top" not in t and "threshold" not in t:
        c.add(path, f"{key_of(path)} keeps no one; give it top, threshold or both")
    return Cut(c.integer(t, f"{path}.top", 1), c.percent(t, f"{path}.threshold"))


def _check_cuts(c: _Checker, shortlist: Cut, winners: Cut, path: str) -> None:
    """Winners are chosen from the shortlist, so the shortlist must not be the stricter cut."""
    if shortlist.top is not None and winners.top is not None and shortlist.top < winners.top:
        message = (
            f"shortlist keeps {shortlist.top} but winners wants {winners.top}: "
            "the shortlist must keep at least as many as win"
        )
        c.add(f"{path}.top", message, shortlist.top)
    low, high = winners.threshold, shortlist.threshold
    if low is not None and high is not None and high > low:
        message = (
            f"shortlist threshold {high} is above winners threshold {low}: "
            "the shortlist must not be stricter than the winners"
        )
        c.add(f"{path}.threshold", message, high)


def _review(c: _Checker, award: Table, path: str) -> Review:
    t = c.table(award, path, _REVIEW_KEYS)
    if t is None:
        return Review()
    quorum = c.integer(t, f"{path}.quorum", 0) or 0
    rank_by = c.choice(t, f"{path}.rank_by", RANK_BY) or "survey"
    if rank_by == "reviewed" and quorum == 0:
        message = 'rank_by = "reviewed" needs a committee: set quorum to at least 1'
        c.add(f"{path}.rank_by", message, rank_by)
    return Review(
        quorum,
        c.choice(t, f"{path}.approval", APPROVALS) or "majority",
        c.choice(t, f"{path}.aggregate", AGGREGATES) or "mean",
        rank_by,
    )


def _reviewers(c: _Checker, doc: Table) -> tuple[Reviewer, ...]:
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
        lists = []
        for key in ("ministries", "provinces"):
            items = c.get(t, f"{path}.{key}", list) or []
            for i, item in enumerate(items):
                if not isinstance(item, str) or not item.strip():
                    c.add(f"{path}.{key}[{i}]", "a non-empty name expected", item)
            lists.append(
                tuple(sorted({i.strip() for i in items if isinstance(i, str) and i.strip()}))
            )
        found.append(Reviewer(rid, c.text(t, f"{path}.name"), lists[0], lists[1]))
    return tuple(found)


def _tie_break(c: _Checker, award: Table, path: str) -> Names:
    """Tie-break keys, ending with the unique key so ranking never depends on row order."""
    items = c.get(award, path, list, required=True)
    if not items:
        if items is not None:
            c.add(path, 'tie_break is empty; list the keys that break ties, ending with "id"')
        return ()
    allowed = (*c.dimension_keys, "score", *NAME_KEYS, UNIQUE_KEY)
    keys: list[str] = []
    for i, key in enumerate(items):
        if not isinstance(key, str):
            c.add(f"{path}[{i}]", "string expected", key)
        elif key not in allowed:
            c.add(f"{path}[{i}]", f"unknown tie-break key '{key}'; {suggest(key, allowed)}", key)
        elif key in keys:
            c.add(f"{path}[{i}]", f"tie-break key '{key}' is repeated; list each key once", key)
        else:
            keys.append(key)
    if items[-1] != UNIQUE_KEY:
        message = (
            "tie_break must end with 'id', the unique nominee key, so ranking never depends "
            'on row order; add "id" at the end'
        )
        c.add(path, message, items)
    return tuple(keys)


def _ceremony(c: _Checker, doc: Table, year: int) -> Ceremony | None:
    """The optional [ceremony] table: date, place and signatory printed on certificates."""
    t = c.table(doc, "ceremony", _CEREMONY_KEYS)
    if t is None:
        return None
    date = _date(c, t, "ceremony.date", year)
    signatory_th = c.text(t, "ceremony.signatory_th")
    position_th = c.text(t, "ceremony.position_th")
    optional = {
        key: c.get(t, f"ceremony.{key}", str) or ""
        for key in ("place_th", "signatory_en", "position_en")
    }
    digits = c.choice(t, "ceremony.digits", DIGITS) or "thai"
    prefix = c.text(t, "ceremony.serial_prefix", *_PREFIX_RULE) if "serial_prefix" in t else "AWD"
    templates = c.get(t, "ceremony.templates", str)
    if templates is not None and not templates.strip():
        c.add("ceremony.templates", "templates must not be empty: name a folder", templates)
        templates = None
    return Ceremony(
        date or datetime.date(max(year, 1), 1, 1),
        signatory_th,
        position_th,
        digits=digits,
        serial_prefix=prefix or "AWD",
        templates=templates,
        **optional,
    )


def _date(c: _Checker, table: Table, path: str, year: int) -> datetime.date | None:
    """A TOML local date (2019-11-28, no quotes, no time) in the cycle's year or the next."""
    if key_of(path) not in table:
        c.add(path, f"missing required key '{key_of(path)}'; add it")
        return None
    value = table[key_of(path)]
    shown = value.isoformat() if isinstance(value, datetime.date) else value
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        message = "date expected, written without quotes or time, e.g. 2019-11-28"
        c.add(path, message, shown)
        return None
    if year and not year <= value.year <= year + 1:
        message = f"date {value} is not in the cycle's year {year} or the year after; correct it"
        c.add(path, message, shown)
        return None
    return value


def _check_templates(c: _Checker, awards: tuple[Award, ...], own: str | None, base: Path) -> None:
    """Every award's template exists, in the cycle's own folder or among the shipped ones."""
    from awards.paths import templates_dir  # a leaf module; only files on disk need it

    folders = [templates_dir()]
    if own is not None:
        if (base / own).is_dir():
            folders.insert(0, base / own)
        else:
            message = f"no folder {base / own}; name a folder relative to the workflow file"
            c.add("ceremony.templates", message, own)
    for i, award in enumerate(awards):
        if award.template and not any((f / f"{award.template}.html").is_file() for f in folders):
            known = sorted(
                {p.stem for f in folders for p in f.glob("*.html") if not p.name.startswith("_")}
            )
            message = f"no template '{award.template}'; use one of: {', '.join(known)}"
            c.add(f"awards[{i}].template", message, award.template)


def load_workflow(path: str | Path) -> Workflow:
    """Read and validate a workflow file; raise InputErrors listing every problem.

    Beyond parse_workflow, files the workflow names are checked too: the [ceremony]
    templates folder and each award's template must exist.
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

    c = _Checker(name, text)
    c.known(doc, "", _TOP_KEYS)
    version = c.get(doc, "schema_version", int)
    if version is not None and version != 1:
        c.add("schema_version", "schema_version must be 1, the version this program reads", version)
    cycle = _cycle(c, doc)
    dimensions = _dimensions(c, doc)
    c.dimension_keys = tuple(c.taken)  # only the valid, unique keys, so rules see no duplicates
    columns = _survey(c, doc)
    awards = _awards(c, doc)
    ceremony = _ceremony(c, doc, cycle["year"])
    reviewers = _reviewers(c, doc)
    if check_files:
        own = None if ceremony is None else ceremony.templates
        _check_templates(c, awards, own, Path(name).parent)
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
    )
