"""The workflows shipped with awards: `awards workflows` lists them, `awards workflows copy`
writes one out to edit. `awards init NAME` opens one by name (awards.paths.find_workflow)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from awards.errors import AwardsError, NotFound
from awards.paths import shipped_workflow, shipped_workflows
from awards.rules.plain import Plain
from awards.rules.workflow_file import load_workflow


@dataclass(frozen=True)
class Shipped(Plain):
    name: str  # what `awards init` takes
    cycle: str
    title_th: str
    title_en: str
    year: int
    year_be: int
    awards: tuple[str, ...]


def shipped() -> list[Shipped]:
    """Every shipped workflow, by name, with what it declares."""
    out = []
    for path in shipped_workflows():
        w = load_workflow(path)
        out.append(
            Shipped(path.stem, w.cycle_id, w.title_th, w.title_en, w.year, w.year_be,
                    tuple(a.id for a in w.awards))
        )  # fmt: skip
    return out


def copy(name: str, dest: str | Path | None = None) -> Path:
    """Write the shipped workflow `name` to `dest` (a file, or a folder to put
    `<name>.toml` in; default: `<name>.toml` here) and return where. An existing file is
    never overwritten."""
    stem = name.removesuffix(".toml")
    source = shipped_workflow(stem)
    if "/" in name or not source.is_file():
        known = ", ".join(p.stem for p in shipped_workflows()) or "none"
        raise NotFound(f"awards ships no workflow '{name}' (shipped: {known})")
    target = Path(dest) if dest is not None else Path(f"{stem}.toml")
    if target.is_dir():
        target = target / f"{stem}.toml"
    try:
        with target.open("xb") as f:  # "x": fails rather than replace a file already there
            f.write(source.read_bytes())
    except FileExistsError:
        raise AwardsError(
            f"{target} already exists; `awards workflows copy` never overwrites a file: "
            "give another DEST"
        ) from None
    return target
