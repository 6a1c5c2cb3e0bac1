"""Schema revisions, every backend: the revisions build exactly the schema awards.models
declares (this is what fails when a change to models.py has no revision), a database of the
first release is upgraded in place with its log intact, and commands refuse a database
they do not match with one line that says what to do."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from awards.cli import main
from awards.commands.logbook import verify_database
from awards.log.chain import GENESIS, now, seal
from awards.rules.scoring import Candidate
from awards.rules.workflow_file import load_workflow
from awards.store import database as db
from awards.store import schema as migrate
from awards.store import writes
from awards.store.cycles import init_cycle
from awards.store.schema import open_engine

from support import ROOT, WORKFLOW

WORKFLOW_2023 = ROOT / "workflows" / "dga-2023.toml"


def run(*args: str, db_url: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--db", db_url, "--actor", "tester", *args])
    return result.exit_code, result.output


def empty(url: str) -> str:
    """The URL of an empty database (SQLite: an empty file, as `awards` never makes one)."""
    if url.startswith("sqlite"):
        Path(str(make_url(url).database)).touch()
    return url


def baseline() -> Any:
    return ScriptDirectory(str(migrate.MIGRATIONS)).get_revision(migrate.BASELINE).module.schema()


def differences(engine: Engine, metadata: Any) -> list[Any]:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), metadata)


def triggers(engine: Engine) -> list[str]:
    sql = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('event', 'certificate')",
        "postgresql": "SELECT tgname FROM pg_trigger WHERE tgrelid IN ('event'::regclass, 'certificate'::regclass) AND NOT tgisinternal",
    }[engine.dialect.name]
    with engine.connect() as conn:
        return sorted(conn.execute(text(sql)).scalars())


def contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every baseline table, in the baseline's columns."""
    found = {}
    with engine.connect() as conn:
        for name, table in baseline().tables.items():
            columns = ", ".join(c.name for c in table.columns)
            order = ", ".join(c.name for c in table.primary_key)
            rows = conn.execute(text(f"SELECT {columns} FROM {name} ORDER BY {order}"))
            found[name] = [tuple(r) for r in rows]
    return found


def first_release_database(url: str) -> None:
    """A database as awards 0.1 left it: the baseline's tables and triggers, no version
    table, and a cycle with its log: nominations moved, a verdict, a rendering recorded."""
    migrate.upgrade(empty(url), revision=migrate.BASELINE)
    workflow = load_workflow(WORKFLOW)
    ctx = writes.Context(workflow.cycle_id, "secretary", now())
    with db.write(open_engine(url, check=False)) as conn:
        conn.execute(text(f"DROP TABLE {migrate.VERSION_TABLE}"))
        opened = db.append(conn, [{"kind": "cycle_opened", "cycle": workflow.cycle_id, "actor": "secretary", "at": ctx.at, "workflow_sha256": workflow.sha256}])  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO cycle VALUES (:id, :th, :en, :year, :be, :sha, :path, :text, :at)"
            ),
            {"id": workflow.cycle_id, "th": workflow.title_th, "en": workflow.title_en,
             "year": workflow.year, "be": workflow.year_be, "sha": workflow.sha256,
             "path": workflow.path, "text": workflow.text, "at": ctx.at},
        )  # fmt: skip
        scores = tuple(Decimal(s) for s in ("60", "61", "62", "63", "64", "65"))
        ministry = "กระทรวงการคลัง"
        cands = [
            Candidate(f"D{i:03d}", f"กรมทดสอบ{i:03d}", f"Agency D{i:03d}", "department", ministry,
                      "", 1, scores, Decimal(70 - i), Decimal(70 - i))
            for i in range(4)
        ]  # fmt: skip
        writes.nominate(conn, ctx, "top-department", cands)
        rows = conn.execute(text("SELECT id, nominee_id FROM nomination ORDER BY nominee_id"))
        shortlisted = writes.apply(
            conn,
            ctx,
            [
                writes.Move(nid, "top-department", nominee, "surveyed", "shortlist",
                           writes.Stated("in the shortlist", {}), rank)
                for rank, (nid, nominee) in enumerate(rows, start=1)
            ],
        )  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO verdict (nomination_id, reviewer, approve, note, at, seq) "
                "SELECT id, 'กรรมการ ก', :yes, 'ข้อมูลครบถ้วน', :at, seq FROM nomination"
            ),
            {"yes": True, "at": ctx.at},
        )
        conn.execute(
            text(
                "INSERT INTO certificate (cycle, award, nominee_id, nomination_id, serial, code, "
                "template, template_sha256, pdf_sha256, size, pdfa, rendered_at, actor, seq) "
                "SELECT cycle, award, nominee_id, id, 'DGA-2562-PLQ-0001', 'K7QF-9XMD-2ABC-DEFG', "
                "'plaque', 'aa', 'bb', 1000, :no, :at, 'secretary', :seq FROM nomination "
                "WHERE nominee_id = 'D000'"
            ),
            {"no": False, "at": ctx.at, "seq": shortlisted.first},
        )
    assert opened.first == 1


