"""Render a bench run from its stored results: leaderboard, trial tables and plots.

Leaderboard in markdown and HTML; ``mads-zoo report RUN_DIR`` calls :func:`render_report`
again at any time.

Ranking follows the run's one metric on **validation**: finalists by their mean over the
final seeds (the first is the run's selected model), then combos stopped by successive
halving (deeper rung first, then their score at that rung), then failed combos. Test numbers
are shown for finalists only, as mean and 95% confidence interval over the final seeds; they
never decide a rank.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from mads_zoo.bench.results import ComboResult, RunRecord, RunStore, TrialRecord, write_text


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


def leaderboard_rows(results: list[ComboResult], run: RunRecord) -> list[dict[str, Any]]:
    """One display row per combo, best first."""
    metric = run.budget.metric
    rows = []
    for rank, r in enumerate(ranked(results), 1):
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
        if r.test:
            row["test accuracy"] = mean_ci(r.test["accuracy"])
            row["test macro F1"] = mean_ci(r.test["macro_f1"])
            row["test macro recall"] = mean_ci(r.test["macro_recall"])
            row.update({f"recall {c}": f"{v:.3f}" for c, v in r.recall.items()})
        if r.params is not None:
            row["params"] = f"{r.params:,}"
        row["runs (failed)"] = f"{r.trials} ({r.failed_trials})"
        if r.error:
            row["error"] = r.error[:80]
        rows.append(row)
    return rows


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


def html_table(rows: list[dict[str, Any]]) -> str:
    """An HTML table of ``rows``."""
    keys = _header(rows)
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r.get(k, '')))}</td>" for k in keys) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _plots(
    store: RunStore, results: list[ComboResult], trials: list[TrialRecord], metric: str
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from mads_zoo.plots import plot_confusion

    out = store.root / "plots"
    out.mkdir(parents=True, exist_ok=True)
    made = []
    finalists = [r for r in ranked(results) if r.test]
    for r in finalists:
        seeds = len(r.test["accuracy"]["values"])
        title = f"{r.combo.key}: test, {seeds} seed(s) summed"
        made.append(
            plot_confusion(r.confusion, r.classes, out / f"confusion-{r.combo.key}.png", title)
        )
    if finalists:
        classes = finalists[0].classes
        fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(finalists) + 2), 3.6), dpi=120)
        width = 0.8 / len(classes)
        x = np.arange(len(finalists))
        for i, c in enumerate(classes):
            ax.bar(x + i * width, [r.recall[c] for r in finalists], width, label=c)
        labels = [r.combo.key for r in finalists]
        ax.set_xticks(x + 0.4 - width / 2, labels, rotation=30, fontsize=7)
        ax.set_ylabel("test recall (mean over seeds)")
        ax.set_ylim(0, 1)
        ax.legend(ncol=len(classes), fontsize=7, loc="lower right")
        ax.set_title("per-class test recall of the finalists", fontsize=9)
        fig.tight_layout()
        made.append(out / "per-class-recall.png")
        fig.savefig(made[-1])
        plt.close(fig)
    curves: dict[str, tuple[list[int], list[float]]] = {}
    for t in trials:
        if t.spec.stage != "tune" or t.score is None:
            continue
        beats, best = curves.setdefault(t.spec.combo.key, ([], []))
        beats.append((beats[-1] if beats else 0) + t.spec.beats)
        best.append(max(t.score, best[-1]) if best else t.score)
    if curves:
        fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=120)
        for combo, (beats, best) in curves.items():
            ax.plot(beats, best, marker="o", markersize=2, linewidth=1, label=combo)
        ax.set_xscale("log")
        ax.set_xlabel("training beats spent on the combo (tuning rungs)")
        ax.set_ylabel(f"best {metric} so far")
        ax.set_title("best-so-far vs training beats", fontsize=9)
        if len(curves) <= 12:
            ax.legend(fontsize=5)
        fig.tight_layout()
        made.append(out / "best-so-far.png")
        fig.savefig(made[-1])
        plt.close(fig)
    return made


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
    rows = leaderboard_rows(results, run)
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
    ]
    failure_lines = [f"- {t.spec.key}: {t.error}" for t in failures]
    markdown = "\n\n".join(
        [f"# {title}", *notes, markdown_table(rows) if rows else "(no combo has a result yet)"]
        + (["## Failed runs", "\n".join(failure_lines)] if failures else [])
    )
    write_text(store.root / "leaderboard.md", markdown + "\n")
    page = (
        "<!doctype html><meta charset='utf-8'><title>" + html.escape(title) + "</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
        "th{background:#eee}img{max-width:48%;margin:4px}</style>"
        f"<h1>{html.escape(title)}</h1>"
        + "".join(f"<p>{html.escape(n)}</p>" for n in notes)
        + html_table(rows)
    )
    if trials:
        _write_trials(store, trials)
    made = _plots(store, results, trials, budget.metric)
    page += "".join(f"<img src='plots/{p.name}'>" for p in made)
    if failures:
        page += (
            "<h2>Failed runs</h2><ul>"
            + "".join(f"<li>{html.escape(line[2:])}</li>" for line in failure_lines)
            + "</ul>"
        )
    write_text(store.root / "leaderboard.html", page)
    return rows, made
