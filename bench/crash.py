"""Crash-safety harness: SIGKILL `awards import` and `awards advance` at random points, then
check that the database is consistent after every kill.

    python bench/crash.py --backend sqlite --kills 20 --nominees 10000
    python bench/crash.py --backend postgresql --kills 20 --nominees 10000 \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/test

Two reference runs (import, then `advance --award` of each award, never killed) must end
with the same outcome, which every trial must then reach too; the faster of the two gives
the durations of the import and of the advances.
Trial i then takes a copy of a prepared database (opened, for an import; imported, for an
advance), runs the commands through the `awards` command line in a child process forked
from this one (so its libraries are already loaded and a kill lands on the command's own
work), and kills the child with SIGKILL after a delay drawn uniformly over the reference
duration. The delays are seeded (`--seed`), so a run is reproducible up to the machine's
speed: the same delays land on the same points of the work as long as it runs as fast as
in the reference run. After each kill:

- `audit`: the chain verifies and the tables agree with the log (no drift);
- all or nothing: the import is there whole (its event, every agency and nomination) or
  not at all, and each stage of each award moved all of its nominations or none, its
  events contiguous in the log (one transaction);
- durability: every command the child reported as finished is in the database;
- resumption: running the killed commands again ends with exactly the reference outcome
  (every nomination's state and rank: all surveyed after an import, the reference run's
  final states and ranks after the advances), and the audit is still clean.

SQLite copies are files; PostgreSQL copies are schemas (`--db` or AWARDS_TEST_POSTGRES_URL
names the server). On PostgreSQL the server may still be finishing the killed client's
statement; each check first waits until the killed child's sessions are gone. Prints one
line per kill and a summary; `--json` prints the report as JSON. Exit code 1 if any check
failed.

`python bench/crash.py --worker` runs commands for tests/test_concurrency.py: it imports
the library, prints `ready`, reads one JSON list of command lines from stdin, runs each
through the `awards` command line and prints one JSON line per finished command (exit
code, output, and any uncaught exception).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORKFLOW = HERE / "bench.toml"
AWARDS = ("readiness", "province")
VICTIM = "awards-crash-victim"

# Each stage's triggers, and the trigger that put its nominations in the stage's source state.
STAGES = {
    "shortlist": (("shortlist", "eliminate"), "nominate"),
    "review": (("approve", "reject"), "shortlist"),
    "award": (("award", "pass_over"), "approve"),
}


# --- running commands ---------------------------------------------------------------------------


def run_cli(args: list[str]) -> dict[str, Any]:
    """Run one `awards` command line in this process as a user would see it: exit code,
    standard output and error; `raw` holds the traceback of anything the CLI let escape."""
    from awards.cli import main

    out, err = io.StringIO(), io.StringIO()
    code, raw = 0, None
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args, prog_name="awards")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            code, raw = 1, traceback.format_exc()
    return {
        "args": args,
        "code": code,
        "out": out.getvalue(),
        "err": err.getvalue(),
        "raw": raw,
        "seconds": time.perf_counter() - started,
    }


def worker() -> None:
    # Everything a command needs is imported before `ready`, so a kill's delay measures the
    # command's own work, not the interpreter's start-up.
    import importlib

    for module in (
        "sqlalchemy",
        "awards.cli",
        "awards.store.cycles",
        "awards.commands.advance",
        "awards.commands.audit",
    ):
        importlib.import_module(module)
    with contextlib.suppress(ImportError):
        import psycopg  # noqa: F401
    print("ready", flush=True)
    commands = json.loads(sys.stdin.readline())
    for args in commands:
        print(json.dumps(run_cli(args)), flush=True)


class Victim:
    """The commands run in a child forked from this (warm) process, so that a kill lands on
    the command's own work rather than on an interpreter starting up. The child reports
    each finished command on a pipe; `end` kills it (SIGKILL) or waits for it."""

    def __init__(self, cmds: list[list[str]]):
        self.read, write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: run the commands, report, never return
            try:
                os.close(self.read)
                with os.fdopen(write, "w") as out:
                    for args in cmds:
                        out.write(json.dumps(run_cli(args)) + "\n")
                        out.flush()
            finally:
                os._exit(0)
        os.close(write)

    def end(self, *, kill: bool = False) -> tuple[bool, list[dict[str, Any]]]:
        """(whether it was still running and was killed, the commands it reported finished)."""
        running = os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        if running and kill:
            os.kill(self.pid, signal.SIGKILL)
        with os.fdopen(self.read) as reports:  # to the end, which comes when the child exits
            done = [json.loads(line) for line in reports if line.endswith("\n")]
        if running:
            os.waitpid(self.pid, 0)
        return running and kill, done


# --- databases: SQLite files or PostgreSQL schemas ------------------------------------------


class SQLite:
    def __init__(self, work: Path):
        self.work = work

    def url(self, name: str) -> str:
        return f"sqlite:///{self.work / (name + '.db')}"

    def victim_url(self, url: str) -> str:
        return url

    def fresh(self, name: str) -> str:
        return self.url(name)

    def clone(self, template: str, name: str) -> str:
        url = self.url(name)
        for suffix in ("", "-wal"):  # no connection is open: the pair is a consistent copy
            source = Path(_path(template) + suffix)
            if source.exists():
                shutil.copyfile(source, _path(url) + suffix)
        return url

    def settle(self, url: str) -> float:
        return 0.0  # a killed process holds no lock: the next connection recovers the WAL

    def drop(self, url: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(_path(url) + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        pass


def _path(url: str) -> str:
    return url.removeprefix("sqlite:///")


class PostgreSQL:
    """One schema per database; search_path selects it, as in tests/conftest.py."""

    def __init__(self, base: str):
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        self.base = base
        self.tag = uuid.uuid4().hex[:8]
        self.admin = create_engine(base, poolclass=NullPool)

    def url(self, name: str) -> str:
        sep = "&" if "?" in self.base else "?"
        return f"{self.base}{sep}options=-csearch_path%3D{self._schema(name)}"

    def _schema(self, name: str) -> str:
        return f"crash_{self.tag}_{name}"

    def victim_url(self, url: str) -> str:
        # Named, so that `settle` can wait for the killed client's sessions to end.
        return f"{url}&application_name={VICTIM}"

    def fresh(self, name: str) -> str:
        from sqlalchemy import text

        with self.admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {self._schema(name)}"))
        return self.url(name)

    def clone(self, template: str, name: str) -> str:
        from sqlalchemy import text
        from sqlmodel import SQLModel

        from awards.store.schema import open_engine

        url = self.fresh(name)
        open_engine(url, create=True).dispose()
        src, dst = _schema_of(template), self._schema(name)
        with self.admin.begin() as conn:
            for table in SQLModel.metadata.sorted_tables:
                conn.execute(
                    text(f"INSERT INTO {dst}.{table.name} SELECT * FROM {src}.{table.name}")
                )
                if "id" in table.c and table.c["id"].autoincrement is not False:
                    seq = conn.execute(
                        text("SELECT pg_get_serial_sequence(:t, 'id')"),
                        {"t": f"{dst}.{table.name}"},
                    ).scalar()
                    if seq:
                        conn.execute(
                            text(
                                f"SELECT setval('{seq}', COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "
                                f"FROM {dst}.{table.name}"
                            )
                        )
        return url

    def settle(self, url: str) -> float:
        """Wait until the server has ended the killed client's sessions (it notices the
        closed socket when the statement it was running ends); the seconds waited."""
        from sqlalchemy import text

        started = time.perf_counter()
        while True:
            with self.admin.connect() as conn:
                left = conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :a"),
                    {"a": VICTIM},
                ).scalar_one()
            if not left:
                return time.perf_counter() - started
            if time.perf_counter() - started > 120:
                raise RuntimeError("the killed client's session is still open after 120 s")
            time.sleep(0.01)

    def drop(self, url: str) -> None:
        from sqlalchemy import text

        with self.admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {_schema_of(url)} CASCADE"))

    def close(self) -> None:
        self.admin.dispose()


def _schema_of(url: str) -> str:
    return url.split("search_path%3D", 1)[1].split("&", 1)[0]


# --- the checks ------------------------------------------------------------------------------


@dataclass
class Checked:
    events: int = 0
    drift: int = 0
    problems: list[str] = field(default_factory=list)
    committed: str = ""  # what the killed commands had committed, read off the log


def outcome(url: str) -> list[tuple[str, str, str, int | None]]:
    """Every nomination's (award, nominee, state, rank), sorted."""
    from sqlalchemy import select
    from sqlmodel import col

    from awards.store import database as db
    from awards.store.models import Nomination
    from awards.store.schema import open_engine

    with db.read(open_engine(url)) as conn:
        rows = conn.execute(
            select(
                col(Nomination.award),
                col(Nomination.nominee_id),
                col(Nomination.state),
                col(Nomination.rank),
            )
        )
        return sorted((a, n, s, r) for a, n, s, r in rows)


