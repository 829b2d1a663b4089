"""Harness overhead: how much of a bench's wall time is not spent training models.

Reads a finished run folder (written by ``mads-zoo bench``) and splits its wall time into
model training (trials' own training time, divided by the trials that ran at once, plus the
final retraining) and overhead: Ray start, data preparation (folds, sampler cache), Ray's
trial scheduling and start-up, and report rendering (measured here by rendering again).
Then times ``prepare_folds`` for every sampler on the warm cache, to show that a second bench
on the same data does no preprocessing. Goal: overhead <= 10% of a quick bench.

Reproduce::

    .venv/bin/mads-zoo bench --all --out runs/quick          # the main job (about 30 min)
    .venv/bin/python benchmarks/harness_overhead.py runs/quick
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from mads_zoo.bench.report import render_report
from mads_zoo.bench.results import Combo, RunStore
from mads_zoo.data import prepare_folds
from mads_zoo.registry import get_registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    args = parser.parse_args()
    store = RunStore(args.run_dir)
    request = store.load_request()
    timing = json.loads((args.run_dir / "timing.json").read_text())
    combos = [Combo(*c) for c in request["combos"]]
    finals = store.all_finals(combos)
    trials = store.all_trials()
    budget = request["budget"]
    concurrency = max(1, timing["cores"] // budget["cpus_per_trial"])
    wall = timing["wall_seconds"]
    trial_train = sum(t["seconds"] or 0 for t in trials) / concurrency
    final_train = sum(f.get("final_seconds", 0) for f in finals)
    prepare = sum(f.get("prepare_seconds", 0) for f in finals)
    tuning = sum(f.get("tuning_seconds", 0) for f in finals)
    # runs from before step 7 had a wall-clock guard that stopped trials before their first
    # report; Ray reports no time for them, so bound it by the guard (none in newer runs)
    tuning_by_combo = {f["combo"]: f.get("tuning_seconds", 0) for f in finals}
    guard = budget.get("combo_time_limit_s") or float("inf")
    unreported = [t for t in trials if not t["epochs"] and t["status"] != "failed"]
    unreported_train = (
        sum(min(guard, tuning_by_combo.get(t["combo"], 0)) for t in unreported) / concurrency
    )
    started = time.perf_counter()
    render_report(store)
    report = time.perf_counter() - started
    total = wall + report
    overhead = total - trial_train - unreported_train - final_train
    print(
        f"run {args.run_dir}: {len(finals)} combos, {len(trials)} trials, "
        f"{concurrency} trials at once"
    )
    print(f"wall time (bench + report)      {total:8.1f} s")
    print(f"  training in trials (/{concurrency})     {trial_train:8.1f} s")
    print(f"  trials stopped before a report ({len(unreported)}) <= {unreported_train:8.1f} s")
    print(f"  final retraining + test       {final_train:8.1f} s")
    print(f"overhead                        {overhead:8.1f} s = {100 * overhead / total:.1f}%")
    print(f"  Ray start                     {timing['ray_start_seconds']:8.1f} s")
    print(f"  data preparation              {prepare:8.1f} s")
    scheduling = tuning - trial_train - unreported_train
    print(f"  Ray trial start/scheduling    {scheduling:8.1f} s")
    print(f"  report rendering              {report:8.1f} s")
    print("second bench on the same data (warm cache), prepare_folds per sampler:")
    layouts = {get_registry().architecture(c.architecture).layout for c in combos}
    for sampler in sorted({c.sampler for c in combos}):
        for layout in sorted(layouts):
            started = time.perf_counter()
            prepare_folds(
                request["dataset"],
                request["split"],
                sampler,
                seed=request["seed"],
                layout=layout,
                val_fraction=budget["val_fraction"],
            )
            print(f"  {sampler:>12} {layout}: {time.perf_counter() - started:5.2f} s")


if __name__ == "__main__":
    main()
