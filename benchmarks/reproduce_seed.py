"""Reproduce the seed report's results table: 2dcnn and 1dcnngru at ``seed-best``.

The seed report (``MADS_report_FP.md``) claims on the intra-patient MIT-BIH test set:
2DCNN accuracy 0.9888, macro recall 0.9744 (batch 16); 1DCNNGRU accuracy 0.9858, macro
recall 0.9593 (batch 32), trained 30 epochs with early stopping and ReduceLROnPlateau (Adam at
1e-3, factor 0.2). This script trains both at ``seed-best`` (the seed's configurations and
batch sizes) for several seeds under two recipes, ``seed`` (the seed's optimizer and plateau
schedule, as the preset carries) and ``engine`` (the same configurations under the
architecture's default optimizer, schedule, lr and weight decay: AdamW, one-cycle), through
the engine's run core (the same path as ``mads-zoo train``), evaluates each model once on the
test fold, and prints (and writes) a table of mean ± std next to the seed's numbers.

``--parallel N`` trains N runs at once, each in a fresh process (on one GPU: N runs packed on
it; every run is the same function of its seed, alone or packed).

Reproduce on a GPU (the seed's protocol; 2 architectures x 2 recipes x 3 seeds, packed)::

    python benchmarks/reproduce_seed.py --splits intra --seeds 3 --epochs 30 --parallel 12 \
        --out results/seed

Verify end to end on a CPU with a tiny setting (not a reproduction)::

    python benchmarks/reproduce_seed.py --epochs 1 --max-steps 20 --seeds 1 --out /tmp/seed
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mads_zoo import codec
from mads_zoo.config import RunRequest, resolve_run
from mads_zoo.data.folds import prepare_folds
from mads_zoo.data.splits import left_out_classes
from mads_zoo.fileio import write_text
from mads_zoo.metrics import MetricName, Metrics
from mads_zoo.registry import get_registry
from mads_zoo.specs import SEED_RECIPE
from mads_zoo.train.engine import evaluate, model_device
from mads_zoo.train.fresh import importable, in_fresh_processes
from mads_zoo.train.result import RunStatus
from mads_zoo.train.run import fit
from mads_zoo.train.runtime import configure_threads, inference_precision, resolve_device
from mads_zoo.train.spec import Recipe

SEED_CLAIMS = {
    ("2dcnn", "intra"): {"accuracy": 0.9888, "macro_recall": 0.9744},
    ("1dcnngru", "intra"): {"accuracy": 0.9858, "macro_recall": 0.9593},
}
FIGURES = ("accuracy", "macro_recall", "macro_f1")
RECIPES = ("seed", "engine")
#: The recipe keys the two recipes differ in (``epochs`` is the script's for both).
RECIPE_KEYS = tuple(key for key in SEED_RECIPE if key != "epochs")


def recipe_overrides(arch_name: str, recipe: str) -> dict[str, object]:
    """Config overrides over ``seed-best`` for ``recipe``: none for ``seed``; for ``engine``
    the architecture's default optimizer, schedule, lr and weight decay (the engine's where
    the architecture sets none)."""
    if recipe == "seed":
        return {}
    defaults = get_registry().architecture(arch_name).defaults
    engine = Recipe()
    return {key: defaults.get(key, getattr(engine, key)) for key in RECIPE_KEYS}


@dataclass(frozen=True)
class SeedRun:
    """One trained and tested model of the reproduction (``runs.json`` holds them all)."""

    architecture: str
    split: str
    recipe: str
    seed: int
    status: RunStatus
    epochs: int
    best_epoch: int
    steps: int
    seconds: float
    test: Metrics


def run_one(
    arch_name: str, split: str, recipe: str, seed: int, args: argparse.Namespace, threads: int
) -> SeedRun:
    """Train ``arch_name`` at seed-best under ``recipe`` on ``split`` with ``seed``; test once."""
    configure_threads(threads)
    spec = resolve_run(
        RunRequest(
            architecture=arch_name,
            preset="seed-best",
            overrides=recipe_overrides(arch_name, recipe),
            dataset=args.dataset,
            split=split,
            sampler=args.sampler,
            seed=seed,
            epochs=args.epochs,
            max_steps=args.max_steps,
            early_stopping=args.early_stopping,
            monitor=MetricName.MACRO_RECALL,  # the seed selected on "recallmacro"
            precision=args.precision,
            device=args.device,
        )
    )
    layout = get_registry().architecture(arch_name).layout
    folds = prepare_folds(spec.data, layout, args.data_dir)
    started = time.perf_counter()
    model, result = fit(spec, folds)
    precision = inference_precision(result.precision, model_device(model))
    left_out = left_out_classes(split, folds.classes)  # Q on inter, as the leaderboard does
    test = evaluate(
        model, folds.final_test(), folds.classes, precision=precision, left_out=left_out
    )
    return SeedRun(
        architecture=arch_name,
        split=split,
        recipe=recipe,
        seed=seed,
        status=result.status,
        epochs=result.epochs,
        best_epoch=result.best_epoch,
        steps=result.steps,
        seconds=time.perf_counter() - started,
        test=test,
    )


def table(runs: list[SeedRun]) -> str:
    """Markdown table: mean ± std per (architecture, split) beside the seed's claims."""
    classes = runs[0].test.classes
    header = [
        "model",
        "split",
        "recipe",
        "seeds",
        *FIGURES,
        *(f"recall {c}" for c in classes),
        "seed's accuracy",
        "seed's macro recall",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    groups: dict[tuple[str, str, str], list[SeedRun]] = {}
    for run in runs:
        groups.setdefault((run.architecture, run.split, run.recipe), []).append(run)

    def stat(values: list[float]) -> str:
        return f"{np.mean(values):.4f} ± {np.std(values):.4f}"

    for (arch, split, recipe), group in groups.items():
        claim = SEED_CLAIMS.get((arch, split), {})
        cells = [arch, split, recipe, str(len(group))]
        cells += [stat([getattr(r.test, name) for r in group]) for name in FIGURES]
        cells += [stat([r.test.per_class[c].recall for r in group]) for c in classes]
        cells += [str(claim.get("accuracy", "-")), str(claim.get("macro_recall", "-"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=["2dcnn", "1dcnngru"])
    parser.add_argument("--splits", nargs="+", default=["intra", "inter"])
    parser.add_argument("--recipes", nargs="+", choices=RECIPES, default=list(RECIPES))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30, help="the seed trained 30")
    parser.add_argument("--early-stopping", type=int, default=6)
    parser.add_argument("--max-steps", type=int, default=None, help="cap (CPU smoke runs)")
    parser.add_argument("--sampler", default="smote", help="the seed's best runs used SMOTE")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--parallel", type=int, default=1,
                        help="runs at once, each in a fresh process (1: one after another, here)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads per run (default: the cores shared by --parallel); "
                        "CPU numbers change with it")
    parser.add_argument("--dataset", default="mitbih", help="a registered dataset")
    parser.add_argument("--data-dir", type=Path, default=None, help="where its files are")
    parser.add_argument("--out", type=Path, default=Path("results/seed-reproduction"))
    args = parser.parse_args(argv)
    threads = args.threads or max(1, configure_threads() // args.parallel)
    print(
        f"device {resolve_device(args.device)}, epochs {args.epochs}, seeds {args.seeds}, "
        f"recipes {', '.join(args.recipes)}, sampler {args.sampler}, {args.parallel} at once"
    )
    calls = [
        (arch, split, recipe, seed, args, threads)
        for split in args.splits
        for arch in args.archs
        for recipe in args.recipes
        for seed in range(args.seeds)
    ]
    done: Iterator[tuple[int, SeedRun]]
    if args.parallel == 1:
        done = ((i, run_one(*call)) for i, call in enumerate(calls))
    else:  # by name, so that a spawned process can import it (this file runs as __main__)
        worker = importable(run_one, __file__)
        done = in_fresh_processes(worker, calls, args.parallel)
    finished: dict[int, SeedRun] = {}
    for index, run in done:
        finished[index] = run
        print(
            f"{run.architecture:>9} {run.split} {run.recipe} seed {run.seed}: "
            f"{run.status.value} after {run.epochs} epochs ({run.seconds:.0f} s)  "
            f"test accuracy {run.test.accuracy:.4f}  macro recall {run.test.macro_recall:.4f}"
            f"  macro F1 {run.test.macro_f1:.4f}",
            flush=True,
        )
        runs = [finished[i] for i in sorted(finished)]
        write_text(args.out / "runs.json", codec.dumps(runs))
    markdown = table([finished[i] for i in sorted(finished)])
    write_text(args.out / "table.md", markdown + "\n")
    print(markdown)


if __name__ == "__main__":
    main()
