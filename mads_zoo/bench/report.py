"""Render a bench run from its stored results: leaderboard, trial tables and plots.

Leaderboard in markdown and HTML; ``mads-zoo report RUN_DIR`` calls :func:`render_report`
again at any time.

Ranking follows the run's one metric on **validation**: finalists by their mean over the
final seeds (the first is the run's selected model), then combos stopped by successive
halving (deeper rung first, then their score at that rung), then failed combos. Test numbers
are shown for finalists only, as mean and 95% confidence interval over the final seeds; they
never decide a rank. Every leaderboard ends with two baselines on the same test fold ("always
N", "class-prior guess": :mod:`mads_zoo.aami`), and each finalist gets an AAMI table (Se, +P,
FPR, F1 per class, mean ± CI over its seeds; Q left out of the averages on the inter split).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from mads_zoo.aami import (
    AAMI_NAMES,
    QUANTITIES,
    AamiReport,
    aami_report,
    always_majority,
    prior_guess,
)
from mads_zoo.bench.page import leaderboard_page
from mads_zoo.bench.results import ComboResult, RunRecord, RunStore, TrialRecord, write_text
from mads_zoo.bench.trial import summary

#: Column titles of the AAMI quantities.
QUANTITY_TITLES = {"se": "Se", "ppv": "+P", "fpr": "FPR", "f1": "F1"}


def mean_ci(stat: dict[str, Any]) -> str:
    """``mean ± ci95`` (just the mean for a single seed)."""
    half = stat.get("ci95")
    text = f"{stat['mean']:.4f}"
    return text if half is None or not math.isfinite(half) else f"{text} ± {half:.4f}"


def ranked(results: list[ComboResult]) -> list[ComboResult]:
    """``results`` in leaderboard order (see the module docstring)."""
    order = {"selected": 0, "finalist": 0, "stopped": 1, "failed": 2}
    return sorted(
        results,
        key=lambda r: (order[r.outcome], -r.rung, -(r.score if r.score is not None else -1)),
    )


def cis_overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two ``{"mean", "ci95"}`` intervals overlap (a single seed's has no width)."""

    def bounds(stat: dict[str, Any]) -> tuple[float, float]:
        half = stat.get("ci95")
        half = half if half is not None and math.isfinite(half) else 0.0
        return stat["mean"] - half, stat["mean"] + half

    (low_a, high_a), (low_b, high_b) = bounds(a), bounds(b)
    return low_a <= high_b and low_b <= high_a


def leaderboard_rows(
    results: list[ComboResult],
    run: RunRecord,
    reports: dict[str, list[AamiReport]] | None = None,
) -> list[dict[str, Any]]:
    """One display row per combo, best first.

    A finalist whose validation CI overlaps the selected model's is marked "tied": the seeds
    do not separate them, whatever their order. With ``reports`` (:func:`finalist_reports`),
    test macro F1 and recall are the AAMI averages (Q left out on the inter split), the
    same averages as the baseline rows'.
    """
    metric = run.budget.metric
    order = ranked(results)
    leader = next((r for r in order if r.outcome == "selected" and r.val), None)
    rows = []
    for rank, r in enumerate(order, 1):
        if r.outcome == "failed":
            reached = "failed"
        elif r.outcome in ("selected", "finalist"):
            reached = f"final ({len(r.val[metric]['values'])} seeds)"
        else:
            reached = f"rung {r.rung}"
        row: dict[str, Any] = {
            "rank": str(rank) if r.outcome != "failed" else "-",
            "architecture": r.combo.architecture + (" *" if r.outcome == "selected" else ""),
            "sampler": r.combo.sampler,
            "reached": reached,
            metric: mean_ci(r.val[metric]) if r.val else (
                f"{r.score:.4f}" if r.score is not None else ""
            ),
        }  # fmt: skip
        if leader is not None and r.val and r is not leader:
            tied = cis_overlap(r.val[metric], leader.val[metric])
            row["vs selected"] = "tied (CIs overlap)" if tied else "below"
        if r.test:
            row["test accuracy"] = mean_ci(r.test["accuracy"])
            row["test macro F1"] = mean_ci(r.test["macro_f1"])
            row["test macro recall"] = mean_ci(r.test["macro_recall"])
            seeds = (reports or {}).get(r.combo.key)
            if seeds:
                row["test macro F1"] = mean_ci(summary([x.average("f1") for x in seeds]))
                row["test macro recall"] = mean_ci(summary([x.average("se") for x in seeds]))
            row.update({f"recall {c}": f"{v:.3f}" for c, v in r.recall.items()})
        if r.params is not None:
            row["params"] = f"{r.params:,}"
        row["runs (failed)"] = f"{r.trials} ({r.failed_trials})"
        if r.error:
            row["error"] = r.error[:80]
        rows.append(row)
    return rows


def left_out(run: RunRecord, classes: list[str]) -> tuple[str, ...]:
    """Classes left out of the AAMI averages: Q on the inter-patient split (de Chazal)."""
    return ("Q",) if run.data.split == "inter" and "Q" in classes else ()


