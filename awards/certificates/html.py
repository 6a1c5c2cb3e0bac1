"""Templates to HTML: sandboxed Jinja2, autoescaped, with StrictUndefined.

A template sees `cycle`, `ceremony`, `award`, `template`, `layer` and the `sheets` of one
award (see templates/_base.html), and `fit_name` to size and break a name for its box. No WeasyPrint here, so the planning process can check
every template before any rendering starts.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import segno
from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from awards.certificates.namefit import name_fit
from awards.certificates.sheet import Occasion, RenderError, Sheet, Templates

LAYERS = ("page", "static", "sheet")


def qr_svg(code: str) -> Markup:
    """The verification code as a QR code, inline SVG sized by the template's CSS."""
    qr = segno.make(code, error="m", micro=False)
    return Markup(qr.svg_inline(scale=1, border=0, omitsize=True, dark="#000"))


def _sheet_context(s: Sheet) -> dict[str, Any]:
    return {
        "serial": s.serial,
        "code": s.code,
        "qr": qr_svg(s.code),
        "nomination": s.nomination,
        "recipient_th": s.recipient_th,
        "recipient_en": s.recipient_en,
        "award": award_context(s),
    }


def award_context(s: Sheet) -> dict[str, str]:
    return {
        "id": s.award_id,
        "title_th": s.award_th,
        "title_en": s.award_en,
        "reason_th": s.reason_th,
        "reason_en": s.reason_en,
    }


@cache
def environment(templates: Templates) -> SandboxedEnvironment:
    """The Jinja environment of these template folders (one per process)."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader([str(f) for f in templates.folders]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["fit_name"] = name_fit  # a name's size and lines (awards.certificates.namefit)
    return env


def _template_error(exc: Exception, name: str, templates: Templates) -> RenderError:
    """One clear line naming the template file, its line and what went wrong."""
    if isinstance(exc, TemplateNotFound):
        return RenderError(f"no template '{exc.name}' in {templates._where()}")
    where, line = f"{name}.html", getattr(exc, "lineno", None)
    if getattr(exc, "filename", None):
        where = Path(exc.filename).name  # type: ignore[attr-defined]
    else:
        # Jinja rewrites tracebacks so that template code appears at its template's line.
        folders = [str(f) for f in templates.folders]
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            filename = frame.f_code.co_filename
            if filename.endswith(".html") and filename.startswith(tuple(folders)):
                where, line = Path(filename).name, lineno
    at = f"template {where}" + (f", line {line}" if line else "")
    message = getattr(exc, "message", None) or str(exc)
    return RenderError(f"{at}: {message}")


def html(
    templates: Templates,
    template: str,
    occasion: Occasion,
    sheets: Sequence[Sheet],
    layer: str = "page",
) -> str:
    """The HTML of a document with one page per sheet, all of one award. `layer`: "page" is
    the certificate itself; "static" and "sheet" are the two layers of a batch. A template
    error is a RenderError naming the template file, its line and the problem."""
    if layer not in LAYERS or not sheets or len({s.award_id for s in sheets}) != 1:
        raise ValueError("one layer of sheets of one award is rendered at a time")
    try:
        return (
            environment(templates)
            .get_template(f"{template}.html")
            .render(
                template=template,
                layer=layer,
                award=award_context(sheets[0]),
                sheets=[_sheet_context(s) for s in sheets]
                if layer != "static"
                else [{"serial": "static"}],
                **occasion.context(),
            )
        )
    except TemplateError as exc:
        raise _template_error(exc, template, templates) from None
