"""Review rounds: an award reviewed in two rounds by two panels, end to end from the reviewer
sheets `awards review sheet` writes, filled in with openpyxl and read back by `review --from`;
its replay, forgeries of round 2, hostile sheet edits, and the workflow's checks of rounds."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

import orjson
import pytest
from openpyxl import load_workbook
from test_cli import run
from test_replay import rechained

from awards.commands.advance import advance
from awards.commands.audit import audit
from awards.commands.logbook import export_log
from awards.commands.results import ranking, status
from awards.commands.seats import Seats, assign, recuse, seats
from awards.commands.sheets import write_sheets
from awards.commands.verdicts import import_verdicts
from awards.errors import AwardsError, InputErrors
from awards.log.replay import Diverged, replay
from awards.rules.workflow_file import parse_workflow

from support import WORKFLOW, open_cycle

AWARD = "top-department"
ROUNDS = """
[[awards.rounds]]
panel = ["a1", "a2", "a3"]
quorum = 2
cut = { top = 6 }

[[awards.rounds]]
panel = ["b1", "b2"]
quorum = 2
approval = "unanimous"
aggregate = "median"
rank_by = "reviewed"
"""
REVIEWERS = "".join(
    f'\n[[reviewers]]\nid = "{r}"\nname = "Reviewer {r}"\n' for r in ("a1", "a2", "a3", "b1", "b2")
)


def two_rounds(tmp_path: Path, rounds: str = ROUNDS, reviewers: str = REVIEWERS) -> Path:
    text = WORKFLOW.read_text(encoding="utf-8").replace(
        'review = { quorum = 3, approval = "majority" }\n', rounds
    )
    path = tmp_path / "workflow.toml"
    path.write_text(text + reviewers, encoding="utf-8")
    return path


def events_of(log: Path) -> list[dict]:
    return [orjson.loads(line)["event"] for line in log.read_bytes().splitlines()]


def logged(url: str, tmp_path: Path) -> list[dict]:
    export_log(tmp_path / "now.jsonl", url=url)
    return events_of(tmp_path / "now.jsonl")


def fill(path: Path, verdict, adjust=None) -> None:
    """Fill a reviewer sheet in as a reviewer would: the verdict column (and an adjusted
    score) of each row, saved under the same protection."""
    book = load_workbook(path)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        nomination = row[header.index("nomination")].value
        row[header.index("verdict")].value = verdict(nomination)
        if adjust and (extra := adjust(nomination)):
            row[header.index("services")].value = extra
    book.save(path)


@pytest.fixture
def round_one(db_url: str, tmp_path: Path):
    """The award shortlisted (20 nominations) and round 1's panel seated, two per nomination."""
    workflow = two_rounds(tmp_path)
    survey = open_cycle(db_url, tmp_path, workflow=workflow)
    advance(url=db_url, actor="s")
    assign(AWARD, 2, url=db_url, actor="s")
    return db_url, workflow, survey


