"""Builds a timm model for the zoo: ``timm.create_model`` with the zoo's input and classes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import timm
import torch
from torch import nn
from torch.nn import functional


class ZeroPadTo(nn.Module):
    """Zero-pads the last two dimensions (bottom and right) up to multiples of ``multiple``.

    A model whose stride-2 downsamplers have no padding (ConvNeXt's 2x2 "patchify" convs)
    drops an odd row or column; on the CPU, oneDNN's bf16 kernels for such a convolution read
    memory past that edge and return garbage or NaN (measured: 149 of 200 calls of a
    160->320 2x2 stride-2 convolution on a 4x3 map), so those models see a padded view.
    """

    def __init__(self, multiple: int) -> None:
        super().__init__()
        self.multiple = multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` with zeros appended so its height and width divide by ``multiple``."""
        height, width = x.shape[-2:]
        pad_h, pad_w = -height % self.multiple, -width % self.multiple
        if not (pad_h or pad_w):
            return x
        return functional.pad(x, (0, pad_w, 0, pad_h))

    def extra_repr(self) -> str:
        """Shown by ``print(model)``."""
        return f"multiple={self.multiple}"


def build(config: Mapping[str, Any], input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """``timm.create_model(config["model"], pretrained=False, in_chans=..., num_classes=...)``.

    ``pad_to``, when set, zero-pads the view to multiples of it first (:class:`ZeroPadTo`);
    every other key of ``config`` (``drop_rate``, ``drop_path_rate``, ``output_stride``,
    ``patch_size``...) is passed to timm as a keyword. Never downloads weights.
    """
    options = dict(config)
    name = options.pop("model")
    pad_to = options.pop("pad_to", None)
    model = timm.create_model(
        name, pretrained=False, in_chans=input_shape[0], num_classes=num_classes, **options
    )
    return nn.Sequential(ZeroPadTo(pad_to), model) if pad_to else model
