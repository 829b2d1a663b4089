"""The trainer: one loop for single runs and every benchmark trial, and whole-split evaluation.

Data is held as tensors and batches are index slices of a seeded permutation (no per-sample
``Dataset``/``DataLoader``): on CPU a batch costs microseconds against a step of tens of
milliseconds. A run's length is fixed up front, in training beats: ``beats`` when given, else
``epochs`` passes over the *un-resampled* training fold, however many rows the sampler
produced, so an oversampled fold does not buy a combo more compute than another gets. The
optimizer and learning-rate schedule are the recipe of :mod:`mads_zoo.train.recipe`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mads_zoo.data.folds import Fold
from mads_zoo.errors import DivergedError
from mads_zoo.fusion import call_model
from mads_zoo.metrics import Metrics
from mads_zoo.train.device_fold import DeviceFold, channels_last
from mads_zoo.train.losses import build_loss
from mads_zoo.train.recipe import Schedule, build_optimizer
from mads_zoo.train.result import EpochRecord, FoldSizes, RunResult, RunStatus
from mads_zoo.train.runtime import deterministic_kernels, resolve_device, resolve_precision
from mads_zoo.train.spec import INFERENCE_BATCH, Training

EpochCallback = Callable[[EpochRecord], None]
#: How validation is scored: the class names, and those left out of the macro averages.
Scoring = tuple[tuple[str, ...], tuple[str, ...]]
StepCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class RunLength:
    """A run's length in optimizer steps, fixed before its first step."""

    steps_per_eval: int
    total_steps: int


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Steps in one pass over the *un-resampled* training fold."""
    return max(1, math.ceil(n_train / batch_size))


def run_length(training: Training, n_train: int) -> RunLength:
    """The steps between validations and in all of a run on ``n_train`` (un-resampled) beats."""
    batch = training.recipe.batch_size
    per_eval = steps_per_epoch(n_train, batch)
    if training.eval_beats is not None:
        per_eval = max(1, math.ceil(training.eval_beats / batch))
    if training.beats is not None:
        total = max(1, math.ceil(training.beats / batch))
    else:
        total = steps_per_epoch(n_train, batch) * training.recipe.epochs
    if training.max_steps is not None:
        total = min(total, training.max_steps)
    return RunLength(per_eval, total)


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter or buffer (the CPU for a model with none)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def autocast(device: torch.device, precision: str) -> AbstractContextManager[object]:
    """bf16 autocast on ``device`` for ``precision`` ``bf16``; nothing for ``fp32``."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    x: torch.Tensor | np.ndarray,
    features: torch.Tensor | np.ndarray | None = None,
    *,
    batch_size: int = INFERENCE_BATCH,
    precision: str = "fp32",
) -> torch.Tensor:
    """Logits for every row of ``x`` (eval mode, batched, float32 on the CPU).

    ``features`` ``(n, k)`` are the per-example features (``None``: none); a plain model
    never sees them. Batches go to the device the model is on (a trained model stays where
    it trained), so a caller cannot evaluate a GPU model with CPU inputs or the CPU's autocast;
    inputs already there (a :class:`DeviceFold`) are not copied. The logits stay on the device
    until the last batch: one copy back, not one per batch.
    """
    device = model_device(model)
    inputs = channels_last(model, torch.as_tensor(x))
    extra = torch.zeros(len(inputs), 0) if features is None else torch.as_tensor(features)
    model.eval()
    outputs = []
    with autocast(device, precision):
        for start in range(0, len(inputs), batch_size):
            batch = inputs[start : start + batch_size].to(device)
            batch_features = extra[start : start + batch_size].to(device)
            outputs.append(call_model(model, batch, batch_features).float())
    return torch.cat(outputs).cpu() if outputs else torch.empty(0)


def evaluate(
    model: nn.Module,
    fold: Fold | DeviceFold,
    classes: tuple[str, ...],
    *,
    precision: str = "fp32",
    batch_size: int = INFERENCE_BATCH,
    left_out: tuple[str, ...] = (),
) -> Metrics:
    """The metrics of ``model`` over the whole ``fold``, with its mean cross-entropy loss."""
    metrics, _ = evaluate_predictions(
        model, fold, classes, precision=precision, batch_size=batch_size, left_out=left_out
    )
    return metrics


