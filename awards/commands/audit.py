"""`awards audit`: fold the live log into state (awards.log.projection) and compare every
table that is a projection of it with what the log says.

Checked against the log: the cycle (its rules by SHA-256), each survey import, each
nomination's state, last event, rank, score, member count and review round, the reviewers,
their seats and verdicts, and every rendered certificate; and that the append-only triggers
of the log and of the certificate record are in place as installed.

What the log does not carry is checked as far as it can be. The agencies (names, scores,
flags) come from the survey file, which the log names by SHA-256 but does not hold: since
schema version 3 an import also logs the SHA-256 of the agency rows it stored, and the table
must hash to it. A nomination's names, dimension scores and weighted score are derived from
its agencies by the award's rules (awards.rules.scoring.candidates): they must be what the
agency rows give, and the score those rows give must be the score the log nominated it with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, select
from sqlmodel import col

from awards.commands.logbook import verify_chain, where
from awards.log.agencies import agencies_sha256
from awards.log.chain import Verified
from awards.log.projection import CycleState, Projection
from awards.rules.earlier import MissingFacts, differences
from awards.rules.plain import Plain
from awards.rules.scoring import Candidate, candidates, gain_pool
from awards.rules.states import nomination_code
from awards.rules.survey import Agency
from awards.rules.workflow import Workflow
from awards.rules.workflow_file import parse_workflow
from awards.store import database as db
from awards.store import earlier
from awards.store.loading import load_agencies, load_cycle
from awards.store.models import (
    Assignment,
    Certificate,
    Cycle,
    Event,
    Nomination,
    SurveyImport,
    Verdict,
)
from awards.store.models import Reviewer as ReviewerRow
from awards.store.schema import open_engine
from awards.store.writes import decimals_json

_Folded = dict[tuple[Any, ...], Any]
LOG, AGENCIES = "the log", "the agency rows"


@dataclass(frozen=True)
class Drift:
    subject: str
    what: str
    table: Any
    log: Any
    source: str = LOG  # where the value the table should hold comes from

    def __str__(self) -> str:
        return f"{self.subject}: {self.what} is {self.table!r} in the tables but {self.log!r} in {self.source}"


@dataclass(frozen=True)
class Audited(Plain):
    chains: dict[str, Verified]  # cycle -> its own chain, verified
    nominations: int
    verdicts: int
    drift: list[Drift]
    problems: list[str] = field(default_factory=list)  # the database itself: triggers
    checked: dict[str, int] = field(default_factory=dict)  # table -> its rows compared

    @property
    def clean(self) -> bool:
        return not self.drift and not self.problems

    @property
    def events(self) -> int:
        """The events of every chain audited."""
        return sum(v.events for v in self.chains.values())

    @property
    def verified(self) -> Verified:
        """The audited chain (its length and head); with several, their total length and
        no one head."""
        if len(self.chains) == 1:
            return next(iter(self.chains.values()))
        return Verified(self.events, "")


def audit(
    *, url: str | None = None, engine: Engine | None = None, cycle: str | None = None
) -> Audited:
    """Verify each cycle's chain, fold it, and list every difference between the tables and
    the log (drift) and every append-only trigger that is not in place (problems). With
    `cycle`, only that cycle's chain and rows."""
    engine = engine or open_engine(url)
    projection = Projection(detailed=True)
    with db.read(engine) as conn:  # one snapshot: the log and the tables of one moment
        names = db.chains(conn) if cycle is None else [load_cycle(conn, cycle).cycle_id]
        chains = {c: verify_chain(conn, c, source=where(conn, c)) for c in names}
        for c in names:
            for _, _, body in db.stored(conn, c):
                projection.apply(orjson.loads(body))
        problems = [f"the database: {p}" for p in db.missing_triggers(conn)]
        tables = _Tables(conn, projection.cycles, None if cycle is None else names[0])
        drift: list[Drift] = []
        for check in (_cycles, _imports, _earlier, _nominations, _reviewers, _seats, _verdicts, _certificates):  # fmt: skip
            drift += check(tables)
    checked = tables.checked
    return Audited(chains, checked["nomination"], checked["verdict"], drift, problems, checked)


