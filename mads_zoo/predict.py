"""Classify beats from a WFDB record or a CSV of beats with a trained checkpoint.

A WFDB record's beats are cut with the same recipe as the model's training data: the
Kaggle-compatible beats (:func:`mads_zoo.data.mitbih.beats_from_signal`) or the rhythm-aware
ones (:func:`mads_zoo.data.rhythm.cut_record`, RR features included), chosen by the
checkpoint's input signature; beat positions from the record's reference annotations when a
``.atr`` file is present, otherwise from wfdb's XQRS detector. A CSV holds Kaggle-compatible
beats (187 values per row). Input of another signature than the model's is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mads_zoo.data.beats import BEAT_LENGTH
from mads_zoo.data.kaggle_csv import read_csv
from mads_zoo.data.layout import to_layout
from mads_zoo.data.mitbih import RecordSignals, beats_from_signal, record_leads
from mads_zoo.data.rhythm import AFTER_R, BEFORE_R, FEATURES, cut_record
from mads_zoo.data.spec import InputSignature
from mads_zoo.data.tables import TablePart, beats_from_tables
from mads_zoo.errors import DataError, DataNotFoundError, one_line

WFDB_SUFFIXES = {".hea", ".dat", ".atr", ""}


#: The signature of the rhythm-aware beats of one lead: the lead and its difference from the
#: patient's template (two leads: ``channels=4``).
RHYTHM_SIGNATURE = InputSignature(2, BEFORE_R + AFTER_R, FEATURES)


@dataclass(frozen=True)
class InputBeats:
    """Beats read for prediction plus the columns that say where each came from.

    ``x`` is ``(n, C, L)``; ``features`` ``(n, k)`` (``k`` may be 0).
    """

    x: np.ndarray
    columns: dict[str, np.ndarray]
    source: str
    features: np.ndarray | None = None

    @property
    def signature(self) -> InputSignature:
        """What one of these beats is: channels, length, feature names."""
        x = self.x if self.x.ndim == 3 else self.x[:, None, :]
        names = FEATURES if self.features is not None and self.features.shape[1] else ()
        return InputSignature(x.shape[1], x.shape[2], names)


def check_signature(beats: InputBeats, model: InputSignature, source: Path) -> None:
    """A one-line :class:`DataError` unless ``beats`` are of the ``model``'s input signature."""
    found = beats.signature
    if found != model:
        raise DataError(
            f"the model takes {model.describe()}; {source.name} gives {found.describe()}"
        )


def _beats_from_csv(path: Path) -> InputBeats:
    """Beats of a headerless CSV, checked like a dataset file (NaN, [0, 1], labels)."""
    values, last = read_csv(path)
    width = values.shape[1] + 1
    labelled = width == BEAT_LENGTH + 1
    if width == BEAT_LENGTH:
        values, last = np.column_stack([values, last]), np.zeros(len(last))
    elif not labelled:
        raise DataError(
            f"{path.name} has {width} columns; expected {BEAT_LENGTH} beat values per row "
            f"(optionally followed by a label)"
        )
    beats = beats_from_tables([TablePart(path, "test", values, last, first_row=1, unit="line")])
    return InputBeats(beats.x, {"label": beats.y} if labelled else {}, "csv")


def _annotation_problem(samples: np.ndarray, length: int) -> str:
    """What is wrong with a record's annotation positions, or ``""``: in order, inside it."""
    if len(samples) and (samples.min() < 0 or samples.max() >= length):
        return f"positions outside the record's {length:,} samples"
    unordered = np.flatnonzero(np.diff(samples) < 0)
    if len(unordered):
        return f"positions out of order at annotation {unordered[0] + 2:,}"
    return ""


