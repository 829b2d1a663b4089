"""Rich renderings of metrics shared by the commands (train, evaluate, bench, report)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table


def per_class_table(metrics: Mapping[str, Any], title: str) -> Table:
    """Recall, precision, F1 and support per class, then the macro averages and accuracy."""
    table = Table(title=title, title_justify="left")
    for column in ("class", "recall", "precision", "F1", "support"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for name in metrics["recall"]:
        table.add_row(
            name,
            f"{metrics['recall'][name]:.4f}",
            f"{metrics['precision'][name]:.4f}",
            f"{metrics['f1'][name]:.4f}",
            f"{metrics['support'][name]:,}",
        )
    table.add_section()
    table.add_row(
        "macro",
        f"{metrics['macro_recall']:.4f}",
        f"{metrics['macro_precision']:.4f}",
        f"{metrics['macro_f1']:.4f}",
        f"{metrics['n']:,}",
        style="bold",
    )
    table.caption = f"accuracy {metrics['accuracy']:.4f}"
    return table


def confusion_table(confusion: Sequence[Sequence[int]], classes: Sequence[str]) -> Table:
    """The confusion matrix, true classes down, predicted across."""
    table = Table(title="confusion matrix (rows: true, columns: predicted)", title_justify="left")
    table.add_column("")
    for name in classes:
        table.add_column(name, justify="right")
    for name, row in zip(classes, confusion, strict=True):
        table.add_row(name, *(f"{count:,}" for count in row))
    return table
