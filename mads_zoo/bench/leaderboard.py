"""The leaderboard: one typed row per combo and per baseline, and the columns that show them.

Ranking follows the run's one metric on **validation**: finalists by their mean over the
final seeds (the first is the run's selected model), then combos stopped by successive
halving (deeper rung first, then their score at that rung), then failed combos. Test numbers
are shown for finalists only, as mean ± seed spread (the 95% interval over the final seeds,
``(no CI)`` with one seed); they never decide a rank. Every leaderboard ends with two
baselines on the same test fold ("always N", "class-prior guess": :mod:`mads_zoo.metrics`).

Rows hold numbers (:class:`~mads_zoo.stats.Summary`), never rendered text; :data:`COLUMNS`
renders them, in full (``leaderboard.md``, with CIs) or compact (the terminal, means only).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from mads_zoo.bench.results import ComboResult, Outcome, RunRecord
from mads_zoo.data.splits import left_out_classes
from mads_zoo.metrics import Metrics, always_majority, prior_guess
from mads_zoo.stats import Summary


class Versus(StrEnum):
    """How a finalist's validation score stands against the selected model's, seed by seed.

    Finalists share their seeds (:func:`~mads_zoo.bench.plan.final_seed`), so the comparison
    is paired: the 95% Student-t interval of the per-seed differences either includes 0
    (``tied``) or not (``below``); with fewer than two seeds in common there is no interval.
    """

    TIED = "tied (paired)"
    BELOW = "below (paired)"
    NO_CI = "no CI (< 2 paired seeds)"


def paired_difference(result: ComboResult, leader: ComboResult) -> Summary | None:
    """The leader's validation score minus ``result``'s, over the final seeds both completed."""
    if result.val is None or leader.val is None:
        return None
    mine = dict(zip(result.final_seeds, result.val.values, strict=False))
    theirs = dict(zip(leader.final_seeds, leader.val.values, strict=False))
    return Summary.of(theirs[k] - mine[k] for k in sorted(mine.keys() & theirs.keys()))


def versus(result: ComboResult, leader: ComboResult) -> Versus:
    """How ``result`` stands against the selected model ``leader`` (see :class:`Versus`)."""
    difference = paired_difference(result, leader)
    if difference is None or not difference.has_ci:
        return Versus.NO_CI
    low, high = difference.bounds()
    return Versus.TIED if low <= 0 <= high else Versus.BELOW


@dataclass(frozen=True)
class Reached:
    """Where a row got to: ``final`` (with its seeds), ``rung N``, ``failed`` or ``-``."""

    label: str
    seeds: int | None = None

    def describe(self, compact: bool = False) -> str:
        """``"final (3 seeds)"``; just ``"final"`` when ``compact``."""
        if self.seeds is None or compact:
            return self.label
        return f"{self.label} ({self.seeds} seeds)"


@dataclass(frozen=True)
class LeaderboardRow:
    """One line of the leaderboard: a combo's result, or a baseline's figures."""

    architecture: str
    strategy: str
    reached: Reached
    rank: int | None = None
    selected: bool = False
    score: Summary | None = None
    versus: Versus | None = None
    test_accuracy: Summary | None = None
    test_macro_f1: Summary | None = None
    test_macro_recall: Summary | None = None
    recall: Mapping[str, float] = field(default_factory=dict)
    params: int | None = None
    runs: int | None = None
    failed_runs: int | None = None
    error: str | None = None
    one_seed: bool = False


def ranked(results: Sequence[ComboResult]) -> list[ComboResult]:
    """``results`` in leaderboard order (see the module docstring)."""
    order = {Outcome.SELECTED: 0, Outcome.FINALIST: 0, Outcome.STOPPED: 1, Outcome.FAILED: 2}
    return sorted(
        results,
        key=lambda r: (order[r.outcome], -r.rung, -(r.score if r.score is not None else -1)),
    )


def _reached(r: ComboResult) -> Reached:
    if r.outcome is Outcome.FAILED:
        return Reached("failed")
    if r.outcome.final and r.val is not None:
        return Reached("final", len(r.val.values))
    return Reached(f"rung {r.rung}")


def selection_score(r: ComboResult) -> Summary | None:
    """The metric a combo was ranked on: over the final seeds, else its one run at a rung."""
    if r.val is not None:
        return r.val
    return Summary.of([r.score]) if r.score is not None else None


def combo_row(r: ComboResult, rank: int | None, leader: ComboResult | None) -> LeaderboardRow:
    """The row of one combo's result; ``leader`` is the selected model's (for ties)."""
    against = None
    if leader is not None and r is not leader and r.val is not None:
        against = versus(r, leader)
    finals = r.test
    return LeaderboardRow(
        architecture=r.combo.architecture,
        strategy=r.combo.strategy,
        reached=_reached(r),
        rank=rank,
        selected=r.outcome is Outcome.SELECTED,
        score=selection_score(r),
        versus=against,
        one_seed=r.outcome.final and len(finals) == 1,
        test_accuracy=r.test_summary("accuracy") if finals else None,
        test_macro_f1=r.test_summary("macro_f1") if finals else None,
        test_macro_recall=r.test_summary("macro_recall") if finals else None,
        recall=_mean_recall(finals),
        params=r.params,
        runs=r.trials,
        failed_runs=r.failed_trials,
        error=r.error[:80] if r.error else None,
    )


def _mean_recall(seeds: tuple[Metrics, ...]) -> dict[str, float]:
    """Each class's test recall, averaged over the final seeds (none for a non-finalist)."""
    if not seeds:
        return {}
    return {c: Summary.of(m.per_class[c].recall for m in seeds).mean for c in seeds[0].classes}


