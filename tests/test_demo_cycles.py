"""The cycles `awards demo --cycle` offers: each is shipped and packaged, and its synthetic
survey runs through its rules (a cycle that reads an earlier one after that one)."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
from click.testing import CliRunner

from awards.cli import main
from awards.commands import demo
from awards.commands.advance import advance
from awards.commands.audit import audit
from awards.paths import shipped_workflow
from awards.store.cycles import import_survey, init_cycle

from forgery import events_of


def test_demo_offers_exactly_the_cycles_it_can_run():
    option = next(p for p in main.commands["demo"].params if p.name == "cycle")
    assert isinstance(option.type, click.Choice)
    assert list(option.type.choices) == list(demo.SURVEYS)
    assert set(demo.EARLIER) <= set(demo.SURVEYS)
    assert set(demo.EARLIER.values()) <= set(demo.SURVEYS)


def test_every_demo_cycle_runs_on_its_synthetic_survey(db_url, tmp_path: Path):
    small = {"departments": 30, "provincial": 120}
    order = [c for c in demo.SURVEYS if c not in demo.EARLIER.values()]
    order = [*demo.EARLIER.values(), *order]  # a cycle read by another goes first
    for cycle in order:
        name, generate = demo.SURVEYS[cycle]
        survey = tmp_path / name
        generate(survey, seed=7, **small)
        init_cycle(shipped_workflow(cycle), url=db_url, actor="s")
        imported = import_survey(survey, url=db_url, cycle=cycle, actor="s")
        assert imported.nominations and all(n >= 0 for n in imported.nominations.values())
        ran = advance(url=db_url, cycle=cycle, actor="s")
        assert ran.stages, cycle
    assert audit(url=db_url).clean


def test_demo_of_2023_runs_2022_first_and_each_cycle_replays_from_its_own_log(
    tmp_path: Path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    result = demo.run(tmp_path / "demo", cycle="dga-2023")
    commands = result.commands()
    assert list(commands) == ["replay dga-2022", "replay", "verify"]
    assert commands["replay dga-2022"] == (
        "awards replay demo/decision-log-dga-2022.jsonl --workflow demo/dga-2022.toml "
        "--survey demo/survey-2022.csv"
    )
    runner = CliRunner(env={"COLUMNS": "200"})
    for name in ("replay dga-2022", "replay"):
        args = shlex.split(commands[name])[1:]
        replayed = runner.invoke(main, args)
        assert replayed.exit_code == 0, replayed.output
        assert replayed.output.startswith(f"{args[1]}: ok: "), replayed.output
    facts = [
        e for e in events_of(result.log) if e["kind"] == "earlier_facts"
    ]  # the 2023 log carries the facts it took from 2022, once
    assert [(f["earlier"], f["earlier_seq"]) for f in facts] == [
        ("dga-2022", result.earlier[0].verified.events)
    ]
    assert audit(url=result.database).clean
    improved = result.winners["most-improved"]
    assert len([r for r in improved.rows if r.state == "awarded"]) == 5
    assert improved.excluded and all("dga-2022" in x.reason for x in improved.excluded)
    sat_out = result.winners["top-department"].excluded
    assert len(sat_out) == 10 and {x.reason for x in sat_out} == {
        "sits out: won top-department in dga-2022"
    }
