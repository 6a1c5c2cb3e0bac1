"""Checks of a workflow file's [[awards]] tables into Award rules.

Each award's pool, grouping, cuts, review and tie-breaks are read with the checker that
already knows the dimension keys and flags the file declares, so a rule naming an undeclared
one is reported at its own key.
"""

from __future__ import annotations

from decimal import Decimal

from awards.rules.tomlfile import Names, Table, key_of, suggest
from awards.rules.workflow import (
    AGGREGATES,
    APPROVALS,
    KINDS,
    NAME_KEYS,
    RANK_BY,
    TIES,
    UNIQUE_KEY,
    WEIGHTED,
    Award,
    Cut,
    GroupBy,
    Pool,
    Quota,
    Review,
    Tier,
)
from awards.rules.workflow_checker import WorkflowChecker

# The keys each table may hold; anything else is reported with the closest known key.
_AWARD_KEYS = (
    "id", "code", "title_th", "title_en", "kind", "template", "score", "tie_break",
    "reason_th", "reason_en", "pool", "group_by", "shortlist", "winners", "review",
    "segment_by", "quota", "tiers", "ties", "rounds", "panel",
)  # fmt: skip
_POOL_KEYS = ("level", "responded", "flags", "min", "max", "where")
_QUOTA_KEYS = ("field", "max")
_TIER_KEYS = ("key", "title_th", "title_en", "min", "max")
_TIER_RULE = (r"[a-z][a-z0-9_-]*", "tier key must start with a-z and use only a-z, 0-9, _ and -")
_GROUP_KEYS = ("field", "min_members")
_CUT_KEYS = ("top", "threshold")
_REVIEW_KEYS = ("quorum", "approval", "aggregate", "rank_by", "panel")
_ROUND_KEYS = (*_REVIEW_KEYS, "cut")
_ID_RULE = (r"[a-z0-9][a-z0-9-]*", "id must start with a-z or 0-9 and use only a-z, 0-9 and -")
_CODE_RULE = (r"[A-Z0-9]{2,8}", "code must be 2 to 8 capital letters or digits")


def read_awards(c: WorkflowChecker, doc: Table) -> tuple[Award, ...]:
    """The [[awards]], ids and codes unique across them."""
    awards = []
    seen: dict[str, dict[str, str]] = {"id": {}, "code": {}}  # key -> value -> award path
    for path, item in c.tables(doc, "awards", _AWARD_KEYS):
        award = _award(c, item, path)
        for key, value in (("id", award.id), ("code", award.code)):
            if value in seen[key]:
                message = (
                    f"{key} '{value}' is used by both {seen[key][value]} and {path}; make it unique"
                )
                c.add(f"{path}.{key}", message, value)
            elif value:
                seen[key][value] = path
        awards.append(award)
    return tuple(awards)


def _award(c: WorkflowChecker, t: Table, path: str) -> Award:
    """One [[awards]] table; an absent shortlist is the winners cut itself."""
    score = c.get(t, f"{path}.score", str)
    score = WEIGHTED if score is None else score
    scores = (WEIGHTED, *c.dimension_keys, *c.count_fields)
    if score not in scores:
        hint = suggest(score, scores)
        message = f"unknown score '{score}': a dimension, 'weighted' or a count field; {hint}"
        c.add(f"{path}.score", message, score)
    winners = _cut(c, t, f"{path}.winners", required=True) or Cut()
    shortlist = _cut(c, t, f"{path}.shortlist")
    if shortlist is not None:
        _check_cuts(c, shortlist, winners, f"{path}.shortlist")
    panel = _panel(c, t, f"{path}.panel")
    rounds = _rounds(c, t, path, panel)
    review = rounds[-1] if rounds else _review(c, t, f"{path}.review", panel)
    return Award(
        id=c.text(t, f"{path}.id", *_ID_RULE),
        code=c.text(t, f"{path}.code", *_CODE_RULE),
        title_th=c.text(t, f"{path}.title_th"),
        title_en=c.text(t, f"{path}.title_en"),
        kind=c.choice(t, f"{path}.kind", KINDS, required=True) or "",
        template=c.text(t, f"{path}.template"),
        pool=_pool(c, t, f"{path}.pool"),
        group_by=_group_by(c, t, f"{path}.group_by"),
        score=score,
        shortlist=winners if shortlist is None else shortlist,
        winners=winners,
        review=review,
        tie_break=_tie_break(c, t, f"{path}.tie_break"),
        reason_th=c.get(t, f"{path}.reason_th", str) or "",
        reason_en=c.get(t, f"{path}.reason_en", str) or "",
        segment_by=_text_field(c, t, f"{path}.segment_by"),
        quota=_quota(c, t, f"{path}.quota"),
        tiers=_tiers(c, t, f"{path}.tiers"),
        ties=c.choice(t, f"{path}.ties", TIES) or "chain",
        rounds=rounds,
    )


