"""What a certificate is: serials, verification codes, recipients as printed, and the sheet
each awarded nomination prints (`plan`).

A certificate's verification code is derived from the decision-log event that awarded its
nomination, so a code on paper points at one decision in the hash-chained log. Its serial
(e.g. DGA-2562-PLQ-0001) is given on first rendering (awards.issue) and kept. `verify`
(awards.certificates.verification) checks a code or a PDF file against the log.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, and_, select

from awards.certificates.sheet import Occasion, Sheet, Templates
from awards.errors import AwardsError
from awards.log.chain import sha256 as sha256_hex
from awards.log.events import Kind
from awards.rules.states import State, Trigger, nomination_code
from awards.rules.workflow import Award, Tier, Workflow
from awards.rules.workflow_ceremony import emblem_problem
from awards.store.models import Certificate, Event, Nomination

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: nothing to misread
_MISREAD = str.maketrans("ILO", "110")
BANGKOK = "กรุงเทพมหานคร"  # not a จังหวัด: it is named without the prefix


def verification_code(event_hash: str) -> str:
    """The code printed on a certificate: Crockford base32 of the first 10 bytes of
    SHA-256("awards-verify:" + the hash of the event that awarded it), in groups of four."""
    digest = hashlib.sha256(b"awards-verify:" + event_hash.encode("ascii")).digest()[:10]
    number = int.from_bytes(digest, "big")
    text = "".join(_CROCKFORD[(number >> (5 * (15 - i))) & 31] for i in range(16))
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


def parse_code(text: str) -> str | None:
    """A typed or scanned code in its printed form (case, dashes and spaces do not
    matter; I, L and O are read as 1, 1 and 0); None if it is not a code."""
    raw = re.sub(r"[\s-]", "", text.upper()).translate(_MISREAD)
    if len(raw) != 16 or any(ch not in _CROCKFORD for ch in raw):
        return None
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def serial(prefix: str, year_be: int, award_code: str, number: int) -> str:
    """E.g. DGA-2562-PLQ-0001."""
    return f"{prefix}-{year_be}-{award_code}-{number:04d}"


def recipient(award: Award, name_th: str, name_en: str) -> tuple[str, str]:
    """The recipient as printed: a province award goes to จังหวัด<name> / <name> Province."""
    if award.group_by is None or award.group_by.field != "province" or name_th == BANGKOK:
        return name_th, name_en
    th = name_th if name_th.startswith("จังหวัด") else f"จังหวัด{name_th}"
    en = name_en if not name_en or name_en.endswith("Province") else f"{name_en} Province"
    return th, en


# --- The decision log ------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A transition event of one nomination, as logged."""

    seq: int
    hash: str
    body: dict[str, Any]
    intact: bool  # its bytes still hash to its stored hash


def find_decision(conn: Connection, nom: Any, trigger: str) -> Decision | None:
    """The latest logged event that moved nomination `nom` by `trigger`."""
    rows = conn.execute(
        select(Event.seq, Event.hash, Event.body)  # type: ignore[call-overload]
        .where(
            Event.cycle == nom.cycle,
            Event.award == nom.award,
            Event.nominee == nom.nominee_id,
            Event.kind == Kind.TRANSITION,
        )
        .order_by(Event.seq.desc())  # type: ignore[attr-defined]
    )
    for seq, digest, body in rows:
        event = orjson.loads(body)
        if event.get("trigger") == trigger:
            return Decision(seq, digest, event, sha256_hex(body) == digest)
    return None


# --- What `awards render` renders: each awarded nomination's sheet --------------------


@dataclass(frozen=True)
class Item:
    """One awarded nomination and the sheet it prints."""

    sheet: Sheet
    template: str
    nomination_id: int
    award: str
    nominee: str
    award_seq: int  # the event that awarded it
    current: bool  # a recorded rendering is already in the output folder
    rendered_seq: int | None = None  # the event of its latest recorded rendering, if any


@dataclass
class Plan:
    workflow: Workflow
    occasion: Occasion
    templates: Templates
    hashes: dict[str, str]  # template -> SHA-256
    items: list[Item]


def occasion_of(workflow: Workflow) -> Occasion:
    c = workflow.ceremony
    if c is None:
        raise AwardsError(
            f"cycle {workflow.cycle_id} has no [ceremony] in its workflow, and certificates "
            "need its date and signatory; a cycle's rules cannot change once opened, so "
            "open the next cycle with a [ceremony] table"
        )
    emblem = workflow.emblem_file()
    if c.emblem is not None and (why := emblem_problem(Path(workflow.path).parent, c.emblem)):
        # checked at `awards check`; checked again because the file may have changed since
        raise AwardsError(f"[ceremony] emblem: {why}")
    return Occasion(
        workflow.cycle_id, workflow.title_th, workflow.title_en, workflow.year, workflow.year_be,
        c, workflow.specimen, emblem,
    )  # fmt: skip


