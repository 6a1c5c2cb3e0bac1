"""`awards demo`: the whole 2019 cycle on synthetic data, from survey to certificates and the
exported log."""

from __future__ import annotations

import random
import re
import shlex
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import col

from awards.certificates import issuing
from awards.commands import advance as adv
from awards.commands import logbook, results, verdicts
from awards.commands import seats as assigning
from awards.commands import synthetic as sample
from awards.commands.reference_2019 import MINISTRIES
from awards.commands.synthetic_2023 import generate_survey_2022, generate_survey_2023
from awards.errors import AwardsError
from awards.log import signing
from awards.log.chain import Verified
from awards.paths import shipped_workflow
from awards.rules.workflow import Reviewer
from awards.store import cycles
from awards.store import database as db
from awards.store.models import Cycle
from awards.store.schema import open_engine, shown

CYCLE = "dga-2019"
# The shipped cycles the demo runs, each with the synthetic survey shaped for it.
SURVEYS: dict[str, tuple[str, Callable[..., object]]] = {
    "dga-2019": ("survey-2019.csv", sample.generate_survey),
    "dga-2020": ("survey-2020.csv", sample.generate_survey),
    "dga-2022": ("survey-2022.csv", generate_survey_2022),
    "dga-2023": ("survey-2023.csv", generate_survey_2023),
}
# A cycle whose rules read an earlier one (a gain since it, its winners sitting out) is run
# after that cycle, in the same database: its synthetic survey is the year before's, of the
# same agencies (the later cycle's seed is given to it).
EARLIER: dict[str, str] = {"dga-2023": "dga-2022"}
COMMITTEE = 7  # synthetic reviewers, each affiliated with one ministry
PER_NOMINATION = 3
MAX_ROUNDS = 10  # more than any shipped award declares: a stuck committee stops the demo
# Written first into the demo's folder: the demo reuses a folder only if it holds this file,
# so it never removes a real cycle's database or committee key (a folder it did not make).
MARKER = ".awards-demo"
# The files a demo run writes; only these are removed when it starts again.
FILES = (
    "awards.db", "awards.db-wal", "awards.db-shm", "decision-log.jsonl", "committee.key",
    "committee.key.pub", *(f"{c}.toml" for c in SURVEYS), *(s for s, _ in SURVEYS.values()),
    *(f"decision-log-{c}.jsonl" for c in EARLIER.values()),
)  # fmt: skip
CERTIFICATES = "certificates"  # the rendered PDFs, <serial>.pdf, in this folder of the demo


def log_name(earlier: str) -> str:
    """The file an earlier cycle's exported log goes to, beside the demo's own (in FILES)."""
    return f"decision-log-{earlier}.jsonl"


@dataclass(frozen=True)
class EarlierRun:
    """An earlier cycle the demo ran first, in the same database, and its files."""

    cycle: str
    workflow: Path
    survey: Path
    log: Path
    verified: Verified


@dataclass
class DemoResult:
    directory: Path
    database: str  # the URL, as the commands take it
    survey: Path
    log: Path
    verified: Verified
    status: results.Status
    winners: dict[str, results.Ranking]
    certificates: issuing.RenderResult | None = None
    workflow: Path | None = None  # the copy of the workflow in the folder, for replay
    own_database: bool = True  # the demo's awards.db in its folder, not one given with --db
    earlier: list[EarlierRun] = field(default_factory=list)  # run first, in the same database

    def commands(self, here: Path | None = None) -> dict[str, str]:
        """The commands that check the demo as an auditor would, to paste in a shell
        started in `here` (default: the current folder): replay the log offline, verify one
        certificate. Paths are relative to `here` where the folder is inside it."""
        where = (here or Path.cwd()).resolve()
        out = {}
        for run in self.earlier:
            out[f"replay {run.cycle}"] = shlex.join(
                ["awards", "replay", _shown(run.log, where), "--workflow",
                 _shown(run.workflow, where), "--survey", _shown(run.survey, where)]
            )  # fmt: skip
        if self.workflow is not None:
            out["replay"] = shlex.join(
                ["awards", "replay", _shown(self.log, where), "--workflow",
                 _shown(self.workflow, where), "--survey", _shown(self.survey, where)]
            )  # fmt: skip
        first = sorted(self.certificates.out.glob("*.pdf"))[:1] if self.certificates else []
        if first:
            out["verify"] = shlex.join(
                ["awards", "--db", self.shown_database(where), "verify", _shown(first[0], where)]
            )
        return out

    def shown_database(self, here: Path | None = None) -> str:
        """The database URL as the printed commands give it: the demo's own file relative to
        `here`, any other URL without its password."""
        if self.own_database:
            return (
                f"sqlite:///{_shown(self.directory / 'awards.db', (here or Path.cwd()).resolve())}"
            )
        return make_url(self.database).render_as_string(hide_password=True)


