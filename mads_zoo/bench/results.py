"""The records of a bench run, and the one place they are read from and written to disk.

```
RUN_DIR/
  run.json                 RunRecord: dataset, split, data source, seed, budget, combos
  environment.json         Environment: versions and hardware of the machine that started it
  trials/STAGE-rR-ARCH--SAMPLER-NNN.json
                           TrialRecord: one training run (a tuning trial or a final seed)
  combos/ARCH--SAMPLER/    final.json (ComboResult) and best_config.toml
  timing.json              Timing: wall-clock timing of the latest invocation (never compared)
  test_fold.parquet        HeldOutBeats: label and record of every test beat (test-sampling CIs)
  trials.parquet|csv       one row per trial, all combos
  leaderboard.md|html      the leaderboard;  plots/*.png  the figures
```

Every record is a typed dataclass written and read with :mod:`mads_zoo.codec`, and every file
is written atomically, so a crash or Ctrl-C never leaves a half-written one. A record is a pure
function of the command, the data and the seed, except for the fields in :data:`VOLATILE`
(timings, and where a trial ran): :meth:`RunStore.comparable_results` drops them, and two runs
of the same command agree on everything else.
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from mads_zoo import codec
from mads_zoo.__about__ import __version__
from mads_zoo.bench.budget import Budget
from mads_zoo.data.folds import FoldCounts
from mads_zoo.errors import DataError, MadsZooError, one_line
from mads_zoo.fileio import atomic_file, write_text
from mads_zoo.hardware import available_cores, cpu_has_bf16
from mads_zoo.metrics import Metrics
from mads_zoo.stats import Summary
from mads_zoo.train.result import RunStatus

T = TypeVar("T")

#: Record fields that depend on the machine and its load, not on the command and the data.
VOLATILE = frozenset({"seconds", "node_id", "node_ip", "gpu_ids", "beats_per_second"})


class Stage(StrEnum):
    """A stage of the schedule: tuning rungs, then the finalists' seeds (the only tested runs)."""

    TUNE = "tune"
    FINAL = "final"


class Outcome(StrEnum):
    """Where a combo ended: the run's model, a finalist, stopped at a rung, or failed."""

    SELECTED = "selected"
    FINALIST = "finalist"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        """Whether the combo reached the final stage with a result."""
        return self in (Outcome.SELECTED, Outcome.FINALIST)


@dataclass(frozen=True)
class Combo:
    """One (architecture x imbalance strategy) pair (:mod:`mads_zoo.strategies`)."""

    architecture: str
    strategy: str

    @property
    def key(self) -> str:
        """The combo's folder name and label, ``ARCH--SAMPLER``."""
        return f"{self.architecture}--{self.strategy}"


@dataclass(frozen=True)
class DataSource:
    """Where a run's beats came from, how many there were, and a fingerprint of their content."""

    dataset: str
    split: str
    folder: str | None
    fingerprint: str
    beats: int

    def describe(self) -> str:
        """``"(109,441 beats, fingerprint ab12...)"``: how many beats, and which content."""
        return f"({self.beats:,} beats, fingerprint {self.fingerprint})"


@dataclass(frozen=True)
class RunRecord:
    """``run.json``: everything needed to run, resume or re-render a bench.

    ``val_strategy`` says how the validation fold was carved, in words (e.g. ``record-wise:
    DS1 records 124, 201, 205, 223``, or inter's fallback to a stratified share of beats).
    """

    #: Run folders written by earlier versions lack the fields added since: they read with
    #: those fields' defaults (``mads-zoo report`` re-renders any finished run).
    PARTIAL: ClassVar[bool] = True

    data: DataSource
    seed: int
    budget: Budget
    combos: tuple[Combo, ...]
    version: str
    class_counts: FoldCounts
    val_strategy: str = ""


@dataclass(frozen=True, eq=False)
class HeldOutBeats:
    """``test_fold.parquet``: the true class and the record of every test beat, in order.

    What a report needs, beside the final runs' predictions, to resample the test fold by
    patient or by beat (:mod:`mads_zoo.bench.bootstrap`); it holds no signal.
    """

    labels: np.ndarray
    records: np.ndarray


