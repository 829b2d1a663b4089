"""Inter-patient quality by input and imbalance strategy: what the rhythm-aware inputs buy.

For each architecture x dataset x strategy, train one run on DS1 (validation: whole DS1
records, carved before anything else) with the architecture's defaults, then score it once on
DS2. Prints one row per run (validation and test accuracy, macro F1, S and V Se/+P) beside
the trivial "always N" on the same folds. Selection is by validation only; the test columns
are shown so the reader can see whether validation ranks the runs as test does.

Reproduce (about 2 minutes per run on a 2-core CPU)::

    python benchmarks/inter_inputs.py --archs 2dcnn \\
        --datasets mitbih mitbih-rhythm mitbih-rhythm-2lead --strategies none class-weighted
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

from mads_zoo import codec
from mads_zoo.config import RunRequest, resolve_run
from mads_zoo.data.folds import prepare_folds
from mads_zoo.data.splits import left_out_classes
from mads_zoo.fileio import write_text
from mads_zoo.metrics import Metrics, always_majority
from mads_zoo.registry import get_registry
from mads_zoo.strategies import get_strategy
from mads_zoo.train.engine import evaluate
from mads_zoo.train.run import fit
from mads_zoo.train.runtime import configure_threads


@dataclass(frozen=True)
class InterRun:
    """One run of the comparison (``--out`` writes them all)."""

    architecture: str
    dataset: str
    strategy: str
    seed: int
    val_fraction: float
    seconds: float
    val: Metrics
    test: Metrics


def figures(m: Metrics) -> str:
    """Accuracy, macro F1 and S, V Se/+P of ``m`` as table cells."""
    cells = [f"{m.accuracy:.3f}", f"{m.macro_f1:.3f}"]
    for name in ("S", "V"):
        c = m.per_class[name]
        cells.append(f"{c.recall:.2f} / {c.precision:.2f}")
    return " | ".join(cells)


def run_one(
    args: argparse.Namespace, arch: str, dataset: str, strategy: str, seed: int
) -> InterRun:
    """Train ``arch`` on ``dataset`` under ``strategy``; score it on validation and on DS2."""
    chosen = get_strategy(strategy)
    overrides = dict(kv.split("=", 1) for kv in args.set)
    request = RunRequest(
        architecture=arch,
        overrides={k: codec_value(v) for k, v in overrides.items()},
        dataset=dataset,
        split="inter",
        sampler=chosen.sampler,
        loss=chosen.loss,
        seed=seed,
        data_seed=0,
        val_fraction=args.val_fraction,
        epochs=args.epochs,
        max_steps=args.max_steps,
    )
    spec = resolve_run(request)
    layout = get_registry().architecture(arch).layout
    folds = prepare_folds(spec.data, layout)
    started = time.perf_counter()
    model, result = fit(spec, folds)
    left_out = left_out_classes("inter", folds.classes)
    test = evaluate(model, folds.final_test(), folds.classes, left_out=left_out)
    seconds = time.perf_counter() - started
    return InterRun(arch, dataset, strategy, seed, args.val_fraction, seconds, result.best, test)


def codec_value(text: str) -> object:
    """``--set`` values: numbers where they parse, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> None:
    """Run the grid and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--archs", nargs="+", default=["2dcnn"])
    parser.add_argument("--datasets", nargs="+", default=["mitbih", "mitbih-rhythm"])
    parser.add_argument("--strategies", nargs="+", default=["none", "class-weighted"])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--val-fraction", type=float, default=0.1, help="DS1 share held out")
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--set", nargs="*", default=[], help="key=value over every config")
    parser.add_argument("--out", type=Path, default=None, help="write the runs as JSON here")
    args = parser.parse_args()
    configure_threads()
    runs: list[InterRun] = []
    header = "| arch | dataset | strategy | seed | val share | val acc | val macro F1 | "
    header += "val S Se/+P | val V Se/+P | test acc | test macro F1 | test S Se/+P | "
    header += "test V Se/+P | s |"
    print(header)
    print("|" + "---|" * 14)
    for dataset in args.datasets:
        for arch in args.archs:
            for strategy in args.strategies:
                for seed in range(args.seeds):
                    run = run_one(args, arch, dataset, strategy, seed)
                    runs.append(run)
                    row = f"| {arch} | {dataset} | {strategy} | {seed} | {args.val_fraction:g} | "
                    row += f"{figures(run.val)} | "
                    print(row + f"{figures(run.test)} | {run.seconds:.0f} |", flush=True)
    if runs:
        last = runs[-1].test
        trivial = Metrics.of_matrix(always_majority(last.matrix.sum(axis=1)), last.classes)
        print(f"always N on DS2: accuracy {trivial.accuracy:.3f}")
    if args.out is not None:
        write_text(args.out, codec.dumps(runs))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
