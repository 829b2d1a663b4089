"""Builds a timm model for the zoo: ``timm.create_model`` with the zoo's input and classes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import timm
from torch import nn


def build(config: Mapping[str, Any], input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """``timm.create_model(config["model"], pretrained=False, in_chans=..., num_classes=...)``.

    Every other key of ``config`` (``drop_rate``, ``drop_path_rate``, ``output_stride``,
    ``patch_size``...) is passed to timm as a keyword. Never downloads weights.
    """
    options = dict(config)
    name = options.pop("model")
    return timm.create_model(
        name, pretrained=False, in_chans=input_shape[0], num_classes=num_classes, **options
    )