@dataclass(frozen=True)
class TrialSpec:
    """One training run to do: a tuning trial of a rung, or one seed of a finalist.

    Attributes:
        combo: The (architecture x strategy) pair.
        stage: Tuning or final (only final runs are tested).
        rung: The successive-halving rung (the final stage has the rung after the last).
        index: Trial index within the combo and rung (the seed index in the final stage).
        config: The searched keys of this trial (the architecture's defaults fill the rest).
        seed: Model seed, derived from (bench seed, combo, stage, rung, index).
        beats: Training beats of the run.
    """

    combo: Combo
    stage: Stage
    rung: int
    index: int
    config: Mapping[str, Any]
    seed: int
    beats: int

    @property
    def key(self) -> str:
        """A unique, file-name-safe name of this run within the bench."""
        return f"{self.stage.value}-r{self.rung}-{self.combo.key}-{self.index:03d}"


@dataclass
class TrialRecord:
    """What one training run did (``trials/KEY.json``).

    ``score`` is the budget's metric on validation (best over the run's validations);
    ``None`` when the run failed. ``val`` holds the best validation metrics, ``test`` the
    test metrics of a final run (the only runs tested) and ``test_predicted`` its predicted
    class of every test beat, in the test fold's order (packed one character per beat by
    :func:`mads_zoo.bench.bootstrap.pack_labels`), for the test-sampling intervals.
    """

    #: Run folders written by earlier versions lack the fields added since: they read with
    #: those fields' defaults (``mads-zoo report`` re-renders any finished run).
    PARTIAL: ClassVar[bool] = True

    spec: TrialSpec
    status: RunStatus
    score: float | None = None
    error: str | None = None
    val: Metrics | None = None
    test: Metrics | None = None
    test_predicted: str = ""
    resolved_config: Mapping[str, Any] = field(default_factory=dict)
    steps: int = 0
    evaluations: int = 0
    params: int | None = None
    curve: list[float] = field(default_factory=list)
    device: str = "cpu"
    precision: str = ""
    threads: int = 0
    note: str = ""
    node_id: str = ""
    node_ip: str = ""
    gpu_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    beats_per_second: float = 0.0

    @property
    def failed(self) -> bool:
        """Whether the run produced no score."""
        return self.score is None

    def row(self) -> dict[str, Any]:
        """A flat table row (trials.parquet)."""
        s = self.spec
        figures = {
            f"{fold}_{name}": getattr(metrics, name)
            for fold, metrics in (("val", self.val), ("test", self.test))
            if metrics is not None
            for name in ("accuracy", "macro_f1", "macro_recall", "macro_precision", "loss")
        }
        return {
            "combo": s.combo.key,
            "architecture": s.combo.architecture,
            "strategy": s.combo.strategy,
            "stage": s.stage.value,
            "rung": s.rung,
            "trial": s.index,
            "seed": s.seed,
            "beats": s.beats,
            "status": self.status.value,
            "score": self.score,
            **figures,
            "steps": self.steps,
            "params": self.params,
            "device": self.device,
            "gpu_ids": ",".join(self.gpu_ids),
            "node_ip": self.node_ip,
            "node_id": self.node_id,
            "precision": self.precision,
            "threads": self.threads,
            "seconds": self.seconds,
            "error": self.error,
            **{f"config.{k}": v for k, v in sorted(s.config.items())},
        }


@dataclass
class ComboResult:
    """``combos/KEY/final.json``: where a combo ended in the run.

    Attributes:
        combo: The pair.
        outcome: Where it ended.
        rung: The deepest stage the combo reached (the final stage is the rung after the last).
        score: The budget's metric on validation there (mean over seeds for finalists).
        config: The combo's best searched config (``None`` when every trial failed).
        resolved_config: That config over the architecture's defaults.
        trials: Runs of this combo; ``failed_trials`` of them failed.
        error: Why the combo failed or stopped without a score.
        params: Trainable parameters of the best config's model.
        val: Finalists: the metric on validation over the final seeds.
        test: Finalists: each final seed's test metrics, in seed order.
        final_seeds: Finalists: the index of each final seed that completed (the order of
            ``val.values`` and ``test``); fewer than the budget's ``final_seeds`` when some
            failed.
    """

    #: Run folders written by earlier versions lack the fields added since: they read with
    #: those fields' defaults (``mads-zoo report`` re-renders any finished run).
    PARTIAL: ClassVar[bool] = True

    combo: Combo
    outcome: Outcome
    rung: int
    score: float | None
    config: Mapping[str, Any] | None
    resolved_config: Mapping[str, Any] = field(default_factory=dict)
    trials: int = 0
    failed_trials: int = 0
    error: str | None = None
    params: int | None = None
    val: Summary | None = None
    test: tuple[Metrics, ...] = ()
    final_seeds: tuple[int, ...] = ()

    def test_summary(self, metric: str) -> Summary:
        """A test figure (a :class:`Metrics` property, e.g. ``"accuracy"``) over the seeds."""
        return Summary.of(getattr(m, metric) for m in self.test)


