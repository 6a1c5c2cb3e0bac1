"""Templates to HTML: sandboxed Jinja2, autoescaped, with StrictUndefined.

A template sees `cycle`, `ceremony`, `award`, `template`, `layer` and the `sheets` of one
award (see templates/_base.html), and `fit_name` to size and break a name for its box. No WeasyPrint here, so the planning process can check
every template before any rendering starts.

Templates are read only from the declared folders, by their real paths: a link that leads
out of them (to /etc/passwd, say) is refused, at `awards check` as here. A template runs
on a budget: its time and the HTML it writes grow with the sheets it renders, and no single
value it makes (by `*`, `**`, `+`, `~`, a width or a count) may be huge. Whatever goes
wrong at run time is a RenderError naming the template file and line.
"""

from __future__ import annotations

import itertools
import re
import traceback
from collections.abc import Callable, Sequence
from functools import cache, wraps
from pathlib import Path
from typing import Any, cast

import zxingcpp
from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import Concat
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Namespace
from markupsafe import Markup

from awards.certificates import budget
from awards.certificates.namefit import name_fit
from awards.certificates.sheet import Occasion, RenderError, Sheet, Templates
from awards.paths import leads_outside

LAYERS = ("page", "static", "sheet")
MAX_VALUE_CHARS = 1_000_000  # any one string or list a template makes
MAX_NUMBER = 1_000_000  # a count or width given to a call or filter
MAX_INT_BITS = 4_096  # an integer a template computes (10**1000 is 3,322 bits)
_FORMAT_WIDTH = re.compile(r"[%:{][^%{}]*?(\d{7,})")  # a width or precision of 7+ digits


def qr_svg(code: str, verify_url: str = "") -> Markup:
    """The verification code as a QR code (error correction level M, no quiet zone), inline
    SVG sized by the template's CSS: the address <verify_url>/<code> when the workflow
    declares one (a phone opens it), else the bare code (for `awards verify`, which reads
    either). One path of dark runs, one module high, each drawn as a stroke along its
    middle (awards.certificates.qrdraw draws exactly this path straight into the PDF)."""
    text = f"{verify_url}/{code}" if verify_url else code
    symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image: Any = symbol.to_image(scale=1, add_quiet_zones=False)  # a 2-D buffer, 0: dark
    rows = cast("list[list[int]]", memoryview(image).tolist())
    runs = []
    for y, row in enumerate(rows):
        x = 0
        for dark, run in itertools.groupby(row, key=lambda value: value == 0):
            n = len(list(run))
            if dark:
                runs.append(f"M{x} {y}.5h{n}")
            x += n
    size = f"0 0 {len(rows[0])} {len(rows)}"
    return Markup(
        f'<svg viewBox="{size}" class="qr"><path class="qrline" stroke="#000" '
        f'd="{"".join(runs)}"/></svg>'
    )


def _sheet_context(s: Sheet, verify_url: str) -> dict[str, Any]:
    return {
        "serial": s.serial,
        "code": s.code,
        "qr": qr_svg(s.code, verify_url),
        "nomination": s.nomination,
        "recipient_th": s.recipient_th,
        "recipient_en": s.recipient_en,
        "award": award_context(s),
        # The winner's band, for an award with tiers; None otherwise.
        "tier": {"title_th": s.tier_th, "title_en": s.tier_en} if s.tier_th else None,
    }


def award_context(s: Sheet) -> dict[str, str]:
    return {
        "id": s.award_id,
        "title_th": s.award_th,
        "title_en": s.award_en,
        "reason_th": s.reason_th,
        "reason_en": s.reason_en,
    }


class Outside(TemplateError):
    """A template file whose real path is outside the template folders."""


class TooMuch(TemplateError):
    """A template passed its budget: a value too large, or out of time."""


class _Loader(FileSystemLoader):
    """Jinja's file loader, refusing a file whose real path (every link followed) leaves the
    template folders."""

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        contents, filename, uptodate = super().get_source(environment, template)
        roots = [Path(p) for p in self.searchpath]
        if leads_outside(Path(filename), roots):
            raise Outside(
                f"{template} is a link to {Path(filename).resolve()}, outside the template "
                "folders; copy the file into the folder instead"
            )
        return contents, filename, uptodate


def _sized(value: Any) -> Any:
    if isinstance(value, str | list | tuple | bytes) and len(value) > MAX_VALUE_CHARS:
        raise TooMuch(f"a value of {len(value):,} items, past the {MAX_VALUE_CHARS:,} allowed")
    return value


