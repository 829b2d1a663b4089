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

import numpy as np
import pandas as pd

from mads_zoo.bench import figures
from mads_zoo.bench.bootstrap import UNITS, SamplingCI, sampling_ci, unpack_labels
from mads_zoo.bench.leaderboard import (
    LeaderboardRow,
    baseline_rows,
    leaderboard_columns,
    leaderboard_rows,
    markdown_table,
    ranked,
)
from mads_zoo.bench.page import leaderboard_page
from mads_zoo.bench.results import (
    Combo,
    ComboResult,
    HeldOutBeats,
    Outcome,
    RunRecord,
    RunStore,
    Stage,
    TrialRecord,
)
from mads_zoo.bench.screen import baseline_score, decisions_table, rung_decisions
from mads_zoo.data.records import PACED
from mads_zoo.data.splits import left_out_classes
from mads_zoo.fileio import atomic_file, write_text
from mads_zoo.metrics import AAMI_NAMES, CLASS_FIGURES, Metrics, ec57_gross, summed
from mads_zoo.plots import plot_confusion
from mads_zoo.stats import Summary


@dataclass(frozen=True)
class Report:
    """What :func:`render_report` made: the leaderboard's rows and the figures' paths."""

    run: RunRecord
    rows: list[LeaderboardRow]
    figures: list[Path]


def aami_table(result: ComboResult, sampling: SamplingCI | None = None, extra: str = "") -> str:
    """Markdown: Se / +P / FPR / F1 per class of a finalist, mean ± seed spread.

    With ``sampling``, two more columns give the test-sampling 95% intervals of Se and +P,
    and the accuracy line its interval; ``extra`` is a last paragraph (e.g. the figures
    without the paced records).
    """
    seeds = result.test
    titles = list(CLASS_FIGURES.values())
    if sampling is not None:
        titles += [f"Se, 95% over {sampling.unit}s", f"+P, 95% over {sampling.unit}s"]
    lines = ["| class | beats | " + " | ".join(titles) + " |", "|" + " --- |" * (2 + len(titles))]
    for c in seeds[0].classes:
        stats = [Summary.of(m.per_class[c].figure(q) for m in seeds) for q in CLASS_FIGURES]
        cells = [stat.describe() for stat in stats]
        if sampling is not None:
            cells += [sampling.interval(f"{c}.recall"), sampling.interval(f"{c}.precision")]
        beats = f"{seeds[0].per_class[c].support:,.0f}"
        lines.append(f"| {AAMI_NAMES.get(c, c)} | {beats} | {' | '.join(cells)} |")
    averages = {q: Summary.of(m.macro(q) for m in seeds) for q in ("recall", "precision", "f1")}
    accuracy = Summary.of(m.accuracy for m in seeds)
    skip = seeds[0].left_out
    note = f" (over the classes but {', '.join(skip)}, the AAMI convention)" if skip else ""
    title = result.combo.key + (" (selected)" if result.outcome is Outcome.SELECTED else "")
    spread = "mean ± seed spread" if len(seeds) > 1 else "one seed: no seed spread"
    text = (
        f"### {title}: AAMI report, test fold, {len(seeds)} seeds\n\n"
        + "\n".join(lines)
        + f"\n\nCells: {spread}. Accuracy {accuracy.describe()}; average{note}: Se "
        f"{averages['recall'].describe()}, +P {averages['precision'].describe()}, "
        f"F1 {averages['f1'].describe()}."
    )
    gross = ec57_sentence(seeds)
    if gross:
        text += "\n\n" + gross
    if sampling is not None:
        text += "\n\n" + sampling_sentence(sampling)
    return text + ("\n\n" + extra if extra else "")


def ec57_sentence(seeds: Sequence[Metrics]) -> str:
    """EC57's gross VEB and SVEB statistics over the seeds, beside the one-vs-rest table."""
    per_seed = [ec57_gross(m) for m in seeds]
    if not per_seed or not per_seed[0]:
        return ""
    parts = []
    for event, name in (("V", "VEB"), ("S", "SVEB")):
        figures = {
            title: Summary.of(getattr(g[event], field) for g in per_seed).describe()
            for title, field in (("Se", "se"), ("+P", "ppv"), ("FPR", "fpr"))
        }
        parts.append(f"{name} " + ", ".join(f"{t} {v}" for t, v in figures.items()))
    return (
        "AAMI EC57 gross statistics (the rules of PhysioNet's `bxb`, EC57's reference "
        "comparator: F and Q beats called V are not VEB false positives, Q beats called S "
        "are not SVEB false positives): " + "; ".join(parts) + ". The table above and the "
        "leaderboard count plain one-vs-rest."
    )


def sampling_sentence(ci: SamplingCI) -> str:
    """One sentence: what the test-sampling intervals resampled, and the overall ones."""
    seeds = f"each the mean of the {ci.seeds} seeds" if ci.seeds > 1 else "one seed"
    return (
        f"Test-sampling 95% intervals (percentile bootstrap over the {ci.units:,} test "
        f"{ci.unit}s, {ci.draws:,} draws, {seeds}): accuracy {ci.interval('accuracy')}, "
        f"macro F1 {ci.interval('macro_f1')}, macro Se {ci.interval('macro_recall')}."
    )


