"""Ranking and cuts: candidates in order by the award's chain, and where a cut falls.

Pure functions. The chain is the award's score, then its tie-breaks, always ending in the
unique nominee id; Thai names compare in Thai dictionary order. Each place says which key of
the chain decided it, so the log can show why a nominee is above or below its neighbour.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from awards.rules.scoring import Candidate, field_value
from awards.rules.thai import NameOrder, thai_order
from awards.rules.workflow import NAME_KEYS, UNIQUE_KEY, Award, Cut, Quota, Tier, Workflow, band_of


class Ranked(NamedTuple):
    candidate: Candidate
    rank: int
    decided_by: str  # the first key of the chain that placed it against its neighbours


def chain(award: Award) -> tuple[str, ...]:
    """The full ordering chain: the award's score first, then its tie-breaks."""
    return ("score", *[k for k in award.tie_break if k != "score"])


def rank(
    workflow: Workflow,
    award: Award,
    cands: Sequence[Candidate],
    names_in: NameOrder = thai_order,
) -> list[Ranked]:
    """Rank candidates best first by the award's chain; independent of input order.

    Scores and dimensions sort high to low, names and the id low to high; Thai names in Thai
    dictionary order (`names_in`: the replay of an old log gives the order it was ranked
    in). Each result says which key of the chain decided its place.
    """
    keys = workflow.dimension_keys
    names = chain(award)
    # The numeric prefix of the chain: the keys before the first name or the unique id.
    first_name = next(
        (i for i, k in enumerate(names) if k in NAME_KEYS or k == UNIQUE_KEY), len(names)
    )
    index = [None if k == "score" else keys.index(k) for k in names[:first_name]]
    # Each numeric key becomes its value's place among the distinct values, highest first:
    # small integers order and tie exactly as the decimals do, and sort many times faster.
    columns = []
    for i in index:
        values = [c.score for c in cands] if i is None else [c.scores[i] for c in cands]
        columns.append(list(map(_places(values).__getitem__, values)))
    prefixes: list[tuple[int, ...]] = list(zip(*columns, strict=True)) if columns else [()] * len(cands)  # fmt: skip
    # Only candidates that tie on every key before the first name key need the rest of the
    # chain (and Thai collation is costly); a unique prefix already decides the order.
    count: dict[tuple[int, ...], int] = defaultdict(int)
    for p in prefixes:
        count[p] += 1
    tied = [c for c, p in zip(cands, prefixes, strict=True) if count[p] > 1]
    order = names_in(c.name_th for c in tied) if "name_th" in names and tied else {}

    def rest(c: Candidate) -> tuple[object, ...]:
        out: list[object] = []
        for k in names[first_name:]:
            if k == "name_th":
                out.append(order[c.name_th])
            elif k == "name_en":
                out.append(c.name_en.casefold())
            elif k == UNIQUE_KEY:
                out.append(c.nominee_id)
            else:
                out.append(-c.scores[keys.index(k)])
        return tuple(out)

    keyed = sorted(
        ((p + rest(c) if count[p] > 1 else p, c) for c, p in zip(cands, prefixes, strict=True)),
        key=lambda kc: kc[0],  # type: ignore[arg-type, return-value]
    )

    def depth(a: tuple[object, ...], b: tuple[object, ...]) -> int:
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                return i
        return len(a) - 1

    # depths[i]: the key that orders place i against place i + 1.
    depths = [depth(keyed[i][0], keyed[i + 1][0]) for i in range(len(keyed) - 1)]
    last = len(keyed) - 1
    ranked = []
    for i, (_, c) in enumerate(keyed):
        above = depths[i - 1] if i > 0 else 0
        below = depths[i] if i < last else 0
        ranked.append(Ranked(c, i + 1, names[max(above, below)]))
    return ranked


def _places(values: Sequence[Decimal]) -> dict[Decimal, int]:
    """Each distinct value -> its place among them, 0 for the highest."""
    return {v: i for i, v in enumerate(sorted(set(values), reverse=True))}


def describe_cut(cut: Cut) -> str:
    """A cut as people say it: 'top 20', 'score >= 60.00', 'top 10 with score >= 50'."""
    parts = []
    if cut.top is not None:
        parts.append(f"top {cut.top}")
    if cut.threshold is not None:
        parts.append(f"score >= {cut.threshold}")
    return " with ".join(parts)


class Cutting(NamedTuple):
    """A ranking split by a cut.

    `kept` and `dropped` keep rank order; `line` is the lowest kept score, or the lowest
    score the cut admits when nobody is kept. `tiers`: each kept nominee's band, when the
    award declares bands. `skipped`: nominees inside the cut left out because their quota
    was full, with the quota that was. `joint`: nominees kept past the top N because they
    tie on score with the last place (ties = "joint").
    """

    kept: list[Ranked]
    dropped: list[Ranked]
    line: Decimal | None
    tiers: dict[str, Tier]
    skipped: dict[str, str]
    joint: frozenset[str]


def apply_cut(
    ranked: Sequence[Ranked],
    cut: Cut,
    *,
    quota: Quota | None = None,
    tiers: Sequence[Tier] = (),
    ties: str = "chain",
) -> Cutting:
    """Split a ranking by a cut: the top N in rank order and/or those scoring at least the
    threshold; with `tiers`, only scores inside one of the bands; with `quota`, at most N
    per value of a field, the next eligible nominee taking a skipped one's place; with
    `ties = "joint"`, every nominee tied on score with the last place is kept too."""
    kept: list[Ranked] = []
    dropped: list[Ranked] = []
    tier_of: dict[str, Tier] = {}
    skipped: dict[str, str] = {}
    joint: set[str] = set()
    taken: Counter[str] = Counter()
    for r in ranked:
        c = r.candidate
        if cut.threshold is not None and c.score < cut.threshold:
            dropped.append(r)
            continue
        tier = band_of(tiers, c.score) if tiers else None
        if tiers and tier is None:
            dropped.append(r)
            continue
        tied = False
        if cut.top is not None and len(kept) >= cut.top:
            tied = ties == "joint" and bool(kept) and c.score == kept[-1].candidate.score
            if not tied:
                dropped.append(r)
                continue
        if quota is not None:
            value = field_value(c, quota.field)
            if taken[value] >= quota.max:
                skipped[c.nominee_id] = f"{quota.field} {value}: at most {quota.max}"
                dropped.append(r)
                continue
            taken[value] += 1
        kept.append(r)
        if tier is not None:
            tier_of[c.nominee_id] = tier
        if tied:
            joint.add(c.nominee_id)
    floor = cut.threshold
    if tiers:
        lowest = min(t.min for t in tiers)
        floor = lowest if floor is None else max(floor, lowest)
    line = kept[-1].candidate.score if kept else floor
    return Cutting(kept, dropped, line, tier_of, skipped, frozenset(joint))
