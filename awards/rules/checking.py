"""Checking a workflow file, for `awards check` and `awards.check`: every problem in it at
once, or what it declares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from awards.paths import find_workflow
from awards.rules.plain import Plain
from awards.rules.workflow_file import load_workflow


@dataclass(frozen=True)
class CheckedWorkflow(Plain):
    cycle: str
    awards: tuple[str, ...]  # award ids, as declared
    sha256: str  # of the file's bytes, as the decision log will name it


def check(path: str | Path) -> CheckedWorkflow:
    """Validate the workflow file at `path` (or a shipped one by name, e.g. 'dga-2019');
    InputErrors lists every problem it has (file, line, key and value of each)."""
    workflow = load_workflow(find_workflow(path))
    return CheckedWorkflow(workflow.cycle_id, tuple(a.id for a in workflow.awards), workflow.sha256)
