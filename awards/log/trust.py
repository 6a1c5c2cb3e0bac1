"""Checkpoints read in log order, and what the committee's public key makes of a log.

Reading a log front to back, `Checkpoints` keeps the RFC 9162 tree of the events so far and
checks each checkpoint event against it: it must fix exactly the events before it (size, root,
head), and a signed one must carry a signature that holds. That much anyone can arrange: whoever
rewrites a log can compute its roots again and sign them with a key of their own. So given
the committee's public key (the auditor's own copy, not the one a checkpoint carries), it also
tracks which events a checkpoint signed with that key covers, and `trust()` names the first
stretch that none covers.

Not every event can wait for a signature to be valid: `advance` and `render` end each stage
and each batch with a checkpoint, but a verdict, a recusal, a reviewer's declaration, a
withdrawal or a revocation is written on its own. A log may end with such human decisions
after its last signed checkpoint; a rule decision (a nomination, a stage's moves, an
assignment), an import or a rendering there fails it.

The replay, `log verify`, `checkpoint verify` and `audit` all use this one check.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from awards.errors import LogError
from awards.log import merkle
from awards.log.chain import GENESIS
from awards.log.events import Kind
from awards.log.signing import signature_ok
from awards.rules.plain import Plain
from awards.rules.states import REASON_REQUIRED

UNCHECKED = (
    "checkpoints not checked against a trusted key: anyone who rewrites the log can sign it "
    "again; pass --public-key with the committee's public key"
)
_HUMAN = frozenset({Kind.VERDICT, Kind.RECUSED, Kind.REVIEWER_ADDED})
_HUMAN_TRIGGERS = frozenset(t.value for t in REASON_REQUIRED)


def needs_signature(event: dict[str, Any]) -> bool:
    """Whether a log may not end with this event outside a signed checkpoint: everything
    but checkpoints and the human decisions written without one."""
    kind = event["kind"]
    if kind == Kind.CHECKPOINT or kind in _HUMAN:
        return False
    return not (kind == Kind.TRANSITION and event.get("trigger") in _HUMAN_TRIGGERS)


def _what(event: dict[str, Any]) -> str:
    kind = event["kind"]
    if kind == Kind.TRANSITION:
        return _move(event.get("trigger"), event.get("nomination", "a nomination"))
    return sys.intern(str(kind))


def _move(trigger: Any, nomination: Any) -> str:
    return sys.intern(f"{trigger} of {nomination}")


def mismatch(event: dict[str, Any], size: int, root: str, head: str) -> str | None:
    """What is wrong with a checkpoint event read after `size` events whose tree has `root`
    and whose last event hashes to `head`; None when it fixes exactly them and any signature
    on it holds."""
    if event.get("size") != size:
        return f"it states {event.get('size')} events, but {size} precede it"
    if event.get("root") != root:
        return f"the log no longer has the events this checkpoint signed (root over the first {size} events differs)"
    if event.get("head") != head:
        return "the head hash differs"
    if event.get("signature") is not None and not signature_ok(event):
        return "the signature does not match the statement"
    return None


@dataclass(frozen=True)
class Seen(Plain):
    """One checkpoint as the check found it."""

    seq: int
    size: int
    root: str
    public_key: str | None  # None: unsigned
    problem: str  # "" when it fixes exactly the events before it and its signature holds
    trusted: bool = False  # signed with the trusted key, and sound

    @property
    def signed(self) -> bool:
        return self.public_key is not None

    def describe(self, key: str | None) -> str:
        """How `checkpoint verify` names it: ok, and by whom it is signed, or its problem."""
        if self.problem:
            return self.problem
        if not self.signed:
            return "ok, unsigned"
        if key is None:
            return f"ok, signed with key {str(self.public_key)[:16]} (not checked against a trusted key)"
        return "ok, signed with the trusted key" if self.trusted else (
            f"ok, but signed with another key ({str(self.public_key)[:16]}) than the trusted one"
        )  # fmt: skip


@dataclass(frozen=True)
class Trust(Plain):
    """What the trusted key makes of a whole log."""

    key: str | None  # the trusted public key; None: none was given, nothing was judged
    events: int
    covered: int  # events 1..covered lie under a checkpoint signed with the trusted key
    by: int | None  # the seq of that checkpoint
    tail: int  # events after `covered`, checkpoints aside, that no trusted checkpoint covers
    unsigned: tuple[int, str] | None  # the first of them that needs a signature: (seq, what)
    checkpoints: int = 0  # in the whole log
    foreign: tuple[str, ...] = ()  # other keys that signed checkpoints

    @property
    def ok(self) -> bool:
        return self.key is not None and self.unsigned is None

    def describe(self) -> str:
        """One line: what a signed checkpoint covers, or the first stretch none does."""
        if self.key is None:
            return UNCHECKED
        if self.unsigned is not None:
            seq, what = self.unsigned
            if self.by is None:
                return (
                    f"events 1-{self.events} are covered by no checkpoint signed with the "
                    f"trusted key{self._why_none()}"
                )
            return (
                f"events {self.by + 1}-{self.events} follow the last checkpoint signed "
                f"with the trusted key (event {self.by}) and are covered by none; event {seq} "
                f"({what}) needs one"
            )
        said = f"events 1-{self.covered} are covered by the checkpoint at event {self.by}, signed with the trusted key"
        if self.tail == 1:
            said += "; the event after it is a human decision, not yet under a signed checkpoint"
        elif self.tail:
            said += (
                f"; the {self.tail} events after it are human decisions (verdicts, recusals, "
                "withdrawals, revocations), not yet under a signed checkpoint"
            )
        return said

    def _why_none(self) -> str:
        if not self.checkpoints:
            return " (the log has no checkpoint)"
        if self.foreign:
            keys = ", ".join(k[:16] for k in self.foreign[:3])
            return f" (its {self.checkpoints} checkpoints are unsigned or signed with another key: {keys})"
        return f" (its {self.checkpoints} checkpoints are unsigned)"


class Checkpoints:
    """Feed it a log's events in order (`add`); it checks each checkpoint as it comes and,
    with a `trusted` public key (hex), judges the whole log at the end (`trust`)."""

    def __init__(self, trusted: str | None = None) -> None:
        self.trusted = trusted
        self.tree = merkle.Frontier()
        self.head = GENESIS
        self.events = 0
        self.seen: list[Seen] = []
        self._covered, self._by = 0, None
        self._waiting: deque[tuple[int, str]] = deque()  # needing a signature, not covered
        self._tail = 0
        self._foreign: dict[str, None] = {}

    def add(self, body: bytes, digest: str, event: dict[str, Any]) -> Seen | None:
        """Take the next event (its exact bytes, their hash, the parsed event); for a
        checkpoint, return what the check found."""
        seen = None
        if event["kind"] == Kind.CHECKPOINT:
            seen = self._checkpoint(event)
        elif self.trusted is not None:
            self._tail += 1
            if needs_signature(event):
                self._waiting.append((event["seq"], _what(event)))
        self.tree.append(sha256(b"\x00" + body).digest())  # the RFC 9162 leaf hash, inline
        self.head = digest
        self.events += 1
        return seen

    def add_run(self, leaves: list[bytes], moves: list[tuple[int, str, str]]) -> None:
        """Take a run of rule-based moves, as `add` would one by one: their Merkle leaf hashes
        and, with a trusted key, each one's (seq, trigger, nomination). The caller sets
        `head` before the checkpoints are read again."""
        if self.trusted is not None:
            self._tail += len(leaves)
            self._waiting.extend((seq, _move(trigger, code)) for seq, trigger, code in moves)
        self.tree.extend(leaves)
        self.events += len(leaves)

    def _checkpoint(self, event: dict[str, Any]) -> Seen:
        size, root = self.tree.size, self.tree.root().hex()
        problem = mismatch(event, size, root, self.head) or ""
        key = event.get("public_key") if event.get("signature") is not None else None
        trusted = not problem and key is not None and key == self.trusted
        seen = Seen(event["seq"], event["size"], event["root"], key, problem, trusted)
        self.seen.append(seen)
        if key is not None and not trusted:
            self._foreign[key] = None
        if trusted:
            self._covered, self._by, self._tail = size, event["seq"], 0
            while self._waiting and self._waiting[0][0] <= size:
                self._waiting.popleft()
        return seen

    def trust(self) -> Trust:
        """The judgement of the log read so far (nothing judged without a trusted key)."""
        return Trust(
            self.trusted, self.events, self._covered, self._by, self._tail,
            self._waiting[0] if self._waiting else None, len(self.seen), tuple(self._foreign),
        )  # fmt: skip


def check_all(
    events: Iterable[tuple[bytes, str, dict[str, Any]]], trusted: str | None = None
) -> Checkpoints:
    """Every checkpoint of a log whose chain was already verified, and the trusted key's
    judgement of it."""
    checked = Checkpoints(trusted)
    for body, digest, event in events:
        checked.add(body, digest, event)
    return checked


class Untrusted(LogError):
    """The log's checkpoints do not cover it with the trusted key's signature; `trust` says
    what they cover."""

    def __init__(self, message: str, trust: Trust):
        super().__init__(message)
        self.trust = trust
