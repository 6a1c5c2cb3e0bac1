"""Two cycles in one database for the cross-cycle tests: the 2019 workflow as the earlier
cycle, and a later one whose awards read it (a gain since dga-2019, copy-free winners of
dga-2019 sitting out), with small surveys written on the fly."""

from __future__ import annotations

from pathlib import Path

from support import WORKFLOW, agency_line, write_survey

LATER_AWARDS = """
[[awards]]
id = "most-improved"
code = "IMP"
title_th = "รางวัลพัฒนาการดีเด่น"
title_en = "Most improved"
kind = "certificate"
template = "certificate"
score = "weighted"
gain_since = "dga-2019"
tie_break = ["name_th", "id"]
pool = { level = "department" }
winners = { top = 3 }

[[awards]]
id = "top-again"
code = "TAG"
title_th = "รางวัลหน่วยงานดีเด่น"
title_en = "Top departments, copy-free winners of 2019 sitting out"
kind = "certificate"
template = "certificate"
tie_break = ["id"]
pool = { level = "department" }
winners = { top = 3 }
sit_out = { award = "copy-free", cycles = ["dga-2019"] }
"""


def later_workflow(folder: Path, extra: str = LATER_AWARDS) -> Path:
    """The 2019 rules as cycle dga-2020, with the cross-cycle awards added."""
    text = WORKFLOW.read_text(encoding="utf-8").replace('id = "dga-2019"', 'id = "dga-2020"', 1)
    text = text.replace("year = 2019", "year = 2020").replace("year_be = 2562", "year_be = 2563")
    text = text.replace("date = 2019-11-28", "date = 2020-11-28")
    path = folder / "dga-2020.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def flat(score: int | str) -> tuple[str, ...]:
    return (str(score),) * 6


def earlier_survey(folder: Path) -> Path:
    """Ten departments: D000-D009 score 50+i on every dimension (weighted 50+i), D004 did
    not respond, and every third one (D000, D003, D006, D009) is in copy-free."""
    lines = []
    for i in range(10):
        responded = "no" if i == 4 else "yes"
        scores = ("",) * 6 if i == 4 else flat(50 + i)
        copy_free = "yes" if i % 3 == 0 and i != 4 else "no"
        lines.append(agency_line(f"D{i:03d}", f"กรมทดสอบ{i:03d}", scores, responded=responded,
                                 copy_free=copy_free))  # fmt: skip
    return write_survey(folder / "survey-2019.csv", lines)


# The later scores: D001 falls by 5 (a negative gain), D002 and D007 both gain 7 (a tie),
# D008 gains 10 (the most), D100 is new (absent from 2019), D004 has no 2019 score.
LATER = {0: 51, 1: 46, 2: 59, 3: 54, 4: 70, 5: 56, 6: 57, 7: 64, 8: 68, 9: 60}


def later_survey(folder: Path, name: str = "survey-2020.csv") -> Path:
    lines = [
        agency_line(f"D{i:03d}", f"กรมทดสอบ{i:03d}", flat(score)) for i, score in LATER.items()
    ]
    lines.append(agency_line("D100", "กรมใหม่", flat(90)))
    return write_survey(folder / name, lines)


def run_earlier(url: str, folder: Path) -> Path:
    """Open dga-2019, import its survey and decide copy-free (no review); the survey file."""
    from awards.commands.advance import advance
    from awards.store.cycles import import_survey, init_cycle

    survey = earlier_survey(folder)
    init_cycle(WORKFLOW, url=url, actor="s")
    import_survey(survey, url=url, cycle="dga-2019", actor="s")
    advance(url=url, cycle="dga-2019", award="copy-free", actor="s")
    return survey


def open_later(url: str, folder: Path) -> tuple[Path, Path]:
    """Open dga-2020 and import its survey; (workflow, survey)."""
    from awards.store.cycles import import_survey, init_cycle

    workflow = later_workflow(folder)
    survey = later_survey(folder)
    init_cycle(workflow, url=url, actor="s")
    import_survey(survey, url=url, cycle="dga-2020", actor="s")
    return workflow, survey
