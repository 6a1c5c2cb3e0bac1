"""The command line: parse arguments, make one library call, print the result.

Imports of the library happen inside each command so that `awards --help` loads neither
SQLAlchemy nor WeasyPrint. Domain errors become one-line ClickExceptions here and only here.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from awards.actor import default_actor


def domain_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the library's errors into one clear message and exit code 1, no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from awards.errors import AwardsError  # leaf module, cheap

        try:
            return fn(*args, **kwargs)
        except AwardsError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            raise click.ClickException(f"{exc.strerror or exc}{where}") from None
        except Exception as exc:
            message = _infrastructure(exc)
            if message is None:
                raise  # a bug: its traceback is what a report of it needs
            raise click.ClickException(message) from None

    return wrapper


def _infrastructure(exc: Exception) -> str | None:
    """One line for a failure of the database, or of reading a file, that the library did
    not translate itself (the server went away mid-command, a file changed under us); None
    for anything else."""
    text = " ".join(str(getattr(exc, "orig", None) or exc).split()) or type(exc).__name__
    # By module, so that this boundary loads no SQLAlchemy when nothing went wrong with it.
    if type(exc).__module__.startswith("sqlalchemy."):
        text = text.split(" (Background on this error at:")[0]
        return f"the database failed: {text}; check --db or AWARDS_DATABASE_URL, then run the command again"
    if isinstance(exc, UnicodeDecodeError):
        return f"a file is not UTF-8 text ({text}); save it as UTF-8"
    if isinstance(exc, json.JSONDecodeError):
        return f"a file is not valid JSON: {text}"
    return None


def _json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _console() -> Any:
    from rich.console import Console  # rich is only needed when a table is printed

    # No emoji codes: a name holding ":smile:" is printed as written.
    return Console(highlight=False, soft_wrap=False, emoji=False)


_public_key = click.option(
    "--public-key", type=click.Path(dir_okay=False), envvar="AWARDS_COMMITTEE_PUBLIC_KEY",
    metavar="FILE.pub",
    help="The committee's public key: trust only checkpoints signed with it (also AWARDS_COMMITTEE_PUBLIC_KEY).",
)  # fmt: skip


def _trusted(public_key: str | None) -> str | None:
    """The trusted public key (hex) from its file, or None when none was given."""
    if public_key is None:
        return None
    from awards.log.signing import load_public_key

    return load_public_key(public_key)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "url", envvar="AWARDS_DATABASE_URL", metavar="URL",
              help="Database URL (default: sqlite:///awards.db; also AWARDS_DATABASE_URL).")  # fmt: skip
@click.option("--actor", default=default_actor, show_default="$AWARDS_ACTOR or your user name",
              help="Who is acting; recorded in every logged decision.")  # fmt: skip
@click.version_option(package_name="awards")
@click.pass_context
def main(ctx: click.Context, url: str | None, actor: str) -> None:
    """Run an awards cycle: declared rules, imported survey, one state machine, a
    hash-chained decision log that auditors can verify offline."""
    ctx.obj = {"url": url, "actor": actor}


@main.command()
@click.argument("workflow", type=click.Path(dir_okay=False))
@click.pass_obj
@domain_errors
def init(obj: dict[str, Any], workflow: str) -> None:
    """Create the database (if needed) and open the cycle WORKFLOW declares: a workflow file,
    or the name of a shipped one (`awards workflows` lists them), e.g. dga-2019."""
    from awards.store.cycles import init_cycle

    opened = init_cycle(workflow, url=obj["url"], actor=obj["actor"])
    verb = "opened" if opened.created else "already open with these rules:"
    click.echo(f"cycle {opened.cycle} {verb} ({opened.database})")


@main.command()
@click.argument("workflow", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@domain_errors
def check(workflow: str, as_json: bool) -> None:
    """Validate a workflow file (or a shipped one by name) and report every problem in it."""
    from awards.errors import InputErrors
    from awards.rules.checking import check as run

    try:
        checked = run(workflow)
    except InputErrors as exc:
        if as_json:
            _json({"ok": False, "problems": [p.as_dict() for p in exc.problems]})
            sys.exit(1)
        raise
    if as_json:
        _json({"ok": True, **checked.as_dict()})
    else:
        click.echo(
            f"{workflow}: ok: cycle {checked.cycle}, {len(checked.awards)} awards ({', '.join(checked.awards)})"
        )


@main.group(invoke_without_command=True)
@click.pass_context
def workflows(ctx: click.Context) -> None:
    """The workflows shipped with awards: list them (the default), or copy one out to edit."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(workflows_list)


