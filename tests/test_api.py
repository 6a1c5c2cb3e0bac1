"""The library as a Python caller uses it: `import awards`, the front door that opens a
database once, results as JSON-ready values, and reads inside one transaction."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event

import awards
from awards.commands.advance import advance, move_one
from awards.commands.results import read_ranking, read_status, status
from awards.rules.states import Trigger
from awards.store import database as db
from awards.store.cycles import import_survey, init_cycle
from awards.store.loading import load_cycle
from awards.store.schema import open_engine

from support import WORKFLOW, small_survey

HEAVY = ("sqlalchemy", "weasyprint", "rich", "click", "matplotlib", "jinja2")


def loaded_after(code: str) -> list[str]:
    """The heavy libraries a fresh interpreter has loaded after running `code`."""
    probe = f"import sys\n{code}\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_import_awards_loads_no_database_terminal_or_pdf_library():
    assert loaded_after("import awards") == []


def test_check_and_replay_load_no_database_library():
    assert loaded_after("import awards; awards.check; awards.replay") == []


def test_awards_exports_the_documented_names():
    assert sorted(n for n in awards.__all__ if n != "__version__") == sorted(awards._EXPORTS)
    assert [getattr(awards, n) is not None for n in awards.__all__] == [True] * len(awards.__all__)
    assert awards.open.__module__ == "awards.api"
    with pytest.raises(AttributeError, match="module 'awards' has no attribute 'nothing'"):
        awards.nothing  # noqa: B018


def test_check_returns_what_the_workflow_declares():
    checked = awards.check(WORKFLOW)
    assert checked.as_dict() == {
        "cycle": "dga-2019",
        "awards": ["top-department", "top-province", "copy-free"],
        "sha256": checked.sha256,
    }


def test_check_of_a_bad_workflow_lists_every_problem(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text(WORKFLOW.read_text(encoding="utf-8").replace("weight = 0.2", "weight = 0.9"))
    with pytest.raises(awards.InputErrors) as raised:
        awards.check(bad)
    assert [p.file for p in raised.value.problems] == [str(bad)] * len(raised.value.problems)


def connections(engine: object) -> list[int]:
    """A counter of the connections `engine` opens."""
    opened: list[int] = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    return opened


def test_front_door_runs_a_cycle_on_one_engine(db_url: str, tmp_path: Path, monkeypatch):
    # An empty working directory: a call that opened its own engine would look for
    # ./awards.db and fail, so every call below must use the Database's engine.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AWARDS_DATABASE_URL", raising=False)
    survey = small_survey(tmp_path / "survey.csv")
    with awards.open(db_url, create=True, actor="tester") as base:
        opened = connections(base.engine)
        assert base.init(WORKFLOW).as_dict() == {"cycle": "dga-2019", "created": True,
                                                 "database": db_url}  # fmt: skip
        assert base.import_survey(survey).nominations == {
            "top-department": 30, "top-province": 6, "copy-free": 10,
        }  # fmt: skip
        first = base.advance()
        assert [(s.award, s.stage) for s in first.stages][:2] == [
            ("top-department", "shortlist"),
            ("top-department", "review"),
        ]
        for r in ("a", "b", "c", "d"):
            base.add_reviewer(r, name=f"Reviewer {r}")
        base.assign("top-department", per_nomination=3)
        shortlisted = [r.nomination for r in base.ranking("top-department").rows
                       if r.state == "shortlisted"]  # fmt: skip
        first = base.seats(shortlisted[0]).assigned[0]
        recused = base.recuse(shortlisted[0], reviewer=first, reason="former employee")
        for code in shortlisted:
            for seat in base.seats(code).assigned:
                base.review(code, reviewer=seat, approve=True, scores={"services": "70"})
        base.advance()
        winners = [r for r in base.ranking("top-department").rows if r.state == "awarded"]
        revoked = base.revoke(winners[-1].nomination, reason="survey answers found false")
        after = base.status()
        exported = base.export_log(tmp_path / "log.jsonl")
        calls = len(opened)
    assert (revoked.source, revoked.dest) == ("awarded", "revoked")
    assert (len(winners), after.awards["top-department"]["revoked"]) == (10, 1)
    assert (exported.events, exported.head) == (after.log.events, after.log.head)
    assert recused.replacement not in (None, first)
    assert calls > 10  # every call above connected through the Database's engine
    assert [r.reviewer.id for r in awards.open(db_url).reviewers()] == ["a", "b", "c", "d"]
    replayed = awards.replay(tmp_path / "log.jsonl", WORKFLOW, survey)
    assert (replayed.events, replayed.human_decisions > 0) == (exported.events, True)


def test_every_result_is_json_ready(sqlite_url: str, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    survey = small_survey(tmp_path / "survey.csv")
    base = awards.open(sqlite_url, create=True, actor="tester")
    made = [base.init(WORKFLOW), base.import_survey(survey), base.advance(), base.status(),
            base.ranking("top-province"), base.export_log("log.jsonl"), base.verify_log(),
            base.audit(), awards.check(WORKFLOW)]  # fmt: skip
    as_json = [json.loads(json.dumps(r.as_dict())) for r in made]
    assert [type(r).__name__ for r in made] == [
        "Opened", "Imported", "Advanced", "Status", "Ranking", "Verified", "Verified",
        "Audited", "CheckedWorkflow",
    ]  # fmt: skip
    assert as_json[3]["national"]["department"]["weighted"] == str(
        base.status().national["department"]["weighted"]
    )
    assert as_json[4]["rows"][0]["score"] == str(base.ranking("top-province").rows[0].score)


def test_front_door_renders_verifies_reports_and_withdraws(sqlite_url: str, tmp_path: Path):
    base = awards.open(sqlite_url, create=True, actor="tester")
    base.init(WORKFLOW)
    base.import_survey(small_survey(tmp_path / "survey.csv"))
    base.advance()
    rendered = base.render(award="top-province", out=tmp_path / "certificates")
    pdf = sorted((tmp_path / "certificates").glob("*.pdf"))[0]
    written = base.report(out=tmp_path / "report.html")
    withdrawn = base.withdraw("top-department:D029", reason="agency merged")
    events = base.history(nominee="D029")
    assert (rendered.total, rendered.as_dict()["rendered"]) == (5, {"top-province": 5})
    assert (base.verify(pdf).status, base.verify(str(pdf)).as_dict()["status"]) == ("valid",) * 2
    assert (written.html.exists(), written.events) == (True, withdrawn.seq - 1)
    assert [e["trigger"] for e in events if e["award"] == "top-department"][-1] == "withdraw"
    assert base.audit().drift == []


def test_front_door_refuses_a_missing_database_without_create(tmp_path: Path):
    missing = tmp_path / "none.db"
    with pytest.raises(awards.AwardsError, match="no database at"):
        awards.open(f"sqlite:///{missing}")
    assert not missing.exists()


def test_review_refuses_a_score_that_is_not_a_number(sqlite_url: str, tmp_path: Path):
    base = awards.open(sqlite_url, create=True, actor="tester")
    base.init(WORKFLOW)
    with pytest.raises(awards.AwardsError, match="adjusted score services='high' must be"):
        base.review("top-department:D001", reviewer="a", approve=True, scores={"services": "high"})


@pytest.fixture
def cycle(db_url: str, tmp_path: Path) -> str:
    init_cycle(WORKFLOW, url=db_url, actor="tester")
    import_survey(small_survey(tmp_path / "survey.csv"), url=db_url, actor="tester")
    advance(url=db_url, actor="tester")
    return db_url


def test_reads_in_one_transaction_see_one_state_of_the_log(cycle: str):
    with db.read(open_engine(cycle)) as conn:
        workflow = load_cycle(conn, None)
        before = (read_status(conn, workflow), read_ranking(conn, workflow, "top-province"))
        moved = move_one("top-province:" + before[1].rows[0].nominee_id, Trigger.REVOKE,
                         reason="merged", actor="tester", url=cycle)  # fmt: skip
        after = (read_status(conn, workflow), read_ranking(conn, workflow, "top-province"))
    assert after == before
    assert status(url=cycle).log.events == moved.seq == before[0].log.events + 1
