"""A SYNTHETIC survey shaped like the 2019 Digital Government survey, for tests and benchmarks.

The ministries and provinces are real; every agency is made up (English names end in
" (synthetic)", Thai names in " (สมมติ)") and every score is drawn at random. The default sizes
are those of 2019: 323 department-level agencies (301 respondents) and 1,533 provincial
agencies in the 76 provinces other than Bangkok (1,356 respondents). With `exact_means`, each
dimension's mean over each level's respondents is exactly the published 2019 national mean.

The bytes written are a function of the arguments alone: one `random.Random(seed)` and integer
arithmetic (no platform maths library, clock or hash order), so they are the same on every
machine. Rows are streamed and a run keeps two bytes per score: a million agencies take seconds.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain, compress, islice, repeat
from math import comb
from pathlib import Path
from typing import TypeVar

from awards.commands.reference_2019 import (
    DEPARTMENT_KINDS,
    DIMENSIONS,
    MEANS_2019,
    MINISTRIES,
    OFFICES,
)
from awards.rules.thai import province_names
from awards.rules.workflow import DEFAULT_COLUMNS

T = TypeVar("T")
Cells = tuple[str, str, str]  # Thai name, English name, "level,ministry,province"

HEADER = (*DEFAULT_COLUMNS, *DIMENSIONS, "copy_free")
# Spread (sd) of each dimension around its mean, in hundredths.
_SPREAD: dict[str, tuple[int, ...]] = {
    "department": (1400, 1300, 1400, 1500, 1200, 1700),
    "provincial": (1500, 1400, 1500, 1500, 1500, 1400),
}
_EFFECT = 300  # sd of a ministry's or province's shared effect, in hundredths
_MAX = 10000  # 100.00 points
_TH_MARK, _EN_MARK = " (สมมติ)", " (synthetic)"
_BANGKOK = "Bangkok"
_MINISTRY_TH = {en: th for th, en, *_ in MINISTRIES}
# "0.00" .. "100.00" by hundredths, so writing a score is a lookup, not a format.
_SCORE_TEXT = tuple(f"{v // 100}.{v % 100:02d}" for v in range(_MAX + 1))
_BELL_BITS = 12


def _bell_table() -> tuple[int, ...]:
    """2**12 equally likely values of a bell-shaped variable, mean 0, sd about 4096: quantiles
    of a binomial(64, 1/2) smoothed by a uniform step. Integers only, so the table is the same
    on every machine (random.gauss goes through the platform's math library)."""
    n = 64
    weights = [comb(n, k) for k in range(n + 1)]
    table, k, below = [], 0, 0
    for u in range(1 << _BELL_BITS):
        target = (2 * u + 1) << (n - _BELL_BITS - 1)  # the middle of quantile u, in 2**-64
        while below + weights[k] <= target:
            below += weights[k]
            k += 1
        table.append((k - n // 2) * 1024 - 512 + (target - below) * 1024 // weights[k])
    return tuple(table)


_BELL = _bell_table()


@dataclass(frozen=True)
class SampleStats:
    """What a generated survey holds. Means follow DIMENSIONS, rounded half-up to 0.01 (exact
    when generated with exact_means); None for a level without respondents."""

    departments: int
    departments_responded: int
    provincial: int
    provincial_responded: int
    provinces: int
    copy_free: int
    department_means: tuple[Decimal, ...] | None
    provincial_means: tuple[Decimal, ...] | None


def generate_survey(
    path: str | Path,
    *,
    seed: int = 2019,
    departments: int = 323,
    departments_responded: int | None = None,
    provincial: int = 1533,
    provincial_responded: int | None = None,
    copy_free_share: float = 0.25,
    exact_means: bool = True,
) -> SampleStats:
    """Write a synthetic survey as UTF-8 CSV (columns HEADER) to `path`; return what it holds.

    Exactly `departments_responded` departments and `provincial_responded` provincial agencies
    respond (None: the 2019 rates, 301/323 and 1,356/1,533, rounded half-up); each respondent
    is in the copy-free programme with chance `copy_free_share`. Provincial agencies are spread
    over the 76 provinces other than Bangkok, about ±15% around the average, with the same
    response rate in each. Raises ValueError on impossible sizes.
    """
    d_resp = departments_responded
    d_resp = _rate(departments, 301, 323) if d_resp is None else d_resp
    p_resp = provincial_responded
    p_resp = _rate(provincial, 1356, 1533) if p_resp is None else p_resp
    if not (0 <= d_resp <= departments and 0 <= p_resp <= provincial):
        raise ValueError(
            "respondents must be between 0 and the agencies of their level, not "
            f"{d_resp} of {departments} departments and {p_resp} of {provincial} provincial"
        )
    if not 0.0 <= copy_free_share <= 1.0:
        raise ValueError(f"copy_free_share must be between 0 and 1, not {copy_free_share}")
    provinces = _provinces()
    rng = random.Random(seed)
    # Structure, then effects, then scores: one generator, always drawn in this order.
    combos = [(m, k) for m in range(len(MINISTRIES)) for k in range(len(DEPARTMENT_KINDS))]
    d_last = sorted(rng.sample(combos, departments % len(combos)))
    counts = _apportion(provincial, [rng.randint(85, 115) for _ in provinces])
    offices = list(range(len(OFFICES)))
    p_last = [sorted(rng.sample(offices, c % len(offices))) for c in counts]
    d_responded = _choose(rng, departments, d_resp)
    p_answers = _apportion(p_resp, counts)
    p_responded = bytearray().join(map(_choose, repeat(rng), counts, p_answers))
    ministry_effect = [_BELL[rng.getrandbits(_BELL_BITS)] * _EFFECT >> 12 for _ in MINISTRIES]
    province_effect = [_BELL[rng.getrandbits(_BELL_BITS)] * _EFFECT >> 12 for _ in provinces]
    d_ministries = (m for _, block in _rounds(departments, combos, d_last) for m, _ in block)
    d_base = [ministry_effect[m] for m in compress(d_ministries, d_responded)]
    p_base = list(chain.from_iterable(map(repeat, province_effect, p_answers)))
    d_scores, d_copy = _draw(rng, "department", d_base, copy_free_share)
    p_scores, p_copy = _draw(rng, "provincial", p_base, copy_free_share)
    del d_base, p_base
    if exact_means:
        for level, scores in (("department", d_scores), ("provincial", p_scores)):
            for d, mean in enumerate(MEANS_2019[level]):
                scores[d] = _fit_sum(scores[d], mean * len(scores[d]))

    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(HEADER) + "\n")
        d_cells = [_department_cells(*combo) for combo in combos]
        d_last_cells = [d_cells[m * len(DEPARTMENT_KINDS) + k] for m, k in d_last]
        d_rounds = _rounds(departments, d_cells, d_last_cells)
        p_rounds = (
            block
            for province, count, chosen in zip(provinces, counts, p_last, strict=True)
            for cells in [_office_cells(*province)]
            for block in _rounds(count, cells, [cells[o] for o in chosen])
        )
        for lines in (
            _lines("D", 4, d_rounds, d_responded, d_scores, d_copy),
            _lines("P", 5, p_rounds, p_responded, p_scores, p_copy),
        ):
            while chunk := "".join(islice(lines, 4096)):
                f.write(chunk)
    return SampleStats(
        departments=departments,
        departments_responded=d_resp,
        provincial=provincial,
        provincial_responded=p_resp,
        provinces=sum(1 for c in counts if c),
        copy_free=sum(d_copy) + sum(p_copy),
        department_means=_means(d_scores),
        provincial_means=_means(p_scores),
    )


def _provinces() -> list[tuple[str, str]]:
    """(Thai, English) names of the provinces other than Bangkok, in code-point order of the
    Thai name, so the corpus file's order does not matter."""
    found = sorted((th, en) for th, en in province_names().items() if en != _BANGKOK)
    # Rows are written without a CSV writer, so no name may need quoting.
    bad = [name for name in chain.from_iterable(found) if any(c in name for c in ',"\r\n')]
    if bad:
        raise ValueError(f"province names must not contain commas, quotes or newlines: {bad}")
    return found


def _rate(n: int, part: int, whole: int) -> int:
    """n * part / whole rounded half-up, in integers."""
    return (2 * n * part + whole) // (2 * whole)


def _apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` by largest remainder (ties to the lower index);
    no share exceeds its weight when total <= sum(weights)."""
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _choose(rng: random.Random, n: int, k: int) -> bytearray:
    """A 0/1 flag per item, exactly k of them 1, chosen at random (sampling the smaller side)."""
    flip = k > n - k
    flags = bytearray([flip]) * n
    for i in rng.sample(range(n), n - k if flip else k):
        flags[i] = not flip
    return flags


def _rounds(n: int, kinds: Sequence[T], last: Sequence[T]) -> Iterator[tuple[int, Sequence[T]]]:
    """The kinds of n items, round by round: every kind in order for each full round, then the
    random subset `last` (n % len(kinds) of them, in order)."""
    full = n // len(kinds)
    yield from ((rnd, kinds) for rnd in range(full))
    yield full, last


def _marks(rnd: int) -> tuple[str, str]:
    """Thai and English name endings in round `rnd`: its number after the first, and always
    the synthetic label."""
    if rnd == 0:
        return _TH_MARK, _EN_MARK
    return f" แห่งที่ {rnd + 1}{_TH_MARK}", f" No. {rnd + 1}{_EN_MARK}"


def _department_cells(m: int, k: int) -> Cells:
    """Names (before their endings) and level to province of a department."""
    ministry_th, _, topic_th, topic_en = MINISTRIES[m]
    kind_th, kind_en = DEPARTMENT_KINDS[k]
    return (
        f"{kind_th}{topic_th}",
        f"Department of {topic_en} {kind_en}",
        f"department,{ministry_th},",
    )


def _office_cells(province_th: str, province_en: str) -> list[Cells]:
    """Names (before their endings) and level to province of each office of a province."""
    return [
        (
            f"{th}{province_th}",
            f"{province_en} {en}",
            f"provincial,{_MINISTRY_TH[ministry]},{province_th}",
        )
        for th, en, ministry in OFFICES
    ]


def _lines(
    prefix: str,
    digits: int,
    rounds: Iterable[tuple[int, Sequence[Cells]]],
    responded: bytearray,
    scores: list[array[int]],
    copy_free: bytearray,
) -> Iterator[str]:
    """The CSV lines of one level; ids are `prefix` and at least `digits` digits from 1."""
    width = max(digits, len(str(len(responded))))
    text, (c0, c1, c2, c3, c4, c5) = _SCORE_TEXT, scores
    i = j = 0
    for rnd, block in rounds:
        th, en = _marks(rnd)
        for name_th, name_en, rest in block:
            i += 1
            head = f"{prefix}{str(i).zfill(width)},{name_th}{th},{name_en}{en},{rest}"
            if responded[i - 1]:
                flag = "yes" if copy_free[j] else "no"
                yield (
                    f"{head},yes,{text[c0[j]]},{text[c1[j]]},{text[c2[j]]},{text[c3[j]]},"
                    f"{text[c4[j]]},{text[c5[j]]},{flag}\n"
                )
                j += 1
            else:
                yield f"{head},no,,,,,,,no\n"


def _draw(
    rng: random.Random, level: str, base: list[int], copy_free_share: float
) -> tuple[list[array[int]], bytearray]:
    """Scores in hundredths (one array per dimension) and copy-free flags of the respondents
    whose ministry or province effects are `base`. A respondent's dimensions share its
    readiness (0.75 of the spread), so rankings hold across dimensions; each dimension adds
    its own noise (0.65 of the spread)."""
    bits = rng.getrandbits
    ready = array("H", [bits(_BELL_BITS) for _ in base])
    scores = []
    for mean, spread in zip(MEANS_2019[level], _SPREAD[level], strict=True):
        shared = [mean + (b * (spread * 3 // 4) >> 12) for b in _BELL]
        own = [b * (spread * 13 // 20) >> 12 for b in _BELL]
        values = [shared[u] + own[bits(_BELL_BITS)] + e for u, e in zip(ready, base, strict=True)]
        # Centre on the mean (the effects drawn and the rounding down move it), then clip.
        shift = (mean * len(values) - sum(values)) // max(len(values), 1)
        low, high = -shift, _MAX - shift
        scores.append(
            array("H", [0 if v < low else _MAX if v > high else v + shift for v in values])
        )
    chance = rng.random
    return scores, bytearray([chance() < copy_free_share for _ in base])


def _fit_sum(values: array[int], target: int) -> array[int]:
    """Move values by hundredths, never outside 0..100.00, until they sum to `target` (which
    must lie in 0..len(values) * 100.00): an even shift of all values with room while the gap
    allows, then one hundredth each to the first values with room, in row order."""
    diff = target - sum(values)
    while diff:
        up = diff > 0
        edge = _MAX if up else 0
        step, rest = divmod(abs(diff), len(values) - values.count(edge))
        if step:
            top = _MAX - step
            moved = array(
                "H",
                [_MAX if v > top else v + step for v in values]
                if up
                else [0 if v < step else v - step for v in values],
            )
            diff -= sum(moved) - sum(values)
            values = moved
            continue
        # The shortest prefix holding `rest` values with room; each of those moves by one.
        end, short = rest, values[:rest].count(edge)
        while short:
            end, short = end + short, values[end : end + short].count(edge)
        delta = 1 if up else -1
        values[:end] = array("H", [v if v == edge else v + delta for v in values[:end]])
        diff = 0
    return values


def _means(scores: list[array[int]]) -> tuple[Decimal, ...] | None:
    """Each dimension's mean, rounded half-up to 0.01; None without respondents."""
    if not scores[0]:
        return None
    cent = Decimal("0.01")
    return tuple((Decimal(sum(c)) / len(c) / 100).quantize(cent, ROUND_HALF_UP) for c in scores)
