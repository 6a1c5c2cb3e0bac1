"""Scoring: who is in an award's pool and what each nominee scores, and the national means.

No I/O, no clock, no database: the same inputs give the same scores, byte for byte, which is
what lets an auditor replay the log. Arithmetic is Decimal with official half-up rounding.
Ranking is awards.rules.ranking; what each stage decides is awards.rules.stages.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, getcontext
from types import MappingProxyType
from typing import NamedTuple

from awards.errors import AwardsError
from awards.rules.earlier import Earlier, exclusion, gain
from awards.rules.survey import Agency
from awards.rules.thai import province_names
from awards.rules.workflow import WEIGHTED, Award, Workflow

_QUANTUM = [Decimal(1).scaleb(-p) for p in range(10)]


def round_half_up(value: Decimal, places: int) -> Decimal:
    """Round to `places` decimals, halves away from zero (the official rule, not banker's)."""
    return value.quantize(_QUANTUM[places], rounding=ROUND_HALF_UP)


def weighted_exact(scores: Sequence[Decimal], weights: Sequence[Decimal]) -> Decimal:
    """The unrounded weighted score."""
    if len(scores) != len(weights):
        raise ValueError(f"{len(scores)} scores for {len(weights)} weights")
    return sum(map(operator.mul, scores, weights), Decimal(0))


def weighted_score(scores: Sequence[Decimal], weights: Sequence[Decimal], places: int) -> Decimal:
    """The weighted score rounded half-up to `places` decimals."""
    return round_half_up(weighted_exact(scores, weights), places)


class _Products(dict[Decimal, int]):
    """Score -> score x weight as an integer of 10^-scale units: computed once per distinct
    score (survey scores repeat: two decimals between 0 and 100)."""

    def __init__(self, weight: Decimal, scale: int) -> None:
        super().__init__()
        self.weight, self.scale = weight, scale

    def __missing__(self, score: Decimal) -> int:
        product = score * self.weight  # in the current context, as weighted_exact multiplies
        if product < 0 or len(product.as_tuple().digits) >= _PRECISION:  # rounded, or negative
            raise _NotFixed
        units = product.scaleb(self.scale)
        if units != units.to_integral_value():
            raise _NotFixed
        self[score] = int(units)
        return self[score]


class _NotFixed(Exception):
    """A score whose product with its weight is not a whole number of units."""


class _Quantized(dict[Decimal, Decimal]):
    """Score -> the score rounded half-up to the workflow's precision, once per distinct
    value. Zeros are not kept: 0 and -0 are equal keys but round to different text."""

    def __init__(self, places: int) -> None:
        super().__init__()
        self.quantum = _QUANTUM[places]

    def __missing__(self, score: Decimal) -> Decimal:
        rounded = score.quantize(self.quantum, ROUND_HALF_UP)
        if rounded.as_tuple() == score.as_tuple():  # already at the precision: the same object
            rounded = score
        if not score.is_zero():
            self[score] = rounded
        return rounded


_PRECISION = 28  # the default Decimal context's; below it, Decimal sums are exact
_SCORE_PLACES = 6  # the most decimals of a score the integer scoring takes


class Fixed:
    """Weighted scores in exact fixed-point integers: each score x weight is a whole number of
    10^-scale units (scale = the weights' decimals + 6), summed as integers and rounded
    half-up as integers. Gives exactly `weighted_score`'s Decimal, several times faster on a
    large survey; a score it cannot take exactly raises _NotFixed, for the Decimal path."""

    def __init__(self, weights: Sequence[Decimal], places: int) -> None:
        scale = max(-min(int(w.as_tuple().exponent), 0) for w in weights) + _SCORE_PLACES
        self.places = places
        self.products = [_Products(w, scale) for w in weights]
        self.rounded = _Quantized(places)
        self.unit = 10 ** max(scale - places, 0)
        self.lift = 10 ** max(places - scale, 0)
        self.half = self.unit // 2
        self.limit = 10**_PRECISION // self.lift
        self.scores: dict[int, Decimal] = {}  # rounded units -> one shared Decimal

    def weighted(self, scores: Sequence[Decimal]) -> Decimal:
        """The weighted score rounded half-up to `places` decimals (scores are not negative)."""
        if len(scores) != len(self.products):
            raise _NotFixed
        return self.score(sum(map(_Products.__getitem__, self.products, scores)))

    def score(self, total: int) -> Decimal:
        """An exact sum of products, rounded half-up to `places` decimals (one shared Decimal
        per value)."""
        if total >= self.limit:
            raise _NotFixed
        units = (total + self.half) // self.unit * self.lift
        score = self.scores.get(units)
        if score is None:
            score = self.scores[units] = Decimal(units).scaleb(-self.places)
        return score


class Candidate(NamedTuple):
    """A nominee as the rules see it: an agency, or a group scored from its members."""

    nominee_id: str
    name_th: str
    name_en: str
    level: str
    ministry: str
    province: str
    members: int
    scores: tuple[Decimal, ...]  # per dimension, rounded to the workflow's precision
    weighted: Decimal  # rounded
    score: Decimal  # the score the award ranks by (weighted, one dimension or a count)
    fields: Mapping[str, str] = MappingProxyType({})  # declared text fields, by key


# The survey's own text columns, which every nominee carries as an attribute.
OWN_FIELDS = ("level", "ministry", "province")


def field_value(nominee: Candidate | Agency, key: str) -> str:
    """A nominee's value of a text field: the survey's own columns or a declared field."""
    if key in OWN_FIELDS:
        return str(getattr(nominee, key))
    return str(nominee.fields.get(key, ""))


def in_pool(award: Award, agency: Agency, keys: Sequence[str]) -> bool:
    """Whether the agency passes the award's pool filters."""
    pool = award.pool
    if pool.level is not None and agency.level != pool.level:
        return False
    if pool.responded is not None and agency.responded != pool.responded:
        return False
    for flag, wanted in pool.flags.items():
        if agency.flags.get(flag, False) != wanted:
            return False
    for key, admitted in pool.where.items():
        if field_value(agency, key) not in admitted:
            return False
    if pool.min or pool.max:
        if agency.scores is None:
            return False
        by_key = dict(zip(keys, agency.scores, strict=True))
        if any(by_key[k] < v for k, v in pool.min.items()):
            return False
        if any(by_key[k] > v for k, v in pool.max.items()):
            return False
    return True


def candidates(
    workflow: Workflow, award: Award, agencies: Iterable[Agency], earlier: Earlier | None = None
) -> list[Candidate]:
    """The award's nominees: pooled agencies, or groups of them scored as their mean.

    An award scores by the weighted score, by one dimension, or by a declared count field
    (votes; a group scores the sum of its members' counts), or by the gain of a score since
    an earlier cycle. Pooled agencies without scores (non-respondents admitted by a pool that
    does not ask for `responded`) cannot be ranked and are left out, and so are those the
    award's cross-cycle rules exclude (awards.rules.earlier.exclusion: earlier winners who
    sit out, agencies without a score in the cycle a gain is since); `earlier` holds the
    facts of the earlier cycles those rules read.
    """
    pooled = _pooled(workflow, award, agencies)
    if not award.earlier_cycles:
        return pooled
    facts = earlier or {}
    return [
        c._replace(score=gain(award, c.nominee_id, c.score, facts))
        for c in pooled
        if exclusion(award, c.nominee_id, facts) is None
    ]


def excluded(
    workflow: Workflow, award: Award, agencies: Iterable[Agency], earlier: Earlier | None = None
) -> list[tuple[Candidate, str]]:
    """The pooled nominees the award's cross-cycle rules leave out, each with the reason
    (naming the earlier cycle), in nominee-id order."""
    if not award.earlier_cycles:
        return []
    facts = earlier or {}
    out = []
    for c in _pooled(workflow, award, agencies):
        if (why := exclusion(award, c.nominee_id, facts)) is not None:
            out.append((c, why))
    return sorted(out, key=lambda pair: pair[0].nominee_id)


def _pooled(workflow: Workflow, award: Award, agencies: Iterable[Agency]) -> list[Candidate]:
    """The award's nominees by its pool and grouping alone, scored as this cycle scores."""
    keys = workflow.dimension_keys
    weights = tuple(d.weight for d in workflow.dimensions)
    places = workflow.precision
    counted = award.score in workflow.field_keys
    score_index = keys.index(award.score) if award.score in keys else None
    pooled = [a for a in agencies if a.scores is not None and in_pool(award, a, keys)]

    fixed = Fixed(weights, places) if getcontext().prec == _PRECISION else None

    def make(
        nid: str,
        th: str,
        en: str,
        a: Agency,
        members: Sequence[Agency],
        exact: Sequence[Decimal],
        fields: Mapping[str, str],
    ) -> Candidate:
        quantum = _QUANTUM[places]
        try:
            if fixed is None or members[0].scores is not exact:  # a group's mean: Decimal
                raise _NotFixed
            weighted = fixed.weighted(exact)
            scores = tuple(map(fixed.rounded.__getitem__, exact))
            if all(map(operator.is_, scores, exact)):  # already at the precision: share it
                scores = tuple(exact)
        except _NotFixed:
            scores = tuple([s.quantize(quantum, ROUND_HALF_UP) for s in exact])
            weighted = weighted_exact(exact, weights).quantize(quantum, ROUND_HALF_UP)
        if counted:
            score = Decimal(sum(int(m.fields[award.score]) for m in members))
        else:
            score = weighted if score_index is None else scores[score_index]
        return Candidate(
            nid, th, en, a.level, a.ministry, a.province, len(members), scores, weighted,
            score, fields,
        )  # fmt: skip

    if award.group_by is None:
        if fixed is not None and not counted:
            try:
                return _fixed_candidates(fixed, pooled, score_index)
            except _NotFixed:
                pass
        return [
            make(a.agency_id, a.name_th, a.name_en, a, (a,), a.scores or (), a.fields)
            for a in pooled
        ]

    groups: dict[str, list[Agency]] = defaultdict(list)
    field = award.group_by.field
    for a in pooled:
        groups[field_value(a, field)].append(a)
    result = []
    for name in sorted(groups):
        members = groups[name]
        if len(members) < award.group_by.min_members:
            continue
        n = Decimal(len(members))
        means = [
            sum((m.scores[i] for m in members if m.scores), Decimal(0)) / n
            for i in range(len(keys))
        ]
        first = members[0]
        en = province_name_en(name) if field == "province" else ""
        # A group carries the fields its members all share (the grouping field among them).
        shared = {
            k: v for k, v in first.fields.items() if all(m.fields.get(k) == v for m in members)
        }
        result.append(make(name, name, en, first, members, means, shared))
    return result


def _fixed_candidates(
    fixed: Fixed, pooled: Sequence[Agency], score_index: int | None
) -> list[Candidate]:
    """`make` for a whole pool of single agencies at once, dimension by dimension: the same
    candidates, with the per-agency work left to C loops. _NotFixed when any score cannot be
    taken exactly (then every agency goes the Decimal way, as `make` would take it)."""
    if not pooled:
        return []
    exact = [a.scores for a in pooled]
    width = len(fixed.products)
    if not width or any(len(row) != width for row in exact):  # type: ignore[arg-type]
        raise _NotFixed
    columns = list(zip(*exact, strict=True))  # type: ignore[misc]
    products = [list(map(p.__getitem__, c)) for p, c in zip(fixed.products, columns, strict=True)]
    weighted = list(map(fixed.score, map(sum, zip(*products, strict=True))))
    rounded = fixed.rounded.__getitem__
    roundeds = [list(map(rounded, c)) for c in columns]
    if all(all(map(operator.is_, r, c)) for r, c in zip(roundeds, columns, strict=True)):
        scores: list[tuple[Decimal, ...]] = exact  # type: ignore[assignment]
    else:
        scores = list(zip(*roundeds, strict=True))
    ranked_by = weighted if score_index is None else roundeds[score_index]
    make = Candidate._make
    return [
        make(
            (
                a.agency_id,
                a.name_th,
                a.name_en,
                a.level,
                a.ministry,
                a.province,
                1,
                s,
                w,
                r,
                a.fields,
            )
        )
        for a, s, w, r in zip(pooled, scores, weighted, ranked_by, strict=True)
    ]


def scores_then(
    then: Workflow, key: str, agencies: Iterable[Agency], wanted: Collection[str]
) -> dict[str, Decimal]:
    """The `key` score ("weighted" or a dimension) each responding agency of an earlier
    cycle had, by that cycle's own weights and precision, for the agency ids `wanted`."""
    keys = then.dimension_keys
    if key != WEIGHTED and key not in keys:
        raise AwardsError(
            f"cycle {then.cycle_id} has no dimension '{key}' to take a gain since; "
            f"its dimensions: {', '.join(keys)}"
        )
    weights = [d.weight for d in then.dimensions]
    out = {}
    for a in agencies:
        if a.agency_id in wanted and a.responded and a.scores is not None:
            if key == WEIGHTED:
                out[a.agency_id] = weighted_score(a.scores, weights, then.precision)
            else:
                out[a.agency_id] = round_half_up(a.scores[keys.index(key)], then.precision)
    return out


def gain_pool(workflow: Workflow, agencies: Iterable[Agency]) -> frozenset[str]:
    """The agencies whose earlier scores the gains read: those with scores in the pool of an
    award ranked by a gain (the facts an import records of the earlier cycle)."""
    keys = workflow.dimension_keys
    gains = [a for a in workflow.awards if a.gain_since is not None]
    return frozenset(
        a.agency_id
        for a in agencies
        if a.scores is not None and any(in_pool(award, a, keys) for award in gains)
    )


def province_name_en(name_th: str) -> str:
    """The English name of a Thai province, or '' if it is not a province name."""
    return province_names().get(name_th, "")


def national_means(workflow: Workflow, agencies: Iterable[Agency]) -> dict[str, dict[str, object]]:
    """Per level: respondents, mean per dimension and mean weighted score, rounded half-up.

    The weighted mean is the weighted sum of the exact dimension means (equal to the mean of
    the exact weighted scores), so data whose dimension means match the published ones
    reproduces the published overall figure.
    """
    keys = workflow.dimension_keys
    weights = tuple(d.weight for d in workflow.dimensions)
    places = workflow.precision
    sums: dict[str, list[Decimal]] = {}
    counts: dict[str, list[int]] = {}
    for a in agencies:
        c = counts.setdefault(a.level, [0, 0])
        c[0] += 1
        if a.scores is None or not a.responded:
            continue
        c[1] += 1
        s = sums.setdefault(a.level, [Decimal(0)] * len(keys))
        for i, v in enumerate(a.scores):
            s[i] += v
    out: dict[str, dict[str, object]] = {}
    # The declared levels in their order, then any other the survey holds.
    order = [lv for lv in workflow.level_keys if lv in counts]
    order += sorted(set(counts) - set(order))
    for level in order:
        surveyed, responded = counts[level]
        if responded == 0:
            out[level] = {"surveyed": surveyed, "responded": 0, "dimensions": {}, "weighted": None}
            continue
        means = [v / responded for v in sums[level]]
        out[level] = {
            "surveyed": surveyed,
            "responded": responded,
            "dimensions": {k: round_half_up(m, places) for k, m in zip(keys, means, strict=True)},
            "weighted": weighted_score(means, weights, places),
        }
    return out