def test_two_rounds_two_panels_from_sheets_to_awards_and_replay(round_one, tmp_path):
    url, workflow, survey = round_one
    seated = [e for e in logged(url, tmp_path) if e["kind"] == "assigned"]
    assert {(e["reviewer"][0], e["round"]) for e in seated} == {("a", 1)}
    assert len(seated) == 40

    # Round 1: every reviewer's sheet; read back as written, it changes nothing.
    folder = tmp_path / "round1"
    written = write_sheets(folder, every=True, url=url)
    assert [(s.reviewer, s.nominations) for s in written.sheets] == [
        ("a1", 14), ("a2", 13), ("a3", 13),
    ]  # fmt: skip
    before = len(logged(url, tmp_path))
    for s in written.sheets:
        assert import_verdicts(s.path, url=url, actor="s").verdicts == []
    assert len(logged(url, tmp_path)) == before

    # Filled in: everyone approves but D010, which both its reviewers reject.
    for s in written.sheets:
        fill(Path(s.path), lambda n: "reject" if n.endswith(":D010") else "approve",
             lambda n: "95" if n.endswith(":D012") else None)  # fmt: skip
        import_verdicts(s.path, url=url, actor="s")
    result = advance(url=url, actor="s")
    closing = next(s for s in result.stages if s.round == 1)
    assert closing.moved == {"rejected": 14, "shortlisted": 6}
    waiting = next(s for s in result.stages if s.round == 2)
    assert (waiting.moved, len(waiting.waiting), waiting.waiting[0].unassigned) == ({}, 6, 2)
    moves = [e for e in logged(url, tmp_path) if e.get("trigger") in ("next_round", "reject")]
    on = sorted(e["nominee"] for e in moves if e["trigger"] == "next_round")
    # Round 1 ranks by the survey: D012's adjusted score does not lift it into the top 6
    assert on == ["D024", "D025", "D026", "D027", "D028", "D029"]
    d010 = next(e for e in moves if e["nominee"] == "D010")
    assert (d010["trigger"], d010["evidence"]["round"], d010["evidence"].get("rank")) == (
        "reject", 1, None,
    )  # fmt: skip
    first = next(e for e in moves if e["trigger"] == "next_round")
    assert (first["evidence"]["round"], first["evidence"]["cut"], first["evidence"]["of"]) == (
        1, "top 6", 19,
    )  # fmt: skip

    # A round-1 sheet is refused in round 2: its rows are of another round, or closed.
    before = logged(url, tmp_path)
    with pytest.raises(InputErrors) as err:
        import_verdicts(written.sheets[0].path, url=url, actor="s")
    columns = Counter(p.column for p in err.value.problems)
    assert (columns["round"] > 0, set(columns) <= {"round", "nomination"}) == (True, True)
    stale = next(p for p in err.value.problems if p.column == "round")
    assert (stale.value, stale.message.split("; ")[0].endswith("'s round is '2'")) == ("1", True)
    assert logged(url, tmp_path) == before

    shown = ranking(AWARD, url=url)
    assert (shown.round, shown.rounds, status(url=url).rounds) == (2, 2, {AWARD: [2, 2]})
    assert Counter((row.state, row.round) for row in shown.rows) == {
        ("shortlisted", 2): 6, ("rejected", 1): 14, ("eliminated", 1): 10,
    }  # fmt: skip
    code, said = run("ranking", AWARD, db=url)
    assert (code, "(cut line 47.95); review round 2 of 2" in said) == (0, True)

    # Round 2: the second panel only; b2 rejects one nomination, which unanimity rejects.
    code, said = run("assign", AWARD, "--per-nomination", "2", db=url)
    assert (code, said.splitlines()[0]) == (0, f"{AWARD} round 2 of 2: 12 assignments (2 per nomination)")  # fmt: skip
    seated = [e for e in logged(url, tmp_path) if e["kind"] == "assigned" and e["round"] == 2]
    assert Counter(e["reviewer"] for e in seated) == {"b1": 6, "b2": 6}
    out = tmp_path / "b1.xlsx"
    code, said = run("review", "sheet", "--reviewer", "b1", "--out", str(out), db=url)
    assert (code, said) == (0, f"{out}: b1, 6 nominations\n")
    code, said = run("review", "sheet", "--reviewer", "b1", "--out", str(out), db=url)
    assert (code, said) == (1, f"Error: {out} already exists; a sheet is never overwritten: remove it or name another file\n")  # fmt: skip
    write_sheets(tmp_path / "round2", every=True, url=url)
    fill(out, lambda n: "approve")
    fill(tmp_path / "round2" / "b2.xlsx", lambda n: "reject" if n == f"{AWARD}:{on[0]}" else "approve")  # fmt: skip
    for sheet in (out, tmp_path / "round2" / "b2.xlsx"):
        code, said = run("review", "--from", str(sheet), db=url)
        assert (code, said) == (0, f"{sheet}: 6 verdicts, 6 recorded, 0 unchanged\n")
    advance(url=url, actor="s")

    export_log(tmp_path / "log.jsonl", url=url)
    events = events_of(tmp_path / "log.jsonl")
    final = Counter(e["to"] for e in events if e["kind"] == "transition" and e["award"] == AWARD
                    and e["trigger"] in ("award", "pass_over", "reject", "approve"))  # fmt: skip
    assert final == {"rejected": 15, "reviewed": 5, "awarded": 5}
    assert {e["round"] for e in events if e["kind"] == "verdict"} == {1, 2}
    assert replay(tmp_path / "log.jsonl", workflow, survey).rule_decisions > 0
    assert audit(url=url).clean
    assert status(url=url).rounds == {AWARD: [2, 2]}  # the round it ended in


