"""2DCNN: the seed's 2D convolutional network with ResNet blocks, on the 16x12 view.

Layer by layer (see ``docs/architectures.md`` for the readings of the seed's table)::

    (batch, 1, 16, 12)
    ConvBlock2d(1 -> hidden), then num_layers - 1 x ConvBlock2d(hidden -> hidden)
    num_blocks x ResNetBlock2d(hidden)           identity skip: the seed's "Identity layer"
    MaxPool2d(2, 2)                              (batch, hidden, 8, 6)
    Flatten, Linear(hidden * 48, hidden), ReLU, Dropout, Linear(hidden, 5)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from mads_zoo.blocks import ClassifierHead, ConvBlock2d, Pool2d, ResNetBlock2d


class Cnn2d(nn.Module):
    """2D CNN with ResNet blocks and a dense head; returns logits ``(batch, num_classes)``.

    Args:
        input_shape: ``(channels, height, width)`` of one input; ``(1, 16, 12)`` for "2d".
        num_classes: Number of logits.
        hidden: Channels of every conv layer and width of the dense hidden layer.
        num_layers: Conv blocks; the first maps the input channels to ``hidden``.
        num_blocks: ResNet blocks after the conv blocks.
        dropout: Dropout between the two dense layers.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        *,
        hidden: int = 64,
        num_layers: int = 2,
        num_blocks: int = 1,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        in_channels, height, width = input_shape
        if num_layers < 1:
            raise ValueError(f"num_layers (conv blocks) must be 1 or more; got {num_layers}")
        convs = [ConvBlock2d(in_channels if i == 0 else hidden, hidden) for i in range(num_layers)]
        resnets = [ResNetBlock2d(hidden) for _ in range(num_blocks)]
        pool = Pool2d("max")
        self.features = nn.Sequential(*convs, *resnets, pool)
        pooled_height, pooled_width = pool.output_size((height, width))
        self.head = ClassifierHead(
            hidden * pooled_height * pooled_width, hidden, num_classes, dropout=dropout
        )

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(batch, num_classes)`` for inputs ``(batch, channels, height, width)``."""
        logits: Tensor = self.head(self.features(x))
        return logits


def build(config: Mapping[str, Any], input_shape: tuple[int, ...], num_classes: int) -> Cnn2d:
    """The ``build`` of the registered architecture: model keys of ``config`` as arguments."""
    return Cnn2d(input_shape, num_classes, **config)
