"""The command line end to end: the demo, every command's output, errors verbatim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from awards.cli import main

from support import WORKFLOW, agency_line, small_survey, write_survey


def run(*args: str, db: str | None = None) -> tuple[int, str]:
    prefix = ["--db", db, "--actor", "tester"] if db else ["--actor", "tester"]
    # A wide terminal, so rich tables do not wrap the text the tests look for.
    result = CliRunner(env={"COLUMNS": "240"}).invoke(
        main, [*prefix, *args], catch_exceptions=False
    )
    return result.exit_code, result.output


@pytest.fixture
def opened(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    assert run("init", str(WORKFLOW), db=url)[0] == 0
    return url


def test_demo_runs_the_2019_cycle_and_verifies_its_log(tmp_path: Path):
    code, out = run("demo", str(tmp_path / "demo"))
    assert code == 0, out
    assert "10 awarded" in out and "5 awarded" in out and "60 awarded" in out
    assert "64.60" in out and "51.09" in out
    code, out = run("log", "verify", str(tmp_path / "demo" / "decision-log.jsonl"))
    assert code == 0
    assert out.startswith(f"{tmp_path / 'demo' / 'decision-log.jsonl'}: ok: ")


def test_demo_status_json_reports_counts_and_published_means(demo_cycle):
    code, out = run("status", "--json", db=demo_cycle.database)
    data = json.loads(out)
    assert code == 0
    assert data["awards"]["top-department"]["awarded"] == 10
    assert data["awards"]["top-province"] == {"awarded": 5, "eliminated": 71}
    assert (
        data["national"]["department"]["weighted"],
        data["national"]["provincial"]["weighted"],
    ) == ("64.60", "51.09")
    assert (
        data["national"]["department"]["responded"],
        data["national"]["department"]["surveyed"],
    ) == (301, 323)
    assert (
        data["national"]["provincial"]["responded"],
        data["national"]["provincial"]["surveyed"],
    ) == (1356, 1533)


def test_full_flow_through_the_commands(opened: str, tmp_path: Path):
    survey = small_survey(tmp_path / "survey.csv")
    code, out = run("import", str(survey), db=opened)
    assert (code, out.split(";")[1]) == (
        0,
        " nominations: top-department 30, top-province 6, copy-free 10\n",
    )
    code, out = run("advance", db=opened)
    assert code == 0
    assert out.splitlines()[:3] == [
        "top-department: shortlist: 10 eliminated, 20 shortlisted",
        "top-department: review: nothing moved",
        "  waiting: top-department:D029 has 0 of 3 verdicts; 3 more reviewer(s) to assign (`awards assign top-department`)",
    ]
    for rid, name in (("k1", "กรรมการ ก"), ("k2", "กรรมการ ข"), ("k3", "กรรมการ ค")):
        assert run(
            "reviewers", "add", rid, "--name", name, "--ministry", "กระทรวงมหาดไทย", db=opened
        ) == (
            0,
            f"reviewer {rid} ({name}) added\n",
        )
    code, out = run("assign", "top-department", "--per-nomination", "3", db=opened)
    assert (code, out) == (
        0,
        "top-department: 60 assignments (3 per nomination)\n  load: k1 20, k2 20, k3 20\n",
    )
    code, out = run(
        "review", "top-department:D029", "--approve", "--reviewer", "k1", "--score", "services=80",
        db=opened,
    )  # fmt: skip
    assert (code, out) == (0, "top-department:D029: k1 approves\n")
    code, out = run("advance", db=opened)
    assert (
        "  waiting: top-department:D029 has 1 of 3 verdicts; waiting for k2, k3" in out.splitlines()
    )
    code, out = run("withdraw", "top-department:D028", "--reason", "agency merged", db=opened)
    assert (code, out.split(" (event")[0]) == (0, "top-department:D028: shortlisted -> withdrawn")
    code, out = run("ranking", "top-department", "--json", db=opened)
    rows = json.loads(out)["rows"]
    assert (rows[0]["nominee_id"], rows[0]["state"], rows[0]["approvals"]) == (
        "D029",
        "shortlisted",
        1,
    )
    code, out = run("log", "--nominee", "D028", "--json", db=opened)
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["reviewer"] for e in events if e["kind"] == "assigned"] == ["k1", "k2", "k3"]
    assert [e["to"] for e in events if e["kind"] == "transition"] == [
        "surveyed",
        "shortlisted",
        "withdrawn",
    ]
    code, out = run("log", "export", str(tmp_path / "log.jsonl"), db=opened)
    assert code == 0
    assert run("log", "verify", db=opened)[1].startswith("database: ok: ")


def test_help_lists_every_command():
    code, out = run("--help")
    assert code == 0
    for command in (
        "init", "check", "import", "advance", "reviewers", "assign", "review", "recuse",
        "withdraw", "revoke", "status", "ranking", "log", "demo", "render", "verify", "replay",
        "audit", "keys", "checkpoint", "prove", "report", "db", "workflows",
    ):  # fmt: skip
        assert f"  {command} " in out


def test_every_command_has_help_and_appears_in_the_readme():
    from awards.cli import main as group

    readme = (WORKFLOW.parent.parent / "README.md").read_text(encoding="utf-8")
    missing = []
    for name, command in group.commands.items():
        subcommands = getattr(command, "commands", {})
        for full in [name] + [f"{name} {sub}" for sub in subcommands]:
            if f"awards {full}" not in readme:
                missing.append(full)
        assert command.help, f"`awards {name}` has no help text"
    assert missing == []


def line_of(text: str, needle: str, after: int = 0) -> int:
    """1-based number of the first line at or after line `after` containing `needle`."""
    lines = text.splitlines()
    return next(i for i in range(after, len(lines)) if needle in lines[i]) + 1


def test_check_reports_every_problem_and_exits_1(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    text = (
        WORKFLOW.read_text(encoding="utf-8")
        .replace("weight = 0.05", "wieght = 0.05")
        .replace("winners = { top = 5 }", "winners = { top = 9 }")
    )
    bad.write_text(text, encoding="utf-8")
    code, out = run("check", str(bad))
    header = line_of(text, 'key = "technology"') - 1
    assert code == 1
    assert out.splitlines() == [
        "Error: 3 problems:",
        f"{bad}:{header}: dimensions[5].weight: missing required key 'weight'; add it",
        f"{bad}:{line_of(text, 'wieght')}: dimensions[5].wieght: unknown key 'wieght'; did you mean 'weight'?",
        f"{bad}:{line_of(text, 'shortlist = { top = 5 }')}: awards[1].shortlist.top: shortlist keeps 5 but winners wants 9: the shortlist must keep at least as many as win (value: '5')",
    ]


def test_check_json_lists_problems(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        WORKFLOW.read_text(encoding="utf-8").replace(
            '"name_th", "id"]\nreason_th = "หน่วยงานที่สนับสนุน',
            '"name_th"]\nreason_th = "หน่วยงานที่สนับสนุน',
        ),
        encoding="utf-8",
    )
    code, out = run("check", "--json", str(bad))
    data = json.loads(out)
    assert (code, data["ok"], [p["column"] for p in data["problems"]]) == (
        1,
        False,
        ["awards[2].tie_break"],
    )


def test_check_accepts_the_shipped_workflow():
    assert run("check", str(WORKFLOW)) == (
        0,
        f"{WORKFLOW}: ok: cycle dga-2019, 3 awards (top-department, top-province, copy-free)\n",
    )


def test_import_error_is_located_and_nothing_is_written(opened: str, tmp_path: Path):
    bad = write_survey(
        tmp_path / "bad.csv", [agency_line("D1", "กรมหนึ่ง", ("50", "50", "104.5", "50", "50", "50"))]
    )
    code, out = run("import", str(bad), db=opened)
    assert (code, out) == (
        1,
        f"Error: {bad}:2: services: score must be between 0 and 100 (value: '104.5')\n",
    )
    assert json.loads(run("status", "--json", db=opened)[1])["log"]["events"] == 1


def test_commands_on_a_missing_database_say_what_to_do(tmp_path: Path):
    code, out = run("status", db=f"sqlite:///{tmp_path / 'none.db'}")
    assert (code, out) == (
        1,
        f"Error: no database at {tmp_path / 'none.db'}; run `awards init WORKFLOW` first (or pass --db / set AWARDS_DATABASE_URL)\n",
    )


def test_unknown_award_and_nomination_are_named(opened: str):
    assert run("ranking", "best", db=opened) == (
        1,
        "Error: no award 'best' in cycle dga-2019; awards: top-department, top-province, copy-free\n",
    )
    assert run("withdraw", "top-department:X", "--reason", "r", db=opened) == (
        1,
        "Error: no nomination 'top-department:X' in cycle dga-2019; `awards ranking top-department` lists them\n",
    )


def test_log_verify_names_the_first_bad_line(opened: str, tmp_path: Path):
    log = tmp_path / "log.jsonl"
    run("log", "export", str(log), db=opened)
    log.write_bytes(log.read_bytes().replace(b"dga-2019", b"dga-2020", 1))
    assert run("log", "verify", str(log)) == (
        1,
        f"Error: {log}:1: event does not match its hash "
        + out_hashes(log)
        + ": the line was altered\n",
    )


def out_hashes(log: Path) -> str:
    import hashlib

    from awards.log.chain import split_line

    body, stated = split_line(log.read_bytes().splitlines()[0], "x")
    return f"(stated {stated[:12]}, actual {hashlib.sha256(body).hexdigest()[:12]})"


def test_keys_advance_checkpoint_prove_and_audit_through_the_commands(opened: str, tmp_path: Path):
    run("import", str(small_survey(tmp_path / "survey.csv")), db=opened)
    key = tmp_path / "committee.key"
    assert run("keys", "generate", str(key))[0] == 0
    assert run("advance", "--award", "top-province", "--key", str(key), db=opened)[0] == 0
    code, out = run("checkpoint", "verify", "--public-key", f"{key}.pub", db=opened)
    assert (code, [line.rsplit(": ", 1)[1] for line in out.splitlines()]) == (
        0,
        ["ok, signed with the trusted key"] * 3
        + ["events 1-66 are covered by the checkpoint at event 67, signed with the trusted key"],
    )
    code, out = run("prove", "top-province:จันทบุรี", db=opened)
    (tmp_path / "proof.json").write_text(out, encoding="utf-8")
    code, out = run("prove", "--check", str(tmp_path / "proof.json"))
    signer = Path(f"{key}.pub").read_text().strip()
    assert (code, out.split(": ok: ")[1]) == (
        0,
        "event 66 of top-province:จันทบุรี is in the log of 66 events under a checkpoint signed "
        f"with key {signer[:16]} (not checked against a trusted key: --public-key)\n",
    )
    code, out = run("prove", "--check", str(tmp_path / "proof.json"), "--public-key", f"{key}.pub")
    assert (code, out.split(": ok: ")[1]) == (
        0,
        "event 66 of top-province:จันทบุรี is in the log of 66 events under a checkpoint signed "
        "with the trusted key\n",
    )
    code, out = run("audit", db=opened)
    assert (code, out) == (
        0,
        "67 events, chain intact; rows checked against the log: cycle 1, survey_import 1, "
        "agency 60, nomination 46, reviewer 0, assignment 0, verdict 0, certificate 0: no drift\n",
    )


def test_replay_command_says_what_it_verified_and_exits_1_on_divergence(
    opened: str, tmp_path: Path
):
    survey = small_survey(tmp_path / "survey.csv")
    run("import", str(survey), db=opened)
    run("advance", db=opened)
    run("log", "export", str(tmp_path / "log.jsonl"), db=opened)
    code, out = run(
        "replay", str(tmp_path / "log.jsonl"), "--workflow", str(WORKFLOW), "--survey", str(survey)
    )
    assert code == 0
    assert out.splitlines()[0].endswith(
        "rule decisions re-derived identically, 0 human decisions taken as input, 9 other events"
    )
    assert out.splitlines()[1] == (
        f"{tmp_path / 'log.jsonl'}: checkpoints not checked against a trusted key: anyone who "
        "rewrites the log can sign it again; pass --public-key with the committee's public key"
    )
    other = small_survey(tmp_path / "other.csv", departments=31)
    code, out = run(
        "replay",
        str(tmp_path / "log.jsonl"),
        "--workflow",
        str(WORKFLOW),
        "--survey",
        str(other),
        "--json",
    )
    assert (code, json.loads(out)["divergence"]["why"]) == (
        1,
        "the survey file is not the one the log names (SHA-256 differs)",
    )
