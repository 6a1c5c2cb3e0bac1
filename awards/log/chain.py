"""The decision log's format: canonical event bytes, the hash chain, export and verification.

Pure functions, no database: the same code checks the live log and an exported file.

An event is canonical JSON (sorted keys, UTF-8, no insignificant whitespace, no floats:
decimals are strings) and carries `seq` and `prev`, the SHA-256 of the event before it
(`GENESIS` for the first). The hash of an event is the SHA-256 of its exact bytes.

An exported log is JSON Lines, one event per line, each line
`{"event":<the event's exact bytes>,"hash":"<its SHA-256>"}`: the event bytes are carried
verbatim, so a verifier hashes them without re-serialising anything, and the stated hash
lets it name the very line that was edited.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from awards.errors import LogError
from awards.log import shape
from awards.log.events import SCHEMA_VERSION
from awards.rules.plain import Plain

GENESIS = "0" * 64
BANGKOK = timezone(timedelta(hours=7))

_PREFIX = b'{"event":'
_HASH_KEY = b',"hash":"'
_SUFFIX_LEN = len(b',"hash":"') + 64 + len(b'"}')
EXPORT_PREFIX, EXPORT_SUFFIX_LEN = _PREFIX, _SUFFIX_LEN  # an export line's fixed framing


def now() -> str:
    """The current time in Bangkok (+07:00), to the second, as ISO 8601."""
    return datetime.now(BANGKOK).isoformat(timespec="seconds")


def canonical(obj: dict[str, Any]) -> bytes:
    """Canonical JSON bytes: sorted keys, UTF-8, compact. Floats are refused.

    Events are flat objects with at most one level of nesting (the evidence), so the float
    check looks two levels deep without recursing: it runs once per event, a million times
    in a large advance.
    """
    for v in obj.values():
        if type(v) is float or (type(v) is dict and any(type(w) is float for w in v.values())):
            raise TypeError("decision log events carry decimals as strings, never floats")
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Sealed:
    """An event fixed in the chain: its exact bytes and their hash."""

    seq: int
    prev: str
    body: bytes
    hash: str


def seal(fields: dict[str, Any], seq: int, prev: str) -> Sealed:
    """Give an event its place in the chain and freeze it to canonical bytes."""
    body = sealed_body(fields, seq, prev)
    return Sealed(seq, prev, body, sha256(body))


def sealed_body(fields: dict[str, Any], seq: int, prev: str) -> bytes:
    """The canonical bytes of an event at its place in the chain (what `seal` hashes)."""
    return canonical({**fields, "schema_version": SCHEMA_VERSION, "seq": seq, "prev": prev})


def seal_many(events: Iterable[dict[str, Any]], seq: int, prev: str) -> list[Sealed]:
    """Seal events in order after the event (`seq`, hash `prev`) that is now the head."""
    out = []
    for fields in events:
        seq += 1
        sealed = seal(fields, seq, prev)
        out.append(sealed)
        prev = sealed.hash
    return out


def export_line(body: bytes, digest: str) -> bytes:
    """One line of an exported log (with its newline)."""
    return _PREFIX + body + b',"hash":"' + digest.encode("ascii") + b'"}\n'


@dataclass(frozen=True)
class Verified(Plain):
    events: int
    head: str  # hash of the last event, GENESIS for an empty log
    trust: Any = None  # awards.log.trust.Trust, when a trusted key judged the checkpoints


def split_line(line: bytes, where: str) -> tuple[bytes, str]:
    """(event bytes, stated hash) of an exported line; LogError naming the line otherwise."""
    line = line.rstrip(b"\r\n")
    if not line.strip():
        raise LogError(f"{where}: empty line")
    tail = line[-_SUFFIX_LEN:]
    if (
        not line.startswith(_PREFIX)
        or len(line) <= len(_PREFIX) + _SUFFIX_LEN
        or not tail.startswith(_HASH_KEY)
        or not tail.endswith(b'"}')
    ):
        raise LogError(f"{where}: not a decision log line ({_excerpt(line)})")
    return line[len(_PREFIX) : -_SUFFIX_LEN], tail[9:73].decode("ascii", "replace")


class _Broken(Exception):
    """The chain breaks at line `number` (counted from the start of what was checked)."""

    def __init__(self, number: int, detail: str):
        super().__init__(number, detail)
        self.number = number
        self.detail = detail


@dataclass(frozen=True)
class _Span:
    lines: int
    first_seq: int | None
    first_prev: str | None
    head: str


def malformed(body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The event in `body` and what is wrong with it (None when it is a well-formed event in
    canonical form). Canonical form matters beyond looks: a key given twice would let two
    readers of the same bytes see two different events."""
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, "the event is not valid JSON"
    wrong = shape.problem(event)
    if wrong is None and orjson.dumps(event, option=orjson.OPT_SORT_KEYS) != body:
        wrong = "the event is not in canonical form (sorted keys, each once, no spaces, no floats)"
    if wrong is not None:
        kind = event.get("kind") if type(event) is dict else None
        seq = event.get("seq") if type(event) is dict else None
        named = f"event {seq}" if type(seq) is int else "the event"
        wrong = f"{named}{f' ({kind})' if type(kind) is str and len(kind) < 40 else ''} is malformed: {wrong}"
    return event, wrong