@workflows.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@domain_errors
def workflows_list(as_json: bool = False) -> None:
    """Every shipped workflow: the name `awards init` takes, its year, title and awards."""
    from awards.commands.workflows import shipped

    found = shipped()
    if as_json:
        _json([w.as_dict() for w in found])
        return
    for w in found:
        click.echo(f"{w.name}  {w.year} (พ.ศ. {w.year_be})  {w.title_en} / {w.title_th}  awards: {', '.join(w.awards)}")  # fmt: skip
    click.echo(
        "open one with `awards init NAME`; copy one to edit with `awards workflows copy NAME`"
    )


@workflows.command(name="copy")
@click.argument("name")
@click.argument("dest", required=False, type=click.Path())
@domain_errors
def workflows_copy(name: str, dest: str | None) -> None:
    """Copy the shipped workflow NAME to DEST (a file or folder; default ./NAME.toml) to edit
    it; an existing file is never overwritten. Give the edited rules a new cycle id."""
    from awards.commands.workflows import copy

    target = copy(name, dest)
    click.echo(
        f"{target}: a copy of the shipped {name.removesuffix('.toml')}; edit it, then `awards check {target}`"
    )


@main.command("import")
@click.argument("survey", type=click.Path(dir_okay=False))
@click.option("--cycle", help="The cycle to import into (default: the only open cycle).")
@click.option(
    "--replace",
    is_flag=True,
    help="Replace the cycle's survey by a different file (only before any advance).",
)
@click.pass_obj
@domain_errors
def import_(obj: dict[str, Any], survey: str, cycle: str | None, replace: bool) -> None:
    """Validate a survey (CSV or XLSX) whole and nominate every pool member."""
    from awards.store.cycles import import_survey

    result = import_survey(survey, url=obj["url"], cycle=cycle, replace=replace, actor=obj["actor"])
    if result.unchanged:
        click.echo(
            f"{survey}: already imported into {result.cycle} (sha256 {result.sha256[:12]}); nothing to do"
        )
        return
    made = ", ".join(f"{a} {n}" for a, n in result.nominations.items())
    click.echo(
        f"{survey}: {result.agencies} agencies imported into {result.cycle} (sha256 {result.sha256[:12]}); nominations: {made}"
    )


@main.command()
@click.option("--award", help="Advance only this award.")
@click.option("--cycle", help="The cycle (default: the only open cycle).")
@click.option(
    "--dry-run", is_flag=True, help="Show each award's next stage without changing anything."
)
@click.option("--key", type=click.Path(dir_okay=False), envvar="AWARDS_COMMITTEE_KEY",
              help="Committee private key: sign a checkpoint after every stage (also AWARDS_COMMITTEE_KEY).")  # fmt: skip
@click.pass_obj
@domain_errors
def advance(
    obj: dict[str, Any], award: str | None, cycle: str | None, dry_run: bool, key: str | None
) -> None:
    """Move nominations forward as far as the rules and the committee's verdicts allow."""
    from awards.commands.advance import advance as run

    signing = None
    if key and not dry_run:
        from awards.log.signing import load_key

        signing = load_key(key)
    result = run(
        url=obj["url"], cycle=cycle, award=award, dry_run=dry_run, actor=obj["actor"], key=signing
    )
    prefix = "would " if dry_run else ""
    for stage in result.stages:
        moved = ", ".join(f"{n} {state}" for state, n in stage.moved.items()) or "nothing moved"
        name = f"{stage.stage} round {stage.round}" if stage.round else stage.stage
        click.echo(f"{stage.award}: {prefix}{name}: {moved}")
        for w in stage.waiting:
            said = (
                f"  waiting: {w.nomination} has {w.approvals + w.rejections} of {w.needed} verdicts"
            )
            if w.reviewers:
                said += f"; waiting for {', '.join(w.reviewers)}"
            if w.unassigned:
                said += (
                    f"; {w.unassigned} more reviewer(s) to assign (`awards assign {stage.award}`)"
                )
            click.echo(said)
    for award_id in result.done:
        click.echo(f"{award_id}: complete")


def _adjusted(values: tuple[str, ...]) -> dict[str, Any]:
    from decimal import Decimal, InvalidOperation  # only verdicts with scores need it

    scores: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        try:
            scores[key.strip()] = Decimal(raw.strip())
        except InvalidOperation:
            sep = ""
        if not sep or not key.strip() or not scores[key.strip()].is_finite():
            raise click.BadParameter(
                f"'{item}': write DIMENSION=SCORE, e.g. services=72.5", param_hint="--score"
            )
    return scores


