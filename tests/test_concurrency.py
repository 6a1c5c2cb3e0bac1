"""Several OS processes on one cycle at once, every backend: advances racing each other, a
withdrawer and an auditor between them. Writers wait for each other; nothing is moved
twice, nothing is half written, the chain stays linear and the audit stays clean."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from awards.commands import synthetic as sample
from awards.commands.audit import audit
from awards.commands.logbook import export_log, history, verify_database
from awards.commands.results import status
from awards.log.chain import now
from awards.log.replay import replay
from awards.store import database as db
from awards.store import writes
from awards.store.cycles import find_nomination, init_cycle
from awards.store.loading import load_cycle
from awards.store.models import Event, Nomination
from awards.store.schema import open_engine

from support import ROOT, open_cycle

WORKER = [sys.executable, str(ROOT / "bench" / "crash.py"), "--worker"]
BENCH = ROOT / "bench" / "bench.toml"
STAGE = {
    "shortlist": "shortlist",
    "eliminate": "shortlist",
    "approve": "review",
    "reject": "review",
    "award": "award",
    "pass_over": "award",
}
STAGE_LINE = re.compile(r"^([\w-]+): (shortlist|review|award): (.+)$")
# What must never reach a user: driver errors, lock timeouts, tracebacks.
RAW = re.compile(r"locked|busy|Traceback|sqlite3|psycopg|OperationalError|IntegrityError")
LATE_WITHDRAW = re.compile(
    r"^Error: nomination (\S+) is '(eliminated|not_awarded|awarded)'; 'withdraw' needs "
    r"'reviewed' or 'shortlisted' or 'surveyed'\. Allowed now: .+\n$"
)


@pytest.fixture
def cycle(db_url: str, tmp_path: Path) -> tuple[str, Path, Path]:
    """The benchmark cycle (no committee review) on 2,000 synthetic agencies, imported."""
    survey = tmp_path / "survey.csv"
    sample.generate_survey(
        survey, seed=11, departments=200, departments_responded=200,
        provincial=1800, provincial_responded=1800, exact_means=False,
    )  # fmt: skip
    workflow = tmp_path / "bench.toml"
    workflow.write_bytes(BENCH.read_bytes())
    open_cycle(db_url, tmp_path, workflow=workflow, survey=survey, actor="secretary")
    return db_url, workflow, survey


def run_together(url: str, scripts: list[list[list[str]]]) -> list[list[dict[str, Any]]]:
    """Run each script (a list of `awards` command lines) in its own warm worker process,
    all released at the same moment; each command's exit code, output and any traceback."""
    procs = [
        subprocess.Popen(
            WORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in scripts
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    for p, script in zip(procs, scripts, strict=True):
        assert p.stdin is not None
        p.stdin.write(json.dumps([["--db", url, "--actor", "tester", *c] for c in script]) + "\n")
        p.stdin.flush()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert (p.returncode, err) == (0, "")
        results.append([json.loads(line) for line in out.splitlines()])
    return results


def command(r: dict[str, Any]) -> str:
    return r["args"][4]


def test_concurrent_advances_withdrawals_and_audits_move_each_nomination_once(cycle, tmp_path):
    url, workflow, survey = cycle
    nominees = sorted(e["nominee"] for e in history(url=url, award="readiness"))
    targets = [f"readiness:{n}" for n in random.Random(5).sample(nominees, 30)]
    provinces = sorted(e["nominee"] for e in history(url=url, award="province"))[:4]
    targets += [f"province:{n}" for n in provinces]
    scripts = [
        [["advance"]] * 3,
        [["advance"]] * 3,
        [["advance", "--award", "province"], ["advance", "--award", "readiness"], ["advance"]],
        [["withdraw", t, "--reason", "agency merged"] for t in targets],
        [["audit"], ["log", "verify"]] * 4,
    ]

    results = run_together(url, scripts)

    everything = [r for script in results for r in script]
    assert [r["raw"] for r in everything if r["raw"]] == []
    assert [r["err"] for r in everything if RAW.search(r["err"] + r["out"])] == []
    advances = [r for r in everything if command(r) == "advance"]
    assert [r["err"] for r in advances if r["code"] != 0] == []
    # Each stage of each award ran once, in whichever process got the lock first; the others
    # waited for it and found that stage done.
    stages = Counter(
        m.group(1, 2) for r in advances for m in map(STAGE_LINE.match, r["out"].splitlines()) if m
    )
    assert stages == {(a, s): 1 for a in ("readiness", "province") for s in STAGE.values()}
    for r in advances:
        awards = r["args"][6:] or ["readiness", "province"]
        assert r["out"].endswith("".join(f"{a}: complete\n" for a in awards)), r["out"]
    audits = [r for r in everything if command(r) in ("audit", "log")]
    assert [r["out"] + r["err"] for r in audits if r["code"] != 0] == []
    withdrawn = {r["args"][5] for r in results[3] if r["code"] == 0}
    late = [r for r in results[3] if r["code"] != 0]
    assert [r["err"] for r in late if not LATE_WITHDRAW.match(r["err"])] == []
    assert {r["err"].split()[2] for r in late} | withdrawn == set(targets)

    events = history(url=url)
    trails: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        if e["kind"] == "transition":
            trails.setdefault(e["nomination"], []).append(e)
    for code, trail in trails.items():
        assert [e["from"] for e in trail] == [None, *[e["to"] for e in trail[:-1]]], code
        assert trail[0]["trigger"] == "nominate", code
        per_stage = Counter(STAGE.get(e["trigger"], e["trigger"]) for e in trail)
        assert max(per_stage.values()) == 1, (code, per_stage)
        assert (trail[-1]["to"] == "withdrawn") == (code in withdrawn), code
    # A stage is one transaction: its events are one contiguous run of the log.
    runs: dict[tuple[str, str], list[int]] = {}
    for e in events:
        if e["kind"] == "transition" and e["trigger"] in STAGE:
            runs.setdefault((e["award"], STAGE[e["trigger"]]), []).append(e["seq"])
    assert {k: v[-1] - v[0] + 1 for k, v in runs.items()} == {k: len(v) for k, v in runs.items()}
    open_states = {"surveyed", "shortlisted", "reviewed"}
    assert [
        (a, s) for a, counts in status(url=url).awards.items() for s in counts if s in open_states
    ] == []
    assert verify_database(url=url).events == len(events) == events[-1]["seq"]
    assert audit(url=url).drift == []
    export_log(tmp_path / "log.jsonl", url=url)
    assert replay(tmp_path / "log.jsonl", workflow, survey).human_decisions == len(withdrawn)


def awards_command() -> list[str]:
    """The installed `awards` script beside this interpreter, else the same entry point."""
    script = Path(sys.executable).with_name("awards")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from awards.cli import main; main()"]


def test_two_advance_commands_at_once_one_waits_and_finds_the_work_done(cycle):
    url = cycle[0]
    args = [*awards_command(), "--db", url, "--actor", "tester", "advance"]

    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    outputs = [p.communicate(timeout=120) for p in procs]

    assert [(p.returncode, err) for p, (_, err) in zip(procs, outputs, strict=True)] == [(0, ""), (0, "")]  # fmt: skip
    lines = [line for out, _ in outputs for line in out.splitlines() if STAGE_LINE.match(line)]
    assert sorted(lines) == sorted(
        [
            "readiness: shortlist: 1000 eliminated, 1000 shortlisted",
            "readiness: review: 1000 reviewed",
            "readiness: award: 100 awarded, 900 not_awarded",
            "province: shortlist: 71 eliminated, 5 shortlisted",
            "province: review: 5 reviewed",
            "province: award: 5 awarded",
        ]
    )
    assert all(out.endswith("readiness: complete\nprovince: complete\n") for out, _ in outputs)
    assert audit(url=url).drift == []


def test_a_write_waits_for_another_writer_instead_of_failing(cycle):
    url = cycle[0]
    held = threading.Event()

    def hold() -> None:
        """Withdraw D0002 in a write transaction that stays open for two seconds."""
        with db.write(open_engine(url)) as conn:
            workflow = load_cycle(conn, None)
            row = find_nomination(conn, workflow, "readiness:D0002")
            ctx = writes.Context(workflow.cycle_id, "holder", now())
            why = writes.Stated("merged", {})
            writes.apply(conn, ctx, [writes.Move(row.id, row.award, row.nominee_id, row.state, "withdraw", why)])  # fmt: skip
            held.set()
            time.sleep(2)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    proc = subprocess.run(
        [*awards_command(), "--db", url, "withdraw", "readiness:D0001", "--reason", "merged"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    holder.join()

    assert (proc.returncode, proc.stderr) == (0, "")
    withdrawals = [(e["nominee"], e["seq"]) for e in history(url=url) if e.get("trigger") == "withdraw"]  # fmt: skip
    assert withdrawals == [("D0002", withdrawals[0][1]), ("D0001", withdrawals[0][1] + 1)]
    assert proc.stdout == f"readiness:D0001: surveyed -> withdrawn (event {withdrawals[1][1]})\n"


def test_a_read_keeps_one_snapshot_while_another_process_commits(cycle):
    """`audit` folds the log and then reads the tables: both must come from the same
    moment, or a stage committed in between shows up as drift."""
    url = cycle[0]
    engine = open_engine(url)
    with db.read(engine) as conn:
        before = conn.execute(select(func.count()).select_from(Event)).scalar_one()
        proc = subprocess.run(
            [*awards_command(), "--db", url, "withdraw", "readiness:D0001", "--reason", "merged"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (proc.returncode, proc.stderr) == (0, "")
        events = conn.execute(select(func.count()).select_from(Event)).scalar_one()
        state = conn.execute(
            select(col(Nomination.state)).where(col(Nomination.nominee_id) == "D0001")
        ).scalar_one()

    assert (events, state) == (before, "surveyed")
    assert status(url=url).log.events == before + 1


def test_the_same_survey_imported_twice_at_once_is_imported_once(db_url, tmp_path):
    survey = tmp_path / "survey.csv"
    sample.generate_survey(
        survey, seed=11, departments=200, departments_responded=200,
        provincial=1800, provincial_responded=1800, exact_means=False,
    )  # fmt: skip
    workflow = tmp_path / "bench.toml"
    workflow.write_bytes(BENCH.read_bytes())
    init_cycle(workflow, url=db_url, actor="secretary")

    results = run_together(db_url, [[["import", str(survey)]], [["import", str(survey)]]])

    outputs = sorted((r["code"], r["err"], r["out"].split(" (sha256")[0]) for [r] in results)
    assert outputs == [
        (0, "", f"{survey}: 2000 agencies imported into bench"),
        (0, "", f"{survey}: already imported into bench"),
    ]
    assert [e["kind"] for e in history(url=db_url)].count("survey_imported") == 1
    assert status(url=db_url).awards == {
        "readiness": {"surveyed": 2000},
        "province": {"surveyed": 76},
    }
    assert audit(url=db_url).drift == []


def test_reviewers_and_advances_at_once_decide_each_nomination_once(db_url, tmp_path):
    from awards.commands.seats import add_reviewer, assign
    from awards.rules.workflow import Reviewer

    from support import WORKFLOW

    survey = open_cycle(db_url, tmp_path, actor="secretary")
    run_together(db_url, [[["advance"]]])
    for rid in ("a", "b", "c"):
        add_reviewer(Reviewer(rid, rid), url=db_url, actor="secretary")
    assign("top-department", 3, url=db_url, actor="secretary")
    shortlisted = [
        e["nomination"]
        for e in history(url=db_url, award="top-department")
        if e.get("to") == "shortlisted"
    ]
    scripts = [
        [["review", n, "--approve" if n[-1] != "9" or rid != "c" else "--reject", "--reviewer", rid]
         for n in shortlisted]
        for rid in ("a", "b", "c")
    ] + [[["advance"]] * 8]  # fmt: skip

    results = run_together(db_url, scripts)
    run_together(db_url, [[["advance"]]])

    everything = [r for script in results for r in script]
    assert [r["err"] for r in everything if r["code"] != 0 or RAW.search(r["err"] + r["out"])] == []
    reviewed = Counter(
        e["nominee"] for e in history(url=db_url, award="top-department")
        if e["kind"] == "transition" and e["trigger"] in ("approve", "reject")
    )  # fmt: skip
    assert reviewed == {n.partition(":")[2]: 1 for n in shortlisted}
    states = Counter(status(url=db_url).awards["top-department"])
    assert (states["awarded"], states["shortlisted"]) == (10, 0)
    assert audit(url=db_url).drift == []
    export_log(tmp_path / "log.jsonl", url=db_url)
    replay(tmp_path / "log.jsonl", WORKFLOW, survey)
