"""How long the final models train: a learning curve on **validation only**.

A budget's ``final_beats`` is a default, and defaults are chosen on validation data (step 13:
the test fold chooses nothing). This script trains an architecture's defaults with the
bench's recipe, as a final run of ``quick`` would (the same split, validation fraction,
precision, thread count, final model and sampler seeds), for each candidate length, and prints
the **validation** macro F1 of every run and its mean over the seeds. It never builds a model
input from the test fold nor evaluates on it.

The rule that picks ``final_beats`` is declared before the numbers: the shortest candidate
whose mean validation macro F1 is within one seed standard deviation (of the longest
candidate's seeds) of the longest candidate's mean.

Reproduce (split seed 0, the calibration seed; ~15 minutes on 2 cores, one process per seed)::

    .venv/bin/python benchmarks/calibrate_final_beats.py 2dcnn --seed-index 0 &
    .venv/bin/python benchmarks/calibrate_final_beats.py 2dcnn --seed-index 1; wait
    .venv/bin/python benchmarks/calibrate_final_beats.py 2dcnn --summarise
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from mads_zoo.bench.budget import get_budget
from mads_zoo.bench.harness import CALIBRATION_SEED
from mads_zoo.bench.plan import final_sampler_seed, final_seed
from mads_zoo.bench.trial import budget_request
from mads_zoo.config import resolve_run
from mads_zoo.data.folds import prepare_folds
from mads_zoo.registry import get_registry
from mads_zoo.train.run import fit
from mads_zoo.train.runtime import configure_threads

#: Candidate final lengths, in training beats.
CANDIDATES = (125_000, 250_000, 500_000)


def validation_score(
    arch: str, beats: int, index: int, budget_name: str, dataset: str = "mitbih"
) -> dict[str, Any]:
    """Validation macro F1 of ``arch``'s defaults trained ``beats`` beats, final seed ``index``."""
    budget = get_budget(budget_name)
    configure_threads(budget.trial_threads)
    request = budget_request(
        budget,
        architecture=arch,
        strategy="none",
        config={},
        dataset=dataset,
        split="intra",
        data_seed=CALIBRATION_SEED,
        seed=final_seed(CALIBRATION_SEED, index),
        sampler_seed=final_sampler_seed(CALIBRATION_SEED, index),
        beats=beats,
        device="cpu",
    )
    spec = resolve_run(request)
    layout = get_registry().architecture(arch).layout
    folds = prepare_folds(spec.data, layout)
    started = time.perf_counter()
    _, result = fit(spec, folds)
    return {
        "arch": arch,
        "beats": beats,
        "seed_index": index,
        "val_macro_f1": result.best.value(budget.metric),
        "val_accuracy": result.best.accuracy,
        "precision": result.precision,
        "seconds": time.perf_counter() - started,
    }


def summarise(rows: list[dict[str, Any]]) -> str:
    """Per candidate: mean and spread of validation macro F1, and the length the rule picks."""
    by_beats: dict[int, list[float]] = {}
    for row in rows:
        by_beats.setdefault(int(row["beats"]), []).append(float(row["val_macro_f1"]))
    lines = ["beats      seeds  val macro F1 (mean)  sd      runs"]
    for beats, scores in sorted(by_beats.items()):
        sd = statistics.stdev(scores) if len(scores) > 1 else float("nan")
        runs = " ".join(f"{s:.4f}" for s in scores)
        lines.append(f"{beats:>9,}  {len(scores):>5}  {statistics.mean(scores):19.4f}  "
                     f"{sd:.4f}  {runs}")  # fmt: skip
    longest = max(by_beats)
    reference = by_beats[longest]
    if len(reference) > 1:
        tolerance = statistics.stdev(reference)
        target = statistics.mean(reference) - tolerance
        pick = min(b for b, s in by_beats.items() if statistics.mean(s) >= target)
        lines.append(f"rule: shortest mean >= {target:.4f} (longest's mean - 1 sd): {pick:,} beats")
    return "\n".join(lines)


def main() -> None:
    """Run one seed's candidates (appending to the results file), or summarise them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arch", help="architecture (its defaults are trained)")
    parser.add_argument("--seed-index", type=int, default=0, help="final seed index k")
    parser.add_argument("--beats", type=int, nargs="*", default=list(CANDIDATES))
    parser.add_argument("--budget", default="quick", help="budget whose recipe keys apply")
    parser.add_argument("--dataset", default="mitbih", help="a registered dataset (intra split)")
    parser.add_argument("--results", type=Path, default=Path("runs/calibrate-final-beats.jsonl"))
    parser.add_argument("--summarise", action="store_true", help="print the table and the pick")
    args = parser.parse_args()
    if args.summarise:
        rows = [json.loads(line) for line in args.results.read_text().splitlines() if line]
        print(summarise([r for r in rows if r["arch"] == args.arch]))
        return
    args.results.parent.mkdir(parents=True, exist_ok=True)
    for beats in args.beats:
        row = validation_score(args.arch, beats, args.seed_index, args.budget, args.dataset)
        print(json.dumps(row), flush=True)
        with args.results.open("a") as out:
            out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
