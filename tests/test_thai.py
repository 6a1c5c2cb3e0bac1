"""Thai: dictionary order (ICU's th collator) in ranking and in the replay of old logs,
Buddhist-era dates, digits and line-break opportunities."""

from __future__ import annotations

import datetime
from pathlib import Path

import icu
import orjson
import pytest

from awards.commands.advance import advance
from awards.commands.logbook import export_log
from awards.commands.results import ranking
from awards.log.chain import GENESIS, canonical, export_line, sha256
from awards.log.replay import Diverged, replay
from awards.rules.thai import (
    line_breaks,
    pythainlp_order,
    thai_date,
    thai_key,
    thai_order,
    to_arabic_digits,
    to_thai_digits,
)

from support import WORKFLOW, agency_line, open_cycle, write_survey

# Each list is in Thai dictionary order, as ICU's th_TH collator gives it.
ORDERED = [
    # a tone mark weighs only where the letters are equal: a shorter word comes first
    ["แก่", "แก๊ง"],
    ["ไก่", "ไก่งวง"],
    ["กรมป่าไม้", "กรมป่าไม้และสัตว์ป่า"],
    # ... and between equal letters, no tone mark before ่ before ้ before ๊ before ๋
    ["ปาไม้", "ป่าไม้"],
    ["กา", "ก่า", "ก้า", "ก๊า", "ก๋า"],
    ["เก่ง", "เกม", "เก้า", "เกาะ", "เกียร์"],
    # a leading vowel sorts after its consonant: by the consonant first, then the vowel
    ["กา", "เก", "แก", "โก", "ใก", "ไก"],
    ["ใหม", "ใหม่", "ไหม", "ไหม้"],
    ["ชลบุรี", "เชียงราย", "เชียงใหม่", "แม่ฮ่องสอน"],
    # ฤ and ฦ are letters of their own, after ร and ล
    ["รู้", "เริ่ม", "ฤดู", "ฤๅษี", "ลา", "ลือ", "ฦา"],
    # ์ (thanthakhat) is not a tone mark: it weighs only where the letters are equal
    ["กบินทร์", "กบินทร์บุรี"],
    ["กัลป์", "กัลปพฤกษ์"],
    ["กาน", "การ", "การด", "การ์ด"],
    ["จันท", "จันทร", "จันทร์"],
    # prefixes come first
    ["นา", "น่า", "นำ", "น้ำ"],
    ["ก", "กก", "กก่", "ก่ก"],
    ["สำนัก", "สำนักงาน", "สำนักงานปลัดกระทรวง"],
]


@pytest.mark.parametrize("ordered", ORDERED, ids=lambda o: "-".join(o))
def test_thai_order_is_icus_th_collator(ordered):
    th = icu.Collator.createInstance(icu.Locale("th_TH"))
    given = list(reversed(ordered))

    assert sorted(given, key=th.getSortKey) == ordered
    assert sorted(given, key=thai_key) == ordered
    assert sorted(given, key=thai_order(given).__getitem__) == ordered


def test_thai_order_fixes_what_the_old_order_got_wrong():
    wrong = [o for o in ORDERED if sorted(o, key=pythainlp_order(o).__getitem__) != o]

    assert [o[:2] for o in wrong] == [
        ["แก่", "แก๊ง"],
        ["ไก่", "ไก่งวง"],
        ["กรมป่าไม้", "กรมป่าไม้และสัตว์ป่า"],
        ["ปาไม้", "ป่าไม้"],
        ["เก่ง", "เกม"],
        ["กบินทร์", "กบินทร์บุรี"],
        ["กัลป์", "กัลปพฤกษ์"],
    ]


def test_thai_order_names_equal_to_the_collator_fall_back_to_code_points():
    # Spaces weigh last and equal strings of Thai are distinct names: the positions are
    # distinct and do not depend on the order the names came in.
    names = ["กรม ป่าไม้", "กรมป่าไม้", "กรมป่า ไม้"]

    assert thai_order(names) == thai_order(reversed(names))
    assert sorted(thai_order(names).values()) == [0, 1, 2]


def test_thai_date_buddhist_era_in_thai_or_arabic_digits():
    day = datetime.date(2019, 11, 28)

    assert thai_date(day) == "๒๘ พฤศจิกายน พ.ศ. ๒๕๖๒"
    assert thai_date(day, thai_digits=False) == "28 พฤศจิกายน พ.ศ. 2562"
    assert thai_date(datetime.date(2020, 1, 1), thai_digits=False) == "1 มกราคม พ.ศ. 2563"


def test_digits_round_trip():
    assert to_thai_digits("2562-11-28") == "๒๕๖๒-๑๑-๒๘"
    assert to_arabic_digits("๒๕๖๒ ๑๑ ๒๘ abc") == "2562 11 28 abc"


