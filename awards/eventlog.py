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
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from awards.errors import LogError

SCHEMA_VERSION = 1
GENESIS = "0" * 64
BANGKOK = timezone(timedelta(hours=7))

_PREFIX = b'{"event":'
_SUFFIX_LEN = len(b',"hash":"') + 64 + len(b'"}')


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
    body = canonical({**fields, "schema_version": SCHEMA_VERSION, "seq": seq, "prev": prev})
    return Sealed(seq, prev, body, sha256(body))


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
class Verified:
    events: int
    head: str  # hash of the last event, GENESIS for an empty log


def split_line(line: bytes, where: str) -> tuple[bytes, str]:
    """(event bytes, stated hash) of an exported line; LogError naming the line otherwise."""
    line = line.rstrip(b"\r\n")
    if not line.strip():
        raise LogError(f"{where}: empty line")
    tail = line[-_SUFFIX_LEN:]
    if (
        not line.startswith(_PREFIX)
        or len(line) <= len(_PREFIX) + _SUFFIX_LEN
        or not tail.startswith(b',"hash":"')
        or not tail.endswith(b'"}')
    ):
        raise LogError(f"{where}: not a decision log line ({_excerpt(line)})")
    return line[len(_PREFIX) : -_SUFFIX_LEN], tail[9:73].decode("ascii", "replace")


_SEQ = re.compile(rb'"seq":(\d+)[,}]')


def verify_lines(lines: Iterable[bytes], source: str = "log") -> Verified:
    """Check an exported log line by line; raise LogError naming the first bad line.

    Each line's event must hash to its stated hash, name the previous line's hash as `prev`,
    and carry the next sequence number: an edited byte, a dropped, inserted or swapped line
    is reported at the first line where the chain breaks.

    The chain check reads `seq` and `prev` straight from the canonical bytes instead of
    parsing the whole event: keys are sorted, and every nested object ("evidence") sorts
    before "prev", so the last occurrence of each key is the top-level one.
    """
    prev = GENESIS
    count = 0
    for number, line in enumerate(lines, start=1):
        body, stated = split_line(line, f"{source}:{number}")
        actual = sha256(body)
        if actual != stated:
            raise LogError(
                f"{source}:{number}: event does not match its hash "
                f"(stated {stated[:12]}, actual {actual[:12]}): the line was altered"
            )
        at = body.rfind(b'"seq":')
        match = _SEQ.match(body, at) if at >= 0 else None
        seq = int(match.group(1)) if match else None
        if seq != count + 1:
            raise LogError(
                f"{source}:{number}: seq {seq} where {count + 1} was expected: "
                "an event is missing, duplicated or out of order"
            )
        at = body.rfind(b'"prev":"')
        linked = body[at + 8 : at + 72].decode("ascii", "replace") if at >= 0 else None
        if linked != prev:
            raise LogError(
                f"{source}:{number}: prev {str(linked)[:12]} does not match the "
                f"hash of the event before it ({prev[:12]}): the chain is broken here"
            )
        prev = actual
        count += 1
    return Verified(count, prev)


def parse_event(body: bytes, where: str) -> dict[str, Any]:
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise LogError(f"{where}: event is not valid JSON") from None
    if not isinstance(event, dict):
        raise LogError(f"{where}: event is not a JSON object")
    return event


def read_export(path: str) -> Iterator[dict[str, Any]]:
    """The events of an exported log, in order, after verifying the whole chain."""
    with open(path, "rb") as f:
        verify_lines(f, path)
    with open(path, "rb") as f:
        for number, line in enumerate(f, start=1):
            where = f"{path}:{number}"
            yield parse_event(split_line(line, where)[0], where)


def _excerpt(line: bytes) -> str:
    text = line[:40].decode("utf-8", "replace")
    return text + ("..." if len(line) > 40 else "")
