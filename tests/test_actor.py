"""`--actor` is who acted, recorded on every event every command logs; the reviewer whose
verdict or recusal it is stays in its own field."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from awards.cli import main

from support import WORKFLOW, small_survey

ACTOR = "เลขานุการ (secretary)"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--actor", ACTOR, *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_every_logged_event_records_the_actor_and_keeps_the_reviewer(tmp_path: Path):
    db = ["--db", f"sqlite:///{tmp_path / 'awards.db'}"]
    survey = small_survey(tmp_path / "survey.csv")
    sheet = tmp_path / "verdicts.csv"
    steps = [
        ["init", str(WORKFLOW)],
        ["import", str(survey)],
        ["advance"],
        *[["reviewers", "add", r, "--name", f"Reviewer {r}"] for r in ("k1", "k2", "k3")],
        ["assign", "top-department", "--per-nomination", "3"],
        ["review", "top-department:D029", "--approve", "--reviewer", "k1"],
        ["reviewers", "add", "k4", "--name", "Reviewer k4"],
        ["recuse", "top-department:D029", "--reviewer", "k2", "--reason", "a former employee"],
        ["review", "--from", str(sheet)],
        ["withdraw", "top-department:D028", "--reason", "merged"],
        ["advance", "--award", "top-province"],
        ["render", "--award", "top-province", "--out", str(tmp_path / "certificates")],
        ["revoke", "top-province:" + "", "--reason", "false answers"],
    ]
    for step in steps:
        if step[:2] == ["review", "--from"]:
            sheet.write_text(
                "nomination,reviewer,verdict\ntop-department:D029,k3,reject\n", encoding="utf-8"
            )
        if step[0] == "revoke":
            ranking = json.loads(run(*db, "ranking", "top-province", "--json")[1])
            step[1] += ranking["rows"][0]["nominee_id"]
        code, out = run(*db, *step)
        assert code == 0, (step, out)

    code, out = run(*db, "log", "--json")
    logged = [json.loads(line) for line in out.splitlines()]

    assert code == 0
    assert {e["kind"] for e in logged} >= {
        "cycle_opened", "survey_imported", "transition", "reviewer_added", "assigned",
        "verdict", "recused", "checkpoint", "certificate_rendered",
    }  # fmt: skip
    assert {e["actor"] for e in logged} == {ACTOR}
    verdicts = [(e["reviewer"], e["verdict"]) for e in logged if e["kind"] == "verdict"]
    assert verdicts == [("k1", "approve"), ("k3", "reject")]
    recused = [(e["reviewer"], e["replacement"]) for e in logged if e["kind"] == "recused"]
    assert recused == [("k2", "k4")]
    sheet_verdict = next(e for e in logged if e["kind"] == "verdict" and e["reviewer"] == "k3")
    assert sheet_verdict["source"]["imported_by"] == ACTOR
