"""A lean reference for the benchmarks: the same work as the engine's import, shortlist and
offline replay of the benchmark cycle, written in plain Python and sqlite3 (no engine code).

    python bench/reference.py 100000             # prints one JSON object of timings
    python bench/reference.py --keep DIR 1000000 # keep the database, log and survey in DIR
    python bench/reference.py --floor 1000000    # only the least work the targets leave room
                                                 # for (see `floor`)

Each phase is reported as wall time and CPU time (`... cpu`); on a machine shared with
other work the CPU time is the steadier figure.

The benchmarks (bench/cycle.py, bench/replay.py) run it on the same survey in the same run and
print the engine's time as a ratio to it, so a figure taken on a loaded machine still says
something. What it does, as the engine does for the benchmark's `readiness` award:

- import: read the survey CSV, check every cell (ids unique, level, yes/no, scores 0-100
  with at most two decimals), score with exact fixed-point integers (rounded half-up),
  store the agencies, nominate every responding agency: one row and one canonical JSON
  event (sorted keys, SHA-256, chained to the one before) each; one transaction.
- shortlist: rank by score, then `services`, then the Thai name in ICU's order, then the
  id; the top 1,000 shortlisted and the rest eliminated, one event each with its rank,
  score and the cut, logged in nominee-id order, and one set-based UPDATE; one transaction.
- export and replay: write the log as JSON Lines, then in a fresh pass read it, check
  every line's hash and link, read the survey again, score, rank, and compare every
  decision's state, score and rank with the log.

The tables and indexes are the engine's (nomination unique per cycle, award and nominee,
its state index; the log keyed by cycle and sequence with its subject index), and SQLite
runs with the engine's pragmas (WAL, synchronous=FULL). Left out, being under 1% of the
work: the provinces award (77 groups), checkpoints and the review and award stages.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import resource
import sqlite3
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import icu
import orjson

HERE = Path(__file__).resolve().parent
GENESIS = "0" * 64
CYCLE, AWARD, ACTOR, AT = "bench", "readiness", "bench", "2019-11-30T10:00:00+07:00"
_SCORE = re.compile(r"(?:100(?:\.0{1,2})?|\d{1,2}(?:\.\d{1,2})?)")

SCHEMA = """
CREATE TABLE agency (cycle TEXT, agency_id TEXT, name_th TEXT, name_en TEXT, level TEXT,
  ministry TEXT, province TEXT, responded INTEGER, scores TEXT, flags TEXT,
  PRIMARY KEY (cycle, agency_id));
CREATE TABLE nomination (id INTEGER PRIMARY KEY, cycle TEXT, award TEXT, nominee_id TEXT,
  name_th TEXT, name_en TEXT, level TEXT, ministry TEXT, province TEXT, members INTEGER,
  scores TEXT, weighted TEXT, score TEXT, state TEXT, rank INTEGER, seq INTEGER,
  UNIQUE (cycle, award, nominee_id));
CREATE INDEX ix_nomination_state ON nomination (cycle, award, state);
CREATE TABLE event (cycle TEXT, seq INTEGER, prev TEXT, hash TEXT, kind TEXT, award TEXT,
  nominee TEXT, body BLOB, PRIMARY KEY (cycle, seq));
CREATE INDEX ix_event_subject ON event (cycle, award, nominee);
"""


class Workflow:
    """The benchmark workflow's numbers: dimension keys, weights as integers, the cuts."""

    def __init__(self, path: Path):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        self.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        self.keys = [d["key"] for d in data["dimensions"]]
        weights = [Decimal(str(d["weight"])) for d in data["dimensions"]]
        self.wplaces = max(-w.as_tuple().exponent for w in weights)  # type: ignore[operator]
        self.weights = [int(w.scaleb(self.wplaces)) for w in weights]
        award = next(a for a in data["awards"] if a["id"] == AWARD)
        self.top = award["shortlist"]["top"]
        self.tie = self.keys.index(award["tie_break"][0])


