"""Year after year in one database: dga-2019, dga-2020, the generated dga-2022 and the
2023-style cycle that reads it, run to their awards one after another, each rendered into
the same folder. Each cycle exports a log that replays offline alone, the audit is clean,
every serial is distinct and every PDF of every cycle is kept."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from sqlalchemy import select

from awards.certificates import issuing
from awards.commands import demo
from awards.commands.audit import audit
from awards.commands.logbook import export_log
from awards.commands.synthetic_2023 import generate_survey_2022
from awards.log.replay import replay
from awards.log.signing import generate_keys, load_key
from awards.store import database as db
from awards.store.models import Certificate
from awards.store.schema import open_engine

CYCLES = ("dga-2019", "dga-2020", "dga-2022", "dga-2023")


def test_four_cycles_in_one_database_each_stand_alone(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    engine = open_engine(url, create=True)
    key = load_key(generate_keys(tmp_path / "committee.key")[0])
    rng = random.Random(7)
    shared = tmp_path / "certificates"  # every cycle renders into one folder
    runs = {}
    for cycle in CYCLES:
        name, generate = demo.SURVEYS[cycle]
        survey = tmp_path / name
        if cycle == "dga-2022":
            generate_survey_2022(survey, seed=2022, later_seed=2023)
        else:
            generate(survey, seed=int(cycle[-4:]))
        workflow = demo._run_cycle(engine, tmp_path, cycle, survey, "secretary", key, rng)
        done = issuing.render(engine=engine, cycle=cycle, out=shared, actor="secretary", key=key)
        assert not done.unfit
        runs[cycle] = (workflow, survey)

    audited = audit(engine=engine)
    assert audited.clean, audited.drift[:3] or audited.problems
    assert sorted(audited.chains) == sorted(CYCLES)
    for cycle, (workflow, survey) in runs.items():
        log = tmp_path / f"{cycle}.jsonl"
        exported = export_log(log, engine=engine, cycle=cycle)
        replayed = replay(log, workflow, survey)  # the cycle's own log, nothing else
        assert (replayed.events, replayed.head) == (exported.events, exported.head)

    with db.read(engine) as conn:
        rows = conn.execute(select(Certificate.cycle, Certificate.serial, Certificate.pdf_sha256)).all()  # fmt: skip
    assert {cycle for cycle, _, _ in rows} == set(CYCLES)
    serials = [serial for _, serial, _ in rows]
    assert len(serials) == len(set(serials)) > 300  # no two renderings of any cycles share one
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in shared.glob("*.pdf")}
    assert {f"{serial}.pdf": digest for _, serial, digest in rows} == files  # all kept
