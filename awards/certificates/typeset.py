"""Typesetting: the HTML of sheets (awards.templating) through WeasyPrint to PDF files.

WeasyPrint fetches nothing but what awards.certificates.fetcher allows (the template folders,
the Sarabun faces, the cycle's emblem), and every sheet must fill one page with no `fit` box
overflowing.

A batch is laid out in two layers (see templates/_base.html): the static layer, the same on
every sheet of an award, is laid out once and drawn once per PDF as a form XObject; each
sheet's own layer (recipient, serial, code, QR) is laid out per page and drawn over it.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import pypdf

from awards.certificates import budget, textlayer
from awards.certificates.fetcher import Fetcher, RefusedURL, font_folder, fonts_css
from awards.certificates.html import award_context, html
from awards.certificates.pdfsplit import split
from awards.certificates.qrdraw import draw_qr_codes_directly
from awards.certificates.sheet import (
    Batch,
    Occasion,
    Rendered,
    RenderError,
    Sheet,
    Templates,
    metadata,
    temp_path,
)
from awards.certificates.thaifont import cache_folder

with warnings.catch_warnings():
    # Without the HarfBuzz-Subset library WeasyPrint warns on import and subsets fonts with
    # fontTools instead: the same PDFs, only slower, which batching makes up for.
    warnings.filterwarnings("ignore", "HarfBuzz-Subset", DeprecationWarning)
    from weasyprint import CSS, HTML
    from weasyprint.draw import draw_page
    from weasyprint.formatting_structure import boxes
    from weasyprint.pdf.metadata import DocumentMetadata
    from weasyprint.text.fonts import FontConfiguration

PDFA = "pdf/a-3b"


class Renderer:
    """One process's rendering kit: a Jinja environment and the fonts, loaded once, and the
    static layers it has laid out."""

    def __init__(self, templates: Templates) -> None:
        self.templates = templates
        self.fetcher = Fetcher(templates, [font_folder(), cache_folder()])
        self.font_config = FontConfiguration()
        self.fonts = CSS(string=fonts_css(), font_config=self.font_config, url_fetcher=self.fetcher)
        self._static: dict[tuple[Any, ...], Any] = {}

    def html(
        self, template: str, occasion: Occasion, sheets: Sequence[Sheet], layer: str = "page"
    ) -> str:
        """The HTML of a document with one page per sheet (see awards.templating.html)."""
        return html(self.templates, template, occasion, sheets, layer)

    def _render(self, template: str, html: str) -> Any:
        base = self.templates.folders[-1].as_uri() + "/"
        try:
            return HTML(string=html, base_url=base, url_fetcher=self.fetcher).render(
                stylesheets=[self.fonts], font_config=self.font_config
            )
        except RefusedURL as exc:
            raise RenderError(f"template {template}.html: {exc}") from None

    def layout(
        self, template: str, occasion: Occasion, sheets: Sequence[Sheet], *, layered: bool = True
    ) -> Any:
        """The laid-out WeasyPrint document, one page per sheet; RenderError unless each
        sheet fills exactly one page and every `fit` box holds its text, within the budget of
        that many sheets (awards.certificates.budget).

        Layered (the fast path), the static layer is laid out once and drawn under each
        sheet's own layer; otherwise each page is laid out whole, as `html` gives it."""
        if occasion.emblem is not None:
            self.fetcher.allow(occasion.emblem)
        try:
            with budget.sheets(len(sheets), f"template {template}.html"):
                return self._layout(template, occasion, sheets, layered)
        except budget.OutOfTime as exc:
            raise RenderError(str(exc)) from None

    def _layout(
        self, template: str, occasion: Occasion, sheets: Sequence[Sheet], layered: bool
    ) -> Any:
        if not layered:
            doc = self._render(template, self.html(template, occasion, sheets))
            _check(doc, template, [s.serial for s in sheets])
            _fast_qr(doc)
            return doc
        static = self.static_layer(template, occasion, sheets[0])
        doc = self._render(template, self.html(template, occasion, sheets, "sheet"))
        _check(doc, template, [s.serial for s in sheets])
        _fast_qr(doc)
        shared: dict[Any, Any] = {}
        return doc.copy([_LayeredPage(page, static, shared) for page in doc.pages])

    def static_layer(self, template: str, occasion: Occasion, sheet: Sheet) -> Any:
        """The static layer of a template for an award: one laid-out page, kept."""
        key = (template, occasion, *award_context(sheet).values())
        if key not in self._static:
            doc = self._render(template, self.html(template, occasion, [sheet], "static"))
            _check(doc, template, ["static"], f"the static layer for award {sheet.award_id}")
            self._static[key] = doc.pages[0]
        return self._static[key]


def _fast_qr(doc: Any) -> None:
    for page in doc.pages:
        draw_qr_codes_directly(page._page_box.descendants(placeholders=True))


