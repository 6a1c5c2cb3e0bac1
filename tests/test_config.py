"""Workflow files: the shipped cycle parses, and every rule of the format is enforced with a
located, verbatim message."""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from awards.errors import InputErrors
from awards.rules.workflow import (
    DEFAULT_COLUMNS,
    Ceremony,
    Cut,
    Pool,
    Review,
)
from awards.rules.workflow_checker import reserved_names
from awards.rules.workflow_file import load_workflow, parse_workflow

RESERVED = ", ".join(sorted(reserved_names()))
SHIPPED = Path(__file__).resolve().parent.parent / "workflows" / "dga-2019.toml"

# A small valid workflow. Lines 1-28; text appended to it lands in awards[0] from line 29.
BASE = """\
schema_version = 1

[cycle]
id = "test-2019"
title_th = "รางวัลทดสอบ"
title_en = "Test awards"
year = 2019

[[dimensions]]
key = "policy"
weight = 0.4

[[dimensions]]
key = "services"
weight = 0.6

[survey]
flags = ["copy_free"]

[[awards]]
id = "top"
code = "TOP"
title_th = "รางวัลสูงสุด"
title_en = "Top award"
kind = "plaque"
template = "plaque"
tie_break = ["services", "id"]
winners = { top = 3 }
"""


def _edit(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "w.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _parse(tmp_path: Path, text: str):
    return parse_workflow(_write(tmp_path, text).read_bytes(), "w.toml")


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InputErrors) as caught:
        _parse(tmp_path, text)
    return [str(problem) for problem in caught.value.problems]


def test_load_workflow_shipped_file_parses():
    workflow = load_workflow(SHIPPED)

    assert workflow.cycle_id == "dga-2019"
    assert (workflow.year, workflow.year_be, workflow.precision) == (2019, 2562, 2)
    assert [a.id for a in workflow.awards] == ["top-department", "top-province", "copy-free"]
    assert workflow.dimensions[0].weight == Decimal("0.20")
    assert sum(d.weight for d in workflow.dimensions) == Decimal(1)
    assert workflow.flags == ("copy_free",)


def test_load_workflow_shipped_file_maps_every_canonical_column():
    workflow = load_workflow(SHIPPED)

    canonical = [*DEFAULT_COLUMNS, *workflow.dimension_keys, "copy_free"]
    assert workflow.columns == {name: name for name in canonical}


def test_load_workflow_shipped_file_applies_defaults():
    workflow = load_workflow(SHIPPED)

    province = workflow.award("top-province")
    copy_free = workflow.award("copy-free")
    assert province.shortlist == province.winners == Cut(top=5)
    assert province.review == Review()
    assert copy_free.shortlist == copy_free.winners == Cut(top=60)
    assert copy_free.review.quorum == 0
    assert copy_free.review.required is False
    assert copy_free.pool == Pool(level=None, responded=True, flags={"copy_free": True})
    assert copy_free.score == "weighted"
    assert copy_free.group_by is None


def test_parse_workflow_keeps_bytes_hash_text_and_name(tmp_path):
    data = _write(tmp_path, BASE).read_bytes()

    workflow = parse_workflow(data, "w.toml")

    assert workflow.sha256 == hashlib.sha256(data).hexdigest()
    assert workflow.text == BASE
    assert workflow.path == "w.toml"


def test_parse_workflow_minimal_file_gets_defaults(tmp_path):
    workflow = _parse(tmp_path, BASE)

    award = workflow.awards[0]
    assert (workflow.year_be, workflow.precision) == (2562, 2)
    assert [(d.key, d.title_th, d.title_en) for d in workflow.dimensions] == [
        ("policy", "", ""),
        ("services", "", ""),
    ]
    assert award.pool == Pool()
    assert (award.score, award.shortlist, award.review) == ("weighted", Cut(top=3), Review())
    assert (award.reason_th, award.reason_en, award.group_by) == ("", "", None)
    assert award.tie_break == ("services", "id")


def test_parse_workflow_numbers_become_exact_decimals(tmp_path):
    text = _edit("weight = 0.4", 'weight = "0.40"') + (
        'pool = { min = { policy = 50 }, max = { policy = "99.5" } }\n'
        "shortlist = { threshold = 60.25 }\n"
    )

    award = _parse(tmp_path, text).awards[0]

    assert award.pool.min == {"policy": Decimal(50)}
    assert award.pool.max == {"policy": Decimal("99.5")}
    assert award.shortlist == Cut(threshold=Decimal("60.25"))


