"""The replay's fast path changes nothing but speed: on intact and forged logs alike, the
replay in one process, the replay of a log read in chunks by worker processes, and the
checking fold alone (every event through the general path) give the same result or name
the same event with the same words."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest

from awards.commands.advance import advance, move_one
from awards.commands.logbook import export_log
from awards.commands.results import ranking
from awards.errors import AwardsError
from awards.log import fastcheck
from awards.log import replay as replay_module
from awards.log.chain import canonical, export_line
from awards.log.replay import replay
from awards.rules.stages import STAGE_OF
from awards.rules.states import Trigger

from forgery import events_of, rechain
from support import WORKFLOW, open_cycle, review, seat


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A whole cycle with verdicts, a withdrawal and a revocation, exported (SQLite)."""
    tmp = tmp_path_factory.mktemp("fastcheck")
    url = f"sqlite:///{tmp / 'awards.db'}"
    survey = open_cycle(url, tmp)
    advance(url=url, actor="s")
    move_one("top-department:D025", Trigger.WITHDRAW, reason="merged", actor="s", url=url)
    seat(url)
    for row in ranking("top-department", url=url).rows:
        if row.state == "shortlisted":
            for reviewer in ("a", "b", "c"):
                review(row.nomination, approve=row.nominee_id != "D028", reviewer=reviewer, url=url)
    advance(url=url, actor="s")
    move_one("top-department:D029", Trigger.REVOKE, reason="false answers", actor="s", url=url)
    export_log(tmp / "log.jsonl", url=url)
    return tmp / "log.jsonl", survey


BULK = ("nominate", "shortlist", "eliminate", "award", "pass_over")


def outcome(log: Path, survey: Path) -> tuple[str, str]:
    try:
        result = replay(log, WORKFLOW, survey)
    except AwardsError as exc:
        return type(exc).__name__, str(exc)
    return "ok", repr(result)


def three_ways(log: Path, survey: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The outcome in one process, read in chunks by workers, and with no fast path."""
    got = [outcome(log, survey)]
    with monkeypatch.context() as m:
        m.setattr(replay_module, "PARALLEL_FROM", 0)
        m.setattr(fastcheck, "CHUNK", 20_000)  # several chunks, boundaries inside stages
        got.append(outcome(log, survey))
    with monkeypatch.context() as m:
        m.setattr(fastcheck.Bulk, "take", lambda self, t, leaf: False)
        got.append(outcome(log, survey))
    return got


def test_fast_path_takes_the_bulk_of_an_intact_log(cycle, monkeypatch):
    log, survey = cycle
    taken = []
    take = fastcheck.Bulk.take

    def counting(self: fastcheck.Bulk, t: tuple[Any, ...], leaf: bytes) -> bool:
        taken.append(take(self, t, leaf))
        return taken[-1]

    monkeypatch.setattr(fastcheck.Bulk, "take", counting)
    result = replay(log, WORKFLOW, survey)
    assert result.events == len(taken)
    # Every nomination and ranking move but the first of each stage, which re-derives it,
    # and the import's first nomination, which derives the pools once the facts of earlier
    # cycles (if any) are folded; review outcomes, withdrawals and revocations go the
    # general way.
    moves = [e for e in events_of(log) if e["kind"] == "transition" and e["trigger"] in BULK]
    stages = {(e["award"], STAGE_OF[e["trigger"]]) for e in moves if e["trigger"] in STAGE_OF}
    imports = sum(e["kind"] == "survey_imported" for e in events_of(log))
    assert sum(taken) == len(moves) - len(stages) - imports
    assert len(stages) == 6
    assert len(set(three_ways(log, survey, monkeypatch))) == 1


def edits(events: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """Forgeries of every kind the fast path meets: each bulk field altered, events dropped,
    swapped or duplicated, an unknown award, at the start, middle and end of stages."""
    moves = [i for i, e in enumerate(events) if e["kind"] == "transition"]
    picked = sorted({moves[0], moves[1], moves[len(moves) // 2], moves[-3], moves[-1]})
    out: list[tuple[str, Any]] = []
    for i in picked:
        seq = events[i]["seq"]

        def field(seq: int, name: str, value: Any):
            return lambda e: {**e, name: value} if e["seq"] == seq else e

        def evidence(seq: int, name: str, value: Any):
            return lambda e: (
                {**e, "evidence": {**e["evidence"], name: value}} if e["seq"] == seq else e
            )

        out += [
            (f"{seq} score", evidence(seq, "score", "99.99")),
            (f"{seq} score as a number", evidence(seq, "score", 99)),
            (f"{seq} rank", evidence(seq, "rank", 2)),
            (f"{seq} of", evidence(seq, "of", 1)),
            (f"{seq} cut", evidence(seq, "cut", "top 1")),
            (f"{seq} cut score", evidence(seq, "cut_score", None)),
            (f"{seq} tie-break", evidence(seq, "tie_break", "joint")),
            (f"{seq} segment", evidence(seq, "segment", "x")),
            (f"{seq} tier", evidence(seq, "tier", "gold")),
            (f"{seq} quota", evidence(seq, "quota_full", "ministry x: at most 1")),
            (f"{seq} to", field(seq, "to", "awarded")),
            (f"{seq} from", field(seq, "from", "reviewed")),
            (f"{seq} trigger", field(seq, "trigger", "eliminate")),
            (f"{seq} award", field(seq, "award", "no-such-award")),
            (f"{seq} nominee", field(seq, "nominee", "D999")),
            (f"{seq} dropped", lambda e, seq=seq: None if e["seq"] == seq else e),
        ]
    first = moves[0]
    out.append(("swap", lambda e: events[first + 1] if e["seq"] == first + 1 else (
        events[first] if e["seq"] == first + 2 else e)))  # fmt: skip
    return out


def test_fast_path_names_every_forgery_as_the_checking_fold_does(cycle, tmp_path, monkeypatch):
    log, survey = cycle
    events = events_of(log)
    refused = 0
    for name, edit in edits(events):
        forged = tmp_path / "forged.jsonl"
        forged.write_bytes(rechain(events, edit=edit))
        got = three_ways(forged, survey, monkeypatch)
        assert got[1] == got[0], name
        assert got[2] == got[0], name
        refused += got[0][0] != "ok"
    assert refused >= 45  # a nomination's rank or cut, say, is no part of its decision


@pytest.mark.parametrize("where", [0.1, 0.5, 0.97])
def test_fast_path_reports_a_broken_chain_as_the_checking_fold_does(
    cycle, tmp_path, monkeypatch, where
):
    """An edited event with its hash restated breaks the chain on the next line; the replay
    names the edited event itself (re-derived first), whichever way it reads the log."""
    log, survey = cycle
    lines = log.read_bytes().splitlines(keepends=True)
    at = int(len(lines) * where)
    event = orjson.loads(lines[at])["event"]
    event.setdefault("evidence", {})["rank"] = 999
    body = canonical(event)
    lines[at] = export_line(body, hashlib.sha256(body).hexdigest())
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b"".join(lines))
    got = three_ways(broken, survey, monkeypatch)
    assert got[0][0] != "ok"
    assert got[1] == got[0]
    assert got[2] == got[0]
