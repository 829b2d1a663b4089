"""The benchmark harness: start or resume a bench run, and run its schedule on Ray.

``start_bench`` checks every name and the data, fingerprints the data and writes the run's
record; ``resume_bench`` reopens a run folder and refuses data other than the run's own;
``run_bench`` prepares each (sampler x layout) fold set once, puts it in Ray's object store,
and runs the :class:`~mads_zoo.bench.plan.Planner` with every training run as a Ray task.
Each finished run is stored as it arrives, so ``--resume`` redoes only what had not finished
and, the schedule being deterministic, ends with the same numbers as an uninterrupted run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mads_zoo.bench.budget import Budget
from mads_zoo.bench.cluster import LOOPBACK, RayRunner, cluster_summary, ray_session
from mads_zoo.bench.plan import Planner
from mads_zoo.bench.results import (
    Combo,
    ComboResult,
    DataSource,
    RunRecord,
    RunStore,
    TrialRecord,
    TrialSpec,
)
from mads_zoo.errors import ConfigError, MadsZooError, UnknownNameError

__all__ = [
    "LOOPBACK",
    "BenchRequest",
    "Progress",
    "ray_session",
    "resume_bench",
    "run_bench",
    "select_combos",
    "start_bench",
]


@dataclass
class BenchRequest:
    """What to benchmark: combos by pattern, the data, the budget and the seed."""

    budget: Budget
    archs: Sequence[str] = ("*",)
    samplers: Sequence[str] = ("*",)
    dataset: str = "mitbih"
    split: str = "intra"
    seed: int = 0
    data_dir: Path | None = None


def _select(kind: str, patterns: Sequence[str]) -> list[str]:
    from mads_zoo.registry import get_registry

    registry = get_registry()
    chosen: list[str] = []
    for pattern in patterns:
        names = [e.name for e in registry.find(kind, pattern)]
        if not names:
            if not any(ch in pattern for ch in "*?["):
                registry.entry(kind, pattern)  # raises "did you mean"
            raise UnknownNameError(kind[:-1] + " pattern", pattern, registry.entries[kind])
        chosen += [n for n in names if n not in chosen]
    return chosen


def select_combos(archs: Sequence[str], samplers: Sequence[str]) -> list[Combo]:
    """Every (architecture x sampler) matched by the fnmatch patterns, in a stable order."""
    return [
        Combo(a, s) for a in _select("architectures", archs) for s in _select("samplers", samplers)
    ]


def data_source(dataset: str, split: str, data_dir: Path | None) -> DataSource:
    """The data a run reads: its folder (``None``: the dataset's default) and a fingerprint."""
    from mads_zoo.data import load_beats
    from mads_zoo.data.cache import digest

    beats = load_beats(dataset, data_dir)
    folder = str(Path(data_dir).resolve()) if data_dir is not None else None
    return DataSource(dataset, split, folder, digest([dataset], [beats.x, beats.y]))


def class_counts(labels: Any, classes: tuple[str, ...]) -> dict[str, int]:
    """Beats per class name among ``labels`` (class indices)."""
    import numpy as np

    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(classes))
    return {name: int(n) for name, n in zip(classes, counts, strict=True)}


def _resolved(budget: Budget) -> Budget:
    """``budget`` with ``precision: auto`` fixed to what this machine trains in."""
    if budget.precision != "auto":
        return budget
    import torch

    from mads_zoo.train.runtime import cpu_has_bf16

    gpu = torch.cuda.is_available() and budget.gpus_per_trial not in (0, 0.0)
    return replace(budget, precision="bf16" if gpu or cpu_has_bf16() else "fp32")


def start_bench(request: BenchRequest, root: Path) -> RunStore:
    """Check ``request`` (names, data, budget), record it in a new run folder ``root``."""
    from mads_zoo.__about__ import __version__
    from mads_zoo.data import prepare_folds

    combos = select_combos(request.archs, request.samplers)
    if (root / "run.json").exists():
        raise ConfigError(f"{root} already holds a bench run; continue it with --resume {root}")
    # every name and the split are checked before any tuning starts
    folds = prepare_folds(
        request.dataset,
        request.split,
        "none",
        seed=request.seed,
        data_dir=request.data_dir,
        val_fraction=request.budget.val_fraction,
    )
    folds_by_name = {"train": folds.train, "val": folds.val, "test": folds.final_test()}
    run = RunRecord(
        data=data_source(request.dataset, request.split, request.data_dir),
        seed=request.seed,
        budget=_resolved(request.budget),
        combos=tuple(combos),
        version=__version__,
        class_counts={
            name: class_counts(fold.y, folds.classes) for name, fold in folds_by_name.items()
        },
    )
    store = RunStore(root)
    store.save_run(run)
    return store


