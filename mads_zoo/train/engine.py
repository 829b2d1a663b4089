"""The trainer: one loop for single runs and every benchmark trial.

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
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from mads_zoo.train.metrics import classification_metrics
from mads_zoo.train.recipe import Schedule, build_optimizer
from mads_zoo.train.runtime import resolve_device, resolve_precision
from mads_zoo.train.settings import INFERENCE_BATCH, MONITORS, TrainSettings

__all__ = [
    "INFERENCE_BATCH",
    "MONITORS",
    "FitResult",
    "TrainSettings",
    "Trainer",
    "evaluate",
    "predict_logits",
    "run_steps",
    "steps_per_epoch",
]


@dataclass
class FitResult:
    """What a training run did: status, budget used, and the best validation metrics."""

    status: str
    epochs: int
    steps: int
    best_epoch: int
    best_metrics: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    train_seconds: float = 0.0
    beats_per_second: float = 0.0
    message: str = ""
    precision: str = "fp32"


EpochCallback = Callable[[dict[str, Any]], None]
StepCallback = Callable[[int, int], None]


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Steps in one epoch of the *un-resampled* training fold."""
    return max(1, math.ceil(n_train / batch_size))


def run_steps(settings: TrainSettings, n_train: int) -> tuple[int, int]:
    """``(steps per evaluation, total optimizer steps)`` of a run on ``n_train`` beats."""
    per_epoch = settings.epoch_steps or steps_per_epoch(n_train, settings.batch_size)
    if settings.beats is not None:
        total = max(1, math.ceil(settings.beats / settings.batch_size))
    else:
        total = per_epoch * settings.epochs
    if settings.max_steps is not None:
        total = min(total, settings.max_steps)
    return per_epoch, total


