"""`ranking` and `status` at 80 and 120 columns: names wrap but are never cut, every score,
state and margin is printed whole, no line is wider than the terminal, and what was left out
is named."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from rich.cells import cell_len
from rich.console import Console

from awards.cli import main
from awards.commands.demo import DemoResult
from awards.commands.results import Ranking, Row
from awards.rules.formatting import margin
from awards.terminal import print_ranking


def run(width: int, *args: str) -> str:
    result = CliRunner(env={"COLUMNS": str(width)}).invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def name_column(output: str) -> str:
    """The text of the table's `name` column, joined across its wrapped lines."""
    header = next(line for line in output.splitlines() if line.startswith("┃"))
    index = [c.strip() for c in header.split("┃")].index("name")
    rows = [line.split("│") for line in output.splitlines() if line.startswith("│")]
    return "".join(cells[index].strip() for cells in rows)


@pytest.mark.parametrize("width", [80, 120])
def test_ranking_fits_the_terminal_and_cuts_nothing_that_matters(
    demo_cycle: DemoResult, width: int
):
    db = ["--db", demo_cycle.shown_database()]
    data = json.loads(run(300, *db, "ranking", "top-department", "--json"))
    shown = run(width, *db, "ranking", "top-department")

    assert max(cell_len(line) for line in shown.splitlines()) <= width
    assert "…" not in shown
    names = name_column(shown).replace(" ", "")
    for row in data["rows"]:
        assert row["name_th"].replace(" ", "") in names
    rows = [
        line for line in shown.splitlines() if line.startswith("│") and line.split("│")[1].strip()
    ]
    assert len(rows) == len(data["rows"])
    for line, row in zip(rows, data["rows"], strict=True):
        cells = [c.strip() for c in line.split("│")]
        assert cells[1] == str(row["rank"])
        expected = margin(None if row["margin"] is None else Decimal(row["margin"]), missing="-")
        assert {row["score"], row["state"], expected} <= set(cells), line
    assert "Not shown at" in shown and "--wide" in shown


def test_ranking_wide_shows_every_column(demo_cycle: DemoResult):
    db = ["--db", demo_cycle.shown_database()]
    shown = run(80, *db, "ranking", "top-department", "--limit", "3", "--wide")
    header = next(line for line in shown.splitlines() if "rank" in line)
    for name in ("nomination", "policy", "technology", "decided by", "verdicts", "min-max"):
        assert name in header
    assert "Not shown" not in shown and "…" not in shown


def test_status_at_80_columns_cuts_no_figure(demo_cycle: DemoResult):
    db = ["--db", demo_cycle.shown_database()]
    data = json.loads(run(300, *db, "status", "--json"))
    shown = run(80, *db, "status")

    assert max(cell_len(line) for line in shown.splitlines()) <= 80
    assert "…" not in shown
    for level in data["national"].values():
        for value in (*level["dimensions"].values(), level["weighted"]):
            assert f" {value} " in shown
        assert f"{level['responded']}/{level['surveyed']}" in shown
    for counts in data["awards"].values():
        for state, count in counts.items():
            assert f" {state} " in shown and f" {count} " in shown


def test_thai_names_with_marks_above_and_below_keep_the_table_aligned():
    # Tone marks and vowels above/below take no cell: a border counted per code point would
    # be pushed out of line, one per mark.
    names = ["กรมป่าไม้และสัตว์ป่า", "สำนักงานปลัดกระทรวงการอุดมศึกษา วิทยาศาสตร์ วิจัยและนวัตกรรม",
             "กรมน้ำบาดาล"]  # fmt: skip
    rows = [Row(rank=i, nomination=f"a:N{i}", nominee_id=f"N{i}", name_th=n, name_en="",
                score=Decimal("60.00"), scores={}, members=1, state="awarded",
                margin=None, decided_by="score", approvals=0, rejections=0)
            for i, n in enumerate(names, start=1)]  # fmt: skip
    r = Ranking(cycle="c", award="a", title_en="A", title_th="ก", cut="top 3",
                cut_score=None, dimensions=(), rows=rows)  # fmt: skip
    console = Console(width=60, highlight=False)
    with console.capture() as captured:
        print_ranking(console, r)
    lines = captured.get().splitlines()
    table = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert {cell_len(line) for line in table} == {cell_len(table[0])}
    assert cell_len(table[0]) <= 60
    joined = name_column("\n".join(table)).replace(" ", "")
    for name in names:
        assert name.replace(" ", "") in joined
