"""The append-only triggers: the decision log (`event`) and the record of rendered
certificates (`certificate`) refuse UPDATE, DELETE and (PostgreSQL) TRUNCATE, on both
backends; the trigger that keeps a certificate's serial to one nomination in the whole
database (revision 0007); and the check `awards audit` makes that they are still in place.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

# What each append-only table is, in the messages its triggers refuse a change with.
APPEND_ONLY = {"event": "the decision log", "certificate": "the record of rendered certificates"}


def _sqlite_triggers(table: str) -> list[str]:
    what = APPEND_ONLY[table]
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table}
       BEGIN SELECT RAISE(ABORT, '{what} is append-only: {op} refused'); END"""
        for op in ("UPDATE", "DELETE")
    ]


def _postgres_triggers(table: str) -> list[str]:
    function = f"awards_{table}_append_only"
    return [
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION USING MESSAGE = '{APPEND_ONLY[table]} is append-only: ' || TG_OP || ' refused'; END;
       $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
       FOR EACH ROW EXECUTE FUNCTION {function}()""",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
       FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
    ]


def append_only(conn: Connection, table: str = "event") -> None:
    """Install the append-only triggers of `table` (the decision log by default; the record
    of rendered certificates since revision 0003), idempotent. Changing them needs a schema
    revision that calls this again (awards/store/migrations/env.py)."""
    sqlite = conn.dialect.name == "sqlite"
    for statement in _sqlite_triggers(table) if sqlite else _postgres_triggers(table):
        conn.exec_driver_sql(statement)


# A serial belongs to one nomination across every cycle: a rendering may take a serial that no
# other nomination holds, or one its own nomination already holds (a re-render keeps its
# serial, also one recorded twice by two cycles before revision 0007). Every insert into the
# certificate table runs inside the write transaction that holds the log head, so the check
# sees every rendering committed before it.
SERIAL_HELD = "certificate_serial_held"
_SERIAL_TAKEN = """EXISTS (SELECT 1 FROM certificate c WHERE c.serial = NEW.serial
        AND c.nomination_id <> NEW.nomination_id)
    AND NOT EXISTS (SELECT 1 FROM certificate c WHERE c.serial = NEW.serial
        AND c.nomination_id = NEW.nomination_id)"""
_SERIAL_REFUSED = "a certificate serial belongs to one nomination: INSERT refused"


def _serial_triggers(sqlite: bool) -> list[str]:
    if sqlite:
        return [
            f"""CREATE TRIGGER IF NOT EXISTS {SERIAL_HELD} BEFORE INSERT ON certificate
       WHEN {_SERIAL_TAKEN}
       BEGIN SELECT RAISE(ABORT, '{_SERIAL_REFUSED}'); END"""
        ]
    return [
        f"""CREATE OR REPLACE FUNCTION awards_{SERIAL_HELD}() RETURNS trigger AS $$
       BEGIN
         IF {_SERIAL_TAKEN} THEN
           RAISE EXCEPTION USING ERRCODE = 'unique_violation', MESSAGE = '{_SERIAL_REFUSED}';
         END IF;
         RETURN NEW;
       END;
       $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {SERIAL_HELD} ON certificate",
        f"""CREATE TRIGGER {SERIAL_HELD} BEFORE INSERT ON certificate
       FOR EACH ROW EXECUTE FUNCTION awards_{SERIAL_HELD}()""",
    ]


def serial_held(conn: Connection) -> None:
    """Install the trigger that refuses a rendering a serial another nomination holds (any
    cycle), idempotent (revision 0007)."""
    for statement in _serial_triggers(conn.dialect.name == "sqlite"):
        conn.exec_driver_sql(statement)


# How each backend's catalogue shows a working trigger: SQLite keeps the statement that made
# it; PostgreSQL its kind (BEFORE, ROW or STATEMENT, the operations), whether it is enabled and
# the function it runs.
_ROW_UPDATE_DELETE, _STATEMENT_TRUNCATE = 1 | 2 | 8 | 16, 2 | 32  # pg_trigger.tgtype bits


def missing_triggers(conn: Connection) -> list[str]:
    """The append-only triggers that are missing, disabled or changed, one line each; an
    empty list when every one is in place as this awards installs it."""
    out = []
    for table in APPEND_ONLY:
        if conn.dialect.name == "sqlite":
            found: dict[str, Any] = dict(
                conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                    (table,),
                ).all()
            )
            for statement in _sqlite_triggers(table):
                name = statement.split()[5]
                if name not in found:
                    out.append(f"trigger {name} on {table} is missing")
                elif _words(found[name]) != _words(statement.replace(" IF NOT EXISTS", "")):
                    out.append(f"trigger {name} on {table} was changed: {_excerpt(found[name])}")
            continue
        rows = conn.exec_driver_sql(
            "SELECT t.tgname, t.tgtype, t.tgenabled, p.proname, p.prosrc FROM pg_trigger t "
            "JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgrelid = to_regclass(%(table)s) "
            "AND NOT t.tgisinternal",
            {"table": table},
        ).all()
        kinds = {r[0]: r[1:] for r in rows}
        for name, kind in ((f"{table}_append_only", _ROW_UPDATE_DELETE), (f"{table}_no_truncate", _STATEMENT_TRUNCATE)):  # fmt: skip
            if name not in kinds:
                out.append(f"trigger {name} on {table} is missing")
                continue
            tgtype, enabled, function, source = kinds[name]
            if enabled in ("D", b"D"):
                out.append(f"trigger {name} on {table} is disabled")
            elif (
                tgtype != kind
                or function != f"awards_{table}_append_only"
                or "RAISE EXCEPTION" not in source
            ):
                out.append(f"trigger {name} on {table} was changed (it runs {function}())")  # fmt: skip
    return out + _serial_trigger_missing(conn)


def _serial_trigger_missing(conn: Connection) -> list[str]:
    """The serial trigger, if it is missing, disabled or changed, in one line."""
    if conn.dialect.name == "sqlite":
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (SERIAL_HELD,)
        ).scalar()
        expected = _serial_triggers(True)[0].replace(" IF NOT EXISTS", "")
        if sql is None:
            return [f"trigger {SERIAL_HELD} on certificate is missing"]
        return [] if _words(sql) == _words(expected) else [
            f"trigger {SERIAL_HELD} on certificate was changed: {_excerpt(sql)}"
        ]  # fmt: skip
    row = conn.exec_driver_sql(
        "SELECT t.tgenabled, p.proname, p.prosrc FROM pg_trigger t JOIN pg_proc p "
        "ON p.oid = t.tgfoid WHERE t.tgrelid = to_regclass('certificate') AND t.tgname = %(n)s",
        {"n": SERIAL_HELD},
    ).first()
    if row is None:
        return [f"trigger {SERIAL_HELD} on certificate is missing"]
    enabled, function, source = row
    if enabled in ("D", b"D"):
        return [f"trigger {SERIAL_HELD} on certificate is disabled"]
    if function != f"awards_{SERIAL_HELD}" or "RAISE EXCEPTION" not in source:
        return [f"trigger {SERIAL_HELD} on certificate was changed (it runs {function}())"]
    return []


def _words(sql: str) -> list[str]:
    return sql.split()


def _excerpt(sql: str) -> str:
    text = " ".join(sql.split())
    return text[:160] + ("..." if len(text) > 160 else "")
