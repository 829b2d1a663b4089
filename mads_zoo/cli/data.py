"""``mads-zoo data ...``: build and cache a dataset's beats, and inspect its folds."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from mads_zoo.cli.console import console, err_console
from mads_zoo.data.folds import load_beats, prepare_folds
from mads_zoo.data.progress import reporting
from mads_zoo.data.spec import DataSpec
from mads_zoo.data.verify import verifying

data_app = typer.Typer(help="Prepare datasets and inspect their folds.", no_args_is_help=True)

DatasetArg = Annotated[
    str, typer.Argument(help="A registered dataset (see `mads-zoo list datasets`).")
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder with the dataset's files (default: $MADS_ZOO_DATA_DIR, then the cache; "
        "mitbih downloads from PhysioNet into the cache if absent).",
        show_default=False,
    ),
]
NoVerifyOption = Annotated[
    bool,
    typer.Option(
        "--no-verify",
        help="Use MIT-BIH records that differ from PhysioNet's copy (a deliberately modified "
        "copy); by default their SHA-256 and beat counts are checked when the beats are built.",
    ),
]


def apply_no_verify(ctx: typer.Context, no_verify: bool) -> None:
    """For the rest of the command ``ctx``, check the data (default) or not (``--no-verify``)."""
    ctx.with_resource(verifying(not no_verify))


@contextlib.contextmanager
def _progress_bar() -> Iterator[None]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        tasks: dict[str, TaskID] = {}

        def update(task: str, done: int, total: int) -> None:
            if task not in tasks:
                tasks[task] = progress.add_task(task, total=total)
            progress.update(tasks[task], completed=done, total=total)

        with reporting(update):
            yield


@data_app.command("prepare")
def prepare_command(
    ctx: typer.Context,
    dataset: DatasetArg = "mitbih",
    data_dir: DataDirOption = None,
    no_verify: NoVerifyOption = False,
) -> None:
    """Build a dataset's beats and cache them (reads the records once; later loads are fast)."""
    apply_no_verify(ctx, no_verify)
    started = time.perf_counter()
    with _progress_bar():
        beats = load_beats(dataset, data_dir)
    seconds = time.perf_counter() - started
    dropped = beats.meta.get("dropped_edge_beats") or beats.meta.get("dropped_beats", {})
    console.print(
        f"[bold]{dataset}[/]: {len(beats):,} beats of {beats.signature.describe()}",
        highlight=False,
    )
    table = Table()
    table.add_column("class", style="cyan")
    table.add_column("beats", justify="right")
    if dropped:
        table.add_column("beats dropped", justify="right")
    for name, count in zip(beats.classes, beats.counts(), strict=True):
        row = [name, f"{count:,}"]
        if dropped:
            row.append(f"{dropped.get(name, 0):,}")
        table.add_row(*row)
    console.print(table)
    console.print(f"ready in {seconds:.1f} s", highlight=False)


def _percent(count: int, total: int) -> str:
    return f"{count:,} ({100 * count / total:.1f} %)" if total else "0"


@data_app.command("info")
def info_command(
    ctx: typer.Context,
    dataset: DatasetArg = "mitbih",
    split: Annotated[str, typer.Option("--split", help="intra or inter.")] = "intra",
    sampler: Annotated[
        str, typer.Option("--sampler", help="A registered sampler, applied to train only.")
    ] = "none",
    seed: Annotated[int, typer.Option("--seed", help="Seeds the split and the sampler.")] = 0,
    val_fraction: Annotated[
        float, typer.Option("--val-fraction", help="Share of the training part for validation.")
    ] = 0.1,
    data_dir: DataDirOption = None,
    no_verify: NoVerifyOption = False,
) -> None:
    """Beats per class in each fold: train, validation, test, and train after the sampler."""
    apply_no_verify(ctx, no_verify)
    spec = DataSpec(dataset, split, sampler, seed, val_fraction)
    with _progress_bar():
        folds = prepare_folds(spec, data_dir=data_dir)
    counts = folds.counts()
    columns = {
        "train": counts.train,
        "val": counts.val,
        "test": counts.test,
        f"train after {sampler}": folds.resampled_counts(),
    }
    title = f"{dataset} · split {split} · sampler {sampler} · seed {seed}"
    table = Table(title=title, title_justify="left")
    table.add_column("class", style="cyan")
    for header in columns:
        table.add_column(header, justify="right")
    totals = {header: sum(column.values()) for header, column in columns.items()}
    for name in folds.classes:
        table.add_row(name, *(_percent(c[name], totals[h]) for h, c in columns.items()))
    table.add_row("total", *(f"{total:,}" for total in totals.values()), style="bold")
    console.print(table)
    console.print(f"each beat: {folds.signature.describe()}", highlight=False)
    console.print(f"validation: {folds.val_strategy}", highlight=False)
