"""Checks of an award's cross-cycle rules: `gain_since` (rank by the gain since an earlier
cycle) and `sit_out` (earlier winners may not enter).

Earlier cycles are named by id. Whether a named cycle exists is known only where a database
is (the survey import, which records the facts it takes from it); here the ids are checked
for form, and never to be the cycle itself.
"""

from __future__ import annotations

from awards.rules.tomlfile import Table
from awards.rules.workflow import WEIGHTED, SitOut
from awards.rules.workflow_checker import WorkflowChecker

_SIT_OUT_KEYS = ("award", "cycles")
_CYCLE_RULE = (
    r"[A-Za-z0-9][A-Za-z0-9._-]*",
    "cycle id must start with a letter or digit and use only letters, digits, '.', '_' and '-'",
)
_AWARD_RULE = (r"[a-z0-9][a-z0-9-]*", "id must start with a-z or 0-9 and use only a-z, 0-9 and -")


def read_gain_since(c: WorkflowChecker, award: Table, path: str, score: str) -> str | None:
    """The earlier cycle an award's score is a gain since, or None. The gain is of the
    weighted score or one dimension, agency by agency: not of a count, not of a group."""
    if "gain_since" not in award:
        return None
    since = c.text(award, f"{path}.gain_since", *_CYCLE_RULE)
    _not_itself(c, f"{path}.gain_since", since)
    if score != WEIGHTED and score not in c.dimension_keys:
        message = f"a gain is of the weighted score or a dimension, not of '{score}'"
        c.add(f"{path}.score", message, score)
    if "group_by" in award:
        message = "a gain is joined agency by agency: an award with gain_since cannot group_by"
        c.add(f"{path}.group_by", message)
    review = award.get("review")
    if isinstance(review, dict) and review.get("quorum", 0):
        message = (
            "an award ranked by a gain takes no committee review (quorum 0): reviewers adjust "
            "this cycle's scores, not the earlier cycle's"
        )
        c.add(f"{path}.review.quorum", message, review.get("quorum"))
    if "rounds" in award:
        message = (
            "an award ranked by a gain takes no review rounds: reviewers adjust this cycle's "
            "scores, not the earlier cycle's"
        )
        c.add(f"{path}.rounds", message)
    return since or None


def read_sit_out(c: WorkflowChecker, award: Table, path: str) -> SitOut | None:
    """`sit_out = { award = "A", cycles = ["dga-2021", "dga-2022"] }`: the winners of award A
    in each named cycle may not enter."""
    at = f"{path}.sit_out"
    t = c.table(award, at, _SIT_OUT_KEYS)
    if t is None:
        return None
    of = c.text(t, f"{at}.award", *_AWARD_RULE)
    named = c.get(t, f"{at}.cycles", list, required=True)
    if named is not None and not named:
        c.add(f"{at}.cycles", 'name the earlier cycles whose winners sit out, e.g. ["dga-2022"]')
    cycles: list[str] = []
    for i, cycle in enumerate(named or []):
        where = f"{at}.cycles[{i}]"
        if not isinstance(cycle, str) or not cycle.strip():
            c.add(where, "a cycle id expected (a string)", cycle)
        elif cycle in cycles:
            c.add(where, f"cycle '{cycle}' is listed twice; list each cycle once", cycle)
        else:
            _not_itself(c, where, cycle)
            cycles.append(cycle)
    return SitOut(of, tuple(cycles))


def _not_itself(c: WorkflowChecker, path: str, cycle: str) -> None:
    if cycle and cycle == c.cycle_id:
        c.add(path, f"'{cycle}' is this cycle; name an earlier one", cycle)
