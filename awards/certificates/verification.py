"""`awards verify`: a certificate (its verification code, or its PDF file) checked against
the decision log.

What verify trusts is the `certificate_rendered` event the log holds for a rendering, not the
certificate table: the event is found in the log (by the code every rendering of a nomination
carries, or by the PDF's SHA-256), and must be

1. pinned: inside the Merkle tree of a checkpoint after it (with the committee's public key,
   one signed with that key), which the events before it still reach;
2. earned: its code derives from the hash of the intact event that awarded the nomination;
3. standing: the nomination's latest move in the log is that award, or else a revocation.

The certificate table's row of that rendering must agree with the event, or the certificate
is reported tampered: someone changed the table. Everything printed (the recipient as
printed, the award and cycle titles, the dates) comes from the log and from the workflow
whose SHA-256 the award event names; nothing from a table a forger could have edited.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, select
from sqlmodel import col

from awards.certificates.plan import parse_code, verification_code
from awards.log.chain import sha256 as sha256_hex
from awards.log.events import Kind
from awards.rules.states import State, Trigger, nomination_code
from awards.store import database as db
from awards.store.checkpoints import Pinned, pinned
from awards.store.loading import load_cycle
from awards.store.models import Certificate, Event
from awards.store.schema import open_engine


@dataclass(frozen=True)
class Verification:
    """What `awards verify` found: status is valid, revoked, tampered, unknown or invalid."""

    status: str
    lines: tuple[str, ...]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.status == "valid"

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.lines[0], **self.details}


_SERIAL_RE = re.compile(rb"/AwardsSerial\s*\(([A-Za-z0-9-]{1,120})\)")
# The columns of a recorded rendering that its event states too.
_COMPARED = ("serial", "code", "pdf_sha256", "award", "nominee_id", "template", "template_sha256", "pdfa")  # fmt: skip


def verify(
    target: str,
    *,
    url: str | None = None,
    engine: Engine | None = None,
    trusted: str | None = None,
) -> Verification:
    """Check a verification code (bare, or in the address a sheet's QR code holds), or a PDF
    file, against the decision log; with a `trusted`
    public key (hex), only a rendering under a checkpoint signed with that key is valid."""
    path = Path(target)
    if path.suffix.lower() == ".pdf" or path.is_file():
        return _verify_file(path, engine or open_engine(url), trusted)
    code = parse_code(_from_address(target))
    if code is None:
        return Verification(
            "invalid",
            (
                f"invalid: {target!r} is neither a verification code (16 letters and digits, "
                "e.g. K7QF-9XMD-2ABC-DEFG) nor a PDF file",
            ),
        )
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        logged = _renderings(conn, "code", code)
        if logged:
            return _status(conn, *logged[-1], trusted, {"code": code})
        if (row := _row(conn, col(Certificate.code) == code)) is not None:
            return _unlogged(row, f"a record with the code {code}", {"code": code})
    return Verification(
        "unknown", (f"unknown: no certificate with the code {code} in this database",)
    )


def _from_address(target: str) -> str:
    """The code in what a sheet's QR code holds: the bare code, or the address
    <verify_url>/<code> (any https or http address: its last path segment is the code)."""
    parts = urlsplit(target.strip())
    if parts.scheme in ("https", "http") and parts.netloc:
        return parts.path.rstrip("/").rsplit("/", 1)[-1]
    return target


def _verify_file(path: Path, engine: Engine, trusted: str | None) -> Verification:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    claimed = _claimed_serial(data)
    details: dict[str, Any] = {"file": str(path), "sha256": digest, "claimed_serial": claimed}
    with db.read(engine) as conn:
        logged = _renderings(conn, "pdf_sha256", digest)
        if logged:
            return _status(conn, *logged[-1], trusted, details)
        if (row := _row(conn, col(Certificate.pdf_sha256) == digest)) is not None:
            return _unlogged(row, f"{path} as {row.serial}", details)
        same = _renderings(conn, "serial", claimed) if claimed else []
    if same:
        _, _, event = same[-1]
        details |= {"serial": event["serial"], "recorded_sha256": event["pdf_sha256"]}
        return Verification(
            "tampered",
            (
                f"tampered: {path} claims to be {event['serial']}, but the file's SHA-256 "
                f"({digest[:16]}...) does not match the recorded one "
                f"({event['pdf_sha256'][:16]}...): it was altered after rendering",
            ),
            details,
        )
    why = f"its serial {claimed} is not recorded" if claimed else "it carries no serial"
    return Verification(
        "unknown",
        (f"unknown: {path} is not a certificate recorded in this database ({why})",),
        details,
    )


def _claimed_serial(data: bytes) -> str | None:
    """The serial a PDF says it has: from its document information, or if the file is too
    damaged for pypdf, from the raw bytes."""
    import pypdf  # only verifying a file needs it

    try:
        info = pypdf.PdfReader(io.BytesIO(data)).metadata
        if info is not None and (value := info.get("/AwardsSerial")):
            return str(value)
    except Exception:  # a damaged file is what we are looking for: read its bytes instead
        pass
    match = _SERIAL_RE.search(data)
    return match.group(1).decode("ascii") if match else None


# --- The log ---------------------------------------------------------------------------


def _renderings(conn: Connection, name: str, value: str) -> list[tuple[str, int, dict[str, Any]]]:
    """The logged renderings whose `name` is `value`, as (cycle, seq, event), each cycle's
    oldest first."""
    rows = conn.execute(
        select(col(Event.cycle), col(Event.seq), col(Event.body))
        .where(col(Event.kind) == Kind.CERTIFICATE_RENDERED)
        .order_by(col(Event.cycle), col(Event.seq))
    )
    out = []
    for cycle, seq, body in rows:
        event = db.parsed(seq, body)
        if event.get(name) == value:
            out.append((cycle, seq, event))
    return out


def _row(conn: Connection, condition: Any) -> Any:
    return conn.execute(
        select(Certificate).where(condition).order_by(col(Certificate.id).desc()).limit(1)
    ).first()


def _unlogged(row: Any, what: str, details: dict[str, Any]) -> Verification:
    """The certificate table records something the log never did: the table was forged."""
    details |= {"serial": row.serial, "table_seq": row.seq}
    return Verification(
        "tampered",
        (
            f"tampered: the certificate table records {what}, but the decision log has no "
            "such rendering: the table was altered (`awards audit` lists what else changed)",
        ),
        details,
    )


def _transition(
    conn: Connection, where: Any, *, latest: bool = False
) -> tuple[int, str, bytes] | None:
    query = select(col(Event.seq), col(Event.hash), col(Event.body)).where(
        col(Event.kind) == Kind.TRANSITION, *where
    )
    if latest:
        query = query.order_by(col(Event.seq).desc()).limit(1)
    row = conn.execute(query).first()
    return None if row is None else (row[0], row[1], db.event_bytes(row[0], row[2]))


def _opened_under(conn: Connection, cycle: str) -> str | None:
    """The SHA-256 of the rules the log says the cycle was opened under (since schema version
    6 the award's own evidence does not repeat it)."""
    row = conn.execute(
        select(col(Event.seq), col(Event.body)).where(
            col(Event.cycle) == cycle,
            col(Event.award).is_(None),
            col(Event.nominee).is_(None),
            col(Event.kind) == Kind.CYCLE_OPENED,
        )
    ).first()
    return None if row is None else db.parsed(row[0], row[1]).get("workflow_sha256")


def _status(
    conn: Connection,
    cycle: str,
    seq: int,
    event: dict[str, Any],
    trusted: str | None,
    details: dict[str, Any],
) -> Verification:
    serial, code = event["serial"], event["code"]
    nomination = nomination_code(event["award"], event["nominee"])
    details |= {"serial": serial, "code": code, "nomination": nomination, "rendered_event": seq}

    def invalid(why: str) -> Verification:
        return Verification("invalid", (f"invalid: {serial} {why}",), details)

    pin = pinned(conn, cycle, seq, trusted)
    details |= {"checkpoint": pin.checkpoint, "checkpoint_key": pin.public_key, "trusted_key": pin.trusted}  # fmt: skip
    if pin.checkpoint is None and trusted is not None:
        other = pinned(conn, cycle, seq)  # the committee's key signed nothing here; did anyone?
        if other.checkpoint is not None:
            who = f"signed with another key ({other.public_key[:16]})" if other.public_key else "unsigned"  # fmt: skip
            return invalid(
                f"was logged at event {seq}, under the checkpoint at event {other.checkpoint}, "
                f"which is {who}: no checkpoint signed with the trusted key covers it"
            )
    if pin.checkpoint is None:
        signed = " signed with the trusted key" if trusted else ""
        return invalid(
            f"was logged at event {seq}, but no checkpoint{signed} covers that event: `awards "
            "render` pins every batch with one, so it was added to the log afterwards, or "
            "rendered before schema revision 0003 (`awards checkpoint write` pins it)"
        )
    if pin.problem:
        return invalid(f"is under the checkpoint at event {pin.checkpoint}, which does not hold: {pin.problem}; run `awards log verify`")  # fmt: skip
    event = db.parsed(seq, pin.body)  # the very bytes the checkpoint's tree holds
    awarded = _transition(conn, [col(Event.cycle) == cycle, col(Event.seq) == event["award_seq"]])
    award = None if awarded is None else db.parsed(awarded[0], awarded[2])
    if (
        awarded is None
        or award is None
        or (award["cycle"], award["award"], award["nominee"], award["trigger"])
        != (event["cycle"], event["award"], event["nominee"], Trigger.AWARD)
        or sha256_hex(awarded[2]) != awarded[1]
        or verification_code(awarded[1]) != code
    ):
        return invalid(
            f"does not match the decision log: no intact award event {event['award_seq']} of "
            f"{nomination} gives its code; run `awards log verify`"
        )
    row = conn.execute(
        select(Certificate).where(col(Certificate.cycle) == cycle, col(Certificate.seq) == seq)
    ).first()
    if row is None or any(
        getattr(row, k) != event[k if k != "nominee_id" else "nominee"] for k in _COMPARED
    ):
        return _disagrees(row, event, serial, details)  # fmt: skip
    workflow = load_cycle(conn, event["cycle"])
    ruled = award.get("evidence", {}).get("workflow_sha256") or _opened_under(
        conn, workflow.cycle_id
    )
    if ruled is not None and workflow.sha256 != ruled:
        return Verification(
            "tampered",
            (f"tampered: the rules of cycle {workflow.cycle_id} in the database are not the ones the award of {serial} was decided under (SHA-256 differs): the cycle table was altered",),
            details,
        )  # fmt: skip
    latest = _transition(conn, _subject(event), latest=True)
    moved = {} if latest is None else db.parsed(latest[0], latest[2])
    a = workflow.award(event["award"])
    th, en = event.get("recipient_th"), event.get("recipient_en")
    if th is None:  # logged before renderings named their recipient (schema version 3)
        th, en = f"{event['nominee']} (this rendering's event does not name the recipient)", ""
    details |= {
        "recipient_th": th, "recipient_en": en, "award": a.id, "award_th": a.title_th,
        "award_en": a.title_en, "cycle": workflow.cycle_id, "cycle_th": workflow.title_th,
        "year_be": workflow.year_be, "awarded_at": award.get("at"), "award_event": award["seq"],
        "rendered_at": event["at"], "pdf_sha256": event["pdf_sha256"],
    }  # fmt: skip
    facts = [
        f"  recipient: {th}" + (f" ({en})" if en else ""),
        f"  award:     {a.title_th} ({a.id})",
        f"  cycle:     {workflow.title_th} ({workflow.cycle_id})",
        f"  decision:  awarded {award.get('at')}, decision log event {award['seq']}",
        f"  rendered:  {event['at']}, decision log event {seq}, {_pinned_by(pin, trusted)}",
    ]
    if moved.get("to") == State.REVOKED:
        reason, when, who = moved.get("reason", ""), moved.get("at", ""), moved.get("actor", "")
        details |= {"revoked_at": when, "revoked_by": who, "reason": reason, "revoke_event": moved["seq"]}  # fmt: skip
        facts.append(f"  revoked:   {when} by {who}, decision log event {moved['seq']}")
        return Verification(
            "revoked",
            (f"revoked: {serial} is no longer valid: the award was revoked ({reason})", *facts),
            details,
        )
    if moved.get("seq") != award["seq"]:
        return invalid(f"is for {nomination}, which is '{moved.get('to')}' in the decision log (event {moved.get('seq')}), not awarded")  # fmt: skip
    return Verification("valid", (f"valid: {serial} (verification code {code})", *facts), details)


def _subject(event: dict[str, Any]) -> list[Any]:
    return [
        col(Event.cycle) == event["cycle"],
        col(Event.award) == event["award"],
        col(Event.nominee) == event["nominee"],
    ]


def _pinned_by(pin: Pinned, trusted: str | None) -> str:
    where = f"under the checkpoint at event {pin.checkpoint}"
    if pin.trusted:
        return f"{where}, signed with the trusted key"
    if pin.public_key is None:
        return f"{where} (unsigned; --public-key requires the committee's signature)"
    return f"{where} (signed with key {pin.public_key[:16]}, not checked against a trusted key: --public-key)"


def _disagrees(
    row: Any, event: dict[str, Any], serial: str, details: dict[str, Any]
) -> Verification:
    if row is None:
        what = "has no record of it"
    else:
        k = next(
            k for k in _COMPARED if getattr(row, k) != event[k if k != "nominee_id" else "nominee"]
        )
        logged = event[k if k != "nominee_id" else "nominee"]
        what = f"says {k} {str(getattr(row, k))[:16]!r} where the log says {str(logged)[:16]!r}"
    return Verification(
        "tampered",
        (
            f"tampered: the certificate table {what} for {serial} (decision log event "
            f"{event['seq']}): the table was altered (`awards audit` lists what else changed)",
        ),
        details,
    )