def _number(value: Any) -> None:
    if isinstance(value, int) and abs(value) > MAX_NUMBER:
        raise TooMuch(f"the number {value} is past the {MAX_NUMBER:,} a template may use")


def _format_string(text: str) -> None:
    if width := _FORMAT_WIDTH.search(text):
        raise TooMuch(f"the width or precision {width.group(1)} is past what a template may use")


class _BoundedGenerator(CodeGenerator):
    """Jinja's code generator, with every `~` concatenation's result checked for size."""

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        self.write("environment.sized(")
        super().visit_Concat(node, frame)
        self.write(")")


class _BoundedNamespace(Namespace):
    """namespace(), whose attributes cannot be grown past the budget one step at a time."""

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, _sized(value))


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with a budget: calls, attribute lookups and operators check the clock
    and the size of what they make."""

    code_generator_class = _BoundedGenerator
    intercepted_binops = frozenset(("*", "**", "+", "%"))
    sized = staticmethod(_sized)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget.check()
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            if abs(left) > 1 and right * max(abs(left).bit_length() - 1, 1) > MAX_INT_BITS:
                raise TooMuch(f"{left} ** {right} is past the integers a template may compute")
        elif operator == "*":
            if isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                    raise TooMuch("a product past the integers a template may compute")
            elif isinstance(left, int | str | list | tuple) and isinstance(
                right, int | str | list | tuple
            ):
                times, seq = (left, right) if isinstance(left, int) else (right, left)
                if (
                    isinstance(times, int)
                    and not isinstance(seq, int)
                    and len(seq) * times > MAX_VALUE_CHARS
                ):
                    raise TooMuch(
                        f"a value of {len(seq) * times:,} items, past the {MAX_VALUE_CHARS:,} allowed"
                    )
        elif operator == "%" and isinstance(left, str):
            _format_string(left)
        return _sized(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget.check()
        for value in (*args, *kwargs.values()):
            _number(value)
        return _sized(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        budget.check()
        return super().getattr(obj, attribute)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _format_string(value.__self__)
        return wrapped


def _bounded_filter(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose counts and widths are checked, and whose result is sized."""

    @wraps(f)  # keeps Jinja's pass_context / pass_environment marks
    def bounded(*args: Any, **kwargs: Any) -> Any:
        budget.check()
        for value in (*args[1:], *kwargs.values()):
            _number(value)
        if name == "format" and args and isinstance(args[0], str):
            _format_string(args[0])
        return _sized(f(*args, **kwargs))

    return bounded


@cache
def environment(templates: Templates) -> SandboxedEnvironment:
    """The Jinja environment of these template folders (one per process)."""
    env = _Sandbox(
        loader=_Loader([str(f) for f in templates.folders]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters = {name: _bounded_filter(name, f) for name, f in env.filters.items()}
    env.globals["namespace"] = _BoundedNamespace
    env.globals["fit_name"] = name_fit  # a name's size and lines (awards.certificates.namefit)
    return env


def _template_error(exc: BaseException, name: str, templates: Templates) -> RenderError:
    """One clear line naming the template file, its line and what went wrong."""
    if isinstance(exc, TemplateNotFound):
        return RenderError(f"no template '{exc.name}' in {templates._where()}")
    where, line = name, getattr(exc, "lineno", None)
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
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return RenderError(f"{at}: {message}")


def render(
    templates: Templates, name: str, count: int, *, seconds: float | None = None, **context: Any
) -> str:
    """Template `name` (a file name, e.g. "plaque.html") rendered for `count` sheets, on the
    budget of that many (or `seconds`); any error is a RenderError naming the template and
    its line."""
    limit = budget.SHEET_CHARS * max(count, 1)
    try:
        with budget.sheets(count, f"template {name}", seconds):
            written, parts = 0, []
            for part in environment(templates).get_template(name).generate(**context):
                written += len(part)
                if written > limit:
                    raise TooMuch(
                        f"the HTML passed {limit:,} characters, the budget for {count} "
                        "sheet(s); a template writes a page, not a book"
                    )
                parts.append(part)
            return "".join(parts)
    except budget.OutOfTime as exc:
        raise RenderError(str(exc)) from None
    except Exception as exc:  # the template's own code: any error at all
        raise _template_error(exc, name, templates) from None


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
    return render(
        templates,
        f"{template}.html",
        len(sheets),
        template=template,
        layer=layer,
        award=award_context(sheets[0]),
        sheets=[_sheet_context(s, occasion.ceremony.verify_url) for s in sheets]
        if layer != "static"
        else [{"serial": "static"}],
        **occasion.context(),
    )