def _beats_from_record(path: Path, signature: InputSignature) -> InputBeats:
    import wfdb

    record = path.with_suffix("") if path.suffix in WFDB_SUFFIXES else path
    if not record.with_suffix(".hea").is_file():
        raise DataNotFoundError(f"{record}.hea not found; give a WFDB record or a CSV of beats")
    rhythm = signature.features == RHYTHM_SIGNATURE.features
    try:
        header = wfdb.rdheader(str(record))
        count = signature.channels // RHYTHM_SIGNATURE.channels if rhythm else 1
        leads = record_leads(list(header.sig_name), max(1, count))
        signal = wfdb.rdrecord(str(record), channel_names=leads).p_signal
    except Exception as error:  # wfdb raises many types for bad files
        problem = f"record {record.name} cannot be read ({one_line(error)})"
        raise DataError(problem) from error
    if not np.isfinite(signal).all():
        raise DataError(f"record {record.name}: lead {', '.join(leads)} has NaN samples")
    if record.with_suffix(".atr").is_file():
        try:
            annotation = wfdb.rdann(str(record), "atr")
        except Exception as error:  # a garbage .atr: wfdb raises whatever numpy does
            problem = f"{record.name}.atr is not a readable annotation file ({one_line(error)})"
            hint = "remove it to let the QRS detector find the beats"
            raise DataError(f"{problem}; {hint}") from None
        samples = np.asarray(annotation.sample, dtype=np.int64)
        symbols = np.asarray(annotation.symbol, dtype=str)
        problem = _annotation_problem(samples, len(signal))
        if problem:
            raise DataError(
                f"{record.name}.atr is not a valid annotation file ({problem}); remove it to "
                "let the QRS detector find the beats"
            )
        source = "annotations"
    else:
        from wfdb.processing import xqrs_detect

        samples = np.sort(np.asarray(xqrs_detect(signal[:, 0], fs=header.fs, verbose=False)))
        symbols = np.full(len(samples), "N")  # positions only: the model assigns the class
        source = "xqrs"
    if rhythm:
        signals = RecordSignals(record.name, tuple(leads), header.fs, signal, samples, symbols)
        cut = cut_record(signals)
        columns = {"sample": cut.sample}
        if source == "annotations":
            columns["symbol"] = cut.symbol
        return InputBeats(cut.x, columns, source, cut.features)
    x, keep, beat = beats_from_signal(signal[:, 0], header.fs, samples, symbols)
    columns = {"sample": samples[beat][keep]}
    if source == "annotations":
        columns["symbol"] = symbols[beat][keep]
    return InputBeats(x, columns, source)


def read_input_beats(path: Path, signature: InputSignature | None = None) -> InputBeats:
    """Beats from a ``.csv`` file or a WFDB record (path with or without suffix).

    ``signature`` is the model's (default: the Kaggle-compatible beat): it chooses how a
    record's beats are cut, and beats of another signature are a one-line :class:`DataError`.
    """
    path = Path(path)
    wanted = signature or InputSignature()
    if path.suffix.lower() == ".csv":
        if not path.is_file():
            raise DataNotFoundError(f"{path} does not exist")
        beats = _beats_from_csv(path)
    else:
        beats = _beats_from_record(path, wanted)
    check_signature(beats, wanted, path)
    return beats


def predict_beats(
    model: Any,
    layout: str,
    x: np.ndarray,
    classes: tuple[str, ...],
    precision: str = "fp32",
    features: np.ndarray | None = None,
) -> Any:
    """A table (pandas DataFrame) of predicted class and per-class probabilities.

    ``precision`` is the checkpoint's inference precision
    (:meth:`mads_zoo.train.checkpoint.Checkpoint.inference_precision`); ``features`` the
    beats' per-example features, if the model takes any.
    """
    import pandas as pd
    import torch

    from mads_zoo.train.engine import predict_logits

    x_model = torch.from_numpy(to_layout(x, layout))
    logits = predict_logits(model, x_model, features, precision=precision)
    probabilities = torch.softmax(logits, dim=1).numpy()
    frame = pd.DataFrame({"class": np.asarray(classes)[probabilities.argmax(1)]})
    for i, name in enumerate(classes):
        frame[f"p_{name}"] = probabilities[:, i]
    return frame
