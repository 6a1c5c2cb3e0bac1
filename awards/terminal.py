"""Terminal output with rich: the tables `status`, `ranking`, `log` and `demo` print.

Every value that comes from data (names, titles, reasons, notes, ids) reaches rich as a Text
or escaped, never as markup: a name like `[bold red]...` or `[/x]` is printed as written.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from awards.log.events import Kind
from awards.rules.formatting import figure, margin, percent
from awards.rules.thai import line_breaks

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, JustifyMethod, RenderResult

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
    title = "Nominations per award and state"
    counts = [[counts.get(s, "") for s in states] for counts in data.awards.values()]
    table = _grid(title, "award", list(data.awards), states, counts)
    if not _fits(console, table):
        # Many states: one row per state, one column per award reads at 80 columns.
        across = [list(column) for column in zip(*counts, strict=True)] if counts else []
        table = _grid(title, "state", states, list(data.awards), across)
    console.print(table)
    for award, (now, of) in data.rounds.items():
        console.print(f"{escape(award)}: review round {now} of {of}")
    print_national(console, data.national)


def _grid(title: str, corner: str, rows: list[str], columns: list[str],
          cells: Sequence[Sequence[object]]) -> Table:  # fmt: skip
    """A table of counts: row labels wrap, counts are never cut."""
    table = Table(title=title)
    table.add_column(corner, overflow="fold")
    for name in columns:
        table.add_column(name, justify="right", no_wrap=True)
    for label, values in zip(rows, cells, strict=True):
        table.add_row(*_cells(label, *values))
    return table


def print_national(console: Console, national: dict[str, Any]) -> None:
    """One row per figure and one column per level (by its key, named in full below): a
    column per dimension would not fit 80 columns."""
    table = Table(title="National mean scores per level (respondents)", caption_justify="left")
    table.add_column("", overflow="fold")
    for key in national:
        table.add_column(key, justify="right", overflow="fold")
    dims = next((list(v["dimensions"]) for v in national.values() if v["dimensions"]), [])
    levels = list(national.values())
    table.add_row(*_cells("responded", *[f"{v['responded']}/{v['surveyed']}" for v in levels]))
    table.add_row(*_cells("response rate",
                          *[percent(v["responded"], v["surveyed"]) if v["surveyed"] else "-"
                            for v in levels]))  # fmt: skip
    for d in dims:
        table.add_row(*_cells(d, *[figure(v["dimensions"].get(d), missing="") for v in levels]))
    table.add_row(
        *_cells("weighted", *[figure(v["weighted"], missing="-") for v in levels]), style="bold"
    )
    table.caption = "; ".join(f"{key}: {v['label']}" for key, v in national.items())
    console.print(table)


# Optional columns give way before the name column gets narrower than this (in cells); a
# single word wider than the column folds.
NAME_MIN = 20


class _Name:
    """A name that wraps where Thai text may break: Thai writes no spaces between words, and
    rich breaks lines only at spaces, so it would cut a name wherever its column ends. ICU's
    line breaks decide; a single word wider than the column folds. Never cut."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.words = line_breaks(text) or [text]  # each word with the spaces after it

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        longest = max(cell_len(w.rstrip()) for w in self.words)
        full = cell_len(self.text)
        return Measurement(min(longest, NAME_MIN), full).with_maximum(options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines, line = [], ""
        for word in self.words:
            if line and cell_len((line + word).rstrip()) > options.max_width:
                lines.append(line.rstrip())
                line = ""
            line += word
        lines.append(line.rstrip())
        yield Text("\n".join(lines), overflow="fold")


@dataclass
class _Column:
    header: str
    group: str | None  # None: always shown; else dropped with its group when space is short
    cells: Sequence[Text | _Name]
    justify: JustifyMethod = "left"


# Which optional columns stay first when the terminal is narrow: what explains a state
# (segment, tier, the committee's aggregate) before the detail behind it.
PRIORITY = ("segment", "tier", "round", "committee", "verdicts", "nomination", "decided by",
            "dimension scores", "sd", "min-max")  # fmt: skip


def print_ranking(console: Console, r: Ranking, *, wide: bool = False) -> None:
    """Rank, name, score, state and margin always; the other columns as far as the console is
    wide, by PRIORITY, with a line naming those left out (all of them when `wide`)."""
    segmented = any(row.segment is not None for row in r.rows)
    line = "per segment" if segmented else figure(r.cut_score, missing="-")
    during = f"; review round {r.round} of {r.rounds}" if r.round is not None else ""
    title = Text(f"{r.award}: {r.title_en}\nwinners cut: {r.cut} (cut line {line}){during}")
    committee = any(row.aggregate is not None for row in r.rows)
    rows = r.rows

    def column(header: str, group: str | None, values: list[object], right: bool = False) -> None:
        columns.append(_Column(header, group, _cells(*values), "right" if right else "left"))

    columns: list[_Column] = []
    if segmented:
        column("segment", "segment", [row.segment or "" for row in rows])
    column("rank", None, [row.rank for row in rows], right=True)
    column("nomination", "nomination", [row.nomination for row in rows])
    columns.append(_Column("name", None, [_Name(row.name_th) for row in rows]))
    column("score", None, [row.score for row in rows], right=True)
    for d in r.dimensions:
        column(d, "dimension scores", [row.scores[d] for row in rows], right=True)
    if any(row.tier is not None for row in rows):
        column("tier", "tier", [row.tier or "" for row in rows])
    if any(row.round is not None for row in rows):
        column("round", "round", [row.round for row in rows], right=True)
    column("state", None, [row.state for row in rows])
    column("margin", None, [margin(row.margin, missing="-") for row in rows], right=True)
    column("decided by", "decided by", [row.decided_by for row in rows])
    column("verdicts", "verdicts", [f"{row.approvals}✓ {row.rejections}✗"
                                    if row.approvals or row.rejections else "" for row in rows],
           right=True)  # fmt: skip
    if committee:
        header = "committee" + (" (ranks)" if r.score_by == "reviewed" else "")
        column(header, "committee", [figure(row.aggregate, missing="") for row in rows], True)
        column("sd", "sd", [figure(row.sd, missing="") for row in rows], right=True)
        column("min-max", "min-max", [f"{row.low}-{row.high}" if row.aggregate is not None
                                      else "" for row in rows], right=True)  # fmt: skip
    # A group with nothing in it (no verdicts yet, no tiers) takes no room and is not missed.
    filled = {
        c.group for c in columns if any(str(x.text if isinstance(x, _Name) else x) for x in c.cells)
    }
    present = [g for g in PRIORITY if g in filled]
    styles = ["bold green" if row.state == "awarded" else None for row in rows]

    def table(groups: set[str]) -> Table:
        t = Table(title=title)
        shown = [c for c in columns if c.group is None or c.group in groups]
        for c in shown:
            name = c.header == "name"
            # Only the name wraps: every figure and state is shown whole or not at all.
            width = None if name else max(cell_len(c.header), *(x.cell_len for x in c.cells))  # type: ignore[union-attr]
            t.add_column(c.header, justify=c.justify, no_wrap=not name, min_width=width)
        for i, style in enumerate(styles):
            t.add_row(*[c.cells[i] for c in shown], style=style)
        return t

    kept: set[str] = set()
    for group in present:  # each group that still fits, most important first
        if wide or _fits(console, table(kept | {group})):
            kept.add(group)
    result = table(kept)
    if wide:
        # As wide as the table wants: the terminal wraps or a pager scrolls it.
        console.width = max(console.width, _measure(console, result, 100_000).maximum)
    console.print(result)
    left_out = [g for g in present if g not in kept]
    if left_out:
        console.print(
            f"Not shown at {console.width} columns: {', '.join(left_out)} "
            "(--wide shows every column, --json everything)",
            style="dim",
            markup=False,
            highlight=False,
        )


def _measure(console: Console, table: Table, width: int) -> Measurement:
    return Measurement.get(console, console.options.update_width(width), table)


def _fits(console: Console, table: Table) -> bool:
    """Whether rich can print `table` at the console's width without cutting a cell."""
    # Measured unbounded: rich caps a measurement at the width it is given.
    return _measure(console, table, 100_000).minimum <= console.width


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
