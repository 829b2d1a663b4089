"""Pooling, max vs global average (the seed's "MaxPooling vs GAP" option).

``"max"`` is the seed's ``MaxPool(kernel=2, stride=2)``: it halves every spatial size
(rounding down). ``"gap"`` averages over all positions, leaving size 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

#: The values the ``pool`` option of a block or architecture accepts.
POOL_KINDS: tuple[str, ...] = ("max", "gap")


class _PoolNd(nn.Module):
    max_type: type[nn.Module]
    gap_type: type[nn.Module]

    def __init__(self, kind: str = "max") -> None:
        super().__init__()
        if kind not in POOL_KINDS:
            raise ValueError(f"pool must be one of {', '.join(POOL_KINDS)}; got {kind!r}")
        self.kind = kind
        self.pool = self.max_type(kernel_size=2, stride=2) if kind == "max" else self.gap_type(1)

    def forward(self, x: Tensor) -> Tensor:
        pooled: Tensor = self.pool(x)
        return pooled

    def output_size(self, size: Sequence[int]) -> tuple[int, ...]:
        """The spatial size (length, or height and width) after pooling one of ``size``."""
        return tuple(s // 2 if self.kind == "max" else 1 for s in size)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"


class Pool1d(_PoolNd):
    """``MaxPool1d(2, 2)`` (``kind="max"``) or ``AdaptiveAvgPool1d(1)`` (``kind="gap"``)."""

    max_type = nn.MaxPool1d
    gap_type = nn.AdaptiveAvgPool1d

    def output_lengths(self, lengths: Tensor, steps: int) -> Tensor:
        """Valid steps after pooling, for sequences of ``lengths`` valid steps.

        A pooling window that covers any valid step counts as valid; the result lies in
        ``[1, steps]`` where ``steps`` is the pooled length of the padded batch.
        """
        pooled = torch.div(lengths + 1, 2, rounding_mode="floor") if self.kind == "max" else lengths
        return pooled.clamp(1, steps)


class Pool2d(_PoolNd):
    """``MaxPool2d(2, 2)`` (``kind="max"``) or ``AdaptiveAvgPool2d(1)`` (``kind="gap"``)."""

    max_type = nn.MaxPool2d
    gap_type = nn.AdaptiveAvgPool2d
