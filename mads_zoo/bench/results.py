"""The records of a bench run, and the one place they are read from and written to disk.

```
RUN_DIR/
  run.json                 RunRecord: dataset, split, data source, seed, budget, combos
  environment.json         versions and hardware of the machine that started the run
  trials/STAGE-rR-ARCH--SAMPLER-NNN.json
                           TrialRecord: one training run (a tuning trial or a final seed)
  combos/ARCH--SAMPLER/    final.json (ComboResult) and best_config.toml
  timing.json              wall-clock timing of the latest invocation (never compared)
  trials.parquet|csv       one row per trial, all combos
  leaderboard.md|html      the leaderboard;  plots/*.png  the figures
```

Every file is written atomically, so a crash or Ctrl-C never leaves a half-written one. A
record is a pure function of the command, the data and the seed, except for the fields in
:data:`VOLATILE` (timings, and where a trial ran): :func:`comparable` drops them, and two runs
of the same command agree on everything else.
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from mads_zoo.bench.budget import Budget
from mads_zoo.data.cache import atomic_file
from mads_zoo.errors import DataError, MadsZooError

T = TypeVar("T")

#: Record fields that depend on the machine and its load, not on the command and the data.
VOLATILE = frozenset({"seconds", "node_id", "node_ip", "gpu_ids", "beats_per_second"})


@dataclass(frozen=True)
class Combo:
    """One (architecture x sampler) pair."""

    architecture: str
    sampler: str

    @property
    def key(self) -> str:
        """The combo's folder name and label, ``ARCH--SAMPLER``."""
        return f"{self.architecture}--{self.sampler}"


@dataclass(frozen=True)
class DataSource:
    """Where a run's beats came from, and a fingerprint of their content.

    ``beats`` is how many there were (``0`` in records written before it was stored).
    """

    dataset: str
    split: str
    folder: str | None
    fingerprint: str
    beats: int = 0

    def describe(self) -> str:
        """``"(109,441 beats, fingerprint ab12...)"``: how many beats, and which content."""
        count = f"{self.beats:,} beats, " if self.beats else ""
        return f"({count}fingerprint {self.fingerprint})"


@dataclass(frozen=True)
class RunRecord:
    """``run.json``: everything needed to run, resume or re-render a bench."""

    data: DataSource
    seed: int
    budget: Budget
    combos: tuple[Combo, ...]
    version: str = ""
    #: Beats per class of the ``train`` (before resampling), ``val`` and ``test`` folds.
    class_counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "data": asdict(self.data),
            "seed": self.seed,
            "budget": self.budget.to_dict(),
            "combos": [[c.architecture, c.sampler] for c in self.combos],
            "version": self.version,
            "class_counts": self.class_counts,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """The record :meth:`to_dict` wrote."""
        return cls(
            data=DataSource(**data["data"]),
            seed=int(data["seed"]),
            budget=Budget.from_dict(data["budget"]),
            combos=tuple(Combo(*c) for c in data["combos"]),
            version=data.get("version", ""),
            class_counts=data.get("class_counts", {}),
        )


@dataclass(frozen=True)
class TrialSpec:
    """One training run to do: a tuning trial of a rung, or one seed of a finalist.

    Attributes:
        combo: The (architecture x sampler) pair.
        stage: ``"tune"`` or ``"final"`` (only final runs are tested).
        rung: The successive-halving rung (the final stage has the rung after the last).
        index: Trial index within the combo and rung (the seed index in the final stage).
        config: The searched keys of this trial (the architecture's defaults fill the rest).
        seed: Model seed, derived from (bench seed, combo, stage, rung, index).
        beats: Training beats of the run.
    """

    combo: Combo
    stage: str
    rung: int
    index: int
    config: dict[str, Any]
    seed: int
    beats: int

    @property
    def key(self) -> str:
        """A unique, file-name-safe name of this run within the bench."""
        return f"{self.stage}-r{self.rung}-{self.combo.key}-{self.index:03d}"


