"""A SYNTHETIC survey shaped like the later Digital Government Awards programme, for the 2023
demo (workflows/dga-2023.toml), tests and benchmarks.

It starts from the 2019-shaped survey (awards.commands.synthetic) and adds what the later
programme's rules read: each agency's type (ministry departments, public organisations, state
enterprises), local administrative organisations (อปท.) in every province with a size class,
and the popular vote's counts. Every agency is made up and marked (สมมติ) / (synthetic); the
bytes are a function of the arguments alone (one random.Random(seed), integer arithmetic).
"""

from __future__ import annotations

import csv
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from awards.commands.synthetic import HEADER, generate_survey
from awards.rules.thai import province_names

HEADER_2023 = (*HEADER, "agency_type", "size_class", "votes")
# Local organisations by size class: a made-up name stem and how many a province has.
_LOCAL = (("XL", "เทศบาลนครตัวอย่าง", 1), ("L", "เทศบาลเมืองตัวอย่าง", 2),
          ("M", "เทศบาลตำบลตัวอย่าง", 3), ("S", "องค์การบริหารส่วนตำบลตัวอย่าง", 4))  # fmt: skip
_LOCAL_EN = {"XL": "City municipality", "L": "Town municipality", "M": "Subdistrict municipality",
             "S": "Subdistrict administrative organisation"}  # fmt: skip
_INTERIOR = "กระทรวงมหาดไทย"
# Department-level agencies by type, in per mille: most are ministry departments.
_TYPES = (("ministry_department", 700), ("public_organisation", 200), ("state_enterprise", 100))
_DIMENSIONS = 6


@dataclass(frozen=True)
class Survey2023:
    departments: int
    provincial: int
    local: int
    path: Path


def generate_survey_2023(
    path: str | Path,
    *,
    seed: int = 2023,
    departments: int = 323,
    provincial: int = 1533,
    local_per_province: int | None = None,
) -> Survey2023:
    """Write the synthetic survey as UTF-8 CSV (columns HEADER_2023) to `path`.

    Departments and provincial agencies are those of generate_survey; each province then gets
    local organisations of every size class (1 XL, 2 L, 3 M, 4 S, or `local_per_province` of
    each class), scored a little below the provincial agencies. Departments get an agency type
    and a count of votes; other rows type 'province' or 'local', and 0 votes.
    """
    rng = random.Random(seed)
    out = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "survey-2019-shaped.csv"
        generate_survey(base, seed=seed, departments=departments, provincial=provincial)
        with base.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    if tuple(header) != HEADER:
        raise ValueError(f"unexpected survey header {header}")
    level_at = header.index("level")
    written = 0
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER_2023)
        for row in body:
            if row[level_at] == "department":
                kind = _pick(rng, _TYPES)
                votes = rng.randint(0, 40_000) if row[header.index("responded")] == "yes" else 0
                w.writerow([*row, kind, "-", str(votes)])
            else:
                w.writerow([*row, "province", "-", "0"])
        for p, province in enumerate(sorted(n for n in province_names() if n != "กรุงเทพมหานคร")):
            for size, stem, count in _LOCAL:
                for i in range(local_per_province or count):
                    written += 1
                    w.writerow(_local_row(rng, written, province, p, size, stem, i))
    return Survey2023(departments, provincial, written, out)


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    roll = rng.randrange(1000)
    for value, weight in weighted:
        if roll < weight:
            return value
        roll -= weight
    return weighted[-1][0]


def _local_row(
    rng: random.Random, n: int, province: str, p: int, size: str, stem: str, i: int
) -> list[str]:
    responded = rng.randrange(100) < 85
    # Around 50 points, larger organisations a little higher; integer hundredths only.
    centre = {"XL": 5600, "L": 5200, "M": 4800, "S": 4400}[size]
    scores = []
    for _ in range(_DIMENSIONS):
        v = centre + sum(rng.randint(-1500, 1500) for _ in range(4)) // 4
        v = min(10000, max(0, v))
        scores.append(f"{v // 100}.{v % 100:02d}")
    return [
        f"L{n:05d}",
        f"{stem}{p + 1:02d}{i + 1} จังหวัด{province} (สมมติ)",
        f"{_LOCAL_EN[size]} {p + 1:02d}{i + 1} (synthetic)",
        "local",
        _INTERIOR,
        province,
        "yes" if responded else "no",
        *(scores if responded else [""] * _DIMENSIONS),
        "yes" if responded and rng.randrange(100) < 20 else "no",
        "local",
        size,
        "0",
    ]


# The year before, in hundredths: most agencies were a little behind (2.5 points on average,
# each dimension spread over -6..+11), some were ahead; a few were not surveyed at all.
_GAIN_RANGE = (-600, 1100)
_ABSENT_PER_MILLE = 40  # not in the earlier survey at all
_SILENT_PER_MILLE = 30  # surveyed then, but did not respond


def generate_survey_2022(
    path: str | Path,
    *,
    seed: int = 2022,
    later_seed: int | None = None,
    departments: int = 323,
    provincial: int = 1533,
    local_per_province: int | None = None,
) -> Survey2023:
    """Write the year before's synthetic survey (columns HEADER_2023) to `path`: the agencies
    of generate_survey_2023(seed=`later_seed`, default `seed` + 1), with the same ids, names
    and fields, each score a seeded step below or above its later one, and about 4% of them
    missing and 3% not responding (they have no earlier score to gain from)."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        later = Path(tmp) / "later.csv"
        generate_survey_2023(
            later, seed=seed + 1 if later_seed is None else later_seed, departments=departments,
            provincial=provincial, local_per_province=local_per_province,
        )  # fmt: skip
        with later.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    first = header.index("responded") + 1
    counts = {"department": 0, "provincial": 0, "local": 0}
    level_at = header.index("level")
    out = Path(path)
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for row in body:
            if rng.randrange(1000) < _ABSENT_PER_MILLE:
                continue
            counts[row[level_at]] += 1
            earlier = list(row)
            if row[first - 1] == "yes" and rng.randrange(1000) < _SILENT_PER_MILLE:
                earlier[first - 1] = "no"
                earlier[first : first + _DIMENSIONS] = [""] * _DIMENSIONS
            elif row[first - 1] == "yes":
                for i in range(first, first + _DIMENSIONS):
                    v = int(row[i].replace(".", "")) - rng.randint(*_GAIN_RANGE)
                    v = min(10000, max(0, v))
                    earlier[i] = f"{v // 100}.{v % 100:02d}"
            w.writerow(earlier)
    return Survey2023(counts["department"], counts["provincial"], counts["local"], out)
