"""Workflow files (workflows/<cycle>.toml): the declared rules of one cycle.

A workflow file is data, never code: a cycle, its scoring dimensions with weights, the
survey's column mapping, and its award categories with pool, grouping, cuts, review rule,
tie-breaks and template. `load_workflow` validates the whole file and reports every problem
at once, located by line and key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from awards.errors import NotFound

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
    """Committee review: `quorum` verdicts needed per nomination; 0 means no review."""

    quorum: int = 0
    approval: str = "majority"

    @property
    def required(self) -> bool:
        return self.quorum > 0


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


def load_workflow(path: str | Path) -> Workflow:
    """Read and validate a workflow file; raise InputErrors listing every problem."""
    p = Path(path)
    return parse_workflow(p.read_bytes(), str(path))


def parse_workflow(data: bytes, name: str) -> Workflow:
    """Validate workflow bytes (named `name` in messages) into a Workflow."""
    raise NotImplementedError
