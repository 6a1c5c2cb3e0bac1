"""The front door: `awards.open()` opens a database once and returns a `Database` whose
methods are the library calls behind the command line, all on that one engine.

    db = awards.open("sqlite:///awards.db", create=True, actor="somchai")
    db.init("workflows/dga-2019.toml")
    db.import_survey("survey-2019.csv")
    db.advance()
    print(db.status().as_dict())

Every method returns a dataclass whose `as_dict()` is plain JSON-ready values (decimals as
strings), except `history`, whose events are the logged JSON objects themselves. Errors are
the domain errors of awards.errors, each with a message meant for the user. The offline
functions, `awards.check` and `awards.replay`, need no database and live in the pure layers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine

from awards.actor import default_actor
from awards.certificates import issuing
from awards.certificates import verification as certify
from awards.commands import advance as advancing
from awards.commands import audit as auditing
from awards.commands import logbook, results, sheets, verdicts
from awards.commands import seats as seating
from awards.errors import AwardsError
from awards.log.chain import Verified
from awards.log.signing import load_key, load_public_key
from awards.report import build
from awards.rules.states import Trigger
from awards.rules.workflow import Reviewer
from awards.store import cycles
from awards.store.schema import open_engine


def open(
    url: str | None = None,
    *,
    cycle: str | None = None,
    actor: str | None = None,
    create: bool = False,
) -> Database:
    """Open the awards database at `url` once, for many calls.

    `url` is any SQLAlchemy URL (default: AWARDS_DATABASE_URL, else sqlite:///awards.db).
    With `create`, a database that does not exist yet is made with the newest schema (what
    `awards init` does); without, it must exist at this version's schema revision
    (`awards db upgrade`). `cycle` is the cycle the methods work on (default: the only open
    one); `actor` is recorded in every decision they log (default: AWARDS_ACTOR, else the
    user name).
    """
    return Database(open_engine(url, create=create), cycle=cycle, actor=actor or default_actor())


class Database:
    """An awards database opened once: each method is one library call on its engine.

    Use it as a context manager, or call `close()`, to release the engine when done.
    """

    def __init__(self, engine: Engine, *, cycle: str | None = None, actor: str) -> None:
        self.engine = engine
        self.cycle = cycle
        self.actor = actor

    @property
    def url(self) -> str:
        """The database's URL, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release the engine (the methods open a connection per transaction)."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<awards.Database {self.url} cycle={self.cycle or '(the only one)'}>"

    # --- A cycle ---------------------------------------------------------------------------

    def init(self, workflow: str | Path) -> cycles.Opened:
        """Open the cycle the workflow file (or the shipped workflow so named, e.g.
        'dga-2019') declares (again: a no-op; other rules for an open cycle are refused).
        The methods work on this cycle from now on."""
        opened = cycles.init_cycle(workflow, engine=self.engine, actor=self.actor)
        self.cycle = opened.cycle
        return opened

    def import_survey(self, survey: str | Path, *, replace: bool = False) -> cycles.Imported:
        """Validate a survey file (CSV or XLSX) whole and nominate every pool member;
        InputErrors lists every bad row. `replace` swaps a different file in before any
        advance."""
        return cycles.import_survey(
            survey, engine=self.engine, cycle=self.cycle, replace=replace, actor=self.actor
        )

    def advance(
        self, *, award: str | None = None, dry_run: bool = False, key: Any = None
    ) -> advancing.Advanced:
        """Move every award (or one) as far as the rules and verdicts allow, one transaction
        per stage. `key`, the committee's private key (its PEM file, or loaded with
        awards.log.signing.load_key), signs the checkpoint after each stage."""
        if isinstance(key, str | Path):
            key = load_key(key)
        return advancing.advance(
            engine=self.engine, cycle=self.cycle, award=award, dry_run=dry_run,
            actor=self.actor, key=key,
        )  # fmt: skip

    def withdraw(self, nomination: str, *, reason: str) -> advancing.Moved:
        """Withdraw an open nomination ('AWARD:NOMINEE') from its award; logged with `reason`."""
        return self._move(nomination, Trigger.WITHDRAW, reason)

    def revoke(self, nomination: str, *, reason: str) -> advancing.Moved:
        """Revoke an awarded nomination; its certificate no longer verifies."""
        return self._move(nomination, Trigger.REVOKE, reason)

    def _move(self, nomination: str, trigger: Trigger, reason: str) -> advancing.Moved:
        return advancing.move_one(
            nomination, trigger, reason=reason, actor=self.actor, engine=self.engine,
            cycle=self.cycle,
        )  # fmt: skip

    # --- The committee ---------------------------------------------------------------------

    def add_reviewer(
        self,
        reviewer: str,
        *,
        name: str,
        ministries: Sequence[str] = (),
        provinces: Sequence[str] = (),
    ) -> Reviewer:
        """Declare a committee member; their ministries and provinces decide conflicts of
        interest."""
        declared = Reviewer(reviewer, name, tuple(sorted(set(ministries))), tuple(sorted(set(provinces))))  # fmt: skip
        return seating.add_reviewer(
            declared, engine=self.engine, cycle=self.cycle, actor=self.actor
        )

    def reviewers(self) -> list[seating.Listed]:
        """Every reviewer of the cycle with their assignments, verdicts and what they owe."""
        return seating.list_reviewers(engine=self.engine, cycle=self.cycle)

    def assign(self, award: str, *, per_nomination: int) -> seating.Assigned:
        """Give each shortlisted nomination of `award` `per_nomination` reviewers without a
        conflict of interest; again, it fills only places opened since."""
        return seating.assign(
            award, per_nomination, engine=self.engine, cycle=self.cycle, actor=self.actor
        )

    def review(
        self,
        nomination: str,
        *,
        reviewer: str,
        approve: bool,
        scores: Mapping[str, Decimal | int | str] | None = None,
        note: str = "",
    ) -> verdicts.Reviewed:
        """Record (or change) one assigned reviewer's verdict, with adjusted dimension
        `scores` (0-100) if any."""
        given = verdicts.Given(nomination, reviewer, approve, _scores(scores or {}), note)
        return verdicts.review(given, engine=self.engine, cycle=self.cycle, actor=self.actor)

    def review_sheet(self, path: str | Path) -> verdicts.Imported:
        """Take a sheet of verdicts (CSV or XLSX), all or nothing: InputErrors lists every
        bad row."""
        return verdicts.import_verdicts(
            path, engine=self.engine, cycle=self.cycle, actor=self.actor
        )

    def reviewer_sheets(
        self, out: str | Path, *, reviewer: str | None = None, every: bool = False
    ) -> sheets.Written:
        """Write `reviewer`'s pre-filled XLSX sheet for the current review round to the file
        `out`, or (`every`) everyone's into the folder `out`; never over an existing file.
        review_sheet reads them back."""
        return sheets.write_sheets(
            out, reviewer=reviewer, every=every, engine=self.engine, cycle=self.cycle
        )

    def seats(self, nomination: str) -> seating.Seats:
        """Who is assigned to a nomination, and who recused from it."""
        return seating.seats(nomination, engine=self.engine, cycle=self.cycle)

    def recuse(self, nomination: str, *, reviewer: str, reason: str) -> seating.Recused:
        """A reviewer declares a conflict with a nomination: their verdict stops counting
        and the next eligible reviewer takes the place."""
        return seating.recuse(
            nomination, reviewer=reviewer, reason=reason, engine=self.engine, cycle=self.cycle,
            actor=self.actor,
        )  # fmt: skip

    # --- Results and the log ---------------------------------------------------------------

    def status(self) -> results.Status:
        """Counts per award and state, national means per level, the log head."""
        return results.status(engine=self.engine, cycle=self.cycle)

    def ranking(self, award: str, *, limit: int | None = None) -> results.Ranking:
        """Every nomination of `award` in rank order, with its margin to the winners' cut
        and the committee's tally."""
        return results.ranking(award, engine=self.engine, cycle=self.cycle, limit=limit)

    def history(
        self, *, award: str | None = None, nominee: str | None = None
    ) -> list[dict[str, Any]]:
        """The cycle's logged events, oldest first, as logged (plain JSON objects)."""
        return logbook.history(engine=self.engine, cycle=self.cycle, award=award, nominee=nominee)

    def export_log(self, path: str | Path) -> Verified:
        """Write the cycle's chain to `path` as JSON Lines, checking every hash on the way;
        `awards.replay` checks it alone."""
        return logbook.export_log(path, engine=self.engine, cycle=self.cycle)

    def verify_log(self) -> Verified:
        """Check the cycle's hash chain in the database as an exported file would be
        checked."""
        return logbook.verify_database(engine=self.engine, cycle=self.cycle)

    def audit(self) -> auditing.Audited:
        """Fold the cycle's chain and list every difference from its tables (drift)."""
        return auditing.audit(engine=self.engine, cycle=self.cycle)

    # --- Certificates and the report -------------------------------------------------------

    def render(
        self,
        *,
        award: str | None = None,
        out: str | Path = "certificates",
        pdfa: bool = False,
        progress: Callable[[int, int], None] | None = None,
        key: Any = None,
    ) -> issuing.RenderResult:
        """Render the PDF of every awarded nomination without a current one into `out`; `key`
        (as for `advance`) signs the checkpoint that ends each batch."""
        if isinstance(key, str | Path):
            key = load_key(key)
        return issuing.render(
            engine=self.engine, cycle=self.cycle, award=award, out=out, pdfa=pdfa,
            actor=self.actor, progress=progress, key=key,
        )  # fmt: skip

    def verify(
        self, target: str | Path, *, public_key: str | Path | None = None
    ) -> certify.Verification:
        """Check a certificate by its verification code or its PDF file against the decision
        log: valid, revoked, tampered, unknown or invalid. With the committee's `public_key`
        (its file), only a rendering under a checkpoint signed with it is valid."""
        trusted = None if public_key is None else load_public_key(public_key)
        return certify.verify(str(target), engine=self.engine, trusted=trusted)

    def report(self, *, out: str | Path = "report.html", pdf: bool = False) -> build.Written:
        """Write the results and transparency report (HTML, and with `pdf` the PDF too)."""
        return build.report(engine=self.engine, cycle=self.cycle, out=out, pdf=pdf)


def _scores(scores: Mapping[str, Decimal | int | str]) -> dict[str, Decimal]:
    out = {}
    for key, value in scores.items():
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value))
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise AwardsError(f"adjusted score {key}={value!r} must be a number from 0 to 100")
        out[key] = number
    return out
