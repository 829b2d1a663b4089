"""Render a bench run from its stored results: leaderboard, AAMI tables, trial tables, plots.

``leaderboard.md`` and ``leaderboard.html`` (the same content), ``trials.parquet``/``.csv`` and
``plots/``; ``mads-zoo report RUN_DIR`` calls :func:`render_report` again at any time. Rows
and columns come from :mod:`mads_zoo.bench.leaderboard`; each finalist also gets an AAMI table
(Se, +P, FPR, F1 per class, mean ± CI over its seeds; Q left out of the averages on the inter
split).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mads_zoo.bench import figures
from mads_zoo.bench.leaderboard import (
    LeaderboardRow,
    baseline_rows,
    leaderboard_columns,
    leaderboard_rows,
    markdown_table,
    ranked,
)
from mads_zoo.bench.page import leaderboard_page
from mads_zoo.bench.results import ComboResult, Outcome, RunRecord, RunStore, TrialRecord
from mads_zoo.fileio import atomic_file, write_text
from mads_zoo.metrics import AAMI_NAMES, CLASS_FIGURES, Metrics, summed
from mads_zoo.plots import plot_confusion
from mads_zoo.stats import Summary


@dataclass(frozen=True)
class Report:
    """What :func:`render_report` made: the leaderboard's rows and the figures' paths."""

    run: RunRecord
    rows: list[LeaderboardRow]
    figures: list[Path]


def aami_table(result: ComboResult) -> str:
    """Markdown: Se / +P / FPR / F1 per class of a finalist, mean ± CI over its seeds."""
    seeds = result.test
    head = "| class | beats | " + " | ".join(CLASS_FIGURES.values()) + " |"
    lines = [head, "|" + " --- |" * (2 + len(CLASS_FIGURES))]
    for c in seeds[0].classes:
        stats = [Summary.of(m.per_class[c].figure(q) for m in seeds) for q in CLASS_FIGURES]
        beats = f"{seeds[0].per_class[c].support:,.0f}"
        cells = " | ".join(stat.describe() for stat in stats)
        lines.append(f"| {AAMI_NAMES.get(c, c)} | {beats} | {cells} |")
    averages = {q: Summary.of(m.macro(q) for m in seeds) for q in ("recall", "precision", "f1")}
    accuracy = Summary.of(m.accuracy for m in seeds)
    skip = seeds[0].left_out
    note = f" (over the classes but {', '.join(skip)}, the AAMI convention)" if skip else ""
    title = result.combo.key + (" (selected)" if result.outcome is Outcome.SELECTED else "")
    return (
        f"### {title}: AAMI report, test fold, {len(seeds)} seeds\n\n"
        + "\n".join(lines)
        + f"\n\nAccuracy {accuracy.describe()}; average{note}: Se "
        f"{averages['recall'].describe()}, +P {averages['precision'].describe()}, "
        f"F1 {averages['f1'].describe()}."
    )


def _figures(store: RunStore, results: Sequence[ComboResult], trials: Sequence[TrialRecord],
             metric: str) -> list[Path]:  # fmt: skip
    out = store.root / "plots"
    out.mkdir(parents=True, exist_ok=True)
    finalists = [r for r in ranked(results) if r.test]
    made = [
        figures.heatmap(results, metric, out / "heatmap.png"),
        figures.se_ppv(finalists, out / "se-ppv.png"),
        figures.best_so_far(trials, metric, out / "best-so-far.png"),
    ]
    for r in finalists:
        title = f"{r.combo.key}: test, {len(r.test)} seed(s) summed (row %, count)"
        total: Metrics = summed(r.test)
        made.append(plot_confusion(total, out / f"confusion-{r.combo.key}.png", title))
    return [p for p in made if p is not None]


def _write_trials(store: RunStore, trials: Sequence[TrialRecord]) -> None:
    frame = pd.DataFrame([t.row() for t in trials])
    with atomic_file(store.root / "trials.parquet", suffix=".parquet") as temp:
        frame.to_parquet(temp, index=False)
    with atomic_file(store.root / "trials.csv", suffix=".csv") as temp:
        frame.to_csv(temp, index=False)


def _notes(
    run: RunRecord, results: Sequence[ComboResult], trials: Sequence[TrialRecord]
) -> list[str]:
    budget = run.budget
    failures = sum(t.failed for t in trials)
    beats = sum(t.spec.beats for t in trials)
    notes = [
        f"{len(results)} of {len(run.combos)} combos have a result; {len(trials)} training "
        f"runs ({beats:,} training beats), {failures} failed.",
        f"Tuned, halved and selected on validation {budget.metric.value} (one metric); the "
        f"selected model (*) is the finalist with the best mean over {budget.final_seeds} "
        "seeds. Test numbers: finalists only, mean ± 95% CI (Student t) over the final seeds, "
        "each model evaluated once on the test fold.",
        "Finalists whose validation CI overlaps the selected model's are marked tied. Combos "
        "stopped at a rung show one run's score, with no CI: their order is early learning "
        "speed under equal training beats, not a ranking the statistics support. The "
        "baseline rows ('always N', 'prior guess': classes drawn from the training fold's "
        "shares) are computed on the same test fold; a model must beat both to mean anything.",
    ]
    if run.data.split == "inter":
        notes.append(
            "Test macro F1 and recall leave Q out (the AAMI convention: DS2 has 7 Q beats), for "
            "the models and the baselines alike."
        )
    return notes


def render_report(store: RunStore) -> Report:
    """Write leaderboard.md/.html, trials.parquet/.csv and plots/ from the stored results."""
    run = store.load_run()
    results = store.load_results(run.combos)
    trials = store.all_trials()
    rows = leaderboard_rows(results) + baseline_rows(run)
    columns = leaderboard_columns(run.budget.metric.value, list(run.class_counts.test))
    title = (
        f"mads-zoo bench: {run.data.dataset} / {run.data.split}, budget "
        f"{run.budget.name}, seed {run.seed}"
    )
    failure_lines = [f"- {t.spec.key}: {t.error}" for t in trials if t.failed]
    failed_combos = [f"- {r.combo.key}: {r.error}" for r in results if r.outcome is Outcome.FAILED]
    aami = "\n\n".join(aami_table(r) for r in ranked(results) if r.test)
    markdown = "\n\n".join(
        [f"# {title}", *_notes(run, results, trials), markdown_table(rows, columns)]
        + (["## Finalists: AAMI EC57 / de Chazal report", aami] if aami else [])
        + (["## Failed combos", "\n".join(failed_combos)] if failed_combos else [])
        + (["## Failed runs", "\n".join(failure_lines)] if failure_lines else [])
    )
    write_text(store.root / "leaderboard.md", markdown + "\n")
    if trials:
        _write_trials(store, trials)
    made = _figures(store, results, trials, run.budget.metric.value)
    write_text(store.root / "leaderboard.html", leaderboard_page(title, markdown, made))
    return Report(run, rows, made)
