"""Ranking and cuts: candidates in order by the award's chain, and where a cut falls.

Pure functions. The chain is the award's score, then its tie-breaks, always ending in the
unique nominee id; Thai names compare in Thai dictionary order. Each place says which key of
the chain decided it, so the log can show why a nominee is above or below its neighbour.
"""

from __future__ import annotations

import operator
from collections import Counter
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
    n = len(cands)
    if not n:
        return []
    columns = [
        [c.score for c in cands] if i is None else [c.scores[i] for c in cands] for i in index
    ]
    prefixes = columns[0] if len(columns) == 1 else list(zip(*columns, strict=True))
    # High to low on the prefix; a reverse sort keeps equal prefixes in input order.
    order = sorted(range(n), key=prefixes.__getitem__, reverse=True)
    placed = [cands[i] for i in order]
    # depths[i]: the key that orders place i against place i + 1 (first_name: they tie on
    # the whole prefix, and the rest of the chain orders them).
    depths = [first_name] * (n - 1)
    for level in reversed(range(first_name)):
        column = [columns[level][i] for i in order]
        differs = map(operator.ne, column, column[1:])
        depths = [level if d else was for d, was in zip(differs, depths, strict=False)]
    ties = [i for i, d in enumerate(depths) if d == first_name]
    if ties:
        _order_ties(placed, depths, ties, names, first_name, keys, names_in, order)
    above = [0, *depths]
    below = [*depths, 0]
    return [
        Ranked(c, place, names[max(a, b)])
        for place, c, a, b in zip(range(1, n + 1), placed, above, below, strict=True)
    ]


def _order_ties(
    placed: list[Candidate],
    depths: list[int],
    ties: list[int],
    names: tuple[str, ...],
    first_name: int,
    keys: tuple[str, ...],
    names_in: NameOrder,
    order: list[int],
) -> None:
    """Order each run of candidates tied on the numeric prefix by the rest of the chain, in
    place, and say which key of it parts each neighbour. Only they need the rest of the
    chain (and Thai collation is costly)."""
    runs: list[tuple[int, int]] = []  # [start, end) in `placed`
    for i in ties:
        if runs and runs[-1][1] == i + 1:
            runs[-1] = (runs[-1][0], i + 2)
        else:
            runs.append((i, i + 2))
    tied = sorted(order[k] for s, e in runs for k in range(s, e))  # input order
    by_input = {o: c for o, c in zip(order, placed, strict=True)}
    thai = names_in(by_input[k].name_th for k in tied) if "name_th" in names else {}

    def rest(c: Candidate) -> tuple[object, ...]:
        out: list[object] = []
        for k in names[first_name:]:
            if k == "name_th":
                out.append(thai[c.name_th])
            elif k == "name_en":
                out.append(c.name_en.casefold())
            elif k == UNIQUE_KEY:
                out.append(c.nominee_id)
            else:
                out.append(-c.scores[keys.index(k)])
        return tuple(out)

    for s, e in runs:
        keyed = sorted(((rest(c), c) for c in placed[s:e]), key=lambda kc: kc[0])  # type: ignore[arg-type, return-value]
        placed[s:e] = [c for _, c in keyed]
        for i in range(s, e - 1):
            a, b = keyed[i - s][0], keyed[i - s + 1][0]
            depths[i] = first_name + next(
                (j for j, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a) - 1
            )


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
