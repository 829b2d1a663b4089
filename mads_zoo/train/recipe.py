"""The training recipe: optimizer and learning-rate schedule, chosen by config keys.

The same recipe applies to every architecture; an architecture's ``defaults`` (or a preset,
or ``--set``) choose among:

- ``optimizer``: ``adamw`` (default), ``adam`` or ``sgd`` (Nesterov, ``momentum``).
  ``weight_decay`` applies to weight matrices and kernels only, never to biases and norm
  scales (the usual AdamW practice).
- ``schedule``: a learning-rate shape over the run's total optimizer steps, so it needs the
  run's length up front (``epochs`` or ``beats``):

  ============ =============================================================================
  ``onecycle`` linear warm-up from ``lr / 25`` to ``lr`` over the first ``warmup`` share of
               the steps, then cosine annealing to ``lr / 25e4`` (the default)
  ``cosine``   linear warm-up from 0 over ``warmup`` (default none), cosine decay to 0
  ``constant`` ``lr`` throughout (after an optional linear ``warmup``)
  ``plateau``  ``lr`` until the monitored validation metric stops improving for
               ``patience`` epochs, then ``lr * factor`` (ReduceLROnPlateau; the seed's recipe)
  ============ =============================================================================

:func:`lr_factor` is the whole shape of the step-wise schedules, a pure function that tests
and docs can plot; :class:`Schedule` applies it (and the plateau rule) to an optimizer.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from mads_zoo.train.spec import SCHEDULES

#: The warm-up share each schedule uses when ``warmup`` is not set.
DEFAULT_WARMUP = {"onecycle": 0.25, "cosine": 0.0, "plateau": 0.0, "constant": 0.0}
#: One-cycle starts at ``lr / ONECYCLE_START_DIV`` and ends at ``lr / ONECYCLE_END_DIV``
#: (torch's ``OneCycleLR`` defaults: ``div_factor=25``, ``final_div_factor=1e4``).
ONECYCLE_START_DIV = 25.0
ONECYCLE_END_DIV = 25.0 * 1e4


def warmup_steps(total_steps: int, warmup: float) -> int:
    """Steps of linear warm-up: ``warmup`` share of ``total_steps`` (none when 0)."""
    if warmup <= 0:
        return 0
    return min(total_steps - 1, max(1, round(warmup * total_steps)))


def lr_factor(schedule: str, step: int, total_steps: int, warmup: float) -> float:
    """The learning rate of optimizer step ``step`` (0-based) as a multiple of the peak ``lr``.

    ``plateau`` is ``constant`` here: its drops depend on validation, not on the step.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}")
    ramp = warmup_steps(total_steps, warmup)
    if step < ramp:
        if schedule == "onecycle":
            start = 1 / ONECYCLE_START_DIV
            return start + (1 - start) * step / ramp
        return (step + 1) / (ramp + 1)
    if schedule in ("constant", "plateau"):
        return 1.0
    end = 1 / ONECYCLE_END_DIV if schedule == "onecycle" else 0.0
    progress = min(1.0, (step - ramp) / max(1, total_steps - 1 - ramp))
    return end + (1 - end) * 0.5 * (1 + math.cos(math.pi * progress))


def _parameter_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for parameter in model.parameters():
        if parameter.requires_grad:
            (decay if parameter.dim() > 1 else no_decay).append(parameter)
    groups = [{"params": decay, "weight_decay": weight_decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups


def build_optimizer(
    model: nn.Module, name: str, lr: float, weight_decay: float, momentum: float = 0.9
) -> torch.optim.Optimizer:
    """The optimizer ``name`` over ``model``'s parameters, biases and norms without decay."""
    groups = _parameter_groups(model, weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr)
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=momentum > 0)
    raise ValueError(f"unknown optimizer {name!r}")


class Schedule:
    """Sets the learning rate before every optimizer step, and applies plateau drops.

    Call :meth:`before_step` before each ``optimizer.step()`` and :meth:`after_epoch` with
    the monitored validation score after each evaluation.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        *,
        name: str,
        lr: float,
        total_steps: int,
        warmup: float | None = None,
        factor: float = 0.2,
        patience: int = 2,
    ) -> None:
        if name not in SCHEDULES:
            raise ValueError(f"unknown schedule {name!r}")
        self.optimizer, self.name, self.peak = optimizer, name, lr
        self.total_steps = total_steps
        self.warmup = DEFAULT_WARMUP[name] if warmup is None else warmup
        self.scale = 1.0  # plateau drops multiply this
        self.factor, self.patience = factor, patience
        self._best, self._stale = -math.inf, 0
        self.step_index = 0
        self._apply(self.lr_at(0))

    def lr_at(self, step: int) -> float:
        """The learning rate this schedule gives optimizer step ``step`` (0-based)."""
        factor = lr_factor(self.name, step, self.total_steps, self.warmup)
        return self.peak * factor * self.scale

    def _apply(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    @property
    def lr(self) -> float:
        """The learning rate of the step about to run (or that just ran)."""
        lr: float = self.optimizer.param_groups[0]["lr"]
        return lr

    def before_step(self) -> None:
        """Set the learning rate of the next optimizer step."""
        self._apply(self.lr_at(self.step_index))
        self.step_index += 1

    def after_epoch(self, score: float) -> None:
        """ReduceLROnPlateau's rule (mode max, threshold 1e-4 relative) for ``plateau``."""
        if self.name != "plateau":
            return
        threshold = self._best * (1 + 1e-4) if self._best > 0 else self._best
        if score > threshold:
            self._best, self._stale = score, 0
            return
        self._stale += 1
        if self._stale > self.patience:
            self.scale *= self.factor
            self._stale = 0


def learning_rates(
    name: str, total_steps: int, *, lr: float = 1.0, warmup: float | None = None
) -> list[float]:
    """The learning rate of every step of a run of ``total_steps`` (for tests and plots)."""
    warm = DEFAULT_WARMUP[name] if warmup is None else warmup
    return [lr * lr_factor(name, step, total_steps, warm) for step in range(total_steps)]