def test_parse_workflow_integer_weight_accepted(tmp_path):
    text = _edit('weight = 0.4\n\n[[dimensions]]\nkey = "services"\nweight = 0.6\n', "weight = 1\n")
    text = text.replace('tie_break = ["services", "id"]', 'tie_break = ["policy", "id"]')

    workflow = _parse(tmp_path, text)

    assert [(d.key, d.weight) for d in workflow.dimensions] == [("policy", Decimal(1))]


def test_parse_workflow_several_problems_reports_all(tmp_path):
    text = (
        _edit("year = 2019", "year = 2019\nyear_be = 2563")
        .replace("weight = 0.6", "wieght = 0.6")
        .replace('flags = ["copy_free"]', 'flags = ["copy_free", "level"]')
        .replace('kind = "plaque"', 'kind = "trophy"')
        + "shortlist = { top = 2 }\n"
    )

    problems = _problems(tmp_path, text)

    assert problems == [
        "w.toml:8: cycle.year_be: year_be must be year + 543 = 2562; correct it or leave it out"
        " (value: '2563')",
        "w.toml:14: dimensions[1].weight: missing required key 'weight'; add it",
        "w.toml:16: dimensions[1].wieght: unknown key 'wieght'; did you mean 'weight'?",
        "w.toml:19: survey.flags[1]: flag 'level' is a reserved name; use a different name."
        f" Reserved: {RESERVED} (value: 'level')",
        "w.toml:26: awards[0].kind: kind must be one of: plaque, certificate (value: 'trophy')",
        "w.toml:30: awards[0].shortlist.top: shortlist keeps 2 but winners wants 3: the shortlist"
        " must keep at least as many as win (value: '2')",
    ]


def test_parse_workflow_invalid_toml_located_by_line(tmp_path):
    text = _edit('title_en = "Test awards"', "title_en = Test awards")

    problems = _problems(tmp_path, text)

    assert problems == ["w.toml:6: invalid TOML: invalid value at column 12"]


def test_parse_workflow_toml_error_at_end_of_document(tmp_path):
    problems = _problems(tmp_path, BASE + "pool = {")

    assert problems == ["w.toml:29: invalid TOML: invalid initial character for a key part"]


def test_parse_workflow_not_utf8_is_one_problem():
    with pytest.raises(InputErrors) as caught:
        parse_workflow(b'title = "\xff"', "w.toml")

    assert [str(p) for p in caught.value.problems] == [
        "w.toml: not UTF-8 text (bad byte at offset 9); save the file as UTF-8"
    ]


def test_parse_workflow_unknown_key_without_close_match_lists_known(tmp_path):
    problems = _problems(tmp_path, "colour = 1\n" + BASE)

    assert problems == [
        "w.toml:1: colour: unknown key 'colour'; use one of: schema_version, cycle, levels, dimensions,"
        " survey, awards, ceremony, reviewers"
    ]


def test_parse_workflow_schema_version_other_than_1(tmp_path):
    problems = _problems(tmp_path, _edit("schema_version = 1", "schema_version = 2"))

    assert problems == [
        "w.toml:1: schema_version: schema_version must be 1, the version this program reads"
        " (value: '2')"
    ]


