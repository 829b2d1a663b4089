"""The ``synthetic`` dataset: fake, seeded beats for unit tests and smoke runs. NOT ECG.

Five classes with distinct shapes (sums of Gaussian waves: a narrow N complex, a premature
S beat with a short window, a wide V complex with an inverted T wave, an intermediate F, and
a paced Q beat with a pacing spike), each beat jittered in amplitude, width, length and noise;
a fifth of the beats lean part-way towards the N shape, so that classes overlap a little.
Class shares follow MIT-BIH (N 82.8 %, S 2.5 %, V 6.6 %, F 0.7 %, Q 7.3 %), and each beat gets
a random MIT-BIH record id so that the ``inter`` split works too. Every beat's symbol starts
with ``synthetic-`` so it can never pass for a real annotation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mads_zoo.data.beats import BEAT_LENGTH, Beats
from mads_zoo.data.records import MITDB_RECORDS

#: Share of each class (N S V F Q) among the MIT-BIH beats.
CLASS_SHARES = (0.8277, 0.0254, 0.0661, 0.0073, 0.0735)
DEFAULT_SIZE = 6000

# Per class: mean window length (samples) and waves (amplitude, centre, width) in window time.
_SHAPES = (
    (150, ((1.0, 0.0, 0.03), (-0.25, 0.06, 0.03), (0.30, 0.45, 0.08), (0.12, 0.85, 0.05))),
    (105, ((1.0, 0.0, 0.03), (-0.20, 0.06, 0.03), (0.25, 0.50, 0.09), (0.25, 0.72, 0.04))),
    (175, ((1.0, 0.05, 0.10), (-0.55, 0.50, 0.12))),
    (160, ((1.0, 0.02, 0.06), (-0.30, 0.12, 0.05), (-0.10, 0.45, 0.10), (0.10, 0.85, 0.05))),
    (140, ((0.8, 0.0, 0.008), (1.0, 0.06, 0.07), (0.35, 0.50, 0.10))),
)
_SYMBOLS = ("synthetic-N", "synthetic-S", "synthetic-V", "synthetic-F", "synthetic-Q")


def _waves(label: int, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    beats = np.zeros(t.shape)
    for amplitude, centre, width in _SHAPES[label][1]:
        a = amplitude * rng.uniform(0.85, 1.15, (len(t), 1))
        w = width * rng.uniform(0.85, 1.15, (len(t), 1))
        beats += a * np.exp(-(((t - centre) / w) ** 2))
    return beats


def _class_beats(label: int, count: int, rng: np.random.Generator) -> np.ndarray:
    length = np.clip(rng.normal(_SHAPES[label][0], 15, count), 60, BEAT_LENGTH).round()
    t = np.arange(BEAT_LENGTH)[None, :] / length[:, None]
    # a fifth of the beats lean towards N, so that classes overlap a little, as real ones do
    lean = np.where(rng.random((count, 1)) < 0.2, rng.uniform(0.3, 0.9, (count, 1)), 0.0)
    beats = (1 - lean) * _waves(label, t, rng) + lean * _waves(0, t, rng)
    beats += rng.normal(0.0, 0.02, beats.shape)
    inside = t < 1.0
    low = np.where(inside, beats, np.inf).min(axis=1, keepdims=True)
    high = np.where(inside, beats, -np.inf).max(axis=1, keepdims=True)
    return np.where(inside, (beats - low) / (high - low), 0.0)


def make_beats(size: int = DEFAULT_SIZE, seed: int = 0) -> Beats:
    """``size`` synthetic beats (at least one per class), the same for the same ``seed``."""
    rng = np.random.default_rng(seed)
    counts = [max(1, round(share * size)) for share in CLASS_SHARES]
    counts[0] = max(1, size - sum(counts[1:]))
    x = np.concatenate([_class_beats(label, n, rng) for label, n in enumerate(counts)])
    y = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    record = rng.choice(np.array(MITDB_RECORDS), size=len(y))
    sample = np.zeros(len(y), dtype=np.int64)
    for name in np.unique(record):
        rows = np.flatnonzero(record == name)
        sample[rows] = 300 * np.arange(1, len(rows) + 1)
    return Beats(
        x=x.astype(np.float32),
        y=y,
        record=record,
        sample=sample,
        symbol=np.array(_SYMBOLS)[y],
        meta={"synthetic": True, "size": size, "seed": seed},
    )


def load(data_dir: Path | None = None) -> Beats:
    """The ``synthetic`` dataset's ``load`` (``data_dir`` is ignored: nothing is read)."""
    return make_beats()
