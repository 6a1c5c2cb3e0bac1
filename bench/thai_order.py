"""Thai dictionary order at scale: ICU's th collator (sort keys) against the order logs were
ranked in before it (pythainlp's collate), on synthetic agency names.

    python bench/thai_order.py              # 100,000 and 1,000,000 names
    python bench/thai_order.py 250000       # chosen sizes

The names are the synthetic survey's: real ministry and province names with invented
offices, every one distinct. For each size: building the sort keys, sorting by them, and
`thai_order` whole (keys, sort, positions), which is what ranking calls for tied names.
"""

from __future__ import annotations

import sys
import time

from awards.commands import reference_2019 as sample
from awards.rules.thai import province_names, pythainlp_order, thai_key, thai_order


def names(n: int) -> list[str]:
    """n distinct, realistic agency names."""
    departments = [
        f"{kind}{topic}"
        for _, _, topic, _ in sample.MINISTRIES
        for kind, _ in sample.DEPARTMENT_KINDS
    ]
    offices = [f"{th}{p}" for p in province_names() for th, _, _ in sample.OFFICES]
    base = departments + offices
    return [f"{base[i % len(base)]} ที่ {i // len(base)}" for i in range(n)]


def timed(label: str, f, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = f(*args)
    print(f"  {label:<34} {time.perf_counter() - start:6.2f} s")
    return out


def main(sizes: list[int]) -> None:
    for n in sizes:
        given = names(n)
        print(f"{n:,} names")
        keys = timed("ICU sort keys", list, map(thai_key, given))
        timed("sort by the keys", sorted, keys)
        timed("thai_order (ICU, whole)", thai_order, given)
        timed("pythainlp_order (before ICU)", pythainlp_order, given)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