def test_parse_workflow_empty_file_reports_missing_tables(tmp_path):
    problems = _problems(tmp_path, "")

    assert problems == [
        "w.toml: cycle: missing required key 'cycle'; add it",
        "w.toml: dimensions: no dimensions; declare at least one [[dimensions]]",
        "w.toml: awards: no awards; declare at least one [[awards]]",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'title_en = "Test awards"\n',
            "",
            "w.toml:3: cycle.title_en: missing required key 'title_en'; add it",
        ),
        (
            "year = 2019",
            'year = "2019"',
            "w.toml:7: cycle.year: integer expected (value: '2019')",
        ),
        (
            'title_th = "รางวัลทดสอบ"',
            "title_th = 5",
            "w.toml:5: cycle.title_th: string expected (value: '5')",
        ),
        (
            'id = "test-2019"',
            'id = " "',
            "w.toml:4: cycle.id: id must not be empty (value: ' ')",
        ),
        (
            "year = 2019",
            "year = 2019\nprecision = 7",
            "w.toml:8: cycle.precision: precision must be between 0 and 6 (value: '7')",
        ),
        (
            "year = 2019",
            "year = true",
            "w.toml:7: cycle.year: integer expected (value: 'true')",
        ),
    ],
    ids=["missing", "integer", "string", "empty", "precision", "bool-is-not-int"],
)
def test_parse_workflow_bad_cycle(tmp_path, old, new, expected):
    assert _problems(tmp_path, _edit(old, new)) == [expected]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'key = "services"',
            'key = "Services"',
            "w.toml:14: dimensions[1].key: dimension key must start with a lower-case letter"
            " and use only a-z, 0-9 and _ (value: 'Services')",
        ),
        (
            'key = "services"',
            'key = "services\\n"',
            "w.toml:14: dimensions[1].key: dimension key must start with a lower-case letter"
            " and use only a-z, 0-9 and _ (value: 'services\\n')",
        ),
        (
            'key = "services"',
            'key = "province"',
            "w.toml:14: dimensions[1].key: dimension key 'province' is a reserved name; use a"
            f" different name. Reserved: {RESERVED} (value: 'province')",
        ),
        (
            'key = "services"',
            'key = "policy"',
            "w.toml:14: dimensions[1].key: dimension key 'policy' is already declared at"
            " dimensions[0].key; use another (value: 'policy')",
        ),
        (
            "weight = 0.6",
            "weight = 0.55",
            "w.toml:9: dimensions: dimension weights sum to 0.95; they must sum to 1",
        ),
        (
            "weight = 0.6",
            "weight = 0",
            "w.toml:15: dimensions[1].weight: weight must be greater than 0 (value: '0')",
        ),
        (
            "weight = 0.6",
            "weight = true",
            "w.toml:15: dimensions[1].weight: number expected (value: 'true')",
        ),
        (
            "weight = 0.6",
            'weight = "sixty"',
            "w.toml:15: dimensions[1].weight: number expected (value: 'sixty')",
        ),
        (
            "weight = 0.6",
            "weight = nan",
            "w.toml:15: dimensions[1].weight: number expected (value: 'NaN')",
        ),
    ],
    ids=[
        "pattern",
        "newline",
        "reserved",
        "duplicate",
        "sum",
        "not-positive",
        "bool",
        "text",
        "nan",
    ],
)
def test_parse_workflow_bad_dimension(tmp_path, old, new, expected):
    problems = _problems(tmp_path, _edit(old, new))

    # A renamed "services" also breaks the award's tie-break; only the first problem matters.
    assert problems[0] == expected


def test_parse_workflow_no_dimensions(tmp_path):
    text = "dimensions = []\n" + BASE[BASE.index("[cycle]") : BASE.index("[[dimensions]]")]

    problems = _problems(tmp_path, text)

    assert problems == [
        "w.toml:1: dimensions: no dimensions; declare at least one [[dimensions]]",
        "w.toml: awards: no awards; declare at least one [[awards]]",
    ]


@pytest.mark.parametrize(
    ("survey", "expected"),
    [
        (
            'flags = ["copy_free", "copy_free"]',
            "w.toml:18: survey.flags[1]: flag 'copy_free' is already declared at survey.flags[0];"
            " use another (value: 'copy_free')",
        ),
        (
            'flags = ["copy_free", "services"]',
            "w.toml:18: survey.flags[1]: flag 'services' is already declared at"
            " dimensions[1].key; use another (value: 'services')",
        ),
        (
            'flags = ["Copy-Free"]',
            "w.toml:18: survey.flags[0]: flag must start with a lower-case letter and use only"
            " a-z, 0-9 and _ (value: 'Copy-Free')",
        ),
        (
            "flags = [1]",
            "w.toml:18: survey.flags[0]: string expected (value: '1')",
        ),
        (
            'flags = "copy_free"',
            "w.toml:18: survey.flags: array expected (value: 'copy_free')",
        ),
        (
            'columns = { provnce = "จังหวัด" }',
            "w.toml:18: survey.columns.provnce: unknown column name 'provnce'; did you mean"
            " 'province'?",
        ),
        (
            'columns = { province = "" }',
            "w.toml:18: survey.columns.province: non-empty string expected: the column's name in"
            " the survey file (value: '')",
        ),
        (
            'columns = { name_en = "name_th" }',
            "w.toml:18: survey.columns.name_en: 'name_en' and 'name_th' both read column"
            " 'name_th'; map each to its own (value: 'name_th')",
        ),
        (
            "colums = {}",
            "w.toml:18: survey.colums: unknown key 'colums'; did you mean 'columns'?",
        ),
    ],
    ids=[
        "duplicate-flag",
        "flag-is-dimension",
        "flag-pattern",
        "flag-type",
        "flags-type",
        "unknown-column",
        "empty-column",
        "same-column",
        "unknown-key",
    ],
)
def test_parse_workflow_bad_survey(tmp_path, survey, expected):
    problems = _problems(tmp_path, _edit('flags = ["copy_free"]', survey))

    assert problems == [expected]


