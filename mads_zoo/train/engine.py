"""The trainer: one loop for single runs and every benchmark trial.

Data is held as tensors and batches are index slices of a seeded permutation (no per-sample
``Dataset``/``DataLoader``): on CPU a batch costs microseconds against a step of tens of
milliseconds. The budget is counted in optimizer steps: an "epoch" is
``ceil(n_train_unresampled / batch_size)`` steps, however many rows the sampler produced, so
an oversampled fold does not buy a combo more compute than another gets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import torch
from torch import nn

from mads_zoo.errors import ConfigError
from mads_zoo.train.metrics import classification_metrics
from mads_zoo.train.runtime import resolve_device, resolve_precision

MONITORS = ("macro_recall", "macro_f1", "accuracy")


@dataclass
class TrainSettings:
    """How to train: the engine keys of a config plus the run's own settings."""

    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    factor: float = 0.2
    patience: int = 2
    early_stopping: int = 6
    optimizer: str = "adam"
    grad_clip: float | None = 5.0
    precision: str = "auto"
    device: str = "auto"
    seed: int = 0
    monitor: str = "macro_recall"
    max_steps: int | None = None
    epoch_steps: int | None = None
    eval_batch_size: int = 2048

    def __post_init__(self) -> None:
        positive_ints = ("epochs", "batch_size", "eval_batch_size")
        for name in positive_ints:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        for name in ("patience", "early_stopping"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
        if not (isinstance(self.lr, int | float) and 0 < self.lr < 10):
            raise ConfigError(f"lr must be a positive number below 10, got {self.lr!r}")
        if not (isinstance(self.factor, int | float) and 0 < self.factor < 1):
            raise ConfigError(f"factor must be between 0 and 1 (exclusive), got {self.factor!r}")
        if not (isinstance(self.weight_decay, int | float) and self.weight_decay >= 0):
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.optimizer not in ("adam", "adamw"):
            raise ConfigError(f"optimizer must be 'adam' or 'adamw', got {self.optimizer!r}")
        if self.monitor not in MONITORS:
            raise ConfigError(f"monitor must be one of {MONITORS}, got {self.monitor!r}")
        for name in ("max_steps", "epoch_steps"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")

    @classmethod
    def from_config(cls, engine_config: Mapping[str, Any], **settings: Any) -> TrainSettings:
        """Build settings from a config's engine keys plus explicit run settings."""
        known = {f.name for f in fields(cls)}
        merged = {k: v for k, v in engine_config.items() if k in known}
        merged.update({k: v for k, v in settings.items() if v is not None})
        return cls(**merged)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for checkpoints and result files)."""
        return asdict(self)


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


EpochCallback = Callable[[dict[str, Any]], None]
StepCallback = Callable[[int, int], None]


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Steps in one epoch of the *un-resampled* training fold."""
    return max(1, math.ceil(n_train / batch_size))


def channels_last(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Put a 2D model and its (n, c, h, w) inputs in channels-last memory format.

    oneDNN's and cuDNN's fast 2D convolutions want NHWC; measured here up to 1.5x for the
    seed's 2DCNN. 1D inputs are returned unchanged.
    """
    if x.dim() != 4:
        return x
    model.to(memory_format=torch.channels_last)
    return x.contiguous(memory_format=torch.channels_last)


def _autocast(device: torch.device, precision: str) -> Any:
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    x: torch.Tensor | np.ndarray,
    *,
    batch_size: int = 2048,
    precision: str = "fp32",
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Logits for every row of ``x`` (eval mode, batched, float32 on the CPU)."""
    device = torch.device(device)
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
    """Trains one model on tensors with a step budget, LR schedule and early stopping."""

    def __init__(self, settings: TrainSettings) -> None:
        self.settings = settings
        self.device = resolve_device(settings.device)
        self.precision = resolve_precision(settings.precision, self.device)

    def _optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        s = self.settings
        cls = torch.optim.AdamW if s.optimizer == "adamw" else torch.optim.Adam
        return cls(model.parameters(), lr=s.lr, weight_decay=s.weight_decay)

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
        steps per epoch. ``on_epoch`` receives each epoch's record (epoch, step, loss, lr,
        validation metrics) and may raise to stop the run; ``on_step(step, total_steps)``
        is called after every optimizer step (for progress bars).
        """
        s = self.settings
        model.to(self.device)
        x = channels_last(model, torch.as_tensor(x_train).to(self.device))
        y = torch.as_tensor(y_train, dtype=torch.long).to(self.device)
        per_epoch = s.epoch_steps or steps_per_epoch(n_train_original or len(x), s.batch_size)
        total_steps = per_epoch * s.epochs
        if s.max_steps is not None:
            total_steps = min(total_steps, s.max_steps)
        generator = torch.Generator().manual_seed(s.seed)
        optimizer = self._optimizer(model)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="max", factor=s.factor, patience=s.patience
        )
        loss_fn = nn.CrossEntropyLoss()
        best_score, best_epoch, best_metrics, best_state = -math.inf, 0, {}, None
        history: list[dict[str, Any]] = []
        order = torch.randperm(len(x), generator=generator)
        cursor, step, epoch, stale, train_seconds = 0, 0, 0, 0, 0.0
        status, message = "completed", ""
        started = time.perf_counter()
        while step < total_steps:
            epoch += 1
            model.train()
            epoch_started = time.perf_counter()
            running, counted = torch.zeros((), device=self.device), 0
            for _ in range(min(per_epoch, total_steps - step)):
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
                optimizer.step()
                running += loss.detach()
                counted += 1
                step += 1
                if on_step is not None:
                    on_step(step, total_steps)
            train_loss = float(running / max(counted, 1))
            train_seconds += time.perf_counter() - epoch_started
            if not math.isfinite(train_loss):
                status = "diverged"
                message = f"training loss became {train_loss} at epoch {epoch} (step {step})"
                break
            metrics = evaluate(
                model,
                x_val,
                y_val,
                class_names,
                batch_size=s.eval_batch_size,
                precision=self.precision,
                device=self.device,
            )
            score = metrics[s.monitor]
            record = {
                "epoch": epoch,
                "step": step,
                "train_loss": train_loss,
                "lr": optimizer.param_groups[0]["lr"],
                **{f"val_{k}": v for k, v in metrics.items() if isinstance(v, float)},
            }
            history.append(record)
            scheduler.step(score)
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
        )
