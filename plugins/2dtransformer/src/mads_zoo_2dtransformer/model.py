"""2D Transformer: the seed's conv stem with a ResNet block and SE, then self-attention.

Layer by layer (see ``docs/architectures.md``)::

    (batch, 1, 16, 12)
    ConvBlock2d(1 -> hidden, stride 2)              (batch, hidden, 8, 6)
    ResNetBlock2d(hidden)
    SqueezeExcite2d(hidden)                         timm.layers' SE module
    positions as tokens + sinusoidal encoding       (batch, 48, hidden)
    num_blocks x TransformerEncoderLayer(hidden, num_heads, feed-forward hidden)
    mean over tokens                                (batch, hidden)
    Linear(hidden, hidden // 2), ReLU, Dropout, Linear(hidden // 2, 5)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from mads_zoo.blocks import (
    ClassifierHead,
    ConvBlock2d,
    PositionalEncoding,
    ResNetBlock2d,
    SqueezeExcite2d,
)


class Transformer2d(nn.Module):
    """Conv stem, ResNet block and SE on the 2D view, then transformer encoder blocks.

    Args:
        input_shape: ``(channels, height, width)`` of one input; ``(1, 16, 12)`` for "2d".
        num_classes: Number of logits.
        hidden: Channels of the stem and token size of the encoder.
        num_heads: Attention heads; must divide ``hidden``.
        num_blocks: Transformer encoder blocks.
        dropout: Dropout of the positional encoding, the encoder blocks and the head.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        *,
        hidden: int = 64,
        num_heads: int = 4,
        num_blocks: int = 2,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        in_channels, height, width = input_shape
        if hidden % num_heads:
            raise ValueError(f"num_heads={num_heads} must divide hidden={hidden}")
        self.stem = nn.Sequential(
            ConvBlock2d(in_channels, hidden, stride=2),
            ResNetBlock2d(hidden),
            SqueezeExcite2d(hidden),
        )
        tokens = math.ceil(height / 2) * math.ceil(width / 2)  # positions after the stride-2 stem
        self.positions = PositionalEncoding(hidden, dropout, max_tokens=tokens)
        layer = nn.TransformerEncoderLayer(
            hidden, num_heads, dim_feedforward=hidden, dropout=dropout, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_blocks, enable_nested_tensor=False)
        self.head = ClassifierHead(hidden, hidden // 2, num_classes, dropout=dropout)

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(batch, num_classes)`` for inputs ``(batch, channels, height, width)``."""
        x = self.stem(x)  # (batch, hidden, height / 2, width / 2)
        tokens = self.positions(x.flatten(2).transpose(1, 2))  # (batch, tokens, hidden)
        logits: Tensor = self.head(self.encoder(tokens).mean(dim=1))
        return logits


def build(
    config: Mapping[str, Any], input_shape: tuple[int, ...], num_classes: int
) -> Transformer2d:
    """The ``build`` of the registered architecture: model keys of ``config`` as arguments."""
    return Transformer2d(input_shape, num_classes, **config)