def test_revisions_from_empty_build_exactly_the_models_schema(db_url):
    engine = open_engine(empty(db_url), check=False)

    upgraded = migrate.upgrade(db_url)

    assert (upgraded.before, upgraded.after, upgraded.adopted) == (None, migrate.head(), False)
    assert differences(engine, SQLModel.metadata) == []
    assert migrate.status(db_url).state == "current"


def test_new_database_is_made_from_the_models_and_stamped_at_head(db_url, tmp_path):
    init_cycle(WORKFLOW, url=db_url, actor="secretary")
    migrated = f"sqlite:///{tmp_path / 'migrated.db'}" if db_url.startswith("sqlite") else None

    engine = open_engine(db_url)

    assert migrate.status(db_url).revision == migrate.head()
    assert differences(engine, SQLModel.metadata) == []
    if migrated:  # the revisions install the same triggers as a new database gets
        migrate.upgrade(empty(migrated))
        assert triggers(open_engine(migrated)) == triggers(engine)
    assert triggers(engine) == (
        [
            "certificate_no_delete",
            "certificate_no_update",
            "certificate_serial_held",
            "event_no_delete",
            "event_no_update",
        ]
        if engine.dialect.name == "sqlite"
        else [
            "certificate_append_only",
            "certificate_no_truncate",
            "certificate_serial_held",
            "event_append_only",
            "event_no_truncate",
        ]
    )


def test_baseline_revision_log_refuses_update_and_delete(db_url):
    first_release_database(db_url)
    engine = open_engine(db_url, check=False)

    for statement in ("UPDATE event SET kind = 'x'", "DELETE FROM event"):
        with (
            pytest.raises(DBAPIError, match="the decision log is append-only"),
            engine.begin() as conn,
        ):
            conn.execute(text(statement))


def test_head_is_read_without_alembic_as_alembic_reads_it():
    script = ScriptDirectory(str(migrate.MIGRATIONS))

    assert migrate.head() == script.get_current_head()
    assert set(migrate.revisions()) == {r.revision for r in script.walk_revisions()}


def test_first_release_database_upgrades_in_place_with_its_log_intact(db_url):
    first_release_database(db_url)
    engine = open_engine(db_url, check=False)
    before = contents(engine)
    where = migrate.shown(db_url)

    code, out = run("db", "upgrade", db_url=db_url)

    assert (code, out) == (
        0,
        f"{where}: recognised as revision 0001 (made by awards 0.1, no schema revision), "
        + (
            "and stamped; it is current\n"
            if migrate.head() == "0001"
            else f"then upgraded to {migrate.head()}\n"
        ),
    )
    assert contents(engine) == before
    assert len(before["event"]) == 9 and len(before["certificate"]) == 1
    assert verify_database(url=db_url).events == 9
    assert run("db", "current", db_url=db_url) == (
        0,
        f"{where}: schema revision {migrate.head()} (current)\n",
    )
    assert differences(engine, SQLModel.metadata) == []
    assert run("db", "upgrade", db_url=db_url) == (
        0,
        f"{where}: already at schema revision {migrate.head()} (current); nothing to do\n",
    )


def test_first_release_database_is_refused_until_upgraded(db_url):
    first_release_database(db_url)
    where = migrate.shown(db_url)
    problem = (
        f"the database {where} was made by an earlier release of awards (it has no schema "
        "revision); run `awards db upgrade` (after a backup)"
    )

    assert run("status", db_url=db_url) == (1, f"Error: {problem}\n")
    assert run("render", db_url=db_url) == (1, f"Error: {problem}\n")
    assert run("init", str(WORKFLOW), db_url=db_url) == (1, f"Error: {problem}\n")
    assert run("db", "current", db_url=db_url) == (0, f"{problem}\n")


def test_first_release_database_without_certificates_gets_the_table(db_url):
    first_release_database(db_url)
    engine = open_engine(db_url, check=False)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE certificate"))

    assert migrate.upgrade(db_url).adopted
    assert "certificate" in inspect(engine).get_table_names()
    assert differences(engine, SQLModel.metadata) == []


