"""Pausing Python's cyclic garbage collector while a million objects are built. A leaf module.

Reading a large survey, nominating from it and deciding a stage make millions of tuples,
strings and decimals that never form reference cycles. Each automatic collection walks every
tracked object made so far, so with the collector running the work grows faster than the
number of nominees. Reference counting still frees everything as usual while it is paused.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (nested pauses are harmless); it is running
    again afterwards if it was before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