def tier_of(award: Award, award_body: bytes) -> Tier | None:
    """The band the award event gave the winner, for an award with tiers."""
    if not award.tiers:
        return None
    key = orjson.loads(award_body).get("evidence", {}).get("tier")
    return next((t for t in award.tiers if t.key == key), None)


def plan(
    conn: Connection,
    workflow: Workflow,
    *,
    award: str | None = None,
    nominee: str | None = None,
    out: Path | None = None,
    pdfa: bool = False,
) -> Plan:
    """Every awarded nomination (of one award, or one nominee) with its sheet: the serial it
    has, or else a free one, and the code its award event gives it.

    The i-th nomination without a serial (in rank order) gets the i-th number its award has
    not given, so runs that plan while others record (`awards render` on several machines)
    give every nomination the same serial."""
    occasion = occasion_of(workflow)
    templates = Templates.for_cycle(workflow.templates_folder())
    awards = [workflow.award(award)] if award else list(workflow.awards)
    hashes = {a.template: templates.sha256(a.template) for a in awards}
    prefix = workflow.ceremony.serial_prefix  # type: ignore[union-attr]
    query: Any = select(Nomination, Event.hash.label("award_hash"), Event.body.label("award_body"))  # type: ignore[attr-defined]
    query = query.join(Event, and_(Event.cycle == Nomination.cycle, Event.seq == Nomination.seq))  # type: ignore[arg-type]
    query = query.where(Nomination.cycle == workflow.cycle_id, Nomination.state == State.AWARDED)
    if award:
        query = query.where(Nomination.award == award)
    if nominee:
        query = query.where(Nomination.nominee_id == nominee)
    by_award: dict[str, list[tuple[Any, str]]] = {a.id: [] for a in awards}
    for nom in conn.execute(query):
        digest = nom.award_hash
        if orjson.loads(nom.award_body).get("trigger") != Trigger.AWARD:  # moved since?
            found = find_decision(conn, nom, Trigger.AWARD)
            if found is None:
                code = nomination_code(nom.award, nom.nominee_id)
                raise AwardsError(f"nomination {code} is awarded but the log has no award event")
            digest = found.hash
        by_award[nom.award].append((nom, digest))
    recorded = _recorded(conn, workflow.cycle_id)
    items = []
    for a in awards:
        rows = sorted(
            by_award[a.id], key=lambda r: (r[0].rank is None, r[0].rank or 0, r[0].nominee_id)
        )
        used = recorded.numbers.get(a.id, set())
        free = (n for n in range(1, len(used) + len(rows) + 2) if n not in used)
        for nom, digest in rows:
            latest = recorded.latest.get(nom.id)
            number = next(free) if latest is None else None
            th, en = recipient(a, nom.name_th, nom.name_en)
            band = tier_of(a, nom.award_body)
            sheet = Sheet(
                latest.serial if latest else serial(prefix, workflow.year_be, a.code, number or 0),
                verification_code(digest), nomination_code(a.id, nom.nominee_id), th, en,
                a.id, a.title_th, a.title_en, a.reason_th, a.reason_en,
                band.title_th if band else "", band.title_en if band else "",
            )  # fmt: skip
            current = (
                latest is not None
                and out is not None
                and latest.template_sha256 == hashes[a.template]
                and bool(latest.pdfa) == pdfa
                and _has_size(out / sheet.file, latest.size)
            )
            items.append(
                Item(sheet, a.template, nom.id, a.id, nom.nominee_id, nom.seq, current,
                     latest.seq if latest else None)
            )  # fmt: skip
    return Plan(workflow, occasion, templates, hashes, items)


@dataclass
class _Recorded:
    latest: dict[int, Any] = field(default_factory=dict)  # nomination id -> latest rendering
    numbers: dict[str, set[int]] = field(default_factory=dict)  # award -> serial numbers given


def _recorded(conn: Connection, cycle_id: str) -> _Recorded:
    """The latest rendering of each nomination, and the serial numbers each award has given."""
    found = _Recorded()
    rows = conn.execute(
        select(Certificate).where(Certificate.cycle == cycle_id).order_by(Certificate.seq)  # type: ignore[arg-type]
    )
    for row in rows:
        found.latest[row.nomination_id] = row
        found.numbers.setdefault(row.award, set()).add(int(row.serial.rsplit("-", 1)[1]))
    return found


def _has_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except OSError:
        return False
