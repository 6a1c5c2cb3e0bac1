"""What a certificate or plaque says and where it is printed from: the sheet, the
occasion every sheet of a cycle shares, the template folders, and the batch of sheets a
renderer is handed. Plain picklable data: it crosses into worker processes. A leaf of this
package: no database, no WeasyPrint, no Jinja.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awards.errors import AwardsError
from awards.paths import links_out, templates_dir
from awards.rules.thai import thai_date, to_thai_digits
from awards.rules.workflow import Ceremony
from awards.version import __version__

BATCH = (
    100  # sheets per document: bounds a worker's memory (about 150 MB), amortises font subsetting
)
TEMP_PREFIX = ".awards-render-"


class RenderError(AwardsError):
    """A template or the data given to it cannot be rendered; no file was kept."""


# --- What is printed -------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """What one certificate or plaque says. Plain data: it crosses into worker processes."""

    serial: str
    code: str
    nomination: str
    recipient_th: str
    recipient_en: str
    award_id: str
    award_th: str
    award_en: str
    reason_th: str = ""
    reason_en: str = ""
    tier_th: str = ""  # the winner's band (awards with [[tiers]]), as the award names it
    tier_en: str = ""

    @property
    def file(self) -> str:
        """The file name: serials are ASCII letters, digits and '-', safe on every OS."""
        return f"{self.serial}.pdf"


@dataclass(frozen=True)
class Occasion:
    """What every sheet of a cycle shares: the cycle's titles and its ceremony. A small
    picklable record, so that render workers receive it whole."""

    cycle_id: str
    title_th: str
    title_en: str
    year: int
    year_be: int
    ceremony: Ceremony
    specimen: bool = False  # watermark every sheet ตัวอย่าง / SPECIMEN
    emblem: Path | None = None  # the issuer's emblem file, already checked (plan.occasion_of)

    def context(self) -> dict[str, Any]:
        """The template variables `cycle` and `ceremony`."""
        c = self.ceremony
        date_th = thai_date(c.date, thai_digits=c.digits == "thai")
        year_be = str(self.year_be)
        if c.digits == "thai":
            year_be = to_thai_digits(year_be)
        date_en = f"{c.date.day} {c.date:%B %Y}"
        # One ณ, one ให้ไว้: the place may be written with its ณ ("ณ ทำเนียบรัฐบาล") or
        # without, and the date then follows as เมื่อวันที่ (not a second ณ).
        place_th = _AT.sub("", c.place_th).strip()
        given_at = f"ให้ไว้ ณ {place_th}" if place_th else ""
        given_on = f"เมื่อวันที่ {date_th}" if place_th else f"ให้ไว้ ณ วันที่ {date_th}"
        return {
            "cycle": {
                "id": self.cycle_id,
                "title_th": self.title_th,
                "title_en": self.title_en,
                "year": self.year,
                "year_be": year_be,
                "specimen": self.specimen,
            },
            "ceremony": {
                "date_th": date_th,
                "date_en": date_en,
                "given_th": f"{given_at} {given_on}".strip(),
                # the same in its two parts, each kept on one line
                "given_parts_th": [part for part in (given_at, given_on) if part],
                "given_en": f"Given on {date_en}",
                "place_th": place_th,
                "signatory_th": c.signatory_th,
                "position_th": c.position_th,
                "signatory_en": c.signatory_en,
                "position_en": c.position_en,
                "issuer_th": c.issuer_th,
                "issuer_en": c.issuer_en,
                "emblem": self.emblem.resolve().as_uri() if self.emblem else "",
                "verify_url": c.verify_url,
            },
        }


_AT = re.compile(r"^ณ\s+")  # "ณ " before a place name

REPORT_FOLDER = "report/"  # the results report's templates: no certificate uses them


@dataclass(frozen=True)
class Templates:
    """Where templates (and the files they link to) are looked up: the cycle's own folder
    first, then the shipped one. A file in the cycle's folder replaces the shipped file of
    the same name; files whose name starts with '_', and non-HTML files, are shared."""

    folders: tuple[Path, ...]

    @classmethod
    def for_cycle(cls, own: Path | None = None) -> Templates:
        if own is not None and not own.is_dir():
            raise RenderError(
                f"no templates folder {own} (the workflow's [ceremony] templates); "
                "run from the folder the cycle was opened from, or fix the workflow"
            )
        shipped = templates_dir().resolve()
        templates = cls((own.resolve(), shipped) if own is not None else (shipped,))
        templates.files()  # refuses a link out of the folders before anything is rendered
        return templates

    def files(self) -> dict[str, Path]:
        """Every file by its relative path, the cycle's own taking precedence. RenderError if
        any is a link that leads out of the template folders."""
        found: dict[str, Path] = {}
        for folder in self.folders:
            if links := links_out(folder, self.folders):
                entry, target = links[0]
                raise RenderError(
                    f"{entry} is a link to {target}, outside the template folders; copy the "
                    "file into the folder instead"
                )
            for path in sorted(folder.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    found.setdefault(path.relative_to(folder).as_posix(), path)
        return found

    def sha256(self, name: str) -> str:
        """The SHA-256 of what makes template `name`: its HTML and every shared file (the
        other templates' own HTML files excluded), so editing one changes only its hash."""
        files = self.files()
        if f"{name}.html" not in files:
            raise RenderError(f"no template '{name}' in {self._where()}")
        digest = hashlib.sha256()
        for rel, path in sorted(files.items()):
            own_html = rel.endswith(".html") and "/" not in rel and not rel.startswith("_")
            if (own_html and rel != f"{name}.html") or rel.startswith(REPORT_FOLDER):
                continue
            digest.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()

    def _where(self) -> str:
        return " or ".join(str(f) for f in self.folders)


def metadata(s: Sheet, occasion: Occasion) -> dict[str, str]:
    """The PDF document information of one sheet: `awards verify FILE` reads the serial back."""
    return {
        "/Title": f"{s.award_th}: {s.recipient_th}",
        "/Subject": f"{occasion.title_th} {s.serial}",
        "/Keywords": f"serial {s.serial}, verification code {s.code}",
        "/Creator": f"awards {__version__}",
        "/AwardsSerial": s.serial,
        "/AwardsCode": s.code,
    }


# --- Batches ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """Sheets rendered as one document, then one file each. A part is the sheets of one
    award with its template; a batch may hold several parts, so that many small awards
    share one document (and one font subsetting, the costly step) instead of one each."""

    templates: Templates
    parts: tuple[tuple[str, tuple[Sheet, ...]], ...]  # (template, sheets of one award)
    occasion: Occasion
    out: Path
    run: str  # names this run's temporary files, so a failure can remove them all
    pdfa: bool = False
    layered: bool = True

    @property
    def sheets(self) -> tuple[Sheet, ...]:
        return tuple(s for _, sheets in self.parts for s in sheets)


@dataclass(frozen=True)
class Rendered:
    """One finished file, still under its temporary name until it is recorded; or, with a
    `problem`, a sheet that could not be rendered (its text does not fit) and no file."""

    sheet: Sheet
    temp: Path
    sha256: str
    size: int
    problem: str = ""


def temp_path(out: Path, run: str, serial: str) -> Path:
    return out / f"{TEMP_PREFIX}{run}-{serial}.pdf"
