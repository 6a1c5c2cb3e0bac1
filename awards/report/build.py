"""`awards report`: a cycle's results and transparency report.

One self-contained HTML file (inline CSS, inline SVG charts, the Sarabun faces it uses
embedded), and on request the same through WeasyPrint as PDF. Every figure comes from the
library, read in one read transaction so that they all rest on one state of the log: the
cycle's status (response rates, national means) and each award's ranking from
awards.commands.results, the weight sensitivity from awards.rules.sensitivity. The footer names
the log head, the latest checkpoint, and the workflow's and survey's SHA-256 the numbers rest
on.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup
from sqlalchemy import Connection, Engine, select
from sqlmodel import col

from awards.certificates.html import render as render_template
from awards.certificates.sheet import RenderError, Templates
from awards.commands import results
from awards.log.events import Kind
from awards.report import charts, wording
from awards.rules.earlier import Earlier
from awards.rules.formatting import DASH, figure, margin, percent, points, share, state_label
from awards.rules.plain import Plain
from awards.rules.ranking import describe_cut
from awards.rules.sensitivity import Perturbation, Sensitivity, sensitivity
from awards.rules.states import OPEN, State
from awards.rules.survey import Agency
from awards.rules.workflow import Award, Workflow
from awards.store import database as db
from awards.store import earlier
from awards.store.loading import load_agencies, load_cycle
from awards.store.models import Event
from awards.store.outputs import check_outputs
from awards.store.schema import open_engine
from awards.version import __version__

TEMPLATE = "report/report.html"
COMMITTEE = ("aggregate", "sd", "low", "high")  # per-nomination committee figures, if any
COMMITTEE_TH = ("คะแนนกรรมการ", "ส่วนเบี่ยงเบนมาตรฐาน", "ต่ำสุด", "สูงสุด")
THAI = frozenset(map(chr, range(0x0E00, 0x0E80)))
# Out of the running by a person's decision; the rules' selection leaves them out.
REMOVED = frozenset({State.REJECTED, State.WITHDRAWN, State.REVOKED})
# Nominations that passed the shortlist stage, in whatever state they are now.
PAST_SHORTLIST = frozenset(State) - {State.SURVEYED, State.ELIMINATED}


@dataclass(frozen=True)
class Facts:
    """What a report is made of, read at one log head."""

    workflow: Workflow
    agencies: list[Agency]
    status: results.Status
    rankings: dict[str, results.Ranking]
    checkpoint: dict[str, Any] | None
    earlier: Earlier = field(default_factory=dict)  # the earlier cycles' facts, as logged


@dataclass(frozen=True)
class Written(Plain):
    cycle: str
    html: Path
    pdf: Path | None
    pages: int  # of the PDF; 0 without one
    events: int
    head: str


def report(
    *, url: str | None = None, engine: Engine | None = None, cycle: str | None = None,
    out: str | Path = "report.html", pdf: bool = False,
) -> Written:  # fmt: skip
    """Write the cycle's report to `out` (HTML) and, with `pdf`, beside it as .pdf; given
    `out` ending in .pdf with `pdf`, the PDF goes there and the HTML beside it as .html, so
    one never overwrites the other. Neither may replace a file the cycle reads."""
    engine = engine or open_engine(url)
    target = Path(out)
    pdf_path = target.with_suffix(".pdf") if pdf else None
    if pdf_path == target:
        target = target.with_suffix(".html")
    check_outputs(engine, [target, *([pdf_path] if pdf_path else [])], "report")
    facts = gather(engine=engine, cycle=cycle)
    templates = Templates.for_cycle(facts.workflow.templates_folder())
    ctx = context(facts)
    page = html(templates, ctx, embed_fonts=True)
    target.write_text(page, encoding="utf-8")
    pages = 0
    if pdf_path is not None:
        data, pages = to_pdf(templates, html(templates, ctx, embed_fonts=False))
        pdf_path.write_bytes(data)
    log = facts.status.log
    return Written(facts.workflow.cycle_id, target, pdf_path, pages, log.events, log.head)


def gather(
    *, url: str | None = None, engine: Engine | None = None, cycle: str | None = None
) -> Facts:
    """Read everything the report shows in one read transaction: one snapshot of the
    database (awards.store.database.read), so a report never mixes two states of the log."""
    engine = engine or open_engine(url)
    with db.read(engine) as conn:
        workflow = load_cycle(conn, cycle)
        agencies = load_agencies(conn, workflow.cycle_id)
        status = results.read_status(conn, workflow, agencies=agencies)
        rankings = {a.id: results.read_ranking(conn, workflow, a.id) for a in workflow.awards}
        checkpoint = latest_checkpoint(conn, workflow.cycle_id)
        facts = earlier.recorded(conn, workflow.cycle_id)
    return Facts(workflow, agencies, status, rankings, checkpoint, facts)


def latest_checkpoint(conn: Connection, cycle: str) -> dict[str, Any] | None:
    """The last `checkpoint` event of the cycle's chain with its seq, or None if there is
    none."""
    row = conn.execute(
        select(col(Event.seq), col(Event.body))
        .where(col(Event.cycle) == cycle, col(Event.kind) == Kind.CHECKPOINT)
        .order_by(col(Event.seq).desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return {"seq": row[0], **db.parsed(row[0], row[1])}  # a forged row: a located error


# --- What the template shows (pure: facts in, plain values out) -------------------------


def context(facts: Facts) -> dict[str, Any]:
    """The template's variables: every figure already a string."""
    wf, status = facts.workflow, facts.status
    means = status.national
    return {
        "cycle": {
            "id": wf.cycle_id, "title_th": wf.title_th, "title_en": wf.title_en,
            "year": wf.year, "year_be": wf.year_be,
        },
        "response": [
            {
                "level": _level(wf, level),
                "rate": f"{m['responded']:,}/{m['surveyed']:,}",
                "percent": percent(m["responded"], m["surveyed"]),  # type: ignore[arg-type]
            }
            for level, m in means.items()
        ],
        "means": _means(wf, means),
        "awards": [_award(wf, a, facts) for a in wf.awards],
        "footer": _footer(status, facts.checkpoint),
        "version": __version__,
    }  # fmt: skip


