"""Where the shipped workflows and templates are, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

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