def baseline_rows(run: RunRecord) -> list[dict[str, Any]]:
    """Baseline rows on the run's test fold: "always N" and "prior guess".

    The prior guess draws each beat's class from the training fold's class frequencies; its
    figures are those of the expected confusion matrix.
    """
    counts = run.class_counts
    if not counts.get("test") or not counts.get("train"):
        return []
    classes = list(counts["test"])
    test = [counts["test"][c] for c in classes]
    guesses = {
        "always " + classes[0]: always_majority(test),
        "prior guess": prior_guess(test, [counts["train"][c] for c in classes]),
    }
    rows = []
    for name, confusion in guesses.items():
        report = aami_report(confusion, classes, left_out=left_out(run, classes))
        rows.append({
            "rank": "-", "architecture": "baseline", "sampler": name, "reached": "-",
            "test accuracy": f"{report.accuracy:.4f}",
            "test macro F1": f"{report.average('f1'):.4f}",
            "test macro recall": f"{report.average('se'):.4f}",
        })  # fmt: skip
    return rows


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.4f}"


def finalist_reports(
    results: list[ComboResult], trials: list[TrialRecord], run: RunRecord
) -> dict[str, list[AamiReport]]:
    """Each finalist's AAMI report per final seed (from that seed's test confusion matrix)."""
    reports: dict[str, list[AamiReport]] = {}
    for r in results:
        if not r.test:
            continue
        skip = left_out(run, r.classes)
        reports[r.combo.key] = [
            aami_report(t.test["confusion"], r.classes, left_out=skip)
            for t in trials
            if t.spec.combo == r.combo and t.spec.stage == "final" and t.test and not t.failed
        ]
    return reports


def aami_tables(results: list[ComboResult], reports: dict[str, list[AamiReport]]) -> str:
    """Markdown: per finalist, Se / +P / FPR / F1 per class, mean ± CI over its seeds."""
    sections = []
    for r in ranked(results):
        seeds = reports.get(r.combo.key)
        if not seeds:
            continue
        head = "| class | beats | " + " | ".join(QUANTITY_TITLES[q] for q in QUANTITIES) + " |"
        lines = [head, "|" + " --- |" * (2 + len(QUANTITIES))]
        for c in r.classes:
            stats = [summary([getattr(x.per_class[c], q) for x in seeds]) for q in QUANTITIES]
            beats = f"{seeds[0].per_class[c].support:,.0f}"
            cells = [_mean_ci_or_dash(stat) for stat in stats]
            lines.append(f"| {AAMI_NAMES.get(c, c)} | {beats} | " + " | ".join(cells) + " |")
        averages = {q: summary([x.average(q) for x in seeds]) for q in ("se", "ppv", "f1")}
        accuracy = summary([x.accuracy for x in seeds])
        skip = seeds[0].left_out
        note = f" (over the classes but {', '.join(skip)}, the AAMI convention)" if skip else ""
        title = r.combo.key + (" (selected)" if r.outcome == "selected" else "")
        sections.append(
            f"### {title}: AAMI report, test fold, {len(seeds)} seeds\n\n"
            + "\n".join(lines)
            + f"\n\nAccuracy {mean_ci(accuracy)}; average{note}: Se "
            f"{_mean_ci_or_dash(averages['se'])}, +P {_mean_ci_or_dash(averages['ppv'])}, "
            f"F1 {_mean_ci_or_dash(averages['f1'])}."
        )
    return "\n\n".join(sections)


def _mean_ci_or_dash(stat: dict[str, Any]) -> str:
    return "-" if math.isnan(stat["mean"]) else mean_ci(stat)


#: What a comparison says of one figure in two runs.
SAME, WITHIN, BEYOND, NO_CI = "identical", "within CIs", "beyond CIs", "differs (no CI)"


def compare_figure(a: dict[str, Any] | None, b: dict[str, Any] | None) -> tuple[str, str]:
    """``(difference b - a, verdict)`` of one ``{"mean", "ci95"}`` figure in two runs."""
    if a is None or b is None:
        return "", ""
    delta = b["mean"] - a["mean"]
    if delta == 0:
        return "0", SAME
    has_ci = all(x.get("ci95") is not None and math.isfinite(x["ci95"]) for x in (a, b))
    verdict = (WITHIN if cis_overlap(a, b) else BEYOND) if has_ci else NO_CI
    return f"{delta:+.4f}", verdict


def _selection(r: ComboResult, metric: str) -> dict[str, Any] | None:
    if r.val:
        return r.val[metric]
    return {"mean": r.score, "ci95": None} if r.score is not None else None


