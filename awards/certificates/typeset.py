"""Typesetting: the HTML of sheets (awards.templating) through WeasyPrint to PDF files.

WeasyPrint fetches nothing but files under the template folders and the Sarabun font
package (Fetcher), and every sheet must fill one page with no `fit` box overflowing.

A batch is laid out in two layers (see templates/_base.html): the static layer, the same on
every sheet of an award, is laid out once and drawn once per PDF as a form XObject; each
sheet's own layer (recipient, serial, code, QR) is laid out per page and drawn over it.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import fontpkg_sarabun

from awards.certificates import budget
from awards.certificates.html import award_context, html
from awards.certificates.pdfsplit import split
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
from awards.paths import sarabun_faces

with warnings.catch_warnings():
    # Without the HarfBuzz-Subset library WeasyPrint warns on import and subsets fonts with
    # fontTools instead: the same PDFs, only slower, which batching makes up for.
    warnings.filterwarnings("ignore", "HarfBuzz-Subset", DeprecationWarning)
    from weasyprint import CSS, HTML
    from weasyprint.formatting_structure import boxes
    from weasyprint.pdf.metadata import DocumentMetadata
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

PDFA = "pdf/a-3b"


def font_folder() -> Path:
    """The Sarabun TTF files of the fontpkg-sarabun package."""
    return (fontpkg_sarabun.ROOT / "files").resolve()


def fonts_css() -> str:
    """@font-face rules for every Sarabun face the package ships."""
    return "\n".join(
        f'@font-face {{ font-family: "{f.family}"; src: url("{f.path.as_uri()}"); '
        f"font-weight: {f.weight}; font-style: {f.style}; }}"
        for f in sarabun_faces()
    )


class RefusedURL(FatalURLFetchingError):
    """WeasyPrint was asked for something outside the template folders and the fonts."""


class Fetcher(URLFetcher):
    """WeasyPrint's only way to the outside: files under the allowed folders, nothing else.

    A URL under the shipped templates folder is looked up in the cycle's own folder first,
    so a stylesheet linked as `certificate.css` can be replaced like a template. Anything
    else (another file, http, data:) stops the rendering with RefusedURL.
    """

    def __init__(self, templates: Templates, roots: Sequence[Path] = ()) -> None:
        super().__init__(allowed_protocols=["file"], fail_on_errors=True)
        self.templates = templates
        self.roots = tuple(p.resolve() for p in (*templates.folders, *roots))
        self.fetched: list[Path] = []

    def resolve(self, url: str) -> Path:
        """The file a URL stands for, if it may be read; RefusedURL otherwise."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise RefusedURL(f"refused {url[:80]}: only the template and font files can be used")
        path = Path(url2pathname(parts.path)).resolve()
        shipped = self.templates.folders[-1]
        if len(self.templates.folders) > 1 and path.is_relative_to(shipped):
            own = (self.templates.folders[0] / path.relative_to(shipped)).resolve()
            if own.is_relative_to(self.templates.folders[0]) and own.is_file():
                path = own
        if not any(path.is_relative_to(root) for root in self.roots) or not path.is_file():
            raise RefusedURL(
                f"refused {url[:80]}: not a file under the template folders or the font package"
            )
        return path

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        budget.check()
        path = self.resolve(url)
        self.fetched.append(path)
        content_type = "text/css" if path.suffix == ".css" else "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})


class Renderer:
    """One process's rendering kit: a Jinja environment and the fonts, loaded once, and the
    static layers it has laid out."""

    def __init__(self, templates: Templates) -> None:
        self.templates = templates
        self.fetcher = Fetcher(templates, [font_folder()])
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
            return doc
        static = self.static_layer(template, occasion, sheets[0])
        doc = self._render(template, self.html(template, occasion, sheets, "sheet"))
        _check(doc, template, [s.serial for s in sheets])
        shared: dict[str, Any] = {}
        return doc.copy([_LayeredPage(page, static, shared) for page in doc.pages])

    def static_layer(self, template: str, occasion: Occasion, sheet: Sheet) -> Any:
        """The static layer of a template for an award: one laid-out page, kept."""
        key = (template, occasion, *award_context(sheet).values())
        if key not in self._static:
            doc = self._render(template, self.html(template, occasion, [sheet], "static"))
            _check(doc, template, ["static"], f"the static layer for award {sheet.award_id}")
            self._static[key] = doc.pages[0]
        return self._static[key]


