"""The later programme's categories at scale: the dga-2023 workflow (levels, fields,
segments, quotas, tiers, joint ties, a vote, a gain since dga-2022 and dga-2022's winners
sitting out) on a synthetic survey, through every stage, after dga-2022 on the year
before's survey of the same agencies in the same database.

    python bench/categories.py              # 10,000 agencies (the default)
    python bench/categories.py 20000

The committee's award (department-by-type, review quorum 3) is left waiting for verdicts, as a
real cycle is after its first advance; every other award runs to the end. Prints each step's
time, the events written and the peak memory; then exports the log and replays it offline.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path


def main(n: int) -> None:
    from awards.commands.advance import advance
    from awards.commands.logbook import export_log
    from awards.commands.synthetic_2023 import generate_survey_2022, generate_survey_2023
    from awards.log.replay import replay
    from awards.paths import shipped_workflow
    from awards.store.cycles import import_survey, init_cycle

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        survey = work / "survey.csv"
        # The 2019 shape scaled so that about n agencies result (a fifth of them local).
        local_per = max(1, n // 5 // (76 * 4))
        made = generate_survey_2023(
            survey, departments=n // 10, provincial=n - n // 10 - local_per * 76 * 4,
            local_per_province=local_per,
        )  # fmt: skip
        total = made.departments + made.provincial + made.local
        before = work / "survey-2022.csv"
        generate_survey_2022(
            before, seed=2022, later_seed=2023, departments=n // 10,
            provincial=n - n // 10 - local_per * 76 * 4, local_per_province=local_per,
        )  # fmt: skip
        url = f"sqlite:///{work / 'bench.db'}"
        steps: list[tuple[str, float]] = []

        def timed(name: str, fn) -> object:  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            out = fn()
            steps.append((name, time.perf_counter() - started))
            return out

        def earlier() -> None:  # the year before, run to its awards
            init_cycle(shipped_workflow("dga-2022"), url=url, actor="bench")
            import_survey(before, url=url, cycle="dga-2022", actor="bench")
            advance(url=url, cycle="dga-2022", actor="bench")

        timed("dga-2022", earlier)
        workflow = shipped_workflow("dga-2023")
        cycle = "dga-2023"
        timed("open", lambda: init_cycle(workflow, url=url, actor="bench"))
        timed("import", lambda: import_survey(survey, url=url, cycle=cycle, actor="bench"))
        advanced = timed("all stages", lambda: advance(url=url, cycle=cycle, actor="bench"))
        log = work / "log.jsonl"
        timed("log export", lambda: export_log(log, url=url, cycle=cycle))
        replayed = timed("replay", lambda: replay(log, workflow, survey))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(f"agencies: {total:,} ({made.departments:,} departments, {made.provincial:,} "
              f"provincial, {made.local:,} local)")  # fmt: skip
        for name, seconds in steps:
            print(f"  {name:<12} {seconds:7.2f} s")
        print(
            f"  stages run: {len(advanced.stages)}; events: {replayed.events:,}; "  # type: ignore[attr-defined]
            f"replayed {replayed.rule_decisions:,} rule decisions identically"
        )  # type: ignore[attr-defined]
        print(f"  peak memory {peak:,} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
