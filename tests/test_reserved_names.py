"""A workflow's names cannot collide with the log's own fields or the columns the engine
reads, and no key or value inside an event can be taken for its `seq` or `prev`."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from awards.cli import main
from awards.errors import LogError
from awards.log import events
from awards.log.chain import GENESIS, export_line, seal_many, verify_file, verify_lines
from awards.log.fields import event_fields
from awards.rules.workflow import DEFAULT_COLUMNS, VERDICT_COLUMNS, VERDICT_NOTE
from awards.rules.workflow_checker import EVENT_FIELDS, reserved_names

from support import WORKFLOW


def run(*args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "240"}).invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def workflow_with(tmp_path: Path, old: str, new: str) -> Path:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "w.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


RESERVED = ", ".join(sorted(reserved_names()))


def test_check_refuses_a_dimension_named_like_an_event_field(tmp_path: Path):
    path = workflow_with(tmp_path, 'key = "technology"', 'key = "prev"')
    line = line_of(path, 'key = "prev"')

    assert run("check", str(path)) == (
        1,
        f"Error: {path}:{line}: dimensions[5].key: dimension key 'prev' is a reserved name; "
        f"use a different name. Reserved: {RESERVED} (value: 'prev')\n",
    )


def test_check_refuses_a_flag_named_like_a_verdict_sheet_column(tmp_path: Path):
    # A verdict sheet's "note" column would be read as the flag's adjusted score.
    path = workflow_with(tmp_path, 'flags = ["copy_free"]', 'flags = ["copy_free", "note"]')

    code, out = run("check", str(path))

    assert (code, out) == (
        1,
        f"Error: {path}:{line_of(path, 'flags = ')}: survey.flags[1]: flag 'note' is a "
        f"reserved name; use a different name. Reserved: {RESERVED} (value: 'note')\n",
    )


def test_reserved_names_are_the_columns_and_every_event_field():
    columns = {*DEFAULT_COLUMNS, *VERDICT_COLUMNS, VERDICT_NOTE, "id", "score", "weighted"}

    assert reserved_names() == columns | event_fields()
    assert event_fields() == EVENT_FIELDS  # the rules' copy is the catalogue's own list
    assert {"schema_version", "seq", "prev", "scores", "evidence", "previous"} <= event_fields()


def test_reserved_names_cover_every_key_of_a_whole_cycle_log(demo_cycle):
    keys: set[str] = set()
    for line in demo_cycle.log.read_bytes().splitlines():
        keys |= orjson.loads(line)["event"].keys()

    assert keys - event_fields() == set()


def hostile_log(tmp_path: Path) -> Path:
    """A log whose verdicts carry nested keys named seq and prev, before and after the
    event's own, and a note that spells them out."""
    at = "2019-11-28T10:00:00+07:00"

    def verdict(i: int, scores: dict[str, str]) -> dict[str, object]:
        return events.verdict(
            cycle="dga-2019", award="top-department", nominee=f"D{i:03d}", reviewer="r1", round=1,
            verdict="approve", scores=scores, note='"prev":"' + "0" * 64 + '","seq":1}',
            previous={"verdict": "reject", "scores": {"prev": "40", "seq": "7"}, "note": ""},
            source={}, actor="r1", at=at,
        )  # fmt: skip

    fields = [verdict(i, {"prev": "50", "seq": "99", "services": "72.5"}) for i in range(40)]
    fields.insert(1, events.checkpoint(
        cycle="dga-2019", actor="a", at=at, size=1, root="0" * 64, head="0" * 64,
        frontier=[], public_key=None, signature=None,
    ))  # fmt: skip
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"".join(export_line(s.body, s.hash) for s in seal_many(fields, 0, GENESIS)))
    return path


def test_nested_seq_and_prev_keys_are_not_taken_for_the_events_own(tmp_path: Path):
    path = hostile_log(tmp_path)
    head = orjson.loads(path.read_bytes().splitlines()[-1])["hash"]

    assert run("log", "verify", str(path)) == (
        0,
        f"{path}: ok: 41 events, chain intact; head {head}\n"
        f"{path}: checkpoints not checked against a trusted key: anyone who rewrites the log"
        " can sign it again; pass --public-key with the committee's public key\n",
    )
    assert verify_file(str(path), workers=2, parallel_from=0).events == 41  # in chunks


def test_an_altered_prev_is_still_found_behind_nested_keys(tmp_path: Path):
    lines = hostile_log(tmp_path).read_bytes().splitlines(keepends=True)
    # Re-seal line 3 onto a wrong predecessor: its own hash is right, only the link is not.
    event = orjson.loads(lines[2])["event"]
    fields = {k: v for k, v in event.items() if k not in ("schema_version", "seq", "prev")}
    (sealed,) = seal_many([fields], 2, "f" * 64)
    lines[2] = export_line(sealed.body, sealed.hash)

    with pytest.raises(LogError) as raised:
        verify_lines(lines)

    assert str(raised.value) == (
        f"log:3: prev ffffffffffff does not match the hash of the event before it "
        f"({orjson.loads(lines[1])['hash'][:12]}): the chain is broken here"
    )
