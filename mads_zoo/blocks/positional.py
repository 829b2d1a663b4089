"""Sinusoidal positional encoding (Vaswani et al. 2017) for batch-first token sequences."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class PositionalEncoding(nn.Module):
    """Adds fixed sine/cosine position codes to ``(batch, tokens, dim)``, then dropout.

    Args:
        dim: Feature size of each token.
        dropout: Dropout applied after adding the codes.
        max_tokens: The longest sequence it can encode.
    """

    def __init__(self, dim: int, dropout: float = 0.0, max_tokens: int = 1024) -> None:
        super().__init__()
        position = torch.arange(max_tokens).unsqueeze(1)
        frequency = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
        codes = torch.zeros(max_tokens, dim)
        codes[:, 0::2] = torch.sin(position * frequency)
        codes[:, 1::2] = torch.cos(position * frequency)[:, : dim // 2]
        self.register_buffer("codes", codes, persistent=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """Add the codes of positions ``0 .. tokens - 1`` to ``x``."""
        codes = self.get_buffer("codes")
        out: Tensor = self.dropout(x + codes[: x.shape[1]])
        return out
