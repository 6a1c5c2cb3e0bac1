import csv
import re
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from awards.commands.reference_2019 import DIMENSIONS, MINISTRIES
from awards.commands.synthetic import HEADER, SampleStats, generate_survey
from awards.rules.workflow import DEFAULT_COLUMNS

PUBLISHED = {
    "department": ("57.21", "66.08", "68.57", "61.97", "75.36", "37.46"),
    "provincial": ("41.07", "57.20", "53.66", "52.57", "59.65", "22.73"),
}
WEIGHTS = tuple(Decimal(w) for w in ("0.20", "0.20", "0.30", "0.10", "0.15", "0.05"))
SCORE = re.compile(r"\d{1,3}\.\d{2}")


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def respondents(rows: list[dict[str, str]], level: str) -> list[dict[str, str]]:
    return [r for r in rows if r["level"] == level and r["responded"] == "yes"]


def dimension_means(rows: list[dict[str, str]], level: str) -> tuple[Decimal, ...]:
    answered = respondents(rows, level)
    return tuple(sum(Decimal(r[d]) for r in answered) / len(answered) for d in DIMENSIONS)


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleStats]:
    path = tmp_path_factory.mktemp("sample") / "survey-2019.csv"
    return path, generate_survey(path)


@pytest.fixture(scope="module")
def rows(survey: tuple[Path, SampleStats]) -> list[dict[str, str]]:
    return read_rows(survey[0])


def test_generate_survey_header_is_the_first_line(survey):
    path, _ = survey

    first = path.read_text(encoding="utf-8").split("\n", 1)[0]

    assert first == (
        "agency_id,name_th,name_en,level,ministry,province,responded,policy,capability,"
        "services,back_office,infrastructure,technology,copy_free"
    )
    assert HEADER[: len(DEFAULT_COLUMNS)] == DEFAULT_COLUMNS


def test_generate_survey_default_counts_are_those_of_2019(survey, rows):
    _, stats = survey
    levels = Counter(r["level"] for r in rows)
    answered = Counter(r["level"] for r in rows if r["responded"] == "yes")
    provinces = {r["province"] for r in rows if r["level"] == "provincial"}

    assert levels == {"department": 323, "provincial": 1533}
    assert answered == {"department": 301, "provincial": 1356}
    assert len(provinces) == 76
    assert "กรุงเทพมหานคร" not in provinces
    assert (stats.departments, stats.departments_responded) == (323, 301)
    assert (stats.provincial, stats.provincial_responded, stats.provinces) == (1533, 1356, 76)


def test_generate_survey_same_seed_gives_same_bytes(survey, tmp_path):
    path, _ = survey

    generate_survey(tmp_path / "again.csv", seed=2019)

    assert (tmp_path / "again.csv").read_bytes() == path.read_bytes()


def test_generate_survey_other_seed_gives_other_bytes(survey, tmp_path):
    path, _ = survey

    generate_survey(tmp_path / "other.csv", seed=2020)

    assert (tmp_path / "other.csv").read_bytes() != path.read_bytes()


def test_generate_survey_ids_and_names_are_unique(rows):
    for column in ("agency_id", "name_th", "name_en"):
        assert len({r[column] for r in rows}) == len(rows)
    assert rows[0]["agency_id"] == "D0001"
    assert rows[322]["agency_id"] == "D0323"
    assert rows[323]["agency_id"] == "P00001"
    assert rows[-1]["agency_id"] == "P01533"


def test_generate_survey_every_name_is_labelled_synthetic(rows):
    assert [r for r in rows if not r["name_en"].endswith(" (synthetic)")] == []
    assert [r for r in rows if not r["name_th"].endswith(" (สมมติ)")] == []


def test_generate_survey_departments_belong_to_real_ministries(rows):
    ministries = {m[0] for m in MINISTRIES}
    departments = [r for r in rows if r["level"] == "department"]

    assert {r["ministry"] for r in departments} == ministries
    assert {r["province"] for r in departments} == {""}
    assert [r for r in departments if not r["name_th"].startswith("กรม")] == []
    assert [r for r in departments if not r["name_en"].startswith("Department of ")] == []


