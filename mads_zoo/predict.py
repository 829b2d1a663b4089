"""Classify beats from a WFDB record or a CSV of beats with a trained checkpoint.

A WFDB record's beats are cut with the same recipe as the training data
(:func:`mads_zoo.data.mitbih.beats_from_signal`): beat positions from its reference
annotations when a ``.atr`` file is present, otherwise from wfdb's XQRS detector.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mads_zoo.data.beats import BEAT_LENGTH
from mads_zoo.data.kaggle_csv import read_csv
from mads_zoo.data.layout import to_layout
from mads_zoo.data.mitbih import PREFERRED_LEAD, beats_from_signal
from mads_zoo.data.tables import TablePart, beats_from_tables
from mads_zoo.errors import DataError, DataNotFoundError, one_line

WFDB_SUFFIXES = {".hea", ".dat", ".atr", ""}


@dataclass(frozen=True)
class InputBeats:
    """Beats read for prediction plus the columns that say where each came from."""

    x: np.ndarray
    columns: dict[str, np.ndarray]
    source: str


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


def _beats_from_record(path: Path) -> InputBeats:
    import wfdb

    record = path.with_suffix("") if path.suffix in WFDB_SUFFIXES else path
    if not record.with_suffix(".hea").is_file():
        raise DataNotFoundError(f"{record}.hea not found; give a WFDB record or a CSV of beats")
    try:
        header = wfdb.rdheader(str(record))
        lead = PREFERRED_LEAD if PREFERRED_LEAD in header.sig_name else header.sig_name[0]
        signal = wfdb.rdrecord(str(record), channel_names=[lead]).p_signal[:, 0]
    except Exception as error:  # wfdb raises many types for bad files
        problem = f"record {record.name} cannot be read ({one_line(error)})"
        raise DataError(problem) from error
    if not np.isfinite(signal).all():
        raise DataError(f"record {record.name}: lead {lead} has NaN samples")
    if record.with_suffix(".atr").is_file():
        annotation = wfdb.rdann(str(record), "atr")
        samples = np.asarray(annotation.sample, dtype=np.int64)
        symbols = np.asarray(annotation.symbol, dtype=str)
        source = "annotations"
    else:
        from wfdb.processing import xqrs_detect

        samples = np.sort(np.asarray(xqrs_detect(signal, fs=header.fs, verbose=False)))
        symbols = np.full(len(samples), "N")  # positions only: the model assigns the class
        source = "xqrs"
    x, keep, beat = beats_from_signal(signal, header.fs, samples, symbols)
    columns = {"sample": samples[beat][keep]}
    if source == "annotations":
        columns["symbol"] = symbols[beat][keep]
    return InputBeats(x, columns, source)


def read_input_beats(path: Path) -> InputBeats:
    """Beats ``(n, 187)`` from a ``.csv`` file or a WFDB record (path with or without suffix)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        if not path.is_file():
            raise DataNotFoundError(f"{path} does not exist")
        return _beats_from_csv(path)
    return _beats_from_record(path)


def predict_beats(
    model: Any, layout: str, x: np.ndarray, classes: tuple[str, ...], precision: str = "fp32"
) -> Any:
    """A table (pandas DataFrame) of predicted class and per-class probabilities.

    ``precision`` is the checkpoint's inference precision
    (:meth:`mads_zoo.train.checkpoint.Checkpoint.inference_precision`).
    """
    import pandas as pd
    import torch

    from mads_zoo.train.engine import predict_logits

    x_model = torch.from_numpy(to_layout(x, layout))
    logits = predict_logits(model, x_model, precision=precision)
    probabilities = torch.softmax(logits, dim=1).numpy()
    frame = pd.DataFrame({"class": np.asarray(classes)[probabilities.argmax(1)]})
    for i, name in enumerate(classes):
        frame[f"p_{name}"] = probabilities[:, i]
    return frame
