"""Training losses: imbalance by loss weighting, beside the samplers' resampling.

The recipe key ``loss`` chooses one (``docs/engine.md``):

============== ===============================================================================
``ce``         cross-entropy (with ``label_smoothing``), every beat counts the same (default)
``weighted-ce`` cross-entropy with class weights from the training fold,
               ``w_c = n / (K * n_c)`` over the ``K`` classes it holds (the weighted LDA/SVM
               of de Chazal 2004 and Mondejar-Guerra 2019); a class it lacks weighs 0
``focal``      focal loss (Lin et al. 2017), ``-(1 - p_t)^gamma * log p_t`` with
               ``gamma = focal_gamma`` (2, as Wang 2020 uses), weighted by the same class weights
============== ===============================================================================

Weighted losses are averaged over the batch's total weight (torch's convention).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional

if TYPE_CHECKING:
    from mads_zoo.train.spec import Recipe

#: The losses a recipe may name (:data:`~mads_zoo.train.spec.LOSS_NAMES`), one line each.
LOSSES = {
    "ce": "cross-entropy, every beat counts the same",
    "weighted-ce": "cross-entropy weighted by inverse class frequency in the training fold",
    "focal": "class-weighted focal loss (gamma = focal_gamma)",
}


def class_weights(y: np.ndarray, num_classes: int) -> np.ndarray:
    """``n / (K * n_c)`` per class of the labels ``y``, over the ``K`` classes present; 0 if absent.

    The weights average to 1 over the beats of ``y``.
    """
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    present = counts > 0
    weights = np.zeros(num_classes)
    weights[present] = len(y) / (present.sum() * counts[present])
    return weights


class FocalLoss(nn.Module):
    """Focal loss ``-(1 - p_t)^gamma * log p_t``, optionally class-weighted (weighted mean)."""

    def __init__(self, gamma: float, weight: Tensor | None = None) -> None:
        super().__init__()
        self.gamma = gamma
        self.weight: Tensor | None
        self.register_buffer("weight", weight)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        """The batch's loss for ``logits`` ``(batch, classes)`` and labels ``(batch,)``."""
        log_p = functional.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        loss = -((1 - log_p.exp()) ** self.gamma) * log_p
        if self.weight is None:
            return loss.mean()
        weight = self.weight[target]
        return (loss * weight).sum() / weight.sum().clamp_min(1e-12)


def build_loss(
    recipe: Recipe, train_y: np.ndarray, num_classes: int, device: torch.device
) -> nn.Module:
    """The recipe's loss, its class weights (if any) from the training fold's labels."""
    if recipe.loss == "ce":
        return nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    weight = torch.as_tensor(
        class_weights(train_y, num_classes), dtype=torch.float32, device=device
    )
    if recipe.loss == "weighted-ce":
        return nn.CrossEntropyLoss(weight=weight, label_smoothing=recipe.label_smoothing)
    if recipe.loss == "focal":
        return FocalLoss(recipe.focal_gamma, weight)
    raise ValueError(f"unknown loss {recipe.loss!r}")