@dataclass(frozen=True)
class ClusterSummary:
    """The CPUs, GPUs and nodes Ray offered a bench."""

    cpus: float
    gpus: float
    nodes: int


@dataclass(frozen=True)
class Timing:
    """``timing.json``: where the latest invocation's wall time went (never compared)."""

    #: timing.json files of earlier versions lack the fields added since.
    PARTIAL: ClassVar[bool] = True

    wall_seconds: float
    ray_start_seconds: float
    prepare_seconds: float
    driver_cores: int
    cluster: ClusterSummary
    runs: int
    runs_reused: int
    runs_per_gpu: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Environment:
    """``environment.json``: versions and hardware of the machine that started a run."""

    mads_zoo: str
    python: str
    torch: str
    numpy: str
    ray: str
    platform: str
    processor: str
    cores: int
    cpu_bf16: bool
    cuda: str | None

    @classmethod
    def here(cls) -> Environment:
        """The environment of the machine running this code."""
        import numpy
        import ray
        import torch

        return cls(
            mads_zoo=__version__,
            python=platform.python_version(),
            torch=str(torch.__version__),
            numpy=numpy.__version__,
            ray=ray.__version__,
            platform=platform.platform(),
            processor=platform.processor() or platform.machine(),
            cores=available_cores(),
            cpu_bf16=cpu_has_bf16(),
            cuda=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        )


