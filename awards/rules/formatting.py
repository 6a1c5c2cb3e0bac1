"""How figures are written for people, once for the terminal and the report.

A percentage of a count, a weight as a percentage, a change of weight in percentage points,
a margin to a cut line, a level's name. Every figure is Decimal arithmetic rounded half-up
like the scores themselves (awards.rules.scoring.round_half_up), never float or `format()`
rounding, so `awards status` and `awards report` print the same digits for the same counts
(1 of 16 is 6.3%, not the 6.2% banker's rounding gives). For machines, results become
JSON-ready values through awards.rules.plain.

Pure: imports only from awards.rules.
"""

from __future__ import annotations

from decimal import Decimal

from awards.rules.scoring import round_half_up
from awards.rules.states import State
from awards.rules.workflow import Level

DASH = "—"  # in place of a figure that does not exist: no respondents, no cut line

# A nomination's state as people read it, Thai first. Thai readers see the Thai label; the
# English one follows it, without the identifier's underscore.
STATE_LABELS: dict[State, tuple[str, str]] = {
    State.SURVEYED: ("ได้รับการเสนอชื่อ", "nominated"),
    State.SHORTLISTED: ("ผ่านการคัดเลือกเบื้องต้น", "shortlisted"),
    State.REVIEWED: ("ผ่านการพิจารณา", "reviewed"),
    State.AWARDED: ("ได้รับรางวัล", "awarded"),
    State.ELIMINATED: ("ไม่ผ่านการคัดเลือก", "eliminated"),
    State.REJECTED: ("ไม่ผ่านการพิจารณา", "rejected"),
    State.NOT_AWARDED: ("ไม่ได้รับรางวัล", "not awarded"),
    State.WITHDRAWN: ("ถอนชื่อ", "withdrawn"),
    State.REVOKED: ("เพิกถอนรางวัล", "revoked"),
}


def level_label(level: Level) -> str:
    """A survey level as people read it, in English and Thai: 'provincial (ระดับจังหวัด)'."""
    if level.title_en == level.title_th:  # not declared: its key alone
        return level.title_en
    return f"{level.title_en} ({level.title_th})"


def state_label(state: str) -> tuple[str, str]:
    """A nomination state's (Thai, English) label: state_label('not_awarded') ==
    ('ไม่ได้รับรางวัล', 'not awarded'). Raises ValueError for a name that is no state."""
    return STATE_LABELS[State(state)]


def percent(part: int, whole: int, places: int = 1, *, missing: str = DASH) -> str:
    """`part` of `whole` as a percentage, rounded half-up: percent(301, 323) == '93.2%'.

    `missing` when `whole` is 0. The quotient is exact to 28 digits before it is rounded,
    which for counts below 10**20 cannot move a half across the rounding point.
    """
    if not whole:
        return missing
    return f"{round_half_up(Decimal(100 * part) / whole, places)}%"


def share(weight: Decimal, places: int | None = None) -> str:
    """A weight (a fraction of 1) as a percentage without trailing zeros: 0.20 is '20%'.

    With `places`, rounded half-up to at most that many decimals (a perturbed weight such
    as 0.21333... is '21.3%'); without, exact as declared (0.125 is '12.5%')."""
    value = weight * 100 if places is None else round_half_up(weight * 100, places)
    return f"{_plain_number(value)}%"


def points(delta: Decimal) -> str:
    """A change of weight (a fraction of 1) in percentage points: '+5 pp', '−5 pp'."""
    sign = "+" if delta > 0 else "−" if delta < 0 else ""
    return f"{sign}{_plain_number(abs(delta) * 100)} pp"


def margin(value: Decimal | None, *, missing: str = DASH) -> str:
    """A score minus a cut line, signed, as many decimals as the scores: '+7.32', '-1.05',
    '0.00' (zero has no sign). `missing` when there is no cut line."""
    if value is None:
        return missing
    if value == 0:
        return str(abs(value))  # no '-0.00'
    return f"+{value}" if value > 0 else str(value)


def figure(value: Decimal | int | None, *, missing: str = DASH) -> str:
    """A figure as it was computed (already rounded), `missing` when there is none."""
    return missing if value is None else str(value)


def _plain_number(value: Decimal) -> str:
    # normalize() drops trailing zeros; ':f' keeps 100 from becoming 1E+2.
    return f"{value.normalize():f}"
