"""Replay benchmark: the auditor's offline `awards replay` on the benchmark cycle's log.

    python bench/replay.py 100000            # nominees (default 100k and 1M)
    python bench/replay.py --keep DIR 1000000  # keep the log and inputs in DIR/1000000 (one
                                               # that already holds them is replayed as is)

Builds the benchmark cycle (bench/bench.toml, SQLite) at each size, runs every stage,
exports the log, then times `replay` (chain verification, reading the workflow and survey,
re-deriving every rule decision, the checkpoints) in a fresh process. Prints events per
second of the whole replay, its CPU time (its worker processes included), and the same
replay done lean by bench/reference.py on the same survey in the same run, as a ratio (on a
machine shared with other work the ratio is the steadier figure); the target is 300k
events/s at 100k and 1M nominees.
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


def cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)  # fmt: skip
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(log: Path, survey: Path) -> dict[str, float]:
    from awards.log.replay import replay

    t, c = time.perf_counter(), cpu()
    result = replay(log, HERE / "bench.toml", survey)
    total, used = time.perf_counter() - t, cpu() - c
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from awards.commands.logbook import verify_file

    t = time.perf_counter()
    verify_file(log)
    chain = time.perf_counter() - t
    return {
        "events": result.events,
        "rule decisions": result.rule_decisions,
        "replay s": total,
        "replay cpu s": used,
        "replay events/s": result.events / total,
        "chain only s": chain,
        "peak MB": peak,
    }


def reference(n: int, work: Path) -> dict[str, float] | None:
    """bench/reference.py's replay of the same survey's cycle, built and timed in its own
    processes; None when the reference is not there."""
    script = HERE / "reference.py"
    if not script.exists():
        return None
    cmd = [sys.executable, str(script), "--keep", str(work / "reference"), str(n)]
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--keep", type=Path, help="keep the built cycle in this folder")
    parser.add_argument("--measure", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    print(
        "| nominees | events | build s | replay s | replay events/s | replay CPU s "
        "| chain-only s | peak MB | reference replay s (events/s) | replay / reference |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="awards-replay-") as tmp:
            work = args.keep / str(n) if args.keep else Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            t = time.perf_counter()
            if (work / "log.jsonl").exists() and (work / "survey.csv").exists():
                log, survey = work / "log.jsonl", work / "survey.csv"
            else:
                log, survey = build(n, work)
            built = time.perf_counter() - t
            # A fresh process, so the replay's memory and time are its own.
            cmd = [sys.executable, __file__, "--measure", str(log), str(survey)]
            r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
            ref = reference(n, work)
            lean = "not there"
            ratio = "-"
            if ref is not None:
                lean = f"{ref['replay']:.1f} ({ref['replay events/s']:,.0f})"
                ratio = f"{r['replay s'] / ref['replay']:.2f}× time, {r['replay cpu s'] / ref['replay cpu']:.2f}× CPU"
            print(
                f"| {n:,} | {r['events']:,} | {built:.1f} | {r['replay s']:.1f} | "
                f"{r['replay events/s']:,.0f} | {r['replay cpu s']:.1f} | {r['chain only s']:.1f} | "
                f"{r['peak MB']:,.0f} | {lean} | {ratio} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
