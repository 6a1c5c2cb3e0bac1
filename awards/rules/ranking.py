"""Ranking and cuts: candidates in order by the award's chain, and where a cut falls.

Pure functions. The chain is the award's score, then its tie-breaks, always ending in the
unique nominee id; Thai names compare in Thai dictionary order. Each place says which key of
the chain decided it, so the log can show why a nominee is above or below its neighbour.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from awards.rules.scoring import Candidate
from awards.rules.thai import NameOrder, thai_order
from awards.rules.workflow import NAME_KEYS, UNIQUE_KEY, Award, Cut, Workflow


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
    first_name = next((i for i, k in enumerate(names) if k in NAME_KEYS), len(names))
    index = [None if k == "score" else keys.index(k) for k in names[:first_name]]

    def numeric(c: Candidate, i: int | None) -> Decimal:
        return -c.score if i is None else -c.scores[i]

    prefixes = [tuple([numeric(c, i) for i in index]) for c in cands]
    # Only candidates that tie on every key before the first name key need the rest of the
    # chain (and Thai collation is costly); a unique prefix already decides the order.
    count: dict[tuple[Decimal, ...], int] = defaultdict(int)
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


def describe_cut(cut: Cut) -> str:
    """A cut as people say it: 'top 20', 'score >= 60.00', 'top 10 with score >= 50'."""
    parts = []
    if cut.top is not None:
        parts.append(f"top {cut.top}")
    if cut.threshold is not None:
        parts.append(f"score >= {cut.threshold}")
    return " with ".join(parts)


def apply_cut(
    ranked: Sequence[Ranked], cut: Cut
) -> tuple[list[Ranked], list[Ranked], Decimal | None]:
    """Split a ranking into (kept, dropped) and give the cut line: the lowest kept score, or
    the threshold when nobody is kept."""
    kept: list[Ranked] = []
    dropped: list[Ranked] = []
    for r in ranked:
        ok = (cut.top is None or len(kept) < cut.top) and (
            cut.threshold is None or r.candidate.score >= cut.threshold
        )
        (kept if ok else dropped).append(r)
    line = kept[-1].candidate.score if kept else cut.threshold
    return kept, dropped, line
