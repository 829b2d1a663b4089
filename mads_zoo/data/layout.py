"""Layout adapters: signals ``(n, C, L)`` as the input shape an architecture declares.

``"1d"``: ``(n, C, L)`` unchanged. ``"2d"``: each channel zero-padded to ``H x W`` samples and
folded row by row into ``(n, C, H, W)``, the near-square grid of :func:`mads_zoo.specs.grid`
(MIT-BIH's 187-sample beat: 16 x 12, the course's convention).
"""

from __future__ import annotations

import math

import numpy as np

from mads_zoo.errors import UnknownNameError
from mads_zoo.specs import LAYOUT_NAMES, layout_shape


def check_layout(layout: str) -> str:
    """``layout`` if it is known; an :class:`UnknownNameError` otherwise."""
    if layout not in LAYOUT_NAMES:
        raise UnknownNameError("layout", layout, LAYOUT_NAMES)
    return layout


def to_layout(x: np.ndarray, layout: str) -> np.ndarray:
    """Signals ``(n, C, L)`` (or one channel ``(n, L)``) in ``layout``'s shape.

    ``"2d"`` zero-pads each channel at its end to fill its grid.
    """
    check_layout(layout)
    if x.ndim == 2:
        x = x[:, None, :]
    n, channels, length = x.shape
    shape = layout_shape(layout, channels, length)
    size = math.prod(shape[1:])
    if size > length:
        x = np.pad(x, ((0, 0), (0, 0), (0, size - length)))
    return x.reshape(n, *shape)
