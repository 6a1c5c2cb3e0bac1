"""How figures are written: one rule per kind of figure for the terminal and the report,
and results as JSON-ready values."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from awards.paths import shipped_workflow
from awards.rules.formatting import DASH, figure, level_label, margin, percent, points, share
from awards.rules.plain import Plain, plain
from awards.rules.states import State
from awards.rules.workflow import DEFAULT_LEVELS
from awards.rules.workflow_file import load_workflow

Workflow2023 = load_workflow(shipped_workflow("dga-2023"))


def test_percent_one_of_sixteen_rounds_half_up():
    # 6.25: banker's rounding (Python's format) gives 6.2; the official rule gives 6.3.
    assert percent(1, 16) == "6.3%"


def test_percent_halves_round_away_from_zero():
    assert [percent(1, 8), percent(3, 16), percent(5, 16), percent(1, 40)] == [
        "12.5%",
        "18.8%",
        "31.3%",
        "2.5%",
    ]


def test_percent_of_the_2019_survey_matches_the_published_rates():
    assert (percent(301, 323), percent(1356, 1533)) == ("93.2%", "88.5%")


def test_percent_keeps_trailing_zeros_and_whole_counts():
    assert (percent(0, 7), percent(7, 7), percent(1, 3, 2)) == ("0.0%", "100.0%", "33.33%")


def test_percent_of_zero_is_missing():
    assert (percent(0, 0), percent(0, 0, missing="")) == (DASH, "")


def test_margin_is_signed_and_zero_has_no_sign():
    assert [margin(Decimal(v)) for v in ("1.25", "-0.40", "0.00", "-0.00", "100.00")] == [
        "+1.25",
        "-0.40",
        "0.00",
        "0.00",
        "+100.00",
    ]


def test_margin_without_a_cut_line_is_missing():
    assert (margin(None), margin(None, missing="-")) == (DASH, "-")


def test_share_is_exact_unless_rounded():
    assert [share(Decimal("0.20")), share(Decimal("0.125")), share(Decimal("1"))] == [
        "20%",
        "12.5%",
        "100%",
    ]
    assert share(Decimal("0.2133333"), 1) == "21.3%"
    assert share(Decimal("0.18750"), 1) == "18.8%"  # half-up, not half-even


def test_points_use_a_typographic_minus():
    assert (points(Decimal("0.05")), points(Decimal("-0.05")), points(Decimal(0))) == (
        "+5 pp",
        "−5 pp",
        "0 pp",
    )


def test_level_label_names_declared_levels_in_both_languages():
    wf = Workflow2023
    assert [level_label(wf.level(k)) for k in ("department", "local", "other")] == [
        "Department level (ระดับกรม)",
        "Local administrative organisations (องค์กรปกครองส่วนท้องถิ่น)",
        "other",
    ]
    assert [level_label(level) for level in DEFAULT_LEVELS] == [
        "department-level (ระดับกรม)",
        "provincial (ระดับจังหวัด)",
    ]


def test_figure_is_the_value_as_computed():
    assert (figure(Decimal("1.50")), figure(None), figure(3), figure(None, missing="")) == (
        "1.50",
        DASH,
        "3",
        "",
    )


@dataclass(frozen=True)
class _Inner:
    score: Decimal
    names: tuple[str, ...]


@dataclass(frozen=True)
class _Result(Plain):
    state: State
    out: Path
    inner: _Inner
    by: dict[str, Decimal | None] = field(default_factory=dict)


def test_as_dict_gives_json_ready_values():
    result = _Result(
        State.AWARDED,
        Path("certificates"),
        _Inner(Decimal("64.60"), ("a", "b")),
        {"weighted": Decimal("51.09"), "none": None},
    )
    expected = {
        "state": "awarded",
        "out": "certificates",
        "inner": {"score": "64.60", "names": ["a", "b"]},
        "by": {"weighted": "51.09", "none": None},
    }
    assert result.as_dict() == expected
    assert json.loads(json.dumps(result.as_dict())) == expected
    assert plain([result]) == [expected]


def test_status_and_report_print_the_same_response_rate(tmp_path: Path):
    from click.testing import CliRunner

    from awards.cli import main

    from support import WORKFLOW, agency_line, write_survey

    lines = [agency_line(f"D{i:03d}", f"กรมทดสอบ{i:03d}", responded="yes" if i == 0 else "no")
             for i in range(16)]  # fmt: skip
    survey = write_survey(tmp_path / "survey.csv", lines)
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    runner = CliRunner(env={"COLUMNS": "240"})
    for args in (("init", str(WORKFLOW)), ("import", str(survey))):
        assert runner.invoke(main, ["--db", url, *args]).exit_code == 0
    status = runner.invoke(main, ["--db", url, "status"])
    out = tmp_path / "report.html"
    report = runner.invoke(main, ["--db", url, "report", "--out", str(out)])
    assert (status.exit_code, report.exit_code) == (0, 0)
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in status.output.splitlines()
        if line.count("│") >= 3
    }
    assert (rows["responded"], rows["response rate"]) == ("1/16", "6.3%")
    assert '<td class="num">1/16</td><td class="num">6.3%</td>' in out.read_text(encoding="utf-8")