def check(url: str, reference: Reference, finished: list[dict[str, Any]]) -> Checked:
    """Everything that must hold of the database after a kill (see the module docstring)."""
    import orjson
    from sqlalchemy import func, select
    from sqlmodel import col

    from awards.commands.audit import audit
    from awards.errors import AwardsError
    from awards.store import database as db
    from awards.store.models import Agency, Event, Nomination
    from awards.store.schema import open_engine

    result = Checked()
    problems = result.problems
    try:
        audited = audit(url=url)
    except AwardsError as exc:
        problems.append(f"audit failed: {exc}")
        return result
    result.events = audited.verified.events
    result.drift = len(audited.drift)
    problems += [f"drift: {d}" for d in audited.drift[:5]]

    engine = open_engine(url)
    seqs: dict[tuple[str, str], list[int]] = {}
    imports = 0
    with db.read(engine) as conn:
        for seq, body in conn.execute(select(col(Event.seq), col(Event.body))):
            e = orjson.loads(body)
            if e["kind"] == "survey_imported":
                imports += 1
            elif e["kind"] == "transition":
                seqs.setdefault((e["award"], e["trigger"]), []).append(seq)
        agencies = conn.execute(select(func.count()).select_from(Agency)).scalar_one()
        rows = Counter(
            dict(conn.execute(select(col(Nomination.award), func.count()).group_by(col(Nomination.award))).all())
        )  # fmt: skip
    n = Counter({key: len(v) for key, v in seqs.items()})

    # The import: whole or absent.
    nominated = Counter({a: n[(a, "nominate")] for a in AWARDS})
    if imports > 1:
        problems.append(f"{imports} survey imports logged")
    elif imports == 1:
        if agencies != reference.agencies:
            problems.append(f"import committed with {agencies} of {reference.agencies} agencies")
        if nominated != reference.nominations or rows != reference.nominations:
            problems.append(
                f"import committed with nominations {dict(rows)} (logged {dict(nominated)}), expected {dict(reference.nominations)}"
            )
    elif agencies or +rows or +nominated:
        problems.append(f"no import logged but {agencies} agencies, {dict(rows)} nominations")

    # Each stage: all of its nominations or none, in one contiguous run of the log.
    committed = ["survey"] if imports else []
    for award in AWARDS:
        done = []
        for stage, (triggers, before) in STAGES.items():
            moved = sum(n[(award, t)] for t in triggers)
            if moved and moved != n[(award, before)]:
                problems.append(
                    f"{award} {stage}: half written: {moved} of {n[(award, before)]} nominations moved"
                )
            spread = sorted(s for t in triggers for s in seqs.get((award, t), []))
            if spread and spread[-1] - spread[0] + 1 != len(spread):
                problems.append(f"{award} {stage}: its events are not one contiguous run")
            if moved:
                done.append(stage)
        if done:
            committed.append(f"{award}:{'+'.join(done)}")
    result.committed = " ".join(committed) or "nothing"

    # Durability: what the child reported finished is there.
    states = outcome(url)
    for r in finished:
        cmd = r["args"][4]
        if r["code"] != 0 or r["raw"]:
            problems.append(f"{' '.join(r['args'][4:])} failed: {r['err'] or r['raw']}")
        elif cmd == "import" and imports != 1:
            problems.append("the import reported success but is not in the database")
        elif cmd == "advance":
            award = r["args"][-1]
            mine = [s for s in states if s[0] == award]
            if mine != [s for s in reference.outcome if s[0] == award]:
                problems.append(
                    f"advance of {award} reported success but the award is not complete"
                )
    return result


