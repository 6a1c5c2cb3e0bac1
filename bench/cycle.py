"""Cycle benchmark: import, each advance stage, log export and log verify at 10k-1M nominees.

    python bench/cycle.py                                  # SQLite: 10k, 100k and 1M (minutes)
    python bench/cycle.py 10000 100000                     # chosen sizes
    python bench/cycle.py --backend postgresql 100000      # PostgreSQL (--db URL, else
                                                           #   AWARDS_TEST_POSTGRES_URL)
    python bench/cycle.py --reference 100000               # and the lean reference's time

Each size runs in its own process so its peak memory (max RSS) is its own; on PostgreSQL
that is the client's memory, the server's is not counted. Each PostgreSQL run gets a
schema of its own, dropped afterwards. Prints a Markdown table and the 1M/100k time ratio
(10 means linear growth). "verify" checks the exported file (the same work on every
backend); "db verify" checks the chain as stored, reading it from the database.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent


@contextmanager
def database(backend: str, base: str | None, work: Path) -> Iterator[str]:
    """A fresh, empty database: a file for SQLite, a schema of its own on PostgreSQL."""
    if backend == "sqlite":
        yield f"sqlite:///{work / 'bench.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    if not base:
        raise SystemExit("PostgreSQL needs --db URL or AWARDS_TEST_POSTGRES_URL")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def bench_survey(path: Path, n: int, seed: int = 7) -> Path:
    """The benchmark's survey: n agencies, a tenth of them departments, all responding."""
    from awards.commands import synthetic

    departments = max(n // 10, 1)
    synthetic.generate_survey(
        path, seed=seed, departments=departments, departments_responded=departments,
        provincial=n - departments, provincial_responded=n - departments, exact_means=False,
    )  # fmt: skip
    return path


def one(n: int, backend: str, base: str | None) -> dict[str, float]:
    from awards.commands import logbook
    from awards.commands.advance import advance
    from awards.store import cycles

    out: dict[str, float] = {"nominees": n}
    with tempfile.TemporaryDirectory(prefix="awards-bench-") as tmp:
        work = Path(tmp)
        survey = bench_survey(work / "survey.csv", n)
        with database(backend, base, work) as url:
            cycles.init_cycle(HERE / "bench.toml", url=url, actor="bench")
            t, c = time.perf_counter(), time.process_time()
            cycles.import_survey(survey, url=url, actor="bench")
            out["import"] = time.perf_counter() - t
            out["import cpu"] = time.process_time() - c
            c = time.process_time()
            result = advance(url=url, actor="bench")
            out["stages cpu"] = time.process_time() - c
            for stage in result.stages:
                key = stage.stage if stage.award == "readiness" else f"{stage.award} {stage.stage}"
                out[key] = out.get(key, 0.0) + stage.seconds
            t = time.perf_counter()
            exported = logbook.export_log(work / "log.jsonl", url=url)
            out["export"] = time.perf_counter() - t
            t = time.perf_counter()
            stored = logbook.verify_database(url=url)
            out["db verify"] = time.perf_counter() - t
        t = time.perf_counter()
        verified = logbook.verify_file(work / "log.jsonl")
        out["verify"] = time.perf_counter() - t
        assert verified == exported == stored
        out["events"] = verified.events
        out["verify events/s"] = verified.events / out["verify"]
        out["db verify events/s"] = verified.events / out["db verify"]
    out["peak MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def reference(n: int) -> dict[str, float]:
    """The lean reference's import and shortlist of the same survey (bench/reference.py:
    plain Python and sqlite3), in a process of its own."""
    with tempfile.TemporaryDirectory(prefix="awards-reference-") as tmp:
        cmd = [sys.executable, str(HERE / "reference.py"), "--build", str(n), tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(proc.stderr)
        return json.loads(proc.stdout)


def main(sizes: list[int], backend: str, base: str | None, lean: bool) -> None:
    rows = []
    for n in sizes:
        cmd = [sys.executable, __file__, "--one", str(n), "--backend", backend]
        proc = subprocess.run([*cmd, *(["--db", base] if base else [])], capture_output=True, text=True)  # fmt: skip
        if proc.returncode:
            sys.exit(proc.stderr)
        rows.append(json.loads(proc.stdout))
        print(f"{n:>9,} nominees done ({backend})", file=sys.stderr)
        if lean:
            rows[-1]["reference"] = reference(n)
            print(f"{n:>9,} nominees done (lean reference)", file=sys.stderr)
    stages = [
        "import",
        "shortlist",
        "review",
        "award",
        "province shortlist",
        "province review",
        "province award",
    ]
    timed = [*stages, "export", "verify", "db verify"]
    head = ["nominees", *timed, "all stages", "events", "verify events/s", "db verify events/s", "peak MB"]  # fmt: skip
    print(f"{backend}:\n")
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
            f"{r['db verify events/s']:,.0f}",
            f"{r['peak MB']:,.0f}",
        ]
        print("| " + " | ".join(cells) + " |")
    print("\nCPU time (steadier than wall time on a shared machine):\n")
    for r in rows:
        cpu = r["import cpu"] + r["stages cpu"]
        said = f"- {int(r['nominees']):,}: import {r['import cpu']:.1f} s, all stages after it {r['stages cpu']:.1f} s, total {cpu:.1f} s"
        if "reference" in r:
            ref = r["reference"]
            engine = r["import"] + r.get("shortlist", 0.0)
            said += (
                f"; lean reference import+shortlist {ref['import+shortlist']:.1f} s wall "
                f"({ref['import+shortlist cpu']:.1f} s CPU) against the engine's {engine:.1f} s "
                f"wall: {engine / ref['import+shortlist']:.2f}x"
            )
        print(said)
    by = {int(r["nominees"]): r for r in rows}
    if 100_000 in by and 1_000_000 in by:
        ratio = by[1_000_000]["all stages"] / by[100_000]["all stages"]
        print(f"\n1M/100k time ratio: {ratio:.1f} (10.0 is linear)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, help="nominees (default 10k, 100k, 1M)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--db", help="PostgreSQL server URL (default: AWARDS_TEST_POSTGRES_URL)")
    parser.add_argument(
        "--reference",
        action="store_true",
        help="also run bench/reference.py (the same import and shortlist in plain Python and sqlite3) on each size",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    base = args.db or (
        os.environ.get("AWARDS_TEST_POSTGRES_URL") if args.backend == "postgresql" else None
    )
    if args.one:
        print(json.dumps(one(args.one, args.backend, base)))
    else:
        main(args.sizes or [10_000, 100_000, 1_000_000], args.backend, base, args.reference)
