"""Squeeze-and-Excitation (Hu et al. 2018), taken from ``timm.layers`` rather than rewritten.

The defaults follow the seed: a bottleneck of ``channels // reduction`` (at least 1) with
``reduction=16``, ReLU inside, a sigmoid gate.
"""

from __future__ import annotations

from timm.layers.squeeze_excite import SEModule
from torch import Tensor


class SqueezeExcite2d(SEModule):
    """Reweights the channels of ``(batch, channels, height, width)`` by a learned gate.

    Args:
        channels: Channels of the input (and output).
        reduction: Bottleneck ratio of the gate's hidden layer.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__(channels, rd_ratio=1.0 / reduction, rd_divisor=1)


class SqueezeExcite1d(SqueezeExcite2d):
    """:class:`SqueezeExcite2d` for sequences ``(batch, channels, length)``."""

    def forward(self, x: Tensor) -> Tensor:
        """Reweight the channels of ``(batch, channels, length)``."""
        gated: Tensor = super().forward(x.unsqueeze(-1))  # type: ignore[no-untyped-call]  # timm
        return gated.squeeze(-1)