# --- the harness -----------------------------------------------------------------------------


@dataclass
class Reference:
    agencies: int
    nominations: Counter[str]
    outcome: list[tuple[str, str, str, int | None]]
    import_seconds: float
    advance_seconds: float


@dataclass
class Kill:
    trial: int
    op: str  # import | advance
    delay: float  # seconds after the commands were handed over
    killed_in: str  # the command running at the kill, or "finished" if it had already exited
    committed: str
    events: int
    drift: int
    settle: float
    check_seconds: float
    resume_seconds: float
    resumed: bool
    problems: list[str]


def commands(url: str, op: str) -> list[list[str]]:
    survey = ["--db", url, "--actor", "bench", "import", "{survey}"]
    advances = [["--db", url, "--actor", "bench", "advance", "--award", a] for a in AWARDS]
    return [survey, *advances] if op == "all" else [survey] if op == "import" else advances


def _with_survey(cmds: list[list[str]], survey: Path) -> list[list[str]]:
    return [[str(survey) if a == "{survey}" else a for a in c] for c in cmds]


def _workflow_copy(work: Path) -> Path:
    # The cycle records the workflow's path; a copy in the work directory keeps it stable.
    target = work / "bench.toml"
    shutil.copyfile(WORKFLOW, target)
    return target


def run(
    backend: str, kills: int, nominees: int, seed: int, base_url: str | None = None, log: Any = None
) -> dict[str, Any]:
    """Prepare, run the reference, then `kills` trials; the report as a dict."""
    from cycle import bench_survey  # bench/cycle.py: the cycle benchmark's survey

    from awards.store import cycles

    say = log or (lambda *_: None)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="awards-crash-") as tmp:
        work = Path(tmp)
        dbs: SQLite | PostgreSQL
        if backend == "sqlite":
            dbs = SQLite(work)
        else:
            base = base_url or os.environ.get("AWARDS_TEST_POSTGRES_URL")
            if not base:
                raise SystemExit("PostgreSQL needs --db URL or AWARDS_TEST_POSTGRES_URL")
            dbs = PostgreSQL(base)
        made: list[str] = []
        try:
            survey = bench_survey(work / "survey.csv", nominees, seed)
            workflow = _workflow_copy(work)
            opened = dbs.fresh("opened")
            made.append(opened)
            cycles.init_cycle(workflow, url=opened, actor="bench")
            imported = dbs.clone(opened, "imported")
            made.append(imported)
            r = run_cli(_with_survey(commands(imported, "import"), survey)[0])
            if r["code"]:
                raise SystemExit(f"import failed: {r['err'] or r['raw']}")

            # The reference: the whole cycle, never killed, in a process like the victims',
            # twice: the two must agree, and the faster one times the kills (under a load
            # that varies, the slower could put most kills after the work is done).
            runs = []
            for name in ("reference", "reference2"):
                ref_url = dbs.clone(opened, name)
                made.append(ref_url)
                cmds = _with_survey(commands(dbs.victim_url(ref_url), "all"), survey)
                _, done = Victim(cmds).end()
                if len(done) != 3 or any(d["code"] for d in done):
                    raise SystemExit(f"reference run failed: {done}")
                runs.append((outcome(ref_url), done))
            rows = runs[0][0]
            if runs[1][0] != rows:
                raise SystemExit("two uninterrupted runs of the same cycle disagree")
            reference = Reference(
                agencies=nominees,
                nominations=Counter(a for a, *_ in rows),
                outcome=rows,
                import_seconds=min(d[0]["seconds"] for _, d in runs),
                advance_seconds=min(d[1]["seconds"] + d[2]["seconds"] for _, d in runs),
            )
            say(
                f"{backend}, {nominees:,} nominees: reference import {reference.import_seconds:.2f} s, "
                f"advance {reference.advance_seconds:.2f} s, {len(rows):,} nominations"
            )

            surveyed = outcome(imported)
            rng = random.Random(seed)
            results: list[Kill] = []
            for trial in range(kills):
                op = "import" if trial % 2 == 0 else "advance"
                window = reference.import_seconds if op == "import" else reference.advance_seconds
                delay = rng.uniform(0, window)
                url = dbs.clone(opened if op == "import" else imported, f"trial{trial}")
                cmds = _with_survey(commands(dbs.victim_url(url), op), survey)
                victim = Victim(cmds)
                time.sleep(delay)
                killed, finished = victim.end(kill=True)
                settle = dbs.settle(url)
                t = time.perf_counter()
                checked = check(url, reference, finished)
                checked_in = time.perf_counter() - t
                t = time.perf_counter()
                resumed = [run_cli(c) for c in _with_survey(commands(url, op), survey)]
                for rr in resumed:
                    if rr["code"] or rr["raw"]:
                        checked.problems.append(f"resuming {' '.join(rr['args'][4:])} failed: {rr['err'] or rr['raw']}")  # fmt: skip
                same = outcome(url) == (surveyed if op == "import" else reference.outcome)
                if not same:
                    checked.problems.append("resumed cycle differs from the reference outcome")
                after = check(url, reference, [])
                checked.problems += [f"after resuming: {p}" for p in after.problems]
                kill = Kill(
                    trial=trial,
                    op=op,
                    delay=delay,
                    killed_in=(
                        " ".join(cmds[len(finished)][4:]).replace(str(survey), survey.name)
                        if killed and len(finished) < len(cmds)
                        else "finished"
                    ),
                    committed=checked.committed,
                    events=checked.events,
                    drift=checked.drift,
                    settle=settle,
                    check_seconds=checked_in,
                    resume_seconds=time.perf_counter() - t,
                    resumed=same,
                    problems=checked.problems,
                )
                results.append(kill)
                dbs.drop(url)
                say(_line(kill))
        finally:
            for url in made:
                dbs.drop(url)
            dbs.close()
    failed = [k for k in results if k.problems]
    return {
        "backend": backend,
        "nominees": nominees,
        "seed": seed,
        "kills": [asdict(k) for k in results],
        "reference": {
            "import_seconds": reference.import_seconds,
            "advance_seconds": reference.advance_seconds,
        },
        "killed_mid_command": sum(k.killed_in != "finished" for k in results),
        "failed": len(failed),
        "seconds": time.perf_counter() - started,
    }


def _line(k: Kill) -> str:
    status = "ok" if not k.problems else "FAILED: " + "; ".join(k.problems)
    # On PostgreSQL: how long the server went on with the killed client's statement.
    server = f"server done after {k.settle * 1000:.0f} ms, " if k.settle else ""
    return (
        f"kill {k.trial:>2} {k.op:<7} at {k.delay * 1000:7.1f} ms in {k.killed_in:<33} "
        f"committed: {k.committed:<45} {k.events:>8,} events, {k.drift} drift, {server}"
        f"checked in {k.check_seconds:.2f} s, resumed and checked in {k.resume_seconds:.2f} s: {status}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--db", help="PostgreSQL server URL (default: AWARDS_TEST_POSTGRES_URL)")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--nominees", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
    args = parser.parse_args()
    say = None if args.json else (lambda line: print(line, flush=True))
    report = run(args.backend, args.kills, args.nominees, args.seed, args.db, say)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(
            f"{len(report['kills'])} kills ({report['killed_mid_command']} mid-command), "
            f"{report['failed']} failed, {report['seconds']:.1f} s"
        )
    sys.exit(1 if report["failed"] else 0)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker()
    else:
        main()
