"""Terminal output with rich: the tables `status`, `ranking`, `log` and `demo` print.

Every value that comes from data (names, titles, reasons, notes, ids) reaches rich as a Text
or escaped, never as markup: a name like `[bold red]...` or `[/x]` is printed as written.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from awards.log.events import Kind
from awards.rules.formatting import figure, margin, percent

if TYPE_CHECKING:
    from rich.console import Console

    from awards.commands.demo import DemoResult
    from awards.commands.results import Ranking, Status


def _cells(*values: object) -> list[Text]:
    """Table cells that print their text as it is (no markup, no emoji codes)."""
    return [Text(str(v)) for v in values]


def print_status(console: Console, data: Status) -> None:
    console.print(
        f"[bold]{escape(data.cycle)}[/]  {escape(data.title_en)} / {escape(data.title_th)}"
    )
    survey = (data.survey_sha256 or "none imported")[:12]
    console.print(
        f"workflow {data.workflow_sha256[:12]}  survey {survey}  log {data.log.events} events, head {data.log.head[:12]}"
    )
    states = sorted({s for counts in data.awards.values() for s in counts})
    table = Table(title="Nominations per award and state")
    table.add_column("award")
    for s in states:
        table.add_column(s, justify="right")
    for award, counts in data.awards.items():
        table.add_row(*_cells(award, *[counts.get(s, "") for s in states]))
    console.print(table)
    print_national(console, data.national)


def print_national(console: Console, national: dict[str, Any]) -> None:
    table = Table(title="National mean scores per level (respondents)")
    table.add_column("level")
    table.add_column("responded", justify="right")
    dims = next((list(v["dimensions"]) for v in national.values() if v["dimensions"]), [])
    for d in dims:
        table.add_column(d, justify="right")
    table.add_column("weighted", justify="right", style="bold")
    for v in national.values():
        rate = f"{v['responded']}/{v['surveyed']}"
        if v["surveyed"]:
            rate += f" ({percent(v['responded'], v['surveyed'])})"
        table.add_row(
            *_cells(
                v["label"],
                rate,
                *[figure(v["dimensions"].get(d), missing="") for d in dims],
                figure(v["weighted"], missing="-"),
            )
        )
    console.print(table)


def print_ranking(console: Console, r: Ranking) -> None:
    segmented = any(row.segment is not None for row in r.rows)
    line = "per segment" if segmented else figure(r.cut_score, missing="-")
    table = Table(title=Text(f"{r.award}: {r.title_en}\nwinners cut: {r.cut} (cut line {line})"))
    tiered = any(row.tier is not None for row in r.rows)
    if segmented:
        table.add_column("segment")
    for name in ("rank", "nomination", "name", "score"):
        table.add_column(name, justify="right" if name in ("rank", "score") else "left")
    for d in r.dimensions:
        table.add_column(d, justify="right")
    if tiered:
        table.add_column("tier")
    table.add_column("state")
    table.add_column("margin", justify="right")
    table.add_column("decided by")
    table.add_column("verdicts", justify="right")
    committee = any(row.aggregate is not None for row in r.rows)
    if committee:
        table.add_column(
            "committee" + (" (ranks)" if r.score_by == "reviewed" else ""), justify="right"
        )
        table.add_column("sd", justify="right")
        table.add_column("min-max", justify="right")
    for row in r.rows:
        verdicts = f"{row.approvals}✓ {row.rejections}✗" if row.approvals or row.rejections else ""
        spread = []
        if committee:
            agg = row.aggregate is not None
            spread = [figure(row.aggregate, missing=""), figure(row.sd, missing=""),
                      f"{row.low}-{row.high}" if agg else ""]  # fmt: skip
        table.add_row(
            *_cells(*([row.segment] if segmented else []), row.rank, row.nomination, row.name_th, row.score,
                    *[row.scores[d] for d in r.dimensions], *([row.tier or ""] if tiered else []),
                    row.state, margin(row.margin, missing="-"), row.decided_by, verdicts, *spread),
            style="bold green" if row.state == "awarded" else None,
        )  # fmt: skip
    console.print(table)


def print_history(console: Console, events: list[dict[str, Any]]) -> None:
    table = Table(title=f"Decision log ({len(events)} events)")
    for name in ("seq", "at", "kind", "nomination", "move", "actor", "reason"):
        table.add_column(name)
    for e in events:
        if e["kind"] == Kind.TRANSITION:
            move = f"{e['from'] or '∅'} → {e['to']} ({e['trigger']})"
            subject, reason = e["nomination"], e["reason"]
        elif e["kind"] == Kind.VERDICT:
            previous = (
                e["previous"]["verdict"] if isinstance(e["previous"], dict) else e["previous"]
            )
            adjusted = ", ".join(f"{k}={v}" for k, v in e.get("scores", {}).items())
            move = f"{e['reviewer']}: {e['verdict']}" + (f" (was {previous})" if previous else "")
            subject, reason = e["nomination"], "; ".join(x for x in (adjusted, e["note"]) if x)
        elif e["kind"] == Kind.ASSIGNED:
            move = f"assigned {e['reviewer']}"
            why = (
                f"replacing {e['replacing']}"
                if e.get("replacing")
                else f"{e.get('per_nomination')} per nomination"
            )
            subject, reason = e["nomination"], why
        elif e["kind"] == Kind.RECUSED:
            move = f"{e['reviewer']} recused" + (
                f", replaced by {e['replacement']}" if e.get("replacement") else ""
            )
            subject, reason = e["nomination"], e["reason"]
        elif e["kind"] == Kind.REVIEWER_ADDED:
            move, subject, reason = f"reviewer {e['reviewer']} added", e["cycle"], e["name"]
        elif e["kind"] == Kind.CERTIFICATE_RENDERED:
            move = f"rendered {e['serial']} ({e['template']})"
            subject, reason = e["nomination"], f"code {e['code']}, pdf {e['pdf_sha256'][:12]}"
        else:
            move, subject, reason = (
                "",
                e["cycle"],
                # Schema version 3 names the file; earlier events hold the path it was read from.
                e.get("survey_file")
                or e.get("survey_path")
                or e.get("workflow_file")
                or e.get("workflow_path", ""),
            )
        table.add_row(*_cells(e["seq"], e["at"], e["kind"], subject, move, e["actor"], reason))
    console.print(table)


def print_demo(console: Console, result: DemoResult, shown: int = 10) -> None:
    console.print(
        f"[bold]Demo cycle[/] in {escape(str(result.directory))}/ (synthetic survey: {escape(result.survey.name)})"
    )
    for award, ranking in result.winners.items():
        winners = [row for row in ranking.rows if row.state == "awarded"]
        console.print(
            f"\n[bold]{escape(award)}[/]: {len(winners)} awarded — {escape(ranking.title_en)}"
        )
        table = Table()
        table.add_column("#", justify="right")
        table.add_column("winner")
        table.add_column("score", justify="right")
        for i, row in enumerate(winners[:shown], start=1):
            name = Text(row.name_th)
            if row.name_en:
                name.append(f"  {row.name_en}", style="dim")
            table.add_row(Text(str(i)), name, Text(str(row.score)))
        console.print(table)
        if len(winners) > shown:
            more = shlex.join(["awards", "--db", result.shown_database(), "ranking", award])
            console.print(f"... and {len(winners) - shown} more: ", end="")
            console.print(more, markup=False, soft_wrap=True)
    print_national(console, result.status.national)
    v = result.verified
    console.print(f"decision log: {escape(str(result.log))} ({v.events} events, chain verified, head {v.head[:16]})")  # fmt: skip
    console.print(f"database: {escape(result.shown_database())}")
    if result.workflow is not None:
        console.print(f"workflow: {escape(str(result.workflow))} (a copy of the shipped {escape(result.workflow.stem)})")  # fmt: skip
    if result.certificates is not None:
        c = result.certificates
        console.print(f"certificates: {c.total} PDFs in {escape(str(c.out))}/")
    commands = result.commands()
    if commands:
        console.print("\nCheck it as an auditor would (run from this folder):")
        for command in commands.values():
            # One unbroken line, so that it can be copied and pasted as it is.
            console.print(f"  {command}", markup=False, soft_wrap=True)
        if "***" in result.shown_database():
            console.print("(the password is shown as ***: type it in its place)")


@contextmanager
def progress_bar(what: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (stdout keeps the result); yields `update(done, total)`.

    Nothing is drawn when stderr is not a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    console = Console(stderr=True)
    columns = (f"[bold]{what}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task(what, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def print_reviewers(console: Console, listed: list[Any]) -> None:
    table = Table(title=f"Committee ({len(listed)} reviewers)")
    for name in ("id", "name", "affiliations", "assigned", "verdicts", "waiting", "recused"):
        table.add_column(
            name,
            justify="right" if name in ("assigned", "verdicts", "waiting", "recused") else "left",
        )
    for x in listed:
        r = x.reviewer
        table.add_row(*_cells(r.id, r.name, ", ".join((*r.ministries, *r.provinces)), x.assigned,
                              x.verdicts, x.waiting, x.recused))  # fmt: skip
    console.print(table)
