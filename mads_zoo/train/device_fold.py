"""A fold copied to the training device once per run, not once per batch.

A run used to copy its training fold to the device once, but its validation fold batch by
batch at every validation, and to bring every batch's logits back to the host at once (a
device sync per batch). On a GPU that is host work on the critical path of every validation.
:class:`DeviceFold` holds both folds of a run on the device for the run's life (the run's
process: the bench starts every run in a fresh process, so once per run is once per process);
logits stay on the device until the whole fold is predicted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mads_zoo.data.folds import Fold


def channels_last(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Put a 2D model and its (n, c, h, w) inputs in channels-last memory format.

    oneDNN's and cuDNN's fast 2D convolutions want NHWC; measured here up to 1.5x for the
    seed's 2DCNN. 1D inputs are returned unchanged.
    """
    if x.dim() != 4:
        return x
    model.to(memory_format=torch.channels_last)
    return x.contiguous(memory_format=torch.channels_last)


@dataclass(frozen=True, eq=False)
class DeviceFold:
    """One fold on the device a model trains on.

    Attributes:
        x: The inputs, channels-last for a 2D model.
        features: The per-example features ``(n, k)`` (``k`` may be 0).
        targets: The labels on the device (what the loss reads).
        y: The labels on the host (what the metrics read).
    """

    x: torch.Tensor
    features: torch.Tensor
    targets: torch.Tensor
    y: np.ndarray

    @classmethod
    def of(cls, fold: Fold, model: nn.Module, device: torch.device) -> DeviceFold:
        """``fold`` copied to ``device`` (a no-op copy on the CPU), laid out for ``model``."""
        return cls(
            x=channels_last(model, torch.as_tensor(fold.x).to(device)),
            features=torch.as_tensor(fold.feature_array).to(device),
            targets=torch.as_tensor(fold.y, dtype=torch.long).to(device),
            y=np.asarray(fold.y),
        )

    def __len__(self) -> int:
        return len(self.y)