def channels_last(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Put a 2D model and its (n, c, h, w) inputs in channels-last memory format.

    oneDNN's and cuDNN's fast 2D convolutions want NHWC; measured here up to 1.5x for the
    seed's 2DCNN. 1D inputs are returned unchanged.
    """
    if x.dim() != 4:
        return x
    model.to(memory_format=torch.channels_last)
    return x.contiguous(memory_format=torch.channels_last)


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter or buffer (the CPU for a model with none)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


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


def _autocast(device: torch.device, precision: str) -> Any:
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    x: torch.Tensor | np.ndarray,
    *,
    batch_size: int = INFERENCE_BATCH,
    precision: str = "fp32",
) -> torch.Tensor:
    """Logits for every row of ``x`` (eval mode, batched, float32 on the CPU).

    Batches go to the device the model is on (a trained model stays where it trained), so a
    caller cannot evaluate a GPU model with CPU inputs or the CPU's autocast.
    """
    device = model_device(model)
    x = channels_last(model, torch.as_tensor(x))
    model.eval()
    outputs = []
    with _autocast(device, precision):
        for start in range(0, len(x), batch_size):
            outputs.append(model(x[start : start + batch_size].to(device)).float().cpu())
    return torch.cat(outputs) if outputs else torch.empty(0)


def evaluate(
    model: nn.Module,
    x: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    class_names: tuple[str, ...],
    **predict_options: Any,
) -> dict[str, Any]:
    """Metrics of ``model`` over the whole of ``(x, y)``, plus the mean cross-entropy loss."""
    logits = predict_logits(model, x, **predict_options)
    y = torch.as_tensor(y, dtype=torch.long)
    metrics = classification_metrics(y.numpy(), logits.argmax(1).numpy(), class_names)
    metrics["loss"] = float(nn.functional.cross_entropy(logits, y)) if len(y) else 0.0
    return metrics


class Trainer:
    """Trains one model on tensors: a fixed-length run, the recipe's schedule, early stopping."""

    def __init__(self, settings: TrainSettings) -> None:
        self.settings = settings
        self.device = resolve_device(settings.device)
        self.precision = resolve_precision(settings.precision, self.device)

    def fit(
        self,
        model: nn.Module,
        x_train: np.ndarray | torch.Tensor,
        y_train: np.ndarray | torch.Tensor,
        x_val: np.ndarray | torch.Tensor,
        y_val: np.ndarray | torch.Tensor,
        *,
        class_names: tuple[str, ...],
        n_train_original: int | None = None,
        on_epoch: EpochCallback | None = None,
        on_step: StepCallback | None = None,
    ) -> FitResult:
        """Train ``model`` in place; on return it holds the best weights seen on validation.

        ``n_train_original`` is the training fold's size before resampling: it sets the
        steps per epoch. The run's total steps are fixed before the first step
        (:func:`run_steps`), and the learning-rate schedule spans them. ``on_epoch``
        receives each epoch's record (epoch, step, loss, lr, validation metrics) and may
        raise to stop the run; ``on_step(step, total_steps)`` is called after every
        optimizer step (for progress bars).
        """
        s = self.settings
        model.to(self.device)
        x = channels_last(model, torch.as_tensor(x_train).to(self.device))
        y = torch.as_tensor(y_train, dtype=torch.long).to(self.device)
        per_epoch, total_steps = run_steps(s, n_train_original or len(x))
        generator = torch.Generator().manual_seed(s.seed)
        optimizer = build_optimizer(model, s.optimizer, s.lr, s.weight_decay, s.momentum)
        schedule = Schedule(
            optimizer,
            name=s.schedule,
            lr=s.lr,
            total_steps=total_steps,
            warmup=s.warmup,
            factor=s.factor,
            patience=s.patience,
        )
        loss_fn = nn.CrossEntropyLoss(label_smoothing=s.label_smoothing)
        best_score, best_epoch, best_metrics, best_state = -math.inf, 0, {}, None
        history: list[dict[str, Any]] = []
        order = torch.randperm(len(x), generator=generator)
        losses = torch.empty(per_epoch, device=self.device)  # one epoch's, read once per epoch
        cursor, step, epoch, stale, train_seconds = 0, 0, 0, 0, 0.0
        status, message = "completed", ""
        started = time.perf_counter()
        while step < total_steps:
            epoch += 1
            model.train()
            epoch_started = time.perf_counter()
            counted = min(per_epoch, total_steps - step)
            for i in range(counted):
                if cursor + s.batch_size > len(x):
                    order, cursor = torch.randperm(len(x), generator=generator), 0
                index = order[cursor : cursor + s.batch_size].to(self.device)
                cursor += s.batch_size
                with _autocast(self.device, self.precision):
                    loss = loss_fn(model(x[index]).float(), y[index])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if s.grad_clip:
                    nn.utils.clip_grad_norm_(model.parameters(), s.grad_clip)
                schedule.before_step()
                optimizer.step()
                losses[i] = loss.detach()
                step += 1
                if on_step is not None:
                    on_step(step, total_steps)
            train_loss = float(losses[:counted].mean())
            train_seconds += time.perf_counter() - epoch_started
            if not math.isfinite(train_loss):
                bad_step, bad_loss = _first_non_finite(losses[:counted], step - counted + 1)
                status = "diverged"
                message = _divergence(f"loss became {bad_loss} at step {bad_step}", epoch, s.lr)
                break
            metrics = evaluate(
                model,
                x_val,
                y_val,
                class_names,
                batch_size=s.eval_batch_size,
                precision=self.precision,
            )
            if not math.isfinite(metrics["loss"]):  # the epoch's last steps broke the weights
                status = "diverged"
                what = f"validation loss became {metrics['loss']} after step {step}"
                message = _divergence(what, epoch, s.lr)
                break
            score = metrics[s.monitor]
            record = {
                "epoch": epoch,
                "step": step,
                "beats": step * s.batch_size,
                "train_seconds": train_seconds,
                "train_loss": train_loss,
                "lr": schedule.lr,
                **{f"val_{k}": v for k, v in metrics.items() if isinstance(v, float)},
            }
            history.append(record)
            schedule.after_epoch(score)
            if score > best_score:
                best_score, best_epoch, best_metrics, stale = score, epoch, metrics, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                stale += 1
            if on_epoch is not None:
                on_epoch(record)
            if s.early_stopping and stale >= s.early_stopping:
                status = "early-stopped"
                break
        seconds = time.perf_counter() - started
        if best_state is not None:
            model.load_state_dict(best_state)
        return FitResult(
            status=status,
            epochs=epoch,
            steps=step,
            best_epoch=best_epoch,
            best_metrics=best_metrics,
            history=history,
            seconds=seconds,
            train_seconds=train_seconds,
            beats_per_second=step * s.batch_size / train_seconds if train_seconds > 0 else 0.0,
            message=message,
            precision=self.precision,
        )
