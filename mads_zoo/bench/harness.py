"""The benchmark harness: tune every selected combo with Ray Tune + HyperOpt, then test once.

For each (architecture x sampler) combo, in a fixed order:

1. prepare the folds (the sampler runs on the training fold only; cached on disk);
2. put the training and validation folds in Ray's object store, once;
3. tune with ``HyperOptSearch`` (same searcher seed and random start for every combo) and
   ``ASHAScheduler`` under the shared :class:`~mads_zoo.bench.budget.Budget`;
4. retrain the best config with ``final_seeds`` seeds and evaluate each once on the test fold;
5. write the combo's results, so that ``--resume`` never redoes a finished combo.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mads_zoo.bench.budget import Budget
from mads_zoo.bench.results import Combo, RunStore, trial_rows
from mads_zoo.bench.trial import METRIC, TrialData, train_config, tune_trainable
from mads_zoo.errors import ConfigError, UnknownNameError

# Ray's own console output is replaced by our progress display.
RAY_QUIET_ENV = {
    "TUNE_DISABLE_SIGINT_HANDLER": "1",
    "RAY_AIR_NEW_OUTPUT": "0",
    "RAY_DEDUP_LOGS": "0",
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
}
#: Unix socket paths break past ~107 characters; Ray adds about 70 to its temp dir.
MAX_RAY_TEMP_DIR = 36
#: The embedded Ray's address for its own nodes and clients: loopback only.
LOOPBACK = "127.0.0.1"


@dataclass
class BenchRequest:
    """What to benchmark: combos by pattern, the data, the budget and where results go."""

    archs: Sequence[str] = ("*",)
    samplers: Sequence[str] = ("*",)
    dataset: str = "mitbih"
    split: str = "intra"
    budget: Budget | None = None
    seed: int = 0
    data_dir: Path | None = None
    address: str | None = None
    combos: list[Combo] = field(default_factory=list)


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


@contextlib.contextmanager
def ray_session(run_dir: Path, address: str | None, num_cpus: int) -> Iterator[None]:
    """A local Ray instance whose files stay in the run folder (or join ``address``).

    Ray's token authentication stays on (Ray generates ``~/.ray/auth_token`` on first use;
    a client without the token is refused), and the embedded instance announces and is
    reached on the loopback address only. ``address`` joins a cluster with its own
    authentication.
    """
    os.environ.update({k: v for k, v in RAY_QUIET_ENV.items() if k not in os.environ})
    import logging

    import ray

    # "token authentication is enabled" is the state we want, not news for the console
    logging.getLogger("ray._private.authentication").setLevel(logging.ERROR)

    if address:
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
        try:
            yield
        finally:
            ray.shutdown()
        return
    ray_dir = (run_dir / "ray").resolve()
    short = ray_dir if len(str(ray_dir)) <= MAX_RAY_TEMP_DIR else None
    temp = Path(tempfile.mkdtemp(prefix="mzr-", dir="/tmp")) if short is None else short
    temp.mkdir(parents=True, exist_ok=True)
    ray.init(
        num_cpus=num_cpus,
        include_dashboard=False,
        _node_ip_address=LOOPBACK,
        _temp_dir=str(temp),
        logging_level=logging.ERROR,
        log_to_driver=False,
        configure_logging=True,
    )
    try:
        yield
    finally:
        ray.shutdown()
        if short is None:  # keep Ray's logs with the run, drop its sockets
            logs = next(temp.glob("session_*/logs"), None)
            if logs is not None:
                shutil.copytree(logs, ray_dir / "logs", dirs_exist_ok=True)
            shutil.rmtree(temp, ignore_errors=True)


class Progress:
    """What the harness tells its display; the CLI implements it with rich."""

    def combo_started(self, combo: Combo, index: int, total: int, trials: int) -> None:
        """A combo's tuning begins."""

    def trial_result(self, combo: Combo, value: float) -> None:
        """A trial reported a validation metric."""

    def trial_finished(self, combo: Combo, failed: bool) -> None:
        """A trial ended (completed, stopped by ASHA, or failed)."""

    def combo_finished(self, combo: Combo, summary: dict[str, Any]) -> None:
        """A combo has its final test numbers (or was skipped on resume)."""

    def phase(self, text: str) -> None:
        """A one-line status (preparing data, retraining, ...)."""


