"""Weight sensitivity: would the winners change if one dimension weighed a little more or less?

Pure functions, like the rules themselves: each perturbation is a copy of the workflow with
other weights (`dataclasses.replace`), and the selection under it is made by the stage
pipeline that makes the decisions (awards.rules.stages). No database, no clock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from awards.rules.earlier import Earlier
from awards.rules.scoring import candidates
from awards.rules.stages import Stage, decide
from awards.rules.survey import Agency
from awards.rules.workflow import WEIGHTED, Award, Cut, Workflow

STEP = Decimal("0.05")  # five percentage points
_PLACES = Decimal("1e-12")


@dataclass(frozen=True)
class Selection:
    """Who the rules pick: nominee ids in rank order, and each cut's line."""

    shortlist: tuple[str, ...]
    winners: tuple[str, ...]
    shortlist_line: Decimal | None
    winners_line: Decimal | None


@dataclass(frozen=True)
class Perturbation:
    """One dimension's weight moved by `delta`, the others scaled to keep the sum."""

    dimension: str
    delta: Decimal
    weights: tuple[Decimal, ...] | None  # None: the weight would leave 0..1
    winners: tuple[str, ...] = ()
    entered: tuple[str, ...] = ()  # winners under these weights who are not winners now
    left: tuple[str, ...] = ()  # winners now who are not under these weights
    # Entered from outside today's shortlist, so the committee never reviewed them.
    unreviewed: tuple[str, ...] = ()

    @property
    def possible(self) -> bool:
        return self.weights is not None

    @property
    def changed(self) -> bool:
        return bool(self.entered or self.left)


@dataclass(frozen=True)
class Sensitivity:
    """The weight sensitivity of one award. `note` says why nothing was perturbed, if so."""

    award: str
    baseline: Selection | None
    perturbations: tuple[Perturbation, ...]
    note: str = ""

    @property
    def stable(self) -> bool:
        """Whether no perturbation changes the winners."""
        return not any(p.changed for p in self.perturbations)


def perturbed_weights(
    weights: Sequence[Decimal], index: int, delta: Decimal
) -> tuple[Decimal, ...] | None:
    """The weights with weight `index` moved by `delta` and the others scaled in proportion,
    so that they still add up to what they did; None when the moved weight would leave
    0..total or no other weight could take up the change.

    The scaled weights are rounded half-up to 12 decimals and the largest of them takes the
    remainder, so the moved weight is exact and so is the sum (the others are off by less
    than 1e-11, which no score rounded to a few decimals notices).
    """
    total = sum(weights, Decimal(0))
    moved = weights[index] + delta
    rest = total - weights[index]
    if moved < 0 or moved > total or rest == 0:
        return None
    scale = (total - moved) / rest
    out = [(w * scale).quantize(_PLACES, ROUND_HALF_UP) for w in weights]
    out[index] = moved
    largest = max((i for i in range(len(out)) if i != index), key=lambda i: out[i])
    out[largest] += total - sum(out, Decimal(0))
    return tuple(out)


def with_weights(workflow: Workflow, weights: Sequence[Decimal]) -> Workflow:
    """A copy of the workflow whose dimensions carry these weights."""
    dims = tuple(replace(d, weight=w) for d, w in zip(workflow.dimensions, weights, strict=True))
    return replace(workflow, dimensions=dims)


def select(
    workflow: Workflow,
    award: Award,
    agencies: Iterable[Agency],
    removed: Collection[str] = frozenset(),
    earlier: Earlier | None = None,
) -> Selection:
    """What the rules select from the survey: the shortlist cut over every candidate, then the
    winners cut over those shortlisted that no person took out (`removed`: nominee ids that
    were rejected, withdrawn or revoked). The committee is taken to approve everyone else."""
    pooled = candidates(workflow, award, agencies, earlier)
    shortlist = decide(Stage.SHORTLIST, workflow, award, pooled)
    kept = [r.candidate for r in shortlist.kept if r.candidate.nominee_id not in removed]
    won = decide(Stage.AWARD, workflow, award, kept)
    return Selection(
        tuple(r.candidate.nominee_id for r in shortlist.kept),
        tuple(r.candidate.nominee_id for r in won.kept),
        shortlist.line,
        won.line,
    )


def _keeps_everyone(cut: Cut) -> bool:
    return cut.top is None and cut.threshold is None


def sensitivity(
    workflow: Workflow,
    award: Award,
    agencies: Sequence[Agency],
    removed: Collection[str] = frozenset(),
    step: Decimal = STEP,
    earlier: Earlier | None = None,
) -> Sensitivity:
    """Move each dimension's weight by +step and -step in turn and select again.

    An award ranked by one dimension does not depend on the weights, one whose cuts keep
    every nominee has no place to lose, and one whose winners are ranked by the committee's
    scores is not decided by the survey ranking alone: each is reported with a note instead.
    `earlier` holds the facts of the earlier cycles the award's rules read (a gain's earlier
    score stays as logged while this cycle's weights move).
    """
    if award.score != WEIGHTED:
        note = f"ranked by the single dimension '{award.score}': the weights do not change it"
        return Sensitivity(award.id, None, (), note)
    if _keeps_everyone(award.shortlist) and _keeps_everyone(award.winners):
        return Sensitivity(award.id, None, (), "no ranking cut: every nominee is selected")
    if getattr(award.review, "rank_by", "survey") != "survey":
        note = (
            "the winners are ranked by the committee's reviewed scores, not the survey's: "
            "re-ranking the survey would not re-derive them"
        )
        return Sensitivity(award.id, None, (), note)
    baseline = select(workflow, award, agencies, removed, earlier)
    weights = tuple(d.weight for d in workflow.dimensions)
    on_shortlist = set(baseline.shortlist)
    reviewed = award.review.required
    now = set(baseline.winners)
    out = []
    for i, dim in enumerate(workflow.dimensions):
        for delta in (step, -step):
            moved = perturbed_weights(weights, i, delta)
            if moved is None:
                out.append(Perturbation(dim.key, delta, None))
                continue
            picked = select(with_weights(workflow, moved), award, agencies, removed, earlier)
            then = set(picked.winners)
            entered = tuple(n for n in picked.winners if n not in now)
            left = tuple(n for n in baseline.winners if n not in then)
            unreviewed = tuple(n for n in entered if n not in on_shortlist and reviewed)
            out.append(
                Perturbation(dim.key, delta, moved, picked.winners, entered, left, unreviewed)
            )
    return Sensitivity(award.id, baseline, tuple(out))
