"""Domain errors. A leaf module: it imports nothing from the package.

Every message is meant for the user as it is: one line that says what is wrong and, where
it can, what to do about it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


class AwardsError(Exception):
    """Base of every error the program reports to the user (exit code 1, no traceback)."""


@dataclass(frozen=True)
class Problem:
    """One located input problem: file, line or row, column or key, offending value."""

    file: str
    line: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.column:
            parts.append(self.column)
        text = ": ".join(parts) + ": " + self.message
        if self.value is not None:
            text += f" (value: {self.value!r})"
        return text

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class InputErrors(AwardsError):
    """Every problem found in one input (a workflow file, a survey), collected, not thrown one
    at a time. Nothing was written when this is raised."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self._summary())

    def _summary(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        return f"{len(self.problems)} problems:\n" + "\n".join(str(p) for p in self.problems)


class TransitionError(AwardsError):
    """A move the state machine does not allow, or one missing what it requires."""


class NotFound(AwardsError):
    """A cycle, award, nomination or file that does not exist."""


class ConflictError(AwardsError):
    """The database changed under us (another writer got there first); nothing was written."""


class LogError(AwardsError):
    """The decision log is broken: a hash, a link or a sequence number does not match.
    `line` is the exported log's line where the chain breaks, when it is known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line
