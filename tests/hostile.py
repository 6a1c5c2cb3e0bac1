"""A hostile-input corpus, built on the fly: workbooks whose sheet XML says what a careless
or malicious tool might write (a declared dimension that lies, a far cell, a huge comment, a
part that inflates past any survey).

Workbooks are written with zipfile, byte by byte, so that nothing tidies them up the way a
spreadsheet library would: what the file declares is exactly what the test says.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="survey" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
SHEET = "xl/worksheets/sheet1.xml"


def _deflated(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def column_letter(number: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA, 16384 -> XFD."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(ref: str, value: str) -> str:
    if value.replace(".", "", 1).isdigit():
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def sheet_xml(
    rows: Sequence[Sequence[str]],
    *,
    dimension: str | None = None,
    far_cells: Iterable[tuple[int, int, str]] = (),
    comment_bytes: int = 0,
) -> Iterable[bytes]:
    """The sheet's XML in pieces: `rows` from row 1, then `far_cells` (row, column, value),
    under a `<dimension ref>` that says whatever `dimension` says (nothing when None), with an
    XML comment of `comment_bytes` bytes before the data."""
    yield (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    )
    if dimension is not None:
        yield f'<dimension ref="{dimension}"/>'.encode()
    if comment_bytes:
        yield b"<!--"
        chunk = b"x" * (1 << 20)
        left = comment_bytes
        while left > 0:
            yield chunk[:left]
            left -= len(chunk)
        yield b"-->"
    yield b"<sheetData>"
    for r, row in enumerate(rows, start=1):
        cells = "".join(_cell(f"{column_letter(c)}{r}", v) for c, v in enumerate(row, 1) if v)
        yield f'<row r="{r}">{cells}</row>'.encode()
    for r, c, value in far_cells:
        yield f'<row r="{r}">{_cell(f"{column_letter(c)}{r}", value)}</row>'.encode()
    yield b"</sheetData></worksheet>"


def workbook(path: Path, sheet: Iterable[bytes], *, extra: dict[str, bytes] | None = None) -> Path:
    """A minimal .xlsx (no styles, no shared strings) whose only sheet is `sheet`'s bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with z.open(_deflated(SHEET), "w", force_zip64=True) as out:
            for piece in sheet:
                out.write(piece)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return path


def declaring(path: Path, member: str, size: int) -> Path:
    """A workbook with one more small part whose zip entry declares that it inflates to
    `size` bytes, as a zip bomb's does (without making the test write gigabytes)."""
    rows = [["agency_id"], ["D1"]]
    with zipfile.ZipFile(workbook(path, sheet_xml(rows)), "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member, b"\0" * 1000)
    data = bytearray(path.read_bytes())
    at = data.rindex(b"PK\x01\x02")  # the central directory entry of the part just added
    assert data[at + 46 : at + 46 + len(member)] == member.encode()
    data[at + 24 : at + 28] = size.to_bytes(4, "little")  # its uncompressed size
    path.write_bytes(bytes(data))
    return path