@functools.cache
def _callback_class() -> type:
    """The Ray Tune callback class forwarding trial events to a :class:`Progress`.

    Built on first use, so that importing this module does not import Ray.
    """
    from ray import tune

    class ProgressCallback(tune.Callback):
        """Forwards trial events to the display; the display is dropped when Tune pickles."""

        def __init__(self, progress: Progress, combo: Combo) -> None:
            self.progress: Progress | None = progress
            self.combo = combo

        def __getstate__(self) -> dict[str, Any]:
            return {"progress": None, "combo": self.combo}

        def on_trial_result(self, iteration, trials, trial, result, **info):
            if self.progress is not None and METRIC in result:
                self.progress.trial_result(self.combo, float(result[METRIC]))

        def on_trial_complete(self, iteration, trials, trial, **info):
            if self.progress is not None:
                self.progress.trial_finished(self.combo, failed=False)

        def on_trial_error(self, iteration, trials, trial, **info):
            if self.progress is not None:
                self.progress.trial_finished(self.combo, failed=True)

    return ProgressCallback


def _defaults_point(arch: Any) -> list[dict[str, Any]] | None:
    """The architecture's defaults as the first trial, when they cover its search space."""
    if not set(arch.search_space) <= set(arch.defaults):
        return None
    return [{key: arch.defaults[key] for key in arch.search_space}]