def _level(wf: Workflow, key: str) -> str:
    """A level as the report names it, Thai first: 'ระดับกรม (department-level)'."""
    level = next((lv for lv in wf.levels if lv.key == key), None)
    if level is None or level.title_th == level.title_en:
        return key
    return f"{level.title_th} ({level.title_en})"


def _means(wf: Workflow, means: dict[str, dict[str, Any]]) -> dict[str, Any]:
    levels = list(means)
    rows = [
        {
            "key": d.key, "title_th": d.title_th, "title_en": d.title_en,
            "weight": share(d.weight),
            "means": [figure(means[lv]["dimensions"].get(d.key)) for lv in levels],
        }
        for d in wf.dimensions
    ]  # fmt: skip
    overall = [figure(means[lv]["weighted"]) for lv in levels]
    labels = [d.title_th for d in wf.dimensions] + ["คะแนนรวมถ่วงน้ำหนัก (weighted)"]
    series = {
        _level(wf, lv): [means[lv]["dimensions"].get(d.key) for d in wf.dimensions]
        + [means[lv]["weighted"]]
        for lv in levels
    }
    chart = charts.dimension_means(labels, series, prefix="means") if levels else ""
    return {
        "levels": [_level(wf, lv) for lv in levels],
        "rows": rows,
        "overall": overall,
        "chart": Markup(chart),
    }


def _row(
    r: results.Row, dims: Sequence[str], committee: bool, tiers: dict[str, str]
) -> dict[str, Any]:
    verdicts = f"{r.approvals}/{r.rejections}" if r.approvals or r.rejections else ""
    return {
        "rank": r.rank, "nomination": r.nomination, "name_th": r.name_th, "name_en": r.name_en,
        "members": r.members, "score": str(r.score), "scores": [str(r.scores[d]) for d in dims],
        "committee": [figure(getattr(r, k, None)) for k in COMMITTEE] if committee else [],
        "verdicts": verdicts, "state": r.state, "state_label": state_label(r.state), "margin": margin(r.margin),
        "winner": r.state == State.AWARDED, "segment": r.segment or "", "tier": tiers.get(r.tier or "", ""),
    }  # fmt: skip