class _Tables:
    """What every comparison shares: the snapshot, the folded log, the rows counted, and
    each cycle's agencies and rules, read once; `only`: the one cycle audited."""

    def __init__(
        self, conn: Connection, folded: dict[str, CycleState], only: str | None = None
    ) -> None:
        self.conn, self.folded, self.only = conn, folded, only
        self.checked: dict[str, int] = {}
        self._agencies: dict[str, list[Agency]] = {}

    def of(self, column: Any) -> list[Any]:
        """The condition that keeps rows of the audited cycle (none: every cycle)."""
        return [] if self.only is None else [col(column) == self.only]

    def agencies(self, cycle_id: str) -> list[Agency]:
        if cycle_id not in self._agencies:
            self._agencies[cycle_id] = load_agencies(self.conn, cycle_id)
        return self._agencies[cycle_id]

    def workflow(self, cycle_id: str) -> Workflow | None:
        """The cycle's rules as its table holds them, if they are the ones the log names."""
        row = self.conn.execute(select(Cycle).where(col(Cycle.id) == cycle_id)).first()
        if row is None:
            return None
        text = row.workflow_text.encode("utf-8")
        if hashlib.sha256(text).hexdigest() != self.folded[cycle_id].workflow_sha256:
            return None
        return parse_workflow(text, row.workflow_path)


def _differences(
    log: _Folded,
    table: _Folded,
    what: Callable[[tuple[Any, ...]], str],
    subject: Callable[[tuple[Any, ...]], str] | None = None,
    source: str = LOG,
) -> list[Drift]:
    out = []
    for key in sorted(set(log) | set(table), key=lambda k: tuple(map(str, k))):
        if log.get(key) != table.get(key):
            out.append(Drift(_subject(key) if subject is None else subject(key), what(key), table.get(key), log.get(key), source))  # fmt: skip
    return out


def _subject(key: tuple[Any, ...]) -> str:
    cycle, award, nominee = key[:3]
    return f"{cycle} {nomination_code(award, nominee)}"


def _cycles(t: _Tables) -> list[Drift]:
    log: _Folded = {(c,): s.workflow_sha256 for c, s in t.folded.items() if s.opened}
    table: _Folded = {}
    texts: _Folded = {}
    for row in t.conn.execute(select(Cycle).where(*t.of(Cycle.id))):
        table[(row.id,)] = row.workflow_sha256
        texts[(row.id,)] = hashlib.sha256(row.workflow_text.encode("utf-8")).hexdigest()
    t.checked["cycle"] = len(table)
    drift = _differences(log, table, lambda k: "the workflow's SHA-256", lambda k: f"cycle {k[0]}")
    for key, digest in texts.items():
        if key in log and digest != log[key]:
            drift.append(Drift(f"cycle {key[0]}", "the SHA-256 of the rules it runs (workflow_text)", digest, log[key]))  # fmt: skip
    return drift


def _imports(t: _Tables) -> list[Drift]:
    log: _Folded = {
        (c, e["seq"]): (e["survey_sha256"], e["agencies"])
        for c, s in t.folded.items()
        for e in s.imports
    }
    table: _Folded = {
        (r.cycle, r.seq): (r.sha256, r.agencies)
        for r in t.conn.execute(select(SurveyImport).where(*t.of(SurveyImport.cycle)))
    }
    t.checked["survey_import"] = len(table)
    drift = _differences(log, table, lambda k: f"the survey import of event {k[1]} (SHA-256, agencies)", lambda k: f"cycle {k[0]}")  # fmt: skip
    for cycle_id, state in t.folded.items():
        if not state.imports:
            continue
        logged = state.imports[-1]
        agencies = t.agencies(cycle_id)
        t.checked["agency"] = t.checked.get("agency", 0) + len(agencies)
        if len(agencies) != logged["agencies"]:
            drift.append(Drift(f"cycle {cycle_id}", "the number of agencies", len(agencies), logged["agencies"]))  # fmt: skip
        if "agencies_sha256" in logged and agencies_sha256(agencies) != logged["agencies_sha256"]:
            drift.append(Drift(f"cycle {cycle_id}", "the SHA-256 of the agency rows", agencies_sha256(agencies)[:16], logged["agencies_sha256"][:16]))  # fmt: skip
    return drift


def _earlier(t: _Tables) -> list[Drift]:
    """The facts each cycle's import took from an earlier cycle in the database, against
    that cycle as of the log event the facts name (awards.store.earlier.facts_at)."""
    drift = []
    for cycle_id, state in t.folded.items():
        workflow = t.workflow(cycle_id)
        if workflow is None:
            continue
        ids = gain_pool(workflow, t.agencies(cycle_id))
        for then, event in sorted(state.earlier.items()):
            t.checked["earlier_facts"] = t.checked.get("earlier_facts", 0) + 1
            if then not in workflow.earlier_cycles or not earlier.has_cycle(t.conn, then):
                continue  # read by no rule, or not in this database: nothing to hold it to
            logged = state.facts()[then]
            subject = f"cycle {cycle_id}: the facts of {then} at seq {event['seq']}"
            head = t.conn.execute(
                select(col(Event.hash)).where(
                    col(Event.seq) == logged.seq, col(Event.cycle) == then
                )
            ).scalar()
            if head != logged.head:
                drift.append(Drift(subject, f"the hash of {then}'s event {logged.seq}", head, logged.head))  # fmt: skip
                continue
            held = earlier.facts_at(t.conn, workflow, logged, ids)
            drift += [Drift(subject, *d) for d in differences(held, logged)]
    return drift


