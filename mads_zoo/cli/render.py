"""Rich renderings of metrics shared by the commands (train, evaluate)."""

from __future__ import annotations

import math

from rich.table import Table

from mads_zoo.metrics import Metrics


def _figure(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.4f}"


def per_class_table(metrics: Metrics, title: str) -> Table:
    """Recall, precision, F1 and support per class, then the macro averages and accuracy."""
    table = Table(title=title, title_justify="left")
    for column in ("class", "recall", "precision", "F1", "support"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for name, figures in metrics.per_class.items():
        table.add_row(
            name,
            _figure(figures.recall),
            _figure(figures.precision),
            _figure(figures.f1),
            f"{figures.support:,.0f}",
        )
    table.add_section()
    table.add_row(
        "macro",
        _figure(metrics.macro_recall),
        _figure(metrics.macro_precision),
        _figure(metrics.macro_f1),
        f"{metrics.n:,}",
        style="bold",
    )
    table.caption = f"accuracy {metrics.accuracy:.4f}"
    return table


def confusion_table(metrics: Metrics) -> Table:
    """The confusion matrix, true classes down, predicted across."""
    table = Table(title="confusion matrix (rows: true, columns: predicted)", title_justify="left")
    table.add_column("")
    for name in metrics.classes:
        table.add_column(name, justify="right")
    for name, row in zip(metrics.classes, metrics.confusion, strict=True):
        table.add_row(name, *(f"{count:,}" for count in row))
    return table