def _award(wf: Workflow, award: Award, facts: Facts) -> dict[str, Any]:
    ranking = facts.rankings[award.id]
    rows = ranking.rows
    dims = ranking.dimensions
    # The committee's figures, where the ranking rows carry them and the award has a review.
    reviewed = award.review.required
    committee = reviewed and any(hasattr(r, k) for r in rows[:1] for k in COMMITTEE)
    removed = {r.nominee_id for r in rows if r.state in REMOVED}
    sens = sensitivity(wf, award, facts.agencies, removed, earlier=facts.earlier)
    listed = [r for r in rows if r.state in PAST_SHORTLIST]
    provisional = not listed
    if provisional:  # not shortlisted yet: the ranking as it stands, as far as the cut goes
        listed = rows[: award.shortlist.top or award.winners.top or 20]
    names = {r.nominee_id: r.name_th for r in rows}
    # A winner's band as printed: its Thai title (English); only winners are in one.
    tiers = {
        t.key: f"{t.title_th} ({t.title_en})" if t.title_en else t.title_th for t in award.tiers
    }
    lines = [("เกณฑ์รางวัล (winners cut)", ranking.cut_score)]
    if sens.baseline is not None and award.shortlist != award.winners:
        lines.append(("เกณฑ์คัดเลือก (shortlist cut)", sens.baseline.shortlist_line))
    chart = charts.distribution(
        [r.score for r in rows],
        [r.state == State.AWARDED for r in rows],
        [(name, value) for name, value in lines if value is not None],
        labels=("อื่น ๆ (others)", "ได้รับรางวัล (awarded)"),
        prefix=f"dist-{award.id}",
    ) if rows else ""  # fmt: skip
    return {
        "id": award.id,
        "title_th": award.title_th,
        "title_en": award.title_en,
        "rules": wording.rules(wf, award),
        "counts": [
            (*state_label(state), n) for state, n in facts.status.awards.get(award.id, {}).items()
        ],
        "nominations": len(rows),
        "cut": describe_cut(award.winners),
        "cut_th": wording.cut_th(award.winners),
        "cut_score": figure(ranking.cut_score),
        "dimensions": dims,
        "committee": COMMITTEE if committee else (),
        "committee_titles": list(zip(COMMITTEE_TH, COMMITTEE, strict=True)) if committee else [],
        "reviewed": reviewed,
        "winners": sum(r.state == State.AWARDED for r in rows),
        "listed": [_row(r, dims, committee, tiers) for r in listed],
        "provisional": provisional,
        "chart": Markup(chart),
        "groups": [_row(r, dims, committee, tiers) for r in rows] if award.group_by else [],
        "group_field": award.group_by.field if award.group_by else "",
        "segment_field": award.segment_by or "",
        "tiers": [(t.title_th, t.title_en, wording.band(t)) for t in award.tiers],
        "sensitivity": _sensitivity(wf, award, sens, names, rows),
        "excluded": [(x.nominee_id, x.name_th, x.reason) for x in ranking.excluded],
        "dimension_titles": [
            (i, d.title_th, d.key.replace("_", " "))
            for i, d in enumerate(wf.dimensions, 1)
            if d.key in dims
        ],
    }


def _sensitivity(
    wf: Workflow, award: Award, sens: Sensitivity, names: dict[str, str], rows: list[results.Row]
) -> dict[str, Any]:
    titles = {d.key: d.title_th for d in wf.dimensions}
    weights = {d.key: d.weight for d in wf.dimensions}

    def who(ids: Sequence[str]) -> list[str]:
        return [f"{names.get(n, n)} ({n})" for n in ids]

    def row(p: Perturbation) -> dict[str, Any]:
        moved = DASH
        if p.weights is not None:
            after = p.weights[wf.dimension_keys.index(p.dimension)]
            moved = f"{share(weights[p.dimension], 1)} → {share(after, 1)}"
        return {
            "dimension": p.dimension, "title_th": titles[p.dimension],
            "delta": points(p.delta), "weight": moved,
            "possible": p.possible, "changed": p.changed,
            "entered": who(p.entered), "left": who(p.left), "unreviewed": who(p.unreviewed),
        }  # fmt: skip

    rederived = ("", "")
    if sens.baseline is not None:
        awarded = {r.nominee_id for r in rows if r.state == State.AWARDED}
        if any(r.state in OPEN for r in rows):
            rederived = (
                "รางวัลนี้ยังพิจารณาไม่เสร็จ: การคัดเลือกนับผู้ผ่านการคัดเลือกเบื้องต้นที่ยังไม่มีผลพิจารณาว่าได้รับอนุมัติ",
                "the award is not complete: the selection takes every shortlisted nominee without verdicts as approved",
            )
        elif awarded != set(sens.baseline.winners):
            rederived = (
                "ภายใต้น้ำหนักที่ประกาศ ผลการคัดเลือกตามกฎต่างจากผู้ได้รับรางวัลในปัจจุบัน ซึ่งเกิดจากการถอนชื่อหรือการเพิกถอนรางวัล (ตำแหน่งที่สละแล้วไม่มีการเติม) การปรับน้ำหนักแต่ละครั้งเทียบกับผลการคัดเลือกนั้น",
                "under the declared weights the rules' selection differs from the winners awarded now, as a withdrawal or revocation makes it (a place given up is not refilled); each perturbation is compared with that selection",
            )
    changed = sum(p.changed for p in sens.perturbations)
    return {
        "note": wording.sensitivity_note(award, sens.note),
        "rows": [row(p) for p in sens.perturbations],
        "changed": changed,
        "total": len(sens.perturbations),
        "rederived": rederived,
    }