def evaluate_predictions(
    model: nn.Module,
    fold: Fold | DeviceFold,
    classes: tuple[str, ...],
    *,
    precision: str = "fp32",
    batch_size: int = INFERENCE_BATCH,
    left_out: tuple[str, ...] = (),
) -> tuple[Metrics, np.ndarray]:
    """:func:`evaluate`, and the predicted class of every example of ``fold``, in order."""
    logits = predict_logits(
        model, fold.x, fold.features, batch_size=batch_size, precision=precision
    )
    y = torch.as_tensor(fold.y, dtype=torch.long)
    loss = float(nn.functional.cross_entropy(logits, y)) if len(y) else 0.0
    predicted = logits.argmax(1).numpy()
    metrics = Metrics.of_labels(fold.y, predicted, classes, left_out=left_out, loss=loss)
    return metrics, predicted


def _divergence(what: str, epoch: int, lr: float) -> str:
    """The one-line message of a run whose loss or weights became NaN or infinite."""
    return f"training diverged: {what} of epoch {epoch} (lr {lr:g}; lower lr)"


def _first_non_finite(losses: torch.Tensor, first_step: int) -> tuple[int, float]:
    """``(step, loss)`` of the first NaN or inf among an epoch's per-step ``losses``.

    Steps count from ``first_step``; when only the losses' mean overflowed: the last step, inf.
    """
    bad = torch.nonzero(~torch.isfinite(losses))
    if not len(bad):
        return first_step + len(losses) - 1, math.inf
    index = int(bad[0])
    return first_step + index, float(losses[index])


class _Batches:
    """Index batches of a seeded permutation that runs on across epochs."""

    def __init__(self, n: int, batch_size: int, seed: int, device: torch.device) -> None:
        self.n, self.batch_size, self.device = n, batch_size, device
        self.generator = torch.Generator().manual_seed(seed)
        self.order = torch.randperm(n, generator=self.generator)
        self.cursor = 0

    def next(self) -> torch.Tensor:
        """The next batch's row indices, on the training device."""
        if self.cursor + self.batch_size > self.n:
            self.order, self.cursor = torch.randperm(self.n, generator=self.generator), 0
        index = self.order[self.cursor : self.cursor + self.batch_size].to(self.device)
        self.cursor += self.batch_size
        return index


class _Best:
    """The best validation so far, its weights, and the validations since it."""

    def __init__(self) -> None:
        self.score, self.epoch, self.stale = -math.inf, 0, 0
        self.metrics: Metrics | None = None
        self.state: dict[str, torch.Tensor] | None = None

    def update(self, score: float, record: EpochRecord, model: nn.Module) -> None:
        """Keep ``model``'s weights if ``score`` beats the best so far."""
        if score > self.score:
            self.score, self.epoch, self.metrics, self.stale = score, record.epoch, record.val, 0
            self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            self.stale += 1


class _Steps:
    """The optimizer steps of one run: batches, forward, loss, backward, clip, schedule, step."""

    def __init__(
        self,
        trainer: Trainer,
        model: nn.Module,
        train: Fold,
        num_classes: int,
        total: int,
        on_step: StepCallback | None,
    ) -> None:
        recipe, device = trainer.recipe, trainer.device
        self.model, self.device, self.precision = model, device, trainer.precision
        self.data = DeviceFold.of(train, model, device)
        self.batches = _Batches(len(train), recipe.batch_size, trainer.training.seed, device)
        self.optimizer = build_optimizer(
            model, recipe.optimizer, recipe.lr, recipe.weight_decay, recipe.momentum
        )
        self.schedule = Schedule(
            self.optimizer,
            name=recipe.schedule,
            lr=recipe.lr,
            total_steps=total,
            warmup=recipe.warmup,
            factor=recipe.factor,
            patience=recipe.patience,
        )
        self.loss_fn = build_loss(recipe, train.y, num_classes, device)
        self.grad_clip, self.lr = recipe.grad_clip, recipe.lr
        self.done, self.total, self.on_step = 0, total, on_step
        self.seconds = 0.0  # spent in optimizer steps (validation excluded)

    def epoch(self, steps: int, epoch: int) -> float:
        """Run ``steps`` optimizer steps; their mean training loss.

        A NaN or infinite loss raises :class:`DivergedError` naming the first bad step.
        """
        started = time.perf_counter()
        self.model.train()
        losses = torch.empty(steps, device=self.device)  # read once per epoch
        for i in range(steps):
            index = self.batches.next()
            with autocast(self.device, self.precision):
                logits = call_model(self.model, self.data.x[index], self.data.features[index])
                loss = self.loss_fn(logits.float(), self.data.targets[index])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.grad_clip:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
            self.schedule.before_step()
            self.optimizer.step()
            losses[i] = loss.detach()
            self.done += 1
            if self.on_step is not None:
                self.on_step(self.done, self.total)
        train_loss = float(losses.mean())
        self.seconds += time.perf_counter() - started
        if not math.isfinite(train_loss):
            step, bad = _first_non_finite(losses, self.done - steps + 1)
            raise DivergedError(_divergence(f"loss became {bad} at step {step}", epoch, self.lr))
        return train_loss


