"""Where a command may write: never over a file the cycle reads or depends on.

`log export`, `report` and `render` write files the user names. A slip of the keyboard
(`awards log export awards.db`) must not replace the database, the workflow or the survey a
cycle was opened from, or the committee's key, with an export. What is protected: the
database file (and its SQLite companions), every cycle's workflow file and imported survey
files as recorded, and, whatever their name, any SQLite database and any PEM key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import col

from awards.errors import AwardsError
from awards.store import database as db
from awards.store.models import Cycle, SurveyImport

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
