"""Where the shipped workflows, templates and fonts are, installed or in a source checkout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

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


def shipped_workflow(cycle_id: str) -> Path:
    """The path of a workflow shipped with the package, e.g. 'dga-2019'."""
    return workflows_dir() / f"{cycle_id}.toml"


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