def compare_rows(a: list[ComboResult], b: list[ComboResult], metric: str) -> list[dict[str, Any]]:
    """Two runs' results side by side: one row per combo and figure, in run A's order.

    Figures: where each combo got to, the selection metric and, for finalists, test accuracy
    and macro F1, each with both values, the difference and whether it exceeds the 95% CIs
    over seeds (a score at a rung comes from one run and has no CI).
    """
    in_a, in_b = {r.combo.key: r for r in a}, {r.combo.key: r for r in b}
    keys = [r.combo.key for r in ranked(a)] + [k for k in in_b if k not in in_a]
    rows = []
    for key in keys:
        ra, rb = in_a.get(key), in_b.get(key)
        reached = [_reached(r) for r in (ra, rb)]
        verdict = SAME if reached[0] == reached[1] else "differs"
        rows.append(_comparison(key, "reached", reached[0], reached[1], "", verdict))
        figures = {metric: [r and _selection(r, metric) for r in (ra, rb)]}
        for name in ("accuracy", "macro_f1"):
            figures[f"test {name}"] = [r.test.get(name) if r and r.test else None for r in (ra, rb)]
        for name, (fa, fb) in figures.items():
            if fa is None and fb is None:
                continue
            delta, verdict = compare_figure(fa, fb)
            shown = [mean_ci(f) if f else "-" for f in (fa, fb)]
            rows.append(_comparison(key, name, *shown, delta, verdict))
    return rows


def _comparison(*cells: str) -> dict[str, str]:
    return dict(zip(("combo", "figure", "A", "B", "B-A", "verdict"), cells, strict=True))


def _reached(r: ComboResult | None) -> str:
    if r is None:
        return "-"
    return "final" if r.test else "failed" if r.outcome == "failed" else f"rung {r.rung}"


def _header(rows: list[dict[str, Any]]) -> list[str]:
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    return keys


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """A GitHub-flavoured markdown table of ``rows``."""
    keys = _header(rows)
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def _figures(
    store: RunStore,
    results: list[ComboResult],
    trials: list[TrialRecord],
    reports: dict[str, list[AamiReport]],
    metric: str,
) -> list[Path]:
    from mads_zoo.bench import figures
    from mads_zoo.plots import plot_confusion

    out = store.root / "plots"
    out.mkdir(parents=True, exist_ok=True)
    finalists = [r for r in ranked(results) if r.test]
    made = [
        figures.heatmap(results, metric, out / "heatmap.png"),
        figures.se_ppv(finalists, reports, out / "se-ppv.png"),
        figures.best_so_far(trials, metric, out / "best-so-far.png"),
    ]
    for r in finalists:
        seeds = len(r.test["accuracy"]["values"])
        title = f"{r.combo.key}: test, {seeds} seed(s) summed (row %, count)"
        made.append(
            plot_confusion(r.confusion, r.classes, out / f"confusion-{r.combo.key}.png", title)
        )
    return [p for p in made if p is not None]


def _write_trials(store: RunStore, trials: list[TrialRecord]) -> None:
    import pandas as pd

    from mads_zoo.data.cache import atomic_file

    frame = pd.DataFrame([t.row() for t in trials])
    with atomic_file(store.root / "trials.parquet", suffix=".parquet") as temp:
        frame.to_parquet(temp, index=False)
    with atomic_file(store.root / "trials.csv", suffix=".csv") as temp:
        frame.to_csv(temp, index=False)


def render_report(store: RunStore) -> tuple[list[dict[str, Any]], list[Path]]:
    """Write leaderboard.md/.html, trials.parquet/.csv and plots/ from the stored results."""
    run = store.load_run()
    results = store.load_results(run.combos)
    trials = store.all_trials()
    reports = finalist_reports(results, trials, run)
    rows = leaderboard_rows(results, run, reports) + baseline_rows(run)
    budget = run.budget
    title = (
        f"mads-zoo bench: {run.data.dataset} / {run.data.split}, budget "
        f"{budget.name}, seed {run.seed}"
    )
    failures = [t for t in trials if t.failed]
    beats = sum(t.spec.beats for t in trials)
    notes = [
        f"{len(results)} of {len(run.combos)} combos have a result; {len(trials)} training "
        f"runs ({beats:,} training beats), {len(failures)} failed.",
        f"Tuned, halved and selected on validation {budget.metric.removeprefix('val_')} "
        f"(one metric); the selected model (*) is the finalist with the best mean over "
        f"{budget.final_seeds} seeds. Test numbers: finalists only, mean ± 95% CI (Student t) "
        "over the final seeds, each model evaluated once on the test fold.",
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
    failure_lines = [f"- {t.spec.key}: {t.error}" for t in failures]
    failed_combos = [f"- {r.combo.key}: {r.error}" for r in results if r.outcome == "failed"]
    aami = aami_tables(results, reports)
    markdown = "\n\n".join(
        [f"# {title}", *notes, markdown_table(rows) if rows else "(no combo has a result yet)"]
        + (["## Finalists: AAMI EC57 / de Chazal report", aami] if aami else [])
        + (["## Failed combos", "\n".join(failed_combos)] if failed_combos else [])
        + (["## Failed runs", "\n".join(failure_lines)] if failures else [])
    )
    write_text(store.root / "leaderboard.md", markdown + "\n")
    if trials:
        _write_trials(store, trials)
    made = _figures(store, results, trials, reports, budget.metric)
    write_text(store.root / "leaderboard.html", leaderboard_page(title, markdown, made))
    return rows, made
