"""The decision log format: canonical bytes, the chain, and tampering located to the line."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest

from awards.errors import LogError
from awards.log import events as catalogue
from awards.log.chain import GENESIS, canonical, export_line, seal_many, verify_file, verify_lines


def withdrawal(i: int) -> dict:
    """A well-formed event, as the catalogue builds it."""
    return catalogue.transition(
        cycle="c", award="a", nominee=f"กรม{i}", source="surveyed", dest="withdrawn",
        trigger="withdraw", actor="s", at="2019-10-01T09:00:00+07:00", reason="ok", evidence={},
    )  # fmt: skip


def exported(n: int = 5) -> list[bytes]:
    events = [withdrawal(i) for i in range(n)]
    return [export_line(s.body, s.hash) for s in seal_many(events, 0, GENESIS)]


def test_canonical_sorts_keys_keeps_utf8_and_has_no_whitespace():
    assert canonical({"b": 1, "a": "ไทย", "c": {"z": None, "y": "1.50"}}) == (
        '{"a":"ไทย","b":1,"c":{"y":"1.50","z":null}}'.encode()
    )


def test_canonical_refuses_floats():
    with pytest.raises(TypeError):
        canonical({"score": 64.6})


def test_seal_many_chains_each_event_to_the_hash_of_the_one_before():
    sealed = seal_many([{"kind": "a"}, {"kind": "b"}], 0, GENESIS)
    assert [s.seq for s in sealed] == [1, 2]
    assert sealed[0].prev == GENESIS
    assert sealed[1].prev == sealed[0].hash == hashlib.sha256(sealed[0].body).hexdigest()


def test_verify_lines_accepts_an_intact_log_and_reports_its_head():
    lines = exported()
    result = verify_lines(lines)
    assert (result.events, result.head) == (5, lines[-1][-67:-3].decode())


@pytest.mark.parametrize("line", range(5))
def test_verify_lines_locates_a_flipped_byte_in_any_line(line):
    lines = exported()
    body = bytearray(lines[line])
    pos = body.index(b"ok")  # inside the event, outside the JSON structure
    body[pos] = ord("O")
    lines[line] = bytes(body)
    with pytest.raises(LogError) as err:
        verify_lines(lines)
    assert str(err.value).startswith(f"log:{line + 1}: event does not match its hash")


def test_verify_lines_locates_an_edit_whose_hash_was_recomputed():
    events = [withdrawal(i) for i in range(4)]
    sealed = seal_many(events, 0, GENESIS)
    forged = seal_many([withdrawal(99)], 1, sealed[0].hash)[0]
    lines = [export_line(s.body, s.hash) for s in sealed]
    lines[1] = export_line(forged.body, forged.hash)
    with pytest.raises(LogError) as err:
        verify_lines(lines)
    assert str(err.value).startswith("log:3: prev ")


def test_verify_lines_locates_a_dropped_line():
    lines = exported()
    del lines[2]
    with pytest.raises(LogError) as err:
        verify_lines(lines)
    assert str(err.value) == (
        "log:3: seq 4 where 3 was expected: an event is missing, duplicated or out of order"
    )


def test_verify_lines_locates_two_swapped_lines():
    lines = exported()
    lines[1], lines[3] = lines[3], lines[1]
    with pytest.raises(LogError) as err:
        verify_lines(lines)
    assert str(err.value).startswith("log:2: seq 4 where 2 was expected")


def test_verify_lines_rejects_a_line_that_is_not_a_log_line(tmp_path: Path):
    lines = exported(2)
    lines.insert(1, b'{"hello": "world"}\n')
    with pytest.raises(LogError) as err:
        verify_lines(lines)
    assert str(err.value) == 'log:2: not a decision log line ({"hello": "world"})'


def write_log(path: Path, lines: list[bytes]) -> str:
    path.write_bytes(b"".join(lines))
    return str(path)


@pytest.mark.parametrize("line", [1, 700, 701, 1400])
def test_verify_file_in_parallel_chunks_names_the_same_line_as_in_one_pass(tmp_path: Path, line):
    lines = exported(1400)
    lines[line - 1] = lines[line - 1].replace(b"ok", b"OK")
    path = write_log(tmp_path / "log.jsonl", lines)
    with pytest.raises(LogError) as one:
        verify_file(path, workers=1)
    with pytest.raises(LogError) as two:
        verify_file(path, workers=2, parallel_from=0)
    assert str(two.value) == str(one.value)
    assert str(two.value).startswith(f"{path}:{line}: event does not match its hash")


def test_verify_file_in_parallel_chunks_catches_a_line_dropped_at_a_chunk_boundary(tmp_path: Path):
    lines = exported(1400)
    path = write_log(tmp_path / "whole.jsonl", lines)
    # the second chunk starts at the line after the middle byte; drop exactly that line
    boundary = next(
        i
        for i, n in enumerate(itertools.accumulate(map(len, lines)))
        if n > Path(path).stat().st_size // 2
    )
    del lines[boundary + 1]
    path = write_log(tmp_path / "log.jsonl", lines)
    with pytest.raises(LogError) as err:
        verify_file(path, workers=2, parallel_from=0)
    assert str(err.value).startswith(
        f"{path}:{boundary + 2}: seq {boundary + 3} where {boundary + 2} was expected"
    )


def test_verify_file_in_parallel_chunks_accepts_an_intact_log(tmp_path: Path):
    lines = exported(1400)
    path = write_log(tmp_path / "log.jsonl", lines)
    assert verify_file(path, workers=2, parallel_from=0) == verify_file(path, workers=1)
