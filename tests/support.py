"""Helpers the tests share: paths, small survey files written on the fly, an opened cycle,
a copy of the demo."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "workflows" / "dga-2019.toml"
HEADER = (
    "agency_id,name_th,name_en,level,ministry,province,responded,"
    "policy,capability,services,back_office,infrastructure,technology,copy_free"
)


def agency_line(
    agency_id: str,
    name_th: str,
    scores: tuple[str, ...] = ("50", "50", "50", "50", "50", "50"),
    *,
    level: str = "department",
    province: str = "",
    responded: str = "yes",
    copy_free: str = "no",
    ministry: str = "กระทรวงการคลัง",
) -> str:
    return ",".join(
        [
            agency_id,
            name_th,
            f"Agency {agency_id}",
            level,
            ministry,
            province,
            responded,
            *scores,
            copy_free,
        ]
    )


def write_survey(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def small_survey(
    path: Path, departments: int = 30, provinces: int = 6, per_province: int = 5
) -> Path:
    """A survey where every department scores distinctly and provinces have enough members."""
    from awards.rules.thai import province_names

    lines = []
    for i in range(departments):
        base = 40 + i
        scores = tuple(str(base + d) for d in range(6))
        lines.append(
            agency_line(
                f"D{i:03d}", f"กรมทดสอบ{i:03d}", scores, copy_free="yes" if i % 3 == 0 else "no"
            )
        )
    names = sorted(n for n in province_names() if n != "กรุงเทพมหานคร")[:provinces]
    n = 0
    for p, province in enumerate(names):
        for j in range(per_province):
            base = 30 + p * 5 + j
            scores = tuple(str(base + d) for d in range(6))
            lines.append(
                agency_line(
                    f"P{n:04d}",
                    f"สำนักงานทดสอบ{n:04d}",
                    scores,
                    level="provincial",
                    province=province,
                )
            )
            n += 1
    return write_survey(path, lines)


def open_cycle(
    url: str,
    folder: Path,
    *,
    workflow: Path = WORKFLOW,
    survey: Path | None = None,
    actor: str = "s",
    **survey_options: int,
) -> Path:
    """Open the cycle of `workflow` (the 2019 one unless given) in the database at `url` and
    import `survey`, or else a small survey written to `folder / "survey.csv"` with
    `survey_options` (see small_survey). Returns the survey file, which replay needs."""
    from awards.store.cycles import import_survey, init_cycle

    if survey is None:
        survey = small_survey(folder / "survey.csv", **survey_options)
    init_cycle(workflow, url=url, actor=actor)
    import_survey(survey, url=url, actor=actor)
    return survey


def copy_demo(source: Path, target: Path) -> Path:
    """A copy of a finished demo's folder (database, survey, keys, certificates, log) at
    `target`, to change freely.

    The database is a plain SQLite file once the demo's connections are closed (the engine
    keeps none open between transactions); a -wal or -shm file left beside it is copied too.
    The database's tables record two absolute paths (the log names the files only): the
    workflow's and the survey's in the original folder. Nothing opens them again (replay and
    the report take the survey as an argument or from the tables; the workflow declares no
    template folder of its own), and the originals stay in place, byte for byte the same as
    the copy's, for the whole session.
    """
    shutil.copytree(source, target)
    return target


def seat(
    url: str, reviewers: tuple[str, ...] = ("a", "b", "c"), award: str = "top-department"
) -> None:
    """Declare reviewers (no affiliations) and assign every one of them to every shortlisted
    nomination of the award."""
    from awards.commands.seats import add_reviewer, assign
    from awards.rules.workflow import Reviewer

    for r in reviewers:
        add_reviewer(Reviewer(r, f"Reviewer {r}"), url=url, actor="s")
    assign(award, len(reviewers), url=url, actor="s")


def review(
    nomination: str,
    *,
    approve: bool,
    reviewer: str,
    url: str,
    note: str = "",
    scores: dict | None = None,
):
    """One verdict, the way a reviewer gives it."""
    from awards.commands.verdicts import Given
    from awards.commands.verdicts import review as record

    return record(Given(nomination, reviewer, approve, scores or {}, note), url=url, actor=reviewer)
