"""1DCNNGRU: the seed's hybrid of 1D convolution blocks, ResNet blocks and a GRU.

Layer by layer (see ``docs/architectures.md`` for the readings of the seed's table)::

    (batch, 1, 187)
    ConvBlock1d(1 -> hidden)                              the stem
    num_blocks x [ConvBlock1d, ResNetBlock1d]             hidden channels, length kept
    Pool1d: MaxPool1d(2, 2) | global average              (batch, hidden, steps)
    Linear projection -> GRU input                        "flat": one step per beat
                                                          "steps": one per pooled position
    GRU(hidden -> gru_hidden, num_layers, dropout)        last valid state (+ LayerNorm)
    Linear(gru_hidden, hidden), ReLU, Linear(hidden, 5)   logits
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from mads_zoo.blocks import (
    ClassifierHead,
    ConvBlock1d,
    GRUEncoder,
    Pool1d,
    ResNetBlock1d,
    trailing_zero_lengths,
)

#: How the pooled feature map becomes the GRU's input sequence.
GRU_INPUTS: tuple[str, ...] = ("flat", "steps")


class Cnngru1d(nn.Module):
    """1D CNN with ResNet blocks feeding a GRU; returns logits ``(batch, num_classes)``.

    Args:
        input_shape: ``(channels, length)`` of one beat; ``(1, 187)`` for the "1d" layout.
        num_classes: Number of logits.
        hidden: Channels of every conv layer; GRU input size and dense hidden width.
        gru_hidden: GRU hidden units.
        num_layers: Stacked GRU layers.
        num_blocks: ``[ConvBlock1d, ResNetBlock1d]`` pairs after the stem.
        dropout: Dropout between the GRU's layers.
        dilation: Dilation of the convolutions after the stem (1: none); lengths are kept.
        pool: ``"max"`` (the seed's MaxPool1d(2, 2)) or ``"gap"`` (global average).
        gru_input: ``"flat"`` flattens the pooled map and projects it to a single GRU step
            (the seed's code); ``"steps"`` projects each pooled position, so the GRU runs
            over the beat.
        gru_norm: LayerNorm on the GRU's output state.
        pack_padded: Pack the GRU input by each beat's length (its trailing zero padding
            cut), so the GRU stops at the beat's end; needs ``gru_input="steps"``.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        *,
        hidden: int = 64,
        gru_hidden: int = 128,
        num_layers: int = 2,
        num_blocks: int = 3,
        dropout: float = 0.3,
        dilation: int = 1,
        pool: str = "max",
        gru_input: str = "flat",
        gru_norm: bool = False,
        pack_padded: bool = False,
    ) -> None:
        super().__init__()
        if gru_input not in GRU_INPUTS:
            raise ValueError(f"gru_input must be one of {', '.join(GRU_INPUTS)}; got {gru_input!r}")
        if pack_padded and gru_input != "steps":
            raise ValueError(
                "pack_padded=True needs gru_input='steps': with 'flat' the GRU sees one step "
                "per beat, so there is no padding to skip"
            )
        in_channels, length = input_shape
        self.gru_input = gru_input
        self.pack_padded = pack_padded

        blocks: list[nn.Module] = [ConvBlock1d(in_channels, hidden)]
        for _ in range(num_blocks):
            blocks += [
                ConvBlock1d(hidden, hidden, dilation=dilation),
                ResNetBlock1d(hidden, dilation=dilation),
            ]
        self.features = nn.Sequential(*blocks)
        self.pool = Pool1d(pool)
        (steps,) = self.pool.output_size((length,))
        self.project = nn.Linear(hidden * steps if gru_input == "flat" else hidden, hidden)
        self.gru = GRUEncoder(
            hidden, gru_hidden, num_layers=num_layers, dropout=dropout, layer_norm=gru_norm
        )
        self.head = ClassifierHead(gru_hidden, hidden, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(batch, num_classes)`` for beats ``(batch, channels, length)``."""
        lengths = trailing_zero_lengths(x) if self.pack_padded else None
        x = self.pool(self.features(x))  # (batch, hidden, steps)
        if self.gru_input == "flat":
            sequence = self.project(x.flatten(1)).unsqueeze(1)  # (batch, 1, hidden)
        else:
            sequence = self.project(x.transpose(1, 2))  # (batch, steps, hidden)
        if lengths is not None:
            lengths = self.pool.output_lengths(lengths, sequence.shape[1])
        logits: Tensor = self.head(self.gru(sequence, lengths))
        return logits


def build(config: Mapping[str, Any], input_shape: tuple[int, ...], num_classes: int) -> Cnngru1d:
    """The ``build`` of the registered architecture: model keys of ``config`` as arguments."""
    return Cnngru1d(input_shape, num_classes, **config)
