"""The ``mitbih`` dataset: beats cut from the raw MIT-BIH Arrhythmia Database records.

The recipe of Kachuee et al. (2018), which made the Kaggle "ECG Heartbeat Categorization"
files, on the reference annotations (details and figures in ``docs/data.md``):

1. lead MLII (V5 in records 102 and 104, which have no MLII), resampled 360 -> 125 Hz with
   a polyphase anti-aliasing filter (:func:`scipy.signal.resample_poly`);
2. R peaks from the reference beat annotations; the local RR period ``T`` is the median of the
   RR intervals whose midpoint lies within 5 s of the beat (a 10 s window, as in the paper);
3. each beat is the window ``[R, R + 1.2 T)`` (at most 187 samples), min-max scaled to [0, 1]
   and zero-padded to 187 samples; beats whose window runs past the record's end are dropped;
4. labels: AAMI classes from the annotation symbol (:data:`~mads_zoo.data.records.AAMI_LABEL`).

Built once per data folder and cached (``mads-zoo data prepare``); later loads read the cache.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from mads_zoo.data.beats import BEAT_LENGTH, Beats, check_values
from mads_zoo.data.cache import cache_path, digest, files_fingerprint, load_valid, save_arrays
from mads_zoo.data.locate import find_mitdb
from mads_zoo.data.progress import report
from mads_zoo.data.records import AAMI_LABEL, MITDB_RECORDS, QRS_SYMBOLS, RECORD_EXTENSIONS
from mads_zoo.data.verify import check_beat_count, check_sums, verification_enabled
from mads_zoo.errors import DataError, one_line
from mads_zoo.specs import AAMI_CLASSES

#: Part of the cache key: bump whenever the beats this module makes would change.
RECIPE_VERSION = "kachuee2018-v1"
TARGET_RATE = 125
WINDOW_RR_FACTOR = 1.2
RR_CONTEXT_SECONDS = 10.0
PREFERRED_LEAD = "MLII"

#: Bytes per sample of each WFDB signal format this module can size-check.
_BYTES_PER_SAMPLE = {"212": 1.5, "16": 2.0, "61": 2.0, "80": 1.0, "8": 1.0, "24": 3.0, "32": 4.0}

TASK = "reading MIT-BIH records"

Part = TypeVar("Part")


class RecordPart(Protocol):
    """The beats cut from one record by a recipe (:class:`RecordBeats` and its kin)."""

    @property
    def record(self) -> str:
        """The record's id."""

    @property
    def x(self) -> np.ndarray:
        """Its beats' signals."""

    @property
    def y(self) -> np.ndarray:
        """Their labels."""

    @property
    def sample(self) -> np.ndarray:
        """Their R peaks' sample indices."""

    @property
    def symbol(self) -> np.ndarray:
        """Their annotation symbols."""

    @property
    def dropped(self) -> np.ndarray:
        """Beats dropped per AAMI class."""


@dataclass(frozen=True, eq=False)
class RecordBeats:
    """The beats of one record, before they are joined into a :class:`Beats`."""

    record: str
    lead: str
    x: np.ndarray
    y: np.ndarray
    sample: np.ndarray
    symbol: np.ndarray
    dropped: np.ndarray  # edge beats dropped, per AAMI class


def _bad(record: str, problem: str) -> DataError:
    return DataError(f"record {record}: {problem}; download the record again (or fix the file)")


