"""Layout adapters: the beats ``(n, 187)`` as the input shape an architecture declares.

``"1d"``: ``(n, 1, 187)``. ``"2d"``: each beat zero-padded to 192 samples and reshaped to
``(n, 1, 16, 12)``, row by row (the course's convention); see :data:`mads_zoo.specs.LAYOUTS`.
"""

from __future__ import annotations

import math

import numpy as np

from mads_zoo.errors import UnknownNameError
from mads_zoo.specs import LAYOUTS


def check_layout(layout: str) -> str:
    """``layout`` if it is known; an :class:`UnknownNameError` otherwise."""
    if layout not in LAYOUTS:
        raise UnknownNameError("layout", layout, LAYOUTS)
    return layout


def to_layout(x: np.ndarray, layout: str) -> np.ndarray:
    """Beats ``(n, length)`` as ``(n, *LAYOUTS[layout])``, zero-padding at the end if needed."""
    shape = LAYOUTS[check_layout(layout)]
    size = math.prod(shape)
    if x.shape[1] > size:
        raise ValueError(f"beats of {x.shape[1]} samples do not fit layout {layout!r} {shape}")
    if x.shape[1] < size:
        x = np.pad(x, ((0, 0), (0, size - x.shape[1])))
    return x.reshape(len(x), *shape)
