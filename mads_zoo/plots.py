"""Headless matplotlib, set up in one place, and the confusion-matrix figure.

:func:`pyplot` is the only door to matplotlib: it selects the non-interactive Agg backend
before pyplot is first imported, so figures render on machines without a display.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from mads_zoo.metrics import Metrics


def pyplot() -> ModuleType:
    """``matplotlib.pyplot`` on the headless Agg backend (matplotlib is imported on first use)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: Path) -> Path:
    """Lay ``fig`` out, write it to ``path`` (a PNG), close it; return ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    pyplot().close(fig)
    return path


def plot_confusion(metrics: Metrics, path: Path, title: str) -> Path:
    """Save ``metrics``' confusion matrix as a PNG, each cell its row share and count."""
    counts = np.rint(metrics.matrix).astype(np.int64)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    classes = metrics.classes
    fig, ax = pyplot().subplots(figsize=(4.8, 4.2), dpi=120)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    for (i, j), count in np.ndenumerate(counts):
        colour = "white" if share[i, j] > 0.5 else "black"
        ax.text(j, i, f"{share[i, j]:.1%}\n{count:,}", ha="center", va="center", fontsize=7,
                color=colour)  # fmt: skip
    return save(fig, path)
