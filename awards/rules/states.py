"""The nomination state machine, declared once. A leaf module.

Every state change in the program is checked against this declaration (the `transitions`
library builds and validates it); there are no `to_<state>()` shortcuts and no force flags.
Exceptional moves (withdraw, revoke) are transitions of their own that require a reason.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any


class State(StrEnum):
    SURVEYED = "surveyed"
    SHORTLISTED = "shortlisted"
    REVIEWED = "reviewed"
    AWARDED = "awarded"
    ELIMINATED = "eliminated"
    REJECTED = "rejected"
    NOT_AWARDED = "not_awarded"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"


class Trigger(StrEnum):
    SHORTLIST = "shortlist"
    ELIMINATE = "eliminate"
    APPROVE = "approve"
    NEXT_ROUND = "next_round"  # a review round closed and the nomination goes on to the next
    REJECT = "reject"
    AWARD = "award"
    PASS_OVER = "pass_over"
    WITHDRAW = "withdraw"
    REVOKE = "revoke"


# The trigger that creates a nomination (from no state to `surveyed`). It is logged like
# every move but is not a transition between states, so it is not in the machine.
NOMINATE = "nominate"

TERMINAL: frozenset[State] = frozenset(
    {
        State.ELIMINATED,
        State.REJECTED,
        State.NOT_AWARDED,
        State.WITHDRAWN,
        State.REVOKED,
    }
)
OPEN: tuple[State, ...] = (State.SURVEYED, State.SHORTLISTED, State.REVIEWED)
# A reviewer may recuse while the committee can still be asked: before and during review.
OPEN_FOR_RECUSAL: tuple[State, ...] = (State.SURVEYED, State.SHORTLISTED)

# Moves a person makes with a stated reason, outside the rules.
REASON_REQUIRED: frozenset[Trigger] = frozenset({Trigger.WITHDRAW, Trigger.REVOKE})

# Shaped like `Machine(**MACHINE_CONFIG)`.
MACHINE_CONFIG: dict[str, Any] = {
    "states": [s.value for s in State],
    "initial": State.SURVEYED.value,
    "auto_transitions": False,
    "transitions": [
        {"trigger": Trigger.SHORTLIST, "source": State.SURVEYED, "dest": State.SHORTLISTED},
        {"trigger": Trigger.ELIMINATE, "source": State.SURVEYED, "dest": State.ELIMINATED},
        {"trigger": Trigger.APPROVE, "source": State.SHORTLISTED, "dest": State.REVIEWED},
        # Rounds of review happen while shortlisted: going on to the next round keeps the
        # state, and the move is logged with the round's evidence like every decision.
        {"trigger": Trigger.NEXT_ROUND, "source": State.SHORTLISTED, "dest": State.SHORTLISTED},
        {"trigger": Trigger.REJECT, "source": State.SHORTLISTED, "dest": State.REJECTED},
        {"trigger": Trigger.AWARD, "source": State.REVIEWED, "dest": State.AWARDED},
        {"trigger": Trigger.PASS_OVER, "source": State.REVIEWED, "dest": State.NOT_AWARDED},
        {"trigger": Trigger.WITHDRAW, "source": list(OPEN), "dest": State.WITHDRAWN},
        {"trigger": Trigger.REVOKE, "source": State.AWARDED, "dest": State.REVOKED},
    ],
}


def nomination_code(award: str, nominee_id: str) -> str:
    """How people name a nomination: '<award>:<nominee id>'."""
    return f"{award}:{nominee_id}"


@cache
def machine() -> Any:
    """The one shared machine (no model attached): the single source of truth for moves."""
    from transitions import Machine  # imported on first use so `awards --help` stays fast

    config = {
        **MACHINE_CONFIG,
        "transitions": [
            {k: ([str(x) for x in v] if isinstance(v, list) else str(v)) for k, v in t.items()}
            for t in MACHINE_CONFIG["transitions"]
        ],
    }
    return Machine(model=None, **config)


@cache
def _moves() -> dict[tuple[str, str], str]:
    """(trigger, source) -> dest, read off the machine once; bulk moves look rows up here."""
    table: dict[tuple[str, str], str] = {}
    for name, event in machine().events.items():
        for source, transitions in event.transitions.items():
            for t in transitions:
                table[(name, source)] = t.dest
    return table


def destination(trigger: str, source: str) -> str | None:
    """Where `trigger` takes a nomination in state `source`, or None if the move is illegal."""
    return _moves().get((str(trigger), str(source)))


def allowed(source: str) -> list[str]:
    """The triggers allowed from `source`, in declaration order."""
    return [t for (t, s) in _moves() if s == str(source)]


def describe_illegal(nomination: str, state: str, trigger: str) -> str:
    """The user-facing message for a move the machine refuses."""
    needs = sorted({s for (t, s) in _moves() if t == str(trigger)})
    now = ", ".join(allowed(state)) or "none (the nomination is closed)"
    need = " or ".join(f"'{s}'" for s in needs)
    return f"nomination {nomination} is '{state}'; '{trigger}' needs {need}. Allowed now: {now}"
