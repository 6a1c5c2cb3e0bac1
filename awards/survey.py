"""Survey import: read a survey file (CSV or XLSX) into validated agency records.

Reading is all-or-nothing: every problem in the file is collected with its row, column and
value, and `read_survey` raises InputErrors if there is any, so nothing half-read is ever
written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from awards.config import Workflow


@dataclass(frozen=True, slots=True)
class Agency:
    """One surveyed agency. `scores` follow the workflow's dimension order; None when the
    agency did not respond."""

    agency_id: str
    name_th: str
    name_en: str
    level: str
    ministry: str
    province: str
    responded: bool
    scores: tuple[Decimal, ...] | None
    flags: Mapping[str, bool]


@dataclass(frozen=True)
class Survey:
    agencies: tuple[Agency, ...]
    sha256: str  # of the file bytes
    path: str


def read_survey(path: str | Path, workflow: Workflow) -> Survey:
    """Read and validate a survey file against a workflow; raise InputErrors on any problem."""
    raise NotImplementedError