def check_record(directory: Path, record: str) -> Any:
    """Check that a record's files are sound without reading its signals; return its header.

    Catches a corrupt header, a truncated ``.dat`` (shorter than the header says) and a
    truncated ``.atr`` (no end-of-file marker), naming the file.
    """
    import wfdb

    for ext in RECORD_EXTENSIONS:
        if not (directory / f"{record}{ext}").is_file():
            raise DataError(f"record {record}: {record}{ext} is missing from {directory}")
    try:
        header = wfdb.rdheader(str(directory / record))
    except Exception as error:  # wfdb raises many types for bad headers
        problem = f"the header {record}.hea is corrupt ({one_line(error)})"
        raise _bad(record, problem) from error
    if not header.n_sig or not header.sig_len or not header.fs or not header.file_name:
        raise _bad(record, f"the header {record}.hea declares no signals, length or rate")
    for file_name in sorted(set(header.file_name)):
        signals = [i for i, f in enumerate(header.file_name) if f == file_name]
        per_sample = _BYTES_PER_SAMPLE.get(str(header.fmt[signals[0]]))
        if per_sample is None:
            continue
        offset = (header.byte_offset or [0] * header.n_sig)[signals[0]] or 0
        expected = math.ceil(len(signals) * header.sig_len * per_sample) + offset
        found = (directory / file_name).stat().st_size
        if found < expected:
            raise _bad(record, f"{file_name} is truncated ({found:,} bytes, expected {expected:,})")
    with open(directory / f"{record}.atr", "rb") as atr:
        atr.seek(0, os.SEEK_END)
        if atr.tell() < 2 or (atr.seek(-2, os.SEEK_END), atr.read(2))[1] != b"\x00\x00":
            raise _bad(record, f"{record}.atr is truncated (no end-of-file marker)")
    return header


def _local_rr(qrs: np.ndarray, beats: np.ndarray, half_window: float) -> np.ndarray:
    """Median RR interval around each beat (intervals whose midpoint is within the window)."""
    rr = np.diff(qrs).astype(np.float64)
    middle = (qrs[:-1] + qrs[1:]) / 2.0
    low = np.searchsorted(middle, beats - half_window, side="left")
    high = np.searchsorted(middle, beats + half_window, side="right")
    nearest = np.clip(np.searchsorted(middle, beats), 0, len(rr) - 1)
    windows = zip(low, high, nearest, strict=True)
    return np.array([np.median(rr[lo:hi]) if hi > lo else rr[k] for lo, hi, k in windows])