def test_line_breaks_between_words_never_inside_one():
    name = "สำนักงานปลัดกระทรวงการอุดมศึกษา วิทยาศาสตร์ วิจัยและนวัตกรรม"

    assert line_breaks(name) == [
        "สำนักงาน", "ปลัด", "กระทรวง", "การ", "อุดมศึกษา ", "วิทยาศาสตร์ ", "วิจัย", "และ",
        "นวัตกรรม",
    ]  # fmt: skip
    assert line_breaks("องค์การบริหารส่วนจังหวัดพระนครศรีอยุธยา")[-1] == "พระนครศรีอยุธยา"


# --- The order decides awards, and the log says which order -----------------------------------

TIED = ("กรมป่าไม้", "กรมป่าไม้และสัตว์ป่า")  # D100, D101: both 60.00


def tied_survey(path: Path) -> Path:
    """59 copy-free departments above 60.00 and two at exactly 60.00 for the 60th place of the
    copy-free award, whose tie-break is the Thai name."""
    lines = [
        agency_line(f"D{i:03d}", f"กรมทดสอบ{i:03d}", (f"{61 + i / 2}",) * 6, copy_free="yes")
        for i in range(59)
    ]
    lines += [
        agency_line(f"D{100 + i}", name, ("60",) * 6, copy_free="yes")
        for i, name in enumerate(TIED)
    ]
    return write_survey(path, lines)


def copy_free_states(url: str) -> dict[str, tuple[str, int]]:
    rows = ranking("copy-free", url=url).rows
    return {r.name_th: (r.state, r.rank) for r in rows if r.name_th in TIED}


def test_tie_at_the_cut_goes_to_the_first_name_in_dictionary_order(db_url, tmp_path):
    open_cycle(db_url, tmp_path, survey=tied_survey(tmp_path / "survey.csv"))

    advance(url=db_url, actor="s", award="copy-free")

    assert copy_free_states(db_url) == {
        "กรมป่าไม้": ("awarded", 60),
        "กรมป่าไม้และสัตว์ป่า": ("eliminated", 61),
    }


def rewritten(log: Path, out: Path, version: int, edit=lambda e: e) -> Path:
    """The log as a release writing event schema `version` would have: each event edited,
    re-chained, its checkpoints left out (they fix the events as they were)."""
    prev, lines = GENESIS, []
    events = [orjson.loads(line)["event"] for line in log.read_bytes().splitlines()]
    for seq, event in enumerate((e for e in events if e["kind"] != "checkpoint"), start=1):
        body = canonical({**edit(event), "schema_version": version, "seq": seq, "prev": prev})
        prev = sha256(body)
        lines.append(export_line(body, prev))
    out.write_bytes(b"".join(lines))
    return out


def as_ranked_by_pythainlp(event: dict) -> dict:
    """What the engine logged before ICU: pythainlp put the longer name first, so D101 took
    the 60th place of the shortlist (which is the award's 60) and went on in D100's stead."""
    if event.get("award") != "copy-free" or event.get("nominee") not in ("D100", "D101"):
        return event
    if event["trigger"] in ("shortlist", "eliminate"):
        first = event["nominee"] == "D101"
        rank, verb = (60, "within") if first else (61, "outside")
        trigger, to = ("shortlist", "shortlisted") if first else ("eliminate", "eliminated")
        event.update(trigger=trigger, to=to)
        event["evidence"]["rank"] = rank
        event["reason"] = f"shortlist: rank {rank} of 61, score 60.00, {verb} the cut (top 60)"
    elif event["trigger"] != "nominate":  # the review and the award: D100's, now D101's
        event.update(nominee="D101", nomination=event["nomination"].replace("D100", "D101"))
    return event


@pytest.fixture
def tied_log(tmp_path: Path) -> tuple[Path, Path]:
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    survey = open_cycle(url, tmp_path, survey=tied_survey(tmp_path / "survey.csv"))
    advance(url=url, actor="s", award="copy-free")
    export_log(tmp_path / "log.jsonl", url=url)
    return tmp_path / "log.jsonl", survey


def test_replay_new_log_in_dictionary_order(tied_log):
    log, survey = tied_log

    # 61 nominated to each of the two department awards; 61 shortlisted or eliminated, 60
    # reviewed and 60 awarded in copy-free.
    assert replay(log, WORKFLOW, survey).rule_decisions == 61 * 2 + 61 + 60 + 60


def test_replay_old_log_in_the_order_it_was_ranked_in(tied_log, tmp_path):
    log, survey = tied_log
    old = rewritten(log, tmp_path / "v3.jsonl", 3, as_ranked_by_pythainlp)

    assert replay(old, WORKFLOW, survey).rule_decisions == 61 * 2 + 61 + 60 + 60


def test_replay_old_log_is_not_read_in_the_new_order(tied_log, tmp_path):
    log, survey = tied_log
    relabelled = rewritten(log, tmp_path / "v3.jsonl", 3)  # ICU's order under version 3

    with pytest.raises(Diverged) as err:
        replay(relabelled, WORKFLOW, survey)

    assert (err.value.divergence.nomination, err.value.divergence.logged) == (
        "copy-free:D100",
        "shortlist",
    )
