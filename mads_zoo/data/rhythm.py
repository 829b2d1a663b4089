"""The rhythm-aware MIT-BIH beats (``mitbih-rhythm``, ``mitbih-rhythm-2lead``).

The inputs of the inter-patient literature (de Chazal 2004, Llamedo & Martinez 2011,
Mondejar-Guerra 2019; ``docs/data.md`` gives every choice with its source):

1. leads: MLII (V5 in records 102 and 104, which have no MLII), and for ``-2lead`` the
   record's other lead (V1 in most records; V2, V4 or V5 in a few: ``docs/data.md``),
   resampled 360 -> 125 Hz with a polyphase anti-aliasing filter, as the Kaggle beats;
2. a window centred on the R peak that holds the P wave and the QRS onset:
   :data:`BEFORE_R` samples before R and :data:`AFTER_R` from R on (0.256 s and 0.448 s);
3. each lead of a window minus its median (the baseline), divided by the mean peak-to-peak
   amplitude of that lead over the record's beats so far (the patient's own scale, past and
   present beats only); then, per lead, a second channel: the window minus the patient's
   running beat template (the exponential average of the record's earlier beats, about the
   last 20: :func:`past_template`), the morphology normalised by the patient's own beat as the
   RR features are by the patient's own rhythm. Channels: the leads, then their differences
   (``mitbih-rhythm``: 2 channels; ``-2lead``: 4);
4. per beat, RR features in seconds from the reference annotations (every QRS annotation):
   ``rr_pre`` (R to the previous R), ``rr_post`` (to the next R: it looks **one beat ahead**,
   as in every anchor work), ``rr_local`` (mean ``rr_pre`` of the last 10 beats, this one
   included), ``rr_long`` (mean ``rr_pre`` of the beats of the last 5 minutes), each of
   them divided by the patient's average RR so far (the mean ``rr_pre`` of every beat of
   the record up to this one: past beats only, never the whole record), and two ratios:
   ``rr_pre_local`` (``rr_pre / rr_local``: prematurity against the local rhythm, Lin & Yang
   2014's normalised RR) and ``rr_post_pre`` (``rr_post / rr_pre``: the compensatory pause,
   Wang 2020's pre/post ratio inverted; it looks one beat ahead);
5. beats without a previous and a next QRS annotation, or whose window runs past the
   record's edge, are dropped (counted in ``meta``); labels as the Kaggle beats (AAMI).

Built once per data folder and cached, like the Kaggle-compatible beats.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from mads_zoo.data.beats import Beats, check_finite
from mads_zoo.data.locate import find_mitdb
from mads_zoo.data.mitbih import (
    TARGET_RATE,
    RecordSignals,
    _bad,
    beats_cache_file,
    dropped_per_class,
    joined,
    load_cached,
    read_records,
    read_signals,
)
from mads_zoo.data.records import AAMI_LABEL, MITDB_RECORDS, QRS_SYMBOLS
from mads_zoo.specs import AAMI_CLASSES

#: Part of the cache key: bump whenever the beats this module makes would change.
RECIPE_VERSION = "rhythm-v3"
#: Samples before the R peak (at 125 Hz: 0.256 s, the P wave and the QRS onset) ...
BEFORE_R = 32
#: ... and from the R peak on (0.448 s: the QRS complex and the T wave).
AFTER_R = 56
#: Beats in the local RR average (Mondejar-Guerra 2019: the last 10).
LOCAL_BEATS = 10
#: Seconds of the long RR average (Mondejar-Guerra 2019: 5 minutes).
LONG_SECONDS = 300.0
#: The smallest amplitude scale (mV), so a flat lead never divides by ~0.
MIN_SCALE = 0.05
#: Weight of the newest beat in the patient's running beat template (about the last 20 beats).
TEMPLATE_WEIGHT = 0.05

#: The per-beat features, in column order.
FEATURES: tuple[str, ...] = (
    "rr_pre",
    "rr_post",
    "rr_local",
    "rr_long",
    "rr_pre_norm",
    "rr_post_norm",
    "rr_local_norm",
    "rr_long_norm",
    "rr_pre_local",
    "rr_post_pre",
)
#: The features that use the next beat (one beat ahead); every other one uses the past only.
LOOK_AHEAD: tuple[str, ...] = ("rr_post", "rr_post_norm", "rr_post_pre")


def rr_features(qrs: np.ndarray, beats: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """RR features of the beats at samples ``beats`` among the QRS annotations ``qrs``.

    Args:
        qrs: Sorted sample indices of every QRS annotation of a record.
        beats: Sample indices of the beats to describe (each one of ``qrs``).
        rate: Sampling rate of the indices.

    Returns:
        ``(features, keep)``: ``(k, 10)`` float32 in :data:`FEATURES` order for the beats with a
        previous and a next QRS annotation, and the mask of those beats.
    """
    index = np.searchsorted(qrs, beats)
    keep = (index >= 1) & (index <= len(qrs) - 2)
    index = index[keep]
    rr = np.diff(qrs) / rate  # rr[j]: qrs[j] to qrs[j + 1]
    total = np.concatenate([[0.0], np.cumsum(rr)])  # total[j]: sum of rr[:j]

    def mean_since(first: np.ndarray) -> np.ndarray:
        mean: np.ndarray = (total[index] - total[first]) / (index - first)
        return mean

    pre, post = rr[index - 1], rr[index]
    local = mean_since(np.maximum(index - LOCAL_BEATS, 0))
    first_long = np.searchsorted(qrs[1:], qrs[index] - LONG_SECONDS * rate, side="left")
    long = mean_since(np.minimum(first_long, index - 1))
    average = mean_since(np.zeros_like(index))
    columns = [pre, post, local, long]
    ratios = [pre / local, post / pre]  # prematurity, and the pause after the beat
    features = np.column_stack([*columns, *(c / average for c in columns), *ratios])
    return features.astype(np.float32), keep


def scaled_windows(resampled: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Windows ``(k, leads, BEFORE_R + AFTER_R)`` around ``centres`` and the mask of those kept.

    Each lead minus its window's median, divided by that lead's mean peak-to-peak amplitude
    over the windows so far (past and present only; at least :data:`MIN_SCALE`).
    """
    keep = (centres - BEFORE_R >= 0) & (centres + AFTER_R <= len(resampled))
    offsets = np.arange(-BEFORE_R, AFTER_R)
    windows = resampled[centres[keep][:, None] + offsets].transpose(0, 2, 1)  # (k, leads, L)
    windows = windows - np.median(windows, axis=2, keepdims=True)
    amplitude = windows.max(axis=2) - windows.min(axis=2)  # (k, leads)
    scale = np.cumsum(amplitude, axis=0) / np.arange(1, len(amplitude) + 1)[:, None]
    return (windows / np.maximum(scale, MIN_SCALE)[:, :, None]).astype(np.float32), keep


