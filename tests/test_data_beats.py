"""Beats: the value every dataset returns, and the checks that guard it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mads_zoo.data import BEAT_LENGTH, Beats
from mads_zoo.errors import DataError


def beats(n=6, **changes):
    rng = np.random.default_rng(0)
    fields = {
        "x": rng.random((n, BEAT_LENGTH), dtype=np.float32),
        "y": np.arange(n, dtype=np.int64) % 5,
    }
    fields.update(changes)
    return Beats(**fields)


def test_valid_beats_get_unknown_provenance_by_default():
    b = beats()
    assert len(b) == 6
    assert b.record.tolist() == [""] * 6 and not b.has_records
    assert b.sample.tolist() == [-1] * 6 and b.sample.dtype == np.int64
    assert b.symbol.tolist() == [""] * 6
    assert b.fold is None
    assert b.counts().tolist() == [2, 1, 1, 1, 1]


def test_beats_of_any_channels_and_length_with_features_round_trip():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 3, 50)).astype(np.float32) * 4  # any finite scale is the dataset's
    features = rng.normal(size=(6, 2)).astype(np.float32)
    b = beats(x=x, features=features, feature_names=("rr_pre", "rr_post"))
    assert (b.channels, b.length) == (3, 50)
    assert b.signature.describe() == "3 channels x 50 samples + 2 features (rr_pre, rr_post)"
    again = Beats.from_arrays(b.to_arrays())
    assert np.array_equal(again.x, x) and np.array_equal(again.features, features)
    assert again.feature_names == ("rr_pre", "rr_post")
    one = beats(x=np.zeros((6, 187), np.float32))  # (n, L) is one channel
    assert one.x.shape == (6, 1, 187) and one.signature.describe().endswith("no features")
    assert one.feature_rows(np.arange(2)).shape == (2, 0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"x": np.zeros(6, dtype=np.float32)}, "(n, channels, length)"),
        ({"x": np.zeros((6, BEAT_LENGTH))}, "must be float32"),
        ({"x": np.zeros((0, BEAT_LENGTH), dtype=np.float32), "y": np.zeros(0, np.int64)}, "empty"),
        ({"x": np.full((6, 2, 3, 4), 0.5, dtype=np.float32)}, "(n, channels, length)"),
        ({"x": np.full((6, 0), 0.5, dtype=np.float32)}, "(n, channels, length)"),
        ({"features": np.zeros((6, 2), np.float32)}, "2 feature columns but 0 feature names"),
        ({"features": np.zeros((5, 2), np.float32), "feature_names": ("a", "b")}, "(6, k)"),
        (
            {"features": np.full((6, 1), np.nan, np.float32), "feature_names": ("rr",)},
            "NaN or infinite",
        ),
        ({"features": np.zeros((6, 2)), "feature_names": ("a", "b")}, "must be float32"),
        ({"features": np.zeros((6, 2), np.float32), "feature_names": ("a", "a")}, "unique"),
        ({"feature_names": ("rr",)}, "carry no features array"),
        ({"y": np.zeros(5, dtype=np.int64)}, "shape (6,)"),
        ({"y": np.zeros(6, dtype=np.int32)}, "must be int64"),
        (
            {"y": np.array([0, 1, 2, 3, 4, 5])},
            "labels must be in 0..4 (N S V F Q), found 5 in row 5",
        ),
        ({"y": np.array([0, -1, 2, 3, 4, 0])}, "found -1 in row 1"),
        ({"record": ["100"] * 5}, "record must have one entry per beat"),
        ({"sample": np.zeros(6)}, "sample must be integers"),
        ({"fold": ["train", "test", "dev", "train", "test", "train"]}, "fold values must be"),
    ],
)
def test_malformed_beats_fail_with_one_clear_sentence(changes, message):
    with pytest.raises(DataError) as error:
        beats(**changes)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_nan_is_refused_naming_the_first_row():
    x = np.zeros((6, BEAT_LENGTH), dtype=np.float32)
    x[4, 10] = np.nan
    x[5, 0] = np.inf
    with pytest.raises(DataError, match=r"2 NaN or infinite values \(first in row 4\)"):
        beats(x=x)


def test_provenance_round_trips_through_arrays():
    b = beats(
        record=np.array(["100", "101", "100", "102", "101", "100"]),
        sample=np.arange(6) * 10,
        symbol=np.array(list("NAVF/N")),
        fold=np.array(["train", "train", "test", "train", "val", "test"]),
        meta={"made by": "test"},
    )
    assert b.records.tolist() == ["100", "101", "100", "102", "101", "100"] and b.has_records
    again = Beats.from_arrays(b.to_arrays())
    for name in ("x", "y", "record", "sample", "symbol", "fold"):
        assert np.array_equal(getattr(again, name), getattr(b, name)), name
    assert again.classes == b.classes and dict(again.meta) == {"made by": "test"}


def test_the_builtin_dataset_plugin_imports_no_reader():
    code = (
        "import sys\n"
        "from mads_zoo.data import datasets\n"
        "found = []\n"
        "datasets.register_datasets(found.append)\n"
        "names = ['mitbih', 'mitbih-rhythm', 'mitbih-rhythm-2lead', 'kaggle-csv', 'parquet',"
        " 'synthetic']\n"
        "assert [d.name for d in found] == names\n"
        "heavy = {'numpy', 'scipy', 'wfdb', 'pandas', 'pyarrow', 'imblearn', 'torch'}\n"
        "assert not heavy & set(sys.modules), heavy & set(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
