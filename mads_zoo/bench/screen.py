"""How each rung's decisions stand against the trivial baseline on validation.

Successive halving cuts combos on their scores. A score at or below what "always N" scores on
the same validation fold says nothing about a combo: cutting it on such a score, or sending
it to the final on one, is a decision made on noise. The planner defers instead (such a combo
trains on at the next rung, :meth:`~mads_zoo.bench.plan.Planner._undecided`), so at every rung
but the last, combos at or below the baseline advance without being ranked.
:func:`rung_decisions` counts, per rung, the combos advanced and cut and how many of them
were at or below the baseline, from the stored trial records alone (a report can recount any
finished run, including those of versions that did not defer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mads_zoo.bench.results import Combo, RunRecord, Stage, TrialRecord
from mads_zoo.data.splits import left_out_classes
from mads_zoo.metrics import Metrics, always_majority


@dataclass(frozen=True)
class RungDecisions:
    """The decision taken after one tuning rung.

    Attributes:
        rung: The tuning rung whose scores decided.
        combos: Combos scored at that rung.
        advanced: Combos that went on (to the next rung, or to the final).
        cut: Combos stopped there.
        advanced_at_baseline: Advanced combos whose score was at or below the baseline
            (deferred, unless this decision chose the finalists).
        cut_at_baseline: Cut combos whose score was at or below the baseline.
        to_final: Whether this decision chose the finalists.
    """

    rung: int
    combos: int
    advanced: int
    cut: int
    advanced_at_baseline: int
    cut_at_baseline: int
    to_final: bool = False

    @property
    def on_noise(self) -> int:
        """Decisions that rested on a score at or below the baseline.

        Every such cut, and every such combo sent to the final; advancing one to a further
        tuning rung defers the decision, it takes none.
        """
        return self.cut_at_baseline + (self.advanced_at_baseline if self.to_final else 0)


def baseline_score(run: RunRecord) -> float:
    """The budget's metric of "always N" on the run's validation fold."""
    counts = run.class_counts.val
    classes = tuple(counts)
    matrix = always_majority([counts[c] for c in classes])
    metrics = Metrics.of_matrix(matrix, classes, left_out=left_out_classes(run.data.split, classes))
    return metrics.value(run.budget.metric)


def _scores(trials: Sequence[TrialRecord], rung: int) -> dict[Combo, float | None]:
    """Each combo's score at tuning rung ``rung`` (its best trial there; ``None``: failed)."""
    scores: dict[Combo, float | None] = {}
    for t in trials:
        if t.spec.stage is Stage.TUNE and t.spec.rung == rung:
            best = scores.get(t.spec.combo)
            if t.score is not None and (best is None or t.score > best):
                scores[t.spec.combo] = t.score
            else:
                scores.setdefault(t.spec.combo, best)
    return scores


def rung_decisions(run: RunRecord, trials: Sequence[TrialRecord]) -> list[RungDecisions]:
    """One :class:`RungDecisions` per tuning rung whose decision was taken (in rung order)."""
    baseline = baseline_score(run)
    finals = {t.spec.combo for t in trials if t.spec.stage is Stage.FINAL}
    rungs = sorted({t.spec.rung for t in trials if t.spec.stage is Stage.TUNE})
    decisions = []
    for rung in rungs:
        scores = _scores(trials, rung)
        to_final = rung + 1 not in rungs
        later = finals if to_final else set(_scores(trials, rung + 1))
        if not later:
            continue  # the run stopped before this rung's decision
        at_baseline = {c for c, s in scores.items() if s is None or s <= baseline}
        went_on = set(scores) & later
        stopped = set(scores) - later
        decisions.append(
            RungDecisions(
                rung=rung,
                combos=len(scores),
                advanced=len(went_on),
                cut=len(stopped),
                advanced_at_baseline=len(went_on & at_baseline),
                cut_at_baseline=len(stopped & at_baseline),
                to_final=to_final,
            )
        )
    return decisions


def decisions_table(decisions: Sequence[RungDecisions], baseline: float, metric: str) -> str:
    """Markdown: per rung, combos advanced and cut, and those decided at or below baseline."""
    lines = [
        f"Baseline: \"always N\" scores {baseline:.4f} validation {metric}. A combo at or "
        "below it is deferred (it trains on at the next rung, unranked); a cut at or below it, "
        "or a finalist chosen at or below it, is a decision on noise: the target is none.",
        "",
        "| rung | to | combos | advanced | cut | advanced at or below baseline | cut at or "
        "below baseline | decisions on noise |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for d in decisions:
        to = "final" if d.to_final else f"rung {d.rung + 1}"
        lines.append(
            f"| {d.rung} | {to} | {d.combos} | {d.advanced} | {d.cut} | "
            f"{d.advanced_at_baseline} | {d.cut_at_baseline} | {d.on_noise} |"
        )
    return "\n".join(lines)