def final_predictions(
    combo: Combo, trials: Sequence[TrialRecord], beats: int
) -> tuple[tuple[str, ...], list[np.ndarray]]:
    """``(classes, predictions)`` of ``combo``'s tested final seeds, in seed order.

    Empty when any of them stored no prediction of each of the test fold's ``beats`` beats.
    """
    finals = [
        t for t in trials if t.spec.combo == combo and t.spec.stage is Stage.FINAL and t.test
    ]
    predicted = [unpack_labels(t.test_predicted) for t in finals]
    if not finals or any(len(p) != beats for p in predicted) or finals[0].test is None:
        return (), []
    return finals[0].test.classes, predicted


def sampling_intervals(
    held: HeldOutBeats | None, run: RunRecord, results: Sequence[ComboResult],
    trials: Sequence[TrialRecord],
) -> dict[Combo, SamplingCI]:  # fmt: skip
    """Each finalist's test-sampling intervals (none for a run stored without its test fold).

    Patients are resampled on the inter-patient split, beats on ``intra``
    (:data:`~mads_zoo.bench.bootstrap.UNITS`); every final seed that was tested counts.
    """
    if held is None:
        return {}
    groups = held.records if UNITS.get(run.data.split) == "record" else None
    intervals = {}
    for result in results:
        classes, predicted = final_predictions(result.combo, trials, len(held.labels))
        if predicted:
            intervals[result.combo] = sampling_ci(
                held.labels, predicted, classes, groups=groups,
                left_out=left_out_classes(run.data.split, classes), seed=run.seed,
            )  # fmt: skip
    return intervals


def without_paced(
    held: HeldOutBeats | None, run: RunRecord, combo: Combo, trials: Sequence[TrialRecord]
) -> str:
    """Intra only: the finalist's figures without the paced records, which EC57 excludes."""
    if held is None or run.data.split != "intra":
        return ""
    paced = np.isin(held.records, PACED)
    classes, predicted = final_predictions(combo, trials, len(held.labels))
    if not paced.any() or not predicted:
        return ""
    kept = ~paced
    skip = ("Q",) if "Q" in classes else ()  # a few Q beats are left: AAMI's convention
    y = held.labels[kept]
    seeds = [Metrics.of_labels(y, p[kept], classes, left_out=skip) for p in predicted]
    q = classes.index("Q") if "Q" in classes else None
    of_q = f", {int((held.labels[paced] == q).sum()):,} of them Q" if q is not None else ""
    figures = ", ".join(
        f"{title} {Summary.of(getattr(m, name) for m in seeds).describe()}"
        for title, name in (("accuracy", "accuracy"), ("macro F1", "macro_f1"),
                            ("macro Se", "macro_recall"))
    )  # fmt: skip
    return (
        f"Without the paced records {', '.join(PACED)} (EC57 excludes them; "
        f"{int(paced.sum()):,} test beats{of_q}), Q left out of the averages: {figures}. "
        "The figures above keep them."
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
        "seeds. Test numbers: finalists only, each model evaluated once on the test fold, "
        "as mean ± seed spread (the 95% Student-t interval over the final seeds: training "
        "randomness only, every seed scored on the same test beats); the AAMI tables add "
        "test-sampling intervals (a bootstrap over the test "
        f"{UNITS.get(run.data.split, 'beat')}s) for that other uncertainty.",
        "Finalists share their seeds (seed k is the same seed for every finalist) and are "
        "compared with the selected model seed by seed on validation: 'tied (paired)' when "
        "the 95% Student-t interval of the per-seed differences includes 0, 'below (paired)' "
        "when it does not, 'no CI' with fewer than two seeds in common. Combos "
        "stopped at a rung show one run's score, with no CI and no rank: their order is early "
        "learning speed under equal training beats, not a ranking the statistics support. The "
        "baseline rows ('always N', 'prior guess': classes drawn from the training fold's "
        "shares) are computed on the same test fold; a model must beat both to mean anything.",
    ]
    informed = budget.informed_trials
    if informed:
        notes.append(
            f"Tuning: {budget.trials} configs per combo, the last {informed} chosen by "
            "HyperOpt's TPE from the combo's own earlier scores."
        )
    else:
        configs = (
            "each combo's defaults only"
            if budget.trials == 1
            else f"{budget.trials} configs per combo (its defaults first)"
        )
        notes.append(
            f"This budget is a screen, not a tuning: {configs}, none chosen from the combo's "
            "own scores (HyperOpt's TPE needs two scored configs first). Ranks compare "
            "default or near-default configs, so a combo stopped here may win once tuned; "
            "the `full` budget tunes every combo (on a GPU or a cluster)."
        )
    if run.val_strategy:
        notes.append(f"Validation fold: {run.val_strategy}.")
    for r in results:
        if r.outcome.final and len(r.test) < budget.final_seeds:
            notes.append(
                f"{r.combo.key}: {len(r.test)} of {budget.final_seeds} final seeds completed; "
                "its figures are over those (the failed runs are listed below)."
            )
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
    held = store.load_test_fold()
    intervals = sampling_intervals(held, run, results, trials)
    aami = "\n\n".join(
        aami_table(r, intervals.get(r.combo), without_paced(held, run, r.combo, trials))
        for r in ranked(results)
        if r.test
    )
    decisions = rung_decisions(run, trials)
    screen = decisions_table(decisions, baseline_score(run), run.budget.metric.value)
    markdown = "\n\n".join(
        [f"# {title}", *_notes(run, results, trials), markdown_table(rows, columns)]
        + (["## Decisions per rung", screen] if decisions else [])
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
