"""Two cycles in one database: their serials never repeat, rendering never replaces a file it
did not write for that nomination, and each certificate verifies to its own cycle's decision.
On every backend."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from awards.certificates import issuing, plan
from awards.certificates.verification import verify
from awards.cli import main
from awards.store import database as db

from support import WORKFLOW, small_survey


def run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--db", url, "--actor", "tester", *args])
    return result.exit_code, result.output


def second_workflow(folder: Path, cycle_id: str = "dga-2019-special") -> Path:
    """The 2019 workflow under another cycle id: the same year, serial prefix and codes."""
    text_ = WORKFLOW.read_text(encoding="utf-8").replace('id = "dga-2019"', f'id = "{cycle_id}"')
    path = folder / f"{cycle_id}.toml"
    path.write_text(text_, encoding="utf-8")
    return path


def two_cycles(url: str, folder: Path, second: str = "dga-2019-special") -> None:
    """Both cycles opened on the same survey, their five provinces awarded."""
    survey = small_survey(folder / "survey.csv")
    for cycle, workflow in (("dga-2019", WORKFLOW), (second, second_workflow(folder, second))):
        assert run(url, "init", str(workflow))[0] == 0
        assert run(url, "import", str(survey), "--cycle", cycle)[0] == 0
        assert run(url, "advance", "--award", "top-province", "--cycle", cycle)[0] == 0


def files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def serials(url: str, cycle: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT serial FROM certificate WHERE cycle = :c ORDER BY serial"), {"c": cycle}
        )
        found = [r[0] for r in rows]
    engine.dispose()
    return found


def test_two_cycles_of_one_year_render_into_one_folder_and_keep_every_file(db_url, tmp_path):
    two_cycles(db_url, tmp_path)
    out = tmp_path / "certificates"

    first = run(db_url, "render", "--cycle", "dga-2019", "--out", str(out))
    kept = files(out)
    second = run(db_url, "render", "--cycle", "dga-2019-special", "--out", str(out))

    assert first == (0, f"5 certificates rendered into {out} (top-province 5)\n")
    assert second == (0, f"5 certificates rendered into {out} (top-province 5)\n")
    assert serials(db_url, "dga-2019") == [f"DGA-2562-DGA2019-PRV-{n:04d}" for n in range(1, 6)]
    assert serials(db_url, "dga-2019-special") == [
        f"DGA-2562-DGA2019SPECIAL-PRV-{n:04d}" for n in range(1, 6)
    ]
    after = files(out)
    assert len(after) == 10
    assert {name: after[name] for name in kept} == kept  # the first cycle's, byte for byte
    for name in after:
        found = verify(str(out / name), url=db_url)
        assert (found.status, found.details["serial"]) == ("valid", name.removesuffix(".pdf"))
        assert found.details["cycle"] == ("dga-2019" if "DGA2019-" in name else "dga-2019-special")


def test_cycles_whose_ids_share_letters_and_digits_share_the_numbers(db_url, tmp_path):
    two_cycles(db_url, tmp_path, second="DGA_2019")
    out = tmp_path / "certificates"

    assert run(db_url, "render", "--cycle", "dga-2019", "--out", str(out))[0] == 0
    assert run(db_url, "render", "--cycle", "DGA_2019", "--out", str(out))[0] == 0

    assert serials(db_url, "DGA_2019") == [f"DGA-2562-DGA2019-PRV-{n:04d}" for n in range(6, 11)]
    assert len(files(out)) == 10


def test_render_refuses_to_replace_a_file_it_did_not_write(db_url, tmp_path):
    two_cycles(db_url, tmp_path)
    out = tmp_path / "certificates"
    out.mkdir()
    mine = out / "DGA-2562-DGA2019SPECIAL-PRV-0001.pdf"
    mine.write_bytes(b"%PDF-1.7 a user's own file")

    code, message = run(db_url, "render", "--cycle", "dga-2019-special", "--out", str(out))

    assert (code, message) == (
        1,
        f"Error: {mine} is already there and is not a rendering of top-province:"
        f"{nominee(db_url, 'dga-2019-special')} (this database recorded no rendering with its "
        "content); refusing to replace it (nothing was written): render into another folder "
        "(--out, e.g. one per cycle), or move that file away\n",
    )
    assert files(out) == {mine.name: hashlib.sha256(mine.read_bytes()).hexdigest()}
    assert mine.read_bytes() == b"%PDF-1.7 a user's own file"
    assert serials(db_url, "dga-2019-special") == []


def nominee(url: str, cycle: str) -> str:
    """The nominee that ranks first in the cycle's province award."""
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT nominee_id FROM nomination WHERE cycle = :c AND award = 'top-province' "
                "AND state = 'awarded' ORDER BY rank LIMIT 1"
            ),
            {"c": cycle},
        ).scalar_one()
    engine.dispose()
    return str(found)


