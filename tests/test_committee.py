"""The committee: reviewers, assignment with conflicts of interest, recusal, adjusted scores,
review rules, verdict sheets, and their replay."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from awards.commands.advance import advance
from awards.commands.logbook import export_log, history
from awards.commands.results import ranking
from awards.commands.seats import add_reviewer, assign, list_reviewers, recuse, seats
from awards.commands.verdicts import import_verdicts
from awards.errors import ConflictError, InputErrors
from awards.log.replay import Diverged, replay
from awards.rules.committee import Vote, conflict, tally
from awards.rules.committee import assign as assign_pairs
from awards.rules.scoring import candidates
from awards.rules.survey import read_survey
from awards.rules.workflow import Reviewer
from awards.rules.workflow_file import load_workflow

from support import WORKFLOW, agency_line, open_cycle, review, write_survey

FINANCE, INTERIOR = "กระทรวงการคลัง", "กระทรวงมหาดไทย"
AWARD = "top-department"


def mixed_survey(path: Path) -> Path:
    """30 departments, even ones of the Ministry of Finance, odd ones of the Interior."""
    lines = [
        agency_line(f"D{i:03d}", f"กรมทดสอบ{i:03d}", tuple(str(40 + i + d) for d in range(6)),
                    ministry=FINANCE if i % 2 == 0 else INTERIOR)
        for i in range(30)
    ]  # fmt: skip
    return write_survey(path, lines)


def workflow_with(tmp_path: Path, review_rule: str) -> Path:
    text = WORKFLOW.read_text(encoding="utf-8").replace(
        'review = { quorum = 3, approval = "majority" }', f"review = {review_rule}"
    )
    path = tmp_path / "workflow.toml"
    path.write_text(text, encoding="utf-8")
    return path


def opened(url: str, tmp_path: Path, workflow: Path = WORKFLOW) -> Path:
    survey = open_cycle(
        url, tmp_path, workflow=workflow, survey=mixed_survey(tmp_path / "survey.csv")
    )
    advance(url=url, actor="s")
    return survey


COMMITTEE = (
    Reviewer("fin", "Finance reviewer", (FINANCE,)),
    Reviewer("int", "Interior reviewer", (INTERIOR,)),
    Reviewer("a", "Reviewer a"),
    Reviewer("b", "Reviewer b"),
    Reviewer("c", "Reviewer c"),
)


def seated(url: str, per_nomination: int = 3) -> None:
    for r in COMMITTEE:
        add_reviewer(r, url=url, actor="s")
    assign(AWARD, per_nomination, url=url, actor="s")


@pytest.fixture
def cycle(db_url: str, tmp_path: Path) -> str:
    opened(db_url, tmp_path)
    seated(db_url)
    return db_url


# The rules, pure


def test_assignment_is_balanced_deterministic_and_free_of_conflicts(tmp_path):
    workflow = load_workflow(WORKFLOW)
    award = workflow.award(AWARD)
    nominees = candidates(
        workflow, award, read_survey(mixed_survey(tmp_path / "s.csv"), workflow).agencies
    )
    pairs, unfilled = assign_pairs(award, COMMITTEE, nominees, 3, {}, {}, Counter())
    shuffled = random.Random(7).sample(nominees, len(nominees))
    again, _ = assign_pairs(award, list(reversed(COMMITTEE)), shuffled, 3, {}, {}, Counter())
    by_id = {r.id: r for r in COMMITTEE}
    nominee = {c.nominee_id: c for c in nominees}
    load = Counter(p.reviewer for p in pairs)
    assert again == pairs
    assert unfilled == {}
    assert [p for p in pairs if conflict(award, by_id[p.reviewer], nominee[p.nominee_id])] == []
    assert Counter(p.nominee_id for p in pairs) == dict.fromkeys(nominee, 3)
    # fin and int may review only the other ministry's 15 departments; a, b and c share the
    # rest evenly
    assert load == {"a": 21, "b": 20, "c": 20, "fin": 15, "int": 14}


def test_tally_combines_adjusted_scores_by_mean_or_median_with_disagreement(tmp_path):
    workflow = load_workflow(workflow_with(tmp_path, '{ quorum = 3, aggregate = "median" }'))
    award = workflow.award(AWARD)
    survey = read_survey(mixed_survey(tmp_path / "s.csv"), workflow)
    d029 = next(c for c in candidates(workflow, award, survey.agencies) if c.nominee_id == "D029")
    votes = [
        Vote("a", True, {}),  # the survey's 70.95
        Vote("b", True, {"services": Decimal(100)}),  # + 0.3 x 29 = 79.65
        Vote("c", False, {"services": Decimal(0), "policy": Decimal(0)}),  # - 21.3 - 13.8 = 35.85
    ]
    t = tally(workflow, award, d029, votes)
    assert (d029.score, t.approvals, t.rejections) == (Decimal("70.95"), 2, 1)
    assert (t.aggregate, t.low, t.high, t.sd) == (
        Decimal("70.95"), Decimal("35.85"), Decimal("79.65"), Decimal("18.93"),
    )  # fmt: skip
    mean = tally(workflow, workflow_with_mean(workflow), d029, votes)
    assert mean.aggregate == Decimal("62.15")


def workflow_with_mean(workflow):
    import dataclasses

    award = workflow.award(AWARD)
    return dataclasses.replace(award, review=dataclasses.replace(award.review, aggregate="mean"))


# Assignment and conflicts of interest, on every backend


def test_same_ministry_reviewer_is_never_assigned_and_a_forced_verdict_is_refused(cycle):
    shortlisted = [r for r in ranking(AWARD, url=cycle).rows if r.state == "shortlisted"]
    for row in shortlisted:
        given = seats(row.nomination, url=cycle).assigned
        own = "fin" if int(row.nominee_id[1:]) % 2 == 0 else "int"
        assert own not in given
        assert len(given) == 3
    with pytest.raises(ConflictError) as err:
        review("top-department:D028", approve=True, reviewer="fin", url=cycle)
    assert str(err.value) == (
        "reviewer 'fin' has a conflict of interest with top-department:D028 "
        f"(same ministry: {FINANCE}); their verdict cannot count"
    )


def test_a_verdict_from_an_unassigned_reviewer_is_refused(cycle):
    outsider = (
        {"a", "b", "c", "int"} - set(seats("top-department:D028", url=cycle).assigned)
    ).pop()
    with pytest.raises(ConflictError) as err:
        review("top-department:D028", approve=True, reviewer=outsider, url=cycle)
    assigned = ", ".join(seats("top-department:D028", url=cycle).assigned)
    assert str(err.value) == (
        f"reviewer '{outsider}' is not assigned to top-department:D028 (assigned: {assigned}); "
        "only assigned reviewers give verdicts"
    )


def test_assign_again_fills_only_open_places_and_logs_each_assignment(cycle):
    again = assign(AWARD, 3, url=cycle, actor="s")
    assert again.pairs == []
    events = [e for e in history(url=cycle, award=AWARD) if e["kind"] == "assigned"]
    assert len(events) == 20 * 3
    assert {e["per_nomination"] for e in events} == {3}


def test_recusal_drops_the_verdict_and_the_next_eligible_reviewer_takes_the_place(cycle):
    code = "top-department:D029"
    first = seats(code, url=cycle).assigned[0]
    review(code, approve=False, reviewer=first, url=cycle)
    done = recuse(code, reviewer=first, reason="my brother works there", url=cycle, actor="s")
    after = seats(code, url=cycle)
    assert (done.was_assigned, done.dropped) == (
        True,
        {"verdict": "reject", "scores": {}, "note": ""},
    )
    assert done.replacement is not None and done.replacement in after.assigned
    assert (len(after.assigned), after.recused) == (3, (first,))
    row = next(r for r in ranking(AWARD, url=cycle).rows if r.nomination == code)
    assert (row.approvals, row.rejections) == (0, 0)
    with pytest.raises(ConflictError):
        review(code, approve=True, reviewer=first, url=cycle)
    kinds = [e["kind"] for e in history(url=cycle, nominee="D029", award=AWARD)][-2:]
    assert kinds == ["recused", "assigned"]


def test_advance_reports_who_each_waiting_nomination_waits_for(cycle):
    code = "top-department:D029"
    assigned = seats(code, url=cycle).assigned
    review(code, approve=True, reviewer=assigned[0], url=cycle)
    result = advance(url=cycle, actor="s", award=AWARD)
    waiting = {w.nomination: w for w in result.stages[0].waiting}
    assert (waiting[code].approvals, waiting[code].reviewers, waiting[code].unassigned) == (
        1,
        assigned[1:],
        0,
    )


def test_changing_a_verdict_logs_old_and_new_values_and_stops_once_reviewed(cycle):
    code = "top-department:D029"
    a, b, c = seats(code, url=cycle).assigned
    review(code, approve=True, reviewer=a, url=cycle, scores={"services": Decimal("80")})
    changed = review(
        code,
        approve=True,
        reviewer=a,
        url=cycle,
        scores={"services": Decimal("90")},
        note="recounted",
    )
    event = [e for e in history(url=cycle, nominee="D029", award=AWARD) if e["kind"] == "verdict"][
        -1
    ]
    assert (event["previous"], event["scores"], event["note"]) == (
        {"verdict": "approve", "scores": {"services": "80"}, "note": ""},
        {"services": "90"},
        "recounted",
    )
    assert changed.changed
    for r in (b, c):
        review(code, approve=True, reviewer=r, url=cycle)
    advance(url=cycle, actor="s", award=AWARD)
    with pytest.raises(Exception, match="verdicts are taken only while it is 'shortlisted'"):
        review(code, approve=False, reviewer=a, url=cycle)


def test_ranking_shows_the_aggregate_and_the_disagreement(cycle):
    code = "top-department:D029"
    a, b, _ = seats(code, url=cycle).assigned
    review(code, approve=True, reviewer=a, url=cycle)
    review(code, approve=True, reviewer=b, url=cycle, scores={"services": Decimal(100)})
    row = next(r for r in ranking(AWARD, url=cycle).rows if r.nomination == code)
    assert (row.aggregate, row.sd, row.low, row.high) == (
        Decimal("75.30"), Decimal("4.35"), Decimal("70.95"), Decimal("79.65"),
    )  # fmt: skip


# The review rule decides


def give_all(url: str, approve=lambda code, reviewer: True, scores=lambda code, reviewer: {}):
    for row in ranking(AWARD, url=url).rows:
        if row.state == "shortlisted":
            for r in seats(row.nomination, url=url).assigned:
                review(row.nomination, approve=approve(row.nomination, r), reviewer=r, url=url,
                       scores=scores(row.nomination, r))  # fmt: skip


def test_unanimity_rejects_on_a_single_reject(db_url, tmp_path):
    opened(db_url, tmp_path, workflow_with(tmp_path, '{ quorum = 3, approval = "unanimous" }'))
    seated(db_url)
    first = {}
    give_all(
        db_url,
        approve=lambda code, r: first.setdefault(code, r) != r or code != "top-department:D029",
    )
    advance(url=db_url, actor="s")
    states = {r.nominee_id: r.state for r in ranking(AWARD, url=db_url).rows}
    assert (states["D029"], states["D028"]) == ("rejected", "awarded")


def test_reviewed_score_ranking_lets_the_committee_reorder_the_winners(db_url, tmp_path):
    workflow = workflow_with(tmp_path, '{ quorum = 3, aggregate = "median", rank_by = "reviewed" }')
    survey = opened(db_url, tmp_path, workflow)
    seated(db_url)
    lifted = {"services": Decimal(100), "policy": Decimal(100), "capability": Decimal(100)}
    give_all(db_url, scores=lambda code, r: lifted if code == "top-department:D010" else {})
    advance(url=db_url, actor="s")
    rows = {r.nominee_id: r for r in ranking(AWARD, url=db_url).rows}
    assert (rows["D010"].state, rows["D010"].rank, rows["D020"].state) == (
        "awarded",
        1,
        "not_awarded",
    )
    export_log(tmp_path / "log.jsonl", url=db_url)
    assert replay(tmp_path / "log.jsonl", workflow, survey).rule_decisions > 0


# Verdict sheets


def sheet(
    path: Path, rows: list[str], header: str = "nomination,reviewer,verdict,note,services"
) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_sheet_with_any_bad_row_records_nothing_and_names_every_problem(cycle, tmp_path):
    a, b, _ = seats("top-department:D029", url=cycle).assigned
    before = len(history(url=cycle))
    bad = sheet(tmp_path / "v.csv", [
        f"top-department:D029,{a},approve,fine,",
        f"top-department:D029,{b},maybe,,",
        "top-department:D028,fin,approve,,",
        f"top-department:D027,{a},อนุมัติ,,120",
        f"top-department:D029,{a},reject,,",
        "top-department:D001,a,approve,,",
    ])  # fmt: skip
    with pytest.raises(InputErrors) as err:
        import_verdicts(bad, url=cycle, actor="s")
    assert [str(p) for p in err.value.problems] == [
        f"{bad}:3: verdict: verdict must be approve or reject (อนุมัติ or ไม่อนุมัติ) (value: 'maybe')",
        f"{bad}:4: reviewer: reviewer 'fin' has a conflict of interest with top-department:D028 (same ministry: {FINANCE}); their verdict cannot count (value: 'fin')",
        f"{bad}:5: services: adjusted score must be between 0 and 100; leave the cell empty to keep the survey score (value: '120')",
        f"{bad}:6: reviewer: a second verdict of {a} on top-department:D029 (first in row 2); keep one (value: '{a}')",
        f"{bad}:7: nomination: nomination top-department:D001 is 'eliminated'; verdicts are taken only while it is 'shortlisted' (value: 'top-department:D001')",
    ]
    assert len(history(url=cycle)) == before


def test_a_good_sheet_is_recorded_and_importing_it_again_changes_nothing(cycle, tmp_path):
    a, b, c = seats("top-department:D029", url=cycle).assigned
    good = sheet(tmp_path / "v.csv", [
        f"top-department:D029,{a},approve,,",
        f"top-department:D029,{b},อนุมัติ,checked on site,75",
        f"top-department:D029,{c},reject,,",
    ])  # fmt: skip
    first = import_verdicts(good, url=cycle, actor="secretary")
    again = import_verdicts(good, url=cycle, actor="secretary")
    assert (first.changed, again.changed) == (3, 0)
    event = [e for e in history(url=cycle, nominee="D029", award=AWARD) if e["kind"] == "verdict"][
        1
    ]
    assert (event["reviewer"], event["scores"], event["note"], event["source"]["imported_by"]) == (
        b, {"services": "75"}, "checked on site", "secretary",
    )  # fmt: skip


def test_a_workbook_sheet_is_read_like_a_csv(cycle, tmp_path):
    from openpyxl import Workbook

    a = seats("top-department:D029", url=cycle).assigned[0]
    book = Workbook()
    book.active.append(["nomination", "reviewer", "verdict", "services"])
    book.active.append(["top-department:D029", a, "approve", 82.5])
    book.save(tmp_path / "v.xlsx")
    done = import_verdicts(tmp_path / "v.xlsx", url=cycle, actor="s")
    assert [(v.reviewer, v.verdict) for v in done.verdicts] == [(a, "approve")]
    row = next(r for r in ranking(AWARD, url=cycle).rows if r.nominee_id == "D029")
    assert row.high == Decimal("74.40")  # 70.95 + 0.3 x (82.5 - 71)


def test_reviewers_list_shows_each_load(cycle):
    listed = {x.reviewer.id: x for x in list_reviewers(url=cycle)}
    assert sum(x.assigned for x in listed.values()) == 60
    assert (listed["fin"].reviewer.ministries, listed["a"].waiting) == (
        (FINANCE,),
        listed["a"].assigned,
    )


def test_reviewers_list_counts_the_verdicts_given_once_the_review_is_over(cycle):
    give_all(cycle)
    advance(url=cycle, actor="s")  # no nomination is shortlisted any more

    listed = list_reviewers(url=cycle)

    assert sum(x.verdicts for x in listed) == 60
    assert [(x.verdicts, x.waiting) for x in listed] == [(x.assigned, 0) for x in listed]


# Replay of a committee's log


@pytest.fixture(scope="module")
def committee_log(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("committee")
    url = f"sqlite:///{tmp / 'awards.db'}"
    survey = opened(url, tmp)
    seated(url)
    recuse(
        "top-department:D029",
        reviewer=seats("top-department:D029", url=url).assigned[0],
        reason="family",
        url=url,
        actor="s",
    )
    give_all(
        url,
        approve=lambda code, r: r != "c",
        scores=lambda code, r: {"services": Decimal(90)} if r == "a" else {},
    )
    advance(url=url, actor="s")
    export_log(tmp / "log.jsonl", url=url)
    return tmp / "log.jsonl", survey


def events_of(log: Path) -> list[dict]:
    return [orjson.loads(line)["event"] for line in log.read_bytes().splitlines()]


def test_replay_re_derives_assignments_recusals_and_aggregates(committee_log):
    log, survey = committee_log
    result = replay(log, WORKFLOW, survey)
    kinds = Counter(e["kind"] for e in events_of(log))
    assert kinds["assigned"] == 61 and kinds["recused"] == 1
    assert result.human_decisions == kinds["verdict"] + kinds["recused"] + kinds["reviewer_added"]


def forge(log: Path, out: Path, edit) -> None:
    from test_replay import rechained

    rechained(log, out, edit)


def test_replay_catches_a_forged_assignment(committee_log, tmp_path):
    log, survey = committee_log
    target = next(e for e in events_of(log) if e["kind"] == "assigned" and e["nominee"] == "D020")

    def swap(event):
        if (
            event.get("kind") == "assigned"
            and event["nominee"] == "D020"
            and event["reviewer"] == target["reviewer"]
        ):
            event["reviewer"] = "fin"
        return event

    forge(log, tmp_path / "f.jsonl", swap)
    with pytest.raises(Diverged) as err:
        replay(tmp_path / "f.jsonl", WORKFLOW, survey)
    assert (err.value.divergence.seq, err.value.divergence.why) == (
        target["seq"], "different assignment (least load first, no conflict of interest)",
    )  # fmt: skip


def test_replay_catches_a_forged_aggregate(committee_log, tmp_path):
    log, survey = committee_log
    target = next(e for e in events_of(log) if e.get("trigger") == "approve")

    def inflate(event):
        if event.get("trigger") == "approve" and event["nominee"] == target["nominee"]:
            event["evidence"]["aggregate"] = "99.99"
        return event

    forge(log, tmp_path / "f.jsonl", inflate)
    with pytest.raises(Diverged) as err:
        replay(tmp_path / "f.jsonl", WORKFLOW, survey)
    assert (err.value.divergence.seq, err.value.divergence.why) == (
        target["seq"],
        "different aggregate",
    )


# The commands


def test_commands_refuse_a_conflicted_verdict_and_a_bad_sheet_with_exit_1(tmp_path):
    from test_cli import run

    url = f"sqlite:///{tmp_path / 'awards.db'}"
    opened(url, tmp_path)
    seated(url)
    code, out = run("review", "top-department:D028", "--approve", "--reviewer", "fin", db=url)
    assert (code, out) == (
        1,
        "Error: reviewer 'fin' has a conflict of interest with top-department:D028 "
        f"(same ministry: {FINANCE}); their verdict cannot count\n",
    )
    bad = sheet(tmp_path / "v.csv", ["top-department:D028,fin,approve,,"])
    code, out = run("review", "--from", str(bad), db=url)
    assert code == 1
    assert out.splitlines()[-1].endswith("their verdict cannot count (value: 'fin')")
    code, out = run("recuse", "top-department:D029", "--reviewer", "a", "--reason", "", db=url)
    assert (code, out) == (1, "Error: a recusal needs a reason: say why with --reason\n")
    code, out = run("reviewers", "list", "--json", db=url)
    assert [r["id"] for r in orjson.loads(out)] == ["a", "b", "c", "fin", "int"]


@pytest.mark.parametrize("kind", ["assigned", "verdict", "recused"])
@pytest.mark.parametrize("tamper", ["byte", "field", "drop", "swap"])
def test_replay_names_the_exact_seq_of_any_single_edit(committee_log, tmp_path, kind, tamper):
    from awards.errors import LogError
    from awards.log.chain import export_line, sha256

    log, survey = committee_log
    lines = log.read_bytes().splitlines(keepends=True)
    seq = next(e["seq"] for e in events_of(log) if e["kind"] == kind)
    i = seq - 1
    if tamper == "byte":
        line = bytearray(lines[i])
        line[line.index(b'"reviewer":"') + 12] ^= 1
        lines[i] = bytes(line)
    elif tamper == "field":  # the edit's own hash restated: only the chain can tell
        event = orjson.loads(lines[i])["event"]
        event["reviewer"] = "zz"
        body = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
        lines[i] = export_line(body, sha256(body))
    elif tamper == "drop":
        del lines[i]
    else:
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    forged = tmp_path / "forged.jsonl"
    forged.write_bytes(b"".join(lines))
    with pytest.raises((LogError, Diverged)) as err:
        replay(forged, WORKFLOW, survey)
    if isinstance(err.value, Diverged):  # the chain broke at the next line; the rules say here
        assert (tamper, err.value.divergence.seq) == ("field", seq)
    else:
        assert str(err.value).startswith(f"{forged}:{seq}: ")
