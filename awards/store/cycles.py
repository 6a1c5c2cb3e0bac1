"""Opening a cycle and importing its survey: the library calls behind `init` and `import`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import Connection, Engine, delete, func, select
from sqlmodel import col

from awards.errors import AwardsError, NotFound
from awards.log import events
from awards.log.agencies import agencies_sha256
from awards.log.chain import now
from awards.paths import find_workflow
from awards.rules import collector
from awards.rules.plain import Plain
from awards.rules.scoring import Candidate, candidates, gain_pool
from awards.rules.states import State
from awards.rules.survey import Agency, read_survey
from awards.rules.workflow import Workflow
from awards.rules.workflow_file import load_workflow
from awards.store import committee, writes
from awards.store import database as db
from awards.store.loading import _cycle_row, load_cycle, survey_sha256
from awards.store.models import Agency as AgencyRow
from awards.store.models import Cycle, Nomination, SurveyImport
from awards.store.schema import open_engine


@dataclass(frozen=True)
class Opened(Plain):
    cycle: str
    created: bool  # False when the same rules were already open
    database: str


def init_cycle(
    workflow_path: str | Path, *, url: str | None = None, engine: Engine | None = None, actor: str
) -> Opened:
    """Create the database if needed and open the cycle a workflow file declares.

    Opening the same file again is a no-op; a different file for an open cycle is refused,
    because decisions already logged were taken under the old rules. `workflow_path` may
    be the bare name of a shipped workflow ('dga-2019'). The log records the file's name and
    SHA-256; the cycle's row keeps its absolute path too, from which the cycle's own template
    folder is found whatever folder a later command runs in.
    """
    workflow = load_workflow(find_workflow(workflow_path))
    engine = engine or open_engine(url, create=True)
    where = (
        engine.url.render_as_string(hide_password=False) if url is None else db.database_url(url)
    )
    with db.write(engine) as conn:
        existing = _cycle_row(conn, workflow.cycle_id)
        if existing is not None:
            if existing.workflow_sha256 == workflow.sha256:
                return Opened(workflow.cycle_id, False, where)
            raise AwardsError(
                f"cycle {workflow.cycle_id} is already open with other rules "
                f"(workflow {existing.workflow_sha256[:12]} from {existing.workflow_path}); "
                "a cycle's rules cannot change once opened: give the new rules a new cycle id"
            )
        at = now()
        db.append(
            conn,
            [
                events.cycle_opened(
                    cycle=workflow.cycle_id,
                    actor=actor,
                    at=at,
                    workflow_sha256=workflow.sha256,
                    workflow_file=workflow.path,
                    awards=[a.id for a in workflow.awards],
                )
            ],
        )
        conn.execute(
            Cycle.__table__.insert(),  # type: ignore[attr-defined]
            {
                "id": workflow.cycle_id,
                "title_th": workflow.title_th,
                "title_en": workflow.title_en,
                "year": workflow.year,
                "year_be": workflow.year_be,
                "workflow_sha256": workflow.sha256,
                "workflow_path": str(Path(workflow.path).resolve()),
                "workflow_text": workflow.text,
                "created_at": at,
            },
        )
        if workflow.reviewers:
            committee.declare(conn, workflow.cycle_id, workflow.reviewers, actor, at, "workflow")
    return Opened(workflow.cycle_id, True, where)


@dataclass(frozen=True)
class Imported(Plain):
    cycle: str
    sha256: str
    agencies: int
    nominations: dict[str, int]  # award -> nominations created
    unchanged: bool  # the same file was already imported: nothing was done


def import_survey(
    path: str | Path,
    *,
    url: str | None = None,
    engine: Engine | None = None,
    cycle: str | None = None,
    replace: bool = False,
    actor: str,
) -> Imported:
    """Validate a survey file whole, then store its agencies and nominate every pool member.

    An award whose rules read an earlier cycle (a gain since it, its winners sitting out)
    needs that cycle in the database; the facts taken from it are logged before the
    nominations. The same file twice is a no-op. A different file for a cycle that has a survey needs
    `replace`, and only while no nomination has moved past 'surveyed'; the replacement is
    logged and the earlier nominations are dropped with it.
    """
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
    # Inline: awards.store.earlier reads the earlier cycles through this module.
    from awards.store import earlier

    survey = read_survey(path, workflow)  # every problem is reported before anything is written
    with collector.paused(), db.write(engine) as conn:  # a few objects per agency and nominee
        previous = survey_sha256(conn, workflow.cycle_id)
        if previous == survey.sha256:
            return Imported(workflow.cycle_id, survey.sha256, len(survey.agencies), {}, True)
        if previous is not None:
            _check_replaceable(conn, workflow, previous, replace)
        at = now()
        appended = db.append(
            conn,
            [
                events.survey_imported(
                    cycle=workflow.cycle_id,
                    actor=actor,
                    at=at,
                    survey_sha256=survey.sha256,
                    survey_file=str(path),
                    agencies=len(survey.agencies),
                    agencies_sha256=agencies_sha256(survey.agencies),
                    replaces=previous,
                    workflow_sha256=workflow.sha256,
                )
            ],
        )
        conn.execute(
            SurveyImport.__table__.insert(),  # type: ignore[attr-defined]
            {
                "cycle": workflow.cycle_id,
                "sha256": survey.sha256,
                "path": str(Path(path).resolve()),  # local only: the log names the file
                "agencies": len(survey.agencies),
                "imported_at": at,
                "seq": appended.first,
            },
        )
        _store_agencies(conn, workflow.cycle_id, survey.agencies)
        # The facts the cross-cycle rules read, recorded before the first nomination they
        # decide (who may enter, what its gain is), so the cycle replays from its own log.
        facts = earlier.gather(conn, workflow, gain_pool(workflow, survey.agencies))
        if facts:
            db.append(conn, [earlier.facts_event(workflow.cycle_id, actor, at, f) for f in facts.values()])  # fmt: skip
        ctx = writes.Context(workflow.cycle_id, actor, at)
        counts = {}
        for award in workflow.awards:
            cands = candidates(workflow, award, survey.agencies, facts)
            counts[award.id] = writes.nominate(conn, ctx, award.id, cands).count
    return Imported(workflow.cycle_id, survey.sha256, len(survey.agencies), counts, False)


def _check_replaceable(conn: Connection, workflow: Workflow, previous: str, replace: bool) -> None:
    if not replace:
        raise AwardsError(
            f"cycle {workflow.cycle_id} already has a survey ({previous[:12]}); "
            "pass --replace to import a different file in its place"
        )
    moved = conn.execute(
        select(func.count())
        .select_from(Nomination)
        .where(
            col(Nomination.cycle) == workflow.cycle_id,
            col(Nomination.state) != State.SURVEYED.value,
        )
    ).scalar_one()
    if moved:
        raise AwardsError(
            f"cycle {workflow.cycle_id} cannot take a new survey: {moved} nominations have "
            "already moved past 'surveyed' under the current one"
        )
    conn.execute(delete(Nomination).where(col(Nomination.cycle) == workflow.cycle_id))  # type: ignore[arg-type]
    conn.execute(delete(AgencyRow).where(col(AgencyRow.cycle) == workflow.cycle_id))  # type: ignore[arg-type]


def _store_agencies(conn: Connection, cycle_id: str, agencies: tuple[Agency, ...]) -> None:
    db.insert_rows(
        conn,
        "agency",
        ("cycle", "agency_id", "name_th", "name_en", "level", "ministry", "province", "responded", "scores", "flags", "fields"),
        (
            (cycle_id, a.agency_id, a.name_th, a.name_en, a.level, a.ministry, a.province, a.responded,
             None if a.scores is None else writes.decimals_json(a.scores), orjson.dumps(dict(a.flags)).decode(),
             writes.fields_json(a.fields))
            for a in agencies
        ),
    )  # fmt: skip


class Nominated(NamedTuple):
    """A nomination row with the candidate the rules see in it."""

    id: int
    state: str
    rank: int | None
    candidate: Candidate


_NOMINATED = (
    col(Nomination.id), col(Nomination.state), col(Nomination.rank), col(Nomination.nominee_id), col(Nomination.name_th),
    col(Nomination.name_en), col(Nomination.level), col(Nomination.ministry), col(Nomination.province),
    col(Nomination.members), col(Nomination.scores), col(Nomination.weighted), col(Nomination.score),
    col(Nomination.fields),
)  # fmt: skip


STREAM_ROWS = 20_000  # rows fetched at a time from a large result


class _Decimals(dict[str, Decimal]):
    """Decimal per distinct text, made once: scores repeat a lot (0.00 to 100.00), and a
    million rows would otherwise hold six million separate Decimal objects."""

    def __missing__(self, text: str) -> Decimal:
        value = self[text] = Decimal(text)
        return value


def load_nominated(
    conn: Connection, cycle_id: str, award: str, state: str | None = None
) -> list[Nominated]:
    """The award's nominations (optionally in one state), as the rules see them.

    Rows are unpacked by position: at a million rows, attribute access by name costs more
    than the database read itself. They are streamed (on PostgreSQL a server-side cursor,
    not the whole result in the driver first), and the texts many rows share (level,
    ministry, province, state) are kept once each.
    """
    query = select(*_NOMINATED).where(
        col(Nomination.cycle) == cycle_id, col(Nomination.award) == award
    )
    if state is not None:
        query = query.where(col(Nomination.state) == state)
    decimals = _Decimals()
    shared: dict[str, str] = {}
    one = shared.setdefault
    return [
        Nominated(
            cast(int, id_),
            one(st, st),
            rank,
            Candidate(
                nid,
                th,
                en,
                one(lv, lv),
                one(mi, mi),
                one(pr, pr),
                mem,
                tuple(map(decimals.__getitem__, orjson.loads(sc))),
                decimals[w],
                decimals[s],
                writes.read_fields(fs),
            ),
        )
        for id_, st, rank, nid, th, en, lv, mi, pr, mem, sc, w, s, fs in conn.execute(
            query.execution_options(yield_per=STREAM_ROWS)
        )
    ]


def find_nomination(conn: Connection, workflow: Workflow, code: str) -> Any:
    """The nomination named '<award>:<nominee id>'; NotFound with a hint otherwise."""
    award_id, sep, nominee = code.partition(":")
    if not sep or not nominee:
        raise NotFound(
            f"'{code}' is not a nomination; write it as AWARD:NOMINEE, e.g. top-department:D0017"
        )
    workflow.award(award_id)
    row = conn.execute(
        select(Nomination).where(
            col(Nomination.cycle) == workflow.cycle_id,
            col(Nomination.award) == award_id,
            col(Nomination.nominee_id) == nominee,
        )
    ).first()
    if row is None:
        raise NotFound(
            f"no nomination '{code}' in cycle {workflow.cycle_id}; `awards ranking {award_id}` lists them"
        )
    return row
