"""The benchmark harness: start or resume a bench run, and run its schedule on Ray.

``start_bench`` checks every name and the data, fingerprints the data and writes the run's
record; ``resume_bench`` reopens a run folder and refuses data or options other than its own;
``run_bench`` prepares each (strategy x layout) fold set once, puts it in Ray's object store,
and runs the :class:`~mads_zoo.bench.plan.Planner` with every training run as a Ray task.
Each finished run is stored as it arrives, so ``--resume`` redoes only what had not finished
and, the schedule being deterministic, ends with the same numbers as an uninterrupted run.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from mads_zoo.__about__ import __version__
from mads_zoo.bench.budget import Budget
from mads_zoo.bench.cluster import RayRunner, cluster_summary, ray_session
from mads_zoo.bench.failures import ErrorLog
from mads_zoo.bench.plan import Planner, Searcher, final_sampler_seed, make_searcher
from mads_zoo.bench.results import (
    Combo,
    ComboResult,
    DataSource,
    HeldOutBeats,
    RunRecord,
    RunStore,
    Stage,
    Timing,
    TrialRecord,
    TrialSpec,
)
from mads_zoo.bench.screen import baseline_score
from mads_zoo.data.cache import digest
from mads_zoo.data.folds import Folds, load_beats, prepare_folds
from mads_zoo.data.spec import DataSpec
from mads_zoo.errors import (
    ConfigError,
    DataError,
    MadsZooError,
    PluginError,
    UnknownNameError,
    one_line,
    traceback_text,
)
from mads_zoo.hardware import available_cores
from mads_zoo.registry import get_registry
from mads_zoo.strategies import get_strategy, select_strategies

#: The split seed on which defaults are calibrated (recipes, budgets, ``final_beats``), on its
#: validation fold only. Its test fold was read by calibrations before step 13, so it is not
#: sealed: results are published on :data:`BENCH_SEED` (docs/protocol.md).
CALIBRATION_SEED = 0

#: The bench's default seed: a split whose test fold no calibration has read (seeds 0-2 were
#: read by the training recipe's calibration, seed 0 by the budgets' before step 13).
BENCH_SEED = 13


@dataclass(frozen=True)
class BenchRequest:
    """What to benchmark: combos by pattern, the data, the budget and the seed."""

    budget: Budget
    archs: Sequence[str] = ("*",)
    strategies: Sequence[str] = ("*",)
    dataset: str = "mitbih"
    split: str = "intra"
    seed: int = BENCH_SEED
    data_dir: Path | None = None


def _select(kind: str, patterns: Sequence[str]) -> list[str]:
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


def select_combos(archs: Sequence[str], strategies: Sequence[str]) -> list[Combo]:
    """Every (architecture x strategy) matched by the fnmatch patterns, in a stable order."""
    chosen = select_strategies(strategies)
    return [Combo(a, s) for a in _select("architectures", archs) for s in chosen]


def data_source(dataset: str, split: str, data_dir: Path | None) -> DataSource:
    """The data a run reads: its folder (``None``: the dataset's default) and a fingerprint.

    The fingerprint covers every column of the beats (values, labels, records, samples,
    symbols, the folds a dataset ships), so data whose split would differ never matches.
    """
    beats = load_beats(dataset, data_dir)
    arrays = beats.to_arrays()
    del arrays["meta"]  # where the files were, not what they hold
    folder = str(Path(data_dir).resolve()) if data_dir is not None else None
    fingerprint = digest([dataset, *sorted(arrays)], [arrays[k] for k in sorted(arrays)])
    return DataSource(dataset, split, folder, fingerprint, beats=len(beats))


def _unresampled_folds(
    dataset: str, split: str, seed: int, val_fraction: float, data_dir: Path | None
) -> Folds:
    """A run's folds before any sampler: for class counts and the test fold's record.

    Checks every name, the split and the data on the way (nothing is trained).
    """
    return prepare_folds(DataSpec(dataset, split, "none", seed, val_fraction), "1d", data_dir)


def _test_fold(folds: Folds) -> HeldOutBeats:
    """The label and record of every beat of ``folds``' test fold, in order."""
    test, beats = folds.final_test(), folds.beats
    assert test.rows is not None and beats is not None  # a test fold is never resampled
    return HeldOutBeats(test.y, beats.records[test.rows])


def _resolved(budget: Budget) -> Budget:
    """``budget`` with ``precision: auto`` fixed to what this machine's runs train in."""
    import torch  # torch: not for every `mads-zoo` command

    from mads_zoo.train.runtime import resolve_precision

    gpu = torch.cuda.is_available() and budget.gpus_per_trial not in (0, 0.0)
    precision = resolve_precision(budget.precision, torch.device("cuda" if gpu else "cpu"))
    return replace(budget, precision=precision)


def start_bench(request: BenchRequest, root: Path) -> RunStore:
    """Check ``request`` (names, data, budget), record it in a new run folder ``root``."""
    combos = select_combos(request.archs, request.strategies)
    if (root / "run.json").exists():
        raise ConfigError(f"{root} already holds a bench run; continue it with --resume {root}")
    folds = _unresampled_folds(  # every name and the split, checked before any tuning
        request.dataset, request.split, request.seed, request.budget.val_fraction,
        request.data_dir,
    )  # fmt: skip
    run = RunRecord(
        data=data_source(request.dataset, request.split, request.data_dir),
        seed=request.seed,
        budget=_resolved(request.budget),
        combos=tuple(combos),
        version=__version__,
        class_counts=folds.counts(),
        val_strategy=folds.val_strategy,
    )
    store = RunStore(root)
    store.save_run(run)
    store.save_test_fold(_test_fold(folds))
    return store


#: The request's options a run records; ``--resume`` refuses values that differ.
RESUME_OPTIONS = ("dataset", "split", "seed", "budget", "combos")


def _option_values(run: RunRecord, request: BenchRequest, option: str) -> tuple[Any, Any]:
    """``option`` as ``run`` recorded it and as ``request`` gives it."""
    if option == "combos":
        return run.combos, tuple(select_combos(request.archs, request.strategies))
    if option == "budget":
        given = request.budget
        if given.precision == "auto":  # resolved on this machine when the run started
            given = replace(given, precision=run.budget.precision)
        return run.budget, given
    recorded = {"dataset": run.data.dataset, "split": run.data.split, "seed": run.seed}
    return recorded[option], getattr(request, option)


def _option_words(option: str, value: Any, other: Any) -> str:
    """``value`` of ``option`` in command-line words (a budget: its keys that differ)."""
    if option == "combos":
        more = ", ..." if len(value) > 3 else ""
        plural = "s" if len(value) != 1 else ""
        return f"{len(value)} combo{plural} ({', '.join(c.key for c in value[:3])}{more})"
    if option == "budget" and value.name == other.name:
        keys = [f.name for f in fields(value) if getattr(value, f.name) != getattr(other, f.name)]
        return "--budget-set " + " ".join(f"{k}={getattr(value, k)}" for k in keys)
    return f"--{option} {getattr(value, 'name', value)}"


def check_resume_options(
    root: Path, run: RunRecord, request: BenchRequest, given: Collection[str]
) -> None:
    """Refuse options of ``request`` named in ``given`` that differ from ``run``'s record.

    ``given`` holds names of :data:`RESUME_OPTIONS`; a resumed run continues as it was made.
    """
    values = [(o, *_option_values(run, request, o)) for o in RESUME_OPTIONS if o in given]
    differ = [(option, was, now) for option, was, now in values if was != now]
    if differ:
        was = "; ".join(_option_words(option, a, b) for option, a, b in differ)
        now = "; ".join(_option_words(option, b, a) for option, a, b in differ)
        raise ConfigError(
            f"{root} was made with {was}, but --resume was given {now}: drop those options "
            "(a resumed run continues as it was made) or start a new run"
        )


def resume_bench(
    root: Path,
    data_dir: Path | None = None,
    request: BenchRequest | None = None,
    given: Collection[str] = (),
) -> RunStore:
    """Reopen the run folder ``root``; refuse data or options that differ from the run's own.

    ``data_dir`` defaults to the folder the run was started with. ``request`` holds the
    options given with ``--resume``; those named in ``given`` (:data:`RESUME_OPTIONS`) must
    match the run's record (:func:`check_resume_options`).
    """
    store = RunStore(root)
    run = store.load_run()
    if request is not None:
        check_resume_options(root, run, request, given)
    folder = data_dir if data_dir is not None else run.data.folder
    now = data_source(run.data.dataset, run.data.split, None if folder is None else Path(folder))
    if now.fingerprint != run.data.fingerprint:
        where = now.folder or "the default folder"
        source = f"--data-dir {where}" if data_dir is not None else f"{where} now"
        raise DataError(
            f"{root} was made with {run.data.dataset} data from "
            f"{run.data.folder or 'its default folder'} {run.data.describe()}; {source} holds "
            f"different data {now.describe()}: resume refuses to mix them; resume with the same "
            "data or start a new run"
        )
    if now != run.data:  # the same beats, found elsewhere
        run = replace(run, data=now)
        store.save_run(run, with_environment=False)
    if store.load_test_fold() is None or not run.val_strategy:  # made by an earlier version
        folds = _unresampled_folds(
            run.data.dataset, run.data.split, run.seed, run.budget.val_fraction,
            None if folder is None else Path(folder),
        )  # fmt: skip
        store.save_test_fold(_test_fold(folds))
        store.save_run(replace(run, val_strategy=folds.val_strategy), with_environment=False)
    return store


class BenchEvents:
    """What the harness tells its display (the CLI's is rich); every method may do nothing."""

    def stage_started(self, name: str, runs: int) -> None:
        """A batch of ``runs`` training runs (a rung, a wave of rung 0, the final) starts."""

    def trial_finished(self, record: TrialRecord, reused: bool) -> None:
        """A run finished (``reused``: it was stored by an earlier, interrupted invocation)."""

    def phase(self, text: str) -> None:
        """A one-line status (preparing data, starting Ray, ...)."""

    def combo_failed(self, combo: Combo, error: str) -> None:
        """``combo`` cannot run at all (its search space, its strategy): ``error`` in one line."""


class _FoldObjects:
    """Each (sampler x layout) fold set prepared once and put in Ray's object store.

    Tuning runs get folds without the test fold; final runs get it.
    """

    def __init__(self, run: RunRecord, events: BenchEvents) -> None:
        self.run = run
        self.events = events
        self.objects: dict[tuple[str, str, int | None], Any] = {}
        self.seconds = 0.0  # spent preparing folds and putting them in the object store

    def for_spec(self, spec: TrialSpec) -> Any:
        """The object-store reference of the folds ``spec`` trains on.

        Tuning runs share one resampled training fold per (sampler, layout); final seed ``k``
        trains on its own resample (:func:`~mads_zoo.bench.plan.final_sampler_seed`).
        """
        final = spec.stage is Stage.FINAL
        sampler_seed = final_sampler_seed(self.run.seed, spec.index) if final else None
        return self.folds(spec.combo, sampler_seed)

    def folds(self, combo: Combo, sampler_seed: int | None = None) -> Any:
        """``combo``'s folds in the object store; raises (each time) if they cannot be made.

        ``sampler_seed`` given: a final run's folds (with the test fold), resampled with it.
        """
        import ray  # the harness runs inside a Ray session

        layout = get_registry().architecture(combo.architecture).layout
        sampler = get_strategy(combo.strategy).sampler
        key = (sampler, layout, sampler_seed)
        if key not in self.objects:
            started = time.perf_counter()
            self.events.phase(f"preparing folds: {sampler}, {layout}")
            try:
                folds = self._prepare(sampler, layout, sampler_seed)
                final = sampler_seed is not None
                self.objects[key] = ray.put(folds.for_run(with_test=final))
            except Exception as error:  # a failing sampler fails its combos, not the bench
                self.objects[key] = _fold_error(error, sampler, layout)
            self.seconds += time.perf_counter() - started
        found = self.objects[key]
        if isinstance(found, Exception):
            raise found
        return found

    def _prepare(self, sampler: str, layout: str, sampler_seed: int | None) -> Folds:
        data, budget = self.run.data, self.run.budget
        spec = DataSpec(data.dataset, data.split, sampler, self.run.seed, budget.val_fraction,
                        sampler_seed)  # fmt: skip
        return prepare_folds(spec, layout, None if data.folder is None else Path(data.folder))


def _fold_error(error: Exception, sampler: str, layout: str) -> Exception:
    """``error`` of preparing folds, as a :class:`MadsZooError` that names the sampler."""
    if isinstance(error, MadsZooError):
        return error
    where = f"preparing the {layout} folds with sampler {sampler!r}"
    wrapped = PluginError(f"{where}: {one_line(error)}")
    wrapped.__cause__ = error
    return wrapped


class _Execution:
    """Runs the planner's batches on Ray: reuses stored runs, stores and reports new ones."""

    def __init__(
        self, store: RunStore, run: RunRecord, events: BenchEvents, folds: _FoldObjects
    ) -> None:
        self.store, self.events, self.folds = store, events, folds
        self.runner = RayRunner(run, folds.for_spec)
        self.errors = ErrorLog(store.root)
        self.reused = self.ran = 0

    def setup(self, combo: Combo, budget: Budget) -> Searcher | None:
        """The combo's searcher, once its folds are ready; a failure fails the combo only."""
        try:
            searcher = make_searcher(combo, budget)
            self.folds.folds(combo)
        except Exception as error:
            self.errors.add(combo.key, one_line(error), traceback_text(error))
            self.events.combo_failed(combo, one_line(error))
            raise
        return searcher

    def __call__(self, name: str, specs: Sequence[TrialSpec]) -> list[TrialRecord]:
        """Every spec's record, in order: stored ones reused, the others run on Ray."""
        stored = [self.store.load_trial(spec) for spec in specs]
        todo = [spec for spec, record in zip(specs, stored, strict=True) if record is None]
        self.events.stage_started(name, len(specs))
        for record in stored:
            if record is not None:
                self.events.trial_finished(record, reused=True)
        fresh = iter(self.runner.run(todo, self._keep) if todo else [])
        self.reused += len(specs) - len(todo)
        self.ran += len(todo)
        return [record or next(fresh) for record in stored]

    def _keep(self, record: TrialRecord) -> None:
        self.store.save_trial(record)
        if record.failed:
            self.errors.add(record.spec.key, record.error or "no score", record.note)
        self.events.trial_finished(record, reused=False)


def run_bench(
    store: RunStore, events: BenchEvents, address: str | None = None
) -> list[ComboResult]:
    """Run (or finish) the bench recorded in ``store``; return every combo's result.

    A run, search space or sampler that fails fails its combos only: one line each to
    ``events``, the tracebacks to ``errors.log`` in the run folder.
    """
    run = store.load_run()
    started = time.perf_counter()
    with ray_session(store.root, address, available_cores()):
        ray_seconds = time.perf_counter() - started
        cluster = cluster_summary()
        events.phase(
            f"Ray: {cluster.cpus:g} CPUs, {cluster.gpus:g} GPUs on {cluster.nodes} node(s)"
        )
        folds = _FoldObjects(run, events)
        execution = _Execution(store, run, events, folds)
        packed = execution.runner.runs_per_gpu
        if packed:
            events.phase("runs per GPU: " + ", ".join(f"{a} {k}" for a, k in packed.items()))
        for note in execution.runner.packing_notes:
            events.phase(note)
        planner = Planner(run.combos, run.budget, run.seed, execution, execution.setup,
                          baseline=baseline_score(run))  # fmt: skip
        results = planner.run()
    for result in results:
        store.save_result(result, run.budget.metric)
    store.save_timing(
        Timing(
            wall_seconds=time.perf_counter() - started,
            ray_start_seconds=ray_seconds,
            prepare_seconds=folds.seconds,
            driver_cores=available_cores(),
            cluster=cluster,
            runs=execution.ran,
            runs_reused=execution.reused,
            runs_per_gpu=packed,
        )
    )
    return results
