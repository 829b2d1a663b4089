"""``mads-zoo train``: one training run with a live progress display."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from mads_zoo.cli.console import console
from mads_zoo.cli.data import NoVerifyOption, apply_no_verify
from mads_zoo.cli.render import per_class_table
from mads_zoo.config import RunRequest, parse_overrides, resolve_run
from mads_zoo.fileio import check_writable_folder
from mads_zoo.strategies import default_strategy, get_strategy
from mads_zoo.train.result import EpochRecord

if TYPE_CHECKING:
    from mads_zoo.train.run import TrainOutcome


class TrainDisplay:
    """The live bar (epoch, steps, loss, validation macro F1, lr) and one line per epoch."""

    def __init__(self) -> None:
        self.progress = Progress(
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
        self.task = self.progress.add_task("train", total=None, epoch=0, loss="-", f1="-", lr="-")

    def on_step(self, step: int, total: int) -> None:
        """Advance the bar."""
        self.progress.update(self.task, completed=step, total=total)

    def on_epoch(self, record: EpochRecord) -> None:
        """Show the epoch's figures on the bar and in a line of its own."""
        val = record.val
        self.progress.update(
            self.task,
            epoch=record.epoch,
            loss=f"{record.train_loss:.4f}",
            f1=f"{val.macro_f1:.4f}",
            lr=f"{record.lr:.1e}",
        )
        self.progress.console.print(
            f"epoch {record.epoch:>3}  loss {record.train_loss:.4f}  "
            f"val acc {val.accuracy:.4f}  macro F1 {val.macro_f1:.4f}  "
            f"macro recall {val.macro_recall:.4f}  lr {record.lr:.1e}  "
            f"({record.train_seconds:.0f} s training)",
            highlight=False,
        )


def _summary(outcome: TrainOutcome, seconds: float) -> None:
    result = outcome.record.result
    console.print(per_class_table(result.best, f"validation, best epoch {result.best_epoch}"))
    colour = "green" if result.status.trained else "red"
    console.print(
        f"[{colour}]{result.status.value}[/] {result.message} after {result.epochs} epochs, "
        f"{result.steps:,} steps in {seconds:.1f} s "
        f"({result.beats_per_second:,.0f} beats/s training); {result.parameters:,} parameters",
        highlight=False,
    )
    console.print(f"saved {outcome.checkpoint} and {outcome.metrics_file}", highlight=False)


ArchitectureArg = Annotated[str, typer.Argument(help="A registered architecture.")]
StrategyOption = Annotated[
    str | None,
    typer.Option(
        "--strategy",
        "--sampler",
        help="Imbalance strategy: a sampler, class-weighted or focal (default: the split's).",
    ),
]
PresetOption = Annotated[str | None, typer.Option(help="A preset of the architecture.")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="A config TOML (e.g. a bench's best config).")
]
SetOption = Annotated[
    list[str] | None, typer.Option("--set", help="key=value over the config; repeatable.")
]
DatasetOption = Annotated[
    str | None,
    typer.Option(help="A registered dataset (default: mitbih; on --split inter, mitbih-rhythm)."),
]
SplitOption = Annotated[str | None, typer.Option(help="intra (by beat) or inter (by patient).")]
EpochsOption = Annotated[
    int | None, typer.Option(min=1, help="Epochs of the un-resampled fold (default: the config's).")
]
BeatsOption = Annotated[
    int | None, typer.Option(min=1, help="Run length in training beats instead of epochs.")
]
SeedOption = Annotated[int, typer.Option(help="Seeds split, sampler, init and order.")]
PrecisionOption = Annotated[str, typer.Option(help="fp32, bf16 or auto.")]
DeviceOption = Annotated[str, typer.Option(help="auto, cpu or cuda.")]
MaxStepsOption = Annotated[
    int | None, typer.Option(min=1, help="Stop after this many optimizer steps.")
]
DataDirOption = Annotated[Path | None, typer.Option(help="Where the dataset's files are.")]
OutOption = Annotated[
    Path | None, typer.Option(help="Output folder (default: runs/train/ARCH-STRATEGY-seedN).")
]


def train_command(
    ctx: typer.Context,
    architecture: ArchitectureArg,
    strategy: StrategyOption = None,
    preset: PresetOption = None,
    config: ConfigOption = None,
    set_values: SetOption = None,
    dataset: DatasetOption = None,
    split: SplitOption = None,
    epochs: EpochsOption = None,
    beats: BeatsOption = None,
    seed: SeedOption = 0,
    precision: PrecisionOption = "auto",
    device: DeviceOption = "auto",
    max_steps: MaxStepsOption = None,
    data_dir: DataDirOption = None,
    out: OutOption = None,
    no_verify: NoVerifyOption = False,
) -> None:
    """Train one architecture; save its checkpoint (model.pt) and metrics.json.

    The recipe (optimizer, schedule, lr, batch size, epochs) comes from the architecture's
    defaults; change it with --set (e.g. --set schedule=plateau --set lr=1e-3).

    Examples: [cyan]mads-zoo train 2dcnn --strategy smote --epochs 3[/],
    [cyan]mads-zoo train 2dcnn --split inter[/] (rhythm-aware beats, class-weighted loss)
    """
    from mads_zoo.train.run import train_and_save  # torch: not for every `mads-zoo` command
    from mads_zoo.train.runtime import configure_threads

    apply_no_verify(ctx, no_verify)
    # a config file (a bench's best config) names its own sampler and loss
    from_file = strategy is None and config is not None
    chosen = None if from_file else get_strategy(strategy or default_strategy(split or "intra"))
    spec = resolve_run(
        RunRequest(
            architecture=architecture,
            preset=preset,
            config_file=config,
            overrides=parse_overrides(set_values or []),
            dataset=dataset,
            split=split,
            sampler=None if chosen is None else chosen.sampler,
            loss=None if chosen is None or chosen.loss == "ce" else chosen.loss,
            seed=seed,
            epochs=epochs,
            beats=beats,
            max_steps=max_steps,
            precision=precision,
            device=device,
        )
    )
    data = spec.data
    name = data.sampler if chosen is None else chosen.name
    out = out or Path("runs") / "train" / f"{spec.architecture}-{name}-seed{seed}"
    check_writable_folder(out, "the model")  # before training, not after it
    threads = configure_threads()
    console.print(
        f"training [bold]{spec.architecture}[/] on {data.dataset}/{data.split} "
        f"with strategy {name} (sampler {data.sampler}, loss {spec.training.recipe.loss}), "
        f"seed {seed}, {threads} threads",
        highlight=False,
    )
    display = TrainDisplay()
    started = time.perf_counter()
    with display.progress:
        outcome = train_and_save(
            spec, out, data_dir=data_dir, on_epoch=display.on_epoch, on_step=display.on_step
        )
    _summary(outcome, time.perf_counter() - started)