def cents(text: str, where: str) -> int:
    """A score as an exact integer of hundredths; anything else stops the import."""
    if not _SCORE.fullmatch(text):
        raise SystemExit(f"{where}: {text!r} is not a score from 0 to 100 with two decimals")
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def weighted(scores: list[int], wf: Workflow) -> int:
    """Sum of score x weight in hundredths, rounded half-up (all values are non-negative)."""
    exact = sum(s * w for s, w in zip(scores, wf.weights, strict=True))
    unit = 10**wf.wplaces
    return (exact + unit // 2) // unit


def fmt(c: int) -> str:
    return f"{c // 100}.{c % 100:02d}"


def read_survey(path: Path, wf: Workflow) -> tuple[str, list[tuple]]:
    """(SHA-256, rows) with each row (id, th, en, level, ministry, province, responded,
    scores in hundredths or None, flags)."""
    data = path.read_bytes()
    rows, seen = [], set()
    reader = csv.reader(data.decode("utf-8").splitlines())
    head = next(reader)
    col = {name: i for i, name in enumerate(head)}
    dims = [col[k] for k in wf.keys]
    for line, r in enumerate(reader, start=2):
        aid = r[0]
        if not aid or aid in seen:
            raise SystemExit(f"{path}:{line}: agency_id {aid!r} is empty or repeated")
        seen.add(aid)
        if r[3] not in ("department", "provincial"):
            raise SystemExit(f"{path}:{line}: level {r[3]!r} is not department or provincial")
        if r[6] not in ("yes", "no") or r[-1] not in ("yes", "no"):
            raise SystemExit(f"{path}:{line}: responded/copy_free must be yes or no")
        responded = r[6] == "yes"
        scores = [cents(r[i], f"{path}:{line}") for i in dims] if responded else None
        rows.append((aid, r[1], r[2], r[3], r[4], r[5], responded, scores, r[-1] == "yes"))
    return hashlib.sha256(data).hexdigest(), rows


class Chain:
    """Events sealed as canonical JSON and chained by SHA-256, written in batches."""

    def __init__(self, db: sqlite3.Connection, seq: int, head: str):
        self.db, self.seq, self.head, self.batch = db, seq, head, []

    def add(self, event: dict) -> int:
        self.seq += 1
        event["seq"], event["prev"], event["schema_version"] = self.seq, self.head, 5
        body = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
        self.head = hashlib.sha256(body).hexdigest()
        self.batch.append((CYCLE, self.seq, event["prev"], self.head, event["kind"], event.get("award"), event.get("nominee"), body))  # fmt: skip
        if len(self.batch) >= 50_000:
            self.flush()
        return self.seq

    def flush(self) -> None:
        self.db.executemany("INSERT INTO event VALUES (?,?,?,?,?,?,?,?)", self.batch)
        self.batch = []


def transition(nominee: str, to: str, frm: str | None, trigger: str, reason: str, evidence: dict) -> dict:  # fmt: skip
    return {
        "kind": "transition", "cycle": CYCLE, "award": AWARD, "nominee": nominee,
        "nomination": f"{AWARD}:{nominee}", "from": frm, "to": to, "trigger": trigger,
        "actor": ACTOR, "at": AT, "reason": reason, "evidence": evidence,
    }  # fmt: skip


def import_survey(db: sqlite3.Connection, survey: Path, wf: Workflow) -> None:
    digest, rows = read_survey(survey, wf)
    files = {"survey_sha256": digest, "workflow_sha256": wf.sha256}
    chain = Chain(db, 0, GENESIS)
    chain.add({"kind": "survey_imported", "cycle": CYCLE, "actor": ACTOR, "at": AT, "agencies": len(rows), **files})  # fmt: skip
    agencies = []
    for r in rows:
        scores = json.dumps([fmt(s) for s in r[7]]) if r[7] else None
        agencies.append((CYCLE, *r[:7], scores, json.dumps({"copy_free": r[8]})))
    db.executemany("INSERT INTO agency VALUES (?,?,?,?,?,?,?,?,?,?)", agencies)
    nominations = []
    for aid, th, en, level, ministry, province, responded, scores, _ in rows:
        if not responded:
            continue
        w = fmt(weighted(scores, wf))
        seq = chain.add(transition(aid, "surveyed", None, "nominate", "in the award's pool", {"members": 1, "score": w, **files}))  # fmt: skip
        nominations.append((CYCLE, AWARD, aid, th, en, level, ministry, province, 1, json.dumps([fmt(s) for s in scores]), w, w, "surveyed", None, seq))  # fmt: skip
    db.executemany(
        "INSERT INTO nomination (cycle, award, nominee_id, name_th, name_en, level, ministry,"
        " province, members, scores, weighted, score, state, rank, seq)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        nominations,
    )
    chain.flush()


def ranked(items: list[tuple[str, str, int, int]]) -> list[tuple[str, str, int, int]]:
    """(id, name_th, score, tie dimension) by score, the tie dimension, ICU Thai, id."""
    key = icu.Collator.createInstance(icu.Locale("th_TH")).getSortKey
    return sorted(items, key=lambda x: (-x[2], -x[3], key(x[1]), x[0]))


def shortlist(db: sqlite3.Connection, wf: Workflow) -> None:
    seq, head = db.execute("SELECT seq, hash FROM event WHERE cycle=? ORDER BY seq DESC LIMIT 1", (CYCLE,)).fetchone()  # fmt: skip
    survey_sha = orjson.loads(db.execute("SELECT body FROM event WHERE cycle=? AND seq=1", (CYCLE,)).fetchone()[0])["survey_sha256"]  # fmt: skip
    files = {"survey_sha256": survey_sha, "workflow_sha256": wf.sha256}
    rows = db.execute(
        "SELECT nominee_id, name_th, score, scores FROM nomination WHERE cycle=? AND award=? AND state='surveyed'",
        (CYCLE, AWARD),
    ).fetchall()
    items = [(r[0], r[1], cents(r[2], "score"), cents(json.loads(r[3])[wf.tie], "score")) for r in rows]  # fmt: skip
    order = ranked(items)
    of, cut = len(order), f"top {wf.top}"
    cut_score = fmt(order[min(wf.top, of) - 1][2])
    chain = Chain(db, seq, head)
    moves = []
    # Ranked, then logged in nominee-id order, as a stage's decisions are.
    for rank, (aid, _, score, _) in sorted(enumerate(order, start=1), key=lambda r: r[1][0]):
        inside = rank <= wf.top
        to, trigger = ("shortlisted", "shortlist") if inside else ("eliminated", "eliminate")
        where = "within" if inside else "outside"
        evidence = {"cut": cut, "cut_score": cut_score, "of": of, "rank": rank, "score": fmt(score), "tie_break": "score", **files}  # fmt: skip
        reason = f"shortlist: rank {rank} of {of}, score {fmt(score)}, {where} the cut ({cut})"
        moves.append((to, rank, chain.add(transition(aid, to, "surveyed", trigger, reason, evidence)), aid))  # fmt: skip
    chain.flush()
    db.execute("CREATE TEMP TABLE moves (state TEXT, rank INTEGER, seq INTEGER, nominee_id TEXT PRIMARY KEY)")  # fmt: skip
    db.executemany("INSERT INTO moves VALUES (?,?,?,?)", moves)
    db.execute(
        "UPDATE nomination SET (state, rank, seq) = (SELECT state, rank, seq FROM moves"
        " WHERE moves.nominee_id = nomination.nominee_id)"
        " WHERE cycle=? AND award=? AND nominee_id IN (SELECT nominee_id FROM moves)",
        (CYCLE, AWARD),
    )
    db.execute("DROP TABLE moves")


def export(db: sqlite3.Connection, path: Path) -> int:
    count = 0
    with path.open("wb") as out:
        for body, digest in db.execute("SELECT body, hash FROM event WHERE cycle=? ORDER BY seq", (CYCLE,)):  # fmt: skip
            out.write(b'{"event":' + body + b',"hash":"' + digest.encode() + b'"}\n')
            count += 1
    return count


def replay(log: Path, survey: Path, wf: Workflow) -> int:
    """Check the chain and re-derive every decision; stop at the first difference."""
    digest, rows = read_survey(survey, wf)
    expected = {}
    pool = []
    for aid, th, _, _, _, _, responded, scores, _ in rows:
        if responded:
            w = weighted(scores, wf)
            expected[aid] = ["surveyed", fmt(w), None]
            pool.append((aid, th, w, scores[wf.tie]))
    order = ranked(pool)
    for rank, (aid, *_) in enumerate(order, start=1):
        expected[aid][2] = rank
    top, prev, n = wf.top, GENESIS, 0
    with log.open("rb") as f:
        for n, line in enumerate(f, start=1):
            body, digest_line = line[9:-76], line[-67:-3].decode()
            if hashlib.sha256(body).hexdigest() != digest_line:
                raise SystemExit(f"{log}:{n}: the event does not match its hash")
            event = orjson.loads(body)
            if event["seq"] != n or event["prev"] != prev:
                raise SystemExit(f"{log}:{n}: the chain breaks here")
            prev = digest_line
            if event["kind"] == "survey_imported":
                if event["survey_sha256"] != digest or event["workflow_sha256"] != wf.sha256:
                    raise SystemExit(f"{log}:{n}: not the survey or workflow the log names")
                continue
            want = expected[event["nominee"]]
            evidence = event["evidence"]
            if event["trigger"] == "nominate":
                ok = event["to"] == "surveyed" and evidence["score"] == want[1]
            else:
                inside = want[2] <= top
                ok = (
                    event["to"] == ("shortlisted" if inside else "eliminated")
                    and evidence["rank"] == want[2]
                    and evidence["score"] == want[1]
                )
            if not ok:
                raise SystemExit(f"{log}:{n}: the decision differs from the rules")
    return n


def run(n: int, work: Path) -> dict[str, float]:
    """Build the survey, then time the import, the shortlist and the export."""
    sys.path.insert(0, str(HERE))
    from cycle import bench_survey  # the benchmark's survey generator, so inputs are equal

    survey = bench_survey(work / "survey.csv", n)
    wf = Workflow(HERE / "bench.toml")
    out: dict[str, float] = {"nominees": n}
    for stale in ("reference.db", "reference.db-wal", "reference.db-shm"):  # a kept earlier run
        (work / stale).unlink(missing_ok=True)
    db = sqlite3.connect(work / "reference.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA cache_size=-65536")
    db.execute("PRAGMA temp_store=MEMORY")
    db.executescript(SCHEMA)
    for phase, work_of in (("import", lambda: import_survey(db, survey, wf)), ("shortlist", lambda: shortlist(db, wf))):  # fmt: skip
        t, c = time.perf_counter(), time.process_time()
        db.execute("BEGIN IMMEDIATE")
        work_of()
        db.execute("COMMIT")
        out[phase], out[f"{phase} cpu"] = time.perf_counter() - t, time.process_time() - c
    out["import+shortlist"] = out["import"] + out["shortlist"]
    out["import+shortlist cpu"] = out["import cpu"] + out["shortlist cpu"]
    t = time.perf_counter()
    out["events"] = export(db, work / "reference-log.jsonl")
    out["export"] = time.perf_counter() - t
    db.close()
    out["build peak MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def floor(n: int, work: Path) -> dict[str, float]:
    """The least work the targets leave room for, each piece timed alone (CPU seconds):

    - `write`: sealing 2n events (a nomination and a ranked move per nominee, in nominee-id
      order as the engine logs a stage's decisions) and inserting them, with nothing else, into the engine's event table and indexes in one
      transaction; `write, no subject index`: the same without the index on (cycle, award,
      nominee) that lets a nomination's history be read;
    - `csv`: the survey's rows read by the csv module, with no checks;
    - `lines`: every line of the exported log hashed and parsed, with no checks;
    - `sort`: the nominees sorted by score, then Thai name in ICU's order.

    `... wall` is the same write's wall time (with its disk waits). From these: the fewest
    CPU seconds every stage at n could take (writing the events and reading the survey,
    with no agency or nomination rows at all), and the most events per second a replay
    could reach if the survey, the sort and the lines were shared perfectly between every
    core with no other check.
    """
    sys.path.insert(0, str(HERE))
    from cycle import bench_survey

    survey = work / "survey.csv"
    if not survey.exists():
        bench_survey(survey, n)
    out: dict[str, float] = {"nominees": n}
    data = survey.read_bytes()
    c = time.process_time()
    header, *rows = csv.reader(data.decode("utf-8").splitlines())
    out["csv"] = time.process_time() - c
    wf = Workflow(HERE / "bench.toml")
    dims = [header.index(k) for k in wf.keys]
    items = [(r[0], r[1], weighted([cents(r[i], "") for i in dims], wf), 0) for r in rows]
    c = time.process_time()
    order = ranked(items)
    out["sort"] = time.process_time() - c
    del rows
    for label, subject in (("write", True), ("write, no subject index", False)):
        path = work / "floor.db"
        for stale in ("floor.db", "floor.db-wal", "floor.db-shm"):
            (work / stale).unlink(missing_ok=True)
        db = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "cache_size=-65536", "temp_store=MEMORY"):  # fmt: skip
            db.execute(f"PRAGMA {pragma}")
        ddl = SCHEMA.split("CREATE TABLE event")[1]
        if not subject:
            ddl = ddl.split("CREATE INDEX")[0]
        db.executescript("CREATE TABLE event" + ddl)
        t, c = time.perf_counter(), time.process_time()
        db.execute("BEGIN IMMEDIATE")
        chain = Chain(db, 0, GENESIS)
        for aid, _, score, _ in items:
            chain.add(transition(aid, "surveyed", None, "nominate", "in the award's pool", {"members": 1, "score": fmt(score)}))  # fmt: skip
        for rank, (aid, _, score, _) in sorted(enumerate(order, start=1), key=lambda r: r[1][0]):
            evidence = {"cut": "top 1000", "cut_score": "90.00", "of": n, "rank": rank, "score": fmt(score), "tie_break": "score"}  # fmt: skip
            chain.add(transition(aid, "eliminated", "surveyed", "eliminate", f"shortlist: rank {rank} of {n}", evidence))  # fmt: skip
        chain.flush()
        db.execute("COMMIT")
        out[label], out[f"{label} wall"] = time.process_time() - c, time.perf_counter() - t
        if subject:
            export(db, work / "floor-log.jsonl")
        db.close()
        os.unlink(path)
    c = time.process_time()
    with (work / "floor-log.jsonl").open("rb") as f:
        for line in f:
            body = line[9:-76]
            hashlib.sha256(body).hexdigest()
            orjson.loads(body)
    out["lines"] = time.process_time() - c
    cores = os.cpu_count() or 1
    out["events"] = 2 * n
    out["all stages floor"] = out["write"] + out["csv"]
    out["replay floor events/s"] = 2 * n / ((out["csv"] + out["sort"] + out["lines"]) / cores)
    return out


def measure(n: int, work: Path) -> dict[str, float]:
    """Build, then replay, each in a fresh process, so each peak memory is its own."""
    import subprocess

    def child(*args: str) -> dict[str, float]:
        cmd = [sys.executable, __file__, *args]
        return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)

    out = child("--build", str(n), str(work))
    return out | child("--replay", str(work / "reference-log.jsonl"), str(work / "survey.csv"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("nominees", type=int, nargs="?", default=100_000)
    parser.add_argument("--keep", type=Path, help="keep the database, log and survey here")
    parser.add_argument("--replay", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument(
        "--floor", action="store_true", help="time only the least work the targets leave room for"
    )
    args = parser.parse_args()
    if args.floor:
        print(json.dumps(in_folder(floor, args.nominees, args.keep)))
        return
    if args.build:
        print(json.dumps(run(int(args.build[0]), Path(args.build[1]))))
        return
    if args.replay:
        t, c = time.perf_counter(), time.process_time()
        events = replay(*args.replay, Workflow(HERE / "bench.toml"))
        took, cpu = time.perf_counter() - t, time.process_time() - c
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"replay": took, "replay cpu": cpu, "replay events/s": events / took, "replay peak MB": peak}))  # fmt: skip
        return
    print(json.dumps(in_folder(measure, args.nominees, args.keep)))


def in_folder(work: Callable[[int, Path], dict[str, float]], n: int, keep: Path | None) -> dict[str, float]:  # fmt: skip
    """`work` done in `keep` (kept afterwards), else in a temporary folder."""
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        return work(n, keep)
    with tempfile.TemporaryDirectory(prefix="awards-reference-") as tmp:
        return work(n, Path(tmp))


if __name__ == "__main__":
    main()
