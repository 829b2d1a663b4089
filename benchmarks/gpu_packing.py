"""Aggregate training throughput on one GPU: 1 run vs N runs at once, per architecture.

For every architecture (its defaults, sampler ``none``, the intra split): ``--beats`` training
beats per run, through the engine's run core (the same path as a bench's runs, real MIT-BIH
folds put once in Ray's object store), first one run alone on the GPU, then ``N`` runs at once
each reserving ``1/N`` GPU (``--packs``). Printed per row: the wall time of the batch (process
and CUDA start-up included), the aggregate training beats/s over that wall time, and the
ratio to one run alone. Then the ``full`` budget's wall time on one GPU, extrapolated from the
best measured rate of each architecture (formula printed). Every run's validation score is
printed too: the same seed must give the same number alone and packed.

Reproduce on the lent GPU (about 8 minutes on one H200)::

    .venv/bin/python benchmarks/gpu_packing.py --out runs/gpu-packing.json

``--launcher processes`` packs the runs without Ray (the lent machine's image has no Ray, and
its wheel is over what a call may carry): each run in a fresh process of its own, as Ray's
``max_calls=1`` workers are, preparing its folds from the on-disk cache the parent warmed.

On a CPU it runs (Ray's logical GPUs, CUDA unavailable: trained on the CPU) but measures
nothing about GPUs; the tests run it that way on tiny data.
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mads_zoo.bench.budget import get_budget
from mads_zoo.bench.cluster import ray_session
from mads_zoo.bench.packing import gpu_share
from mads_zoo.bench.plan import tuning_rungs
from mads_zoo.config import RunRequest, resolve_run
from mads_zoo.data.folds import Folds, prepare_folds
from mads_zoo.hardware import available_cores
from mads_zoo.registry import get_registry
from mads_zoo.strategies import select_strategies
from mads_zoo.train.fresh import importable, in_fresh_processes
from mads_zoo.train.run import fit
from mads_zoo.train.runtime import configure_threads

LAUNCHERS = ("ray", "processes")


@dataclass(frozen=True)
class Batch:
    """``runs`` runs of one architecture trained at once on one GPU."""

    architecture: str
    runs: int
    beats: int
    wall_seconds: float
    device: str
    scores: list[float]

    @property
    def beats_per_second(self) -> float:
        """Training beats of the batch over its wall time."""
        return self.runs * self.beats / self.wall_seconds


def _request(arch: str, beats: int, seed: int, dataset: str) -> RunRequest:
    return RunRequest(architecture=arch, dataset=dataset, split="intra", seed=seed, data_seed=13,
                      val_fraction=0.05, beats=beats, device="auto")  # fmt: skip


def train_one(arch: str, beats: int, seed: int, dataset: str, folds: Folds) -> tuple[float, str]:
    """One run (in a Ray task): its validation macro F1 and the device it trained on.

    ``auto`` is the GPU Ray gave the task, or the CPU where CUDA is not usable.
    """
    import torch

    configure_threads(1)
    _, result = fit(resolve_run(_request(arch, beats, seed, dataset)), folds)
    return result.best.macro_f1, "cuda" if torch.cuda.is_available() else "cpu"


def run_folds(arch: str, beats: int, dataset: str) -> Folds:
    """The folds every run of ``arch`` trains on (a tuning run's: no test fold)."""
    spec = resolve_run(_request(arch, beats, 0, dataset))
    layout = get_registry().architecture(arch).layout
    return prepare_folds(spec.data, layout).for_run(with_test=False)


def train_alone(arch: str, beats: int, seed: int, dataset: str) -> tuple[float, str]:
    """:func:`train_one` on folds this process prepares itself (a fresh process, no Ray)."""
    return train_one(arch, beats, seed, dataset, run_folds(arch, beats, dataset))


def measure(
    arch: str, runs: int, beats: int, dataset: str, launcher: str, folds_ref: Any
) -> Batch:
    """Train ``runs`` seeds of ``arch`` at once, each on ``1/runs`` of one GPU."""
    started = time.perf_counter()
    if launcher == "ray":
        import ray

        task = ray.remote(max_calls=1)(train_one).options(num_gpus=gpu_share(runs), num_cpus=1)
        results = ray.get(
            [task.remote(arch, beats, seed, dataset, folds_ref) for seed in range(runs)]
        )
    else:  # by name, so that a spawned process can import it (this file runs as __main__)
        worker = importable(train_alone, __file__)
        calls = [(arch, beats, seed, dataset) for seed in range(runs)]
        done = dict(in_fresh_processes(worker, calls, runs))
        results = [done[seed] for seed in range(runs)]
    wall = time.perf_counter() - started
    return Batch(arch, runs, beats, wall, results[0][1], [score for score, _ in results])


def full_budget_hours(rates: dict[str, float], strategies: int) -> tuple[float, str]:
    """Hours of ``full`` on one GPU at ``rates`` (beats/s per architecture), and the formula."""
    budget = get_budget("full")
    combos = strategies  # per architecture
    tuning = budget.trials * budget.rung_beats  # rung 0, per combo
    sizes = tuning_rungs(budget, combos * len(rates))
    later = sum(size * budget.rung_beats_at(r) for r, size in enumerate(sizes[1:], start=1))
    final = budget.final_seeds * budget.final_beats  # every combo is a finalist in full
    per_arch = combos * (tuning + final) + later / len(rates)
    seconds = sum(per_arch / rate for rate in rates.values())
    formula = (
        f"sum over architectures of [{combos} combos x ({budget.trials} x {budget.rung_beats:,} "
        f"+ {budget.final_seeds} x {budget.final_beats:,}) + {later / len(rates):,.0f} "
        "(its share of the later rungs)] / its best aggregate beats/s"
    )
    return seconds / 3600, formula


def main(argv: list[str] | None = None) -> None:
    """Measure every architecture alone and packed; print the table and the extrapolation."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=None, help="default: every registered")
    parser.add_argument("--packs", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--beats", type=int, default=250_000, help="training beats per run")
    parser.add_argument("--dataset", default="mitbih")
    parser.add_argument("--launcher", choices=LAUNCHERS, default="ray",
                        help="what packs the runs: Ray tasks (as the bench) or plain processes")
    parser.add_argument("--num-gpus", type=float, default=None, help="logical GPUs (tests)")
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON")
    parser.add_argument("--ray-dir", type=Path, default=Path("runs/gpu-packing"),
                        help="where Ray's logs go")  # fmt: skip
    args = parser.parse_args(argv)
    registry = get_registry()
    archs = args.archs or sorted(e.name for e in registry.find("architectures"))
    rows: list[Batch] = []
    session: AbstractContextManager[object] = nullcontext()
    if args.launcher == "ray":
        session = ray_session(args.ray_dir, None, available_cores(), num_gpus=args.num_gpus)
    with session:
        for arch in archs:
            folds = run_folds(arch, args.beats, args.dataset)  # also fills the on-disk cache
            folds_ref = None
            if args.launcher == "ray":
                import ray

                folds_ref = ray.put(folds)
            for runs in args.packs:
                batch = measure(arch, runs, args.beats, args.dataset, args.launcher, folds_ref)
                rows.append(batch)
                print(f"{arch:15} {runs:>3} run(s)/GPU  {batch.wall_seconds:8.1f} s  "
                      f"{batch.beats_per_second:>12,.0f} beats/s  ({batch.device}; val macro F1 "
                      f"{', '.join(f'{s:.4f}' for s in batch.scores)})", flush=True)  # fmt: skip
    print("\n| architecture | runs per GPU | wall s | aggregate beats/s | vs 1 run |")
    print("|---|---:|---:|---:|---:|")
    rates: dict[str, float] = {}
    for arch in archs:
        mine = [b for b in rows if b.architecture == arch]
        alone = next((b.beats_per_second for b in mine if b.runs == 1), mine[0].beats_per_second)
        for b in mine:
            print(f"| {arch} | {b.runs} | {b.wall_seconds:.1f} | {b.beats_per_second:,.0f} | "
                  f"{b.beats_per_second / alone:.1f}x |")  # fmt: skip
        rates[arch] = max(b.beats_per_second for b in mine)
    hours, formula = full_budget_hours(rates, len(select_strategies(["*"])))
    print(f"\n`full` on one such GPU: {hours:.2f} h = {formula}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps([asdict(b) for b in rows], indent=1))


if __name__ == "__main__":
    main()
