"""The names an event carries at its top level, derived from the event catalogue and the
chain's seal rather than listed: a workflow may not give a dimension or a flag one of them
(awards.rules.workflow_checker), so that no name a cycle declares can be read as one of the
log's own fields.
"""

from __future__ import annotations

import inspect
from functools import cache

import orjson

from awards.log import events
from awards.log.chain import GENESIS, seal

# Keys a caller spreads into an event, which no constructor names: why a reviewer was
# assigned (awards.commands.seats). tests/test_reserved_names.py checks a whole cycle's log
# for any key this module does not know.
_SPREAD = ("by", "per_nomination", "replacing")


def _placeholder(annotation: str) -> object:
    """A value of the annotated type that every constructor accepts."""
    if annotation.startswith("Mapping"):
        return {}
    if annotation.startswith("Sequence"):
        return []
    return {"int": 0, "bool": False}.get(annotation, "")


@cache
def event_fields() -> frozenset[str]:
    """Every top-level key a sealed event of any kind has: what its constructor writes
    (one per Kind, named like it), what sealing adds, and what callers spread in."""
    names: set[str] = set(_SPREAD)
    for kind in events.Kind:
        constructor = getattr(events, kind.value)
        arguments = {
            name: _placeholder(str(parameter.annotation))
            for name, parameter in inspect.signature(constructor).parameters.items()
        }
        names.update(orjson.loads(seal(constructor(**arguments), 1, GENESIS).body))
    return frozenset(names)
