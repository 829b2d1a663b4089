"""What runs inside one Ray task: one training run of the bench, through the engine's fit path.

A trial (or a finalist's seed run) is a pure function of its :class:`TrialSpec`, the budget
and the folds: it builds the architecture with the spec's config over its defaults, trains it
with :func:`mads_zoo.train.run.fit_architecture` (the same path as ``mads-zoo train``) for the
spec's beats, and reports the budget's metric on validation. Final runs are then evaluated
once on the test fold. The folds come from Ray's object store, put there once per sampler and
layout, and are mapped zero-copy by every trial.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from mads_zoo.bench.budget import Budget
from mads_zoo.bench.failures import one_line, traceback_text
from mads_zoo.bench.results import TrialRecord, TrialSpec


@dataclass(frozen=True, eq=False)
class TrialData:
    """The folds a trial may see: the resampled training fold and the validation fold.

    Final runs also get ``test``; tuning trials never do.
    """

    train: Any
    val: Any
    classes: tuple[str, ...]
    train_size_before: int
    test: Any = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input, without the batch."""
        return tuple(self.train.x.shape[1:])

    @classmethod
    def from_folds(cls, folds: Any, with_test: bool = False) -> TrialData:
        """Take the training and validation folds of ``folds`` (and the test fold if asked)."""
        return cls(
            folds.train,
            folds.val,
            tuple(folds.classes),
            folds.train_size_before,
            folds.final_test() if with_test else None,
        )


def derive_seed(*parts: Any) -> int:
    """A stable 31-bit seed from ``parts`` (the same on every machine and Python run)."""
    text = "/".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big") & 0x7FFFFFFF


def trial_settings(
    engine_keys: dict[str, Any], spec: TrialSpec, budget: Budget, device: str
) -> Any:
    """The trainer settings of ``spec`` under ``budget``: its beats, seed, metric and precision."""
    from mads_zoo.train.settings import TrainSettings

    settings = TrainSettings.from_config(
        engine_keys,
        beats=spec.beats,
        seed=spec.seed,
        early_stopping=budget.early_stopping,
        monitor=budget.metric.removeprefix("val_"),
        precision=budget.precision,
        device=device,
    )
    if budget.eval_beats:
        settings.epoch_steps = max(1, math.ceil(budget.eval_beats / settings.batch_size))
    return settings


def _placement() -> tuple[str, str, list[str]]:
    """``(node id, node ip, accelerator ids)`` of the Ray worker running this code."""
    try:
        import ray

        if not ray.is_initialized():
            return "", "", []
        context = ray.get_runtime_context()
        gpus = [str(g) for g in context.get_accelerator_ids().get("GPU", [])]
        return context.get_node_id(), ray.util.get_node_ip_address(), gpus
    except Exception:  # placement is informative only
        return "", "", []


def _device(gpu_ids: list[str]) -> tuple[str, str]:
    """The torch device for the GPUs Ray gave this worker, and a note when it cannot use them."""
    import torch

    if not gpu_ids:
        return "cpu", ""
    if torch.cuda.is_available():
        return "cuda", ""
    return (
        "cpu",
        f"Ray assigned GPU {','.join(gpu_ids)} but CUDA is not available: trained on the CPU",
    )


def forward_mflops(model: Any, input_shape: tuple[int, ...]) -> float:
    """Forward MFLOPs per beat of ``model`` as ``torch.utils.flop_counter`` counts them.

    Counted in eval mode on two beats (batch norm needs more than one), without gradients;
    the model's weights, buffers and mode are left as they were.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.zeros(2, *input_shape))
    finally:
        model.train(training)
    return counter.get_total_flops() / 2 / 1e6


class OverBudget(Exception):
    """A config whose model exceeds the budget's compute cap; the trial is refused."""


def run_trial(spec: TrialSpec, data: TrialData, budget: Budget) -> TrialRecord:
    """Train ``spec`` on ``data`` under ``budget``; a failure becomes a failed record.

    Nothing raises out of here (a Ray task would print it): a failed record holds the error's
    one line in ``error`` and its traceback at the end of ``note``.
    """
    from mads_zoo.config import resolve_config, split_engine_keys
    from mads_zoo.models import count_parameters
    from mads_zoo.registry import get_registry
    from mads_zoo.train.engine import evaluate
    from mads_zoo.train.run import fit_architecture
    from mads_zoo.train.runtime import configure_threads, inference_precision

    node_id, node_ip, gpu_ids = _placement()
    device, note = _device(gpu_ids)
    record = TrialRecord(
        spec, status="failed", device=device, note=note,
        node_id=node_id, node_ip=node_ip, gpu_ids=gpu_ids,
    )  # fmt: skip
    started = time.perf_counter()
    try:
        record.threads = configure_threads(budget.trial_threads)
        arch = get_registry().architecture(spec.combo.architecture)
        config = resolve_config(arch, sample=spec.config)
        record.resolved_config = config
        settings = trial_settings(split_engine_keys(config)[1], spec, budget, device)

        def admit(model: Any) -> None:
            if budget.max_mflops:
                mflops = forward_mflops(model, data.input_shape)
                if mflops > budget.max_mflops:
                    raise OverBudget(
                        f"{mflops:,.0f} MFLOPs per beat, over the budget's max_mflops "
                        f"{budget.max_mflops}: not trained"
                    )

        model, fit = fit_architecture(arch, config, data, settings, admit=admit)
        record.steps, record.evaluations = fit.steps, len(fit.history)
        record.params, record.precision = count_parameters(model), fit.precision
        record.curve = [r.get(budget.metric) for r in fit.history]
        record.beats_per_second = fit.beats_per_second
        record.val = {k: v for k, v in fit.best_metrics.items() if k != "confusion"}
        record.score = float(fit.best_metrics[budget.metric.removeprefix("val_")])
        record.status = fit.status
        if spec.stage == "final" and data.test is not None:
            import torch

            precision = inference_precision(fit.precision, torch.device(device))
            record.test = evaluate(
                model, data.test.x, data.test.y, data.classes, precision=precision
            )
    except OverBudget as error:
        record.status, record.error = "over budget", str(error)
    except Exception as error:  # one failed run never ends the bench
        record.status, record.score = "failed", None
        record.error = one_line(error)
        record.note = (record.note + "\n" + traceback_text(error))[-4000:].strip()
    finally:
        record.seconds = time.perf_counter() - started
    return record


def summary(values: list[float]) -> dict[str, Any]:
    """Mean and 95% confidence half-width (Student t over the values) of ``values``."""
    from scipy import stats

    array = np.asarray(values, dtype=float)
    n = len(array)
    mean = float(array.mean()) if n else math.nan
    if n > 1:
        half = float(stats.t.ppf(0.975, n - 1) * array.std(ddof=1) / math.sqrt(n))
    else:
        half = math.nan
    return {"mean": mean, "ci95": half, "values": [float(v) for v in array]}
