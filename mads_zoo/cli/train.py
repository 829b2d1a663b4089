"""``mads-zoo train``: one training run with a live progress display."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from mads_zoo.cli.console import console
from mads_zoo.cli.data import NoVerifyOption, apply_no_verify
from mads_zoo.cli.render import per_class_table
from mads_zoo.config import parse_overrides
from mads_zoo.errors import ConfigError


def _request(
    architecture: str,
    config_file: Path | None,
    options: dict[str, Any],
    set_values: list[str],
) -> Any:
    from mads_zoo.train.run import TrainRequest, read_config_file

    overrides: dict[str, Any] = {}
    if config_file is not None:
        data = read_config_file(config_file)
        named = data.get("architecture", architecture)
        if named != architecture:
            raise ConfigError(f"{config_file} is a config for {named!r}, not {architecture!r}")
        overrides.update(data.get("config", {}))
        for key in ("sampler", "preset", "split", "dataset"):
            if options.get(key) is None and key in data:
                options[key] = data[key]
    overrides.update(parse_overrides(set_values))
    given = {k: v for k, v in options.items() if v is not None}
    return TrainRequest(architecture=architecture, overrides=overrides, **given)


def train_command(
    ctx: typer.Context,
    architecture: Annotated[str, typer.Argument(help="A registered architecture.")],
    sampler: Annotated[
        str | None, typer.Option(help="Training-fold sampler (default: none).")
    ] = None,
    preset: Annotated[str | None, typer.Option(help="A preset of the architecture.")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="A config TOML (e.g. a bench's best config).")
    ] = None,
    set_values: Annotated[
        list[str] | None, typer.Option("--set", help="key=value over the config; repeatable.")
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="A registered dataset.")] = None,
    split: Annotated[
        str | None, typer.Option(help="intra (by beat) or inter (by patient).")
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(min=1, help="Epochs of the un-resampled fold (default: the config's)."),
    ] = None,
    beats: Annotated[
        int | None,
        typer.Option(min=1, help="Run length in training beats instead of epochs."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seeds split, sampler, init and order.")] = 0,
    precision: Annotated[str, typer.Option(help="fp32, bf16 or auto.")] = "auto",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    max_steps: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many optimizer steps.")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where the dataset's files are.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: runs/train/ARCH-SAMPLER-seedN).")
    ] = None,
    no_verify: NoVerifyOption = False,
) -> None:
    """Train one architecture; save its checkpoint (model.pt) and metrics.json.

    The recipe (optimizer, schedule, lr, batch size, epochs) comes from the architecture's
    defaults; change it with --set (e.g. --set schedule=plateau --set lr=1e-3).

    Example: [cyan]mads-zoo train 2dcnn --sampler smote --epochs 3[/]
    """
    from mads_zoo.train.run import run_training
    from mads_zoo.train.runtime import configure_threads

    apply_no_verify(ctx, no_verify)
    options = {"sampler": sampler, "preset": preset, "dataset": dataset, "split": split}
    request = _request(architecture, config, options, set_values or [])
    request.epochs, request.beats, request.seed = epochs, beats, seed
    request.precision = precision
    request.device, request.max_steps, request.data_dir = device, max_steps, data_dir
    out = out or Path("runs") / "train" / f"{architecture}-{request.sampler}-seed{seed}"
    threads = configure_threads()
    console.print(
        f"training [bold]{architecture}[/] on {request.dataset}/{request.split} "
        f"with sampler {request.sampler}, seed {seed}, {threads} threads",
        highlight=False,
    )
    progress = Progress(
        TextColumn("[bold]epoch {task.fields[epoch]}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TextColumn("loss {task.fields[loss]}"),
        TextColumn("val macro F1 {task.fields[f1]}"),
        TextColumn("lr {task.fields[lr]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task("train", total=None, epoch=0, loss="-", f1="-", lr="-")

    def on_step(step: int, total: int) -> None:
        progress.update(task, completed=step, total=total)

    def on_epoch(record: dict[str, Any]) -> None:
        progress.update(
            task,
            epoch=record["epoch"],
            loss=f"{record['train_loss']:.4f}",
            f1=f"{record['val_macro_f1']:.4f}",
            lr=f"{record['lr']:.1e}",
        )
        progress.console.print(
            f"epoch {record['epoch']:>3}  loss {record['train_loss']:.4f}  "
            f"val acc {record['val_accuracy']:.4f}  macro F1 {record['val_macro_f1']:.4f}  "
            f"macro recall {record['val_macro_recall']:.4f}  lr {record['lr']:.1e}  "
            f"({record['train_seconds']:.0f} s training)",
            highlight=False,
        )

    started = time.perf_counter()
    with progress:
        outcome = run_training(request, out, on_epoch=on_epoch, on_step=on_step)
    fit = outcome.fit
    console.print(per_class_table(fit.best_metrics, f"validation, best epoch {fit.best_epoch}"))
    colour = "green" if fit.status in ("completed", "early-stopped") else "red"
    console.print(
        f"[{colour}]{fit.status}[/] {fit.message} after {fit.epochs} epochs, {fit.steps:,} steps "
        f"in {time.perf_counter() - started:.1f} s ({fit.beats_per_second:,.0f} beats/s training); "
        f"{outcome.parameters:,} parameters",
        highlight=False,
    )
    console.print(f"saved {outcome.checkpoint} and {outcome.metrics_file}", highlight=False)