def _check(doc: Any, template: str, serials: Sequence[str], what: str = "") -> None:
    """One page per sheet, in order, and no `fit` box overflowing."""
    wanted = set(serials)
    starts = [next((a for a in page.anchors if a in wanted), None) for page in doc.pages]
    for i, started in enumerate(starts):
        if i >= len(serials) or started != serials[i]:
            over = what or serials[max(i - 1, 0)]
            raise RenderError(
                f"{over}: the text does not fit on one page of template '{template}'; "
                "shorten it or adjust the template"
            )
    if len(starts) != len(serials):
        raise RenderError(
            f"template '{template}' gave {len(starts)} pages for {len(serials)} sheets"
        )
    for page, serial in zip(doc.pages, serials, strict=True):
        for box, text in _overflowing(page._page_box):
            name = ".".join(["", *(box.element.get("class") or "").split()])
            raise RenderError(
                f"{what or serial}: '{text[:60]}' does not fit its box ({name}) in template "
                f"'{template}'; shorten the text or enlarge the box"
            )


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
    """A sheet's page drawn over the static layer. The static layer is drawn once per PDF,
    into a form XObject that every page of that PDF then shows: WeasyPrint's Page API plus
    its PDF stream's groups (the same as it uses for opacity)."""

    def __init__(self, page: Any, static: Any, shared: dict[str, Any]) -> None:
        self._page, self._static, self._shared = page, static, shared
        for name in ("width", "height", "bleed", "bookmarks", "links", "anchors", "forms"):
            setattr(self, name, getattr(page, name))
        self._page_box = page._page_box

    def paint(self, stream: Any, scale: float = 1) -> None:
        if self._shared.get("resources") is not stream._resources:  # a new PDF is written
            group = stream.add_group(*stream.page_rectangle)
            self._static.paint(group, scale)
            self._shared.update(resources=stream._resources, group=group.id)
        stream.draw_x_object(self._shared["group"])
        self._page.paint(stream, scale)


_RENDERERS: dict[Templates, Renderer] = {}  # per process, so each worker loads fonts once


def renderer(templates: Templates) -> Renderer:
    """This process's renderer for these template folders."""
    if templates not in _RENDERERS:
        _RENDERERS[templates] = Renderer(templates)
    return _RENDERERS[templates]


def render_batch(batch: Batch) -> list[Rendered]:
    """Typeset a batch and write one temporary file per sheet (removed if anything fails)."""
    r = renderer(batch.templates)
    docs = [
        r.layout(template, batch.occasion, sheets, layered=batch.layered)
        for template, sheets in batch.parts
    ]
    # One document of every part's pages: one write_pdf, one subsetting of each font.
    doc = docs[0].copy([page for d in docs for page in d.pages])
    if batch.pdfa:
        # PDF/A carries its metadata in XMP too, which a split would lose: one document per
        # page instead, sharing the layout. Slower (each subsets its fonts); for archives.
        blobs = []
        for sheet, page in zip(batch.sheets, doc.pages, strict=True):
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
                blobs.append(one.write_pdf(pdf_variant=PDFA, custom_metadata=True))
    else:
        blobs = split(doc.write_pdf(), [metadata(s, batch.occasion) for s in batch.sheets])
    done: list[Rendered] = []
    try:
        for sheet, data in zip(batch.sheets, blobs, strict=True):
            temp = temp_path(batch.out, batch.run, sheet.serial)
            temp.write_bytes(data)
            done.append(Rendered(sheet, temp, hashlib.sha256(data).hexdigest(), len(data)))
    except BaseException:
        for d in done:
            d.temp.unlink(missing_ok=True)
        raise
    return done