def _old_serial(prefix: str, year_be: int, cycle_id: str, award_code: str, number: int) -> str:
    return f"{prefix}-{year_be}-{award_code}-{number:04d}"  # before serials named their cycle


def test_serials_recorded_twice_before_cycles_were_named_are_kept(db_url, tmp_path, monkeypatch):
    # A database from before revision 0007: both cycles gave DGA-2562-PRV-0001 .. 0005.
    two_cycles(db_url, tmp_path)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        drop = "DROP TRIGGER certificate_serial_held"
        conn.exec_driver_sql(drop if conn.dialect.name == "sqlite" else f"{drop} ON certificate")
    # What awards did then: serials without the cycle, checked against their own cycle only
    # (the check at recording is the next test's concern, not this one's).
    monkeypatch.setattr(plan, "serial", _old_serial)
    monkeypatch.setattr(issuing, "_check_unchanged", lambda conn, items: None)
    for cycle in ("dga-2019", "dga-2019-special"):
        issuing.render(url=db_url, cycle=cycle, out=tmp_path / cycle, actor="tester")
    monkeypatch.undo()
    with engine.begin() as conn:  # what `awards db upgrade` to revision 0007 installs
        db.serial_held(conn)
    engine.dispose()
    shared = tmp_path / "dga-2019"
    kept = files(shared)

    # Into the other cycle's folder: its files have the same names, and are kept.
    code, message = run(
        db_url, "render", "--cycle", "dga-2019-special", "--out", str(shared), "--pdfa"
    )

    assert code == 1
    assert message.startswith(f"Error: {shared / 'DGA-2562-PRV-0001.pdf'} is already there and ")
    assert "(it is certificate DGA-2562-PRV-0001 of top-province:" in message
    assert message.endswith(" in cycle dga-2019); refusing to replace it (nothing was written): "
                            "render into another folder (--out, e.g. one per cycle), or move "
                            "that file away\n")  # fmt: skip
    assert files(shared) == kept
    # Into its own folder, a re-render keeps each serial, though the other cycle holds it too.
    own = tmp_path / "dga-2019-special"
    assert run(db_url, "render", "--cycle", "dga-2019-special", "--out", str(own), "--pdfa") == (
        0,
        f"5 PDF/A-3b certificates rendered into {own} (top-province 5)\n",
    )
    assert sorted(p.name for p in own.iterdir()) == [f"DGA-2562-PRV-{n:04d}.pdf" for n in range(1, 6)]  # fmt: skip
    for cycle in ("dga-2019", "dga-2019-special"):
        found = verify(str(tmp_path / cycle / "DGA-2562-PRV-0001.pdf"), url=db_url)
        assert (found.status, found.details["cycle"]) == ("valid", cycle)
        again = verify(found.details["code"], url=db_url)
        assert (again.status, again.details["cycle"]) == ("valid", cycle)


def test_database_refuses_a_serial_another_nomination_holds(db_url, tmp_path):
    two_cycles(db_url, tmp_path)
    assert run(db_url, "render", "--cycle", "dga-2019", "--out", str(tmp_path / "a"))[0] == 0
    engine = create_engine(db_url)
    copy = (
        "INSERT INTO certificate (cycle, award, nominee_id, nomination_id, serial, code, "
        "template, template_sha256, pdf_sha256, size, pdfa, rendered_at, actor, seq) "
        "SELECT c.cycle, c.award, c.nominee_id, n.id, c.serial, c.code, c.template, "
        "c.template_sha256, c.pdf_sha256, c.size, c.pdfa, c.rendered_at, c.actor, c.seq + 100000 "
        "FROM certificate c, nomination n WHERE n.cycle = :other AND n.award = c.award "
        "AND c.serial = :serial AND n.rank = 1"
    )
    # IntegrityError on both backends: what the write path turns into "run it again"
    refused = pytest.raises(IntegrityError, match="a certificate serial belongs to one nomination")
    with refused, engine.begin() as conn:
        conn.execute(
            text(copy), {"other": "dga-2019-special", "serial": "DGA-2562-DGA2019-PRV-0001"}
        )
    with engine.begin() as conn:  # the same nomination may record its serial again
        conn.execute(
            text(copy.replace("n.cycle = :other", "n.id = c.nomination_id AND :other = :other")),
            {"other": "", "serial": "DGA-2562-DGA2019-PRV-0001"},
        )
    engine.dispose()


def test_render_goes_into_a_folder_of_its_cycle_by_default(sqlite_url, tmp_path, monkeypatch):
    two_cycles(sqlite_url, tmp_path)
    monkeypatch.chdir(tmp_path)

    code, message = run(sqlite_url, "render", "--cycle", "dga-2019-special")

    folder = Path("certificates") / "dga-2019-special"
    assert (code, message) == (0, f"5 certificates rendered into {folder} (top-province 5)\n")
    assert len(list((tmp_path / folder).glob("*.pdf"))) == 5
    assert issuing.default_folder("../รางวัล 2019/x") == Path("certificates") / "_รางวัล_2019_x"
