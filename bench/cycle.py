"""Cycle benchmark: import, each advance stage, log export and log verify at 10k-1M nominees.

    python bench/cycle.py                 # 10k, 100k and 1M (several minutes)
    python bench/cycle.py 10000 100000    # chosen sizes

Each size runs in its own process so its peak memory (max RSS) is its own. Prints a
Markdown table and the 1M/100k time ratio (10 means linear growth).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one(n: int) -> dict[str, float]:
    from awards import cycles, sample, views
    from awards.advance import advance

    out: dict[str, float] = {"nominees": n}
    with tempfile.TemporaryDirectory(prefix="awards-bench-") as tmp:
        work = Path(tmp)
        survey = work / "survey.csv"
        departments = n // 10
        sample.generate_survey(
            survey, seed=7, departments=departments, departments_responded=departments,
            provincial=n - departments, provincial_responded=n - departments, exact_means=False,
        )  # fmt: skip
        url = f"sqlite:///{work / 'bench.db'}"
        cycles.init_cycle(HERE / "bench.toml", url=url, actor="bench")
        t = time.perf_counter()
        cycles.import_survey(survey, url=url, actor="bench")
        out["import"] = time.perf_counter() - t
        result = advance(url=url, actor="bench")
        for stage in result.stages:
            key = f"{stage.stage}" if stage.award == "readiness" else f"{stage.award} {stage.stage}"
            out[key] = out.get(key, 0.0) + stage.seconds
        t = time.perf_counter()
        exported = views.export_log(work / "log.jsonl", url=url)
        out["export"] = time.perf_counter() - t
        t = time.perf_counter()
        verified = views.verify_file(work / "log.jsonl")
        out["verify"] = time.perf_counter() - t
        assert verified == exported
        out["events"] = verified.events
        out["verify events/s"] = verified.events / out["verify"]
    out["peak MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main(sizes: list[int]) -> None:
    rows = []
    for n in sizes:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(n)], capture_output=True, text=True
        )
        if proc.returncode:
            sys.exit(proc.stderr)
        rows.append(json.loads(proc.stdout))
        print(f"{n:>9,} nominees done", file=sys.stderr)
    stages = [
        "import",
        "shortlist",
        "review",
        "award",
        "province shortlist",
        "province review",
        "province award",
    ]
    timed = [*stages, "export", "verify"]
    head = ["nominees", *timed, "all stages", "events", "verify events/s", "peak MB"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        total = sum(r.get(k, 0.0) for k in stages)
        r["all stages"] = total
        cells = [f"{int(r['nominees']):,}"] + [f"{r.get(k, 0.0):.2f} s" for k in timed]
        cells += [
            f"{total:.2f} s",
            f"{int(r['events']):,}",
            f"{r['verify events/s']:,.0f}",
            f"{r['peak MB']:,.0f}",
        ]
        print("| " + " | ".join(cells) + " |")
    by = {int(r["nominees"]): r for r in rows}
    if 100_000 in by and 1_000_000 in by:
        ratio = by[1_000_000]["all stages"] / by[100_000]["all stages"]
        print(f"\n1M/100k time ratio: {ratio:.1f} (10.0 is linear)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(one(int(sys.argv[2]))))
    else:
        main([int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000])
