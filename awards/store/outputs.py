"""Where a command may write: never over a file the cycle reads or depends on.

`log export`, `report` and `render` write files the user names. A slip of the keyboard
(`awards log export awards.db`) must not replace the database, the workflow or the survey a
cycle was opened from, or the committee's key, with an export. What is protected: the
database file (and its SQLite companions), every cycle's workflow file and imported survey
files as recorded, and, whatever their name, any SQLite database and any PEM key.

`render` also never replaces a PDF it did not write for that nomination: a file already in
the output folder under a certificate's name is replaced only when its SHA-256 is one this
nomination's renderings recorded (a re-render with new templates); another cycle's
certificate, or any file of the user's, is kept byte for byte (`check_renderings`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Connection, Engine, select
from sqlmodel import col

from awards.errors import AwardsError
from awards.rules.states import nomination_code
from awards.store import database as db
from awards.store.models import Certificate, Cycle, SurveyImport

# What the first bytes of a file say it is; enough to recognise one we must not overwrite.
_SQLITE = b"SQLite format 3\x00"
_PEM = b"-----BEGIN "
_PUBLIC = re.compile(rb"\s*[0-9a-fA-F]{64}\s*")  # awards.log.signing writes public keys so
_KEYS = (".key", ".pub", ".pem")


class Clobber(AwardsError):
    """An output would replace a file the cycle reads; nothing was written."""


def protected(engine: Engine) -> dict[Path, str]:
    """The files of this database's cycles, resolved, with what each one is."""
    found: dict[Path, str] = {}
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        file = Path(str(url.database)).resolve()
        for suffix in ("", "-wal", "-shm", "-journal"):
            found[file.with_name(file.name + suffix)] = "the database"
    with db.read(engine) as conn:
        for cycle, path in conn.execute(select(col(Cycle.id), col(Cycle.workflow_path))):
            found.setdefault(Path(path).resolve(), f"the workflow file of cycle {cycle}")
        for cycle, path in conn.execute(select(col(SurveyImport.cycle), col(SurveyImport.path))):
            found.setdefault(Path(path).resolve(), f"a survey file of cycle {cycle}")
    return found


def what_it_holds(path: Path) -> str | None:
    """'a SQLite database' or 'a key' when an existing file is one, by its first bytes (a
    PEM block, or the 64 hex digits of a committee public key) or its name, else None."""
    try:
        with path.open("rb") as f:
            head = f.read(80)
    except OSError:  # not there, or not a file: nothing to lose
        return None
    if head.startswith(_SQLITE):
        return "a SQLite database"
    if head.lstrip().startswith(_PEM) or _PUBLIC.fullmatch(head) or path.suffix in _KEYS:
        return "a key"
    return None


def check_outputs(engine: Engine, targets: Iterable[str | Path], what: str) -> None:
    """Refuse (Clobber, before anything is written) to write `what` to any of `targets` if
    one is, or links to, a file the cycle reads or a database or key of any name."""
    files = protected(engine)
    for target in targets:
        path = Path(target)
        full = path.resolve()
        reason = files.get(full) or what_it_holds(full)
        if reason is not None:
            raise Clobber(
                f"{path} is {reason}; refusing to write the {what} over it (nothing was "
                "written): choose another file name"
            )


def check_renderings(conn: Connection, targets: Iterable[tuple[Path, int, str]]) -> None:
    """Refuse (Clobber) to render over a file that is in the way: `targets` are (the file a
    certificate is to be written to, its nomination's id, the nomination as printed); a
    file already there must be a rendering recorded for that nomination (by its SHA-256).
    Nothing is written when one is not."""
    wanted = [(path, nid, name) for path, nid, name in targets if path.exists()]
    if not wanted:
        return
    ours: dict[int, set[str]] = {}
    rows = conn.execute(
        select(col(Certificate.nomination_id), col(Certificate.pdf_sha256)).where(
            col(Certificate.nomination_id).in_({nid for _, nid, _ in wanted})
        )
    )
    for nid, recorded in rows:
        ours.setdefault(nid, set()).add(recorded)
    for path, nid, name in wanted:
        digest = _sha256(path)
        if digest is not None and digest in ours.get(nid, ()):
            continue
        raise Clobber(
            f"{path} is already there and is not a rendering of {name} ({_whose(conn, digest)}); "
            "refusing to replace it (nothing was written): render into another folder (--out, "
            "e.g. one per cycle), or move that file away"
        )


def _sha256(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:  # a folder, or unreadable: not ours to replace either
        return None


def _whose(conn: Connection, digest: str | None) -> str:
    """What a file in the way is, by its SHA-256: a recorded rendering, or someone's file."""
    row = None
    if digest is not None:
        row = conn.execute(
            select(Certificate).where(col(Certificate.pdf_sha256) == digest).limit(1)
        ).first()
    if row is None:
        return "this database recorded no rendering with its content"
    code = nomination_code(row.award, row.nominee_id)
    return f"it is certificate {row.serial} of {code} in cycle {row.cycle}"