def leaderboard_rows(results: Sequence[ComboResult]) -> list[LeaderboardRow]:
    """One row per combo, best first.

    Only finalists get a numeric rank: a combo stopped at a rung has one run's score, which
    ranks nothing (its row keeps its place in the order, rung first, without a number). Every
    other finalist is compared with the selected model seed by seed (:class:`Versus`):
    ``tied`` when the paired differences do not separate them, whatever their order.
    """
    order = ranked(results)
    leader = next((r for r in order if r.outcome is Outcome.SELECTED and r.val), None)
    rows = []
    for rank, r in enumerate(order, 1):
        rows.append(combo_row(r, rank if r.outcome.final else None, leader))
    return rows


def baseline_metrics(run: RunRecord) -> dict[str, Metrics]:
    """The baselines on the run's test fold: "always N" and "prior guess".

    The prior guess draws each beat's class from the training fold's class frequencies; its
    figures are those of the expected confusion matrix. Q is left out of the averages on the
    inter split, as for the models.
    """
    counts = run.class_counts
    classes = list(counts.test)
    test = [counts.test[c] for c in classes]
    left_out = left_out_classes(run.data.split, tuple(classes))
    guesses = {
        "always " + classes[0]: always_majority(test),
        "prior guess": prior_guess(test, [counts.train[c] for c in classes]),
    }
    return {
        name: Metrics.of_matrix(matrix, classes, left_out=left_out)
        for name, matrix in guesses.items()
    }


def baseline_rows(run: RunRecord) -> list[LeaderboardRow]:
    """One row per baseline (:func:`baseline_metrics`), test figures only."""
    return [
        LeaderboardRow(
            architecture="baseline",
            strategy=name,
            reached=Reached("-"),
            test_accuracy=Summary.of([m.accuracy]),
            test_macro_f1=Summary.of([m.macro_f1]),
            test_macro_recall=Summary.of([m.macro_recall]),
        )
        for name, m in baseline_metrics(run).items()
    ]


Cell = str | Summary | None


def cell_text(cell: Cell, compact: bool = False, one_seed: bool = False) -> str:
    """A cell as text: a summary as ``mean ± CI`` (the mean alone when ``compact``).

    ``one_seed``: the row is a finalist with one seed, whose figures say ``(no CI)`` in full.
    """
    if cell is None:
        return ""
    if isinstance(cell, Summary):
        text = cell.describe(ci=not compact)
        return text + " (no CI)" if one_seed and not compact and not cell.has_ci else text
    return cell


@dataclass(frozen=True)
class Column:
    """A leaderboard column: its titles, how a row fills it, where it is shown."""

    title: str
    cell: Callable[[LeaderboardRow, bool], Cell]
    short: str = ""
    left: bool = False
    terminal: bool = True
    wide_only: bool = False

    def header(self, compact: bool) -> str:
        """The column's title (its short two-line form in narrow terminals)."""
        return self.short if compact and self.short else self.title


def _architecture(row: LeaderboardRow, compact: bool) -> Cell:
    return row.architecture + (" *" if row.selected else "")


def _number(value: float | int | None, spec: str) -> Cell:
    return None if value is None else format(value, spec)


def leaderboard_columns(metric: str, classes: Sequence[str]) -> list[Column]:
    """The leaderboard's columns for a run that selects on ``metric``, over ``classes``."""
    columns = [
        Column("rank", lambda r, c: _number(r.rank, "d") if r.rank else "-", short="#"),
        Column("architecture", _architecture, left=True),
        Column("strategy", lambda r, c: r.strategy, left=True),
        Column("reached", lambda r, c: r.reached.describe(c)),
        Column(f"val {metric}", lambda r, c: r.score, short=f"val\n{metric.replace('_', ' ')}"),
        Column("vs selected", lambda r, c: r.versus.value if r.versus else None, terminal=False),
        Column("test accuracy", lambda r, c: r.test_accuracy, short="test\nacc."),
        Column("test macro F1", lambda r, c: r.test_macro_f1, short="test\nmacro F1"),
        Column("test macro recall", lambda r, c: r.test_macro_recall, terminal=False),
    ]
    for name in classes:
        columns.append(Column(f"recall {name}", _recall_of(name), terminal=False))
    columns += [
        Column("params", lambda r, c: _number(r.params, ","), terminal=False),
        Column("runs (failed)", _runs, terminal=False),
        Column("error", lambda r, c: r.error, wide_only=True),
    ]
    return columns


def _recall_of(name: str) -> Callable[[LeaderboardRow, bool], Cell]:
    return lambda row, compact: _number(row.recall.get(name), ".3f")


def _runs(row: LeaderboardRow, compact: bool) -> Cell:
    return None if row.runs is None else f"{row.runs} ({row.failed_runs})"


def table_cells(
    rows: Sequence[LeaderboardRow], columns: Sequence[Column], compact: bool = False
) -> tuple[list[Column], list[list[str]]]:
    """The columns any row fills, and each row's cells as text."""
    filled = [c for c in columns if any(c.cell(r, compact) is not None for r in rows)]
    return filled, [
        [cell_text(c.cell(r, compact), compact, r.one_seed) for c in filled] for r in rows
    ]


def markdown_table(rows: Sequence[LeaderboardRow], columns: Sequence[Column]) -> str:
    """A GitHub-flavoured markdown table of ``rows`` (every column, CIs included)."""
    shown, cells = table_cells(rows, columns)
    lines = ["| " + " | ".join(c.title for c in shown) + " |", "|" + "---|" * len(shown)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)
