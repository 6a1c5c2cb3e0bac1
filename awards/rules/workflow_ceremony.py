"""Checks of a workflow file's [ceremony] table: what the printed certificates say about their
giving (date, place, signatory, issuer), the emblem file, where to verify, serials.
"""

from __future__ import annotations

import datetime
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from awards.rules.tomlfile import Table, key_of
from awards.rules.workflow import DIGITS, Ceremony
from awards.rules.workflow_checker import WorkflowChecker

_CEREMONY_KEYS = (
    "date", "place_th", "signatory_th", "position_th", "signatory_en", "position_en",
    "digits", "serial_prefix", "templates", "issuer_th", "issuer_en", "emblem", "verify_url",
)  # fmt: skip
_PREFIX_RULE = (r"[A-Z0-9]{2,8}", "serial_prefix must be 2 to 8 capital letters or digits")


def read_ceremony(c: WorkflowChecker, doc: Table, year: int) -> Ceremony | None:
    """The optional [ceremony] table: date, place and signatory printed on certificates."""
    t = c.table(doc, "ceremony", _CEREMONY_KEYS)
    if t is None:
        return None
    date = _date(c, t, "ceremony.date", year)
    signatory_th = c.text(t, "ceremony.signatory_th")
    position_th = c.text(t, "ceremony.position_th")
    optional = {
        key: c.get(t, f"ceremony.{key}", str) or ""
        for key in ("place_th", "signatory_en", "position_en")
    }
    for key in ("issuer_th", "issuer_en"):  # printed: refused if mojibake, like the signatory
        optional[key] = c.text(t, f"ceremony.{key}") if key in t else ""
    digits = c.choice(t, "ceremony.digits", DIGITS) or "thai"
    prefix = c.text(t, "ceremony.serial_prefix", *_PREFIX_RULE) if "serial_prefix" in t else "AWD"
    templates = c.get(t, "ceremony.templates", str)
    if templates is not None and not templates.strip():
        c.add("ceremony.templates", "templates must not be empty: name a folder", templates)
        templates = None
    return Ceremony(
        date or datetime.date(max(year, 1), 1, 1),
        signatory_th,
        position_th,
        digits=digits,
        serial_prefix=prefix or "AWD",
        templates=templates,
        emblem=_emblem(c, t),
        verify_url=_verify_url(c, t),
        **optional,
    )


def _emblem(c: WorkflowChecker, t: Table) -> str | None:
    """[ceremony] emblem: a .png or .svg file in the workflow's folder or below it, named
    relative to the workflow file (the file itself: emblem_problem)."""
    emblem = c.get(t, "ceremony.emblem", str)
    if emblem is None:
        return None
    parts = PurePosixPath(emblem.replace("\\", "/"))
    if not emblem.strip() or parts.is_absolute() or ".." in parts.parts or ":" in emblem:
        message = (
            "emblem must name a file in the workflow's folder or below it, without '..'; "
            'e.g. emblem = "emblem.png"'
        )
        c.add("ceremony.emblem", message, emblem)
        return None
    if parts.suffix.lower() not in EMBLEM_SUFFIXES:
        c.add("ceremony.emblem", "emblem must be a .png or .svg file", emblem)
        return None
    return emblem


EMBLEM_SUFFIXES = (".png", ".svg")
_PNG = b"\x89PNG\r\n\x1a\n"


def emblem_problem(base: Path, emblem: str) -> str | None:
    """Why the emblem file `emblem` (relative to the folder `base`) cannot be printed, or
    None: it must exist, lie inside `base` with every link followed, and be a PNG or an SVG
    by its first bytes. Checked by `awards check` and again before each rendering."""
    path = base / emblem
    if path.is_symlink() and not path.resolve().is_relative_to(base.resolve()):
        return (
            f"{emblem} is a link to {path.resolve()}, outside the workflow's folder; copy the "
            "file in instead"
        )
    if not path.is_file():
        return f"no file {path}; put the emblem next to the workflow file"
    if not path.resolve().is_relative_to(base.resolve()):
        return (
            f"{emblem} is {path.resolve()}, outside the workflow's folder; copy the file in instead"
        )
    with path.open("rb") as f:
        head = f.read(4096)
    is_png = head.startswith(_PNG)
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    is_svg = text.startswith(b"<") and b"<svg" in text
    if not (is_png if path.suffix.lower() == ".png" else is_svg):
        kind = "PNG" if path.suffix.lower() == ".png" else "SVG"
        return f"{emblem} is not a {kind} image (by its first bytes); give a {kind} file"
    return None


def _verify_url(c: WorkflowChecker, t: Table) -> str:
    """[ceremony] verify_url: where a sheet's QR code leads, <verify_url>/<code>. https
    only: a plain http address could be altered on the way, and the code is its proof."""
    url = c.get(t, "ceremony.verify_url", str)
    if url is None:
        return ""
    parts = urlsplit(url)
    if (
        parts.scheme != "https"
        or not parts.hostname
        or parts.username
        or parts.query
        or parts.fragment
        or any(ch.isspace() for ch in url)
    ):
        message = (
            "verify_url must be an https:// address with no ?query, #fragment or spaces, "
            "e.g. https://awards.example.go.th/verify"
        )
        c.add("ceremony.verify_url", message, url)
        return ""
    return url.rstrip("/")


def _date(c: WorkflowChecker, table: Table, path: str, year: int) -> datetime.date | None:
    """A TOML local date (2019-11-28, no quotes, no time) in the cycle's year or the next."""
    if key_of(path) not in table:
        c.add(path, f"missing required key '{key_of(path)}'; add it")
        return None
    value = table[key_of(path)]
    shown = value.isoformat() if isinstance(value, datetime.date) else value
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        message = "date expected, written without quotes or time, e.g. 2019-11-28"
        c.add(path, message, shown)
        return None
    if year and not year <= value.year <= year + 1:
        message = f"date {value} is not in the cycle's year {year} or the year after; correct it"
        c.add(path, message, shown)
        return None
    return value
