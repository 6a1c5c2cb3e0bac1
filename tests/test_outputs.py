"""Output paths never clobber inputs: the demo keeps out of folders it did not make, and
`log export`, `report` and `render` never write over the database, the workflow, the survey
or a key."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from awards.cli import main

from support import WORKFLOW, small_survey


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--actor", "tester", *args], catch_exceptions=False)
    return result.exit_code, result.output


def digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the SHA-256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))  # SQLite's own, while open
    }


@pytest.fixture
def cycle_folder(tmp_path: Path) -> Path:
    """A committee's real folder: its database, workflow, survey and key pair."""
    folder = tmp_path / "cycle"
    folder.mkdir()
    shutil.copyfile(WORKFLOW, folder / "dga-2019.toml")
    small_survey(folder / "survey.csv")
    db = f"sqlite:///{folder / 'awards.db'}"
    assert run("--db", db, "init", str(folder / "dga-2019.toml"))[0] == 0
    assert run("--db", db, "import", str(folder / "survey.csv"))[0] == 0
    assert run("keys", "generate", str(folder / "committee.key"))[0] == 0
    return folder


def test_demo_refuses_a_folder_holding_a_cycle_and_its_key(cycle_folder: Path):
    before = digest(cycle_folder)

    code, out = run("demo", str(cycle_folder))

    assert (code, out) == (
        1,
        f"Error: {cycle_folder} holds files `awards demo` did not make (awards.db, "
        "committee.key, committee.key.pub, dga-2019.toml and 1 more); give the demo a new or "
        "empty folder, e.g. `awards demo awards-demo`\n",
    )
    assert digest(cycle_folder) == before


def test_demo_refuses_a_database_that_holds_a_cycle(cycle_folder: Path, tmp_path: Path):
    before = digest(cycle_folder)
    db = f"sqlite:///{cycle_folder / 'awards.db'}"

    code, out = run("--db", db, "demo", str(tmp_path / "new-demo"))

    assert (code, out) == (
        1,
        f"Error: the database {cycle_folder / 'awards.db'} already holds cycle dga-2019; give "
        "`awards demo` a database of its own (a new SQLite file or an empty PostgreSQL "
        "database), or leave out --db\n",
    )
    assert digest(cycle_folder) == before
    assert not (tmp_path / "new-demo").exists()


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("awards.db", "the database"),
        ("awards.db-wal", "the database"),
        ("dga-2019.toml", "the workflow file of cycle dga-2019"),
        ("survey.csv", "a survey file of cycle dga-2019"),
        ("committee.key", "a key"),
        ("committee.key.pub", "a key"),
    ],
)
def test_log_export_and_report_refuse_to_overwrite_an_input(
    cycle_folder: Path, name: str, what: str
):
    before = digest(cycle_folder)
    db = f"sqlite:///{cycle_folder / 'awards.db'}"
    target = str(cycle_folder / name)

    exported = run("--db", db, "log", "export", target)
    reported = run("--db", db, "report", "--out", target)

    refused = f"Error: {target} is {what}; refusing to write the %s over it (nothing was written): choose another file name\n"  # fmt: skip
    assert (exported, reported) == ((1, refused % "log"), (1, refused % "report"))
    assert digest(cycle_folder) == before


def test_log_export_refuses_any_sqlite_database_and_a_link_to_one(cycle_folder: Path):
    db = f"sqlite:///{cycle_folder / 'awards.db'}"
    other = cycle_folder.parent / "other.db"
    shutil.copyfile(cycle_folder / "awards.db", other)
    link = cycle_folder.parent / "log.jsonl"
    link.symlink_to(cycle_folder / "awards.db")

    assert run("--db", db, "log", "export", str(other)) == (
        1,
        f"Error: {other} is a SQLite database; refusing to write the log over it (nothing was written): choose another file name\n",
    )
    assert run("--db", db, "log", "export", str(link)) == (
        1,
        f"Error: {link} is the database; refusing to write the log over it (nothing was written): choose another file name\n",
    )
    assert other.read_bytes() == (cycle_folder / "awards.db").read_bytes()


def test_log_export_writes_over_an_earlier_export(cycle_folder: Path):
    db = f"sqlite:///{cycle_folder / 'awards.db'}"
    target = cycle_folder / "decision-log.jsonl"
    target.write_text("an earlier export\n", encoding="utf-8")

    code, out = run("--db", db, "log", "export", str(target))

    assert (code, out.split(":")[0]) == (0, str(target))
    assert target.read_text(encoding="utf-8").startswith('{"event":')


def test_report_out_pdf_with_pdf_writes_two_distinct_files(cycle_folder: Path, tmp_path: Path):
    db = f"sqlite:///{cycle_folder / 'awards.db'}"
    out = tmp_path / "x.pdf"

    code, said = run("--db", db, "report", "--out", str(out), "--pdf")

    assert code == 0, said
    lines = said.splitlines()
    assert lines[0].startswith(f"{tmp_path / 'x.html'}: report of cycle dga-2019 ")
    assert lines[1].startswith(f"{out}: the same as PDF, ")
    assert (tmp_path / "x.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert out.read_bytes().startswith(b"%PDF-")


def test_render_refuses_to_write_a_certificate_over_the_database(demo_copy: Path):
    db = f"sqlite:///{demo_copy / 'awards.db'}"
    certificates = demo_copy / "certificates"
    first = sorted(certificates.glob("DGA-*.pdf"))[0]
    first.unlink()
    first.symlink_to(demo_copy / "awards.db")  # the planned file is the database
    before = hashlib.sha256((demo_copy / "awards.db").read_bytes()).hexdigest()

    code, out = run("--db", db, "render", "--out", str(certificates))

    assert (code, out) == (
        1,
        f"Error: {first} is the database; refusing to write the certificate over it (nothing was written): choose another file name\n",
    )
    assert hashlib.sha256((demo_copy / "awards.db").read_bytes()).hexdigest() == before