def _check(
    lines: Iterable[bytes],
    after: tuple[int, bytes] | None,
    seen: Callable[[bytes, dict[str, Any]], None] | None = None,
) -> _Span:
    """The hot loop. `after` is (seq, hash) of the event before the first line, or None to
    take the first line's own seq and prev as given (a chunk checked on its own). `seen` is
    given each event found sound (its bytes and the parsed event), in order.

    Each event is parsed and its shape checked (awards.log.shape): a line whose bytes hash
    and chain correctly but hold no event the catalogue could have written is named here,
    not by whatever reads it later.
    """
    sha = hashlib.sha256
    count, prev = after if after is not None else (0, b"")
    first_seq: int | None = None
    first_prev: bytes | None = None
    number = 0
    for number, line in enumerate(lines, start=1):
        # Fixed offsets, no parsing. A line without the exported shape fails the hash check,
        # and split_line then says what is wrong with it.
        if line[-1:] == b"\n":
            body, stated = line[9:-76], line[-67:-3]
        else:
            body, stated = line[9:-75], line[-66:-2]
        actual = sha(body).hexdigest().encode()
        if actual != stated:
            try:  # not the exact exported shape (a CRLF ending, say), or altered
                body, text = split_line(line, "")
            except LogError as exc:
                raise _Broken(number, str(exc)[2:]) from None
            actual = sha(body).hexdigest().encode()
            if actual != text.encode():
                raise _Broken(
                    number,
                    f"event does not match its hash (stated {text[:12]}, actual {actual[:12].decode()}): the line was altered",
                )
        event, wrong = malformed(body)
        if wrong is not None or event is None:
            raise _Broken(number, wrong or "the event is not valid JSON")
        seq, linked = event["seq"], event["prev"].encode()
        if first_seq is None:
            first_seq, first_prev = seq, linked
            if after is None:
                count, prev = seq - 1, linked
        if seq != count + 1:
            raise _Broken(
                number,
                f"seq {seq} where {count + 1} was expected: an event is missing, duplicated or out of order",
            )
        if linked != prev:
            raise _Broken(
                number,
                f"prev {linked[:12].decode('ascii', 'replace')} does not match the hash of the event before it ({prev[:12].decode()}): the chain is broken here",
            )
        prev = actual
        count += 1
        if seen is not None:
            seen(body, event)
    return _Span(
        number, first_seq, None if first_prev is None else first_prev.decode(), prev.decode()
    )


def verify_lines(lines: Iterable[bytes], source: str = "log") -> Verified:
    """Check an exported log line by line; raise LogError naming the first bad line.

    Each line's event must hash to its stated hash, name the previous line's hash as `prev`,
    and carry the next sequence number: an edited byte, a dropped, inserted or swapped line
    is reported at the first line where the chain breaks.
    """
    try:
        span = _check(lines, (0, GENESIS.encode()))
    except _Broken as b:
        raise _broken_at(source, b.number, b.detail) from None
    return Verified(span.lines, span.head)


