"""The budget a rendering runs on: time and HTML that grow with the number of sheets.

A template is code a cycle's committee wrote or received; it must not hang a render nor
fill the memory. Within `sheets(n, what)` the clock runs: the template sandbox checks it at
every call and attribute lookup (`check`), and in the main thread of a process (the command
line, and every render worker) a timer interrupts whatever runs past the deadline, a loop
that calls nothing or WeasyPrint laying out a page alike. Budgets do not nest: an inner one
(the HTML of a batch, within its layout) runs on the outer one's clock.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

BASE_SECONDS = 30.0  # loading fonts and a first layout take a few seconds on a slow machine
SHEET_SECONDS = 2.0  # a sheet takes a few hundredths of a second
SHEET_CHARS = 1_000_000  # a sheet's HTML is a few kilobytes, with its QR code


class OutOfTime(BaseException):
    """The budget's time is up. A BaseException, so that no `except Exception` in a library
    that happens to be running swallows it."""


class _Running(threading.local):
    deadline: float | None = None
    message = ""


_running = _Running()  # per thread: a budget belongs to the thread that renders


def check() -> None:
    """Raise OutOfTime if the running budget is spent."""
    deadline = _running.deadline
    if deadline is not None and time.monotonic() > deadline:
        raise OutOfTime(_running.message)


@contextmanager
def sheets(count: int, what: str, seconds: float | None = None) -> Iterator[None]:
    """Run the block on the budget of `count` sheets (or `seconds`), unless a budget is
    already running. `what` names the template in the message of OutOfTime."""
    if _running.deadline is not None:
        yield
        return
    seconds = BASE_SECONDS + SHEET_SECONDS * count if seconds is None else seconds
    _running.deadline = time.monotonic() + seconds
    _running.message = (
        f"{what}: rendering passed its budget of {seconds:g} s for {count} sheet(s); "
        "simplify the template"
    )
    timer = _can_interrupt()
    previous: Any = None
    if timer:
        previous = signal.signal(signal.SIGALRM, _expired)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        _running.deadline = None


def _can_interrupt() -> bool:
    """A timer signal is ours to use: the main thread, and no one else's handler installed."""
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
    )


def _expired(signum: int, frame: Any) -> None:
    raise OutOfTime(_running.message)