_NOMINATION = (
    col(Nomination.cycle), col(Nomination.award), col(Nomination.nominee_id), col(Nomination.state),
    col(Nomination.seq), col(Nomination.rank), col(Nomination.score), col(Nomination.members),
    col(Nomination.name_th), col(Nomination.name_en), col(Nomination.level), col(Nomination.ministry),
    col(Nomination.province), col(Nomination.scores), col(Nomination.weighted), col(Nomination.round),
)  # fmt: skip
_DERIVED = ("name_th", "name_en", "level", "ministry", "province", "scores", "weighted")


def _nominations(t: _Tables) -> list[Drift]:
    """State, last event, rank, score and members against the log; names and scores against
    what the agency rows give by the award's rules."""
    log: _Folded = {}
    for cycle_id, state in t.folded.items():
        for (award, nominee), st in state.states.items():
            row = state.rows[(award, nominee)]
            log[(cycle_id, award, nominee)] = (
                st, row.seq, row.rank, row.score, row.members, state.round_of((award, nominee)),
            )  # fmt: skip
    table: _Folded = {}
    given: _Folded = {}
    for r in t.conn.execute(select(*_NOMINATION).where(*t.of(Nomination.cycle))):
        key = (r.cycle, r.award, r.nominee_id)
        table[key] = (r.state, r.seq, r.rank, r.score, r.members, r.round)
        given[key] = (r.name_th, r.name_en, r.level, r.ministry, r.province, r.scores, r.weighted)
    t.checked["nomination"] = len(table)
    names = ("state", "last event", "rank", "score", "members", "review round")
    drift = []
    for key in sorted(set(log) | set(table)):
        ours, theirs = table.get(key), log.get(key)
        if ours is None or theirs is None:
            drift.append(Drift(_subject(key), "state", ours and ours[0], theirs and theirs[0]))
            continue
        for name, a, b in zip(names, ours, theirs, strict=True):
            if a != b:
                drift.append(Drift(_subject(key), name, a, b))
    return drift + _derived(t, given, log)


def _derived(t: _Tables, given: _Folded, log: _Folded) -> list[Drift]:
    drift = []
    for cycle_id, state in t.folded.items():
        workflow = t.workflow(cycle_id)
        if not state.imports or workflow is None:  # rules not the logged ones: drift already
            continue
        agencies = t.agencies(cycle_id)
        for award in workflow.awards:
            grouped = award.group_by is not None
            facts = state.facts()
            try:
                pooled = {c.nominee_id: c for c in candidates(workflow, award, agencies, facts)}
            except MissingFacts as missing:
                drift.append(Drift(f"cycle {cycle_id}", f"the facts award {award.id} reads", "none logged", str(missing)))  # fmt: skip
                continue
            for nominee, c in pooled.items():
                key = (cycle_id, award.id, nominee)
                if key in log and log[key][3] != str(c.score):
                    drift.append(Drift(_subject(key), "score from its agency rows", str(c.score), log[key][3], "the log's nomination"))  # fmt: skip
                if key in given:
                    drift += _compare(key, given[key], _as_row(c), skip_ministry=grouped)
            for key in sorted(
                k for k in log if k[:2] == (cycle_id, award.id) and k[2] not in pooled
            ):
                drift.append(Drift(_subject(key), "its place in the award's pool", "nominated", "not admitted", AGENCIES))  # fmt: skip
    return drift


def _as_row(c: Candidate) -> tuple[Any, ...]:
    """The columns a nomination row stores, as the import writes them from the candidate."""
    return (c.name_th, c.name_en, c.level, c.ministry, c.province, decimals_json(c.scores), str(c.weighted))  # fmt: skip


def _compare(key: tuple[Any, ...], ours: tuple[Any, ...], derived: tuple[Any, ...], *, skip_ministry: bool) -> list[Drift]:  # fmt: skip
    out = []
    for name, a, b in zip(_DERIVED, ours, derived, strict=True):
        if a != b and not (skip_ministry and name == "ministry"):  # a group's is its first member's
            out.append(Drift(_subject(key), name, a, b, AGENCIES))
    return out


