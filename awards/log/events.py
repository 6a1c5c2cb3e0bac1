"""The event catalogue: every kind of event the decision log holds, one constructor each.

No other module builds an event by hand. A constructor returns the event's fields as a plain
dict; awards.log.chain seals it (adds `schema_version`, `seq` and `prev`) into canonical
bytes. This module knows the schema version; a leaf of the log package: it imports only
awards.rules.states.

Versions: 1, the first logs; 2, verdicts carry adjusted scores and their previous value
whole and come only from assigned reviewers, review decisions carry the committee's
aggregate; 3, `cycle_opened` and `survey_imported` name their file by its name alone
(`workflow_file`, `survey_file`) where they held the path it was read from, so a published
log tells nothing of the machine that opened the cycle (the SHA-256 identifies the file),
and `verdict` and `recused` record as `actor` whoever entered them, beside the `reviewer`;
4, ranking compares Thai names in ICU's Thai dictionary order (before: pythainlp's
approximation); 5, a survey import carries the SHA-256 of the agencies as stored
(awards.log.agencies) and a rendering the recipient as printed and the file's size, so that
the tables holding them can be checked against the log; 6, `assigned` and `verdict` carry
the review `round` they belong to, and an award reviewed in several rounds logs the round
on its review decisions, with the rank and cut of the nominations a round's close sends on
(`next_round`) or leaves out; a transition's evidence no longer repeats the SHA-256 of the
workflow and the survey: the chain binds each decision to the `cycle_opened` and latest
`survey_imported` events before it; and a cycle whose rules look back (a gain since an
earlier cycle, earlier winners sitting out) records at its survey import, before the first
nomination, an `earlier_facts` event per earlier cycle: that cycle's id, its log head (seq
and hash) and the facts the rules use (scores per agency, winners per award), so that the
cycle replays from its own log. Older events replay as they were written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from awards.rules.states import nomination_code

SCHEMA_VERSION = 6


class Kind(StrEnum):
    CYCLE_OPENED = "cycle_opened"
    SURVEY_IMPORTED = "survey_imported"
    TRANSITION = "transition"
    REVIEWER_ADDED = "reviewer_added"
    ASSIGNED = "assigned"
    RECUSED = "recused"
    VERDICT = "verdict"
    CHECKPOINT = "checkpoint"
    CERTIFICATE_RENDERED = "certificate_rendered"
    EARLIER_FACTS = "earlier_facts"


def cycle_opened(
    *,
    cycle: str,
    actor: str,
    at: str,
    workflow_sha256: str,
    workflow_file: str,
    awards: Sequence[str],
) -> dict[str, Any]:
    """A cycle opened under the rules of a workflow file: its SHA-256 and its name (no
    folder: where it was on one machine is nobody's business)."""
    return {
        "kind": Kind.CYCLE_OPENED.value,
        "cycle": cycle,
        "actor": actor,
        "at": at,
        "workflow_sha256": workflow_sha256,
        "workflow_file": file_name(workflow_file),
        "awards": list(awards),
    }


def survey_imported(
    *,
    cycle: str,
    actor: str,
    at: str,
    survey_sha256: str,
    survey_file: str,
    agencies: int,
    agencies_sha256: str,
    replaces: str | None,
    workflow_sha256: str,
) -> dict[str, Any]:
    """A survey file imported into a cycle: its SHA-256 and its name (no folder);
    `agencies_sha256` fixes its rows as stored."""
    return {
        "kind": Kind.SURVEY_IMPORTED.value,
        "cycle": cycle,
        "actor": actor,
        "at": at,
        "survey_sha256": survey_sha256,
        "survey_file": file_name(survey_file),
        "agencies": agencies,
        "agencies_sha256": agencies_sha256,
        "replaces": replaces,
        "workflow_sha256": workflow_sha256,
    }


def file_name(path: str) -> str:
    """The name of a file without its folders, whichever separator the path was written with."""
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def transition(
    *,
    cycle: str,
    award: str,
    nominee: str,
    source: str | None,
    dest: str,
    trigger: str,
    actor: str,
    at: str,
    reason: str,
    evidence: Mapping[str, Any],
) -> dict[str, Any]:
    """A nomination's change of state (`source` None for the `nominate` that creates it)."""
    return {
        "kind": Kind.TRANSITION.value,
        "cycle": cycle,
        "award": award,
        "nominee": nominee,
        "nomination": nomination_code(award, nominee),
        "from": source,
        "to": dest,
        "trigger": trigger,
        "actor": actor,
        "at": at,
        "reason": reason,
        "evidence": dict(evidence),
    }


def reviewer_added(
    *,
    cycle: str,
    reviewer: str,
    name: str,
    ministries: Sequence[str],
    provinces: Sequence[str],
    source: str,
    actor: str,
    at: str,
) -> dict[str, Any]:
    return {
        "kind": Kind.REVIEWER_ADDED.value,
        "cycle": cycle,
        "reviewer": reviewer,
        "name": name,
        "ministries": list(ministries),
        "provinces": list(provinces),
        "source": source,
        "actor": actor,
        "at": at,
    }


def assigned(
    *,
    cycle: str,
    award: str,
    nominee: str,
    reviewer: str,
    round: int,
    why: Mapping[str, Any],
    actor: str,
    at: str,
) -> dict[str, Any]:
    """A reviewer's seat on a nomination in review round `round`; `why` is {"by": "assign",
    "per_nomination": K} or {"by": "recusal", "replacing": R}."""
    return {
        "kind": Kind.ASSIGNED.value,
        "cycle": cycle,
        "award": award,
        "nominee": nominee,
        "nomination": nomination_code(award, nominee),
        "reviewer": reviewer,
        "round": round,
        **why,
        "actor": actor,
        "at": at,
    }


def recused(
    *,
    cycle: str,
    award: str,
    nominee: str,
    reviewer: str,
    reason: str,
    was_assigned: bool,
    dropped: Mapping[str, Any] | None,
    replacement: str | None,
    actor: str,
    at: str,
) -> dict[str, Any]:
    return {
        "kind": Kind.RECUSED.value,
        "cycle": cycle,
        "award": award,
        "nominee": nominee,
        "nomination": nomination_code(award, nominee),
        "reviewer": reviewer,
        "reason": reason,
        "was_assigned": was_assigned,
        "dropped": None if dropped is None else dict(dropped),
        "replacement": replacement,
        "actor": actor,
        "at": at,
    }


def verdict(
    *,
    cycle: str,
    award: str,
    nominee: str,
    reviewer: str,
    round: int,
    verdict: str,
    scores: Mapping[str, str],
    note: str,
    previous: Mapping[str, Any] | None,
    source: Mapping[str, Any],
    actor: str,
    at: str,
) -> dict[str, Any]:
    """A reviewer's verdict (approve or reject) in review round `round`, with adjusted scores,
    replacing `previous`; `source` names the sheet it came from ({"sheet": ..., "row": ...})
    or nothing."""
    return {
        "kind": Kind.VERDICT.value,
        "cycle": cycle,
        "award": award,
        "nominee": nominee,
        "nomination": nomination_code(award, nominee),
        "reviewer": reviewer,
        "round": round,
        "verdict": verdict,
        "scores": dict(scores),
        "note": note,
        "previous": None if previous is None else dict(previous),
        **source,
        "actor": actor,
        "at": at,
    }


def checkpoint(
    *,
    cycle: str,
    actor: str,
    at: str,
    size: int,
    root: str,
    head: str,
    frontier: Any,
    public_key: str | None,
    signature: str | None,
) -> dict[str, Any]:
    return {
        "kind": Kind.CHECKPOINT.value,
        "cycle": cycle,
        "actor": actor,
        "at": at,
        "size": size,
        "root": root,
        "head": head,
        "frontier": frontier,
        "public_key": public_key,
        "signature": signature,
    }


def certificate_rendered(
    *,
    cycle: str,
    award: str,
    nominee: str,
    serial: str,
    code: str,
    award_seq: int,
    template: str,
    template_sha256: str,
    pdf_sha256: str,
    size: int,
    file: str,
    pdfa: bool,
    recipient_th: str,
    recipient_en: str,
    actor: str,
    at: str,
) -> dict[str, Any]:
    """A PDF rendered for an awarded nomination: what `awards verify` checks a certificate
    against, down to the recipient's name as printed."""
    return {
        "kind": Kind.CERTIFICATE_RENDERED.value,
        "cycle": cycle,
        "award": award,
        "nominee": nominee,
        "nomination": nomination_code(award, nominee),
        "serial": serial,
        "code": code,
        "award_seq": award_seq,
        "template": template,
        "template_sha256": template_sha256,
        "pdf_sha256": pdf_sha256,
        "size": size,
        "file": file,
        "pdfa": pdfa,
        "recipient_th": recipient_th,
        "recipient_en": recipient_en,
        "actor": actor,
        "at": at,
    }


def earlier_facts(
    *,
    cycle: str,
    actor: str,
    at: str,
    earlier: str,
    earlier_seq: int,
    earlier_head: str,
    scores: Mapping[str, Mapping[str, str]],
    winners: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    """What a cycle's rules take from an earlier cycle, as of that cycle's log event
    `earlier_seq` (SHA-256 `earlier_head`): its agencies' scores by score key ("weighted" or
    a dimension; agency id -> decimal string) and the winners of its awards (sorted ids)."""
    return {
        "kind": Kind.EARLIER_FACTS.value,
        "cycle": cycle,
        "actor": actor,
        "at": at,
        "earlier": earlier,
        "earlier_seq": earlier_seq,
        "earlier_head": earlier_head,
        "scores": {k: dict(sorted(v.items())) for k, v in sorted(scores.items())},
        "winners": {k: sorted(v) for k, v in sorted(winners.items())},
    }