def beats_from_signal(
    signal: np.ndarray, rate: float, samples: np.ndarray, symbols: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut the beats of one lead (the recipe's steps 1-3).

    Args:
        signal: One lead at ``rate`` Hz.
        rate: Sampling rate of ``signal``.
        samples: Annotation sample indices (at ``rate``), sorted.
        symbols: Annotation symbols, one per sample.

    Returns:
        ``(x, keep, beat)``: the beats ``(k, 187)`` float32, a mask over the AAMI beats
        (``beat``) saying which were kept (``False``: window past the record's end), and the
        indices of the AAMI beats among the annotations.
    """
    from scipy.signal import resample_poly

    ratio = Fraction(TARGET_RATE) / Fraction(rate).limit_denominator(1000)
    signal = np.asarray(signal, dtype=np.float64)
    resampled = resample_poly(signal, ratio.numerator, ratio.denominator)
    is_qrs = np.fromiter((s in QRS_SYMBOLS for s in symbols), bool, len(symbols))
    beat = np.flatnonzero([s in AAMI_LABEL for s in symbols])
    qrs = samples[is_qrs]
    if len(qrs) < 2:
        raise DataError("fewer than two annotated beats, so no RR interval to size the windows")
    period = _local_rr(qrs, samples[beat], RR_CONTEXT_SECONDS * rate / 2)
    length = np.clip(np.rint(WINDOW_RR_FACTOR * period * TARGET_RATE / rate), 2, BEAT_LENGTH)
    start = np.rint(samples[beat] * TARGET_RATE / rate).astype(np.int64)
    stop = start + length.astype(np.int64)
    keep = stop <= len(resampled)
    x = np.zeros((int(keep.sum()), BEAT_LENGTH), dtype=np.float32)
    for row, (a, b) in enumerate(zip(start[keep], stop[keep], strict=True)):
        window = resampled[a:b]
        low, high = window.min(), window.max()
        if high > low:
            x[row, : b - a] = (window - low) / (high - low)
    return x, keep, beat


@dataclass(frozen=True, eq=False)
class RecordSignals:
    """One record's chosen leads and its reference annotations, read and checked.

    ``signal`` is ``(samples, leads)`` at ``rate`` Hz; ``samples``/``symbols`` are the
    annotations, sorted by sample.
    """

    record: str
    leads: tuple[str, ...]
    rate: float
    signal: np.ndarray
    samples: np.ndarray
    symbols: np.ndarray


def record_leads(sig_names: list[str], count: int) -> list[str]:
    """The leads a beat takes: MLII (else the first lead), then the other one if ``count`` is 2."""
    first = PREFERRED_LEAD if PREFERRED_LEAD in sig_names else sig_names[0]
    return [first, *[name for name in sig_names if name != first]][:count]


def read_signals(directory: Path, record: str, leads: int = 1) -> RecordSignals:
    """Read ``record``'s first ``leads`` leads (:func:`record_leads`) and its annotations."""
    import wfdb

    header = check_record(directory, record)
    names = record_leads(list(header.sig_name), leads)
    channels = [header.sig_name.index(name) for name in names]
    path = str(directory / record)
    try:
        signal = wfdb.rdrecord(path, channels=channels).p_signal
        annotation = wfdb.rdann(path, "atr")
    except Exception as error:  # wfdb raises many types for bad files
        raise _bad(record, f"cannot be read ({one_line(error)})") from error
    if len(signal) != header.sig_len:
        file_name = header.file_name[channels[0]]
        problem = f"{file_name} holds {len(signal):,} samples, the header says {header.sig_len:,}"
        raise _bad(record, problem)
    for column, (name, channel) in enumerate(zip(names, channels, strict=True)):
        file_name = header.file_name[channel]
        invalid = np.flatnonzero(~np.isfinite(signal[:, column]))
        if len(invalid):
            problem = (
                f"{file_name} holds {len(invalid):,} invalid samples in lead {name} "
                f"(the first at sample {invalid[0]:,})"
            )
            raise _bad(record, problem)
    samples = np.asarray(annotation.sample, dtype=np.int64)
    symbols = np.asarray(annotation.symbol, dtype=str)
    order = np.argsort(samples, kind="stable")
    return RecordSignals(
        record, tuple(names), float(header.fs), signal, samples[order], symbols[order]
    )


def read_record(directory: Path, record: str) -> RecordBeats:
    """Read one record and cut its beats (the whole recipe for one record)."""
    signals = read_signals(directory, record)
    samples, symbols = signals.samples, signals.symbols
    try:
        x, keep, beat = beats_from_signal(signals.signal[:, 0], signals.rate, samples, symbols)
    except DataError as error:
        raise _bad(record, str(error)) from error
    check_values(x, f"record {record}", unit="beat")
    labels = np.array([AAMI_LABEL[s] for s in symbols[beat]], dtype=np.int64)
    return RecordBeats(
        record=record,
        lead=signals.leads[0],
        x=x,
        y=labels[keep],
        sample=samples[beat][keep],
        symbol=symbols[beat][keep],
        dropped=np.bincount(labels[~keep], minlength=len(AAMI_CLASSES)),
    )


def read_records(
    directory: Path, records: tuple[str, ...], read: Callable[[Path, str], Part], *, verify: bool
) -> list[Part]:
    """Check every record first, then ``read(directory, record)`` each one, in order.

    The checks (:func:`check_record`, then, if ``verify``, the SHA-256 of its files:
    :mod:`mads_zoo.data.verify`) make a bad file fail in well under a second, before any signal
    is read. Progress goes to :func:`mads_zoo.data.progress.report`.
    """
    for record in records:
        check_record(directory, record)
    if verify:
        check_sums(directory, records)
    parts = []
    for done, record in enumerate(records):
        report(TASK, done, len(records))
        parts.append(read(directory, record))
    report(TASK, len(records), len(records))
    return parts


def dropped_per_class(parts: Sequence[RecordPart]) -> dict[str, int]:
    """Beats dropped per AAMI class, over every record of ``parts``."""
    dropped = sum((p.dropped for p in parts), np.zeros(len(AAMI_CLASSES), dtype=np.int64))
    return dict(zip(AAMI_CLASSES, dropped.tolist(), strict=True))


def joined(parts: Sequence[RecordPart], meta: dict[str, Any], **columns: Any) -> Beats:
    """One :class:`Beats` of the records' beats, in record order, with ``meta`` and ``columns``."""
    return Beats(
        x=np.concatenate([p.x for p in parts]),
        y=np.concatenate([p.y for p in parts]),
        record=np.concatenate([np.full(len(p.y), p.record) for p in parts]),
        sample=np.concatenate([p.sample for p in parts]),
        symbol=np.concatenate([p.symbol for p in parts]),
        meta=meta,
        **columns,
    )


def build_beats(
    directory: Path, records: tuple[str, ...] = MITDB_RECORDS, *, verify: bool = True
) -> Beats:
    """Build the beats of ``records`` from the WFDB files in ``directory`` (no caching).

    Every record is checked first (:func:`read_records`); with ``verify``, each record must
    also give its published beat count. One process is enough: the 48 records take about 4 s
    plus 2 s of imports (wfdb, scipy), well under the cost of starting worker processes.
    """

    def read(folder: Path, record: str) -> RecordBeats:
        part = read_record(folder, record)
        if verify:
            check_beat_count(record, len(part.y))
        return part

    parts = read_records(directory, records, read, verify=verify)
    meta = {
        "recipe": RECIPE_VERSION,
        "source": str(directory),
        "verified": verify,
        "leads": {p.record: p.lead for p in parts},
        "dropped_edge_beats": dropped_per_class(parts),
        "dropped_edge_beats_by_record": {
            p.record: int(p.dropped.sum()) for p in parts if p.dropped.any()
        },
    }
    return joined(parts, meta)


def beats_cache_file(
    name: str, recipe: list[Any], directory: Path, records: tuple[str, ...], verified: bool
) -> Path:
    """Where beats ``name`` made by ``recipe`` from ``records`` in ``directory`` are cached.

    The key changes when any record file changes; beats built with and without verification
    (``--no-verify``) are separate entries, so an unverified build never passes for a
    verified one.
    """
    files = [directory / f"{r}{ext}" for r in records for ext in RECORD_EXTENSIONS]
    parts = [*recipe, str(directory.resolve()), list(records), files_fingerprint(files)]
    kind = "sha256-verified" if verified else "unverified"
    return cache_path("beats", f"{name}-{digest([*parts, kind])}")


def cache_file(
    directory: Path, records: tuple[str, ...] = MITDB_RECORDS, *, verified: bool = True
) -> Path:
    """Where the beats built from ``directory`` are cached (changes when any file changes)."""
    return beats_cache_file("mitbih", [RECIPE_VERSION], directory, records, verified)


def load_cached(cache_for: Callable[[bool], Path], build: Callable[[bool], Beats]) -> Beats:
    """The beats at ``cache_for(verified)``, else ``build(verify)`` and cache them.

    Records are verified against PhysioNet's copy when an entry is built, unless
    verification is off (:func:`mads_zoo.data.verify.verifying`); a verified entry also
    serves an unverified load, never the other way round. An invalid entry is rebuilt.
    """
    verify = verification_enabled()
    for verified in (True,) if verify else (True, False):
        stored = load_valid(cache_for(verified), Beats.from_arrays)
        if stored is not None:
            return stored
    beats = build(verify)
    save_arrays(cache_for(verify), beats.to_arrays())
    return beats


def load(data_dir: Path | None = None) -> Beats:
    """The ``mitbih`` dataset's ``load``: every beat of the 48 records, cached after the first call.

    ``data_dir`` (else ``MADS_ZOO_DATA_DIR``, else the user cache, downloading into it) is the
    folder of the WFDB records; see :func:`mads_zoo.data.locate.find_mitdb`; caching and
    verification: :func:`load_cached`.
    """
    directory = find_mitdb(data_dir)
    records = MITDB_RECORDS
    return load_cached(
        lambda verified: cache_file(directory, records, verified=verified),
        lambda verify: build_beats(directory, records, verify=verify),
    )
