"""The bench's figures (headless PNGs): what a reader looks at before any table.

- ``heatmap.png``: architecture x strategy, the selection metric where each combo got to
  (annotated with its rung: scores at different rungs are not comparable, which the labels
  say);
- ``se-ppv.png``: per-class sensitivity and positive predictivity of the finalists, mean and
  95% CI over their seeds as error bars;
- ``best-so-far.png``: best validation score so far against training beats, one line per
  combo, with a legend;
- ``confusion-COMBO.png``: each finalist's test confusion matrix (seeds summed), counts and
  row percentages (:func:`mads_zoo.plots.plot_confusion`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mads_zoo.bench.results import ComboResult, Outcome, Stage, TrialRecord
from mads_zoo.plots import pyplot, save
from mads_zoo.stats import Summary


def heatmap(results: Sequence[ComboResult], metric: str, path: Path) -> Path | None:
    """Architecture x strategy grid of each combo's last score, labelled with its rung."""
    if not results:
        return None
    archs = sorted({r.combo.architecture for r in results})
    strategies = sorted({r.combo.strategy for r in results})
    grid = np.full((len(archs), len(strategies)), np.nan)
    labels = [["" for _ in strategies] for _ in archs]
    for r in results:
        i, j = archs.index(r.combo.architecture), strategies.index(r.combo.strategy)
        if r.score is None:
            labels[i][j] = "failed"
            continue
        grid[i, j] = r.score
        where = "final" if r.test else f"rung {r.rung}"
        selected = " *" if r.outcome is Outcome.SELECTED else ""
        labels[i][j] = f"{r.score:.3f}\n{where}{selected}"
    fig, ax = pyplot().subplots(
        figsize=(1.5 + 1.25 * len(strategies), 1.0 + 0.55 * len(archs)), dpi=120
    )
    image = ax.imshow(grid, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for (i, j), text in np.ndenumerate(np.array(labels, dtype=object)):
        dark = math.isnan(grid[i, j]) or grid[i, j] < 0.6
        ax.text(j, i, text, ha="center", va="center", fontsize=7,
                color="white" if dark else "black")  # fmt: skip
    ax.set_xticks(range(len(strategies)), strategies, fontsize=8)
    ax.set_yticks(range(len(archs)), archs, fontsize=8)
    ax.set_title(f"{metric} where each combo got to (* selected)", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.03)
    return save(fig, path)


def se_ppv(finalists: Sequence[ComboResult], path: Path) -> Path | None:
    """Per-class Se and +P of each finalist, mean with a 95% CI error bar over its seeds."""
    shown = [r for r in finalists if r.test]
    if not shown:
        return None
    classes = shown[0].test[0].classes
    fig, axes = pyplot().subplots(
        1, 2, figsize=(max(7.0, 1.2 * len(classes) * len(shown)), 3.4), dpi=120, sharey=True
    )
    width = 0.8 / len(shown)
    x = np.arange(len(classes))
    for ax, figure, title in zip(axes, ("recall", "precision"), ("Se (sensitivity)", "+P"),
                                 strict=True):  # fmt: skip
        for k, r in enumerate(shown):
            stats = [Summary.of(m.per_class[c].figure(figure) for m in r.test) for c in classes]
            means = [s.mean for s in stats]
            errors = [s.ci95 if s.has_ci else 0.0 for s in stats]
            ax.bar(x + k * width, means, width, yerr=errors, capsize=2, label=r.combo.key)
        ax.set_xticks(x + 0.4 - width / 2, classes)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"test {title}, mean ± 95% CI over seeds", fontsize=9)
    axes[0].legend(fontsize=7, loc="lower left")
    return save(fig, path)


def best_so_far(trials: Sequence[TrialRecord], metric: str, path: Path) -> Path | None:
    """Best tuning score so far against the training beats spent, one line per combo."""
    curves: dict[str, tuple[list[int], list[float]]] = {}
    for t in trials:
        if t.spec.stage is not Stage.TUNE or t.score is None:
            continue
        beats, best = curves.setdefault(t.spec.combo.key, ([], []))
        beats.append((beats[-1] if beats else 0) + t.spec.beats)
        best.append(max(t.score, best[-1]) if best else t.score)
    if not curves:
        return None
    fig, ax = pyplot().subplots(figsize=(9.0 if len(curves) <= 16 else 12.0, 4.6), dpi=120)
    ordered = sorted(curves.items(), key=lambda item: -item[1][1][-1])
    styles = ("-", "--", ":", "-.")
    for k, (combo, (beats, best)) in enumerate(ordered):
        style = styles[(k // 10) % len(styles)]
        ax.plot(beats, best, marker="o", markersize=2, linewidth=1, linestyle=style,
                label=f"{combo} ({best[-1]:.3f})")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("training beats spent on the combo (tuning rungs)")
    ax.set_ylabel(f"best {metric} so far")
    ax.set_title("best-so-far vs training beats (legend: best first)", fontsize=9)
    ax.legend(fontsize=5.5, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              ncol=1 if len(curves) <= 16 else 2)  # fmt: skip
    return save(fig, path)