def _tuner(
    combo: Combo, data: TrialData, budget: Budget, seed: int, path: Path, progress: Progress
) -> Any:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.hyperopt import HyperOptSearch

    from mads_zoo.bench.search import tune_space
    from mads_zoo.registry import get_registry

    arch = get_registry().architecture(combo.architecture)
    trainable = tune.with_resources(
        tune.with_parameters(
            tune_trainable, data=data, arch_name=arch.name, budget=budget.to_dict(), seed=seed
        ),
        {"cpu": budget.cpus_per_trial},
    )
    run_config = tune.RunConfig(
        name="tune",
        storage_path=str(path.absolute()),
        verbose=0,
        callbacks=[_callback_class()(progress, combo)],
        failure_config=tune.FailureConfig(max_failures=0, fail_fast=False),
    )
    experiment = path.absolute() / "tune"
    if tune.Tuner.can_restore(str(experiment)):
        return tune.Tuner.restore(
            str(experiment), trainable=trainable, resume_unfinished=True, resume_errored=False
        )
    space = tune_space(arch.search_space)
    searcher = (
        HyperOptSearch(
            metric=METRIC,
            mode="max",
            points_to_evaluate=_defaults_point(arch),
            n_initial_points=budget.n_initial_points,
            random_state_seed=budget.searcher_seed,
        )
        if space
        else None
    )
    scheduler = ASHAScheduler(
        time_attr="training_iteration",
        metric=METRIC,
        mode="max",
        max_t=budget.max_epochs,
        grace_period=budget.grace_period,
        reduction_factor=budget.reduction_factor,
    )
    import ray

    cpus = int(ray.cluster_resources().get("CPU", 1))
    tune_config = tune.TuneConfig(
        search_alg=searcher,
        scheduler=scheduler,
        num_samples=budget.trials if space else 1,
        max_concurrent_trials=max(1, cpus // budget.cpus_per_trial),
        reuse_actors=True,
    )
    return tune.Tuner(trainable, param_space=space, tune_config=tune_config, run_config=run_config)


def _final_evaluation(
    combo: Combo, best: dict[str, Any], folds: Any, budget: Budget, seed: int
) -> dict[str, Any]:
    """Retrain ``best`` with ``budget.final_seeds`` seeds; evaluate each once on the test fold."""
    import numpy as np
    import torch

    from mads_zoo.models import count_parameters
    from mads_zoo.train.engine import evaluate
    from mads_zoo.train.runtime import configure_threads, inference_precision

    configure_threads()
    data = TrialData.from_folds(folds)
    test = folds.final_test()
    runs = []
    for offset in range(budget.final_seeds):
        started = time.perf_counter()
        model, fit, config = train_config(
            combo.architecture, best, data, budget.to_dict(), seed=seed + offset, final=True
        )
        precision = inference_precision(fit.precision, torch.device("cpu"))
        metrics = evaluate(model, test.x, test.y, folds.classes, precision=precision)
        runs.append(
            {
                "seed": seed + offset,
                "status": fit.status,
                "epochs": fit.epochs,
                "steps": fit.steps,
                "train_seconds": time.perf_counter() - started,
                "val": {k: v for k, v in fit.best_metrics.items() if k != "confusion"},
                "test": metrics,
                "params": count_parameters(model),
            }
        )
    keys = ("accuracy", "macro_recall", "macro_precision", "macro_f1")
    summary = {
        k: {
            "mean": float(np.mean([r["test"][k] for r in runs])),
            "std": float(np.std([r["test"][k] for r in runs])),
        }
        for k in keys
    }
    recall = {c: float(np.mean([r["test"]["recall"][c] for r in runs])) for c in folds.classes}
    confusion = np.sum([r["test"]["confusion"] for r in runs], axis=0).tolist()
    return {
        "combo": combo.key,
        "architecture": combo.architecture,
        "sampler": combo.sampler,
        "config": config,
        "runs": runs,
        "test": summary,
        "recall": recall,
        "confusion": confusion,
        "params": runs[0]["params"],
        "train_seconds": float(np.mean([r["train_seconds"] for r in runs])),
        "classes": list(folds.classes),
    }


def run_combo(
    combo: Combo, request: BenchRequest, budget: Budget, store: RunStore, progress: Progress
) -> dict[str, Any]:
    """Tune one combo (or resume it), retrain its best config, test it, store the results."""
    from mads_zoo.data import prepare_folds
    from mads_zoo.registry import get_registry

    arch = get_registry().architecture(combo.architecture)
    progress.phase(f"{combo.key}: preparing folds")
    prepare_started = time.perf_counter()
    folds = prepare_folds(
        request.dataset,
        request.split,
        combo.sampler,
        seed=request.seed,
        layout=arch.layout,
        data_dir=request.data_dir,
        val_fraction=budget.val_fraction,
    )
    path = store.combo_dir(combo)
    prepare_seconds = time.perf_counter() - prepare_started
    started = time.perf_counter()
    tuner = _tuner(combo, TrialData.from_folds(folds), budget, request.seed, path, progress)
    grid = tuner.fit()
    rows = trial_rows(grid, combo, budget)
    store.save_trials(combo, rows)
    tuning_seconds = time.perf_counter() - started
    finished = [r for r in rows if r["status"] != "failed" and r.get(METRIC) is not None]
    best_row = max(finished, key=lambda r: r[METRIC]) if finished else None
    if best_row is None and all(r["status"] == "failed" for r in rows):
        errors = sorted({r["error"] for r in rows if r["error"]})
        result = {
            "combo": combo.key,
            "architecture": combo.architecture,
            "sampler": combo.sampler,
            "failed": True,
            "error": "; ".join(errors)[:500] or "every trial failed",
        }
    else:
        # the best trial's config, or the defaults ({}) when no trial scored
        best = best_row["config"] if best_row else {}
        progress.phase(f"{combo.key}: retraining the best config on {budget.final_seeds} seed(s)")
        final_started = time.perf_counter()
        result = _final_evaluation(combo, best, folds, budget, request.seed)
        result["final_seconds"] = time.perf_counter() - final_started
        result["best_trial"] = best_row["trial_id"] if best_row else None
        result["best_val"] = best_row[METRIC] if best_row else None
        if best_row is None:
            result["note"] = "no trial finished within the budget; retrained at the defaults"
    result["tuning_seconds"] = tuning_seconds
    result["prepare_seconds"] = prepare_seconds
    result["trials"] = len(rows)
    result["failed_trials"] = sum(r["status"] == "failed" for r in rows)
    store.save_final(combo, result)
    return result


def run_bench(
    request: BenchRequest,
    store: RunStore,
    progress: Progress,
    on_combo: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run (or resume) every combo of ``request``; return each combo's final result."""
    from mads_zoo.data import prepare_folds
    from mads_zoo.train.runtime import available_cores

    budget = request.budget
    if budget is None:
        raise ConfigError("a bench needs a budget")
    # check every name and the data before any tuning starts
    prepare_folds(
        request.dataset,
        request.split,
        "none",
        seed=request.seed,
        data_dir=request.data_dir,
        val_fraction=budget.val_fraction,
    )
    results = []
    started = time.perf_counter()
    with ray_session(store.root, request.address, available_cores()):
        ray_seconds = time.perf_counter() - started
        for index, combo in enumerate(request.combos):
            done = store.load_final(combo)
            if done is None:
                progress.combo_started(combo, index, len(request.combos), budget.trials)
                done = run_combo(combo, request, budget, store, progress)
            progress.combo_finished(combo, done)
            results.append(done)
            if on_combo is not None:
                on_combo(done)
    store.save_timing(
        {
            "wall_seconds": time.perf_counter() - started,
            "ray_start_seconds": ray_seconds,
            "cores": available_cores(),
            "combos_run": sum(1 for r in results if "prepare_seconds" in r),
        }
    )
    return results