@pytest.fixture
def finished(round_one, tmp_path):
    """Both rounds given by the CLI's single verdicts, advanced to the awards, log exported."""
    url, workflow, survey = round_one
    for s in write_sheets(tmp_path / "r1", every=True, url=url).sheets:
        fill(Path(s.path), lambda n: "approve")
        import_verdicts(s.path, url=url, actor="s")
    advance(url=url, actor="s")
    assign(AWARD, 2, url=url, actor="s")
    for s in write_sheets(tmp_path / "r2", every=True, url=url).sheets:
        fill(Path(s.path), lambda n: "approve")
        import_verdicts(s.path, url=url, actor="s")
    advance(url=url, actor="s")
    export_log(tmp_path / "log.jsonl", url=url)
    return tmp_path / "log.jsonl", workflow, survey


def test_replay_names_a_forged_round_two_assignment(finished, tmp_path):
    log, workflow, survey = finished
    target = next(e for e in events_of(log) if e["kind"] == "assigned" and e["round"] == 2)

    def to_round_one_panel(event):
        if event.get("kind") == "assigned" and event["round"] == 2 and event["reviewer"] == target["reviewer"] and event["nominee"] == target["nominee"]:  # fmt: skip
            event["reviewer"] = "a1"
        return event

    rechained(log, tmp_path / "f.jsonl", to_round_one_panel)
    with pytest.raises(Diverged) as err:
        replay(tmp_path / "f.jsonl", workflow, survey)
    assert (err.value.divergence.seq, err.value.divergence.why) == (
        target["seq"], "different assignment (least load first, no conflict of interest)",
    )  # fmt: skip


def test_replay_names_a_round_two_verdict_forged_into_round_one(finished, tmp_path):
    log, workflow, survey = finished
    target = next(e for e in events_of(log) if e["kind"] == "verdict" and e["round"] == 2)

    def back_a_round(event):
        if event.get("kind") == "verdict" and event["round"] == 2 and (event["reviewer"], event["nominee"]) == (target["reviewer"], target["nominee"]):  # fmt: skip
            event["round"] = 1
        return event

    rechained(log, tmp_path / "f.jsonl", back_a_round)
    with pytest.raises(Diverged) as err:
        replay(tmp_path / "f.jsonl", workflow, survey)
    assert (err.value.divergence.seq, str(err.value.divergence)) == (
        target["seq"],
        f"seq {target['seq']} ({target['nomination']}): logged round 1; re-derived round 2: "
        "the nomination is in another review round",
    )


def test_replay_names_a_forged_round_cut(finished, tmp_path):
    log, workflow, survey = finished
    target = next(e for e in events_of(log) if e.get("trigger") == "next_round")

    def wider(event):
        if event.get("trigger") == "next_round" and event["nominee"] == target["nominee"]:
            event["evidence"]["cut"] = "top 7"
        return event

    rechained(log, tmp_path / "f.jsonl", wider)
    with pytest.raises(Diverged) as err:
        replay(tmp_path / "f.jsonl", workflow, survey)
    assert (err.value.divergence.seq, err.value.divergence.why) == (target["seq"], "different cut")


def _edit(path: Path, row: int, column: str, value: str) -> None:
    book = load_workbook(path)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    sheet.cell(row, header.index(column) + 1).value = value
    book.save(path)


def _cell(path: Path, row: int, column: str) -> str:
    sheet = load_workbook(path).worksheets[0]
    header = [c.value for c in sheet[1]]
    return sheet.cell(row, header.index(column) + 1).value


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("verdict", "maybe", "verdict must be approve or reject (อนุมัติ or ไม่อนุมัติ)"),
        ("name_en", "Someone else", "{nomination}'s name_en is '{was}'; this column is written by `awards review sheet` and may not be changed: take a new sheet"),
        ("nomination", "OTHER", "reviewer 'a1' is not assigned to {value} (assigned: {seated}); only assigned reviewers give verdicts"),
    ],
)  # fmt: skip
def test_a_hostile_sheet_edit_is_one_located_line_and_changes_nothing(round_one, tmp_path, column, value, message):  # fmt: skip
    url, _, _ = round_one
    path = tmp_path / "a1.xlsx"
    write_sheets(path, reviewer="a1", url=url)
    fill(path, lambda n: "approve")
    nomination, was = _cell(path, 3, "nomination"), _cell(path, 3, column)
    if value == "OTHER":  # a shortlisted nomination a1 holds no seat on
        mine = {_cell(path, r, "nomination") for r in range(2, 16)}
        value = next(f"{AWARD}:D{i:03d}" for i in range(10, 30) if f"{AWARD}:D{i:03d}" not in mine)
    _edit(path, 3, column, value)
    before = logged(url, tmp_path)
    code, said = run("review", "--from", str(path), db=url)
    seated = ", ".join(seats(value, url=url).assigned) if column == "nomination" else ""
    expected = message.format(nomination=nomination, was=was, value=value, seated=seated)
    if column == "nomination":  # the seat is the reviewer's: that is where it is located
        column, value = "reviewer", "a1"
    assert (code, said.splitlines()) == (
        1,
        [f"Error: {path}:3: {column}: {expected} (value: '{value}')"],
    )
    assert logged(url, tmp_path) == before