def _pool(c: WorkflowChecker, award: Table, path: str) -> Pool:
    t = c.table(award, path, _POOL_KEYS)
    if t is None:
        return Pool()
    level = c.choice(t, f"{path}.level", c.level_keys)
    responded = c.get(t, f"{path}.responded", bool)
    flags: dict[str, bool] = {}
    wanted = c.get(t, f"{path}.flags", dict) or {}
    for flag in wanted:
        if flag not in c.flags:
            c.add(f"{path}.flags.{flag}", f"unknown flag '{flag}'; declare it in [survey] flags")
        elif (value := c.get(wanted, f"{path}.flags.{flag}", bool)) is not None:
            flags[flag] = value
    bounds: dict[str, dict[str, Decimal]] = {"min": {}, "max": {}}
    for bound, found in bounds.items():
        table = c.get(t, f"{path}.{bound}", dict) or {}
        for key in table:
            if key not in c.dimension_keys:
                hint = suggest(key, c.dimension_keys)
                c.add(f"{path}.{bound}.{key}", f"unknown dimension '{key}'; {hint}")
            elif (number := c.percent(table, f"{path}.{bound}.{key}")) is not None:
                found[key] = number
    for key, low in bounds["min"].items():
        if key in bounds["max"] and low > (high := bounds["max"][key]):
            message = f"min {low} is above max {high} for '{key}'; lower min or raise max"
            c.add(f"{path}.min.{key}", message, low)
    return Pool(
        level, True if responded is None else responded, flags, bounds["min"], bounds["max"],
        _where(c, t, f"{path}.where"),
    )  # fmt: skip


def _where(c: WorkflowChecker, pool: Table, path: str) -> dict[str, tuple[str, ...]]:
    """Field filters: `{ agency_type = "state_enterprise" }` (equals) or a list (one of)."""
    where: dict[str, tuple[str, ...]] = {}
    for key, wanted in (c.get(pool, path, dict) or {}).items():
        at = f"{path}.{key}"
        if key not in c.text_fields:
            c.add(at, f"unknown field '{key}'; {suggest(key, c.text_fields)}", key)
            continue
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values or not all(isinstance(v, str) and v.strip() for v in values):
            c.add(at, "a value or a list of values expected (strings)", wanted)
            continue
        allowed = _allowed(c, key)
        for value in values:
            if allowed and value not in allowed:
                c.add(at, f"'{value}' is not a value of '{key}'; {suggest(value, allowed)}", value)
        where[key] = tuple(values)
    return where


def _allowed(c: WorkflowChecker, key: str) -> tuple[str, ...]:
    """The values a text field may take, when they are known (levels, declared values)."""
    if key == "level":
        return c.level_keys
    field = c.field(key)
    return () if field is None else field.values


def _text_field(c: WorkflowChecker, award: Table, path: str) -> str | None:
    key = c.get(award, path, str)
    if key is not None and key not in c.text_fields:
        c.add(path, f"unknown field '{key}'; {suggest(key, c.text_fields)}", key)
        return None
    return key


def _quota(c: WorkflowChecker, award: Table, path: str) -> Quota | None:
    t = c.table(award, path, _QUOTA_KEYS)
    if t is None:
        return None
    field = c.get(t, f"{path}.field", str, required=True)
    if field is not None and field not in c.text_fields:
        c.add(f"{path}.field", f"unknown field '{field}'; {suggest(field, c.text_fields)}", field)
    return Quota(field or "", c.integer(t, f"{path}.max", 1) or 1)


