"""Per-example features for every architecture: :class:`FeatureInputs`.

A dataset may carry ``k`` named features per example besides the signal (e.g. RR intervals).
An architecture written against the plain contract (``forward(x)``) never sees them; the
engine wraps it instead:

- the architecture is built with ``num_classes = EMBEDDING`` and its output is read as an
  embedding of the signal (any model that returns ``(batch, num_classes)`` returns one);
- the features are standardised with the training fold's mean and standard deviation
  (buffers, so a checkpoint carries them);
- a small head maps ``concat(embedding, features)`` to the logits:
  ``Linear(EMBEDDING + k, HIDDEN) -> GELU -> Linear(HIDDEN, num_classes)``.

An architecture that declares ``takes_features=True`` is built with ``num_classes`` and
``num_features=k`` and called as ``forward(x, features)`` with the standardised features.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

#: Width of the signal embedding the wrapped architecture returns.
EMBEDDING = 32
#: Width of the fusion head's hidden layer.
HIDDEN = 64


class FeatureInputs(nn.Module):
    """A model that takes ``(x, features)``: a signal model plus per-example features.

    Args:
        backbone: The architecture's model: ``forward(x) -> (batch, EMBEDDING)`` when
            ``fuse``, else its own ``forward(x, features) -> logits``.
        num_features: ``k``, the features per example.
        num_classes: Number of logits.
        fuse: Whether the engine's head fuses the features (the architecture does not take them).
    """

    def __init__(self, backbone: nn.Module, num_features: int, num_classes: int, *, fuse: bool):
        super().__init__()
        self.backbone = backbone
        self.feature_mean: Tensor
        self.feature_scale: Tensor
        self.register_buffer("feature_mean", torch.zeros(num_features))
        self.register_buffer("feature_scale", torch.ones(num_features))
        self.head: nn.Module | None = None
        if fuse:
            self.head = nn.Sequential(
                nn.Linear(EMBEDDING + num_features, HIDDEN),
                nn.GELU(),
                nn.Linear(HIDDEN, num_classes),
            )

    def standardise_with(self, features: np.ndarray) -> None:
        """Set the features' mean and scale from the training fold's ``features`` ``(n, k)``."""
        if not features.size:
            return
        mean = features.astype(np.float64).mean(axis=0)
        scale = features.astype(np.float64).std(axis=0)
        scale[scale < 1e-6] = 1.0  # a constant feature stays as it is, centred
        self.feature_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.feature_scale.copy_(torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x: Tensor, features: Tensor) -> Tensor:
        """Logits ``(batch, num_classes)`` for signals ``x`` and raw features ``(batch, k)``."""
        standard = (features.float() - self.feature_mean) / self.feature_scale
        if self.head is None:
            own: Tensor = self.backbone(x, standard)
            return own
        embedding = self.backbone(x).float()
        logits: Tensor = self.head(torch.cat([embedding, standard], dim=1))
        return logits


def call_model(model: nn.Module, x: Tensor, features: Tensor) -> Tensor:
    """``model``'s logits: ``model(x, features)`` for :class:`FeatureInputs`, else ``model(x)``."""
    if isinstance(model, FeatureInputs):
        out: Tensor = model(x, features)
        return out
    plain: Tensor = model(x)
    return plain


def call_with_zero_features(model: nn.Module, x: Tensor) -> Tensor:
    """``model``'s logits for ``x`` with all-zero features (shape, FLOP and contract checks)."""
    width = int(model.feature_mean.numel()) if isinstance(model, FeatureInputs) else 0
    return call_model(model, x, torch.zeros(len(x), width, device=x.device))
