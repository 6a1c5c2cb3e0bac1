"""awards: an awards selection workflow engine.

Workflow files declare a cycle's awards and their rules; a survey is imported, scored and
ranked by pure functions; one state machine moves every nomination; every decision is
appended to a hash-chained log that can be verified and replayed offline.

The library's front door:

- `awards.open(url, *, cycle, actor, create)` opens a database once and returns a
  `Database` whose methods are the commands: init, import_survey, advance, withdraw,
  revoke, add_reviewer, reviewers, assign, review, review_sheet, recuse, status, ranking,
  history, export_log, verify_log, audit, render, verify, report.
- `awards.check(workflow)` validates a workflow file; `awards.replay(log, workflow,
  survey)` re-derives every decision of an exported log. Neither needs a database.
- Errors derive from `awards.AwardsError`; `awards.InputErrors` carries every located
  problem of a bad file.

Every result is a dataclass with `as_dict()` (JSON-ready values, decimals as strings).
Names are imported on first use, so `import awards` loads no database, terminal or PDF
library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from awards.version import __version__

_EXPORTS = {
    "open": "awards.api",
    "Database": "awards.api",
    "check": "awards.rules.checking",
    "replay": "awards.log.replay",
    "Diverged": "awards.log.replay",
    "AwardsError": "awards.errors",
    "ConflictError": "awards.errors",
    "InputErrors": "awards.errors",
    "LogError": "awards.errors",
    "NotFound": "awards.errors",
    "Problem": "awards.errors",
    "TransitionError": "awards.errors",
}

__all__ = [
    "AwardsError",
    "ConflictError",
    "Database",
    "Diverged",
    "InputErrors",
    "LogError",
    "NotFound",
    "Problem",
    "TransitionError",
    "__version__",
    "check",
    "open",
    "replay",
]

if TYPE_CHECKING:
    from awards.api import Database, open
    from awards.errors import (
        AwardsError,
        ConflictError,
        InputErrors,
        LogError,
        NotFound,
        Problem,
        TransitionError,
    )
    from awards.log.replay import Diverged, replay
    from awards.rules.checking import check


def __getattr__(name: str) -> Any:
    # PEP 562: a name is imported from its module when it is first asked for.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'awards' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
