"""Offline replay: re-derive every rule-based decision of an exported log from the workflow and
survey files it names, with no database, no clock and no network.

Replay is the projection's fold (awards.log.projection) with a check before every event.
Human decisions (verdicts, recusals, withdrawals, revocations) are taken as input and checked
against the state machine and the committee's seats; every rule decision (nomination,
shortlist, review outcome, award, assignment) is computed again by the stage pipeline and the
committee rules the engine used, and compared with what the log says, event by event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from awards.errors import LogError
from awards.log import merkle
from awards.log.chain import EXPORT_PREFIX, EXPORT_SUFFIX_LEN, GENESIS, verify_file
from awards.log.events import Kind
from awards.log.rederive import Diverged, Divergence, Rederivation
from awards.rules.plain import Plain
from awards.rules.survey import read_survey
from awards.rules.workflow_file import load_workflow

__all__ = ["Diverged", "Divergence", "Replayed", "replay"]


@dataclass(frozen=True)
class Replayed(Plain):
    events: int
    head: str
    rule_decisions: int  # re-derived and identical
    human_decisions: int  # verdicts, withdrawals, revocations: taken as input
    other_events: int  # cycle opened, survey imported, certificates rendered, checkpoints
    checkpoints: tuple[tuple[int, str], ...] = ()  # (size, Merkle root) of each, verified

    def summary(self) -> str:
        return (
            f"ok: {self.events} events, chain intact (head {self.head[:12]}); "
            f"{self.rule_decisions} rule decisions re-derived identically, "
            f"{self.human_decisions} human decisions taken as input, {self.other_events} other events"
        )


def replay(log: str | Path, workflow_path: str | Path, survey_path: str | Path) -> Replayed:
    """Verify the chain, check the files are the ones the log names, re-derive every decision.

    Raises LogError for a broken chain, InputErrors for unreadable files, and Diverged at the
    first event that the re-derivation does not reproduce. When the chain breaks at a line,
    the events before it are re-derived first: an event edited with its hash restated only
    breaks the chain at the next line, but its re-derivation names the edited event itself.
    """
    try:
        verified = verify_file(str(log))
    except LogError as broken:
        _diverges_before(broken, log, workflow_path, survey_path)
        raise
    fold = Rederivation(
        load_workflow(workflow_path), read_survey(survey_path, load_workflow(workflow_path))
    )
    _fold(fold, _events(str(log)))
    fold.finish()
    return Replayed(
        verified.events, verified.head, fold.rule, fold.human, fold.other, tuple(fold.roots)
    )


def _fold(fold: Rederivation, events: Iterable[tuple[bytes, str, dict[str, Any]]]) -> None:
    tree = merkle.Frontier()
    head = GENESIS
    for body, digest, event in events:
        if event.get("kind") == Kind.CHECKPOINT:
            fold.checkpoint(event, tree, head)
        fold.apply(event)
        tree.append(sha256(b"\x00" + body).digest())  # the RFC 9162 leaf hash, inline: 2M calls
        head = digest


def _diverges_before(
    broken: LogError, log: str | Path, workflow_path: str | Path, survey_path: str | Path
) -> None:
    """Raise Diverged if the events before the line where the chain broke diverge."""
    if broken.line is None or broken.line < 2:
        return
    try:
        workflow = load_workflow(workflow_path)
        fold = Rederivation(workflow, read_survey(survey_path, workflow))
        _fold(fold, islice(_events(str(log)), broken.line - 1))
    except Diverged:
        raise
    except Exception:
        return


def _events(path: str) -> Iterator[tuple[bytes, str, dict[str, Any]]]:
    """(event bytes, their hash, the event) of a log `verify_file` has already checked, so
    every line is known to be well formed and its stated hash right."""
    start, end = len(EXPORT_PREFIX), -EXPORT_SUFFIX_LEN
    with open(path, "rb") as f:
        for line in f:
            line = line.rstrip(b"\r\n")
            body = line[start:end]
            yield body, line[end + 9 : end + 73].decode("ascii"), orjson.loads(body)
