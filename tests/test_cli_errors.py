"""One error boundary: every command, given a database it cannot use or a folder it cannot
write, says so in one line with exit code 1, never with a traceback."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from awards.cli import main

from support import small_survey

POSTGRES = os.environ.get("AWARDS_TEST_POSTGRES_URL")
# The commands that never open a database, whatever --db says.
NO_DATABASE = {"check", "workflows", "workflows list", "workflows copy", "replay", "keys generate"}
# The commands that make the database when it does not exist yet.
CREATING = {"init", "demo"}


def every_command() -> list[str]:
    """Every command of the command line by its words, groups that run on their own too."""
    found = []

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            words = (*prefix, name)
            if not isinstance(command, click.Group) or command.invoke_without_command:
                found.append(" ".join(words))
            if isinstance(command, click.Group):
                walk(command, words)

    walk(main, ())
    return sorted(found)


def arguments(folder: Path, out: Path) -> dict[str, list[str]]:
    """Minimal valid arguments of each command: inputs in `folder`, outputs under `out`."""
    survey = folder / "survey.csv"
    if not survey.exists():
        small_survey(survey)
    nomination = "top-department:D001"
    return {
        "init": ["dga-2019"],
        "check": [str(out / "workflow.toml")],
        "workflows": [],
        "workflows list": [],
        "workflows copy": ["dga-2019", str(out / "dga-2019.toml")],
        "import": [str(survey)],
        "advance": [],
        "review": [nomination, "--approve", "--reviewer", "a"],
        "reviewers add": ["a", "--name", "A"],
        "reviewers list": [],
        "assign": ["top-department", "--per-nomination", "3"],
        "recuse": [nomination, "--reviewer", "a", "--reason", "family"],
        "withdraw": [nomination, "--reason", "merged"],
        "revoke": [nomination, "--reason", "false answers"],
        "status": [],
        "ranking": ["top-department"],
        "log": [],
        "log export": [str(out / "decision-log.jsonl")],
        "log verify": [],
        "demo": [str(out / "demo")],
        "render": ["--out", str(out / "certificates")],
        "report": ["--out", str(out / "report.html")],
        "verify": ["ABCD-EFGH-JKMN-PQRS"],
        "replay": [str(out / "log.jsonl"), "--workflow", "dga-2019", "--survey", str(survey)],
        "audit": [],
        "db current": [],
        "db upgrade": [],
        "keys generate": [str(out / "committee.key")],
        "checkpoint verify": [],
        "checkpoint write": [],
        "prove": [nomination],
    }


def run(*args: str) -> click.testing.Result:
    # catch_exceptions=False: an exception the boundary lets through fails the test with
    # its traceback, which is exactly what the user would have seen.
    return CliRunner().invoke(main, ["--actor", "tester", *args], catch_exceptions=False)


def test_every_command_has_minimal_arguments(tmp_path: Path):
    assert sorted(arguments(tmp_path, tmp_path)) == every_command()


def failures(url: str, folder: Path, skip: set[str]) -> dict[str, tuple[int, str]]:
    """Each command's exit code and output against the database at `url`."""
    out = {}
    for command, args in arguments(folder, folder).items():
        if command in NO_DATABASE or command in skip:
            continue
        result = run("--db", url, *command.split(), *args)
        out[command] = (result.exit_code, result.output)
    return out


def test_every_command_on_a_missing_sqlite_database(tmp_path: Path):
    missing = tmp_path / "nowhere.db"
    said = (
        f"Error: no database at {missing}; run `awards init WORKFLOW` first (or pass --db / "
        "set AWARDS_DATABASE_URL)\n"
    )

    got = failures(f"sqlite:///{missing}", tmp_path, CREATING)

    assert got == {command: (1, said) for command in got}
    assert not missing.exists()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        (
            "not a url",
            "Error: 'not a url' is not a database URL; write sqlite:///FILE or "
            "postgresql+psycopg://USER@HOST:PORT/DATABASE (--db or AWARDS_DATABASE_URL)\n",
        ),
        (
            "bogus://host/awards",
            "Error: cannot use the database URL bogus://host/awards (Can't load plugin: "
            "sqlalchemy.dialects:bogus); write sqlite:///FILE or "
            "postgresql+psycopg://USER@HOST:PORT/DATABASE (--db or AWARDS_DATABASE_URL)\n",
        ),
    ],
)
def test_every_command_on_a_bad_url(tmp_path: Path, url: str, said: str):
    got = failures(url, tmp_path, set())

    assert got == {command: (1, said) for command in got}


def test_every_command_on_a_wrong_postgresql_port(tmp_path: Path):
    url = "postgresql+psycopg://postgres@127.0.0.1:1/awards"

    got = failures(url, tmp_path, set())

    for command, (code, output) in got.items():
        assert (code, output.count("\n")) == (1, 1), (command, output)
        assert output.startswith(f"Error: cannot open the database {url}: "), (command, output)
        assert output.endswith("; check --db or AWARDS_DATABASE_URL\n"), (command, output)
        assert "port 1 failed: Connection refused" in output, (command, output)
    assert not (tmp_path / "demo").exists()


@pytest.mark.skipif(not POSTGRES, reason="AWARDS_TEST_POSTGRES_URL is not set")
def test_every_command_on_a_postgresql_database_that_does_not_exist(tmp_path: Path):
    assert POSTGRES is not None
    name = f"awards_missing_{uuid.uuid4().hex[:8]}"
    url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    shown = make_url(url).render_as_string(hide_password=True)

    got = failures(url, tmp_path, set())

    for command, (code, output) in got.items():
        assert (code, output.count("\n")) == (1, 1), (command, output)
        assert output.startswith(f"Error: cannot open the database {shown}: "), (command, output)
        assert f'database "{name}" does not exist; check --db' in output, (command, output)


@pytest.fixture
def unwritable(tmp_path: Path) -> Path:
    """A folder nobody may create files in. Root may write anywhere it has permission bits
    for, so as root it is /sys, where not even root can create a file."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def test_every_command_writing_into_an_unwritable_folder(
    tmp_path: Path, unwritable: Path, demo_copy: Path
):
    database = f"sqlite:///{demo_copy / 'awards.db'}"
    args = arguments(tmp_path, unwritable)
    writers = ("log export", "render", "report", "keys generate", "workflows copy")
    got = {}
    for command in writers:
        got[command] = run("--db", database, *command.split(), *args[command])
    # Nor can the demo's folder or a database be made there.
    got["demo"] = run("demo", *args["demo"])
    got["init"] = run("--db", f"sqlite:///{unwritable / 'awards.db'}", "init", "dga-2019")

    for command, result in got.items():
        assert (result.exit_code, result.output.count("\n")) == (1, 1), (command, result.output)
        assert result.output.startswith("Error: "), (command, result.output)
        assert str(unwritable) in result.output, (command, result.output)
    assert got["keys generate"].output.startswith("Error: Permission denied: ")
    assert got["init"].output == (
        f"Error: cannot open the database {unwritable / 'awards.db'}: unable to open database "
        "file; check --db or AWARDS_DATABASE_URL\n"
    )
