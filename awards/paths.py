"""Where the shipped workflows, templates and fonts are, installed or in a source checkout."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from awards.errors import NotFound  # a leaf too: this module stays one

_HERE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    # A wheel carries the folders inside the package (awards/workflows, awards/templates);
    # a source checkout has them beside it at the top level.
    inside = _HERE / name
    return inside if inside.is_dir() else _HERE.parent / name


def workflows_dir() -> Path:
    return _shipped("workflows")


def templates_dir() -> Path:
    return _shipped("templates")


def leads_outside(path: Path, roots: Sequence[Path]) -> bool:
    """Whether `path`, every link followed, ends outside every one of `roots` (themselves
    resolved): a file a template folder holds only by a link."""
    real = path.resolve()
    return not any(real.is_relative_to(root.resolve()) for root in roots)


def links_out(folder: Path, roots: Sequence[Path]) -> list[tuple[Path, Path]]:
    """(entry, where it leads) for every link under `folder` that leads outside `roots`.
    Folders reached through a link are not entered: the link itself is what is reported."""
    found = []
    for base, folders, files in os.walk(folder):  # followlinks=False
        for name in sorted([*folders, *files]):
            entry = Path(base, name)
            if entry.is_symlink() and leads_outside(entry, roots):
                found.append((entry, entry.resolve()))
    return found


def shipped_workflow(cycle_id: str) -> Path:
    """The path of a workflow shipped with the package, e.g. 'dga-2019'."""
    return workflows_dir() / f"{cycle_id}.toml"


def shipped_workflows() -> list[Path]:
    """Every workflow file shipped with the package, by name."""
    return sorted(workflows_dir().glob("*.toml"))


def find_workflow(name: str | Path) -> Path:
    """The workflow file `name` stands for: the file at that path if there is one, else, for
    a bare name such as 'dga-2019' (or 'dga-2019.toml'), the workflow shipped under that
    name, so that `awards init dga-2019` works from anywhere after `pip install`."""
    path = Path(name)
    bare = "/" not in str(name) and os.sep not in str(name)
    if path.is_file() or not bare:
        return path
    shipped = shipped_workflow(path.name.removesuffix(".toml"))
    if shipped.is_file():
        return shipped
    known = ", ".join(p.stem for p in shipped_workflows()) or "none"
    raise NotFound(
        f"no workflow file '{name}' here, and awards ships no workflow of that name "
        f"(shipped: {known}; `awards workflows` lists them)"
    )


class Face(NamedTuple):
    family: str
    weight: int
    style: str
    path: Path  # the TTF file


def sarabun_faces() -> list[Face]:
    """Every Sarabun face the fontpkg-sarabun package ships, as its metadata lists them."""
    import fontpkg_sarabun  # a data package; only printing needs it

    meta = json.loads((fontpkg_sarabun.ROOT / "metadata.json").read_text(encoding="utf-8"))
    return [
        Face(
            meta["family"],
            int(f["weight"]),
            f["style"],
            (fontpkg_sarabun.ROOT / f["path"]).resolve(),
        )
        for f in meta["files"]
    ]
