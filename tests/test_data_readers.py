"""kaggle-csv and parquet: small files written by the tests, good and bad."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import files_under

from mads_zoo.data import load_beats, prepare_folds
from mads_zoo.data.spec import DataSpec
from mads_zoo.data.synthetic import make_beats
from mads_zoo.errors import DataError, DataNotFoundError
from mads_zoo.testing import check_dataset

_BEATS = make_beats(size=300, seed=5)
_ORDER = np.random.default_rng(5).permutation(300)  # make_beats orders the beats by class
SOURCE_X, SOURCE_Y = _BEATS.x[_ORDER, 0], _BEATS.y[_ORDER]


def table(rows: slice) -> np.ndarray:
    return np.column_stack([SOURCE_X[rows].astype(np.float64), SOURCE_Y[rows].astype(np.float64)])


def write_csv(path: Path, matrix: np.ndarray) -> None:
    np.savetxt(path, matrix, delimiter=",", fmt="%.6e")


def kaggle_dir(folder: Path, train=None, test=None) -> Path:
    folder.mkdir(exist_ok=True)
    write_csv(folder / "mitbih_train.csv", table(slice(0, 240)) if train is None else train)
    write_csv(folder / "mitbih_test.csv", table(slice(240, 300)) if test is None else test)
    return folder


def write_parquet(path: Path, matrix: np.ndarray, label: str = "target") -> None:
    columns = {str(i): matrix[:, i] for i in range(matrix.shape[1] - 1)}
    columns[label] = matrix[:, -1]
    pq.write_table(pa.table(columns), path)


def parquet_dir(folder: Path, train=None, test=None, label="target") -> Path:
    folder.mkdir(exist_ok=True)
    train = table(slice(0, 240)) if train is None else train
    write_parquet(folder / "heart_big_train.parq", train, label)
    write_parquet(folder / "heart_big_test.parq", table(slice(240, 300)) if test is None else test)
    return folder


KINDS = [("kaggle-csv", kaggle_dir), ("parquet", parquet_dir)]


@pytest.mark.parametrize(("dataset", "make"), KINDS)
def test_reads_both_files_and_keeps_their_split(tmp_path, dataset, make):
    folder = make(tmp_path / "files")
    beats = load_beats(dataset, folder)
    assert len(beats) == 300 and beats.x.dtype == np.float32
    assert np.allclose(beats.x[:, 0], SOURCE_X, atol=1e-6) and np.array_equal(beats.y, SOURCE_Y)
    assert beats.fold.tolist() == ["train"] * 240 + ["test"] * 60
    assert sum(check_dataset(dataset, folder).values()) == 300
    folds = prepare_folds(DataSpec(dataset, "intra", "random-over", 1), data_dir=folder)
    assert folds.final_test().rows.tolist() == list(range(240, 300))
    assert len(folds.val) + folds.train_size_before == 240
    assert "train file" in folds.val_strategy
    with pytest.raises(DataError, match="split 'inter' needs the MIT-BIH record id"):
        prepare_folds(DataSpec(dataset, "inter"), data_dir=folder)


def test_files_are_found_through_the_env_var(tmp_path, monkeypatch):
    folder = kaggle_dir(tmp_path / "files")
    monkeypatch.setenv("MADS_ZOO_DATA_DIR", str(folder))
    assert len(load_beats("kaggle-csv")) == 300


def test_missing_files_are_named_with_the_three_ways(tmp_path, tmp_cache, monkeypatch):
    monkeypatch.delenv("MADS_ZOO_DATA_DIR", raising=False)
    folder = tmp_path / "files"
    folder.mkdir()
    write_csv(folder / "mitbih_train.csv", table(slice(0, 10)))
    with pytest.raises(DataNotFoundError) as error:
        load_beats("kaggle-csv", folder)
    message = str(error.value)
    assert "mitbih_test.csv not found in" in message and "mitbih_train.csv not" not in message
    assert "--data-dir" in message and "MADS_ZOO_DATA_DIR" in message
    with pytest.raises(DataNotFoundError, match=str(tmp_cache / "parquet")):
        load_beats("parquet")


def bad_tables():
    good = table(slice(0, 20))
    nan = good.copy()
    nan[3, 7] = np.nan
    label = good.copy()
    label[5, -1] = 7
    half = good.copy()
    half[2, -1] = 1.5
    loud = good.copy()
    loud[1, 0] = 3.0
    return {
        "narrow": (good[:, 37:], "has 150 beat values per row, expected 187"),
        "nan": (nan, "1 rows with missing or NaN values (first: {row} 3)"),
        "label": (label, "label 7 in {row} 5 is not an integer in 0..4"),
        "fraction": (half, "label 1.5 in {row} 2"),
        "range": (loud, "scaled to [0, 1], found values from 0 to 3"),
    }


@pytest.mark.parametrize("case", sorted(bad_tables()))
@pytest.mark.parametrize(("dataset", "make"), KINDS)
def test_bad_tables_give_one_clear_error_and_no_cache(tmp_path, tmp_cache, dataset, make, case):
    matrix, message = bad_tables()[case]
    # CSV rows are counted as the file's lines (from 1), parquet rows from 0
    row = "line" if dataset == "kaggle-csv" else "row"
    number = 1 if dataset == "kaggle-csv" else 0
    message = message.replace("{row} 3", f"{row} {3 + number}").replace(
        "{row} 5", f"{row} {5 + number}"
    )
    message = message.replace("{row} 2", f"{row} {2 + number}")
    folder = make(tmp_path / "files", train=matrix)
    with pytest.raises(DataError) as error:
        prepare_folds(DataSpec(dataset, "intra", "smote"), data_dir=folder)
    text = str(error.value)
    assert message in text, text
    name = "mitbih_train.csv" if dataset == "kaggle-csv" else "heart_big_train.parq"
    assert name in text and "\n" not in text
    assert files_under(tmp_cache) == []


def test_ragged_or_text_csv_is_refused(tmp_path):
    folder = kaggle_dir(tmp_path / "files")
    (folder / "mitbih_test.csv").write_text("0.1,0.2,1\n0.1,0.2\n")
    with pytest.raises(DataError, match=r"mitbih_test\.csv is not a CSV of numbers with the same"):
        load_beats("kaggle-csv", folder)
    (folder / "mitbih_test.csv").write_text("0.1,abc,1\n")
    with pytest.raises(DataError, match=r"mitbih_test\.csv is not a CSV of numbers"):
        load_beats("kaggle-csv", folder)


def test_parquet_without_target_column(tmp_path):
    folder = parquet_dir(tmp_path / "files", label="label")
    with pytest.raises(DataError, match=r"heart_big_train\.parq has no 'target' label column"):
        load_beats("parquet", folder)
