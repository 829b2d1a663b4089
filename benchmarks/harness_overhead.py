"""Harness overhead: how much of a bench's wall time its run slots did not spend training.

Reads a finished run folder (written by ``mads-zoo bench``): the wall time of the invocation,
the Ray cluster's slots (CPUs / ``cpus_per_trial``) and every run's own seconds (model build,
training, validation, test), weighted by the share of a slot it reserved (a short batch's runs
share the CPUs: :func:`mads_zoo.bench.cluster.batch_cpus`). Busy share = weighted run seconds
/ (slots x wall); the rest is harness overhead: Ray start, data preparation (folds, sampler
cache, object store), Ray task start-up, and slots idle while a rung waits for its slowest run
(the price of deciding every rung synchronously). Also times rendering the report.

Reproduce::

    make bench                                             # the main job (runs/bench/...)
    .venv/bin/python benchmarks/harness_overhead.py runs/bench/mitbih-intra-quick-*
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

from mads_zoo.bench.cluster import batch_cpus
from mads_zoo.bench.report import render_report
from mads_zoo.bench.results import RunStore, Stage, TrialRecord


def batch_key(trial: TrialRecord, suggest_batch: int) -> tuple[str, int, int]:
    """The planner's batch of a run: rung-0 runs go in searcher batches, later stages whole."""
    spec = trial.spec
    first_rung = spec.stage is Stage.TUNE and spec.rung == 0
    searcher_batch = spec.index // suggest_batch if first_rung else 0
    return spec.stage.value, spec.rung, searcher_batch


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    args = parser.parse_args(argv)
    store = RunStore(args.run_dir)
    run = store.load_run()
    timing = store.load_timing()
    trials = store.all_trials()
    cpus, per_run = timing.cluster.cpus, run.budget.cpus_per_trial
    slots = max(1, int(cpus // per_run))
    wall = timing.wall_seconds
    batches: dict[tuple[str, int, int], int] = defaultdict(int)
    for t in trials:
        batches[batch_key(t, run.budget.suggest_batch)] += 1
    share = {key: batch_cpus(n, cpus, per_run) / per_run for key, n in batches.items()}
    busy = sum(t.seconds * share[batch_key(t, run.budget.suggest_batch)] for t in trials)
    started = time.perf_counter()
    render_report(store)
    report = time.perf_counter() - started
    total = wall + report
    print(f"run {args.run_dir}: {len(trials)} runs, {slots} slots, wall {wall:,.0f} s")
    print(f"  in runs (build, train, validate, test): {busy:,.0f} of {slots * total:,.0f} slot-s")
    print(f"  Ray start                 {timing.ray_start_seconds:8.1f} s")
    print(f"  data preparation          {timing.prepare_seconds:8.1f} s")
    print(f"  report rendering          {report:8.1f} s")
    print(f"  busy share of the slots   {busy / (slots * total):8.1%}")
    print(f"  harness overhead share    {1 - busy / (slots * total):8.1%}")
    stages: dict[str, list[float]] = defaultdict(list)
    for t in trials:
        stages[f"{t.spec.stage.value} rung {t.spec.rung}"].append(t.seconds)
    print("  per stage: runs, run seconds, longest run")
    for name, seconds in stages.items():
        print(f"    {name:14} {len(seconds):4d} {sum(seconds):9.0f} s {max(seconds):8.0f} s")


if __name__ == "__main__":
    main()
