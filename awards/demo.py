"""`awards demo`: the whole 2019 cycle on synthetic data, from survey to certificates and the
exported log."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awards import advance as adv
from awards import cycles, issue, sample, views
from awards.eventlog import Verified
from awards.paths import shipped_workflow

CYCLE = "dga-2019"
REVIEWERS = ("กรรมการ ก (synthetic)", "กรรมการ ข (synthetic)", "กรรมการ ค (synthetic)")
# The files a demo run writes; only these are removed when it starts again.
FILES = ("awards.db", "awards.db-wal", "awards.db-shm", "survey-2019.csv", "decision-log.jsonl")
CERTIFICATES = "certificates"  # the rendered PDFs, <serial>.pdf, in this folder of the demo


@dataclass
class DemoResult:
    directory: Path
    database: str
    survey: Path
    log: Path
    verified: Verified
    status: dict[str, Any]
    winners: dict[str, views.Ranking]
    certificates: issue.RenderResult | None = None


def run(
    directory: str | Path = "awards-demo", *, seed: int = 2019, actor: str = "demo"
) -> DemoResult:
    """Generate a synthetic 2019 survey, run every award to the end, render every winner's
    plaque or certificate into `<directory>/certificates/`, export and verify the log.

    The committee is simulated: three synthetic reviewers give each shortlisted nomination a
    verdict drawn from a seeded generator (about one in six is a rejection), and every verdict
    is logged like a real one.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (out / name).unlink(missing_ok=True)
    for pdf in (out / CERTIFICATES).glob("DGA-*.pdf"):  # those of an earlier demo run
        pdf.unlink()
    url = f"sqlite:///{out / 'awards.db'}"
    survey = out / "survey-2019.csv"
    sample.generate_survey(survey, seed=seed)
    cycles.init_cycle(shipped_workflow(CYCLE), url=url, actor=actor)
    cycles.import_survey(survey, url=url, actor=actor)
    adv.advance(url=url, actor=actor)
    rng = random.Random(seed)
    for award in _awards_waiting(url):
        for row in views.ranking(award, url=url).rows:
            if row.state != "shortlisted":
                continue
            for reviewer in REVIEWERS:
                adv.review(row.nomination, approve=rng.random() > 1 / 6, reviewer=reviewer,
                           note="synthetic verdict", url=url)  # fmt: skip
    adv.advance(url=url, actor=actor)
    rendered = issue.render(url=url, out=out / CERTIFICATES, actor=actor)
    log = out / "decision-log.jsonl"
    views.export_log(log, url=url)
    verified = views.verify_file(log)
    status = views.status(url=url)
    winners = {a: views.ranking(a, url=url) for a in status["awards"]}
    return DemoResult(out, url, survey, log, verified, status, winners, rendered)


def _awards_waiting(url: str) -> list[str]:
    return [a for a, counts in views.status(url=url)["awards"].items() if counts.get("shortlisted")]