def test_parse_workflow_survey_columns_renamed_and_completed(tmp_path):
    text = _edit("[survey]\n", '[survey]\ncolumns = { agency_id = "รหัส", policy = "P1" }\n')

    workflow = _parse(tmp_path, text)

    assert workflow.columns == {
        "agency_id": "รหัส",
        "name_th": "name_th",
        "name_en": "name_en",
        "level": "level",
        "ministry": "ministry",
        "province": "province",
        "responded": "responded",
        "policy": "P1",
        "services": "services",
        "copy_free": "copy_free",
    }


def test_parse_workflow_award_missing_required_keys(tmp_path):
    text = BASE[: BASE.index('id = "top"')] + 'title_en = "Top award"\n'

    problems = _problems(tmp_path, text)

    assert problems == [
        "w.toml:20: awards[0].winners: missing required key 'winners'; add it",
        "w.toml:20: awards[0].id: missing required key 'id'; add it",
        "w.toml:20: awards[0].code: missing required key 'code'; add it",
        "w.toml:20: awards[0].title_th: missing required key 'title_th'; add it",
        "w.toml:20: awards[0].kind: missing required key 'kind'; add it",
        "w.toml:20: awards[0].template: missing required key 'template'; add it",
        "w.toml:20: awards[0].tie_break: missing required key 'tie_break'; add it",
    ]


def test_parse_workflow_duplicate_award_id_and_code_name_both(tmp_path):
    second = BASE[BASE.index("[[awards]]") :]

    problems = _problems(tmp_path, BASE + "\n" + second)

    assert problems == [
        "w.toml:31: awards[1].id: id 'top' is used by both awards[0] and awards[1]; make it"
        " unique (value: 'top')",
        "w.toml:32: awards[1].code: code 'TOP' is used by both awards[0] and awards[1]; make it"
        " unique (value: 'TOP')",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'id = "top"',
            'id = "Top award"',
            "w.toml:21: awards[0].id: id must start with a-z or 0-9 and use only a-z, 0-9 and -"
            " (value: 'Top award')",
        ),
        (
            'code = "TOP"',
            'code = "top"',
            "w.toml:22: awards[0].code: code must be 2 to 8 capital letters or digits"
            " (value: 'top')",
        ),
        (
            'template = "plaque"',
            'template = "plaque"\nscore = "servces"',
            "w.toml:27: awards[0].score: unknown score 'servces': a dimension, 'weighted' or a"
            " count field; did you mean 'services'?"
            " (value: 'servces')",
        ),
        (
            "winners = { top = 3 }",
            "winners = 3",
            "w.toml:28: awards[0].winners: table expected (value: '3')",
        ),
        (
            "winners = { top = 3 }",
            "winners = { top = 3 }\nreviw = { quorum = 3 }",
            "w.toml:29: awards[0].reviw: unknown key 'reviw'; did you mean 'review'?",
        ),
    ],
    ids=["id", "code", "score", "winners-type", "unknown-key"],
)
def test_parse_workflow_bad_award(tmp_path, old, new, expected):
    assert _problems(tmp_path, _edit(old, new)) == [expected]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            'pool = { level = "national" }',
            [
                "awards[0].pool.level: level must be one of: department, provincial"
                " (value: 'national')"
            ],
        ),
        (
            'pool = { responded = "yes" }',
            ["awards[0].pool.responded: boolean expected (value: 'yes')"],
        ),
        (
            "pool = { flags = { copy_free = 1, paperless = true } }",
            [
                "awards[0].pool.flags.copy_free: boolean expected (value: '1')",
                "awards[0].pool.flags.paperless: unknown flag 'paperless'; declare it in [survey]"
                " flags",
            ],
        ),
        (
            "pool = { min = { budget = 1, services = 101 } }",
            [
                "awards[0].pool.min.budget: unknown dimension 'budget'; use one of: policy, services",
                "awards[0].pool.min.services: services must be between 0 and 100 (value: '101')",
            ],
        ),
        (
            "pool = { min = { policy = 60 }, max = { policy = 50.5 } }",
            [
                "awards[0].pool.min.policy: min 60 is above max 50.5 for 'policy'; lower min or"
                " raise max (value: '60')"
            ],
        ),
        (
            'group_by = { field = "region", min_members = 0 }',
            [
                "awards[0].group_by.field: field must be one of: province, ministry"
                " (value: 'region')",
                "awards[0].group_by.min_members: min_members must be at least 1 (value: '0')",
            ],
        ),
        (
            "group_by = { min_members = 2 }",
            ["awards[0].group_by.field: missing required key 'field'; add it"],
        ),
        (
            "shortlist = {}",
            ["awards[0].shortlist: shortlist keeps no one; give it top, threshold or both"],
        ),
        (
            "shortlist = { top = 0, threshold = -1 }",
            [
                "awards[0].shortlist.top: top must be at least 1 (value: '0')",
                "awards[0].shortlist.threshold: threshold must be between 0 and 100 (value: '-1')",
            ],
        ),
        (
            "shortlist = { top = 2 }",
            [
                "awards[0].shortlist.top: shortlist keeps 2 but winners wants 3: the shortlist must"
                " keep at least as many as win (value: '2')"
            ],
        ),
        (
            'review = { quorum = -1, approval = "most" }',
            [
                "awards[0].review.quorum: quorum must be at least 0 (value: '-1')",
                "awards[0].review.approval: approval must be one of: majority, unanimous"
                " (value: 'most')",
            ],
        ),
    ],
    ids=[
        "level",
        "responded",
        "flags",
        "min",
        "min-above-max",
        "group-by",
        "group-by-field",
        "empty-cut",
        "cut-bounds",
        "shortlist-top",
        "review",
    ],
)
def test_parse_workflow_bad_award_rule(tmp_path, extra, expected):
    problems = _problems(tmp_path, BASE + extra + "\n")

    assert problems == [f"w.toml:29: {problem}" for problem in expected]