def _shown(path: Path, here: Path) -> str:
    """`path` relative to `here` when it lies inside it, else absolute."""
    full = path.resolve()
    return str(full.relative_to(here)) if full.is_relative_to(here) else str(full)


def run(
    directory: str | Path = "awards-demo",
    *,
    seed: int | None = None,
    actor: str = "demo",
    url: str | None = None,
    cycle: str = CYCLE,
) -> DemoResult:
    """Generate a synthetic survey for a shipped cycle (dga-2019 by default; dga-2023 shows
    the later programme's categories), run every award to the end, render every winner's
    plaque or certificate into `<directory>/certificates/`, export and verify the log.
    `seed` (default: the cycle's year) seeds the survey and the committee.

    The folder must be new, empty, or one an earlier demo made (it then replaces what that
    demo wrote, nothing else); any other folder is refused. It gets the workflow, the survey,
    the committee key, the certificates and the exported log. The database is `url` when
    given (SQLite or PostgreSQL; it must hold no cycle yet), else `<directory>/awards.db`.

    The committee is simulated: seven synthetic reviewers, each affiliated with one ministry,
    are assigned three to a shortlisted nomination (never one of their own ministry's
    departments); one of them recuses once and is replaced. Verdicts are drawn from a seeded
    generator (about one in six is a rejection, one in four adjusts a dimension score), and
    every assignment, recusal and verdict is logged like a real one.
    """
    if cycle not in SURVEYS:
        raise AwardsError(f"no demo of cycle '{cycle}'; the demo runs: {', '.join(SURVEYS)}")
    survey_name, generate = SURVEYS[cycle]
    seed = int(cycle.rsplit("-", 1)[1]) if seed is None else seed
    out = Path(directory)
    _check_folder(out)
    url = url or f"sqlite:///{out / 'awards.db'}"
    own_database = _same_file(url, out / "awards.db")
    if own_database:
        _clear(out)
    engine = open_engine(url, create=True)  # one engine for every call below
    if not own_database:
        _check_no_cycle(engine, url)
        _clear(out)
    private, _ = signing.generate_keys(out / "committee.key")
    key = signing.load_key(private)  # every stage's checkpoint is signed with it
    rng = random.Random(seed)
    before = EARLIER.get(cycle)
    if before is not None:  # the year before, of the same agencies, run to its awards
        earlier_survey = out / SURVEYS[before][0]
        generate_survey_2022(earlier_survey, seed=seed - 1, later_seed=seed)
        earlier_workflow = _run_cycle(engine, out, before, earlier_survey, actor, key, rng)
    survey = out / survey_name
    generate(survey, seed=seed)
    workflow = _run_cycle(engine, out, cycle, survey, actor, key, rng)
    rendered = issuing.render(
        engine=engine, cycle=cycle, out=out / CERTIFICATES, actor=actor, key=key
    )
    if rendered.unfit:  # the shipped templates must hold every synthetic winner
        first = rendered.unfit[0]
        raise AwardsError(
            f"{len(rendered.unfit)} sheets did not fit their templates, the first "
            f"{first.nomination} ({first.serial}): {first.problem}"
        )
    runs = []
    if before is not None:
        earlier_log = out / log_name(before)
        runs.append(EarlierRun(before, earlier_workflow, earlier_survey, earlier_log,
                               _export(engine, earlier_log, before)))  # fmt: skip
    log = out / "decision-log.jsonl"
    verified = _export(engine, log, cycle)
    status = results.status(engine=engine, cycle=cycle)
    winners = {a: results.ranking(a, engine=engine, cycle=cycle) for a in status.awards}
    return DemoResult(
        out, url, survey, log, verified, status, winners, rendered, workflow, own_database, runs
    )