def _footer(status: results.Status, checkpoint: dict[str, Any] | None) -> dict[str, Any]:
    log = status.log
    cp = None
    if checkpoint is not None:
        cp = {
            "seq": checkpoint["seq"], "size": checkpoint["size"], "root": checkpoint["root"],
            "head": checkpoint["head"], "at": checkpoint["at"],
            "public_key": checkpoint.get("public_key"), "since": log.events - checkpoint["seq"],
        }  # fmt: skip
    return {
        "events": log.events,
        "head": log.head,
        "checkpoint": cp,
        "workflow_sha256": status.workflow_sha256,
        "survey_sha256": status.survey_sha256 or DASH,
    }


# --- HTML and PDF ------------------------------------------------------------------------


def html(templates: Templates, ctx: dict[str, Any], *, embed_fonts: bool) -> str:
    """The report as HTML. With `embed_fonts`, the Sarabun faces it uses are inlined,
    subset to its characters, so a browser needs nothing else; without, WeasyPrint gets the
    faces from the font package (awards.typeset)."""
    page = _render(templates, ctx, "")
    if not embed_fonts:
        return page
    return _render(templates, ctx, embedded_fonts(set(page)))


def _render(templates: Templates, ctx: dict[str, Any], fonts: str) -> str:
    # The report's budget, in sheets: one per award and one per 25 rows it lists.
    rows = sum(len(a["listed"]) + len(a["groups"]) for a in ctx["awards"])
    count = 1 + len(ctx["awards"]) + rows // 25
    return render_template(templates, TEMPLATE, count, fonts=Markup(fonts), **ctx)


def embedded_fonts(chars: set[str], weights: Sequence[int] = (400, 700)) -> str:
    """@font-face rules with the Sarabun faces as WOFF2 data, subset to `chars` and the whole
    Thai block, with every layout feature, so a browser shapes Thai as WeasyPrint does.

    The whole block because shaping uses characters the text does not: SARA AM (ำ) is drawn
    as NIKHAHIT and SARA AA, and without them it would silently vanish."""
    from fontTools import subset  # only the HTML of a report needs it

    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    text = "".join(sorted(chars | THAI))
    rules = []
    for weight in weights:
        font = subset.load_font(io.BytesIO(charts.sarabun(weight).read_bytes()), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
        buf = io.BytesIO()
        subset.save_font(font, buf, options)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        rules.append(
            f'@font-face {{ font-family: "{charts.FAMILY}"; font-weight: {weight}; '
            f'src: url("data:font/woff2;base64,{data}") format("woff2"); }}'
        )
    return "\n".join(rules)


def to_pdf(templates: Templates, page: str) -> tuple[bytes, int]:
    """The HTML through WeasyPrint, with the certificates' fonts and their URL fetcher
    (nothing but the template folders and the font package can be read)."""
    from awards.certificates.fetcher import RefusedURL  # WeasyPrint: only for --pdf
    from awards.certificates.typeset import renderer

    kit = renderer(templates)
    from weasyprint import HTML  # already loaded by awards.typeset

    base = templates.folders[-1].as_uri() + "/"
    try:
        doc = HTML(string=page, base_url=base, url_fetcher=kit.fetcher).render(
            stylesheets=[kit.fonts], font_config=kit.font_config
        )
    except RefusedURL as exc:
        raise RenderError(f"template {TEMPLATE}: {exc}") from None
    from awards.certificates import textlayer  # with WeasyPrint: only for --pdf

    return textlayer.fixed(doc.write_pdf()), len(doc.pages)