def test_parse_workflow_shortlist_threshold_above_winners(tmp_path):
    text = _edit("winners = { top = 3 }", "winners = { threshold = 70 }")

    problems = _problems(tmp_path, text + "shortlist = { threshold = 80 }\n")

    assert problems == [
        "w.toml:29: awards[0].shortlist.threshold: shortlist threshold 80 is above winners"
        " threshold 70: the shortlist must not be stricter than the winners (value: '80')"
    ]


@pytest.mark.parametrize(
    ("tie_break", "expected"),
    [
        (
            '["services"]',
            [
                "awards[0].tie_break: tie_break must end with 'id', the unique nominee key, so"
                ' ranking never depends on row order; add "id" at the end (value: \'["services"]\')'
            ],
        ),
        (
            "[]",
            [
                "awards[0].tie_break: tie_break is empty; list the keys that break ties, ending"
                ' with "id"'
            ],
        ),
        (
            '"id"',
            ["awards[0].tie_break: array expected (value: 'id')"],
        ),
        (
            '["servics", "id"]',
            [
                "awards[0].tie_break[0]: unknown tie-break key 'servics'; did you mean 'services'?"
                " (value: 'servics')"
            ],
        ),
        (
            '["name_th", "score", "name_th", 1, "id"]',
            [
                "awards[0].tie_break[2]: tie-break key 'name_th' is repeated; list each key once"
                " (value: 'name_th')",
                "awards[0].tie_break[3]: string expected (value: '1')",
            ],
        ),
    ],
    ids=["not-ending-in-id", "empty", "not-array", "unknown", "repeated-and-type"],
)
def test_parse_workflow_bad_tie_break(tmp_path, tie_break, expected):
    text = _edit('tie_break = ["services", "id"]', f"tie_break = {tie_break}")

    problems = _problems(tmp_path, text)

    assert problems == [f"w.toml:27: {problem}" for problem in expected]


def test_parse_workflow_award_rules_read(tmp_path):
    text = BASE + (
        'score = "services"\n'
        'pool = { level = "provincial", responded = false, flags = { copy_free = true } }\n'
        'group_by = { field = "ministry", min_members = 2 }\n'
        'review = { quorum = 3, approval = "unanimous" }\n'
        'reason_en = "For services"\n'
    )

    award = _parse(tmp_path, text).awards[0]

    assert award.score == "services"
    assert award.pool == Pool(level="provincial", responded=False, flags={"copy_free": True})
    assert (award.group_by.field, award.group_by.min_members) == ("ministry", 2)
    assert award.review == Review(quorum=3, approval="unanimous")
    assert award.reason_en == "For services"


