"""What WeasyPrint may read while it typesets: files under the template folders, the Sarabun
faces (derived for the text layer) and the cycle's checked emblem, nothing else: every other
URL, and any link that leads out, is refused.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import fontpkg_sarabun

from awards.certificates import budget
from awards.certificates.sheet import Templates
from awards.certificates.thaifont import derived_faces

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "HarfBuzz-Subset", DeprecationWarning)  # as in typeset
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse


def font_folder() -> Path:
    """The Sarabun TTF files of the fontpkg-sarabun package."""
    return (fontpkg_sarabun.ROOT / "files").resolve()


def fonts_css() -> str:
    """@font-face rules for every Sarabun face the package ships, as derived for a text
    layer that keeps ำ (awards.certificates.thaifont)."""
    return "\n".join(
        f'@font-face {{ font-family: "{f.family}"; src: url("{f.path.as_uri()}"); '
        f"font-weight: {f.weight}; font-style: {f.style}; }}"
        for f in derived_faces()
    )


_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


class RefusedURL(FatalURLFetchingError):
    """WeasyPrint was asked for something outside the template folders and the fonts."""


class Fetcher(URLFetcher):
    """WeasyPrint's only way to the outside: files under the allowed folders, and the single
    files allowed one by one (the issuer's emblem), nothing else.

    A URL under the shipped templates folder is looked up in the cycle's own folder first,
    so a stylesheet linked as `certificate.css` can be replaced like a template. Anything
    else (another file, http, data:) stops the rendering with RefusedURL.
    """

    def __init__(self, templates: Templates, roots: Sequence[Path] = ()) -> None:
        super().__init__(allowed_protocols=["file"], fail_on_errors=True)
        self.templates = templates
        self.roots = tuple(p.resolve() for p in (*templates.folders, *roots))
        self.files: set[Path] = set()  # single files allowed besides the roots' contents
        self.fetched: list[Path] = []

    def allow(self, file: Path) -> None:
        """Allow this one file (the issuer's emblem, already checked) and nothing beside it."""
        self.files.add(file.resolve())

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
        allowed = path in self.files or any(path.is_relative_to(root) for root in self.roots)
        if not allowed or not path.is_file():
            raise RefusedURL(
                f"refused {url[:80]}: not a file under the template folders or the font package"
            )
        return path

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        budget.check()
        path = self.resolve(url)
        self.fetched.append(path)
        content_type = _TYPES.get(path.suffix.lower(), "application/octet-stream")
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})
