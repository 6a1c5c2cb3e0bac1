"""Rendering benchmark: the naive loop (one document per certificate) against `awards render`
(batches of one document per N certificates, split with pypdf, in a process pool).

    python bench/render.py                # 1,000 and 10,000 certificates (a few minutes)
    python bench/render.py 2000           # chosen sizes
    python bench/render.py --sample 30    # certificates in the naive loop (default 60)
    python bench/render.py --shared 2000 3 postgresql+psycopg://postgres@127.0.0.1/test
                                          # 3 concurrent renders of one cycle on PostgreSQL

Each size runs in its own process, on a database of N synthetic awarded nominations of the
2019 workflow spread over its three templates (made through the state machine's own write
path, without a survey). The naive loop renders a sample of the same certificates one
document each, in one process, with warm fonts; its rate is per certificate, so a sample is
enough. `awards render` is timed end to end: planning, rendering, renaming, recording every
file and its event. Peak memory is the largest sum of resident memory over the process and
its workers, sampled every 50 ms.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent


def synthetic_cycle(url: str, n: int) -> None:
    """Open dga-2019 and award n synthetic nominations, a third to each award (template)."""
    from sqlalchemy import select

    from awards.commands import reference_2019 as sample
    from awards.log.chain import now
    from awards.paths import shipped_workflow
    from awards.rules.scoring import Candidate
    from awards.rules.thai import province_names
    from awards.store import cycles, writes
    from awards.store import database as db
    from awards.store.loading import load_cycle
    from awards.store.models import Nomination
    from awards.store.schema import open_engine

    cycles.init_cycle(shipped_workflow("dga-2019"), url=url, actor="bench")
    engine = open_engine(url)
    departments = [
        (f"{kind_th}{topic_th}", f"Department of {topic_en} {kind_en}")
        for _, _, topic_th, topic_en in sample.MINISTRIES
        for kind_th, kind_en in sample.DEPARTMENT_KINDS
    ]
    provinces = sorted(province_names().items())
    offices = [
        (f"{th}{p_th}", f"{p_en} {en}") for p_th, p_en in provinces for th, en, _ in sample.OFFICES
    ]
    pools = {"top-department": departments, "top-province": provinces, "copy-free": offices}
    with db.write(engine) as conn:
        workflow = load_cycle(conn, None)
        ctx = writes.Context(workflow.cycle_id, "bench", now())
        for a, award in enumerate(workflow.awards):
            names = pools[award.id]
            count = n // 3 + (1 if a < n % 3 else 0)
            cands = []
            for i in range(count):
                th, en = names[i % len(names)]
                rnd = i // len(names)
                th += f" แห่งที่ {rnd + 1} (สมมติ)" if rnd else " (สมมติ)"
                en += f" No. {rnd + 1} (synthetic)" if rnd else " (synthetic)"
                score = Decimal(9000 - i % 9000) / 100
                cands.append(
                    Candidate(
                        f"B{i:06d}", th, en, "department", "", "", 1, (score,) * 6, score, score
                    )
                )
            writes.nominate(conn, ctx, award.id, cands)
            rows = list(
                conn.execute(
                    select(Nomination.id, Nomination.nominee_id)
                    .where(Nomination.award == award.id)
                    .order_by(Nomination.nominee_id)
                )
            )
            for source, trigger in (
                ("surveyed", "shortlist"),
                ("shortlisted", "approve"),
                ("reviewed", "award"),
            ):
                writes.apply(
                    conn,
                    ctx,
                    [
                        writes.Move(
                            nomination_id=nid,
                            award=award.id,
                            nominee_id=nominee,
                            source=source,
                            trigger=trigger,
                            why=writes.Stated("benchmark", {}),
                            rank=rank,
                        )
                        for rank, (nid, nominee) in enumerate(rows, start=1)
                    ],
                )


class PeakMemory:
    """The largest total resident memory of this process and its descendants."""

    def __init__(self) -> None:
        self.peak = 0
        self.worker = 0  # the largest child process
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.05):
            sizes = {pid: _rss(pid) for pid in _tree(me)}
            self.peak = max(self.peak, sum(sizes.values()))
            self.worker = max(self.worker, *(v for pid, v in sizes.items() if pid != me), 0)


def _cpu_seconds() -> float:
    """CPU seconds (user and system) of this process and its children that have ended."""
    me, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    pids += _tree(int(child))
    except OSError:
        pass
    return pids


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def naive(sample: int) -> dict[str, float]:
    """The naive loop: one document, one write_pdf per certificate, in one process."""
    from awards.certificates import issuing as issue
    from awards.certificates.typeset import renderer
    from awards.store import database as db
    from awards.store.loading import load_cycle
    from awards.store.schema import open_engine

    with tempfile.TemporaryDirectory(prefix="awards-bench-") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'bench.db'}"
        synthetic_cycle(url, sample)
        with db.read(open_engine(url)) as conn:
            plan = issue.plan(conn, load_cycle(conn, None))
        kit = renderer(plan.templates)
        first = plan.items[0]
        kit.layout(first.template, plan.occasion, [first.sheet], layered=False).write_pdf()
        t = time.perf_counter()
        for item in plan.items:
            pdf = kit.layout(item.template, plan.occasion, [item.sheet], layered=False).write_pdf()
            (work / item.sheet.file).write_bytes(pdf)
        seconds = time.perf_counter() - t
    return {
        "naive sample": len(plan.items),
        "naive s": seconds,
        "naive /s": len(plan.items) / seconds,
    }


def batched(n: int) -> dict[str, float]:
    """`awards render`, end to end, on n synthetic awarded nominations."""
    from awards.certificates import issuing as issue
    from awards.certificates.batches import default_workers

    out: dict[str, float] = {"certificates": n, "workers": default_workers(n)}
    with tempfile.TemporaryDirectory(prefix="awards-bench-") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'bench.db'}"
        # Built by another process: the memory it takes is not `awards render`'s.
        subprocess.run([sys.executable, __file__, "--build", str(n), url], check=True)
        with PeakMemory() as memory:
            t, cpu = time.perf_counter(), _cpu_seconds()
            result = issue.render(url=url, out=work / "certificates", actor="bench")
            out["batched s"] = time.perf_counter() - t
            # The workers have ended with the run, so their CPU time is counted here.
            out["cpu ms/cert"] = (_cpu_seconds() - cpu) / n * 1000
        # A sheet whose text does not fit its template is laid out, reported and not kept.
        assert result.total + len(result.unfit) == n, (result.total, n)
        out["unfit"] = len(result.unfit)
        out["unfit example"] = result.unfit[0].problem if result.unfit else ""  # type: ignore[assignment]
        out["batched /s"] = n / out["batched s"]
        out["peak MB"] = memory.peak / 2**20
        out["worker MB"] = memory.worker / 2**20
        files = list((work / "certificates").glob("*.pdf"))
        out["KB/file"] = sum(f.stat().st_size for f in files) / len(files) / 1024
    return out


def shared(n: int, processes: int, base: str) -> dict[str, float]:
    """`processes` concurrent `awards render` runs of one cycle of n certificates on
    PostgreSQL (a fresh schema on the server at `base`), into one folder, timed together."""
    import uuid

    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    code = (
        "import json, sys; from awards.issue import render; "
        "r = render(url=sys.argv[1], out=sys.argv[2], actor='bench'); "
        "print(json.dumps([r.total, r.elsewhere]))"
    )
    try:
        subprocess.run([sys.executable, __file__, "--build", str(n), url], check=True)
        with tempfile.TemporaryDirectory(prefix="awards-bench-") as tmp:
            t = time.perf_counter()
            runs = [
                subprocess.Popen([sys.executable, "-c", code, url, tmp], stdout=subprocess.PIPE)
                for _ in range(processes)
            ]
            totals = [json.loads(p.communicate()[0])[0] for p in runs]
            seconds = time.perf_counter() - t
            assert sum(totals) == n == len(list(Path(tmp).glob("*.pdf"))), (totals, n)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    return {"certificates": n, "processes": processes, "s": seconds, "/s": n / seconds,
            "per process": totals}  # type: ignore[dict-item]  # fmt: skip


def _run(*args: str) -> dict[str, float]:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stderr)
    return json.loads(proc.stdout)


def main(sizes: list[int], sample: int) -> None:
    rows = []
    for n in sizes:
        # Each in its own process, so neither's memory or caches count for the other.
        row = _run("--batched", str(n)) | _run("--naive", str(sample))
        rows.append(row)
        print(f"{n:>7,} certificates done", file=sys.stderr)
    head = ["certificates", "naive /s", "workers", "batched", "batched /s", "speed-up",
            "CPU ms/certificate", "peak MB (all)", "peak MB (worker)", "KB/file"]  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [
            f"{int(r['certificates']):,}",
            f"{r['naive /s']:.1f} (of {int(r['naive sample'])})",
            f"{int(r['workers'])}",
            f"{r['batched s']:.1f} s",
            f"{r['batched /s']:.1f}",
            f"{r['batched /s'] / r['naive /s']:.1f}x",
            f"{r['cpu ms/cert']:.1f}",
            f"{r['peak MB']:.0f}",
            f"{r['worker MB']:.0f}",
            f"{r['KB/file']:.0f}",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build"]:
        synthetic_cycle(sys.argv[3], int(sys.argv[2]))
    elif sys.argv[1:2] == ["--batched"]:
        print(json.dumps(batched(int(sys.argv[2]))))
    elif sys.argv[1:2] == ["--naive"]:
        print(json.dumps(naive(int(sys.argv[2]))))
    elif sys.argv[1:2] == ["--shared"]:  # --shared N PROCESSES POSTGRES_URL
        print(json.dumps(shared(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])))
    else:
        args = sys.argv[1:]
        sample = 60
        if "--sample" in args:
            at = args.index("--sample")
            sample = int(args[at + 1])
            del args[at : at + 2]
        main([int(a) for a in args] or [1_000, 10_000], sample)