def _run_cycle(
    engine: Engine, out: Path, cycle: str, survey: Path, actor: str, key: Any, rng: random.Random
) -> Path:
    """Open a shipped cycle from its specimen copy in `out`, import `survey`, and run every
    award to its end with the simulated committee; the copy's path (replay needs it)."""
    workflow = out / f"{cycle}.toml"
    specimen_copy(shipped_workflow(cycle), workflow)  # replay needs it; the user can read it
    cycles.init_cycle(workflow, engine=engine, actor=actor)
    cycles.import_survey(survey, engine=engine, cycle=cycle, actor=actor)
    adv.advance(engine=engine, cycle=cycle, actor=actor, key=key)
    _committee(engine, actor, rng, cycle, key)
    return workflow


def _export(engine: Engine, log: Path, cycle: str) -> Verified:
    """Export the cycle's own log, which an auditor replays it from, and verify the file."""
    logbook.export_log(log, engine=engine, cycle=cycle)
    return logbook.verify_file(log)


# The demo's sheets go to synthetic winners: they name no real person as the one who signed.
SPECIMEN_SIGNATORY = {
    "signatory_th": "ผู้ลงนามตัวอย่าง",
    "position_th": "ตำแหน่งตัวอย่าง",
    "signatory_en": "Specimen Signatory",
    "position_en": "Specimen Position",
}


def specimen_copy(source: Path, dest: Path) -> None:
    """The shipped workflow as the demo runs it: its cycle marked `specimen` (every sheet
    watermarked ตัวอย่าง / SPECIMEN) and its signatory replaced by a specimen one. The
    shipped file keeps the real ceremony (dga-2019's is history); a demo certificate, given
    to a synthetic winner, must not carry a real person's name even if its mark is cropped
    off. Only the values change: the copy reads as the shipped file does, comments and all."""
    text = source.read_text(encoding="utf-8")
    for key, value in SPECIMEN_SIGNATORY.items():
        text = re.sub(rf'(?m)^{key} = ".*"$', f'{key} = "{value}"', text, count=1)
    if not tomllib.loads(text)["cycle"].get("specimen"):
        text = text.replace(
            "\n[cycle]\n", "\n[cycle]\nspecimen = true  # `awards demo`: synthetic winners\n", 1
        )
    if not tomllib.loads(text)["cycle"].get("specimen"):  # the shipped file's shape changed
        raise AwardsError(f"cannot mark {source} as a specimen: it has no [cycle] table")
    dest.write_text(text, encoding="utf-8")


def _check_folder(out: Path) -> None:
    """Refuse a folder the demo did not make, before anything is written or removed."""
    if out.exists() and not out.is_dir():
        raise AwardsError(f"{out} is a file; give `awards demo` a folder")
    if not out.is_dir() or (out / MARKER).is_file():
        return
    found = sorted(p.name for p in out.iterdir())
    if found:
        listed = ", ".join(found[:4]) + (f" and {len(found) - 4} more" if len(found) > 4 else "")
        raise AwardsError(
            f"{out} holds files `awards demo` did not make ({listed}); "
            "give the demo a new or empty folder, e.g. `awards demo awards-demo`"
        )