class Unfit(RenderError):
    """Sheets whose text does not fit (serial -> what does not fit where); the other sheets
    of the document are good."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more sheets)" if len(problems) > 1 else ""
        super().__init__(next(iter(problems.values())) + more)


def _check(doc: Any, template: str, serials: Sequence[str], what: str = "") -> None:
    """One page per sheet, in order, and no `fit` box overflowing; Unfit names the sheets
    that break either rule."""
    wanted = set(serials)
    starts = [next((a for a in page.anchors if a in wanted), None) for page in doc.pages]
    for i, started in enumerate(starts):
        if i >= len(serials) or started != serials[i]:
            over = serials[max(i - 1, 0)]
            raise Unfit({over: (
                f"{what or over}: the text does not fit on one page of template '{template}'; "
                "shorten it or adjust the template"
            )})  # fmt: skip
    if len(starts) != len(serials):
        raise RenderError(
            f"template '{template}' gave {len(starts)} pages for {len(serials)} sheets"
        )
    problems: dict[str, str] = {}
    for page, serial in zip(doc.pages, serials, strict=True):
        for box, text in _overflowing(page._page_box):
            name = ".".join(["", *(box.element.get("class") or "").split()])
            problems.setdefault(serial, (
                f"{what or serial}: '{text[:60]}' does not fit its box ({name}) in template "
                f"'{template}'; shorten the text or enlarge the box"
            ))  # fmt: skip
    if problems:
        raise Unfit(problems)


def _overflowing(page_box: Any) -> Iterator[tuple[Any, str]]:
    """Boxes of class `fit` whose lines reach below or above them, or whose text reaches
    beyond their sides, with their text. (A line box, not its text, is the vertical measure:
    Thai vowels and tone marks rise above the line height and belong there.)"""
    for box in page_box.descendants(placeholders=True):
        element = getattr(box, "element", None)
        if element is None or "fit" not in (element.get("class") or "").split():
            continue
        if not isinstance(box, boxes.BlockBox) or box.element_tag is None:
            continue
        left, top = box.content_box_x(), box.content_box_y()
        right, bottom = left + box.width, top + box.height
        inside = list(box.descendants(placeholders=True))
        texts = [d for d in inside if isinstance(d, boxes.TextBox)]
        lines = [d for d in inside if isinstance(d, boxes.LineBox)]
        if any(
            d.position_x < left - 0.5 or d.position_x + d.width > right + 0.5 for d in texts
        ) or any(d.position_y < top - 0.5 or d.position_y + d.height > bottom + 0.5 for d in lines):
            yield box, " ".join(t.text for t in texts)


class _LayeredPage:
    """A sheet's page drawn with the static layer. The static layer is drawn once per PDF,
    into form XObjects that every page of that PDF then shows: WeasyPrint's Page API plus
    its PDF stream's groups (the same as it uses for opacity).

    The two layers are drawn interleaved, block by block from the top of the sheet (each
    positioned block of the static layer, each of the sheet's own), so that the order of
    the text in the PDF is the order it is read in: the title, the recipient, the award,
    the signatory, the serial. (Drawn static layer first, the recipient came after the
    signatory for a screen reader or a copy of the whole page.) Consecutive static blocks
    share one XObject."""

    def __init__(self, page: Any, static: Any, shared: dict[Any, Any]) -> None:
        self._page, self._static, self._shared = page, static, shared
        for name in ("width", "height", "bleed", "bookmarks", "links", "anchors", "forms"):
            setattr(self, name, getattr(page, name))
        self._page_box = page._page_box

    def paint(self, stream: Any, scale: float = 1) -> None:
        if self._shared.get("resources") is not stream._resources:  # a new PDF is written
            self._shared.clear()
            self._shared["resources"] = stream._resources
        static = _blocks(self._static._page_box, "sheet")
        own = _blocks(self._page_box, "sheet-layer")
        if not static or not own:  # not the two layers of _base.html: draw them whole
            self._static_group(stream, scale, None)
            self._page.paint(stream, scale)
            return
        order = sorted([(b, True) for b in static] + [(b, False) for b in own], key=_reading)
        runs: list[tuple[bool, list[Any]]] = []
        for box, is_static in order:
            if runs and runs[-1][0] == is_static:
                runs[-1][1].append(box)
            else:
                runs.append((is_static, [box]))
        for is_static, blocks in runs:
            if is_static:
                self._static_group(stream, scale, blocks)
            else:
                with stream.stacked():
                    stream.transform(a=scale, d=scale)
                    draw_page(_only(self._page_box, {id(b) for b in blocks}), stream)

    def _static_group(self, stream: Any, scale: float, blocks: list[Any] | None) -> None:
        """Show the XObject of these static blocks (all of them for None), drawn once."""
        key = ("group", None if blocks is None else tuple(id(b) for b in blocks))
        if key not in self._shared:
            group = stream.add_group(*stream.page_rectangle)
            if blocks is None:
                self._static.paint(group, scale)
            else:
                with group.stacked():
                    group.transform(a=scale, d=scale)
                    draw_page(_only(self._static._page_box, {id(b) for b in blocks}), group)
            self._shared[key] = group.id
        stream.draw_x_object(self._shared[key])


def _blocks(page_box: Any, parent_class: str) -> list[Any]:
    """The boxes directly inside the first element of class `parent_class`."""
    for box in page_box.descendants(placeholders=True):
        element = getattr(box, "element", None)
        if element is not None and parent_class in (element.get("class") or "").split():
            return [c for c in box.children if getattr(c, "element", None) is not None]
    return []


def _reading(block: tuple[Any, bool]) -> tuple[float, float, bool]:
    """Top to bottom, then left to right; a static block before the sheet's at the same
    place (the frame under the name)."""
    box, is_static = block
    return (round(box.position_y, 1), round(box.position_x, 1), not is_static)


def _only(box: Any, keep: set[int]) -> Any:
    """A copy of the box tree holding only the boxes in `keep` (by id) and their ancestors."""
    if id(box) in keep:
        return box
    children = [c for c in (_only(c, keep) for c in getattr(box, "children", ())) if c is not None]
    return box.copy_with_children(children) if children else None


_RENDERERS: dict[Templates, Renderer] = {}  # per process, so each worker loads fonts once


def renderer(templates: Templates) -> Renderer:
    """This process's renderer for these template folders."""
    if templates not in _RENDERERS:
        _RENDERERS[templates] = Renderer(templates)
    return _RENDERERS[templates]


def render_batch(batch: Batch) -> list[Rendered]:
    """Typeset a batch and write one temporary file per sheet (removed if anything fails)."""
    r = renderer(batch.templates)
    parts, docs, unfit = _fitting(r, batch)
    sheets = [s for _, part in parts for s in part]
    failed = [Rendered(s, temp_path(batch.out, batch.run, s.serial), "", 0, unfit[s.serial])
              for s in batch.sheets if s.serial in unfit]  # fmt: skip
    if not parts:
        return failed
    # One document of every part's pages: one write_pdf, one subsetting of each font.
    doc = docs[0].copy([page for d in docs for page in d.pages])
    if batch.pdfa:
        # PDF/A carries its metadata in XMP too, which a split would lose: one document per
        # page instead, sharing the layout. Slower (each subsets its fonts); for archives.
        blobs = []
        for sheet, page in zip(sheets, doc.pages, strict=True):
            one = doc.copy([page])
            info = metadata(sheet, batch.occasion)
            one.metadata = DocumentMetadata(
                title=info["/Title"],
                description=info["/Subject"],
                keywords=[info["/Keywords"]],
                generator=info["/Creator"],
                lang="th",
                custom={"AwardsSerial": sheet.serial, "AwardsCode": sheet.code},
            )
            with warnings.catch_warnings():
                # WeasyPrint opens its sRGB profile for PDF/A and leaves the file to the
                # garbage collector; the warning says nothing about our output.
                warnings.simplefilter("ignore", ResourceWarning)
                blobs.append(textlayer.fixed(one.write_pdf(pdf_variant=PDFA, custom_metadata=True)))
    else:
        batch_pdf = pypdf.PdfReader(io.BytesIO(doc.write_pdf()))
        textlayer.fix(batch_pdf)  # once for the batch: its pages share their fonts
        blobs = split(batch_pdf, [metadata(s, batch.occasion) for s in sheets])
    done: list[Rendered] = []
    try:
        for sheet, data in zip(sheets, blobs, strict=True):
            temp = temp_path(batch.out, batch.run, sheet.serial)
            temp.write_bytes(data)
            done.append(Rendered(sheet, temp, hashlib.sha256(data).hexdigest(), len(data)))
    except BaseException:
        for d in done:
            d.temp.unlink(missing_ok=True)
        raise
    return done + failed


Parts = tuple[tuple[str, tuple[Sheet, ...]], ...]


def _fitting(r: Renderer, batch: Batch) -> tuple[Parts, list[Any], dict[str, str]]:
    """The batch's parts less the sheets whose text does not fit, their laid-out documents,
    and why each sheet left out does not fit. A sheet that does not fit is one sheet's
    problem: the others are laid out again without it (a static layer that does not fit is
    the template's, and stops the batch)."""
    parts: Parts = batch.parts
    unfit: dict[str, str] = {}
    while parts:
        try:
            docs = [
                r.layout(template, batch.occasion, sheets, layered=batch.layered)
                for template, sheets in parts
            ]
            return parts, docs, unfit
        except Unfit as exc:
            if not set(exc.problems) <= {s.serial for _, sheets in parts for s in sheets}:
                raise
            unfit.update(exc.problems)
        parts = tuple(
            (t, kept)
            for t, sheets in parts
            if (kept := tuple(s for s in sheets if s.serial not in unfit))
        )
    return parts, [], unfit
