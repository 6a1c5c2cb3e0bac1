"""Splitting a batch PDF into one file per page, fast (pypdf reads and writes the objects).

The pages of a batch share their resources (the fonts, the static layer): those objects are
serialised once, numbered from 1 in every file, and each file gets them byte for byte,
followed by its own page, content stream, catalog and document information. Cloning the
shared objects into a new pypdf writer for every page costs more than rendering the page.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pypdf
from pypdf.generic import IndirectObject, NameObject, PdfObject, StreamObject, create_string_object


class SplitError(ValueError):
    """The batch PDF does not have one page per file asked for."""


def split(pdf: bytes | pypdf.PdfReader, infos: Sequence[dict[str, str]]) -> list[bytes]:
    """One PDF per page of `pdf`, each with its own document information (`infos[i]`).
    `pdf` may be a reader already open on it, whose objects were changed in place."""
    reader = pdf if isinstance(pdf, pypdf.PdfReader) else pypdf.PdfReader(io.BytesIO(pdf))
    pages = list(reader.pages)
    if len(pages) != len(infos):
        raise SplitError(f"the batch has {len(pages)} pages for {len(infos)} files")
    closures: dict[int, frozenset[int]] = {}
    reach = [_closure_of(reader, _references(page, skip=_BACK_LINKS), closures) for page in pages]
    counts = Counter(n for r in reach for n in r)
    shared = sorted(n for n, c in counts.items() if c > 1)
    numbers = {n: i for i, n in enumerate(shared, start=1)}
    blob = [_object(i, reader.get_object(n), numbers) for n, i in numbers.items()]  # type: ignore[arg-type]
    producer = str(reader.metadata.get("/Producer", "")) if reader.metadata else ""
    out = []
    for page, own, info in zip(pages, reach, infos, strict=True):
        mine = dict(numbers)
        for n in sorted(own - numbers.keys()):
            mine[n] = len(mine) + 1
        parts = list(blob)
        parts += [
            _object(mine[n], reader.get_object(n), mine) for n in sorted(own - numbers.keys())
        ]  # type: ignore[arg-type]
        page_no, kids_no, root_no, info_no = range(len(mine) + 1, len(mine) + 5)
        body = {k: v for k, v in page.items() if k != "/Parent"}
        parts.append(_object(page_no, body, mine, extra=f"/Parent {kids_no} 0 R"))
        parts.append(
            f"{kids_no} 0 obj\n<< /Type /Pages /Kids [{page_no} 0 R] /Count 1 >>\nendobj\n".encode()
        )
        parts.append(
            f"{root_no} 0 obj\n<< /Type /Catalog /Pages {kids_no} 0 R >>\nendobj\n".encode()
        )
        parts.append(_object(info_no, {"/Producer": producer, **info}, mine))
        out.append(_assemble(parts, root_no, info_no))
    return out


_BACK_LINKS = ("/Parent", "/P")  # links up the page tree, not part of a page's content


def _references(obj: Any, skip: Sequence[str] = ()) -> set[int]:
    """The objects `obj` refers to directly (looking inside its arrays and dictionaries)."""
    found: set[int] = set()
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            found.add(item.idnum)
        elif isinstance(item, dict):
            stack.extend(v for k, v in item.items() if k not in skip)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _closure_of(
    reader: Any, roots: set[int], closures: dict[int, frozenset[int]]
) -> frozenset[int]:
    """Every object reachable from `roots`, memoised per object."""
    reached: set[int] = set()
    for root in roots:
        if root not in closures:
            closures[root] = frozenset({root})  # a cycle stops here
            refs = _references(reader.get_object(root), skip=_BACK_LINKS)
            closures[root] = _closure_of(reader, refs, closures) | {root}
        reached |= closures[root]
    return frozenset(reached)


def _object(number: int, obj: Any, numbers: dict[int, int], extra: str = "") -> bytes:
    out = io.BytesIO()
    out.write(f"{number} 0 obj\n".encode())
    _write(obj, numbers, out, extra)
    out.write(b"\nendobj\n")
    return out.getvalue()


def _write(obj: Any, numbers: dict[int, int], out: io.BytesIO, extra: str = "") -> None:
    """Serialise a pypdf object with its references renumbered."""
    if isinstance(obj, IndirectObject):
        out.write(f"{numbers[obj.idnum]} 0 R".encode())
    elif isinstance(obj, StreamObject):
        data = obj._data  # the encoded bytes as read: what pypdf's own writer writes
        _write(
            {k: v for k, v in obj.items() if k != "/Length"}, numbers, out, f"/Length {len(data)}"
        )
        out.write(b"\nstream\n" + data + b"\nendstream")
    elif isinstance(obj, dict):
        out.write(b"<<")
        for key, value in obj.items():
            out.write(b" ")
            NameObject(key).write_to_stream(out)
            out.write(b" ")
            _write(value, numbers, out)
        out.write(f" {extra} >>".encode() if extra else b" >>")
    elif isinstance(obj, list):
        out.write(b"[")
        for value in obj:
            out.write(b" ")
            _write(value, numbers, out)
        out.write(b" ]")
    elif isinstance(obj, str) and not isinstance(obj, PdfObject):
        create_string_object(obj).write_to_stream(out)
    else:
        obj.write_to_stream(out)


def _assemble(parts: list[bytes], root: int, info: int) -> bytes:
    """A whole PDF file: header, the objects (numbered 1..n in order), xref and trailer."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for part in parts:
        offsets.append(out.tell())
        out.write(part)
    xref = out.tell()
    digest = hashlib.md5(out.getvalue(), usedforsecurity=False).hexdigest()
    out.write(f"xref\n0 {len(parts) + 1}\n0000000000 65535 f \n".encode())
    out.write(b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets))
    out.write(
        f"trailer\n<< /Size {len(parts) + 1} /Root {root} 0 R /Info {info} 0 R "
        f"/ID [<{digest}> <{digest}>] >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()
