"""What the terminal prints is the data as written: names holding rich markup neither crash
the tables nor change how they print."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from awards.cli import main

from support import WORKFLOW, agency_line, small_survey

# A closing tag with no opening one (rich raises MarkupError on it), valid markup that rich
# would apply and drop, and an emoji code that rich would replace.
BROKEN = "กรมทดสอบ[/x]"
STYLED = "[bold red]กรมแดง[/bold red]"
EMOJI = "กรม:smile:ยิ้ม"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "300"}).invoke(
        main, ["--actor", "tester", *args], catch_exceptions=False
    )
    return result.exit_code, result.output


def test_names_with_markup_print_as_written_in_ranking_reviewers_and_log(tmp_path: Path):
    survey = small_survey(tmp_path / "survey.csv")
    lines = survey.read_text(encoding="utf-8").splitlines()
    marked = [
        agency_line("D900", BROKEN, ("99",) * 6),
        agency_line("D901", STYLED, ("98",) * 6),
        agency_line("D902", EMOJI, ("97",) * 6),
    ]
    survey.write_text("\n".join([*lines, *marked]) + "\n", encoding="utf-8")
    db = ["--db", f"sqlite:///{tmp_path / 'awards.db'}"]
    assert run(*db, "init", str(WORKFLOW))[0] == 0
    assert run(*db, "import", str(survey))[0] == 0
    assert run(*db, "advance")[0] == 0
    assert run(*db, "reviewers", "add", "k1", "--name", f"{STYLED} [/]")[0] == 0
    reason = "[link=https://example.org]click[/link] [/x]"
    assert run(*db, "withdraw", "top-department:D902", "--reason", reason)[0] == 0

    ranking = run(*db, "ranking", "top-department")
    reviewers = run(*db, "reviewers", "list")
    history = run(*db, "log", "--nominee", "D902")
    everything = run(*db, "log")

    assert [code for code, _ in (ranking, reviewers, history, everything)] == [0, 0, 0, 0]
    assert BROKEN in ranking[1] and STYLED in ranking[1] and EMOJI in ranking[1]
    assert f"{STYLED} [/]" in reviewers[1]
    assert reason in history[1]
    assert f"{STYLED} [/]" in everything[1]