@dataclass
class TrialRecord:
    """What one training run did (``trials/KEY.json``).

    ``score`` is the budget's metric on validation (best over the run's validations);
    ``None`` when the run failed. ``test`` is set for final runs only.
    """

    spec: TrialSpec
    status: str
    score: float | None = None
    error: str | None = None
    val: dict[str, Any] = field(default_factory=dict)
    test: dict[str, Any] | None = None
    resolved_config: dict[str, Any] = field(default_factory=dict)
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

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        data = asdict(self)
        data["spec"]["combo"] = self.spec.combo.key
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialRecord:
        """The record :meth:`to_dict` wrote."""
        spec = dict(data["spec"])
        spec["combo"] = Combo(*spec["combo"].split("--", 1))
        known = {f.name for f in fields(cls)}
        return cls(**{**{k: v for k, v in data.items() if k in known}, "spec": TrialSpec(**spec)})

    def row(self) -> dict[str, Any]:
        """A flat table row (trials.parquet)."""
        s = self.spec
        return {
            "combo": s.combo.key,
            "architecture": s.combo.architecture,
            "sampler": s.combo.sampler,
            "stage": s.stage,
            "rung": s.rung,
            "trial": s.index,
            "seed": s.seed,
            "beats": s.beats,
            "status": self.status,
            "score": self.score,
            **{k: v for k, v in self.val.items() if isinstance(v, float)},
            **{f"test_{k}": v for k, v in (self.test or {}).items() if isinstance(v, float)},
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
        outcome: ``"selected"`` (the run's model), ``"finalist"``, ``"stopped"`` (at
            ``rung``) or ``"failed"``.
        rung: The deepest stage the combo reached (the final stage is ``rungs``).
        score: The metric on validation there (mean over seeds for finalists).
        config: The combo's best searched config (``None`` when every trial failed).
        trials: Runs of this combo, and how many failed.
        error: Why every trial failed (failed combos only).
        val: Finalists: validation metrics over the seeds (``{"mean", "ci95", "values"}``).
        test: Finalists: test metrics over the seeds (``{"mean", "ci95", "values"}``).
        recall: Finalists: mean test recall per class.
        confusion: Finalists: the test confusion matrix summed over seeds.
    """

    combo: Combo
    outcome: str
    rung: int
    score: float | None
    config: dict[str, Any] | None
    resolved_config: dict[str, Any] = field(default_factory=dict)
    trials: int = 0
    failed_trials: int = 0
    error: str | None = None
    val: dict[str, Any] = field(default_factory=dict)
    test: dict[str, Any] = field(default_factory=dict)
    recall: dict[str, float] = field(default_factory=dict)
    confusion: list[list[int]] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    params: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        data = asdict(self)
        data["combo"] = self.combo.key
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComboResult:
        """The record :meth:`to_dict` wrote."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        return cls(**{**values, "combo": Combo(*data["combo"].split("--", 1))})


def comparable(data: Any) -> Any:
    """``data`` (a record's JSON form) without its :data:`VOLATILE` fields, recursively."""
    if isinstance(data, dict):
        return {k: comparable(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [comparable(v) for v in data]
    return data


def read_record(path: Path, parse: Callable[[Any], T]) -> T:
    """``parse`` of the JSON record at ``path``; an unreadable one is a one-line error naming it.

    The file is left as it is (for the user to inspect or restore); nothing is rewritten.
    """
    try:
        return parse(json.loads(path.read_text()))
    except (OSError, ValueError, LookupError, TypeError, AttributeError) as error:
        why = f"missing {error}" if isinstance(error, KeyError) else str(error)
        raise DataError(
            f"{path} is corrupt or not a record of this version of mads-zoo "
            f"({type(error).__name__}: {' '.join(why.split())}); it was left as it is: "
            "restore it, or start a new run"
        ) from None


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_file(path, suffix=path.suffix) as temp:
        temp.write_text(text)


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically."""
    write_text(path, json.dumps(data, indent=2, default=_plain))


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def toml_value(value: Any) -> str:
    """A TOML literal for a plain config value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def config_toml(combo: Combo, config: dict[str, Any], metrics: dict[str, Any]) -> str:
    """A config file usable as ``mads-zoo train ARCH --config FILE``."""
    lines = [
        f"# best config of {combo.key}; use: mads-zoo train {combo.architecture} --config FILE",
        f'architecture = "{combo.architecture}"',
        f'sampler = "{combo.sampler}"',
        "",
        "[config]",
        *(f"{key} = {toml_value(config[key])}" for key in sorted(config)),
        "",
        "[metrics]",
        *(
            f"{key} = {toml_value(value)}"
            for key, value in sorted(metrics.items())
            if value is not None and not (isinstance(value, float) and math.isnan(value))
        ),
    ]
    return "\n".join(lines) + "\n"


def environment() -> dict[str, Any]:
    """Versions and hardware of this machine."""
    import numpy
    import ray
    import torch

    from mads_zoo.__about__ import __version__
    from mads_zoo.train.runtime import available_cores, cpu_has_bf16

    return {
        "mads-zoo": __version__,
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "numpy": numpy.__version__,
        "ray": ray.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cores": available_cores(),
        "cpu_bf16": cpu_has_bf16(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


class RunStore:
    """Reads and writes one run folder; the only code that knows its layout."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()  # Ray and pyarrow need absolute paths

    # -- the request ---------------------------------------------------------------------

    def save_run(self, run: RunRecord, with_environment: bool = True) -> None:
        """Store the run's record and (at the start) this machine's environment."""
        self.root.mkdir(parents=True, exist_ok=True)
        write_json(self.root / "run.json", run.to_dict())
        if with_environment:
            write_json(self.root / "environment.json", environment())

    def load_run(self) -> RunRecord:
        """The stored record of an existing run (for ``--resume`` and ``report``)."""
        path = self.root / "run.json"
        if not path.is_file():
            raise MadsZooError(f"{self.root} is not a bench run folder (no run.json)")
        return read_record(path, RunRecord.from_dict)

    # -- trials ----------------------------------------------------------------------------

    def _trial_path(self, spec: TrialSpec) -> Path:
        return self.root / "trials" / f"{spec.key}.json"

    def save_trial(self, record: TrialRecord) -> None:
        """Store one finished run."""
        write_json(self._trial_path(record.spec), record.to_dict())

    def load_trial(self, spec: TrialSpec) -> TrialRecord | None:
        """The stored run of ``spec``, or ``None`` if it has not finished.

        A stored run whose spec differs (another config, seed or length) is not reused.
        """
        path = self._trial_path(spec)
        if not path.is_file():
            return None
        record = read_record(path, TrialRecord.from_dict)
        return record if record.spec == spec else None

    def all_trials(self) -> list[TrialRecord]:
        """Every stored run, in a stable order (not the hidden temporary file of a killed write)."""
        records = [
            read_record(p, TrialRecord.from_dict)
            for p in sorted((self.root / "trials").glob("[!.]*.json"))
        ]
        order = {"tune": 0, "final": 1}
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
            metrics: dict[str, Any] = {metric: result.score}
            metrics.update({f"test_{k}": v["mean"] for k, v in result.test.items()})
            write_text(
                folder / "best_config.toml",
                config_toml(result.combo, result.resolved_config, metrics),
            )
        write_json(folder / "final.json", result.to_dict())

    def load_results(self, combos: tuple[Combo, ...]) -> list[ComboResult]:
        """The stored results of ``combos`` (those written), in order."""
        results = []
        for combo in combos:
            path = self.root / "combos" / combo.key / "final.json"
            if path.is_file():
                results.append(read_record(path, ComboResult.from_dict))
        return results

    def save_timing(self, timing: dict[str, Any]) -> None:
        """Store the wall-clock timing of the latest (possibly resumed) invocation."""
        write_json(self.root / "timing.json", timing)

    def comparable_results(self) -> dict[str, Any]:
        """Every trial and combo result without volatile fields: equal for equal commands."""
        run = self.load_run()
        return {
            "trials": [comparable(t.to_dict()) for t in self.all_trials()],
            "results": [comparable(r.to_dict()) for r in self.load_results(run.combos)],
        }
