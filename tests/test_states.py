"""The state machine: every legal move, every illegal one refused with a helpful message."""

from __future__ import annotations

import itertools

import pytest

from awards.rules.states import (
    MACHINE_CONFIG,
    TERMINAL,
    State,
    Trigger,
    allowed,
    describe_illegal,
    destination,
    machine,
)

LEGAL = {
    (Trigger.SHORTLIST, State.SURVEYED): State.SHORTLISTED,
    (Trigger.ELIMINATE, State.SURVEYED): State.ELIMINATED,
    (Trigger.APPROVE, State.SHORTLISTED): State.REVIEWED,
    (Trigger.REJECT, State.SHORTLISTED): State.REJECTED,
    (Trigger.NEXT_ROUND, State.SHORTLISTED): State.SHORTLISTED,
    (Trigger.AWARD, State.REVIEWED): State.AWARDED,
    (Trigger.PASS_OVER, State.REVIEWED): State.NOT_AWARDED,
    (Trigger.WITHDRAW, State.SURVEYED): State.WITHDRAWN,
    (Trigger.WITHDRAW, State.SHORTLISTED): State.WITHDRAWN,
    (Trigger.WITHDRAW, State.REVIEWED): State.WITHDRAWN,
    (Trigger.REVOKE, State.AWARDED): State.REVOKED,
}


@pytest.mark.parametrize(("trigger", "source"), list(itertools.product(Trigger, State)))
def test_destination_matches_the_declared_table(trigger, source):
    assert destination(trigger, source) == LEGAL.get((trigger, source))


def test_machine_has_no_auto_transitions():
    assert MACHINE_CONFIG["auto_transitions"] is False
    assert not [name for name in machine().events if name.startswith("to_")]


def test_terminal_states_allow_nothing_but_revoke_from_awarded():
    assert {s: allowed(s) for s in TERMINAL} == {s: [] for s in TERMINAL}
    assert allowed(State.AWARDED) == ["revoke"]


def test_describe_illegal_names_state_needs_and_allowed_moves():
    assert describe_illegal("top-department:D017", "surveyed", "award") == (
        "nomination top-department:D017 is 'surveyed'; 'award' needs 'reviewed'. "
        "Allowed now: shortlist, eliminate, withdraw"
    )
    assert describe_illegal("x:1", "eliminated", "withdraw") == (
        "nomination x:1 is 'eliminated'; 'withdraw' needs 'reviewed' or 'shortlisted' or 'surveyed'. "
        "Allowed now: none (the nomination is closed)"
    )