def _tiers(c: WorkflowChecker, award: Table, path: str) -> tuple[Tier, ...]:
    """Named bands by score, each [min, max); no two may overlap, so a winner has one."""
    if key_of(path) not in award:
        return ()
    tiers: list[Tier] = []
    for at, item in c.tables(award, key_of(path), _TIER_KEYS, under=path.rsplit(".", 1)[0]):
        key = c.text(item, f"{at}.key", *_TIER_RULE)
        low = c.number(item, f"{at}.min", required=True)
        high = c.number(item, f"{at}.max")
        if low is not None and high is not None and high <= low:
            c.add(f"{at}.max", f"max {high} must be above min {low}", high)
            continue
        if key in {tier.key for tier in tiers}:
            c.add(f"{at}.key", f"tier '{key}' is declared twice; name each tier once", key)
            continue
        tier = Tier(key, c.text(item, f"{at}.title_th"), c.text(item, f"{at}.title_en"),
                    low if low is not None else Decimal(0), high)  # fmt: skip
        for other in tiers:
            if _overlap(tier, other):
                message = (
                    f"tier '{key}' overlaps tier '{other.key}'; a winner must fall in one band"
                )
                c.add(f"{at}.min", message, str(low))
        tiers.append(tier)
    return tuple(tiers)


def _overlap(a: Tier, b: Tier) -> bool:
    a_high = a.max if a.max is not None else Decimal("Infinity")
    b_high = b.max if b.max is not None else Decimal("Infinity")
    return a.min < b_high and b.min < a_high


def _group_by(c: WorkflowChecker, award: Table, path: str) -> GroupBy | None:
    t = c.table(award, path, _GROUP_KEYS)
    if t is None:
        return None
    group_field = c.choice(t, f"{path}.field", c.text_fields[1:], required=True) or ""
    return GroupBy(group_field, c.integer(t, f"{path}.min_members", 1) or 1)


def _cut(c: WorkflowChecker, award: Table, path: str, required: bool = False) -> Cut | None:
    t = c.table(award, path, _CUT_KEYS, required)
    if t is None:
        return None
    if "top" not in t and "threshold" not in t:
        c.add(path, f"{key_of(path)} keeps no one; give it top, threshold or both")
    return Cut(c.integer(t, f"{path}.top", 1), c.percent(t, f"{path}.threshold"))


def _check_cuts(c: WorkflowChecker, shortlist: Cut, winners: Cut, path: str) -> None:
    """Winners are chosen from the shortlist, so the shortlist must not be the stricter cut."""
    if shortlist.top is not None and winners.top is not None and shortlist.top < winners.top:
        message = (
            f"shortlist keeps {shortlist.top} but winners wants {winners.top}: "
            "the shortlist must keep at least as many as win"
        )
        c.add(f"{path}.top", message, shortlist.top)
    low, high = winners.threshold, shortlist.threshold
    if low is not None and high is not None and high > low:
        message = (
            f"shortlist threshold {high} is above winners threshold {low}: "
            "the shortlist must not be stricter than the winners"
        )
        c.add(f"{path}.threshold", message, high)


def _review(c: WorkflowChecker, award: Table, path: str, panel: tuple[str, ...] = ()) -> Review:
    t = c.table(award, path, _REVIEW_KEYS)
    if t is None:
        return Review()
    return _rule(c, t, path, panel)


def _rule(c: WorkflowChecker, t: Table, path: str, panel: tuple[str, ...]) -> Review:
    """A review's (or a round's) quorum, approval, aggregate, rank_by and panel; without a
    panel of its own, the award's."""
    quorum = c.integer(t, f"{path}.quorum", 0) or 0
    rank_by = c.choice(t, f"{path}.rank_by", RANK_BY) or "survey"
    if rank_by == "reviewed" and quorum == 0:
        message = 'rank_by = "reviewed" needs a committee: set quorum to at least 1'
        c.add(f"{path}.rank_by", message, rank_by)
    if "panel" in t:
        panel = _panel(c, t, f"{path}.panel")
    if panel and quorum > len(panel):
        message = f"a panel of {len(panel)} cannot meet quorum {quorum}; name more reviewers or lower the quorum"
        c.add(f"{path}.quorum", message, quorum)
    return Review(
        quorum,
        c.choice(t, f"{path}.approval", APPROVALS) or "majority",
        c.choice(t, f"{path}.aggregate", AGGREGATES) or "mean",
        rank_by,
        panel,
    )


