"""Reading a cycle back: its workflow, the SHA-256 of its current survey, its agencies.

A leaf of the store's readers, so that what reads an earlier cycle (awards.store.earlier)
and what opens and imports one (awards.store.cycles) can both use it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, select
from sqlmodel import col

from awards.errors import AwardsError, NotFound
from awards.rules.survey import Agency
from awards.rules.workflow import Workflow
from awards.rules.workflow_file import parse_workflow
from awards.store import writes
from awards.store.models import Agency as AgencyRow
from awards.store.models import Cycle, SurveyImport


def _cycle_row(conn: Connection, cycle_id: str) -> Any:
    return conn.execute(select(Cycle).where(col(Cycle.id) == cycle_id)).first()


def load_cycle(conn: Connection, cycle_id: str | None) -> Workflow:
    """The workflow of the named cycle, or of the only cycle when none is named."""
    ids = [r[0] for r in conn.execute(select(col(Cycle.id)).order_by(col(Cycle.id)))]
    if cycle_id is None:
        if not ids:
            raise NotFound("no cycle is open; run `awards init WORKFLOW` first")
        if len(ids) > 1:
            raise AwardsError(
                f"several cycles are open ({', '.join(ids)}); choose one with --cycle"
            )
        cycle_id = ids[0]
    row = _cycle_row(conn, cycle_id)
    if row is None:
        known = ", ".join(ids) or "none"
        raise NotFound(f"no cycle '{cycle_id}'; open cycles: {known}")
    return parse_workflow(row.workflow_text.encode("utf-8"), row.workflow_path)


def current_import(conn: Connection, cycle_id: str) -> Any:
    """The cycle's latest survey import row (the survey it runs on), or None."""
    return conn.execute(
        select(SurveyImport)
        .where(col(SurveyImport.cycle) == cycle_id)
        .order_by(col(SurveyImport.id).desc())
        .limit(1)
    ).first()


def survey_sha256(conn: Connection, cycle_id: str) -> str | None:
    """The SHA-256 of the survey the cycle currently runs on, if one was imported."""
    row = current_import(conn, cycle_id)
    return None if row is None else str(row.sha256)


def load_agencies(conn: Connection, cycle_id: str) -> list[Agency]:
    """The cycle's surveyed agencies as the rules see them."""
    out = []
    for r in conn.execute(select(AgencyRow).where(col(AgencyRow.cycle) == cycle_id)):
        scores = None if r.scores is None else tuple(Decimal(v) for v in orjson.loads(r.scores))
        out.append(
            Agency(
                r.agency_id,
                r.name_th,
                r.name_en,
                r.level,
                r.ministry,
                r.province,
                r.responded,
                scores,
                orjson.loads(r.flags),
                writes.read_fields(r.fields),
            )
        )
    return out