def test_unversioned_database_unlike_the_first_release_is_refused_unchanged(db_url):
    first_release_database(db_url)
    engine = open_engine(db_url, check=False)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_event_subject"))

    assert run("db", "upgrade", db_url=db_url) == (
        1,
        f"Error: the database {migrate.shown(db_url)} has no schema revision but is not the "
        "schema of awards 0.1 (add_index ix_event_subject); nothing was changed\n",
    )
    assert migrate.status(db_url).state == "unversioned"


def test_database_upgraded_by_a_newer_awards_is_refused(db_url):
    init_cycle(WORKFLOW, url=db_url, actor="secretary")
    with open_engine(db_url).begin() as conn:
        conn.execute(text(f"UPDATE {migrate.VERSION_TABLE} SET version_num = '9999'"))
    problem = (
        f"the database {migrate.shown(db_url)} is at schema revision 9999, which this awards "
        f"does not know (its newest is {migrate.head()}): a newer awards upgraded it; use that one"
    )

    assert run("status", db_url=db_url) == (1, f"Error: {problem}\n")
    assert run("db", "upgrade", db_url=db_url) == (1, f"Error: {problem}\n")


def test_outdated_and_empty_databases_say_what_to_do():
    outdated = migrate.Status("awards.db", migrate.BASELINE, "0002", True)
    blank = migrate.Status("awards.db", None, migrate.head(), False)

    assert outdated.problem() == (
        "the database awards.db is at schema revision 0001 and this awards needs 0002; "
        "run `awards db upgrade` (after a backup)"
    )
    assert blank.problem() == (
        "the database awards.db has no awards tables; run `awards init WORKFLOW` first"
    )


def test_empty_database_has_no_tables_to_use_until_init(db_url):
    assert run("status", db_url=empty(db_url)) == (
        1,
        f"Error: the database {migrate.shown(db_url)} has no awards tables; "
        "run `awards init WORKFLOW` first\n",
    )


def test_one_cycle_database_upgrades_to_a_chain_per_cycle_keyed_by_cycle_and_seq(db_url):
    first_release_database(db_url)
    engine = open_engine(db_url, check=False)
    before = contents(engine)

    migrate.upgrade(db_url)

    found = inspect(engine)
    assert found.get_pk_constraint("event")["constrained_columns"] == ["cycle", "seq"]
    assert found.get_unique_constraints("event") == []
    assert [i["name"] for i in found.get_indexes("event") if i["unique"]] == []
    assert contents(engine) == before  # its chain is that cycle's chain, byte for byte
    assert verify_database(url=db_url).events == 9
    init_cycle(WORKFLOW_2023, url=db_url, actor="secretary")  # the next cycle: a chain of its own
    with db.read(engine) as conn:
        assert db.chains(conn) == ["dga-2019", "dga-2023"]
        opened = [orjson.loads(body) for _, _, body in db.stored(conn, "dga-2023")]
        assert [e["seq"] for e in opened] == list(range(1, len(opened) + 1))
        assert (opened[0]["kind"], opened[0]["prev"]) == ("cycle_opened", GENESIS)
        assert db.cycle_head(conn, "dga-2019") == (9, before["event"][-1][2])


def test_database_whose_one_chain_holds_several_cycles_is_refused_unchanged(db_url):
    first_release_database(db_url)
    engine = open_engine(db_url, check=False)
    with engine.begin() as conn:  # a second cycle opened by an earlier awards: same chain
        last, prev = conn.execute(text("SELECT seq, hash FROM event ORDER BY seq DESC")).first()
        fields = {"kind": "cycle_opened", "cycle": "dga-2023", "actor": "secretary", "at": now(), "workflow_sha256": "ab" * 32}  # fmt: skip
        s = seal(fields, last + 1, prev)
        conn.execute(
            text(
                "INSERT INTO event (seq, prev, hash, kind, cycle, body) "
                "VALUES (:seq, :prev, :hash, 'cycle_opened', 'dga-2023', :body)"
            ),
            {"seq": s.seq, "prev": s.prev, "hash": s.hash, "body": s.body},
        )
    before = contents(engine)

    code, out = run("db", "upgrade", db_url=db_url)

    assert (code, out) == (
        1,
        f"Error: the database {migrate.shown(db_url)} holds the decision log of 2 cycles "
        "(dga-2019, dga-2023) in one hash chain, which cannot be split into one chain per "
        "cycle without rewriting its hashed events; nothing was changed. Keep the awards "
        "release that made it for this database (its `awards log export` is the record of all "
        "of them) and open each cycle's next work in a new database\n",
    )
    assert contents(engine) == before
    assert migrate.status(db_url).state == "unversioned"
