"""A GRU that summarises a sequence, with the seed's LayerNorm and packed-sequence options.

Beats are zero-padded at the end (to 187 samples, or 192 for the 2D view), so a beat's own
length is where its trailing zeros start: :func:`trailing_zero_lengths`. Packing the batch
with those lengths makes the GRU stop at each beat's end instead of running over padding.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence


def trailing_zero_lengths(x: Tensor) -> Tensor:
    """Length of each sequence in ``x`` ``(batch, channels, steps)`` without its trailing zeros.

    The length is one past the last step where any channel is non-zero, at least 1 (an
    all-zero sequence keeps one step). Returns an int64 tensor ``(batch,)``.
    """
    steps = x.shape[-1]
    nonzero = x.reshape(x.shape[0], -1, steps).ne(0).any(dim=1)
    positions = torch.arange(1, steps + 1, device=x.device)
    return (nonzero * positions).amax(dim=1).clamp(min=1)


class GRUEncoder(nn.Module):
    """Batch-first GRU over ``(batch, steps, input_size)`` -> last valid state ``(batch, hidden)``.

    Args:
        input_size: Features per step.
        hidden_size: GRU hidden units; the size of the output.
        num_layers: Stacked GRU layers.
        dropout: Dropout between stacked layers (as ``nn.GRU``; unused with one layer).
        layer_norm: Apply LayerNorm to the returned state (the seed's "Layer Normalization
            for GRU", which it found to speed up convergence).

    ``forward(x, lengths=None)``: with ``lengths`` (valid steps per sequence, ``(batch,)``)
    the batch is packed, so each sequence's state is taken at its own last valid step.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        num_layers: int = 1,
        dropout: float = 0.0,
        layer_norm: bool = False,
    ) -> None:
        super().__init__()
        self.gru = nn.GRU(
            input_size,
            hidden_size,
            num_layers=num_layers,
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.norm = nn.LayerNorm(hidden_size) if layer_norm else nn.Identity()

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Last (valid) state of the top layer, ``(batch, hidden_size)``."""
        packed: Tensor | PackedSequence = x
        if lengths is not None:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, state = self.gru(packed)
        last: Tensor = self.norm(state[-1])
        return last