@main.command()
@click.argument("nomination", required=False)
@click.option("--approve/--reject", default=None, help="The verdict.")
@click.option("--reviewer", help="The committee member giving the verdict (their reviewer id).")
@click.option("--score", "scores", multiple=True, metavar="DIMENSION=SCORE",
              help="An adjusted score for one dimension (0-100); repeat for more.")  # fmt: skip
@click.option("--note", default="", help="Why (kept in the log).")
@click.option("--from", "sheet", type=click.Path(dir_okay=False), metavar="FILE",
              help="Take a sheet of verdicts (CSV or XLSX) instead, all or nothing.")  # fmt: skip
@click.option("--all", "every", is_flag=True,
              help="With `review sheet`: a sheet for every reviewer with a seat.")  # fmt: skip
@click.option("--out", type=click.Path(), metavar="FILE_OR_DIR",
              help="With `review sheet`: the .xlsx file (--reviewer) or folder (--all) to write.")  # fmt: skip
@click.option("--cycle", help="The cycle (default: the only open cycle).")
@click.pass_obj
@domain_errors
def review(
    obj: dict[str, Any],
    nomination: str | None,
    approve: bool | None,
    reviewer: str | None,
    scores: tuple[str, ...],
    note: str,
    sheet: str | None,
    every: bool,
    out: str | None,
    cycle: str | None,
) -> None:
    """Record a reviewer's verdict on a shortlisted NOMINATION (AWARD:NOMINEE), or a sheet.

    A verdict counts only from a reviewer assigned to the nomination without a conflict of
    interest. Giving a verdict again changes it (logged with the old and new values) until the
    nomination leaves 'shortlisted'. A sheet (--from) has the columns nomination, reviewer,
    verdict, and optionally note and any dimension key holding an adjusted score.

    `awards review sheet --reviewer R --out FILE.xlsx` (or `--all --out FOLDER`) writes a
    reviewer's pre-filled sheet for the current round, which --from reads back.
    """
    if nomination == "sheet":
        if sheet is not None or approve is not None or scores or note:
            raise click.UsageError(
                "review sheet takes --reviewer R or --all, and --out; give no --from, --approve/--reject, --score or --note"
            )
        if out is None:
            raise click.UsageError(
                "review sheet needs --out FILE.xlsx (or --out FOLDER with --all)"
            )
        from awards.commands.sheets import write_sheets

        written = write_sheets(out, reviewer=reviewer, every=every, url=obj["url"], cycle=cycle)
        for s in written.sheets:
            click.echo(f"{s.path}: {s.reviewer}, {s.nominations} nominations")
        return
    if every or out is not None:
        raise click.UsageError("--all and --out belong to `awards review sheet`")
    if sheet is not None:
        if nomination or reviewer or approve is not None or scores:
            raise click.UsageError(
                "--from takes every verdict from the file; give no NOMINATION, --reviewer, --approve/--reject or --score"
            )
        from awards.commands.verdicts import import_verdicts

        done = import_verdicts(sheet, url=obj["url"], cycle=cycle, actor=obj["actor"])
        click.echo(
            f"{done.file}: {len(done.verdicts)} verdicts, {done.changed} recorded, {len(done.verdicts) - done.changed} unchanged"
        )
        return
    if nomination is None or reviewer is None or approve is None:
        raise click.UsageError(
            "give NOMINATION, --reviewer and the verdict (--approve or --reject), or --from FILE"
        )
    from awards.commands.verdicts import Given
    from awards.commands.verdicts import review as record

    given = Given(nomination, reviewer, approve, _adjusted(scores), note)
    r = record(given, url=obj["url"], cycle=cycle, actor=obj["actor"])
    change = f" (was {r.previous['verdict']})" if r.previous else ""
    if not r.changed:
        change = " (unchanged)"
    click.echo(f"{r.nomination}: {r.reviewer} {r.verdict}s{change}")


@main.group()
def reviewers() -> None:
    """The cycle's committee: declare reviewers and list their load."""


@reviewers.command(name="add")
@click.argument("reviewer_id")
@click.option("--name", required=True, help="The reviewer's name as printed.")
@click.option(
    "--ministry", "ministries", multiple=True, help="A ministry they belong to (repeat for more)."
)
@click.option(
    "--province", "provinces", multiple=True, help="A province they belong to (repeat for more)."
)
@click.option("--cycle", help="The cycle (default: the only open cycle).")
@click.pass_obj
@domain_errors
def reviewers_add(obj: dict[str, Any], reviewer_id: str, name: str, ministries: tuple[str, ...],
                  provinces: tuple[str, ...], cycle: str | None) -> None:  # fmt: skip
    """Declare REVIEWER_ID a committee member; affiliations decide conflicts of interest."""
    from awards.commands.seats import add_reviewer
    from awards.rules.workflow import Reviewer

    r = Reviewer(reviewer_id, name, tuple(sorted(set(ministries))), tuple(sorted(set(provinces))))
    add_reviewer(r, url=obj["url"], cycle=cycle, actor=obj["actor"])
    click.echo(f"reviewer {r.id} ({r.name}) added")


