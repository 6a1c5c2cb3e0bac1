"""The later programme's categories end to end: declared levels and fields in the survey,
segments, quotas, tiers and joint ties through advance, the log and the offline replay."""

from __future__ import annotations

import json
import random
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awards.cli import main
from awards.commands.advance import advance
from awards.commands.logbook import export_log, history
from awards.errors import InputErrors
from awards.log.replay import replay
from awards.rules.survey import read_survey
from awards.rules.workflow_file import load_workflow, parse_workflow
from awards.store.cycles import import_survey, init_cycle

DIMENSIONS = ("policy", "capability", "services", "back_office", "infrastructure", "technology")
HEAD = (
    """schema_version = 1
[cycle]
id = "cat-2023"
title_th = "ทดสอบ"
title_en = "Test"
year = 2023

[[levels]]
key = "department"
title_th = "ระดับกรม"
title_en = "Department level"

[[levels]]
key = "local"
title_th = "องค์กรปกครองส่วนท้องถิ่น"
title_en = "Local organisations"
"""
    + "".join(
        f'\n[[dimensions]]\nkey = "{d}"\ntitle_th = "{d}"\ntitle_en = "{d}"\nweight = {w}\n'
        for d, w in zip(DIMENSIONS, ("0.20", "0.20", "0.30", "0.10", "0.15", "0.05"), strict=True)
    )
    + """
[survey]
[[survey.fields]]
key = "agency_type"
values = ["a", "b", "c"]

[[survey.fields]]
key = "votes"
kind = "count"
"""
)
HEADER = "agency_id,name_th,name_en,level,ministry,province,responded," + ",".join(DIMENSIONS)
HEADER += ",agency_type,votes"
MINISTRIES = ("กระทรวงการคลัง", "กระทรวงมหาดไทย", "กระทรวงพาณิชย์")


def award(
    *, segment: bool, quota: int | None, tiers: bool, joint: bool, votes: bool, top: int
) -> str:
    lines = [
        "[[awards]]", 'id = "cat"', 'code = "CAT"', 'title_th = "รางวัล"', 'title_en = "Award"',
        'kind = "certificate"', 'template = "certificate"', 'tie_break = ["name_th", "id"]',
        'pool = { level = "department" }', f"winners = {{ top = {top} }}",
    ]  # fmt: skip
    if votes:
        lines.append('score = "votes"')
    if segment:
        lines.append('segment_by = "agency_type"')
    if quota is not None:
        lines.append(f'quota = {{ field = "ministry", max = {quota} }}')
    if tiers and not votes:
        lines.append(
            'tiers = [{ key = "high", title_th = "สูง", title_en = "High", min = 60 },'
            ' { key = "mid", title_th = "กลาง", title_en = "Mid", min = 52, max = 60 }]'
        )
    if joint:
        lines.append('ties = "joint"')
    return "\n".join(lines) + "\n"


def survey(rng: random.Random, n: int) -> str:
    rows = [HEADER]
    for i in range(n):
        level = "department" if i % 5 else "local"
        score = rng.choice((50, 55, 60, 65))  # few values, so ties at the cut are common
        rows.append(",".join([
            f"A{i:03d}", f"กรมทดสอบ{i:03d}", f"Agency {i}", level, rng.choice(MINISTRIES), "",
            "yes", *[str(score)] * 6, rng.choice("abc"), str(rng.choice((0, 10, 10, 20))),
        ]))  # fmt: skip
    return "\n".join(rows) + "\n"


