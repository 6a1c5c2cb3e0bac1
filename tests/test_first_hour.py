"""The first hour after `pip install`: shipped workflows by name, the demo on the database
given to it with its files in one folder and the auditor's commands printed ready to paste,
and logs that name files and never a machine's paths."""

from __future__ import annotations

import json
import shlex
import tomllib
from pathlib import Path

import orjson
from click.testing import CliRunner

from awards.cli import main
from awards.commands import demo
from awards.log.chain import GENESIS, canonical, export_line, sha256
from awards.log.events import SCHEMA_VERSION
from awards.log.replay import replay
from awards.paths import shipped_workflow

from support import WORKFLOW, open_cycle


def run(*args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        main, ["--actor", "tester", *args], catch_exceptions=False
    )
    return result.exit_code, result.output


def test_init_takes_a_shipped_workflow_by_name(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no workflows/ folder here: only the installed package's

    opened = run("init", "dga-2019")
    checked = run("check", "dga-2019")
    unknown = run("init", "dga-2031")

    assert opened == (0, "cycle dga-2019 opened (sqlite:///awards.db)\n")
    assert checked == (0, "dga-2019: ok: cycle dga-2019, 3 awards (top-department, top-province, copy-free)\n")  # fmt: skip
    assert unknown == (
        1,
        "Error: no workflow file 'dga-2031' here, and awards ships no workflow of that name "
        "(shipped: dga-2019, dga-2020, dga-2022, dga-2023; `awards workflows` lists them)\n",
    )


def test_workflows_lists_the_shipped_ones_with_title_and_year():
    listed = (
        0,
        "dga-2019  2019 (พ.ศ. 2562)  Digital Government Awards 2019 / รางวัลรัฐบาลดิจิทัล "
        "ประจำปี พ.ศ. ๒๕๖๒  awards: top-department, top-province, copy-free\n"
        "dga-2020  2020 (พ.ศ. 2563)  Digital Government Awards 2020 (title unconfirmed) / "
        "รางวัลรัฐบาลดิจิทัล ประจำปี พ.ศ. ๒๕๖๓  awards: top-department, top-province, "
        "copy-free\n"
        "dga-2022  2022 (พ.ศ. 2565)  Digital Government Awards 2022 (illustrative) / "
        "รางวัลรัฐบาลดิจิทัล ประจำปี พ.ศ. ๒๕๖๕  awards: top-department, top-province, "
        "copy-free\n"
        "dga-2023  2023 (พ.ศ. 2566)  Digital Government Awards 2023 (illustrative) / "
        "รางวัลรัฐบาลดิจิทัล ประจำปี พ.ศ. ๒๕๖๖  awards: department-by-type, "
        "department-tiers, top-province, local-by-size, digital-personnel, popular-vote, "
        "copy-free, most-improved, top-department\n"
        "open one with `awards init NAME`; copy one to edit with `awards workflows copy NAME`\n",
    )

    assert run("workflows") == listed
    assert run("workflows", "list") == listed
    assert json.loads(run("workflows", "list", "--json")[1])[0]["year_be"] == 2562


def test_workflows_copy_writes_one_out_and_never_overwrites(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    first = run("workflows", "copy", "dga-2019")
    again = run("workflows", "copy", "dga-2019")
    into = run("workflows", "copy", "dga-2019.toml", str(tmp_path))
    unknown = run("workflows", "copy", "dga-1999", "x.toml")

    assert first == (
        0,
        "dga-2019.toml: a copy of the shipped dga-2019; edit it, then `awards check dga-2019.toml`\n",
    )
    assert (tmp_path / "dga-2019.toml").read_bytes() == shipped_workflow("dga-2019").read_bytes()
    refused = "Error: {} already exists; `awards workflows copy` never overwrites a file: give another DEST\n"  # fmt: skip
    assert again == (1, refused.format("dga-2019.toml"))
    assert into == (1, refused.format(tmp_path / "dga-2019.toml"))
    assert unknown == (
        1,
        "Error: awards ships no workflow 'dga-1999' (shipped: dga-2019, dga-2020, dga-2022, dga-2023)\n",
    )
    assert not (tmp_path / "x.toml").exists()


def test_demo_uses_the_database_given_and_prints_commands_that_work_when_pasted(
    db_url: str, tmp_path: Path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / demo.MARKER).write_text("an earlier demo\n", encoding="utf-8")
    (folder / "decision-log.jsonl").write_text("an earlier demo's log\n", encoding="utf-8")

    code, out = run("--db", db_url, "demo", "demo")

    assert code == 0, out
    assert sorted(p.name for p in folder.iterdir()) == [
        demo.MARKER, "certificates", "committee.key", "committee.key.pub", "decision-log.jsonl",
        "dga-2019.toml", "survey-2019.csv",
    ]  # fmt: skip
    # the shipped workflow, marked as a specimen and with a specimen signatory, nothing else
    copy, shipped = (
        tomllib.loads(p.read_text("utf-8")) for p in (folder / "dga-2019.toml", WORKFLOW)
    )
    assert copy["cycle"].pop("specimen") is True and "specimen" not in shipped["cycle"]
    assert copy["ceremony"] == shipped["ceremony"] | demo.SPECIMEN_SIGNATORY
    copy["ceremony"] = shipped["ceremony"]
    assert copy == shipped
    assert status_events(db_url) > 1900  # the cycle is in the database given
    pasted = [line.strip() for line in out.splitlines() if line.startswith("  awards ")]
    assert pasted[0] == (
        "awards replay demo/decision-log.jsonl --workflow demo/dga-2019.toml "
        "--survey demo/survey-2019.csv"
    )
    # The database as given: the test databases have no password to hide.
    assert shlex.split(pasted[1])[:4] == ["awards", "--db", db_url, "verify"]
    replayed = run(*shlex.split(pasted[0])[1:])
    verified = run(*shlex.split(pasted[1])[1:])
    assert replayed[0] == 0 and ": ok: " in replayed[1]
    assert verified[0] == 0 and verified[1].startswith("valid: DGA-2562-")


def status_events(url: str) -> int:
    code, out = run("--db", url, "status", "--json")
    assert code == 0, out
    return json.loads(out)["log"]["events"]


def test_the_log_names_files_never_their_folders(demo_cycle: demo.DemoResult):
    text = demo_cycle.log.read_text(encoding="utf-8")
    events = [json.loads(line)["event"] for line in text.splitlines()]

    opened = next(e for e in events if e["kind"] == "cycle_opened")
    imported = next(e for e in events if e["kind"] == "survey_imported")

    assert (opened["workflow_file"], opened["schema_version"]) == ("dga-2019.toml", SCHEMA_VERSION)
    assert (imported["survey_file"], imported["schema_version"]) == (
        "survey-2019.csv",
        SCHEMA_VERSION,
    )
    assert "workflow_path" not in opened and "survey_path" not in imported
    assert str(demo_cycle.directory.resolve().parent) not in text
    assert str(WORKFLOW.parent) not in text


def test_a_log_of_schema_version_2_with_paths_still_replays(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    survey = open_cycle(url, tmp_path)
    assert run("--db", url, "advance")[0] == 0
    log = tmp_path / "log.jsonl"
    assert run("--db", url, "log", "export", str(log))[0] == 0
    old = tmp_path / "old.jsonl"
    # As version 2 wrote it: paths where version 3 names files. Checkpoints are dropped, as
    # their roots fix the version 3 bytes.
    lines, prev = [], GENESIS
    for line in log.read_bytes().splitlines():
        event = orjson.loads(line)["event"]
        if event["kind"] == "checkpoint":
            continue
        if event["kind"] == "cycle_opened":
            event["workflow_path"] = str(WORKFLOW.resolve())
            del event["workflow_file"]
        if event["kind"] == "survey_imported":
            event["survey_path"] = str(survey.resolve())
            del event["survey_file"]
        event.update(schema_version=2, seq=len(lines) + 1, prev=prev)
        body = canonical(event)
        prev = sha256(body)
        lines.append(export_line(body, prev))
    old.write_bytes(b"".join(lines))

    replayed = replay(old, WORKFLOW, survey)

    assert replayed.summary().startswith(f"ok: {len(lines)} events, chain intact")