def _panel(c: WorkflowChecker, table: Table, path: str) -> tuple[str, ...]:
    """Reviewer ids declared in [[reviewers]], each once."""
    if key_of(path) not in table:
        return ()
    items = c.get(table, path, list)
    if items is None:
        return ()
    if not items:
        c.add(path, "the panel is empty; name its reviewers by id, or leave panel out", items)
    panel: list[str] = []
    for i, rid in enumerate(items):
        at = f"{path}[{i}]"
        if not isinstance(rid, str):
            c.add(at, "a reviewer id (string) expected", rid)
        elif rid not in c.reviewer_ids:
            hint = suggest(rid, c.reviewer_ids) if c.reviewer_ids else "declare it there first"
            c.add(at, f"no reviewer '{rid}' in [[reviewers]]; {hint}", rid)
        elif rid in panel:
            c.add(at, f"reviewer '{rid}' is named twice; name each reviewer once", rid)
        else:
            panel.append(rid)
    return tuple(panel)


def _rounds(
    c: WorkflowChecker, award: Table, path: str, panel: tuple[str, ...]
) -> tuple[Review, ...]:
    """[[awards.rounds]] in order, each a review with its own panel and quorum; every round but
    the last has a cut (who goes on), the last feeds the award stage like a single review."""
    if "rounds" not in award:
        return ()
    if "review" in award:
        message = "declare the committee as [awards.review] or as [[awards.rounds]], not both"
        c.add(f"{path}.review", message)
    found = c.tables(award, "rounds", _ROUND_KEYS, under=path)
    rounds: list[Review] = []
    for number, (at, item) in enumerate(found, start=1):
        rule = _rule(c, item, at, panel)
        if rule.quorum == 0:
            c.add(
                f"{at}.quorum",
                "a round needs a committee: set quorum to at least 1",
                item.get("quorum"),
            )
        cut = _cut(c, item, f"{at}.cut")
        if number < len(found) and cut is None:
            message = f"round {number} needs a cut: who goes on to round {number + 1} (top, threshold or both)"
            c.add(at, message)
        if number == len(found) and cut is not None:
            message = "the last round's outcome goes to the award stage; remove its cut (the winners cut decides)"
            c.add(f"{at}.cut", message)
            cut = None
        rounds.append(
            Review(rule.quorum, rule.approval, rule.aggregate, rule.rank_by, rule.panel, cut)
        )
    return tuple(rounds)


def _tie_break(c: WorkflowChecker, award: Table, path: str) -> Names:
    """Tie-break keys, ending with the unique key so ranking never depends on row order."""
    items = c.get(award, path, list, required=True)
    if not items:
        if items is not None:
            c.add(path, 'tie_break is empty; list the keys that break ties, ending with "id"')
        return ()
    allowed = (*c.dimension_keys, "score", *NAME_KEYS, UNIQUE_KEY)
    keys: list[str] = []
    for i, key in enumerate(items):
        if not isinstance(key, str):
            c.add(f"{path}[{i}]", "string expected", key)
        elif key not in allowed:
            c.add(f"{path}[{i}]", f"unknown tie-break key '{key}'; {suggest(key, allowed)}", key)
        elif key in keys:
            c.add(f"{path}[{i}]", f"tie-break key '{key}' is repeated; list each key once", key)
        else:
            keys.append(key)
    if items[-1] != UNIQUE_KEY:
        message = (
            "tie_break must end with 'id', the unique nominee key, so ranking never depends "
            'on row order; add "id" at the end'
        )
        c.add(path, message, items)
    return tuple(keys)