# A minimal [ceremony] table, appended to BASE: lines 29 to 32.
CEREMONY = """\
[ceremony]
date = 2019-11-28
signatory_th = "นายทดสอบ ลงนาม"
position_th = "ผู้อำนวยการ"
"""


def test_load_workflow_shipped_file_has_its_ceremony():
    workflow = load_workflow(SHIPPED)

    assert workflow.ceremony == Ceremony(
        date=datetime.date(2019, 11, 28),
        signatory_th="พลเอก ประยุทธ์ จันทร์โอชา",
        position_th="นายกรัฐมนตรี",
        place_th="ทำเนียบรัฐบาล",
        signatory_en="General Prayut Chan-o-cha",
        position_en="Prime Minister",
        digits="thai",
        serial_prefix="DGA",
        templates=None,
        issuer_th="สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน)",
        issuer_en="Digital Government Development Agency (Public Organization)",
    )
    assert workflow.templates_folder() is None
    assert (workflow.emblem_file(), workflow.specimen) == (None, False)


def test_parse_workflow_without_ceremony_has_none(tmp_path):
    assert _parse(tmp_path, BASE).ceremony is None


def test_parse_workflow_ceremony_gets_defaults(tmp_path):
    ceremony = _parse(tmp_path, BASE + CEREMONY).ceremony

    assert ceremony == Ceremony(datetime.date(2019, 11, 28), "นายทดสอบ ลงนาม", "ผู้อำนวยการ")
    assert (ceremony.digits, ceremony.serial_prefix, ceremony.place_th) == ("thai", "AWD", "")


def test_parse_workflow_ceremony_options_read(tmp_path):
    text = BASE + CEREMONY + 'digits = "arabic"\nserial_prefix = "DGA19"\ntemplates = "own"\n'

    workflow = _parse(tmp_path, text)

    assert (workflow.ceremony.digits, workflow.ceremony.serial_prefix) == ("arabic", "DGA19")
    assert workflow.templates_folder() == Path("own")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "date = 2019-11-28",
            'date = "2019-11-28"',
            "w.toml:30: ceremony.date: date expected, written without quotes or time, e.g."
            " 2019-11-28 (value: '2019-11-28')",
        ),
        (
            "date = 2019-11-28",
            "date = 2019-11-28T10:00:00",
            "w.toml:30: ceremony.date: date expected, written without quotes or time, e.g."
            " 2019-11-28 (value: '2019-11-28T10:00:00')",
        ),
        (
            "date = 2019-11-28",
            "date = 2018-11-28",
            "w.toml:30: ceremony.date: date 2018-11-28 is not in the cycle's year 2019 or the year"
            " after; correct it (value: '2018-11-28')",
        ),
        (
            "date = 2019-11-28\n",
            "",
            "w.toml:29: ceremony.date: missing required key 'date'; add it",
        ),
        (
            'signatory_th = "นายทดสอบ ลงนาม"\n',
            "",
            "w.toml:29: ceremony.signatory_th: missing required key 'signatory_th'; add it",
        ),
        (
            'position_th = "ผู้อำนวยการ"',
            'position_th = ""',
            "w.toml:32: ceremony.position_th: position_th must not be empty (value: '')",
        ),
        (
            'position_th = "ผู้อำนวยการ"',
            'position_th = "ผู้อำนวยการ"\ndigits = "roman"',
            "w.toml:33: ceremony.digits: digits must be one of: thai, arabic (value: 'roman')",
        ),
        (
            'position_th = "ผู้อำนวยการ"',
            'position_th = "ผู้อำนวยการ"\nserial_prefix = "dga"',
            "w.toml:33: ceremony.serial_prefix: serial_prefix must be 2 to 8 capital letters or"
            " digits (value: 'dga')",
        ),
        (
            'position_th = "ผู้อำนวยการ"',
            'position_th = "ผู้อำนวยการ"\nsignature_en = "Test"',
            "w.toml:33: ceremony.signature_en: unknown key 'signature_en'; did you mean"
            " 'signatory_en'?",
        ),
        (
            'position_th = "ผู้อำนวยการ"',
            'position_th = "ผู้อำนวยการ"\ntemplates = " "',
            "w.toml:33: ceremony.templates: templates must not be empty: name a folder"
            " (value: ' ')",
        ),
        (
            'position_th = "ผู้อำนวยการ"',
            'position_th = "ผู้อำนวยการ"\nplace_th = 1',
            "w.toml:33: ceremony.place_th: string expected (value: '1')",
        ),
    ],
    ids=[
        "date-quoted", "date-time", "date-year", "date-missing", "signatory-missing",
        "position-empty", "digits", "prefix", "unknown-key", "templates-empty", "place-type",
    ],
)  # fmt: skip
def test_parse_workflow_bad_ceremony(tmp_path, old, new, expected):
    text = BASE + CEREMONY.replace(old, new, 1)

    assert _problems(tmp_path, text) == [expected]


