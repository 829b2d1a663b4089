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
import copy
import json
import time
from pathlib import Path
from typing import Any

import torch

from mads_zoo.config import parse_overrides, resolve_config, split_engine_keys
from mads_zoo.data import prepare_folds
from mads_zoo.models import build_model
from mads_zoo.registry import get_registry
from mads_zoo.train.engine import TrainSettings, evaluate
from mads_zoo.train.run import fit_on_folds
from mads_zoo.train.runtime import configure_threads, seed_everything

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


def reached(curve: list[dict[str, Any]], threshold: float) -> dict[str, Any] | None:
    """Seconds and beats until the first epoch whose validation accuracy is >= ``threshold``."""
    first = next((r for r in curve if r["val_accuracy"] >= threshold), None)
    return first and {"seconds": first["train_seconds"], "beats": first["beats"]}


def run(
    arch_name: str, recipe: str, seed: int, epochs: int | None, folds, initial, overrides
) -> dict:
    """Train a copy of ``initial`` with ``recipe``; return its curve and test metrics."""
    arch = get_registry().architecture(arch_name)
    recipe_keys = TODAY if recipe == "today" else {}
    config = resolve_config(arch, overrides={**overrides, **recipe_keys})
    _, engine_keys = split_engine_keys(config)
    extra = {"monitor": "macro_recall"} if recipe == "today" else {}
    settings = TrainSettings.from_config(
        engine_keys, epochs=epochs, seed=seed, early_stopping=0, **extra
    )
    model = copy.deepcopy(initial)
    curve: list[dict[str, Any]] = []

    def on_epoch(record: dict[str, Any]) -> None:
        curve.append(record)
        print(
            f"  {arch_name:>13} {recipe:>5} seed {seed} epoch {record['epoch']:>2}: "
            f"{record['train_seconds']:6.1f} s  val acc {record['val_accuracy']:.4f}  "
            f"macro F1 {record['val_macro_f1']:.4f}  lr {record['lr']:.1e}",
            flush=True,
        )

    seed_everything(seed)
    fit = fit_on_folds(model, folds, settings, on_epoch)
    test = folds.final_test()
    metrics = evaluate(model, test.x, test.y, folds.classes, precision=fit.precision)
    return {
        "arch": arch_name,
        "recipe": recipe,
        "seed": seed,
        "settings": settings.to_dict(),
        "curve": [
            {k: r[k] for k in ("epoch", "beats", "train_seconds", "val_accuracy", "val_macro_f1")}
            for r in curve
        ],
        "best_epoch": fit.best_epoch,
        "train_seconds": fit.train_seconds,
        "beats_per_second": fit.beats_per_second,
        "to": {str(t): reached(curve, t) for t in THRESHOLDS},
        "test_accuracy": metrics["accuracy"],
        "test_macro_f1": metrics["macro_f1"],
    }


def table(results: list[dict[str, Any]]) -> str:
    """The markdown table of ``results`` plus the today/new ratios per architecture."""
    lines = [
        "| architecture | recipe | seed | batch | lr | epochs | train s | s to val acc 0.98 "
        "| s to 0.985 | beats to 0.985 | test acc | test macro F1 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        s = r["settings"]
        to = {t: r["to"][str(t)] for t in THRESHOLDS}
        cell = {t: f"{to[t]['seconds']:.0f}" if to[t] else "not reached" for t in THRESHOLDS}
        beats = f"{to[0.985]['beats']:,}" if to[0.985] else "-"
        lines.append(
            f"| {r['arch']} | {r['recipe']} | {r['seed']} | {s['batch_size']} | {s['lr']:g} | "
            f"{len(r['curve'])} | {r['train_seconds']:.0f} | {cell[0.98]} | {cell[0.985]} | "
            f"{beats} | {r['test_accuracy']:.4f} | {r['test_macro_f1']:.3f} |"
        )
    ratios = []
    for r in results:
        if r["recipe"] != "new":
            continue
        same = (r["arch"], r["seed"])
        old = next(
            (o for o in results if o["recipe"] == "today" and (o["arch"], o["seed"]) == same),
            None,
        )
        if old is None:
            continue
        parts = []
        for t in THRESHOLDS:
            new_to, old_to = r["to"][str(t)], old["to"][str(t)]
            if new_to and old_to:
                parts.append(f"to {t}: {old_to['seconds'] / new_to['seconds']:.2f}x faster")
            elif new_to:
                parts.append(f"to {t}: today's recipe never reached it in {len(old['curve'])} ep")
            else:
                parts.append(f"to {t}: not reached by the new recipe")
        ratios.append(f"- {r['arch']} (seed {r['seed']}): " + "; ".join(parts))
    return "\n".join([*lines, "", *ratios])


def plot(results: list[dict[str, Any]], path: Path) -> Path:
    """Validation accuracy against training seconds, one panel per architecture."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    archs = list(dict.fromkeys(r["arch"] for r in results))
    fig, axes = plt.subplots(1, len(archs), figsize=(4.2 * len(archs), 3.6), dpi=110)
    for ax, arch in zip(list(axes) if len(archs) > 1 else [axes], archs, strict=True):
        for r in (r for r in results if r["arch"] == arch):
            seconds = [c["train_seconds"] for c in r["curve"]]
            accuracy = [c["val_accuracy"] for c in r["curve"]]
            style = "-" if r["recipe"] == "new" else "--"
            ax.plot(
                seconds,
                accuracy,
                style,
                marker="o",
                ms=3,
                label=f"{r['recipe']} (seed {r['seed']})",
            )
        for threshold in THRESHOLDS:
            ax.axhline(threshold, color="grey", lw=0.6, ls=":")
        ax.set_ylim(0.955, 0.992)
        ax.set_title(arch, fontsize=10)
        ax.set_xlabel("training seconds (2 cores)")
        ax.set_ylabel("validation accuracy")
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    parser.add_argument(
        "--report",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="train nothing: print the table of earlier --out files (and --plot them)",
    )
    parser.add_argument("--plot", type=Path, help="save the validation curves as a PNG here")
    args = parser.parse_args()
    if args.report:
        results = [r for path in args.report for r in json.loads(path.read_text())]
        print(table(results))
        if args.plot:
            print(f"saved {plot(results, args.plot)}")
        return
    threads = configure_threads()
    print(f"torch {torch.__version__}, {threads} threads, intra split, sampler none", flush=True)
    registry = get_registry()
    overrides = parse_overrides(args.overrides)
    results = []
    started = time.perf_counter()
    for name in args.archs:
        arch = registry.architecture(name)
        for seed in args.seeds:  # as `mads-zoo train --seed`: split, init and order
            folds = prepare_folds("mitbih", "intra", "none", seed=seed, layout=arch.layout)
            seed_everything(seed)
            config = resolve_config(arch, overrides=overrides)
            initial = build_model(arch, config, num_classes=len(folds.classes))
            for recipe in args.recipes:
                epochs = args.today_epochs if recipe == "today" else args.epochs
                results.append(run(name, recipe, seed, epochs, folds, initial, overrides))
                if args.out:
                    args.out.parent.mkdir(parents=True, exist_ok=True)
                    args.out.write_text(json.dumps(results, indent=2))
    print(f"\n{time.perf_counter() - started:.0f} s in all\n")
    print(table(results))
    if args.plot:
        print(f"saved {plot(results, args.plot)}")


if __name__ == "__main__":
    main()