def test_generate_survey_provinces_hold_15_to_25_agencies_and_8_respondents(rows):
    provincial = [r for r in rows if r["level"] == "provincial"]
    agencies = Counter(r["province"] for r in provincial)
    answered = Counter(r["province"] for r in provincial if r["responded"] == "yes")

    assert 15 <= min(agencies.values()) <= max(agencies.values()) <= 25
    assert min(answered.values()) >= 8
    assert [r for r in provincial if r["province"] not in r["name_th"]] == []


def test_generate_survey_exact_means_equal_the_published_means(survey, rows):
    _, stats = survey

    for level, published in PUBLISHED.items():
        assert dimension_means(rows, level) == tuple(Decimal(m) for m in published)
    assert stats.department_means == tuple(Decimal(m) for m in PUBLISHED["department"])
    assert stats.provincial_means == tuple(Decimal(m) for m in PUBLISHED["provincial"])


def test_generate_survey_weighted_means_round_to_the_published_overall(rows):
    cent = Decimal("0.01")

    weighted = {
        level: sum(w * m for w, m in zip(WEIGHTS, dimension_means(rows, level), strict=True))
        for level in PUBLISHED
    }

    assert weighted["department"].quantize(cent, ROUND_HALF_UP) == Decimal("64.60")
    assert weighted["provincial"].quantize(cent, ROUND_HALF_UP) == Decimal("51.09")


def test_generate_survey_scores_have_two_decimals_within_0_100(rows):
    answered = [r for r in rows if r["responded"] == "yes"]
    silent = [r for r in rows if r["responded"] == "no"]
    cells = [r[d] for r in answered for d in DIMENSIONS]

    assert [c for c in cells if not SCORE.fullmatch(c)] == []
    assert [c for c in cells if not Decimal(0) <= Decimal(c) <= Decimal(100)] == []
    assert {r[d] for r in silent for d in DIMENSIONS} == {""}


def test_generate_survey_copy_free_share_is_realistic(survey, rows):
    _, stats = survey
    answered = [r for r in rows if r["responded"] == "yes"]
    copy_free = [r for r in answered if r["copy_free"] == "yes"]

    assert 0.15 <= len(copy_free) / len(answered) <= 0.40
    assert len(copy_free) >= 60
    assert stats.copy_free == len(copy_free)
    assert {r["copy_free"] for r in rows if r["responded"] == "no"} == {"no"}


def test_generate_survey_beyond_the_name_tables_numbers_names(tmp_path):
    path = tmp_path / "larger.csv"

    stats = generate_survey(path, departments=800, provincial=3000, seed=7)

    rows = read_rows(path)
    assert len(rows) == 3800
    assert len({r["name_en"] for r in rows}) == 3800
    assert len({r["name_th"] for r in rows}) == 3800
    assert (stats.departments_responded, stats.provincial_responded) == (
        746,
        2654,
    )  # 2019 rates, half-up
    assert dimension_means(rows, "provincial") == tuple(Decimal(m) for m in PUBLISHED["provincial"])
    assert rows[-1]["name_en"].endswith(" No. 2 (synthetic)")


def test_generate_survey_without_exact_means_stays_near_the_published_means(tmp_path):
    path = tmp_path / "loose.csv"

    generate_survey(path, exact_means=False)

    rows = read_rows(path)
    for level, published in PUBLISHED.items():
        gaps = [
            abs(m - Decimal(p))
            for m, p in zip(dimension_means(rows, level), published, strict=True)
        ]
        assert max(gaps) < 1


def test_generate_survey_no_respondents_gives_no_means(tmp_path):
    stats = generate_survey(
        tmp_path / "silent.csv",
        departments=5,
        departments_responded=0,
        provincial=80,
        provincial_responded=0,
    )

    assert (stats.department_means, stats.provincial_means, stats.copy_free) == (None, None, 0)


def test_generate_survey_more_respondents_than_agencies_is_refused(tmp_path):
    with pytest.raises(ValueError) as error:
        generate_survey(tmp_path / "bad.csv", departments=10, departments_responded=11)

    assert str(error.value) == (
        "respondents must be between 0 and the agencies of their level, not "
        "11 of 10 departments and 1356 of 1533 provincial"
    )
    assert not (tmp_path / "bad.csv").exists()
