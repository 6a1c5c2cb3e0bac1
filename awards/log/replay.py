"""Offline replay: re-derive every rule-based decision of an exported log from the workflow and
survey files it names, with no database, no clock and no network.

Replay is the projection's fold (awards.log.projection) with a check before every event.
Human decisions (verdicts, recusals, withdrawals, revocations) are taken as input and checked
against the state machine and the committee's seats; every rule decision (nomination,
shortlist, review outcome, award, assignment) is computed again by the stage pipeline and the
committee rules the engine used, and compared with what the log says, event by event.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import InvalidOperation
from hashlib import sha256
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from awards.errors import AwardsError, LogError
from awards.log.chain import (
    GENESIS,
    PARALLEL_FROM,
    Stitched,
    Verified,
    events_of,
    split_line,
    verify_file,
)
from awards.log.events import Kind
from awards.log.fastcheck import Bulk, Scanned, Stream, compact
from awards.log.rederive import Diverged, Divergence, Rederivation
from awards.log.trust import Checkpoints, Trust
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
    trust: Trust | None = None  # what the trusted public key makes of the log

    def summary(self) -> str:
        return (
            f"ok: {self.events} events, chain intact (head {self.head[:12]}); "
            f"{self.rule_decisions} rule decisions re-derived identically, "
            f"{self.human_decisions} human decisions taken as input, {self.other_events} other events"
        )


def replay(
    log: str | Path, workflow_path: str | Path, survey_path: str | Path, trusted: str | None = None
) -> Replayed:
    """Verify the chain, check the files are the ones the log names, re-derive every decision,
    and with the committee's `trusted` public key (hex, as awards.log.signing.load_public_key
    reads it from its file), judge which events the checkpoints signed with it cover
    (`Replayed.trust`: `.ok` is False when a stretch that needs a signature has none).

    Raises LogError for a broken chain or an event that cannot be replayed, InputErrors for
    unreadable files, and Diverged at the first event that the re-derivation does not
    reproduce. When the chain breaks at a line, the events before it are re-derived first: an
    event edited with its hash restated only breaks the chain at the next line, but its
    re-derivation names the edited event itself.
    """
    path = str(log)
    if os.path.getsize(path) < PARALLEL_FROM:  # one process checks it faster than two start
        try:
            verified = verify_file(path)
        except LogError as broken:
            _diverges_before(broken, log, workflow_path, survey_path)
            raise
        workflow = load_workflow(workflow_path)
        fold = Rederivation(workflow, read_survey(survey_path, workflow))
        checks = Checkpoints(trusted)
        _fold(fold, events_of(log), checks, path)
    else:
        # Worker processes check and read the chain while this one reads and scores the
        # inputs; a broken chain is still reported before any problem with the files.
        stream = Stream(path)
        try:
            verified, fold, checks = _replay_stream(
                stream, log, workflow_path, survey_path, trusted
            )
        finally:
            stream.close()
    fold.finish()
    return Replayed(
        verified.events, verified.head, fold.rule, fold.human, fold.other, tuple(fold.roots),
        checks.trust(),
    )  # fmt: skip


def _replay_stream(
    stream: Stream,
    log: str | Path,
    workflow_path: str | Path,
    survey_path: str | Path,
    trusted: str | None,
) -> tuple[Verified, Rederivation, Checkpoints]:
    path = str(log)
    stitched = Stitched(path)
    try:
        try:
            workflow = load_workflow(workflow_path)
            fold = Rederivation(workflow, read_survey(survey_path, workflow))
            fold.prepare()
        except Exception:  # raised once the whole chain is known to be intact
            for scanned in stream.chunks:
                stitched.add(_span(scanned))
            raise
        checks = Checkpoints(trusted)
        try:
            _fold_stream(fold, stream, stitched, checks)
        except LogError as unreplayable:
            if unreplayable.line is not None and unreplayable.line <= stitched.lines:
                for scanned in stream.chunks:  # a broken chain further on is reported first
                    stitched.add(_span(scanned))
            raise
    except _ChainBroken as broken:
        _diverges_before(broken.error, log, workflow_path, survey_path)
        raise broken.error from None
    return stitched.verified(), fold, checks


class _ChainBroken(Exception):
    def __init__(self, error: LogError) -> None:
        self.error = error


def _span(scanned: Scanned | tuple[int, str]) -> Any:
    return scanned if isinstance(scanned, tuple) else scanned.span


def _fold_stream(
    fold: Rederivation, stream: Stream, stitched: Stitched, checks: Checkpoints
) -> None:
    """Fold the chunks the workers scanned, in order: the bulk through the fast path, every
    other event read again from its line and checked by the fold."""
    path = stitched.path
    bulk = Bulk(fold, checks)
    with open(path, "rb") as f:
        for scanned in stream.chunks:
            try:
                stitched.add(_span(scanned))
            except LogError as error:
                raise _ChainBroken(error) from None
            assert not isinstance(scanned, tuple)
            before = stitched.lines - scanned.span.lines
            leaves, take = scanned.leaves, bulk.take
            for i, t in enumerate(scanned.events):
                if take(t, leaves[32 * i : 32 * i + 32]):
                    continue
                f.seek(t[0])
                body, digest = split_line(f.readline(), path)
                event = orjson.loads(body)
                bulk.flush(event["prev"])
                _step(fold, checks, body, digest, event, before + i + 1, path)
    bulk.flush(stitched.head)


# What a well-formed but impossible event raises inside the fold: an award the workflow does
# not have, a trigger the stage pipeline does not know, a score that is no number.
_UNREPLAYABLE = (AwardsError, KeyError, TypeError, ValueError, InvalidOperation, AttributeError)


def _fold(
    fold: Rederivation,
    events: Iterable[tuple[bytes, str, dict[str, Any]]],
    checks: Checkpoints | None = None,
    where: str = "log",
    fast: bool = True,
) -> None:
    """Check and fold every event; `fast`: let the bulk of them through awards.log.fastcheck,
    which hands any event it does not recognise as exactly right to the general check."""
    checks = checks or Checkpoints()
    bulk = Bulk(fold, checks) if fast else None
    digest = GENESIS
    for line, (body, digest, event) in enumerate(events, start=1):
        if bulk is not None:
            if bulk.take(compact(event, 0), sha256(b"\x00" + body).digest()):
                continue
            bulk.flush(event["prev"])
        _step(fold, checks, body, digest, event, line, where)
    if bulk is not None:
        bulk.flush(digest)


def _step(
    fold: Rederivation,
    checks: Checkpoints,
    body: bytes,
    digest: str,
    event: dict[str, Any],
    line: int,
    where: str,
) -> None:
    """Check one event against the fold and fold it in; LogError naming its line when it
    cannot be replayed."""
    try:
        if event["kind"] == Kind.CHECKPOINT:
            fold.checkpoint(event, checks.tree, checks.head)
        fold.apply(event)
    except Diverged:
        raise
    except _UNREPLAYABLE as exc:
        detail = str(exc) if isinstance(exc, AwardsError) else f"{type(exc).__name__}: {exc}"
        raise LogError(
            f"{where}:{line}: event {event['seq']} ({event['kind']}) cannot be replayed: {detail}",
            line,
        ) from None
    checks.add(body, digest, event)


def _diverges_before(
    broken: LogError, log: str | Path, workflow_path: str | Path, survey_path: str | Path
) -> None:
    """Raise Diverged if the events before the line where the chain broke diverge."""
    if broken.line is None or broken.line < 2:
        return
    try:
        workflow = load_workflow(workflow_path)
        fold = Rederivation(workflow, read_survey(survey_path, workflow))
        _fold(fold, islice(events_of(log), broken.line - 1))
        last = next(islice(events_of(log), broken.line - 2, None))[2]
    except Diverged:
        raise
    except Exception:
        return
    if last["kind"] == Kind.EARLIER_FACTS:
        _facts_decide_otherwise(fold, last, log, broken.line)


def _facts_decide_otherwise(
    fold: Rederivation, facts: dict[str, Any], log: str | Path, line: int
) -> None:
    """Facts of an earlier cycle decide nothing by themselves: when the chain breaks right
    after them, fold on past the break, and if the decisions that follow were taken with
    other facts, name the facts event (its hash restated, or the break would be its own)."""
    try:
        _fold(fold, islice(events_of(log), line - 1, None))
        fold.finish()
    except Diverged as later:
        why = f"the decisions after it were taken with other facts ({later.divergence})"
        raise Diverged(Divergence(facts["seq"], None, f"facts of {facts['earlier']}",
                                  "the facts the later decisions need", why)) from None  # fmt: skip
    except Exception:
        return
