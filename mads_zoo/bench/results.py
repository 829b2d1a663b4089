"""The results folder of a bench run: what is stored, where, and how it is read back.

```
RUN_DIR/
  run.json                 the request: dataset, split, budget, seed, combos (for --resume)
  environment.json         versions, hardware, budget, seeds
  combos/ARCH--SAMPLER/    per combo: tune/ (Ray's experiment), trials.json,
                           final.json (test results), best_config.toml
  trials.parquet|csv       one row per trial, all combos
  leaderboard.md|html      the leaderboard;  plots/*.png  the figures
```

Every file is written atomically, so a crash or Ctrl-C never leaves a half-written one.
"""

from __future__ import annotations

import json
import math
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mads_zoo.bench.trial import METRIC
from mads_zoo.data.cache import atomic_file
from mads_zoo.errors import MadsZooError


@dataclass(frozen=True)
class Combo:
    """One (architecture x sampler) pair."""

    architecture: str
    sampler: str

    @property
    def key(self) -> str:
        """The combo's folder name and label, ``ARCH--SAMPLER``."""
        return f"{self.architecture}--{self.sampler}"


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_file(path, suffix=path.suffix) as temp:
        temp.write_text(text)


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically."""
    write_text(path, json.dumps(data, indent=2, default=str))


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
            if value is not None
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


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def trial_rows(grid: Any, combo: Combo, budget: Any) -> list[dict[str, Any]]:
    """One row per trial of a Ray Tune ``ResultGrid``: config, status, best validation."""
    rows = []
    for result in grid:
        frame = result.metrics_dataframe
        history = frame.to_dict("records") if frame is not None and len(frame) else []
        scored = [r for r in history if r.get(METRIC) is not None]
        best = max(scored, key=lambda r: r[METRIC]) if scored else {}
        epochs = len(scored)
        if result.error is not None:
            status = "failed"
        elif epochs < budget.max_epochs:
            status = "stopped early"
        else:
            status = "completed"
        error = None
        if result.error is not None:
            error = str(result.error).strip().splitlines()[-1][:300]
        rows.append(
            {
                "combo": combo.key,
                "architecture": combo.architecture,
                "sampler": combo.sampler,
                "trial_id": (result.metrics or {}).get("trial_id") or Path(result.path).name,
                "status": status,
                "error": error,
                "epochs": epochs,
                "steps": _clean(best.get("step")),
                METRIC: _clean(best.get(METRIC)),
                "val_accuracy": _clean(best.get("val_accuracy")),
                "val_macro_f1": _clean(best.get("val_macro_f1")),
                "params": _clean(best.get("params")),
                "seconds": _clean(history[-1].get("time_total_s")) if history else None,
                "config": {k: _clean(v) for k, v in (result.config or {}).items()},
                "curve": [_clean(r[METRIC]) for r in scored],
            }
        )
    return rows


class RunStore:
    """Reads and writes one run folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()  # Ray and pyarrow need absolute paths

    def combo_dir(self, combo: Combo) -> Path:
        """The folder of one combo."""
        path = self.root / "combos" / combo.key
        path.mkdir(parents=True, exist_ok=True)
        return path

    def save_request(self, request: dict[str, Any]) -> None:
        """Store the run's request and environment (done once, at the start)."""
        self.root.mkdir(parents=True, exist_ok=True)
        write_json(self.root / "run.json", request)
        write_json(
            self.root / "environment.json",
            {**environment(), "budget": request["budget"], "seed": request["seed"]},
        )

    def load_request(self) -> dict[str, Any]:
        """The stored request of an existing run (for ``--resume`` and ``report``)."""
        path = self.root / "run.json"
        if not path.is_file():
            raise MadsZooError(f"{self.root} is not a bench run folder (no run.json)")
        return json.loads(path.read_text())

    def save_timing(self, timing: dict[str, Any]) -> None:
        """Store the wall-clock timing of the latest (possibly resumed) invocation."""
        write_json(self.root / "timing.json", timing)

    def save_trials(self, combo: Combo, rows: list[dict[str, Any]]) -> None:
        """Store a combo's trial rows."""
        write_json(self.combo_dir(combo) / "trials.json", rows)

    def save_final(self, combo: Combo, result: dict[str, Any]) -> None:
        """Store a combo's final result and its best config as TOML."""
        if "config" in result:
            metrics = {f"test_{k}": v["mean"] for k, v in result["test"].items()}
            metrics["val_macro_recall"] = result["best_val"]
            write_text(
                self.combo_dir(combo) / "best_config.toml",
                config_toml(combo, result["config"], metrics),
            )
        write_json(self.combo_dir(combo) / "final.json", result)

    def load_final(self, combo: Combo) -> dict[str, Any] | None:
        """A finished combo's result, or ``None`` if it has not finished."""
        path = self.root / "combos" / combo.key / "final.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def all_trials(self) -> list[dict[str, Any]]:
        """Every stored trial row, all combos."""
        rows = []
        for path in sorted((self.root / "combos").glob("*/trials.json")):
            rows += json.loads(path.read_text())
        return rows

    def all_finals(self, combos: list[Combo]) -> list[dict[str, Any]]:
        """The stored final results of ``combos`` (finished ones only), in order."""
        return [r for c in combos if (r := self.load_final(c)) is not None]