def comparable(data: Any) -> Any:
    """``data`` (a record's plain form) without its :data:`VOLATILE` fields, recursively."""
    if isinstance(data, dict):
        return {k: comparable(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [comparable(v) for v in data]
    return data


def read_record(path: Path, kind: type[T]) -> T:
    """The record of type ``kind`` stored at ``path``; an unreadable one is one line naming it.

    The file is left as it is (for the user to inspect or restore); nothing is rewritten.
    """
    try:
        return codec.loads(kind, path.read_text())
    except (OSError, ValueError) as error:  # codec errors are ValueErrors
        why = str(error) if isinstance(error, codec.CodecError) else one_line(error)
        raise DataError(
            f"{path} is corrupt or not a record of this version of mads-zoo ({why}); it was "
            "left as it is: restore it, or start a new run"
        ) from None


def write_record(path: Path, record: Any) -> None:
    """Write ``record`` as JSON to ``path`` atomically."""
    write_text(path, codec.dumps(record) + "\n")


def toml_value(value: Any) -> str:
    """A TOML literal for a plain config value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def config_toml(
    combo: Combo, config: Mapping[str, Any], metrics: Mapping[str, float], data: DataSource
) -> str:
    """A config file usable as ``mads-zoo train ARCH --config FILE``.

    It names the bench's dataset and split; the combo's strategy is written as what it is: a
    sampler, and (for a loss strategy) a ``loss`` in the config.
    """
    from mads_zoo.strategies import get_strategy

    strategy = get_strategy(combo.strategy)
    if strategy.loss != "ce":
        config = {**config, "loss": strategy.loss}
    lines = [
        f"# best config of {combo.key}; use: mads-zoo train {combo.architecture} --config FILE",
        f'architecture = "{combo.architecture}"',
        f'sampler = "{strategy.sampler}"',
        f'dataset = "{data.dataset}"',
        f'split = "{data.split}"',
        "",
        "[config]",
        *(f"{key} = {toml_value(config[key])}" for key in sorted(config)),
        "",
        "[metrics]",
        *(
            f"{key} = {toml_value(value)}"
            for key, value in sorted(metrics.items())
            if not math.isnan(value)
        ),
    ]
    return "\n".join(lines) + "\n"


class RunStore:
    """Reads and writes one run folder; the only code that knows its layout."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()  # Ray and pyarrow need absolute paths

    # -- the request ---------------------------------------------------------------------

    def save_run(self, run: RunRecord, with_environment: bool = True) -> None:
        """Store the run's record and (at the start) this machine's environment."""
        self.root.mkdir(parents=True, exist_ok=True)
        write_record(self.root / "run.json", run)
        if with_environment:
            write_record(self.root / "environment.json", Environment.here())

    def load_run(self) -> RunRecord:
        """The stored record of an existing run (for ``--resume`` and ``report``)."""
        path = self.root / "run.json"
        if not path.is_file():
            raise MadsZooError(f"{self.root} is not a bench run folder (no run.json)")
        return read_record(path, RunRecord)

    def save_test_fold(self, fold: HeldOutBeats) -> None:
        """Store the test fold's labels and records (at the start of a run)."""
        import pandas as pd  # pandas: only where a table is written

        frame = pd.DataFrame({"label": fold.labels, "record": fold.records.astype(str)})
        with atomic_file(self.root / "test_fold.parquet", suffix=".parquet") as temp:
            frame.to_parquet(temp, index=False)

    def load_test_fold(self) -> HeldOutBeats | None:
        """The stored test fold, or ``None`` for a run that has none (older versions)."""
        import pandas as pd

        path = self.root / "test_fold.parquet"
        if not path.is_file():
            return None
        frame = pd.read_parquet(path)
        return HeldOutBeats(frame["label"].to_numpy(np.int64), frame["record"].to_numpy(str))

    # -- trials ----------------------------------------------------------------------------

    def _trial_path(self, spec: TrialSpec) -> Path:
        return self.root / "trials" / f"{spec.key}.json"

    def save_trial(self, record: TrialRecord) -> None:
        """Store one finished run."""
        write_record(self._trial_path(record.spec), record)

    def load_trial(self, spec: TrialSpec) -> TrialRecord | None:
        """The stored run of ``spec``, or ``None`` if it has not finished.

        A stored run whose spec differs (another config, seed or length) is not reused.
        """
        path = self._trial_path(spec)
        if not path.is_file():
            return None
        record = read_record(path, TrialRecord)
        return record if record.spec == spec else None

    def all_trials(self) -> list[TrialRecord]:
        """Every stored run, in a stable order (not the hidden temporary file of a killed write)."""
        records = [
            read_record(p, TrialRecord) for p in sorted((self.root / "trials").glob("[!.]*.json"))
        ]
        order = {Stage.TUNE: 0, Stage.FINAL: 1}
        records.sort(
            key=lambda r: (order[r.spec.stage], r.spec.rung, r.spec.combo.key, r.spec.index)
        )
        return records

    # -- combo results ---------------------------------------------------------------------

    def _combo_dir(self, combo: Combo) -> Path:
        path = self.root / "combos" / combo.key
        path.mkdir(parents=True, exist_ok=True)
        return path

    def save_result(self, result: ComboResult, metric: str) -> None:
        """Store a combo's result and (when it has one) its best config as TOML."""
        folder = self._combo_dir(result.combo)
        if result.config is not None:
            metrics = {f"val_{metric}": result.score if result.score is not None else math.nan}
            for name in ("accuracy", "macro_f1", "macro_recall", "macro_precision"):
                if result.test:
                    metrics[f"test_{name}"] = result.test_summary(name).mean
            data = self.load_run().data
            toml = config_toml(result.combo, result.resolved_config, metrics, data)
            write_text(folder / "best_config.toml", toml)
        write_record(folder / "final.json", result)

    def load_results(self, combos: tuple[Combo, ...]) -> list[ComboResult]:
        """The stored results of ``combos`` (those written), in order."""
        results = []
        for combo in combos:
            path = self.root / "combos" / combo.key / "final.json"
            if path.is_file():
                results.append(read_record(path, ComboResult))
        return results

    def save_timing(self, timing: Timing) -> None:
        """Store the wall-clock timing of the latest (possibly resumed) invocation."""
        write_record(self.root / "timing.json", timing)

    def load_timing(self) -> Timing:
        """The timing of the latest invocation."""
        return read_record(self.root / "timing.json", Timing)

    def comparable_results(self) -> dict[str, Any]:
        """Every trial and combo result without volatile fields: equal for equal commands."""
        run = self.load_run()
        return {
            "trials": [comparable(codec.encode(t)) for t in self.all_trials()],
            "results": [comparable(codec.encode(r)) for r in self.load_results(run.combos)],
        }