def _reviewers(t: _Tables) -> list[Drift]:
    log: _Folded = {
        (c, r.id): (r.name, list(r.ministries), list(r.provinces), s.declared.get(r.id))
        for c, s in t.folded.items()
        for r in s.reviewers.values()
    }
    table: _Folded = {
        (r.cycle, r.reviewer_id): (r.name, orjson.loads(r.ministries), orjson.loads(r.provinces), r.seq)
        for r in t.conn.execute(select(ReviewerRow).where(*t.of(ReviewerRow.cycle)))
    }  # fmt: skip
    t.checked["reviewer"] = len(table)
    return _differences(log, table, lambda k: "name, ministries, provinces, event", lambda k: f"{k[0]} reviewer {k[1]}")  # fmt: skip


_SUBJECT = (col(Nomination.cycle), col(Nomination.award), col(Nomination.nominee_id))


def _seats(t: _Tables) -> list[Drift]:
    log: _Folded = {
        (c, a, n, r): seat
        for c, s in t.folded.items()
        for (a, n), held in s.seats.items()
        for r, seat in held.items()
    }
    table: _Folded = {
        (c, a, n, r): st
        for c, a, n, r, st in t.conn.execute(
            select(*_SUBJECT, col(Assignment.reviewer), col(Assignment.state))
            .join(Assignment, col(Assignment.nomination_id) == col(Nomination.id))  # type: ignore[arg-type]
            .where(*t.of(Nomination.cycle))
        )
    }  # fmt: skip
    t.checked["assignment"] = len(table)
    return _differences(log, table, lambda k: f"{k[3]}'s seat")


def _verdicts(t: _Tables) -> list[Drift]:
    log: _Folded = {
        (c, a, n, r): _verdict(v["verdict"] == "approve", v["scores"], v["note"])
        for c, s in t.folded.items()
        for (a, n), given in s.verdicts.items()
        for r, v in given.items()
    }
    table: _Folded = {
        (c, a, n, r): _verdict(v, orjson.loads(sc), note)
        for c, a, n, r, v, sc, note in t.conn.execute(
            select(*_SUBJECT, col(Verdict.reviewer), col(Verdict.approve), col(Verdict.scores), col(Verdict.note))
            .join(Verdict, col(Verdict.nomination_id) == col(Nomination.id))  # type: ignore[arg-type]
            .where(*t.of(Nomination.cycle))
        )
    }  # fmt: skip
    t.checked["verdict"] = len(table)
    return _differences(log, table, lambda k: f"{k[3]}'s verdict")


def _verdict(approve: bool, scores: dict[str, str], note: str) -> str:
    adjusted = "".join(f" {k}={v}" for k, v in sorted(scores.items()))
    return ("approve" if approve else "reject") + adjusted + (f" ({note})" if note else "")


# A rendering's columns and the event fields that state them.
_RENDERED = {
    "cycle": "cycle", "award": "award", "nominee_id": "nominee", "serial": "serial", "code": "code",
    "template": "template", "template_sha256": "template_sha256", "pdf_sha256": "pdf_sha256",
    "pdfa": "pdfa", "rendered_at": "at", "actor": "actor", "size": "size",
}  # fmt: skip


def _certificates(t: _Tables) -> list[Drift]:
    """Every rendering recorded in the table against its `certificate_rendered` event."""
    ids = {
        (c, a, n): i
        for i, c, a, n in t.conn.execute(select(col(Nomination.id), *_SUBJECT))
    }  # fmt: skip
    log: _Folded = {}
    for cycle_id, state in t.folded.items():
        for seq, e in state.renderings.items():
            fields = {k: e.get(v) for k, v in _RENDERED.items() if v in e}
            fields["nomination_id"] = ids.get((e["cycle"], e["award"], e["nominee"]))
            log[(cycle_id, seq)] = fields
    table: _Folded = {}
    for row in t.conn.execute(select(Certificate).where(*t.of(Certificate.cycle))):
        fields = {k: getattr(row, k) for k in [*_RENDERED, "nomination_id"]}
        fields["pdfa"] = bool(fields["pdfa"])
        logged = log.get((row.cycle, row.seq), {})
        table[(row.cycle, row.seq)] = {k: v for k, v in fields.items() if k in logged or not logged}
    t.checked["certificate"] = len(table)
    drift = []
    for key in sorted(set(log) | set(table)):
        ours, theirs = table.get(key), log.get(key)
        serial = (ours or theirs or {}).get("serial")
        subject = f"certificate {serial} (event {key[1]})"
        if ours is None or theirs is None:
            drift.append(Drift(subject, "its record", ours and "recorded", theirs and "rendered"))
            continue
        for name in theirs:
            if ours.get(name) != theirs[name]:
                drift.append(Drift(subject, name, ours.get(name), theirs[name]))
    return drift