def awarded_events(url: str) -> list[dict]:
    return [
        e
        for e in history(url=url)
        if e["kind"] == "transition" and e["trigger"] in ("award", "pass_over")
    ]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(4, 30),
    segment=st.booleans(),
    quota=st.none() | st.integers(1, 2),
    tiers=st.booleans(),
    joint=st.booleans(),
    votes=st.booleans(),
    top=st.integers(1, 4),
)
def test_advance_export_and_replay_agree_on_every_category_rule(
    seed: int, n: int, segment: bool, quota: int | None, tiers: bool, joint: bool, votes: bool,
    top: int,
):  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        workflow = folder / "cat.toml"
        workflow.write_text(HEAD + award(segment=segment, quota=quota, tiers=tiers, joint=joint,
                                         votes=votes, top=top), encoding="utf-8")  # fmt: skip
        data = folder / "survey.csv"
        data.write_text(survey(random.Random(seed), n), encoding="utf-8")
        url = f"sqlite:///{folder / 'awards.db'}"
        init_cycle(workflow, url=url, actor="t")
        import_survey(data, url=url, actor="t")
        advance(url=url, actor="t")
        log = folder / "log.jsonl"
        export_log(log, url=url)

        replayed = replay(log, workflow, data)

        decided = awarded_events(url)
        winners = [e for e in decided if e["trigger"] == "award"]
        assert replayed.rule_decisions > 0
        by_id = {line.split(",")[0]: line.split(",") for line in data.read_text().splitlines()[1:]}
        if quota is not None:
            per = Counter((e["evidence"].get("segment"), by_id[e["nominee"]][4]) for e in winners)
            assert max(per.values(), default=0) <= quota
        if tiers and not votes:
            for e in winners:
                score = float(e["evidence"]["score"])
                assert e["evidence"]["tier"] == ("high" if score >= 60 else "mid")
        if joint:
            last = {}
            for e in winners:
                seg = e["evidence"].get("segment")
                last[seg] = min(last.get(seg, float("inf")), float(e["evidence"]["score"]))
            for e in decided:
                if e["trigger"] == "pass_over" and "quota_full" not in e["evidence"]:
                    seg = e["evidence"].get("segment")
                    assert float(e["evidence"]["score"]) != last.get(seg), e


def test_local_organisations_never_change_the_department_mean(tmp_path: Path):
    workflow = tmp_path / "cat.toml"
    workflow.write_text(HEAD + award(segment=False, quota=None, tiers=False, joint=False,
                                     votes=False, top=1), encoding="utf-8")  # fmt: skip
    data = tmp_path / "survey.csv"
    data.write_text(survey(random.Random(1), 20), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    init_cycle(workflow, url=url, actor="t")
    import_survey(data, url=url, actor="t")
    rows = [line.split(",") for line in data.read_text().splitlines()[1:]]

    code = CliRunner().invoke(main, ["--db", url, "status", "--json"])
    national = json.loads(code.output)["national"]

    departments = [int(r[7]) for r in rows if r[3] == "department"]
    assert list(national) == ["department", "local"]
    assert national["department"]["responded"] == len(departments)
    assert national["local"]["label"] == "Local organisations (องค์กรปกครองส่วนท้องถิ่น)"


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({"level": "provincial"}, "level: unknown level; use one of: department, local, กรม (value: 'provincial')"),
        ({"agency_type": "d"}, "agency_type: not a value of 'agency_type'; use one of: 'a', 'b', 'c' (value: 'd')"),
        ({"votes": "-3"}, "votes: not a whole number of 0 or more (value: '-3')"),
        ({"votes": ""}, "votes: required: a whole number of 0 or more (value: '')"),
    ],
)  # fmt: skip
def test_survey_values_outside_the_declared_levels_and_fields_are_located(
    tmp_path: Path, cells: dict[str, str], message: str
):
    wf = parse_workflow((HEAD + award(segment=False, quota=None, tiers=False, joint=False, votes=False, top=1)).encode(), "cat.toml")  # fmt: skip
    names = HEADER.split(",")
    row = [
        "A001",
        "กรมทดสอบ",
        "Agency",
        "department",
        MINISTRIES[0],
        "",
        "yes",
        *["50"] * 6,
        "a",
        "5",
    ]
    for key, value in cells.items():
        row[names.index(key)] = value
    data = tmp_path / "survey.csv"
    data.write_text(HEADER + "\n" + ",".join(row) + "\n", encoding="utf-8")

    with pytest.raises(InputErrors) as raised:
        read_survey(data, wf)

    assert str(raised.value) == f"{data}:2: {message}"


def test_the_shipped_2023_workflow_declares_every_category_rule():
    wf = load_workflow(Path(__file__).resolve().parent.parent / "workflows" / "dga-2023.toml")
    awards = {a.id: a for a in wf.awards}
    assert [level.key for level in wf.levels] == ["department", "provincial", "local"]
    assert (awards["department-by-type"].segment_by, awards["local-by-size"].segment_by) == (
        "agency_type", "size_class",
    )  # fmt: skip
    assert awards["digital-personnel"].quota is not None
    assert [t.key for t in awards["department-tiers"].tiers] == ["outstanding", "good"]
    assert (awards["popular-vote"].score, awards["popular-vote"].ties) == ("votes", "joint")