def past_template(windows: np.ndarray, weight: float = TEMPLATE_WEIGHT) -> np.ndarray:
    """Each beat's template: the exponential average of the record's earlier beats.

    ``template[i] = (1 - weight) * template[i - 1] + weight * windows[i - 1]``, starting from
    the first beat (whose template is itself): the patient's usual beat, from past beats only.
    """
    template = np.empty_like(windows)
    current = windows[0].astype(np.float64)
    for i, window in enumerate(windows):
        template[i] = current
        current = (1 - weight) * current + weight * window
    return template


@dataclass(frozen=True, eq=False)
class RhythmBeats:
    """The rhythm-aware beats of one record, before they are joined into a :class:`Beats`."""

    record: str
    leads: tuple[str, ...]
    x: np.ndarray
    features: np.ndarray
    y: np.ndarray
    sample: np.ndarray
    symbol: np.ndarray
    dropped: np.ndarray  # per AAMI class


def cut_record(signals: RecordSignals) -> RhythmBeats:
    """The recipe for one record's signals and annotations."""
    from scipy.signal import resample_poly

    samples, symbols = signals.samples, signals.symbols
    is_qrs = np.fromiter((s in QRS_SYMBOLS for s in symbols), bool, len(symbols))
    beat = np.flatnonzero([s in AAMI_LABEL for s in symbols])
    qrs = samples[is_qrs]
    if len(qrs) < 3:
        raise _bad(signals.record, "fewer than three annotated beats, so no RR features")
    labels = np.array([AAMI_LABEL[s] for s in symbols[beat]], dtype=np.int64)
    features, has_rr = rr_features(qrs, samples[beat], signals.rate)
    ratio = Fraction(TARGET_RATE) / Fraction(signals.rate).limit_denominator(1000)
    resampled = resample_poly(signals.signal, ratio.numerator, ratio.denominator, axis=0)
    centres = np.rint(samples[beat][has_rr] * TARGET_RATE / signals.rate).astype(np.int64)
    windows, inside = scaled_windows(resampled, centres)
    x = np.concatenate([windows, windows - past_template(windows)], axis=1)
    kept = np.flatnonzero(has_rr)[inside]
    dropped = np.ones(len(beat), bool)
    dropped[kept] = False
    check_finite(x, f"record {signals.record}", unit="beat")
    return RhythmBeats(
        record=signals.record,
        leads=signals.leads,
        x=x,
        features=features[inside],
        y=labels[kept],
        sample=samples[beat][kept],
        symbol=symbols[beat][kept],
        dropped=np.bincount(labels[dropped], minlength=len(AAMI_CLASSES)),
    )


def build_rhythm_beats(
    directory: Path, leads: int, records: tuple[str, ...] = MITDB_RECORDS, *, verify: bool = True
) -> Beats:
    """The rhythm-aware beats of ``records`` with ``leads`` leads (1 or 2), uncached."""

    def read(folder: Path, record: str) -> RhythmBeats:
        return cut_record(read_signals(folder, record, leads))

    parts = read_records(directory, records, read, verify=verify)
    meta = {
        "recipe": RECIPE_VERSION,
        "source": str(directory),
        "verified": verify,
        "leads": {p.record: list(p.leads) for p in parts},
        "rate_hz": TARGET_RATE,
        "window": {"before_r": BEFORE_R, "after_r": AFTER_R},
        "look_ahead_features": list(LOOK_AHEAD),
        "dropped_beats": dropped_per_class(parts),
    }
    features = np.concatenate([p.features for p in parts])
    return joined(parts, meta, features=features, feature_names=FEATURES)


def load_leads(data_dir: Path | None, leads: int) -> Beats:
    """Every rhythm-aware beat of the 48 records with ``leads`` leads, cached once built."""
    directory = find_mitdb(data_dir)
    recipe = [RECIPE_VERSION, leads]
    return load_cached(
        lambda verified: beats_cache_file(
            f"mitbih-rhythm{leads}", recipe, directory, MITDB_RECORDS, verified
        ),
        lambda verify: build_rhythm_beats(directory, leads, verify=verify),
    )


def load(data_dir: Path | None = None) -> Beats:
    """The ``mitbih-rhythm`` dataset's ``load``: one lead (MLII) and the RR features."""
    return load_leads(data_dir, 1)


def load_two_leads(data_dir: Path | None = None) -> Beats:
    """The ``mitbih-rhythm-2lead`` dataset's ``load``: both leads and the RR features."""
    return load_leads(data_dir, 2)
