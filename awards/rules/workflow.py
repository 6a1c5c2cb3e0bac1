"""The workflow model: the declared rules of one cycle, as frozen dataclasses.

A workflow file (workflows/<cycle>.toml) is data, never code: a cycle, its scoring dimensions
with weights, the survey's column mapping, and its award categories with pool, grouping,
cuts, review rule, tie-breaks and template. awards.rules.workflow_file reads and validates one
into the Workflow defined here; everything else only reads these values.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
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
# The columns a verdict sheet (`awards review --from`) must have, and its optional note; any
# other column named by a dimension key holds an adjusted score.
VERDICT_COLUMNS: tuple[str, ...] = ("nomination", "reviewer", "verdict")
VERDICT_NOTE = "note"
# The values a field may take; the workflow file's checks report anything else.
# The levels a workflow has when it declares none ([[levels]]): those of the 2019 survey.
LEVELS: tuple[str, ...] = ("department", "provincial")
KINDS: tuple[str, ...] = ("plaque", "certificate")
APPROVALS: tuple[str, ...] = ("majority", "unanimous")
AGGREGATES: tuple[str, ...] = ("mean", "median")
RANK_BY: tuple[str, ...] = ("survey", "reviewed")
# The survey's own text columns a rule may group, segment or cap by; declared text fields too.
GROUP_FIELDS: tuple[str, ...] = ("province", "ministry")
FIELD_KINDS: tuple[str, ...] = ("text", "count")  # a label, or a non-negative integer (votes)
TIES: tuple[str, ...] = ("chain", "joint")
DIGITS: tuple[str, ...] = ("thai", "arabic")
# Tie-break keys besides the dimension keys. "id" is the unique key every chain ends with.
NAME_KEYS: tuple[str, ...] = ("name_th", "name_en")
UNIQUE_KEY = "id"
WEIGHTED = "weighted"
# Checked both where the file declares reviewers and where one is added to a cycle later.
REVIEWER_ID_RULE = (
    r"[A-Za-z0-9][A-Za-z0-9._-]*",
    "reviewer id must start with a letter or digit and use only letters, digits, '.', '_' and '-'",
)


@dataclass(frozen=True)
class Level:
    """A level of government the survey covers (department, provincial, local, ...)."""

    key: str
    title_th: str
    title_en: str


DEFAULT_LEVELS: tuple[Level, ...] = (
    Level("department", "ระดับกรม", "department-level"),
    Level("provincial", "ระดับจังหวัด", "provincial"),
)


@dataclass(frozen=True)
class Field:
    """A survey column the rules may read besides the scores: a text label (with the values
    it may take, if declared) or a count such as votes."""

    key: str
    kind: str  # "text" or "count"
    values: tuple[str, ...] = ()  # for text: the allowed values; empty allows any
    title_th: str = ""
    title_en: str = ""


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
    # field key -> the values admitted (one value for "equals", several for "one of")
    where: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


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
class Quota:
    """At most `max` winners per value of `field` (e.g. one per ministry); the next eligible
    nominee takes the place of one skipped."""

    field: str
    max: int


@dataclass(frozen=True)
class Tier:
    """A named band of winners by score: `min` <= score, and score < `max` when given."""

    key: str
    title_th: str
    title_en: str
    min: Decimal
    max: Decimal | None = None

    def holds(self, score: Decimal) -> bool:
        return score >= self.min and (self.max is None or score < self.max)


def band_of(tiers: Sequence[Tier], score: Decimal) -> Tier | None:
    """The one band a score falls in (bands may not overlap), or None."""
    return next((t for t in tiers if t.holds(score)), None)


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
    # The reviewers this review (or round) may assign, by id; empty: every reviewer of the cycle.
    panel: tuple[str, ...] = ()
    # In a round before the last: who goes on to the next round, ranked among the approved.
    cut: Cut | None = None

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
    score: str  # "weighted", a dimension key or a count field (votes)
    shortlist: Cut
    winners: Cut
    review: Review
    tie_break: tuple[str, ...]
    reason_th: str = ""
    reason_en: str = ""
    segment_by: str | None = None  # the cuts apply within each value of this field
    quota: Quota | None = None  # at most N winners per value of a field
    tiers: tuple[Tier, ...] = ()  # each winner gets the one band its score falls in
    ties: str = "chain"  # "joint": everyone tied on score at the last winning place wins
    # Review rounds in order ([[awards.rounds]]); empty: one round, `review`. With rounds,
    # `review` is the last of them, whose outcome the award stage reads.
    rounds: tuple[Review, ...] = ()

    @property
    def round_count(self) -> int:
        return max(1, len(self.rounds))

    def round_rule(self, number: int) -> Review:
        """The review rule of round `number` (1-based); the award's `review` without rounds."""
        return self.rounds[number - 1] if self.rounds else self.review


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
    issuer_th: str = ""  # the organisation presenting the sheets, printed above the lead
    issuer_en: str = ""
    emblem: str | None = None  # the issuer's own PNG/SVG, relative to the workflow file
    verify_url: str = ""  # https://...; the QR then holds <verify_url>/<code>


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
    levels: tuple[Level, ...] = DEFAULT_LEVELS
    fields: tuple[Field, ...] = ()  # declared survey fields besides scores and flags
    specimen: bool = False  # [cycle] specimen: every sheet is watermarked ตัวอย่าง / SPECIMEN

    @property
    def dimension_keys(self) -> tuple[str, ...]:
        return tuple(d.key for d in self.dimensions)

    @property
    def level_keys(self) -> tuple[str, ...]:
        return tuple(level.key for level in self.levels)

    @property
    def field_keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)

    def level(self, key: str) -> Level:
        """The declared level; one of the key alone when it is not declared."""
        for level in self.levels:
            if level.key == key:
                return level
        return Level(key, key, key)

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

    def emblem_file(self) -> Path | None:
        """The issuer's emblem ([ceremony] emblem), resolved against the workflow file's
        folder like the templates; None when the workflow names none."""
        if self.ceremony is None or self.ceremony.emblem is None:
            return None
        return Path(self.path).parent / self.ceremony.emblem
