"""Review rounds benchmark: an award reviewed in two rounds by two panels, from sheets.

    python bench/rounds.py 10000          # agencies (default 10,000)

The benchmark cycle (bench/bench.toml, SQLite) with its `readiness` award (shortlist 1,000)
reviewed in two rounds: 20 reviewers in round 1, three to a nomination, whose cut keeps 100;
five in round 2, ranking by their aggregate. Each round: `assign`, every reviewer's sheet
written (`review sheet --all`), filled in (approve) and read back (`review --from`), then
`advance`; finally the log is exported and replayed offline. Prints each step's seconds.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
AWARD = "readiness"
FIRST, SECOND = [f"a{i:02d}" for i in range(20)], [f"b{i}" for i in range(5)]


def workflow(folder: Path) -> Path:
    """bench.toml with the readiness award reviewed in two rounds, and its reviewers."""
    panel = ", ".join(f'"{r}"' for r in FIRST)
    rounds = (
        "winners = { top = 100 }\n\n"
        f"[[awards.rounds]]\npanel = [{panel}]\nquorum = 3\ncut = {{ top = 100 }}\n\n"
        f"[[awards.rounds]]\npanel = [{', '.join(f'{r!r}' for r in SECOND)}]\nquorum = 3\n"
        'rank_by = "reviewed"\n'
    ).replace("'", '"')
    text = (HERE / "bench.toml").read_text(encoding="utf-8")
    text = text.replace("winners = { top = 100 }\n", rounds, 1)
    text += "".join(f'\n[[reviewers]]\nid = "{r}"\nname = "Reviewer {r}"\n' for r in FIRST + SECOND)
    path = folder / "rounds.toml"
    path.write_text(text, encoding="utf-8")
    return path


def approve_all(path: str) -> None:
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book.worksheets[0]
    column = [c.value for c in sheet[1]].index("verdict")
    for row in sheet.iter_rows(min_row=2):
        row[column].value = "approve"
    book.save(path)


def timed(label: str, step: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = step()
    print(f"{label}: {time.perf_counter() - started:.2f} s", flush=True)
    return result


def run(n: int, work: Path) -> None:
    from cycle import bench_survey  # bench/cycle.py: the same survey as the cycle benchmark

    from awards.commands.advance import advance
    from awards.commands.logbook import export_log
    from awards.commands.seats import assign
    from awards.commands.sheets import write_sheets
    from awards.commands.verdicts import import_verdicts
    from awards.log.replay import replay
    from awards.store import cycles

    rules = workflow(work)
    survey = bench_survey(work / "survey.csv", n)
    url = f"sqlite:///{work / 'bench.db'}"
    cycles.init_cycle(rules, url=url, actor="bench")
    cycles.import_survey(survey, url=url, actor="bench")
    timed("shortlist", lambda: advance(url=url, actor="bench", award=AWARD))
    for number in (1, 2):
        timed(f"round {number}: assign", lambda: assign(AWARD, 3, url=url, actor="bench"))
        folder = work / f"round{number}"
        written = timed(f"round {number}: review sheet --all",
                        lambda f=folder: write_sheets(f, every=True, url=url))  # fmt: skip
        rows = sum(s.nominations for s in written.sheets)
        print(f"  {len(written.sheets)} sheets, {rows} rows", flush=True)
        for s in written.sheets:
            approve_all(s.path)
        timed(f"round {number}: review --from, every sheet",
              lambda w=written: [import_verdicts(s.path, url=url, actor="bench") for s in w.sheets])  # fmt: skip
        timed(f"round {number}: advance", lambda: advance(url=url, actor="bench", award=AWARD))
    timed("log export", lambda: export_log(work / "log.jsonl", url=url))
    timed("replay", lambda: replay(work / "log.jsonl", rules, survey))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("agencies", type=int, nargs="?", default=10_000)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    with tempfile.TemporaryDirectory(prefix="awards-rounds-") as folder:
        run(args.agencies, Path(folder))


if __name__ == "__main__":
    main()