def resume_bench(root: Path, data_dir: Path | None = None) -> RunStore:
    """Reopen the run folder ``root``; refuse data that differs from the run's own.

    ``data_dir`` defaults to the folder the run was started with.
    """
    store = RunStore(root)
    run = store.load_run()
    folder = data_dir if data_dir is not None else run.data.folder
    now = data_source(run.data.dataset, run.data.split, None if folder is None else Path(folder))
    if now.fingerprint != run.data.fingerprint:
        raise MadsZooError(
            f"{root} was run on {run.data.dataset} data {run.data.fingerprint} "
            f"(from {run.data.folder or 'its default folder'}), but "
            f"{now.folder or 'the default folder'} holds different data ({now.fingerprint}); "
            "resume refuses to mix them"
        )
    if data_dir is not None and now.folder != run.data.folder:
        store.save_run(replace(run, data=now))  # the same beats, found elsewhere
    return store


class Progress:
    """What the harness tells its display; the CLI implements it with rich."""

    def stage_started(self, name: str, runs: int) -> None:
        """A batch of ``runs`` training runs (a rung, a wave of rung 0, the final) starts."""

    def trial_finished(self, record: TrialRecord, reused: bool) -> None:
        """A run finished (``reused``: it was stored by an earlier, interrupted invocation)."""

    def phase(self, text: str) -> None:
        """A one-line status (preparing data, starting Ray, ...)."""


class _FoldObjects:
    """Each (sampler x layout) fold set prepared once and put in Ray's object store."""

    def __init__(self, run: RunRecord, progress: Progress) -> None:
        self.run = run
        self.progress = progress
        self.objects: dict[tuple[str, str, bool], Any] = {}
        self.seconds = 0.0  # spent preparing folds and putting them in the object store

    def __call__(self, spec: TrialSpec) -> Any:
        import ray

        from mads_zoo.bench.trial import TrialData
        from mads_zoo.data import prepare_folds
        from mads_zoo.registry import get_registry

        layout = get_registry().architecture(spec.combo.architecture).layout
        final = spec.stage == "final"
        key = (spec.combo.sampler, layout, final)
        if key not in self.objects:
            started = time.perf_counter()
            self.progress.phase(f"preparing folds: {spec.combo.sampler}, {layout}")
            data = self.run.data
            folds = prepare_folds(
                data.dataset,
                data.split,
                spec.combo.sampler,
                seed=self.run.seed,
                layout=layout,
                data_dir=None if data.folder is None else Path(data.folder),
                val_fraction=self.run.budget.val_fraction,
            )
            self.objects[key] = ray.put(TrialData.from_folds(folds, with_test=final))
            self.seconds += time.perf_counter() - started
        return self.objects[key]


def run_bench(store: RunStore, progress: Progress, address: str | None = None) -> list[ComboResult]:
    """Run (or finish) the bench recorded in ``store``; return every combo's result."""
    from mads_zoo.train.runtime import available_cores

    run = store.load_run()
    started = time.perf_counter()
    reused = ran = 0

    with ray_session(store.root, address, available_cores()):
        ray_seconds = time.perf_counter() - started
        cluster = cluster_summary()
        progress.phase(
            f"Ray: {cluster['cpus']:g} CPUs, {cluster['gpus']:g} GPUs on {cluster['nodes']} node(s)"
        )
        fold_objects = _FoldObjects(run, progress)
        runner = RayRunner(run.budget, fold_objects)

        def execute(name: str, specs: Sequence[TrialSpec]) -> list[TrialRecord]:
            nonlocal reused, ran
            stored = [store.load_trial(spec) for spec in specs]
            todo = [spec for spec, record in zip(specs, stored, strict=True) if record is None]
            progress.stage_started(name, len(specs))
            for record in stored:
                if record is not None:
                    progress.trial_finished(record, reused=True)

            def keep(record: TrialRecord) -> None:
                store.save_trial(record)
                progress.trial_finished(record, reused=False)

            fresh = iter(runner.run(todo, keep) if todo else [])
            reused += len(specs) - len(todo)
            ran += len(todo)
            return [record or next(fresh) for record in stored]

        results = Planner(run.combos, run.budget, run.seed, execute).run()
    for result in results:
        store.save_result(result, run.budget.metric)
    store.save_timing(
        {
            "wall_seconds": time.perf_counter() - started,
            "ray_start_seconds": ray_seconds,
            "prepare_seconds": fold_objects.seconds,
            "driver_cores": available_cores(),
            "cluster": cluster,
            "runs": ran,
            "runs_reused": reused,
        }
    )
    return results
