"""What runs inside one Ray task: one training run of the bench, through the run core.

A trial (or a finalist's seed run) is a pure function of its :class:`TrialSpec`, the run's
record and the folds: :func:`trial_request` says what to train (the spec's config over the
architecture's defaults, its beats and seed, the budget's metric and precision),
:func:`mads_zoo.train.run.fit` trains it (the same path as ``mads-zoo train``), and the record
keeps the budget's metric on validation. Final runs are then evaluated once on the test fold.
The folds come from Ray's object store, put there once per strategy and layout and mapped
zero-copy by every trial; a tuning trial's folds do not hold the test fold at all.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mads_zoo.bench.bootstrap import pack_labels
from mads_zoo.bench.budget import Budget
from mads_zoo.bench.plan import final_sampler_seed
from mads_zoo.bench.results import RunRecord, Stage, TrialRecord, TrialSpec
from mads_zoo.bench.time_limit import time_limit
from mads_zoo.config import RunRequest, resolve_run
from mads_zoo.data.folds import Folds
from mads_zoo.data.splits import left_out_classes
from mads_zoo.errors import MadsZooError, one_line, traceback_text
from mads_zoo.fusion import call_with_zero_features
from mads_zoo.strategies import get_strategy
from mads_zoo.train.engine import evaluate_predictions
from mads_zoo.train.result import RunStatus
from mads_zoo.train.run import Admit, fit
from mads_zoo.train.runtime import configure_threads, inference_precision


def budget_request(
    budget: Budget,
    *,
    architecture: str,
    strategy: str,
    config: Mapping[str, Any],
    dataset: str,
    split: str,
    data_seed: int,
    seed: int,
    sampler_seed: int | None,
    beats: int,
    device: str,
) -> RunRequest:
    """What one run trains under ``budget``: a bench's runs, and calibrations that mimic them."""
    imbalance = get_strategy(strategy)
    return RunRequest(
        architecture=architecture,
        sample=config,
        dataset=dataset,
        split=split,
        sampler=imbalance.sampler,
        seed=seed,
        data_seed=data_seed,
        sampler_seed=sampler_seed,
        val_fraction=budget.val_fraction,
        beats=beats,
        eval_beats=budget.eval_beats or None,
        early_stopping=budget.early_stopping,
        monitor=budget.metric,
        precision=budget.precision,
        device=device,
        loss=imbalance.loss,
    )


def trial_request(spec: TrialSpec, run: RunRecord, device: str) -> RunRequest:
    """What ``spec`` trains under ``run``'s budget: its config, beats, seed, metric, precision."""
    final = spec.stage is Stage.FINAL
    return budget_request(
        run.budget,
        architecture=spec.combo.architecture,
        strategy=spec.combo.strategy,
        config=spec.config,
        dataset=run.data.dataset,
        split=run.data.split,
        data_seed=run.seed,
        seed=spec.seed,
        sampler_seed=final_sampler_seed(run.seed, spec.index) if final else None,
        beats=spec.beats,
        device=device,
    )


def _placement() -> tuple[str, str, list[str]]:
    """``(node id, node ip, accelerator ids)`` of the Ray worker running this code."""
    try:
        import ray  # only inside a Ray task: tests call run_trial without Ray

        if not ray.is_initialized():
            return "", "", []
        context = ray.get_runtime_context()
        gpus = [str(g) for g in context.get_accelerator_ids().get("GPU", [])]
        return context.get_node_id(), ray.util.get_node_ip_address(), gpus
    except Exception:  # placement is informative only
        return "", "", []


def _device(gpu_ids: list[str]) -> tuple[str, str]:
    """The torch device for the GPUs Ray gave this worker, and a note when it cannot use them."""
    if not gpu_ids:
        return "cpu", ""
    if torch.cuda.is_available():
        return "cuda", ""
    # which GPU is placement (``gpu_ids``), kept out of the note so the note compares equal
    return "cpu", "Ray assigned a GPU but CUDA is not available: trained on the CPU"


def forward_mflops(model: nn.Module, input_shape: tuple[int, ...]) -> float:
    """Forward MFLOPs per beat of ``model`` as ``torch.utils.flop_counter`` counts them.

    Counted in eval mode on two beats (batch norm needs more than one), without gradients;
    the model's weights, buffers and mode are left as they were.
    """
    training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            call_with_zero_features(model, torch.zeros(2, *input_shape))
    finally:
        model.train(training)
    return float(counter.get_total_flops()) / 2 / 1e6


class OverBudget(MadsZooError):
    """A config whose model exceeds the budget's compute cap; the trial is refused."""


def compute_cap(budget: Budget, input_shape: tuple[int, ...]) -> Admit:
    """The check a built model must pass before it trains: the budget's ``max_mflops``."""

    def admit(model: nn.Module) -> None:
        if budget.max_mflops:
            mflops = forward_mflops(model, input_shape)
            if mflops > budget.max_mflops:
                raise OverBudget(
                    f"{mflops:,.0f} MFLOPs per beat, over the budget's max_mflops "
                    f"{budget.max_mflops}: not trained"
                )

    return admit


def run_trial(spec: TrialSpec, folds: Folds, run: RunRecord) -> TrialRecord:
    """Train ``spec`` on ``folds`` under ``run``'s budget; a failure becomes a failed record.

    Nothing raises out of here (a Ray task would print it): a failed record holds the error's
    one line in ``error`` and its traceback at the end of ``note``.
    """
    node_id, node_ip, gpu_ids = _placement()
    device, note = _device(gpu_ids)
    record = TrialRecord(
        spec, status=RunStatus.FAILED, device=device, note=note,
        node_id=node_id, node_ip=node_ip, gpu_ids=gpu_ids,
    )  # fmt: skip
    started = time.perf_counter()
    try:
        with time_limit(run.budget.run_time_limit):
            _train_and_test(spec, folds, run, device, record)
    except OverBudget as error:
        record.status, record.error = RunStatus.OVER_BUDGET, str(error)
    except Exception as error:  # one failed run never ends the bench
        record.status, record.score = RunStatus.FAILED, None
        record.error = one_line(error)
        record.note = (record.note + "\n" + traceback_text(error))[-4000:].strip()
    finally:
        record.seconds = time.perf_counter() - started
    return record


def _train_and_test(
    spec: TrialSpec, folds: Folds, run: RunRecord, device: str, record: TrialRecord
) -> None:
    """Train ``spec`` on ``folds``, then test a final run once; fill in ``record``."""
    budget = run.budget
    record.threads = configure_threads(budget.trial_threads)
    run_spec = resolve_run(trial_request(spec, run, device))
    record.resolved_config = dict(run_spec.config)
    model, result = fit(run_spec, folds, admit=compute_cap(budget, folds.input_shape))
    record.steps, record.evaluations = result.steps, len(result.history)
    record.params, record.precision = result.parameters, result.precision
    record.curve = result.curve(budget.metric)
    record.beats_per_second = result.beats_per_second
    record.val = result.best
    record.score = result.best.value(budget.metric)
    record.status = result.status
    if spec.stage is Stage.FINAL:
        precision = inference_precision(result.precision, torch.device(device))
        left_out = left_out_classes(run.data.split, folds.classes)
        record.test, predicted = evaluate_predictions(
            model, folds.final_test(), folds.classes, precision=precision, left_out=left_out
        )
        record.test_predicted = pack_labels(predicted)
