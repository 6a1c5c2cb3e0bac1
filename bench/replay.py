"""Replay benchmark: the auditor's offline `awards replay` on the benchmark cycle's log.

    python bench/replay.py 100000            # nominees (default 100k and 1M)
    python bench/replay.py --keep DIR 1000000  # keep the log and inputs in DIR

Builds the benchmark cycle (bench/bench.toml, SQLite) at each size, runs every stage,
exports the log, then times `replay` (chain verification, reading the workflow and survey,
re-deriving every rule decision) in a fresh process. Prints events per second of the whole
replay and of its parts; the target is 300k events/s at 1M nominees.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build(n: int, work: Path) -> tuple[Path, Path]:
    from cycle import bench_survey  # bench/cycle.py: the same survey as the cycle benchmark

    from awards.commands import logbook
    from awards.commands.advance import advance
    from awards.store import cycles

    survey = bench_survey(work / "survey.csv", n)
    url = f"sqlite:///{work / 'bench.db'}"
    cycles.init_cycle(HERE / "bench.toml", url=url, actor="bench")
    cycles.import_survey(survey, url=url, actor="bench")
    advance(url=url, actor="bench")
    logbook.export_log(work / "log.jsonl", url=url)
    return work / "log.jsonl", survey


def measure(log: Path, survey: Path) -> dict[str, float]:
    from awards.commands.logbook import verify_file
    from awards.log.replay import replay

    t = time.perf_counter()
    verify_file(log)
    chain = time.perf_counter() - t
    t = time.perf_counter()
    result = replay(log, HERE / "bench.toml", survey)
    total = time.perf_counter() - t
    return {
        "events": result.events,
        "rule decisions": result.rule_decisions,
        "replay s": total,
        "replay events/s": result.events / total,
        "chain only s": chain,
        "peak MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--keep", type=Path, help="keep the built cycle in this folder")
    parser.add_argument("--measure", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    print("| nominees | events | build s | replay s | replay events/s | chain-only s | peak MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="awards-replay-") as tmp:
            work = args.keep or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            t = time.perf_counter()
            log, survey = build(n, work)
            built = time.perf_counter() - t
            # A fresh process, so the replay's memory and time are its own.
            cmd = [sys.executable, __file__, "--measure", str(log), str(survey)]
            r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
            print(
                f"| {n:,} | {r['events']:,} | {built:.1f} | {r['replay s']:.1f} | "
                f"{r['replay events/s']:,.0f} | {r['chain only s']:.1f} | {r['peak MB']:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