class Trainer:
    """Trains one model on a training and a validation fold under one :class:`Training`."""

    def __init__(self, training: Training) -> None:
        self.training = training
        self.recipe = training.recipe
        self.device = resolve_device(training.device)
        self.precision = resolve_precision(training.precision, self.device)
        deterministic_kernels(self.device)

    def fit(
        self,
        model: nn.Module,
        train: Fold,
        val: Fold,
        classes: tuple[str, ...],
        *,
        n_train_original: int | None = None,
        left_out: tuple[str, ...] = (),
        on_epoch: EpochCallback | None = None,
        on_step: StepCallback | None = None,
    ) -> RunResult:
        """Train ``model`` in place; on return it holds the best weights seen on validation.

        ``n_train_original`` is the training fold's size before resampling: it sets the
        steps per epoch (:func:`run_length`), fixed before the first step; the learning-rate
        schedule spans them. ``on_epoch`` receives each validation's record and may raise to
        stop the run; ``on_step(step, total_steps)`` is called after every optimizer step.
        ``left_out`` classes stay out of the monitored macro averages (the split's convention).
        A NaN or infinite training or validation loss raises
        :class:`~mads_zoo.errors.DivergedError` (never a score).
        """
        started = time.perf_counter()
        model.to(self.device)
        n_train = n_train_original or len(train)
        length = run_length(self.training, n_train)
        steps = _Steps(self, model, train, len(classes), length.total_steps, on_step)
        val_data = DeviceFold.of(val, model, self.device)  # copied once, not per validation
        best, status = _Best(), RunStatus.COMPLETED
        history: list[EpochRecord] = []
        while steps.done < length.total_steps:
            record = self._epoch(steps, length, len(history) + 1, val_data, (classes, left_out))
            history.append(record)
            score = record.val.value(self.training.monitor)
            steps.schedule.after_epoch(score)
            best.update(score, record, model)
            if on_epoch is not None:
                on_epoch(record)
            if self.training.early_stopping and best.stale >= self.training.early_stopping:
                status = RunStatus.EARLY_STOPPED
                break
        if best.state is not None:
            model.load_state_dict(best.state)
        assert best.metrics is not None  # every run takes a step, so it validates once
        return RunResult(
            status=status,
            epochs=len(history),
            steps=steps.done,
            best_epoch=best.epoch,
            best=best.metrics,
            history=tuple(history),
            parameters=count_parameters(model),
            precision=self.precision,
            fold_sizes=FoldSizes(n_train, len(train), len(val)),
            seconds=time.perf_counter() - started,
            train_seconds=steps.seconds,
            beats_per_second=_rate(steps.done * self.recipe.batch_size, steps.seconds),
        )

    def _epoch(
        self, steps: _Steps, length: RunLength, epoch: int, val: DeviceFold, scoring: Scoring
    ) -> EpochRecord:
        """One epoch: the steps up to the next validation, then the validation."""
        train_loss = steps.epoch(min(length.steps_per_eval, length.total_steps - steps.done), epoch)
        return EpochRecord(
            epoch=epoch,
            step=steps.done,
            beats=steps.done * self.recipe.batch_size,
            train_seconds=steps.seconds,
            train_loss=train_loss,
            lr=steps.schedule.lr,
            val=self._validate(steps.model, val, scoring, epoch, steps.done),
        )

    def _validate(
        self, model: nn.Module, val: DeviceFold, scoring: Scoring, epoch: int, step: int
    ) -> Metrics:
        """Metrics over the whole validation fold; a non-finite loss is a divergence."""
        classes, left_out = scoring
        metrics = evaluate(
            model, val, classes,
            precision=self.precision, batch_size=self.training.eval_batch_size,
            left_out=left_out,
        )  # fmt: skip
        if metrics.loss is None or not math.isfinite(metrics.loss):
            # the epoch's last steps broke the weights
            what = f"validation loss became {metrics.loss} after step {step}"
            raise DivergedError(_divergence(what, epoch, self.recipe.lr))
        return metrics


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _rate(beats: int, seconds: float) -> float:
    return beats / seconds if seconds > 0 else 0.0
