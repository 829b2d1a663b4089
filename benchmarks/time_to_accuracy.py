"""Time to a good model: the engine's recipe against the seed's recipe, same model and data.

For each architecture at its defaults, sampler ``none``, on the real MIT-BIH intra split:
both recipes start from the same initial weights (built with the seed) and see the same
folds. After every epoch the whole validation fold is scored; the first epoch at which
validation accuracy reaches 0.98 and 0.985 gives the training seconds and beats to that
accuracy. The kept model (the engine's best validation epoch) is then scored once on the test
fold. Training seconds exclude validation.

- ``new``: the architecture's defaults (AdamW, one-cycle, its batch size, lr and epochs).
- ``today``: the recipe before step 7: Adam, lr 1e-3, batch 32, ReduceLROnPlateau (factor
  0.2, patience 2) on validation macro recall, no weight decay, best epoch by macro recall.

Reproduce (about 50 minutes on 2 cores, run alone: parallel work distorts every timing)::

    .venv/bin/python benchmarks/time_to_accuracy.py --out runs/time_to_accuracy.json
    .venv/bin/python benchmarks/time_to_accuracy.py --archs 2dcnn --seeds 0 1 2 --recipes new
    .venv/bin/python benchmarks/time_to_accuracy.py --report a.json b.json --plot curves.png
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mads_zoo import codec
from mads_zoo.config import RunRequest, parse_overrides, resolve_run
from mads_zoo.data.folds import Folds, prepare_folds
from mads_zoo.data.spec import DataSpec
from mads_zoo.fileio import write_text
from mads_zoo.metrics import MetricName
from mads_zoo.plots import pyplot, save
from mads_zoo.registry import get_registry
from mads_zoo.train.engine import evaluate
from mads_zoo.train.result import EpochRecord
from mads_zoo.train.run import fit
from mads_zoo.train.runtime import configure_threads
from mads_zoo.train.spec import Recipe

THRESHOLDS = (0.98, 0.985)
#: The recipe the engine had before step 7 (``--set`` keys that bring it back).
TODAY = {
    "optimizer": "adam",
    "schedule": "plateau",
    "lr": 1e-3,
    "batch_size": 32,
    "weight_decay": 0.0,
    "factor": 0.2,
    "patience": 2,
}


@dataclass(frozen=True)
class Point:
    """One validation of a run: where it was and its validation accuracy and macro F1."""

    epoch: int
    beats: int
    train_seconds: float
    val_accuracy: float
    val_macro_f1: float


@dataclass(frozen=True)
class Reached:
    """Training seconds and beats until validation accuracy first reached a threshold."""

    seconds: float
    beats: int


@dataclass(frozen=True)
class RecipeRun:
    """One architecture trained with one recipe and seed (``--out`` holds a list of them)."""

    arch: str
    recipe: str
    seed: int
    settings: Recipe
    curve: list[Point]
    best_epoch: int
    train_seconds: float
    beats_per_second: float
    to: dict[str, Reached | None] = field(default_factory=dict)
    test_accuracy: float = 0.0
    test_macro_f1: float = 0.0


def reached(curve: list[Point], threshold: float) -> Reached | None:
    """Seconds and beats until the first epoch whose validation accuracy is >= ``threshold``."""
    first = next((p for p in curve if p.val_accuracy >= threshold), None)
    return Reached(first.train_seconds, first.beats) if first else None


def run(
    arch: str, recipe: str, seed: int, epochs: int | None, folds: Folds, args: argparse.Namespace
) -> RecipeRun:
    """Train ``arch`` with ``recipe`` (the same initial weights for every recipe of a seed)."""
    today = recipe == "today"
    spec = resolve_run(
        RunRequest(
            architecture=arch,
            overrides={**parse_overrides(args.overrides), **(TODAY if today else {})},
            dataset=args.dataset,
            seed=seed,
            epochs=epochs,
            early_stopping=0,
            monitor=MetricName.MACRO_RECALL if today else None,
        )
    )
    curve: list[Point] = []

    def on_epoch(record: EpochRecord) -> None:
        val = record.val
        curve.append(Point(record.epoch, record.beats, record.train_seconds, val.accuracy,
                           val.macro_f1))  # fmt: skip
        print(
            f"  {arch:>13} {recipe:>5} seed {seed} epoch {record.epoch:>2}: "
            f"{record.train_seconds:6.1f} s  val acc {val.accuracy:.4f}  "
            f"macro F1 {val.macro_f1:.4f}  lr {record.lr:.1e}",
            flush=True,
        )

    model, result = fit(spec, folds, on_epoch=on_epoch)
    test = evaluate(model, folds.final_test(), folds.classes, precision=result.precision)
    return RecipeRun(
        arch=arch,
        recipe=recipe,
        seed=seed,
        settings=spec.training.recipe,
        curve=curve,
        best_epoch=result.best_epoch,
        train_seconds=result.train_seconds,
        beats_per_second=result.beats_per_second,
        to={str(t): reached(curve, t) for t in THRESHOLDS},
        test_accuracy=test.accuracy,
        test_macro_f1=test.macro_f1,
    )


def table(results: list[RecipeRun]) -> str:
    """The markdown table of ``results`` plus the today/new ratios per architecture."""
    lines = [
        "| architecture | recipe | seed | batch | lr | epochs | train s | s to val acc 0.98 "
        "| s to 0.985 | beats to 0.985 | test acc | test macro F1 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        to = {t: r.to[str(t)] for t in THRESHOLDS}
        cell = {t: f"{x.seconds:.0f}" if (x := to[t]) else "not reached" for t in THRESHOLDS}
        beats = f"{x.beats:,}" if (x := to[0.985]) else "-"
        lines.append(
            f"| {r.arch} | {r.recipe} | {r.seed} | {r.settings.batch_size} | "
            f"{r.settings.lr:g} | {len(r.curve)} | {r.train_seconds:.0f} | {cell[0.98]} | "
            f"{cell[0.985]} | {beats} | {r.test_accuracy:.4f} | {r.test_macro_f1:.3f} |"
        )
    return "\n".join([*lines, "", *ratios(results)])


def ratios(results: list[RecipeRun]) -> list[str]:
    """How much sooner the new recipe reached each threshold, per architecture and seed."""
    lines = []
    for r in results:
        old = next(
            (o for o in results if o.recipe == "today" and (o.arch, o.seed) == (r.arch, r.seed)),
            None,
        )
        if r.recipe != "new" or old is None:
            continue
        parts = []
        for t in THRESHOLDS:
            new_to, old_to = r.to[str(t)], old.to[str(t)]
            if new_to and old_to:
                parts.append(f"to {t}: {old_to.seconds / new_to.seconds:.2f}x faster")
            elif new_to:
                parts.append(f"to {t}: today's recipe never reached it in {len(old.curve)} ep")
            else:
                parts.append(f"to {t}: not reached by the new recipe")
        lines.append(f"- {r.arch} (seed {r.seed}): " + "; ".join(parts))
    return lines


def plot(results: list[RecipeRun], path: Path) -> Path:
    """Validation accuracy against training seconds, one panel per architecture."""
    archs = list(dict.fromkeys(r.arch for r in results))
    fig, axes = pyplot().subplots(1, len(archs), figsize=(4.2 * len(archs), 3.6), dpi=110,
                                  squeeze=False)  # fmt: skip
    for ax, arch in zip(axes[0], archs, strict=True):
        for r in (r for r in results if r.arch == arch):
            seconds = [p.train_seconds for p in r.curve]
            accuracy = [p.val_accuracy for p in r.curve]
            style = "-" if r.recipe == "new" else "--"
            ax.plot(seconds, accuracy, style, marker="o", ms=3, label=f"{r.recipe} (seed {r.seed})")
        for threshold in THRESHOLDS:
            ax.axhline(threshold, color="grey", lw=0.6, ls=":")
        ax.set_ylim(0.955, 0.992)
        ax.set_title(arch, fontsize=10)
        ax.set_xlabel("training seconds (2 cores)")
        ax.set_ylabel("validation accuracy")
        ax.legend(fontsize=7, loc="lower right")
    return save(fig, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=["2dcnn", "1dcnngru", "2dtransformer"])
    parser.add_argument("--recipes", nargs="+", default=["new", "today"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument(
        "--today-epochs", type=int, default=8, help="epochs of today's recipe (default 8)"
    )
    parser.add_argument("--epochs", type=int, help="epochs of the new recipe (default: config)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config keys over the defaults, for both recipes (e.g. gru_norm=true)",
    )
    parser.add_argument("--dataset", default="mitbih", help="a registered dataset")
    parser.add_argument("--data-dir", type=Path, default=None, help="where its files are")
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    parser.add_argument(
        "--report",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="train nothing: print the table of earlier --out files (and --plot them)",
    )
    parser.add_argument("--plot", type=Path, help="save the validation curves as a PNG here")
    args = parser.parse_args(argv)
    if args.report:
        results = [
            r for path in args.report for r in codec.loads(list[RecipeRun], path.read_text())
        ]
        print(table(results))
        if args.plot:
            print(f"saved {plot(results, args.plot)}")
        return
    threads = configure_threads()
    print(f"torch {torch.__version__}, {threads} threads, intra split, sampler none", flush=True)
    results = []
    started = time.perf_counter()
    for arch in args.archs:
        layout = get_registry().architecture(arch).layout
        for seed in args.seeds:  # as `mads-zoo train --seed`: split, init and order
            folds = prepare_folds(DataSpec(args.dataset, seed=seed), layout, args.data_dir)
            for recipe in args.recipes:
                epochs = args.today_epochs if recipe == "today" else args.epochs
                results.append(run(arch, recipe, seed, epochs, folds, args))
                if args.out:
                    write_text(args.out, codec.dumps(results))
    print(f"\n{time.perf_counter() - started:.0f} s in all\n")
    print(table(results))
    if args.plot:
        print(f"saved {plot(results, args.plot)}")


if __name__ == "__main__":
    main()
