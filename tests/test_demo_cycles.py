"""The cycles `awards demo --cycle` offers: each is shipped and packaged, and its synthetic
survey runs through its rules (a cycle that reads an earlier one after that one)."""

from __future__ import annotations

from pathlib import Path

import click

from awards.cli import main
from awards.commands import demo
from awards.commands.advance import advance
from awards.commands.audit import audit
from awards.paths import shipped_workflow
from awards.store.cycles import import_survey, init_cycle


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