def test_load_workflow_ceremony_templates_folder_must_exist(tmp_path):
    path = _write(tmp_path, BASE + CEREMONY + 'templates = "own"\n')

    with pytest.raises(InputErrors) as caught:
        load_workflow(path)

    assert [str(p) for p in caught.value.problems] == [
        f"{path}:33: ceremony.templates: no folder {tmp_path / 'own'}; name a folder relative"
        " to the workflow file (value: 'own')"
    ]


ISSUER = 'issuer_th = "สำนักงานทดสอบ"\nissuer_en = "Test Office"\n'


def test_parse_workflow_issuer_verify_url_emblem_and_specimen_read(tmp_path):
    text = (
        _edit("year = 2019", "year = 2019\nspecimen = true")
        + CEREMONY
        + ISSUER
        + 'verify_url = "https://awards.example.go.th/verify/"\nemblem = "art/emblem.svg"\n'
    )

    workflow = _parse(tmp_path, text)

    assert workflow.specimen is True
    assert (workflow.ceremony.issuer_th, workflow.ceremony.issuer_en) == (
        "สำนักงานทดสอบ",
        "Test Office",
    )
    assert workflow.ceremony.verify_url == "https://awards.example.go.th/verify"
    assert workflow.emblem_file() == Path("art/emblem.svg")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            'verify_url = "http://awards.example.go.th/verify"',
            "w.toml:33: ceremony.verify_url: verify_url must be an https:// address with no"
            " ?query, #fragment or spaces, e.g. https://awards.example.go.th/verify"
            " (value: 'http://awards.example.go.th/verify')",
        ),
        (
            'verify_url = "https://awards.example.go.th/verify?code="',
            "w.toml:33: ceremony.verify_url: verify_url must be an https:// address with no"
            " ?query, #fragment or spaces, e.g. https://awards.example.go.th/verify"
            " (value: 'https://awards.example.go.th/verify?code=')",
        ),
        (
            'emblem = "../emblem.png"',
            "w.toml:33: ceremony.emblem: emblem must name a file in the workflow's folder or"
            " below it, without '..'; e.g. emblem = \"emblem.png\" (value: '../emblem.png')",
        ),
        (
            'emblem = "/etc/emblem.png"',
            "w.toml:33: ceremony.emblem: emblem must name a file in the workflow's folder or"
            " below it, without '..'; e.g. emblem = \"emblem.png\" (value: '/etc/emblem.png')",
        ),
        (
            'emblem = "emblem.gif"',
            "w.toml:33: ceremony.emblem: emblem must be a .png or .svg file (value: 'emblem.gif')",
        ),
        (
            'issuer_th = ""',
            "w.toml:33: ceremony.issuer_th: issuer_th must not be empty (value: '')",
        ),
    ],
    ids=["http", "query", "dotdot", "absolute", "gif", "issuer-empty"],
)
def test_parse_workflow_bad_issuer_emblem_or_verify_url(tmp_path, line, expected):
    assert _problems(tmp_path, BASE + CEREMONY + line + "\n") == [expected]


def test_parse_workflow_specimen_must_be_a_boolean(tmp_path):
    text = _edit("year = 2019", 'year = 2019\nspecimen = "yes"')

    assert _problems(tmp_path, text) == [
        "w.toml:8: cycle.specimen: boolean expected (value: 'yes')"
    ]


PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: None, "no file {d}/emblem.png; put the emblem next to the workflow file"),
        (
            lambda d: (d / "emblem.png").write_text("GIF89a not a png"),
            "emblem.png is not a PNG image (by its first bytes); give a PNG file",
        ),
        (
            lambda d: (d / "emblem.png").symlink_to(d.parent / "elsewhere.png"),
            "emblem.png is a link to {d.parent}/elsewhere.png, outside the workflow's folder;"
            " copy the file in instead",
        ),
    ],
    ids=["missing", "not-png", "link-out"],
)
def test_load_workflow_emblem_must_be_an_image_in_the_folder(tmp_path, make, expected):
    folder = tmp_path / "cycle"
    folder.mkdir()
    (tmp_path / "elsewhere.png").write_bytes(PNG)
    make(folder)
    path = folder / "w.toml"
    path.write_text(BASE + CEREMONY + 'emblem = "emblem.png"\n', encoding="utf-8")

    with pytest.raises(InputErrors) as caught:
        load_workflow(path)

    assert [str(p) for p in caught.value.problems] == [
        f"{path}:33: ceremony.emblem: {expected.format(d=folder)} (value: 'emblem.png')"
    ]


def test_load_workflow_emblem_png_or_svg_accepted(tmp_path):
    (tmp_path / "emblem.png").write_bytes(PNG)
    (tmp_path / "emblem.svg").write_text(
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'
    )

    for name in ("emblem.png", "emblem.svg"):
        workflow = load_workflow(_write(tmp_path, BASE + CEREMONY + f'emblem = "{name}"\n'))
        assert workflow.emblem_file() == tmp_path / name


def test_load_workflow_template_from_the_cycles_own_folder(tmp_path):
    (tmp_path / "own").mkdir()
    (tmp_path / "own" / "trophy.html").write_text('{% extends "_base.html" %}', encoding="utf-8")
    text = _edit('template = "plaque"', 'template = "trophy"') + CEREMONY + 'templates = "own"\n'

    workflow = load_workflow(_write(tmp_path, text))

    assert workflow.awards[0].template == "trophy"
    assert workflow.templates_folder() == tmp_path / "own"


def test_load_workflow_unknown_template_lists_the_known(tmp_path):
    path = _write(tmp_path, _edit('template = "plaque"', 'template = "trophy"'))

    with pytest.raises(InputErrors) as caught:
        load_workflow(path)

    assert [str(p) for p in caught.value.problems] == [
        f"{path}:26: awards[0].template: no template 'trophy'; use one of: certificate, plaque,"
        " policy-support (value: 'trophy')"
    ]


def test_parse_workflow_reads_reviewers_and_the_full_review_rule(tmp_path):
    text = _edit(
        "winners = { top = 3 }",
        'winners = { top = 3 }\nreview = { quorum = 2, approval = "unanimous", aggregate = "median", rank_by = "reviewed" }',
    ) + (
        '\n[[reviewers]]\nid = "somchai"\nname = "สมชาย"\nministries = ["กระทรวงการคลัง"]\n'
        '\n[[reviewers]]\nid = "k.2"\nname = "กรรมการ"\nprovinces = ["ตราด", "ตราด"]\n'
    )
    workflow = _parse(tmp_path, text)
    review = workflow.award("top").review
    assert (review.quorum, review.approval, review.aggregate, review.rank_by) == (
        2, "unanimous", "median", "reviewed",
    )  # fmt: skip
    assert [(r.id, r.ministries, r.provinces) for r in workflow.reviewers] == [
        ("somchai", ("กระทรวงการคลัง",), ()),
        ("k.2", (), ("ตราด",)),
    ]


def test_parse_workflow_locates_bad_reviewers_and_review_rules(tmp_path):
    text = (
        _edit(
            "winners = { top = 3 }",
            'winners = { top = 3 }\nreview = { aggregate = "mode", rank_by = "reviewed" }',
        )
        + '\n[[reviewers]]\nid = "a b"\nname = "A"\n\n[[reviewers]]\nid = "x"\nname = "X"\nministries = [""]\n\n[[reviewers]]\nid = "x"\nname = "Y"\n'
    )
    assert _problems(tmp_path, text) == [
        "w.toml:29: awards[0].review.rank_by: rank_by = \"reviewed\" needs a committee: set quorum to at least 1 (value: 'reviewed')",
        "w.toml:29: awards[0].review.aggregate: aggregate must be one of: mean, median (value: 'mode')",
        "w.toml:32: reviewers[0].id: reviewer id must start with a letter or digit and use only letters, digits, '.', '_' and '-' (value: 'a b')",
        "w.toml:38: reviewers[1].ministries[0]: a non-empty name expected (value: '')",
        "w.toml:41: reviewers[2].id: reviewer 'x' is already declared at reviewers[1]; use another id (value: 'x')",
    ]