def _clear(out: Path) -> None:
    """Mark the folder as the demo's, and remove what an earlier demo run wrote there."""
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text(
        "Made by `awards demo`: running it here again replaces the files it wrote.\n",
        encoding="utf-8",
    )
    for name in FILES:
        (out / name).unlink(missing_ok=True)
    for pdf in (out / CERTIFICATES).glob("DGA-*.pdf"):  # those of an earlier demo run
        pdf.unlink()


def _same_file(url: str, file: Path) -> bool:
    try:
        parsed = make_url(url)
    except ArgumentError:  # not a URL: open_engine says so
        return False
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return False
    return Path(parsed.database).resolve() == file.resolve()


def _check_no_cycle(engine: Engine, url: str) -> None:
    """The demo writes into a database given to it only if it holds no cycle yet: it
    cannot remove one, and must not add a synthetic cycle beside real ones."""
    with db.read(engine) as conn:
        held = [r[0] for r in conn.execute(select(col(Cycle.id)).order_by(col(Cycle.id)))]
    if held:
        raise AwardsError(
            f"the database {shown(url)} already holds cycle {', '.join(held)}; "
            "give `awards demo` a database of its own (a new SQLite file or an empty "
            "PostgreSQL database), or leave out --db"
        )


def _committee(engine: Engine, actor: str, rng: random.Random, cycle: str, key: Any) -> None:
    """The simulated committee, round after round until no award waits for it: seven synthetic
    reviewers when the workflow declares none (its panels name their own)."""
    waiting = _awards_waiting(engine, cycle)
    if not waiting:  # no award of the cycle has a committee review
        return
    if not assigning.list_reviewers(engine=engine, cycle=cycle):
        ministries = sorted({m for m, *_ in MINISTRIES})
        for i, ministry in enumerate(rng.sample(ministries, COMMITTEE)):
            reviewer = Reviewer(f"r{i + 1}", f"กรรมการ {i + 1} (synthetic)", (ministry,))
            assigning.add_reviewer(reviewer, engine=engine, actor=actor, cycle=cycle)
    recused: set[str] = set()
    for _ in range(MAX_ROUNDS):
        for award in waiting:
            assigning.assign(award, PER_NOMINATION, engine=engine, actor=actor, cycle=cycle)
            ranked = results.ranking(award, engine=engine, cycle=cycle).rows
            rows = [r for r in ranked if r.state == "shortlisted"]
            if award not in recused:  # once an award: a reviewer declares a conflict
                first = assigning.seats(rows[0].nomination, engine=engine, cycle=cycle).assigned[0]
                assigning.recuse(rows[0].nomination, reviewer=first, reason="synthetic: a former employee of the nominee", engine=engine, actor=actor, cycle=cycle)  # fmt: skip
                recused.add(award)
            for row in rows:
                _verdicts(engine, actor, rng, cycle, row)
        adv.advance(engine=engine, cycle=cycle, actor=actor, key=key)  # closes the round
        waiting = _awards_waiting(engine, cycle)
        if not waiting:
            return
    raise AwardsError(f"the demo's committee did not finish {', '.join(waiting)}")


def _verdicts(engine: Engine, actor: str, rng: random.Random, cycle: str, row: Any) -> None:
    """Each seated reviewer's verdict on one nomination, drawn from the seeded generator."""
    for rid in assigning.seats(row.nomination, engine=engine, cycle=cycle).assigned:
        adjusted = {}
        if rng.random() < 1 / 4:  # the reviewer corrects the services score a little
            moved = row.scores["services"] + rng.choice((-3, -2, 2, 3))
            adjusted["services"] = min(Decimal(100), max(Decimal(0), moved))
        given = verdicts.Given(
            row.nomination, rid, rng.random() > 1 / 6, adjusted, "synthetic verdict"
        )
        verdicts.review(given, engine=engine, actor=actor, cycle=cycle)


def _awards_waiting(engine: Engine, cycle: str) -> list[str]:
    counted = results.status(engine=engine, cycle=cycle).awards
    return [a for a, counts in counted.items() if counts.get("shortlisted")]
