"""Reusable layers for architecture plugins, in the seed's conventions.

Import them directly::

    from mads_zoo.blocks import ConvBlock1d, ResNetBlock2d, Pool1d, GRUEncoder

=====================  =================================================================
``ConvBlock1d/2d``     conv k3 s1 "same" padding (``dilation`` option), ReLU, BatchNorm
``ResNetBlock1d/2d``   two conv blocks plus a skip (identity, or 1x1 conv when widths differ)
``SqueezeExcite1d/2d`` Squeeze-and-Excitation from ``timm.layers``
``Pool1d/2d``          ``"max"`` (kernel 2, stride 2) or ``"gap"`` (global average)
``GRUEncoder``         batch-first GRU -> last valid state, optional LayerNorm and packing
``PositionalEncoding`` sinusoidal positions added to ``(batch, tokens, dim)``
``ClassifierHead``     flatten, Linear, ReLU, optional Dropout, Linear
=====================  =================================================================

This package is also the builtin plugin that registers these blocks (``register_blocks``,
loaded like any third-party plugin: see ``BUILTIN_PLUGINS`` in :mod:`mads_zoo.registry`), so
``mads-zoo list blocks`` shows them. It imports torch only when one of its names is first
used or a block is built, so plugin modules and ``mads-zoo list`` import it for free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mads_zoo.hookspecs import Register, hookimpl
from mads_zoo.lazy import lazy, lazy_exports
from mads_zoo.specs import Block

if TYPE_CHECKING:
    from mads_zoo.blocks.conv import ConvBlock1d, ConvBlock2d
    from mads_zoo.blocks.head import ClassifierHead
    from mads_zoo.blocks.pooling import POOL_KINDS, Pool1d, Pool2d
    from mads_zoo.blocks.positional import PositionalEncoding
    from mads_zoo.blocks.recurrent import GRUEncoder, trailing_zero_lengths
    from mads_zoo.blocks.resnet import ResNetBlock1d, ResNetBlock2d
    from mads_zoo.blocks.se import SqueezeExcite1d, SqueezeExcite2d

#: Public name -> the submodule that defines it.
_HOMES: dict[str, str] = {
    "ClassifierHead": "head",
    "ConvBlock1d": "conv",
    "ConvBlock2d": "conv",
    "GRUEncoder": "recurrent",
    "POOL_KINDS": "pooling",
    "Pool1d": "pooling",
    "Pool2d": "pooling",
    "PositionalEncoding": "positional",
    "ResNetBlock1d": "resnet",
    "ResNetBlock2d": "resnet",
    "SqueezeExcite1d": "se",
    "SqueezeExcite2d": "se",
    "trailing_zero_lengths": "recurrent",
}

__all__ = [
    "POOL_KINDS",
    "ClassifierHead",
    "ConvBlock1d",
    "ConvBlock2d",
    "GRUEncoder",
    "Pool1d",
    "Pool2d",
    "PositionalEncoding",
    "ResNetBlock1d",
    "ResNetBlock2d",
    "SqueezeExcite1d",
    "SqueezeExcite2d",
    "trailing_zero_lengths",
]


#: (registered name, public name in this package, description)
REGISTERED: tuple[tuple[str, str, str], ...] = (
    ("conv-block-1d", "ConvBlock1d", "Conv1d k3 'same' (dilation option), ReLU, BatchNorm1d."),
    ("conv-block-2d", "ConvBlock2d", "Conv2d 3x3 'same' (dilation option), ReLU, BatchNorm2d."),
    ("resnet-block-1d", "ResNetBlock1d", "Two 1D conv blocks plus a skip connection."),
    ("resnet-block-2d", "ResNetBlock2d", "Two 2D conv blocks plus a skip connection."),
    ("squeeze-excite-1d", "SqueezeExcite1d", "Squeeze-and-Excitation (timm) on sequences."),
    ("squeeze-excite-2d", "SqueezeExcite2d", "Squeeze-and-Excitation (timm) on 2D maps."),
    ("pool-1d", "Pool1d", "Pooling over length: 'max' (k2 s2) or 'gap' (global average)."),
    ("pool-2d", "Pool2d", "Pooling over 2D maps: 'max' (2x2 s2) or 'gap' (global average)."),
    ("gru", "GRUEncoder", "GRU -> last valid state; LayerNorm, packed-sequence options."),
    ("positional-encoding", "PositionalEncoding", "Sinusoidal positions added to tokens."),
    ("classifier-head", "ClassifierHead", "Flatten, Linear, ReLU, optional Dropout, Linear."),
)


@hookimpl
def register_blocks(register: Register) -> None:
    """Register the blocks of this package, each built lazily (torch is imported on build)."""
    for name, attribute, description in REGISTERED:
        target = f"{__name__}.{_HOMES[attribute]}:{attribute}"
        register(Block(name, lazy(target), description))


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