def test_a_sheet_is_protected_with_a_drop_down_and_editable_verdict_columns(round_one, tmp_path):
    url, _, _ = round_one
    path = tmp_path / "a2.xlsx"
    write_sheets(path, reviewer="a2", url=url)
    sheet = load_workbook(path).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header == [
        "nomination", "reviewer", "round", "name_th", "name_en", "score",
        *(f"{k} (survey)" for k in ("policy", "capability", "services", "back_office", "infrastructure", "technology")),
        "verdict", "note",
        "policy", "capability", "services", "back_office", "infrastructure", "technology",
    ]  # fmt: skip
    assert sheet.protection.sheet is True
    locked = {h: sheet.cell(2, i + 1).protection.locked for i, h in enumerate(header)}
    assert [h for h, lock in locked.items() if not lock] == header[12:]
    lists = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
    assert [(v.formula1, str(v.sqref)) for v in lists] == [('"approve,reject"', "M2:M14")]
    assert (sheet.cell(2, 2).value, sheet.cell(2, 3).value) == ("a2", "1")
    assert sheet.cell(2, 4).value.startswith("กรมทดสอบ")


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_a_reviewer_sheet(round_one, tmp_path):
    url, _, _ = round_one
    path = tmp_path / "a3.xlsx"
    write_sheets(path, reviewer="a3", url=url)
    subprocess.run(
        ["libreoffice", "--headless", "--convert-to", "csv", "--outdir", str(tmp_path), str(path)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    rows = (tmp_path / "a3.csv").read_text(encoding="utf-8").splitlines()
    assert (rows[0].split(",")[:3], len(rows)) == (["nomination", "reviewer", "round"], 14)


def test_review_sheet_refuses_an_unknown_reviewer_and_a_missing_choice(round_one, tmp_path):
    url, _, _ = round_one
    with pytest.raises(AwardsError) as err:
        write_sheets(tmp_path / "x.xlsx", reviewer="zz", url=url)
    assert str(err.value) == "no reviewer 'zz' in cycle dga-2019; reviewers: a1, a2, a3, b1, b2"
    with pytest.raises(AwardsError) as err:
        write_sheets(tmp_path / "x.xlsx", reviewer="b1", url=url)
    assert str(err.value).startswith(
        "reviewer 'b1' has no nomination to review in the current round"
    )
    code, said = run("review", "sheet", "--out", str(tmp_path / "x.xlsx"), db=url)
    assert (code, said) == (1, "Error: give --reviewer ID for one reviewer's sheet, or --all for everyone's\n")  # fmt: skip
    assert not (tmp_path / "x.xlsx").exists()


# The workflow language


def problems(tmp_path: Path, rounds: str, reviewers: str = REVIEWERS) -> list[str]:
    path = two_rounds(tmp_path, rounds, reviewers)
    with pytest.raises(InputErrors) as err:
        parse_workflow(path.read_bytes(), "w.toml")
    return [str(p).split(": ", 1)[1] for p in err.value.problems]


def test_rounds_parse_into_the_award_with_its_panels_and_cut(tmp_path):
    path = two_rounds(tmp_path)
    award = parse_workflow(path.read_bytes(), "w.toml").award(AWARD)
    assert [(r.panel, r.quorum, r.cut and r.cut.top, r.rank_by) for r in award.rounds] == [
        (("a1", "a2", "a3"), 2, 6, "survey"),
        (("b1", "b2"), 2, None, "reviewed"),
    ]
    assert (award.review, award.round_count) == (award.rounds[1], 2)


def test_rounds_refuse_an_undeclared_reviewer_a_cut_on_the_last_round_and_a_small_panel(tmp_path):
    rounds = ROUNDS.replace('"a3"]', '"a4"]').replace('"b2"]\nquorum = 2', '"b2"]\nquorum = 3')
    rounds = rounds.replace('rank_by = "reviewed"', 'rank_by = "reviewed"\ncut = { top = 2 }')
    rounds = rounds.replace("cut = { top = 6 }\n", "")
    assert problems(tmp_path, rounds) == [
        "awards[0].rounds[0]: round 1 needs a cut: who goes on to round 2 (top, threshold or both)",
        "awards[0].rounds[0].panel[2]: no reviewer 'a4' in [[reviewers]]; use one of: a1, a2, a3, b1, b2 (value: 'a4')",
        "awards[0].rounds[1].quorum: a panel of 2 cannot meet quorum 3; name more reviewers or lower the quorum (value: '3')",
        "awards[0].rounds[1].cut: the last round's outcome goes to the award stage; remove its cut (the winners cut decides)",
    ]


def test_rounds_and_a_single_review_are_not_declared_together(tmp_path):
    rounds = 'review = { quorum = 3, approval = "majority" }\n' + ROUNDS
    assert problems(tmp_path, rounds) == [
        "awards[0].review: declare the committee as [awards.review] or as [[awards.rounds]], not both"
    ]


def test_the_report_states_each_round_with_its_panel_and_cut(tmp_path):
    from awards.report.wording import rules

    workflow = parse_workflow(two_rounds(tmp_path).read_bytes(), "w.toml")
    said = next(s for s in rules(workflow, workflow.award(AWARD)) if s.label_en == "committee review")  # fmt: skip
    assert said.en == (
        "round 1: quorum 2, majority, mean of the reviewers' scores, ranked by the survey score, "
        "panel a1, a2, a3; on to the next round: top 6; "
        "round 2: quorum 2, unanimous, median of the reviewers' scores, ranked by the reviewed "
        "score, panel b1, b2"
    )
    assert said.th.startswith("รอบที่ 1 องค์ประชุม 2 คน") and "ผ่านเข้ารอบถัดไป 6 อันดับแรก" in said.th


def test_the_library_writes_the_sheets_the_command_writes(round_one, tmp_path):
    import awards

    url, _, _ = round_one
    with awards.open(url, actor="s") as cycle:
        written = cycle.reviewer_sheets(tmp_path / "lib", every=True)
        assert [s.reviewer for s in written.sheets] == ["a1", "a2", "a3"]
        assert cycle.review_sheet(written.sheets[0].path).verdicts == []


def test_conflicts_and_recusals_hold_in_every_round(db_url, tmp_path):
    finance = "กระทรวงการคลัง"  # the ministry of every department in the small survey
    rounds = ROUNDS.replace('panel = ["b1", "b2"]', 'panel = ["a1", "b1", "b2", "fin"]')
    fin = f'\n[[reviewers]]\nid = "fin"\nname = "Finance reviewer"\nministries = ["{finance}"]\n'
    workflow = two_rounds(tmp_path, rounds, REVIEWERS + fin)
    survey = open_cycle(db_url, tmp_path, workflow=workflow)
    advance(url=db_url, actor="s")
    assign(AWARD, 2, url=db_url, actor="s")
    top = f"{AWARD}:D029"
    recuse(top, reviewer="a1", reason="a former employee", url=db_url, actor="s")
    for s in write_sheets(tmp_path / "r1", every=True, url=db_url).sheets:
        fill(Path(s.path), lambda n: "approve")
        import_verdicts(s.path, url=db_url, actor="s")
    advance(url=db_url, actor="s")

    done = assign(AWARD, 3, url=db_url, actor="s")
    assert done.unfilled == {top: 1}
    assert [p for p in done.pairs if p[1] == "fin" or p == (top, "a1")] == []
    assert seats(top, url=db_url) == Seats(top, ("b1", "b2"), ("a1",))
    for s in write_sheets(tmp_path / "r2", every=True, url=db_url).sheets:
        fill(Path(s.path), lambda n: "approve")
        import_verdicts(s.path, url=db_url, actor="s")
    advance(url=db_url, actor="s")
    export_log(tmp_path / "log.jsonl", url=db_url)
    states = Counter(r.state for r in ranking(AWARD, url=db_url).rows)
    assert states == {"awarded": 6, "rejected": 14, "eliminated": 10}
    assert replay(tmp_path / "log.jsonl", workflow, survey).rule_decisions > 0
    assert audit(url=db_url).clean