@reviewers.command(name="list")
@click.option("--cycle", help="The cycle (default: the only open cycle).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@domain_errors
def reviewers_list(obj: dict[str, Any], cycle: str | None, as_json: bool) -> None:
    """Every reviewer with affiliations, assignments, verdicts given and still owed."""
    from awards.commands.seats import list_reviewers

    listed = list_reviewers(url=obj["url"], cycle=cycle)
    if as_json:
        _json([{"id": x.reviewer.id, "name": x.reviewer.name, "ministries": list(x.reviewer.ministries),
                "provinces": list(x.reviewer.provinces), "assigned": x.assigned, "verdicts": x.verdicts,
                "waiting": x.waiting, "recused": x.recused} for x in listed])  # fmt: skip
        return
    from awards.terminal import print_reviewers

    print_reviewers(_console(), listed)


@main.command()
@click.argument("award")
@click.option("--per-nomination", "per_nomination", type=int, required=True, metavar="K",
              help="Reviewers each shortlisted nomination gets.")  # fmt: skip
@click.option("--cycle", help="The cycle (default: the only open cycle).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@domain_errors
def assign(
    obj: dict[str, Any], award: str, per_nomination: int, cycle: str | None, as_json: bool
) -> None:
    """Assign K reviewers to each shortlisted nomination of AWARD: balanced, deterministic,
    never a reviewer with a conflict of interest (same ministry or province). Run it again to
    fill places opened since."""
    from awards.commands.seats import assign as run

    done = run(award, per_nomination, url=obj["url"], cycle=cycle, actor=obj["actor"])
    if as_json:
        _json({"award": done.award, "per_nomination": done.per_nomination,
               "assigned": [{"nomination": n, "reviewer": r} for n, r in done.pairs],
               "unfilled": done.unfilled, "load": done.load, "round": done.round})  # fmt: skip
        return
    during = f" round {done.round} of {done.rounds}" if done.rounds > 1 else ""
    click.echo(
        f"{done.award}{during}: {len(done.pairs)} assignments ({done.per_nomination} per nomination)"
    )
    for nomination, open_places in done.unfilled.items():
        click.echo(
            f"  unfilled: {nomination} lacks {open_places} reviewer(s) without a conflict of interest; add reviewers and run assign again"
        )
    if done.load:
        click.echo("  load: " + ", ".join(f"{r} {n}" for r, n in done.load.items()))


@main.command()
@click.argument("nomination")
@click.option("--reviewer", required=True, help="The reviewer declaring the conflict.")
@click.option("--reason", required=True, help="The conflict of interest; kept in the log.")
@click.option("--cycle", help="The cycle (default: the only open cycle).")
@click.pass_obj
@domain_errors
def recuse(
    obj: dict[str, Any], nomination: str, reviewer: str, reason: str, cycle: str | None
) -> None:
    """A reviewer declares a conflict with NOMINATION: their verdict no longer counts and the
    next eligible reviewer takes their place."""
    from awards.commands.seats import recuse as run

    r = run(nomination, reviewer=reviewer, reason=reason, url=obj["url"], cycle=cycle, actor=obj["actor"])  # fmt: skip
    effect = []
    if r.dropped:
        effect.append(f"their {r.dropped['verdict']} verdict no longer counts")
    if r.was_assigned:
        effect.append(
            f"replaced by {r.replacement}"
            if r.replacement
            else "no eligible reviewer left to replace them: add one and run `awards assign`"
        )
    click.echo(
        f"{r.nomination}: {r.reviewer} recused" + (f"; {'; '.join(effect)}" if effect else "")
    )


def _exceptional(trigger_name: str, help_text: str) -> None:
    @main.command(name=trigger_name, help=help_text)
    @click.argument("nomination")
    @click.option("--reason", required=True, help="Why; required and kept in the log.")
    @click.option("--cycle", help="The cycle (default: the only open cycle).")
    @click.pass_obj
    @domain_errors
    def command(obj: dict[str, Any], nomination: str, reason: str, cycle: str | None) -> None:
        from awards.commands.advance import move_one
        from awards.rules.states import Trigger

        m = move_one(
            nomination,
            Trigger(trigger_name),
            reason=reason,
            actor=obj["actor"],
            url=obj["url"],
            cycle=cycle,
        )
        click.echo(f"{m.nomination}: {m.source} -> {m.dest} (event {m.seq})")


_exceptional(
    "withdraw", "Withdraw an open NOMINATION (AWARD:NOMINEE) from its award, with a reason."
)
_exceptional("revoke", "Revoke an awarded NOMINATION (AWARD:NOMINEE), with a reason.")


@main.command()
@click.option("--cycle", help="The cycle (default: the only open cycle).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
@domain_errors
def status(obj: dict[str, Any], cycle: str | None, as_json: bool) -> None:
    """Counts per award and state, and the national mean scores per level."""
    from awards.commands.results import status as read

    data = read(url=obj["url"], cycle=cycle)
    if as_json:
        _json(data.as_dict())
        return
    from awards.terminal import print_status

    print_status(_console(), data)


@main.command()
@click.argument("award")
@click.option("--cycle", help="The cycle (default: the only open cycle).")
@click.option("--limit", type=click.IntRange(min=1), help="Show only the first N.")
@click.option("--wide", is_flag=True, help="Every column, however wide the terminal.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
@domain_errors
def ranking(
    obj: dict[str, Any], award: str, cycle: str | None, limit: int | None, wide: bool,
    as_json: bool,
) -> None:  # fmt: skip
    """Rank, name, score, state and margin to the cut of every nominee; dimension scores,
    verdicts and the committee's figures as far as the terminal is wide (or --wide)."""
    from awards.commands.results import ranking as read

    data = read(award, url=obj["url"], cycle=cycle, limit=limit)
    if as_json:
        _json(data.as_dict())
        return
    from awards.terminal import print_ranking

    print_ranking(_console(), data, wide=wide)


@main.group(invoke_without_command=True)
@click.option("--award", help="Only this award's events.")
@click.option("--nominee", help="Only this nominee's events.")
@click.option("--cycle", help="The cycle (default: the only open cycle).")
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON Lines.")
@click.pass_context
@domain_errors
def log(
    ctx: click.Context, award: str | None, nominee: str | None, cycle: str | None, as_json: bool
) -> None:
    """Show the decision log's history; `export` and `verify` it."""
    if ctx.invoked_subcommand is not None:
        return
    from awards.commands.logbook import history

    events = history(url=ctx.obj["url"], cycle=cycle, award=award, nominee=nominee)
    if as_json:
        for e in events:
            click.echo(json.dumps(e, ensure_ascii=False, sort_keys=True))
        return
    from awards.terminal import print_history

    print_history(_console(), events)


@log.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--cycle", help="The cycle whose chain to write (default: the only open cycle).")
@click.pass_obj
@domain_errors
def log_export(obj: dict[str, Any], file: str, cycle: str | None) -> None:
    """Write the cycle's log to FILE as JSON Lines (one event per line): its own chain,
    which `awards replay` checks alone."""
    from awards.commands.logbook import export_log

    v = export_log(file, url=obj["url"], cycle=cycle)
    click.echo(f"{file}: {v.events} events exported; head {v.head}")


@log.command("verify")
@click.argument("file", type=click.Path(dir_okay=False), required=False)
@_public_key
@click.option("--cycle", help="Only this cycle's chain in the database (default: every cycle's).")
@click.pass_obj
@domain_errors
def log_verify(obj: dict[str, Any], file: str | None, public_key: str | None, cycle: str | None) -> None:  # fmt: skip
    """Check the hash chain of an exported FILE (or each cycle's chain in the database);
    with the committee's public key, also every checkpoint and what those signed with it
    cover."""
    from awards.commands.logbook import verify_chains, verify_database, verify_file

    trusted = _trusted(public_key)
    if file:
        v = verify_file(file, trusted)
        click.echo(f"{file}: ok: {v.events} events, chain intact; head {v.head}")
        click.echo(f"{file}: {_describe_trust(v.trust)}")
        return
    if cycle:
        checked = {cycle: verify_database(url=obj["url"], trusted=trusted, cycle=cycle)}
    else:
        checked = verify_chains(url=obj["url"], trusted=trusted)
    if not checked:
        click.echo("database: ok: the log is empty")
    for name, v in checked.items():
        where = "database" if len(checked) == 1 and not cycle else f"database (cycle {name})"
        click.echo(f"{where}: ok: {v.events} events, chain intact; head {v.head}")
        click.echo(f"{where}: {_describe_trust(v.trust)}")


def _describe_trust(trust: Any) -> str:
    from awards.log.trust import UNCHECKED

    return UNCHECKED if trust is None else str(trust.describe())


@main.command()
@click.argument("directory", default="awards-demo", type=click.Path(file_okay=False))
@click.option(
    "--seed",
    type=int,
    help="Seed of the synthetic survey and committee (default: the cycle's year).",
)
@click.option("--cycle", "cycle", default="dga-2019", show_default=True,
              type=click.Choice(["dga-2019", "dga-2023"]),
              help="The shipped cycle to run: dga-2023 shows the later programme's categories.")  # fmt: skip
@click.pass_obj
@domain_errors
def demo(obj: dict[str, Any], directory: str, seed: int | None, cycle: str) -> None:
    """Run a shipped cycle end to end on a synthetic survey, in DIRECTORY (new, empty, or an
    earlier demo's). The database is DIRECTORY/awards.db, or the one --db names (it must
    hold no cycle yet); the workflow, survey, key, log and certificates go in DIRECTORY."""
    from awards.commands.demo import run
    from awards.terminal import print_demo

    result = run(directory, seed=seed, actor=obj["actor"], url=obj["url"], cycle=cycle)
    print_demo(_console(), result)


@main.command()
@click.option("--award", help="Render only this award's certificates.")
@click.option("--cycle", help="The cycle (default: the only open cycle).")
@click.option("--out", default="certificates", show_default=True,
              type=click.Path(file_okay=False), help="The folder the PDF files go into.")  # fmt: skip
@click.option("--pdfa", is_flag=True, help="Write PDF/A-3b, for archiving (slower).")
@click.option("--workers", type=click.IntRange(min=1), envvar="AWARDS_RENDER_WORKERS",
              help="Processes to render in (default: one per core from 200 sheets; also AWARDS_RENDER_WORKERS).")  # fmt: skip
@click.option("--key", type=click.Path(dir_okay=False), envvar="AWARDS_COMMITTEE_KEY",
              help="Committee private key: sign the checkpoint that ends every batch (also AWARDS_COMMITTEE_KEY).")  # fmt: skip
@click.pass_obj
@domain_errors
def render(obj: dict[str, Any], award: str | None, cycle: str | None, out: str, pdfa: bool,
           workers: int | None, key: str | None) -> None:  # fmt: skip
    """Render the PDF (plaque or certificate) of every awarded nomination that has none yet;
    each batch is logged and pinned by a checkpoint."""
    from awards.certificates.issuing import render as run
    from awards.terminal import progress_bar

    signing = None
    if key:
        from awards.log.signing import load_key

        signing = load_key(key)
    with progress_bar("rendering") as progress:
        result = run(url=obj["url"], cycle=cycle, award=award, out=out, pdfa=pdfa,
                     actor=obj["actor"], key=signing, progress=progress, workers=workers)  # fmt: skip
    others = f"{result.elsewhere} left to another `awards render` running at the same time"
    if not result.total:
        if result.elsewhere:
            click.echo(f"nothing rendered here: {others}")
        elif result.current:
            click.echo(f"nothing to render: all {result.current} certificates are already in {out}")
        elif not result.unfit:
            click.echo(f"nothing to render: no nomination of cycle {result.cycle} is awarded")
    else:
        kind = "PDF/A-3b certificate" if pdfa else "certificate"
        plural = "" if result.total == 1 else "s"
        counts = ", ".join(f"{a} {n}" for a, n in result.rendered.items() if n)
        kept = f"; {result.current} already there" if result.current else ""
        kept += f"; {others}" if result.elsewhere else ""
        click.echo(f"{result.total} {kind}{plural} rendered into {out} ({counts}){kept}")
    for u in result.unfit:  # every other sheet was rendered and recorded
        click.echo(f"not rendered: {u.nomination} ({u.serial}, a name of {u.length} characters): {u.problem}", err=True)  # fmt: skip
    if result.unfit:
        raise click.exceptions.Exit(1)


@main.command()
@click.option("--cycle", help="The cycle (default: the only open cycle).")
@click.option("--out", default="report.html", show_default=True,
              type=click.Path(dir_okay=False), help="The HTML file to write.")  # fmt: skip
@click.option("--pdf", is_flag=True, help="Also write the same report as PDF beside it (.pdf).")
@click.pass_obj
@domain_errors
def report(obj: dict[str, Any], cycle: str | None, out: str, pdf: bool) -> None:
    """Write the results and transparency report: response rates, national means, each
    award's winners, shortlist, score distribution and weight sensitivity, and the log head."""
    from awards.report.build import report as write

    result = write(url=obj["url"], cycle=cycle, out=out, pdf=pdf)
    click.echo(
        f"{result.html}: report of cycle {result.cycle} (log head {result.events}, {result.head[:12]})"
    )
    if result.pdf is not None:
        click.echo(f"{result.pdf}: the same as PDF, {result.pages} pages")


@main.command()
@click.argument("target", metavar="CODE|FILE.pdf")
@_public_key
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
@domain_errors
def verify(obj: dict[str, Any], target: str, public_key: str | None, as_json: bool) -> None:
    """Check a certificate by its verification CODE (or the address its QR code holds) or its
    PDF file against the decision log: valid, revoked, tampered, unknown or invalid. The exit status is 0 only when it is valid."""
    from awards.certificates.verification import verify as check

    result = check(target, url=obj["url"], trusted=_trusted(public_key))
    if as_json:
        _json(result.as_dict())
    else:
        for line in result.lines:
            click.echo(line)
    if not result.valid:
        sys.exit(1)


@main.command("replay")
@click.argument("log", type=click.Path(dir_okay=False))
@click.option(
    "--workflow",
    "workflow",
    required=True,
    type=click.Path(dir_okay=False),
    help="The workflow file the log names.",
)
@click.option(
    "--survey",
    "survey",
    required=True,
    type=click.Path(dir_okay=False),
    help="The survey file the log names.",
)
@click.option("--prove", "proof", type=click.Path(dir_okay=False), metavar="PROOF.json",
              help="Also check an inclusion proof from `awards prove` against this log's checkpoints.")  # fmt: skip
@_public_key
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@domain_errors
def replay_(
    log: str, workflow: str, survey: str, proof: str | None, public_key: str | None, as_json: bool
) -> None:
    """Re-derive every decision of an exported LOG offline, from its workflow and survey;
    with the committee's public key, also require every rule decision to be under a
    checkpoint signed with it."""
    from awards.log.replay import Diverged, replay

    trusted = _trusted(public_key)
    try:
        result = replay(log, workflow, survey, trusted)
    except Diverged as exc:
        if as_json:
            from dataclasses import asdict

            _json({"ok": False, "divergence": asdict(exc.divergence)})
            sys.exit(1)
        raise
    problems: list[str] = []
    if proof is not None:
        from awards.log.signing import check_proof_against, read_proof

        problems = check_proof_against(read_proof(proof), result.checkpoints, trusted)
    untrusted = trusted is not None and result.trust is not None and not result.trust.ok
    if as_json:
        _json({"ok": not problems and not untrusted, **result.as_dict(), **({"proof": problems} if proof else {})})  # fmt: skip
        if problems or untrusted:
            sys.exit(1)
        return
    click.echo(f"{log}: {result.summary()}")
    if untrusted:  # every decision re-derives, but nothing shows the committee wrote them
        raise click.ClickException(f"{log}: {_describe_trust(result.trust)}")
    click.echo(f"{log}: {_describe_trust(result.trust if trusted else None)}")
    if proof is not None:
        said = "; ".join(problems) or "the event is in this log, under its checkpoint"
        click.echo(f"{proof}: {said}")
    if problems:
        sys.exit(1)


@main.command()
@click.option("--cycle", help="Only this cycle's chain and rows (default: every cycle).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
@domain_errors
def audit(obj: dict[str, Any], cycle: str | None, as_json: bool) -> None:
    """Check every table against the log it is a projection of (each cycle's own chain),
    and the append-only triggers; list every difference (drift) and every trigger missing."""
    from awards.commands.audit import audit as run

    result = run(url=obj["url"], cycle=cycle)
    if as_json:
        _json(
            {
                "events": result.events,
                "head": result.verified.head if len(result.chains) == 1 else None,
                "chains": {
                    c: {"events": v.events, "head": v.head} for c, v in result.chains.items()
                },
                "checked": result.checked,
                "problems": result.problems,
                "drift": [str(d) for d in result.drift],
            }
        )
    else:
        for line in [*result.problems, *map(str, result.drift)]:
            click.echo(line)
        counts = ", ".join(f"{table} {n}" for table, n in result.checked.items())
        n = len(result.problems)
        troubles = f"; {n} problem{'s' if n > 1 else ''} with the database" if n else ""
        if len(result.chains) > 1 or cycle:
            for name, v in result.chains.items():
                click.echo(f"cycle {name}: {v.events} events, chain intact; head {v.head[:16]}")
            intact = f"{result.events} events in {len(result.chains)} chains, each intact"
        else:
            intact = f"{result.events} events, chain intact"
        click.echo(
            f"{intact}; rows checked against the log: {counts}: "
            f"{len(result.drift) or 'no'} drift{troubles}"
        )
    if not result.clean:
        sys.exit(1)


@main.group("db")
def db_group() -> None:
    """The database's schema revision: show it, or upgrade it after installing a new awards."""


@db_group.command("current")
@click.pass_obj
@domain_errors
def db_current(obj: dict[str, Any]) -> None:
    """Print the database's schema revision, or what it needs before awards can use it."""
    from awards.store.schema import status

    click.echo(status(url=obj["url"]).describe())


@db_group.command("upgrade")
@click.pass_obj
@domain_errors
def db_upgrade(obj: dict[str, Any]) -> None:
    """Upgrade the database's schema to this awards' newest revision, in one transaction
    (a database made by awards 0.1, which has none, is recognised and stamped first)."""
    from awards.store.schema import upgrade

    click.echo(upgrade(url=obj["url"]).describe())


@main.group()
def keys() -> None:
    """Committee signing keys (Ed25519) for checkpoints."""


@keys.command("generate")
@click.argument("file", type=click.Path(dir_okay=False), default="committee.key")
@domain_errors
def keys_generate(file: str) -> None:
    """Write a new private key to FILE (owner-only) and its public key to FILE.pub."""
    from awards.log.signing import generate_keys

    private, public = generate_keys(file)
    click.echo(
        f"private key: {private} (keep it off the database and out of the log)\npublic key: {public}"
    )


@main.group()
def checkpoint() -> None:
    """Signed checkpoints of the decision log."""


@checkpoint.command("verify")
@_public_key
@click.option("--cycle", help="The cycle (default: the only open cycle).")
@click.pass_obj
@domain_errors
def checkpoint_verify(obj: dict[str, Any], public_key: str | None, cycle: str | None) -> None:
    """Check every checkpoint of the cycle's chain against the events before it and its
    signature; with the committee's public key, also what those signed with it cover."""
    from awards.store.checkpoints import verify_checkpoints

    checked = verify_checkpoints(url=obj["url"], public_key=public_key, cycle=cycle)
    key = checked.trust.key
    for c in checked.checkpoints:
        click.echo(
            f"checkpoint at event {c.seq}: {c.size} events, root {c.root[:16]}: {c.describe(key)}"
        )
    click.echo(f"database: {checked.trust.describe()}")
    if not checked.ok:
        sys.exit(1)


@checkpoint.command("write")
@click.option("--key", type=click.Path(dir_okay=False), envvar="AWARDS_COMMITTEE_KEY",
              help="Committee private key: sign the checkpoint (also AWARDS_COMMITTEE_KEY).")  # fmt: skip
@click.option("--cycle", help="The cycle (default: the only open cycle).")
@click.pass_obj
@domain_errors
def checkpoint_write(obj: dict[str, Any], key: str | None, cycle: str | None) -> None:
    """Append a checkpoint of the log as it stands: pins the verdicts, recusals, withdrawals
    and revocations written since the last one (and renderings from before schema 0003)."""
    from awards.store.checkpoints import checkpoint_now

    signing = None
    if key:
        from awards.log.signing import load_key

        signing = load_key(key)
    event = checkpoint_now(url=obj["url"], cycle=cycle, key=signing, actor=obj["actor"])
    signed = "signed" if signing is not None else "unsigned (no --key)"
    click.echo(f"checkpoint of {event['size']} events, root {event['root'][:16]}: {signed}")


@main.command()
@click.argument("nomination", required=False)
@click.option(
    "--check",
    "proof_file",
    type=click.Path(dir_okay=False),
    help="Check a proof FILE written by `awards prove` instead.",
)
@_public_key
@click.option("--cycle", help="The cycle (default: the only open cycle).")
@click.pass_obj
@domain_errors
def prove(
    obj: dict[str, Any],
    nomination: str | None,
    proof_file: str | None,
    public_key: str | None,
    cycle: str | None,
) -> None:
    """Print an RFC 9162 inclusion proof of NOMINATION's award decision (JSON), or --check one
    (with the committee's public key, only a proof under a checkpoint signed with it holds)."""
    from awards.log.signing import check_proof, read_proof
    from awards.store.checkpoints import prove as make

    if proof_file:
        proof = read_proof(proof_file)
        trusted = _trusted(public_key)
        problems = check_proof(proof, trusted)
        for p in problems:
            click.echo(f"{proof_file}: {p}")
        if problems:
            sys.exit(1)
        cp = proof["checkpoint"]
        if trusted is not None:
            under = "a checkpoint signed with the trusted key"
        elif cp.get("signature") is None:
            under = "an unsigned checkpoint (not checked against a trusted key: --public-key)"
        else:
            under = f"a checkpoint signed with key {cp['public_key'][:16]} (not checked against a trusted key: --public-key)"
        click.echo(
            f"{proof_file}: ok: event {proof['leaf_index'] + 1} of {proof['nomination']} is in the log of {proof['tree_size']} events under {under}"
        )
        return
    if not nomination:
        raise click.UsageError("give a NOMINATION, or --check FILE")
    _json(make(nomination, url=obj["url"], cycle=cycle))