def _broken_at(source: str, line: int, detail: str) -> LogError:
    return LogError(f"{source}:{line}: {detail}", line)


# Below this size one process verifies faster than two can start.
PARALLEL_FROM = 32 * 1024 * 1024


def verify_file(
    path: str, workers: int | None = None, parallel_from: int = PARALLEL_FROM
) -> Verified:
    """Verify an exported log file; LogError names the first bad line.

    A large file is cut at line boundaries into one chunk per core; each chunk is checked on
    its own in a worker process, then the chunks are stitched: each must start with the
    sequence number and `prev` that the chunk before it ends with.
    """
    size = os.path.getsize(path)
    workers = workers or min(os.cpu_count() or 1, 4)
    if workers < 2 or size < parallel_from:
        with open(path, "rb", buffering=1 << 20) as f:
            return verify_lines(f, path)
    bounds = _chunks(path, size, workers)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(len(bounds)) as pool:
        results = pool.starmap(_check_chunk, [(path, a, b) for a, b in bounds])
    return _stitch(path, results)


def _stitch(path: str, results: list[_Span | tuple[int, str]]) -> Verified:
    stitched = Stitched(path)
    for result in results:
        stitched.add(result)
    return stitched.verified()


class Stitched:
    """Chunks checked on their own (`_check_chunk`), joined in file order: each must start
    with the sequence number and `prev` that the one before it ends with. `add` raises
    LogError naming the first bad line of the whole file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lines, self.head = 0, GENESIS

    def add(self, result: _Span | tuple[int, str]) -> None:
        path, lines, head = self.path, self.lines, self.head
        if isinstance(result, tuple):  # (line within the chunk, detail)
            raise _broken_at(path, lines + result[0], result[1])
        if result.lines == 0:
            return
        if result.first_seq != lines + 1:
            raise _broken_at(
                path,
                lines + 1,
                f"seq {result.first_seq} where {lines + 1} was expected: an event is missing, duplicated or out of order",
            )
        if result.first_prev != head:
            raise _broken_at(
                path,
                lines + 1,
                f"prev {str(result.first_prev)[:12]} does not match the hash of the event before it ({head[:12]}): the chain is broken here",
            )
        self.lines += result.lines
        self.head = result.head

    def verified(self) -> Verified:
        return Verified(self.lines, self.head)


def _chunks(path: str, size: int, n: int) -> list[tuple[int, int]]:
    starts = [0]
    with open(path, "rb") as f:
        for i in range(1, n):
            f.seek(size * i // n)
            f.readline()
            starts.append(max(f.tell(), starts[-1]))
    ends = [*starts[1:], size]
    return [(a, b) for a, b in zip(starts, ends, strict=True) if b > a]


def _check_chunk(path: str, start: int, end: int) -> _Span | tuple[int, str]:
    def lines() -> Iterator[bytes]:
        remaining = end - start
        with open(path, "rb", buffering=1 << 20) as f:
            f.seek(start)
            for line in f:
                yield line
                remaining -= len(line)
                if remaining <= 0:
                    return

    try:
        return _check(lines(), None)
    except _Broken as b:
        return (b.number, b.detail)


def _excerpt(line: bytes) -> str:
    text = line[:40].decode("utf-8", "replace")
    return text + ("..." if len(line) > 40 else "")


def events_of(path: str | os.PathLike[str]) -> Iterator[tuple[bytes, str, dict[str, Any]]]:
    """(event bytes, their hash, the event) of each line of a log that `verify_file` has
    already checked, so every line is known to be well formed and its stated hash right."""
    start, end = len(_PREFIX), -_SUFFIX_LEN
    with open(path, "rb", buffering=1 << 20) as f:
        for line in f:
            line = line.rstrip(b"\r\n")
            body = line[start:end]
            yield body, line[end + 9 : end + 73].decode("ascii"), orjson.loads(body)
