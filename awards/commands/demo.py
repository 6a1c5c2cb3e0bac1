"""`awards demo`: the whole 2019 cycle on synthetic data, from survey to certificates and the
exported log."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from awards.certificates import issuing
from awards.commands import advance as adv
from awards.commands import logbook, results, verdicts
from awards.commands import seats as assigning
from awards.commands import synthetic as sample
from awards.commands.reference_2019 import MINISTRIES
from awards.log import signing
from awards.log.chain import Verified
from awards.paths import shipped_workflow
from awards.rules.workflow import Reviewer
from awards.store import cycles
from awards.store.schema import open_engine

CYCLE = "dga-2019"
COMMITTEE = 7  # synthetic reviewers, each affiliated with one ministry
PER_NOMINATION = 3
# The files a demo run writes; only these are removed when it starts again.
FILES = (
    "awards.db", "awards.db-wal", "awards.db-shm", "survey-2019.csv", "decision-log.jsonl",
    "committee.key", "committee.key.pub",
)  # fmt: skip
CERTIFICATES = "certificates"  # the rendered PDFs, <serial>.pdf, in this folder of the demo


@dataclass
class DemoResult:
    directory: Path
    database: str
    survey: Path
    log: Path
    verified: Verified
    status: results.Status
    winners: dict[str, results.Ranking]
    certificates: issuing.RenderResult | None = None


def run(
    directory: str | Path = "awards-demo", *, seed: int = 2019, actor: str = "demo"
) -> DemoResult:
    """Generate a synthetic 2019 survey, run every award to the end, render every winner's
    plaque or certificate into `<directory>/certificates/`, export and verify the log.

    The committee is simulated: seven synthetic reviewers, each affiliated with one ministry,
    are assigned three to a shortlisted nomination (never one of their own ministry's
    departments); one of them recuses once and is replaced. Verdicts are drawn from a seeded
    generator (about one in six is a rejection, one in four adjusts a dimension score), and
    every assignment, recusal and verdict is logged like a real one.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (out / name).unlink(missing_ok=True)
    for pdf in (out / CERTIFICATES).glob("DGA-*.pdf"):  # those of an earlier demo run
        pdf.unlink()
    url = f"sqlite:///{out / 'awards.db'}"
    engine = open_engine(url, create=True)  # one engine for every call below
    survey = out / "survey-2019.csv"
    sample.generate_survey(survey, seed=seed)
    cycles.init_cycle(shipped_workflow(CYCLE), engine=engine, actor=actor)
    cycles.import_survey(survey, engine=engine, actor=actor)
    private, _ = signing.generate_keys(out / "committee.key")
    key = signing.load_key(private)  # every stage's checkpoint is signed with it
    adv.advance(engine=engine, actor=actor, key=key)
    _committee(engine, actor, random.Random(seed))
    adv.advance(engine=engine, actor=actor, key=key)
    rendered = issuing.render(engine=engine, out=out / CERTIFICATES, actor=actor, key=key)
    log = out / "decision-log.jsonl"
    logbook.export_log(log, engine=engine)
    verified = logbook.verify_file(log)
    status = results.status(engine=engine)
    winners = {a: results.ranking(a, engine=engine) for a in status.awards}
    return DemoResult(out, url, survey, log, verified, status, winners, rendered)


def _committee(engine: Engine, actor: str, rng: random.Random) -> None:
    ministries = sorted({m for m, *_ in MINISTRIES})
    for i, ministry in enumerate(rng.sample(ministries, COMMITTEE)):
        reviewer = Reviewer(f"r{i + 1}", f"กรรมการ {i + 1} (synthetic)", (ministry,))
        assigning.add_reviewer(reviewer, engine=engine, actor=actor)
    for award in _awards_waiting(engine):
        assigning.assign(award, PER_NOMINATION, engine=engine, actor=actor)
        rows = [r for r in results.ranking(award, engine=engine).rows if r.state == "shortlisted"]
        first = assigning.seats(rows[0].nomination, engine=engine).assigned[0]
        assigning.recuse(rows[0].nomination, reviewer=first, reason="synthetic: a former employee of the nominee", engine=engine)  # fmt: skip
        for row in rows:
            for rid in assigning.seats(row.nomination, engine=engine).assigned:
                adjusted = {}
                if rng.random() < 1 / 4:  # the reviewer corrects the services score a little
                    moved = row.scores["services"] + rng.choice((-3, -2, 2, 3))
                    adjusted["services"] = min(Decimal(100), max(Decimal(0), moved))
                given = verdicts.Given(
                    row.nomination, rid, rng.random() > 1 / 6, adjusted, "synthetic verdict"
                )
                verdicts.review(given, engine=engine)  # fmt: skip


def _awards_waiting(engine: Engine) -> list[str]:
    return [
        a for a, counts in results.status(engine=engine).awards.items() if counts.get("shortlisted")
    ]
